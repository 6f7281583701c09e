"""Consensus: many annotators' votes -> one training target per item.

Methods (``consensus(votes, method)``):

* ``majority``: the label more than half of the answers chose; no label otherwise;
* ``plurality``: the most chosen label; ties are settled by ``tie``: ``drop`` (no label: the item is
  left out of training), ``first`` (the earliest label in the scheme's order), ``random`` (seeded);
* ``soft``: the vote distribution (each item's shares, a training target for networks that take
  label distributions, as FER+'s authors trained);
* ``multi``: every label chosen by at least ``threshold`` of the answers (multi-label targets);
* ``dawid-skene``: EM over annotator confusion matrices (Dawid & Skene 1979). With an answer table
  each annotator gets their own matrix (crowd-kit's ``DawidSkene``); a count table has no rater
  identities, so every answer shares one confusion matrix (the "pooled" model, fitted here);
* ``mace`` / ``glad``: MACE (Hovy et al. 2013: each annotator is sometimes a spammer) and GLAD
  (Whitehill et al. 2009: annotator skill x item difficulty), crowd-kit's; answer tables only.

Every method returns :class:`Consensus`: per item a label (or ``None``), the probabilities behind it
and, for Dawid-Skene, the confusion matrices it estimated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from affekt.annotation.votes import Votes
from affekt.core.errors import DataError, InputError, require

METHODS = ("majority", "plurality", "soft", "multi", "dawid-skene", "mace", "glad")
TIE_RULES = ("drop", "first", "random")


@dataclass
class Consensus:
    method: str
    items: np.ndarray
    labels: tuple[str, ...]
    probs: np.ndarray  # (items, labels): the vote shares or the model's posterior
    label: list  # per item: a label, a list of labels (multi), or None
    info: dict = field(default_factory=dict)

    def frame(self):
        import pandas as pd

        df = pd.DataFrame({"item": self.items})
        df["label"] = [";".join(v) if isinstance(v, list) else v for v in self.label]
        for j, lab in enumerate(self.labels):
            df[f"p_{lab}"] = np.round(self.probs[:, j], 6)
        return df


def _plurality(C: np.ndarray, tie: str, seed: int) -> np.ndarray:
    """Index of each row's largest count, or -1 for an empty row or (``tie='drop'``) a tie."""
    if tie not in TIE_RULES:
        raise InputError(f"tie rule '{tie}': use one of {', '.join(TIE_RULES)}")
    top = C.max(1, keepdims=True)
    at_top = (C == top) & (top > 0)
    n_top = at_top.sum(1)
    out = at_top.argmax(1)  # 'first': the earliest label in the scheme's order
    if tie == "random":
        rng = np.random.default_rng(seed)
        r = rng.random(C.shape) * at_top
        out = r.argmax(1)
    out = np.where(n_top == 0, -1, out)
    if tie == "drop":
        out = np.where(n_top > 1, -1, out)
    return out


def pooled_dawid_skene(C: np.ndarray, *, n_iter: int = 100, tol: float = 1e-7, smoothing: float = 0.01):
    """Dawid-Skene with one confusion matrix shared by all (anonymous) answers.

    ``C``: (items, labels) counts. Returns (posterior (items, labels), confusion (true x answered),
    prior). Initialised from the vote shares (as Dawid & Skene did), then EM until the log-likelihood
    changes by less than ``tol`` per answer."""
    C = np.asarray(C, dtype=np.float64)
    n_lab = C.shape[1]
    T = C / np.maximum(C.sum(1, keepdims=True), 1)
    prev = -np.inf
    for _ in range(n_iter):
        prior = (T.sum(0) + smoothing) / (T.sum() + smoothing * n_lab)
        conf = T.T @ C + smoothing  # (true, answered)
        conf /= conf.sum(1, keepdims=True)
        logp = np.log(prior)[None, :] + C @ np.log(conf).T
        mx = logp.max(1, keepdims=True)
        ll = float((mx[:, 0] + np.log(np.exp(logp - mx).sum(1))).sum())
        T = np.exp(logp - mx)
        T /= T.sum(1, keepdims=True)
        if abs(ll - prev) < tol * max(C.sum(), 1):
            break
        prev = ll
    return T, conf, prior


