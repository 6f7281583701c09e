"""Metrics, all from scikit-learn/scipy, with bootstrap confidence intervals.

Classification: accuracy, balanced accuracy (UAR), per-class precision/recall/F1,
macro/micro/weighted F1, ROC-AUC, and for multi-label data mAP (macro average precision).
Regression: Pearson r, MAE and the concordance correlation coefficient (CCC) per dimension.
"""
from __future__ import annotations

import warnings

import numpy as np
from sklearn import metrics as skm


def ccc(y_true, y_pred) -> float:
    """Lin's concordance correlation coefficient."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    mt, mp = t.mean(), p.mean()
    cov = ((t - mt) * (p - mp)).mean()
    return float(2 * cov / (t.var() + p.var() + (mt - mp) ** 2 + 1e-12))


def pearson(y_true, y_pred) -> float:
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    if t.std() == 0 or p.std() == 0:
        return float("nan")
    return float(np.corrcoef(t, p)[0, 1])


def _safe(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(f(*a, **kw))
        except ValueError:
            return float("nan")


def classification_metrics(Y_true: np.ndarray, Y_pred: np.ndarray, scores: np.ndarray | None,
                           labels, multi_label: bool) -> dict:
    """Y_true / Y_pred: (n, L) 0/1 matrices; scores: (n, L) probabilities or None."""
    labels = list(labels)
    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    present = Y_true.sum(axis=0) > 0
    out: dict = {"n": int(len(Y_true)), "multi_label": multi_label}
    if multi_label:
        idx = np.flatnonzero(present)
        out["macro_f1"] = _safe(skm.f1_score, Y_true[:, idx], Y_pred[:, idx], average="macro", zero_division=0)
        out["micro_f1"] = _safe(skm.f1_score, Y_true, Y_pred, average="micro", zero_division=0)
        out["weighted_f1"] = _safe(skm.f1_score, Y_true, Y_pred, average="weighted", zero_division=0)
        out["samples_f1"] = _safe(skm.f1_score, Y_true, Y_pred, average="samples", zero_division=0)
        out["subset_accuracy"] = _safe(skm.accuracy_score, Y_true, Y_pred)
        out["macro_precision"] = _safe(skm.precision_score, Y_true[:, idx], Y_pred[:, idx], average="macro", zero_division=0)
        out["macro_recall"] = _safe(skm.recall_score, Y_true[:, idx], Y_pred[:, idx], average="macro", zero_division=0)
        if scores is not None:
            out["mAP"] = _safe(skm.average_precision_score, Y_true[:, idx], scores[:, idx], average="macro")
            out["roc_auc_macro"] = _safe(skm.roc_auc_score, Y_true[:, idx], scores[:, idx], average="macro")
        p, r, f, s = skm.precision_recall_fscore_support(Y_true, Y_pred, zero_division=0)
        # per label [[TN, FP], [FN, TP]]
        out["multilabel_confusion"] = skm.multilabel_confusion_matrix(Y_true, Y_pred).tolist()
    else:
        yt, yp = Y_true.argmax(1), Y_pred.argmax(1)
        idx = list(np.flatnonzero(present))
        out["accuracy"] = _safe(skm.accuracy_score, yt, yp)
        out["balanced_accuracy"] = _safe(skm.balanced_accuracy_score, yt, yp)  # UAR
        out["macro_f1"] = _safe(skm.f1_score, yt, yp, labels=idx, average="macro", zero_division=0)
        out["micro_f1"] = _safe(skm.f1_score, yt, yp, labels=idx, average="micro", zero_division=0)
        out["weighted_f1"] = _safe(skm.f1_score, yt, yp, labels=idx, average="weighted", zero_division=0)
        out["macro_precision"] = _safe(skm.precision_score, yt, yp, labels=idx, average="macro", zero_division=0)
        out["macro_recall"] = _safe(skm.recall_score, yt, yp, labels=idx, average="macro", zero_division=0)
        if scores is not None and len(idx) > 1:
            sc = scores[:, idx] / np.maximum(scores[:, idx].sum(1, keepdims=True), 1e-12)
            keep = np.isin(yt, idx)
            out["roc_auc_macro"] = _safe(skm.roc_auc_score, yt[keep], sc[keep], multi_class="ovr",
                                         average="macro", labels=idx)
            out["mAP"] = _safe(skm.average_precision_score, Y_true[:, idx], scores[:, idx], average="macro")
        p, r, f, s = skm.precision_recall_fscore_support(yt, yp, labels=range(len(labels)), zero_division=0)
        out["confusion_matrix"] = skm.confusion_matrix(yt, yp, labels=range(len(labels))).tolist()
    out["labels"] = labels
    out["per_class"] = {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                              "support": int(s[i])} for i, lab in enumerate(labels)}
    return out


def regression_metrics(Y_true: np.ndarray, Y_pred: np.ndarray, names=("valence", "arousal", "dominance")) -> dict:
    Y_true, Y_pred = np.asarray(Y_true, float), np.asarray(Y_pred, float)
    out: dict = {"n": int(len(Y_true))}
    for j, name in enumerate(names):
        ok = np.isfinite(Y_true[:, j])
        if ok.sum() < 2:
            continue
        out[name] = {"pearson_r": pearson(Y_true[ok, j], Y_pred[ok, j]),
                     "mae": float(skm.mean_absolute_error(Y_true[ok, j], Y_pred[ok, j])),
                     "ccc": ccc(Y_true[ok, j], Y_pred[ok, j])}
    return out


def bootstrap_ci(metric, *arrays, n_boot: int = 1000, alpha: float = 0.05, seed: int = 0) -> dict:
    """Percentile bootstrap CI of ``metric(*arrays)`` over items (rows), resampled with replacement."""
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    point = float(metric(*arrays))
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vals.append(metric(*(a[i] for a in arrays)))
    vals = np.asarray(vals, dtype=float)
    lo, hi = np.nanpercentile(vals, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return {"value": point, "ci_low": float(lo), "ci_high": float(hi), "n_boot": n_boot, "level": 1 - alpha}


def macro_f1_fn(multi_label: bool):
    if multi_label:
        def f(yt, yp):
            idx = yt.sum(0) > 0
            return skm.f1_score(yt[:, idx], yp[:, idx], average="macro", zero_division=0)
    else:
        def f(yt, yp):
            return skm.f1_score(yt.argmax(1), yp.argmax(1), average="macro", zero_division=0)
    return f
