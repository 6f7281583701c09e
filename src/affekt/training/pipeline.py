"""What ``affekt train`` does: load data, (tune), (cross-validate), fit, evaluate, save with a card."""
from __future__ import annotations

import json
import random
import time
from pathlib import Path

import numpy as np

from affekt.core.errors import DataError, InputError
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
DEFAULT_FAMILY_BY_MODALITY = {"speech": {"classification": "svm"},
                              "video": {"classification": "gru"},
                              "scene": {"classification": "emotic"}}


def train(modality: str, dataset, output, *, family: str | None = None, params: dict | None = None,
          cv: int | None = None, protocol: str | None = None, tune_trials: int = 0, seed: int = 0,
          command: str = "", n_boot: int = 1000, adapt: bool = False) -> dict:
    """Train one model on ``dataset`` and save it to ``output``; returns the results dict.
    ``adapt``: a model with ``corpus_norm`` takes each cross-validation test fold (under ``loco``:
    each held-out corpus) as one new set of recordings (see ``affekt predict --adapt``).

    How the model is evaluated:

    * data that came with a test split: the model is fit on train (dev for early stopping and
      tuning) and scored once on test; ``cv`` / ``protocol`` add a cross-validation over the
      other splits (train+dev), never over test;
    * a corpus with no splits (the speech corpora): cross-validation over all rows, by its own
      folds or grouped by speaker; the saved model is fit on all rows;
    * a table without a split column (the splits were made up) whose random test split would be
      too small to mean anything (under 30 items, or under 5 of some label): stratified k-fold
      cross-validation over all rows (k = min(5, smallest label count), at least 2), and the saved
      model is fit on all rows, with nothing tuned on a dev split (``results["evaluated_by"]``).

    ``results["warnings"]`` holds one-line warnings (a small test or dev split, settings tuned on
    a handful of dev rows); :func:`affekt.evaluation.summary.summary_lines` gives the lines to print.
    """
    from affekt.evaluation.cv import cross_validate
    from affekt.evaluation.evaluate import evaluate, small_data_warnings
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
    if dataset.info.get("label_mode"):
        results["label_mode"] = dataset.info["label_mode"]
    warns: list[str] = []
    if tune_trials:
        from affekt.training.tuning import tune

        params, trials = tune(modality, family, dataset, tune_trials, base_params=params, seed=seed)
        results["tuning"] = {"n_trials": tune_trials, "best_params": params, "trials": trials}
    # a corpus without splits (the speech corpora) is always evaluated by cross-validation:
    # its own speaker-independent folds when it has them, else grouped (by speaker) k-fold
    no_splits = "train" not in dataset.splits
    too_small = holdout_too_small(dataset) if not no_splits and dataset.splits_made_up else None
    pool_all = no_splits or too_small is not None
    if too_small:
        results["evaluated_by"] = (
            f"cross-validation over all {len(dataset.split('all'))} rows: the table has no split column, and a "
            f"random test split would hold {too_small}, too few to mean anything; the saved model is fit on "
            f"all rows")
    if not pool_all and "test" not in dataset.splits and not (cv or protocol):
        warns.append(f"dataset '{dataset.name}' has no test split: nothing is evaluated; add a test split "
                     f"or ask for cross-validation (--cv K)")
    if adapt and not getattr(make_family(modality, family, **params), "corpus_norm", False):
        raise InputError("--adapt evaluates models trained with corpus normalisation: add -p corpus_norm=true")
    if adapt and not (cv or protocol or pool_all):
        raise InputError("--adapt applies to cross-validation test folds: give --cv K or --protocol (e.g. loco)")
    if cv or protocol or pool_all:
        rows = "all" if pool_all else dataset.non_test_splits()
        X, y = dataset.xy(rows)
        df = dataset.split(rows)
        groups = df[dataset.group].tolist() if dataset.group else None
        folds = df[dataset.folds].tolist() if dataset.folds else None
        if protocol == "loco":  # the corpora are the groups
            groups = df["corpus"].tolist() if "corpus" in df.columns else None
        protocol = protocol or ("folds" if folds is not None and not cv else "group-kfold" if groups else "kfold")
        if protocol == "folds" and folds is None:
            raise DataError(f"dataset '{dataset.name}' has no predefined folds; use --protocol group-kfold or logo")
        attributes = {a: df[a].tolist() for a in ("gender",) if a in df.columns}
        speakers = df["speaker"].tolist() if "speaker" in df.columns else None
        corpora = df["corpus"].tolist() if "corpus" in df.columns else None
        if cv:
            k = cv
        elif protocol == "group-kfold" and groups:
            k = min(5, len(set(groups)))
        elif protocol == "kfold" and (too_small or no_splits):  # a small corpus without splits: fewer folds
            k = fallback_k(dataset)
        else:
            k = 5
        from affekt.datasets.speakers import speaker_independence

        independence = speaker_independence(dataset, protocol, warn=False)  # speech: is this CV by speaker?
        if independence.get("note"):
            warns.append(independence["note"])
        results["cv"] = cross_validate(make_family(modality, family, **params), X, y,
                                       protocol=protocol, k=k, groups=groups, folds=folds,
                                       label_space=dataset.label_space, task=dataset.task, seed=seed,
                                       attributes=attributes or None, speakers=speakers, corpora=corpora,
                                       adapt=adapt)
        if adapt:
            results["cv"]["adapted"] = True
        results["cv"].update(independence)
        results["cv"]["rows"] = "all" if pool_all else "+".join(rows)
    model = make_family(modality, family, **params)
    fit_rows = "all" if pool_all else "train"
    Xtr, ytr = dataset.xy(fit_rows, targets=True)  # --label-mode soft: the vote distributions
    dev = None if too_small else dataset.dev_split
    Xd, yd = dataset.xy(dev) if dev else (None, None)
    dev_small = bool(dev) and bool(small_data_warnings("dev", len(Xd), _label_counts(dataset, dev)))
    if dev_small:
        n_dev = len(Xd)
        warns.append(f"the {dev} split has only {n_dev} items"
                     f"{' (under 5 of some label)' if n_dev >= 30 else ''}: what is tuned on it "
                     f"(ensemble weights, decision thresholds, early stopping) rests on too few items "
                     f"to count as tuned")
    t0 = time.time()
    if dataset.task == "regression":
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd)
    elif getattr(model, "speaker_norm", False):
        df = dataset.split(fit_rows)
        if "speaker" not in df.columns:
            raise DataError(f"speaker_norm needs a speaker column; dataset '{dataset.name}' has none")
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space, speakers=df["speaker"].tolist())
    elif getattr(model, "corpus_norm", False):
        df = dataset.split(fit_rows)
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space,
                  corpora=df["corpus"].tolist() if "corpus" in df.columns else None)
    else:
        model.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space,
                  **dimension_targets(model, dataset, fit_rows, dev))
    results["fit_seconds"] = round(time.time() - t0, 1)
    results["fit_rows"] = {"rows": fit_rows, "n": len(Xtr), "dev": dev, "n_dev": len(Xd) if dev else 0}
    if hasattr(model, "weights_") and len(getattr(model, "members_", [])) > 1:
        tuned = (dev is not None and getattr(model, "weights", None) is None and hasattr(model, "_dev_weights")
                 and getattr(model, "method", "soft") == "soft")
        w = model.weights_ or [round(1.0 / len(model.members_), 2)] * len(model.members_)
        if tuned:
            chosen = f"chosen on the {dev} split (n={len(Xd)}{', too few to trust' if dev_small else ''})"
        elif getattr(model, "weights", None) is not None:
            chosen = "given"
        else:
            chosen = "equal weights (not tuned on a dev split)"
        results["ensemble_weights"] = {"weights": w, "chosen_on": chosen}
    if getattr(model, "temperature_", 1.0) != 1.0:  # the scores' calibration (face networks: fitted on dev)
        results["temperature"] = {"value": model.temperature_, "fitted_on": f"the {dev} split (n={len(Xd)}; log-loss)"}
    model.model_id_ = Path(output).name
    if "test" in dataset.splits and not pool_all:
        results["test"] = evaluate(model, dataset, "test", n_boot=n_boot, seed=seed)
        warns += results["test"].get("warnings", [])
    results["warnings"] = list(dict.fromkeys(warns))
    model.card_ = {
        "dataset": dataset.summary(), "data_licence": dataset.info.get("licence", "see dataset"),
        "family": family, "params": params, "seed": seed, "command": command,
        "metrics": _headline(results.get("test", {})) or _cv_headline(results.get("cv", {})),
    }
    if results.get("evaluated_by"):
        model.card_["evaluation"] = results["evaluated_by"]
    if modality == "text":  # what the model can read: predictions on other languages get a warning
        from affekt.text.language import training_languages

        model.card_["languages"] = training_languages([x for x in Xtr if isinstance(x, str)])
    model.save(output)
    from affekt.evaluation.report import to_jsonable

    (Path(output) / "results.json").write_text(json.dumps(results, indent=2, default=to_jsonable))
    if "test" in results:
        write_report({**results["test"], "dataset": dataset.name, "split": "test"}, Path(output) / "report",
                     title=f"{model.model_id_} on {dataset.name} test")
    return results


