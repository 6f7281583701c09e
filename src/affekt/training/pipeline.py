"""What ``affekt train`` does: load data, (tune), (cross-validate), fit, evaluate, save with a card."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

from affekt.core.errors import DataError
from affekt.core.registry import families, make_family


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:
        pass


# the most accurate family affekt has for each task (tfidf trains in a minute, if that matters more);
# speech: the RBF SVM on functionals, which trains in seconds on a CPU (see docs/results/speech.md)
DEFAULT_FAMILY = {"classification": "ensemble", "regression": "vad"}
DEFAULT_FAMILY_BY_MODALITY = {"speech": {"classification": "svm"}}


def train(modality: str, dataset, output, *, family: str | None = None, params: dict | None = None,
          cv: int | None = None, protocol: str | None = None, tune_trials: int = 0, seed: int = 0,
          command: str = "", n_boot: int = 1000) -> dict:
    """Train one model on ``dataset`` and save it to ``output``; returns the results dict."""
    from affekt.evaluation.cv import cross_validate
    from affekt.evaluation.evaluate import evaluate
    from affekt.evaluation.report import write_report

    seed_everything(seed)
    family = family or DEFAULT_FAMILY_BY_MODALITY.get(modality, DEFAULT_FAMILY)[dataset.task]
    fams = families(modality)
    if family not in fams:
        raise DataError(f"unknown {modality} family '{family}' (known: {', '.join(fams)})")
    if fams[family] != dataset.task:
        raise DataError(f"family '{family}' is for {fams[family]}, but dataset '{dataset.name}' is {dataset.task}")
    params = dict(params or {})
    results: dict = {"dataset": dataset.summary(), "family": family, "seed": seed}
    if tune_trials:
        from affekt.training.tuning import tune

        params, trials = tune(modality, family, dataset, tune_trials, base_params=params, seed=seed)
        results["tuning"] = {"n_trials": tune_trials, "best_params": params, "trials": trials}
    # a corpus without a test split (the speech corpora) is always evaluated by cross-validation:
    # its own speaker-independent folds when it has them, else grouped (by speaker) k-fold
    no_test = "train" not in dataset.splits
    if cv or protocol or no_test:
        X, y = dataset.xy("all")
        df = dataset.split("all")
        groups = df[dataset.group].tolist() if dataset.group else None
        folds = df[dataset.folds].tolist() if dataset.folds else None
        protocol = protocol or ("folds" if folds is not None and not cv else "group-kfold" if groups else "kfold")
        if protocol == "folds" and folds is None:
            raise DataError(f"dataset '{dataset.name}' has no predefined folds; use --protocol group-kfold or logo")
        attributes = {a: df[a].tolist() for a in ("gender",) if a in df.columns}
        speakers = df["speaker"].tolist() if "speaker" in df.columns else None
        k = cv or (min(5, len(set(groups))) if protocol == "group-kfold" and groups else 5)
        results["cv"] = cross_validate(make_family(modality, family, **params), X, y,
                                       protocol=protocol, k=k, groups=groups, folds=folds,
                                       label_space=dataset.label_space, task=dataset.task, seed=seed,
                                       attributes=attributes or None, speakers=speakers)
    model = make_family(modality, family, **params)
    Xtr, ytr = dataset.xy("all" if no_test else "train")
    dev = dataset.dev_split
    Xd, yd = dataset.xy(dev) if dev else (None, None)
    t0 = time.time()
    if dataset.task == "regression":
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd)
    elif getattr(model, "speaker_norm", False):
        df = dataset.split("all" if no_test else "train")
        if "speaker" not in df.columns:
            raise DataError(f"speaker_norm needs a speaker column; dataset '{dataset.name}' has none")
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space, speakers=df["speaker"].tolist())
    else:
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space)
    results["fit_seconds"] = round(time.time() - t0, 1)
    model.model_id_ = Path(output).name
    if "test" in dataset.splits:
        results["test"] = evaluate(model, dataset, "test", n_boot=n_boot)
    model.card_ = {
        "dataset": dataset.summary(), "data_licence": dataset.info.get("licence", "see dataset"),
        "family": family, "params": params, "seed": seed, "command": command,
        "metrics": _headline(results.get("test", {})) or _cv_headline(results.get("cv", {})),
    }
    model.save(output)
    from affekt.evaluation.report import to_jsonable

    (Path(output) / "results.json").write_text(json.dumps(results, indent=2, default=to_jsonable))
    if "test" in results:
        write_report({**results["test"], "dataset": dataset.name, "split": "test"}, Path(output) / "report",
                     title=f"{model.model_id_} on {dataset.name} test")
    return results


def _cv_headline(cv: dict) -> dict:
    """Cross-validation means (for corpora evaluated only by CV), named with their protocol."""
    if not cv:
        return {}
    tag = f"{cv['protocol']}{cv['k']}_"
    return {tag + k: round(cv[k]["mean"], 4) for k in ("balanced_accuracy", "accuracy", "macro_f1")
            if isinstance(cv.get(k), dict)}


def _headline(m: dict) -> dict:
    keys = ("macro_f1", "micro_f1", "accuracy", "balanced_accuracy", "mAP")
    out = {k: round(m[k], 4) for k in keys if isinstance(m.get(k), float)}
    for d in ("valence", "arousal", "dominance"):
        if isinstance(m.get(d), dict):
            out[f"{d}_pearson_r"] = round(m[d]["pearson_r"], 4)
    return out
