"""Late fusion: each modality gives a probability vector over the same labels (or none, when it
has nothing to say: no face in view, silence); the fused vector is their weighted mean.

* :func:`late_fuse`: fixed weight per modality times its confidence (how peaked its vector is),
  so a modality that hesitates counts less; a missing one drops out and the others renormalise.
* :class:`LearnedFusion`: logistic regression over the modalities' scores side by side (a missing
  modality: uniform scores and a flag), fitted where labelled multi-modal data exists.

Nothing here knows about faces or voices: any pair (or more) of modalities can use it.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from affekt.core.errors import InputError


def confidence(P: np.ndarray, kind: str = "margin") -> np.ndarray:
    """How sure each row of probabilities is, in [0, 1]: ``max`` (top probability, rescaled so
    uniform is 0), ``margin`` (top minus second) or ``entropy`` (1 - normalised entropy)."""
    P = np.atleast_2d(np.asarray(P, dtype=float))
    k = P.shape[1]
    if k < 2:
        return np.ones(len(P))
    if kind == "max":
        return np.clip((P.max(1) - 1 / k) / (1 - 1 / k), 0, 1)
    if kind == "margin":
        s = np.sort(P, axis=1)
        return np.clip(s[:, -1] - s[:, -2], 0, 1)
    if kind == "entropy":
        H = -(P * np.log(np.clip(P, 1e-12, 1))).sum(1)
        return np.clip(1 - H / np.log(k), 0, 1)
    raise InputError(f"unknown confidence '{kind}' (use max, margin or entropy)")


def late_fuse(probs: Sequence[np.ndarray | None], weights: Sequence[float] | None = None, *,
              conf: str | None = "margin", floor: float = 0.05) -> np.ndarray | None:
    """Weighted mean of the given probability vectors (each (k,) or (n, k) over the same labels;
    None for a modality that is missing). A modality's weight is ``weights[m]`` times
    ``floor + confidence`` (``conf=None``: the fixed weights alone). None when all are missing."""
    weights = [1.0] * len(probs) if weights is None else list(weights)
    if len(weights) != len(probs):
        raise InputError(f"{len(probs)} modalities but {len(weights)} weights")
    num = den = None
    for p, w in zip(probs, weights):
        if p is None or w <= 0:
            continue
        P = np.atleast_2d(np.asarray(p, dtype=float))
        c = np.full(len(P), float(w)) if conf is None else w * (floor + confidence(P, conf))
        num = P * c[:, None] if num is None else num + P * c[:, None]
        den = c if den is None else den + c
    if num is None:
        return None
    out = num / np.maximum(den, 1e-12)[:, None]
    return out[0] if np.ndim(probs[next(i for i, p in enumerate(probs) if p is not None)]) == 1 else out


class LearnedFusion:
    """Logistic regression over modalities' scores side by side. ``fit(parts, y)``: ``parts`` a
    list (one per modality) of (n, k_m) arrays, NaN rows where the modality is missing; each part
    becomes its scores (uniform when missing) plus a 'missing' flag."""

    def __init__(self, C: float = 1.0):
        self.C = C

    @staticmethod
    def _design(parts: Sequence[np.ndarray]) -> np.ndarray:
        cols = []
        for P in parts:
            P = np.asarray(P, dtype=float)
            miss = np.isnan(P).any(1)
            Q = np.where(miss[:, None], 1.0 / P.shape[1], P)
            cols += [np.log(np.clip(Q, 1e-6, 1)), miss[:, None].astype(float)]
        return np.hstack(cols)

    def fit(self, parts: Sequence[np.ndarray], y) -> "LearnedFusion":
        from sklearn.linear_model import LogisticRegression

        n = {len(P) for P in parts}
        if len(n) != 1:
            raise InputError(f"fusion parts have different numbers of rows: {sorted(n)}")
        self.model_ = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced")
        self.model_.fit(self._design(parts), np.asarray(y))
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return self.model_.predict_proba(self._design(parts))