def dimension_targets(model, dataset, rows, dev: str | None) -> dict:
    """For a family that learns valence/arousal/dominance beside its categories (its
    ``dimensional_targets`` is true, e.g. the scene family ``emotic``): ``dims`` / ``dims_dev``,
    the dataset's V/A/D columns of the fit rows and of the dev split (NaN where unknown)."""
    if not getattr(model, "dimensional_targets", False):
        return {}
    from affekt.core.labels import DIMENSIONS

    out = {}
    for key, split in (("dims", rows), ("dims_dev", dev)):
        df = dataset.split(split) if split else None
        if df is not None and set(DIMENSIONS) <= set(df.columns):
            out[key] = df[list(DIMENSIONS)].to_numpy(dtype=np.float32)
    return out


def _label_counts(dataset, split: str) -> dict | None:
    """Items per label of the dataset's label space in ``split`` (None for regression)."""
    if dataset.task != "classification" or dataset.label_space is None:
        return None
    counts = {lab: 0 for lab in dataset.label_space.labels}
    for labs in dataset.split(split)["labels"]:
        for lab in ([labs] if isinstance(labs, str) else labs):
            counts[lab] = counts.get(lab, 0) + 1
    return counts


def holdout_too_small(dataset) -> str | None:
    """For made-up (random) splits: why the random test split is too small to mean anything
    (e.g. ``"6 items"``, ``"under 5 items of joy, love"``), or None when it is big enough."""
    from affekt.evaluation.evaluate import MIN_ITEMS, MIN_PER_CLASS

    if "test" not in dataset.splits:
        return "no items"
    n = len(dataset.split("test"))
    if n < MIN_ITEMS:
        return f"{n} items"
    low = [lab for lab, c in (_label_counts(dataset, "test") or {}).items() if c < MIN_PER_CLASS]
    if low:
        return f"under {MIN_PER_CLASS} items of {', '.join(low[:6])}{' ...' if len(low) > 6 else ''}"
    return None


def fallback_k(dataset) -> int:
    """Folds for cross-validating a small table: min(5, smallest label count), at least 2."""
    if dataset.task == "regression":
        n = len(dataset.split("all"))
        if n < 4:
            raise DataError(f"dataset '{dataset.name}' has {n} rows: too few to train and evaluate a model")
        return max(2, min(5, n // 2))
    counts = {lab: c for lab, c in (_label_counts(dataset, "all") or {}).items() if c > 0}
    rare = sorted(lab for lab, c in counts.items() if c < 2)
    if rare:
        raise DataError(f"label(s) {', '.join(rare)} of dataset '{dataset.name}' have a single example: too few to "
                        f"cross-validate (each label needs at least 2 rows; add examples or drop the label)")
    return max(2, min(5, min(counts.values())))


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
        if isinstance(m.get("dimensions", {}).get(d), dict):  # a categorical model that also gives V/A/D
            out[f"{d}_mae"] = round(m["dimensions"][d]["mae"], 4)
    return out