def _crowdkit(votes: Votes, method: str, n_iter: int, seed: int):
    require("crowdkit", "annotate")
    from crowdkit.aggregation import GLAD, MACE, DawidSkene

    if votes.answers is None:
        raise DataError(f"{votes.source}: {method} models each annotator, so it needs an answer table "
                        "(item, annotator, label); a count table has no annotator ids "
                        "(dawid-skene on a count table fits one pooled confusion matrix)")
    df = votes.answers.rename(columns={"item": "task", "annotator": "worker"})[["task", "worker", "label"]]
    if method == "dawid-skene":
        est = DawidSkene(n_iter=n_iter)
    elif method == "mace":
        est = MACE(n_iter=n_iter, random_state=seed)
    else:
        est = GLAD(n_iter=n_iter)
    import warnings

    with warnings.catch_warnings():  # crowd-kit's own pandas deprecations: not the user's concern
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        probs = est.fit_predict_proba(df)
    probs = probs.reindex(index=list(votes.items), columns=list(votes.labels)).fillna(0.0)
    info = {}
    if method == "dawid-skene":
        errs = est.errors_  # rows (worker, answered label), columns the true label: P(answered | true)
        info["confusion"] = {
            str(w): errs.xs(w, level=0).reindex(index=list(votes.labels), columns=list(votes.labels))
            .fillna(0.0).to_numpy().T  # true x answered
            for w in errs.index.get_level_values(0).unique()}
        info["prior"] = est.priors_.reindex(list(votes.labels)).fillna(0.0).to_numpy()
    return probs.to_numpy(dtype=np.float64).copy(), info


def consensus(votes: Votes, method: str = "plurality", *, tie: str = "drop", threshold: float = 0.3,
              n_iter: int = 100, seed: int = 0) -> Consensus:
    """Aggregate a vote table into per-item targets with ``method`` (see the module's docs)."""
    if method not in METHODS:
        raise InputError(f"consensus method '{method}': use one of {', '.join(METHODS)}")
    if votes.raters is not None and method != "multi":
        raise InputError(f"multi-label answers (--label-sep) take --method multi; '{method}' needs one label per answer")
    C = np.asarray(votes.counts, dtype=np.float64)
    n = C.sum(1, keepdims=True) if votes.raters is None else np.asarray(votes.raters, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(n > 0, C / np.maximum(n, 1), 0.0)
    labs = votes.labels
    info: dict = {}
    if method == "majority":
        top = C.argmax(1)
        ok = C.max(1) * 2 > n[:, 0]
        label = [labs[t] if k else None for t, k in zip(top, ok)]
        return Consensus(method, votes.items, labs, shares, label, info)
    if method == "plurality":
        idx = _plurality(C, tie, seed)
        return Consensus(method, votes.items, labs, shares, [labs[i] if i >= 0 else None for i in idx],
                         {"tie": tie, "ties": int(((C == C.max(1, keepdims=True)) & (C > 0)).sum(1).__gt__(1).sum())})
    if method == "soft":
        return Consensus(method, votes.items, labs, shares,
                         [labs[int(s.argmax())] if m > 0 else None for s, m in zip(shares, n[:, 0])], info)
    if method == "multi":
        if not 0 < threshold <= 1:
            raise InputError(f"--threshold {threshold}: a share of the answers, in (0, 1]")
        on = (shares >= threshold) & (n > 0)
        label = [[labs[j] for j in np.flatnonzero(r)] or None for r in on]
        return Consensus(method, votes.items, labs, shares, label, {"threshold": threshold})
    if method == "dawid-skene" and votes.answers is None:
        P, conf, prior = pooled_dawid_skene(C, n_iter=n_iter)
        info = {"confusion": {"pooled": conf}, "prior": prior, "pooled": True}
    else:
        P, info = _crowdkit(votes, method, n_iter, seed)
    empty = n[:, 0] == 0
    P[empty] = 0.0
    label = [None if e else labs[int(p.argmax())] for p, e in zip(P, empty)]
    return Consensus(method, votes.items, labs, P, label, info)
