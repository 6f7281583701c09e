"""Cross-validation protocols, all from scikit-learn splitters.

``given`` (the dataset's own split), ``kfold`` (stratified for single-label data),
``group-kfold`` (by speaker/subject/any column), ``logo`` (leave-one-group-out),
``loo`` (leave-one-out, for small sets).
"""
from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn import model_selection as ms

from affekt.core.errors import DataError
from affekt.evaluation.evaluate import evaluate_classification, evaluate_regression

PROTOCOLS = ("kfold", "group-kfold", "logo", "loo")


def make_splitter(protocol: str = "kfold", k: int = 5, *, stratify: bool = True, seed: int = 0):
    if protocol == "kfold":
        return ms.StratifiedKFold(k, shuffle=True, random_state=seed) if stratify else ms.KFold(k, shuffle=True, random_state=seed)
    if protocol == "group-kfold":
        return ms.StratifiedGroupKFold(k, shuffle=True, random_state=seed) if stratify else ms.GroupKFold(k)
    if protocol == "logo":
        return ms.LeaveOneGroupOut()
    if protocol == "loo":
        return ms.LeaveOneOut()
    raise DataError(f"unknown protocol '{protocol}' (known: {', '.join(PROTOCOLS)})")


def _mean_std(folds: list[dict], key: str) -> dict | None:
    vals = [f[key] for f in folds if isinstance(f.get(key), float)]
    if not vals:
        return None
    return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "folds": vals}


def cross_validate(estimator, X, y, *, protocol: str = "kfold", k: int = 5, groups=None,
                   label_space=None, task: str = "classification", seed: int = 0,
                   progress: bool = True) -> dict:
    """Fit a clone of ``estimator`` per fold; per-fold metrics and their mean/std.

    For ``loo`` the predictions of all folds are pooled before scoring.
    """
    X = list(X)
    y_arr = np.asarray(y, dtype=object) if task == "classification" else np.asarray(y, dtype=np.float32)
    if protocol in ("group-kfold", "logo") and groups is None:
        raise DataError(f"protocol '{protocol}' needs a group column (speaker, subject...)")
    single = task == "classification" and all(isinstance(v, str) or len(v) == 1 for v in y)
    strat_y = [v if isinstance(v, str) else v[0] for v in y] if single else None
    splitter = make_splitter(protocol, k, stratify=single, seed=seed)
    splits = list(splitter.split(X, strat_y if strat_y is not None else np.zeros(len(X)), groups))
    if progress:
        from tqdm import tqdm

        splits = tqdm(splits, desc=f"{protocol} CV", unit="fold")
    folds, pooled = [], []
    for tr, te in splits:
        m = clone(estimator)
        Xtr = [X[i] for i in tr]
        Xte = [X[i] for i in te]
        if task == "classification":
            m.fit(Xtr, list(y_arr[tr]), label_space=label_space)
            if protocol == "loo":
                pooled.append((m.decide(m.predict_proba(Xte)), m.predict_proba(Xte), te, m.labels_))
                continue
            folds.append(evaluate_classification(m, Xte, list(y_arr[te]), true_space=m.labels_, n_boot=0))
        else:
            m.fit(Xtr, y_arr[tr])
            folds.append(evaluate_regression(m, Xte, y_arr[te], n_boot=0))
    if protocol == "loo":  # one item per fold: score the pooled predictions once
        space = pooled[0][3]
        if any(p[3].labels != space.labels for p in pooled):
            raise DataError("leave-one-out folds saw different label sets; give label_space=")
        order = np.concatenate([p[2] for p in pooled])
        D = np.vstack([p[0] for p in pooled])
        P = np.vstack([p[1] for p in pooled])
        from affekt.evaluation.metrics import classification_metrics

        Y = space.binarize(list(y_arr[order]))
        pooled_m = classification_metrics(Y, D, P, space.labels, space.multi_label)
        return {"protocol": "loo", "k": len(pooled), "pooled": pooled_m,
                **{k: {"mean": pooled_m[k], "std": 0.0} for k in ("macro_f1", "accuracy", "balanced_accuracy")
                   if isinstance(pooled_m.get(k), float)}}
    summary: dict = {"protocol": protocol, "k": len(folds), "folds": folds}
    if task == "classification":
        for key in ("macro_f1", "accuracy", "balanced_accuracy", "micro_f1", "weighted_f1", "mAP"):
            s = _mean_std(folds, key)
            if s:
                summary[key] = s
    else:
        for dim in ("valence", "arousal", "dominance"):
            vals = [f[dim]["pearson_r"] for f in folds if dim in f]
            if vals:
                summary[f"{dim}_pearson_r"] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
    return summary
