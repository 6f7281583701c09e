"""EMOTIC's figures: average precision per category and their mean (mAP), V/A/D mean absolute
error on the 1-10 scale, and the same over groups of categories (the synthetic benchmark's
context-only and person-only halves)."""
from __future__ import annotations

import warnings

import numpy as np


def average_precision(Y: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Average precision per category (scikit-learn's ``average_precision_score``); NaN for a
    category with no positive person."""
    from sklearn.metrics import average_precision_score

    Y, P = np.asarray(Y), np.asarray(P, dtype=np.float64)
    out = np.full(Y.shape[1], np.nan)
    for j in range(Y.shape[1]):
        if Y[:, j].any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out[j] = average_precision_score(Y[:, j], P[:, j])
    return out


def mean_ap(Y: np.ndarray, P: np.ndarray, columns=None) -> float:
    """The mean of the per-category APs (categories without a positive left out); ``columns``:
    only these category indices."""
    ap = average_precision(Y, P)
    if columns is not None:
        ap = ap[list(columns)]
    ap = ap[np.isfinite(ap)]
    return float(ap.mean()) if len(ap) else float("nan")


def vad_mae(V_true: np.ndarray, V_pred: np.ndarray, names=("valence", "arousal", "dominance")) -> dict:
    """Mean absolute error per dimension (1-10 scale) over people whose value is known, and
    their mean."""
    T, Pr = np.asarray(V_true, float), np.asarray(V_pred, float)
    out = {}
    for j, name in enumerate(names):
        ok = np.isfinite(T[:, j]) & np.isfinite(Pr[:, j])
        if ok.any():
            out[name] = float(np.abs(T[ok, j] - Pr[ok, j]).mean())
    if out:
        out["mean"] = float(np.mean(list(out.values())))
    return out
