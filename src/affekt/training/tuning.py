"""Hyperparameter search with optuna: the objective is the dev-split macro-F1 (or mean Pearson r)."""
from __future__ import annotations

import numpy as np

from affekt.core.errors import DataError

_NGRAMS = {"none": None, "2-5": [2, 5], "3-6": [3, 6]}

SPACES = {
    "tfidf": lambda t: {"C": t.suggest_float("C", 0.5, 50, log=True),
                        "max_features": t.suggest_categorical("max_features", [20_000, 60_000, 150_000]),
                        "class_weight": t.suggest_categorical("class_weight", ["balanced", None]),
                        "char_ngrams": _NGRAMS[t.suggest_categorical("char", list(_NGRAMS))],
                        "min_df": t.suggest_categorical("min_df", [1, 2])},
    "tfidf-svm": lambda t: {"C": t.suggest_float("C", 0.01, 3, log=True)},
    "tfidf-lexicon": lambda t: {"C": t.suggest_float("C", 0.1, 30, log=True)},
    "lexicon": lambda t: {"C": t.suggest_float("C", 0.01, 10, log=True)},
    "encoder": lambda t: {"C": t.suggest_float("C", 0.05, 20, log=True)},
    "encoder-use": lambda t: {"C": t.suggest_float("C", 0.05, 20, log=True)},
    "vad": lambda t: {"alpha": t.suggest_float("alpha", 0.1, 30, log=True)},
    "rnn": lambda t: {"hidden": t.suggest_categorical("hidden", [64, 128]),
                      "lr": t.suggest_float("lr", 3e-4, 3e-3, log=True)},
    "finetune": lambda t: {"lr": t.suggest_float("lr", 2e-5, 2e-4, log=True)},
}


def tune(modality: str, family: str, dataset, n_trials: int, *, base_params: dict | None = None,
         seed: int = 0) -> tuple[dict, list[dict]]:
    """Best parameters for ``family`` after ``n_trials`` optuna trials; also every trial's record.
    ``base_params`` are fixed: they are part of every trial and of the answer, searched or not."""
    import optuna

    from affekt.core.registry import make_family
    from affekt.evaluation.evaluate import evaluate_classification, evaluate_regression

    if family not in SPACES:
        raise DataError(f"no search space for family '{family}' (tunable: {', '.join(SPACES)})")
    dev = dataset.dev_split
    if dev is None:
        raise DataError(f"tuning needs a dev split; dataset '{dataset.name}' has {', '.join(dataset.splits)}")
    Xtr, ytr = dataset.xy("train")
    Xd, yd = dataset.xy(dev)
    base = dict(base_params or {})
    make_family(modality, family, **base)  # a misspelt fixed parameter fails here, before any trial

    def objective(trial):
        params = {**SPACES[family](trial), **base}  # a parameter the user fixed stays fixed
        m = make_family(modality, family, **params)
        if dataset.task == "regression":
            m.fit(Xtr, ytr, X_dev=None)
            r = evaluate_regression(m, Xd, yd, n_boot=0)
            return float(np.nanmean([r[d]["pearson_r"] for d in ("valence", "arousal", "dominance") if d in r]))
        # thresholds are tuned on the same dev split: the score is optimistic, but equal for all trials
        m.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space=dataset.label_space)
        return evaluate_classification(m, Xd, yd, true_space=dataset.label_space, n_boot=0)["macro_f1"]

    # ERROR: a failing trial's exception reaches the caller (the CLI: one line); optuna would also
    # log it, traceback and all, as a warning
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=n_trials, show_progress_bar=True)
    trials = [{"number": t.number, "params": t.params, "value": t.value} for t in study.trials]
    best = {**SPACES[family](optuna.trial.FixedTrial(study.best_params)), **base}
    return best, trials
