"""How far annotators agree: percent agreement, Fleiss' kappa, Krippendorff's alpha, Cohen's kappa.

All item-level figures work from a count table (items x labels, see :mod:`affekt.annotation.votes`),
so they serve FER+ and CREMA-D, whose rater identities are not published, as well as the answers
of ``affekt annotate``. Items with fewer than 2 answers carry no agreement and are skipped.

* **percent agreement**: the mean over items of the share of agreeing answer pairs,
  ``P_i = sum_j n_ij (n_ij - 1) / (n_i (n_i - 1))``;
* **Fleiss' kappa**: ``(P - P_e) / (1 - P_e)`` with ``P_e = sum_j p_j^2`` and ``p_j`` the share of all
  answers given to label j. With the same number of answers per item it is statsmodels'
  ``fleiss_kappa``; with varying numbers (crowd data) it is the usual generalisation (each item's
  ``P_i`` over its own pairs), which statsmodels does not take;
* **Krippendorff's alpha** (nominal): ``1 - D_o / D_e`` from the coincidence matrix; the point
  figure comes from the ``krippendorff`` package, the bootstrap from the same closed form;
  **interval** alpha for valence/arousal/dominance ratings (reliability data: annotators x items);
* **per label**: Fleiss' kappa of "this label or not" (Fleiss 1971's category kappa);
* **Cohen's kappa** for each pair of annotators (answer tables only; scikit-learn).

Confidence intervals: percentile bootstrap over items (``n_boot`` resamples, seeded).
"""
from __future__ import annotations

import itertools

import numpy as np

from affekt.annotation.votes import Votes, reliability_matrix
from affekt.core.errors import DataError, require


def _prep(C: np.ndarray) -> dict:
    C = np.asarray(C, dtype=np.float64)
    m = C.sum(1)
    sq = (C * C).sum(1)
    pair = m * (m - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        P = (sq - m) / pair
        d = (m * m - sq) / (m - 1)  # Krippendorff: an item's disagreeing pairable values
        # per label, "label j or not": its own P_i
        Pj = (C * (C - 1) + (m[:, None] - C) * (m[:, None] - C - 1)) / pair[:, None]
    return {"C": C, "m": m, "P": P, "d": d, "Pj": Pj}


def _stats(pre: dict, w: np.ndarray) -> dict:
    """Every item-level figure for item weights ``w`` (1 each: the data; bootstrap counts: a resample)."""
    C, m = pre["C"], pre["m"]
    W = w.sum()
    pa = float(w @ pre["P"] / W)
    nc = w @ C
    n = nc.sum()
    p = nc / n
    pe = float((p * p).sum())
    kappa = (pa - pe) / (1 - pe) if pe < 1 else float("nan")
    de = n * n - (nc * nc).sum()
    alpha = 1 - (n - 1) * float(w @ pre["d"]) / de if de > 0 else float("nan")
    Pj = (w @ pre["Pj"]) / W
    pej = p * p + (1 - p) * (1 - p)
    with np.errstate(invalid="ignore", divide="ignore"):
        kj = np.where(pej < 1, (Pj - pej) / (1 - pej), np.nan)
    del m
    return {"percent_agreement": pa, "fleiss_kappa": float(kappa), "krippendorff_alpha": float(alpha),
            "per_label_kappa": kj, "label_share": p}


def fleiss_kappa(C) -> float:
    """Fleiss' kappa of a count table (items with < 2 answers left out)."""
    C = np.asarray(C)
    C = C[C.sum(1) >= 2]
    return _stats(_prep(C), np.ones(len(C)))["fleiss_kappa"]


def percent_agreement(C) -> float:
    C = np.asarray(C)
    C = C[C.sum(1) >= 2]
    return _stats(_prep(C), np.ones(len(C)))["percent_agreement"]


def krippendorff_alpha(C, level: str = "nominal") -> float:
    """Krippendorff's alpha of a count table, from the ``krippendorff`` package."""
    kr = require("krippendorff", "annotate")
    C = np.asarray(C)
    C = C[C.sum(1) >= 2]
    return float(kr.alpha(value_counts=C, level_of_measurement=level))


def interval_alpha(R: np.ndarray) -> float:
    """Krippendorff's interval alpha of reliability data (annotators x items, NaN = no answer)."""
    kr = require("krippendorff", "annotate")
    return float(kr.alpha(reliability_data=R, level_of_measurement="interval"))


def _ci(samples: np.ndarray, level: float = 0.95) -> list[float]:
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if not len(s):
        return [float("nan"), float("nan")]
    lo, hi = np.quantile(s, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


def _finite(x):
    """JSON-ready: full precision (figures are compared with reference implementations), NaN -> None."""
    if isinstance(x, float):
        return None if not np.isfinite(x) else x
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def cohen_pairs(votes: Votes, min_shared: int = 10) -> list[dict]:
    """Cohen's kappa for each pair of annotators who answered at least ``min_shared`` same items."""
    from sklearn.metrics import cohen_kappa_score

    R, who = reliability_matrix(votes)
    out = []
    for a, b in itertools.combinations(range(len(who)), 2):
        both = np.isfinite(R[a]) & np.isfinite(R[b])
        k = int(both.sum())
        if k < min_shared:
            continue
        ya, yb = R[a, both].astype(int), R[b, both].astype(int)
        kap = cohen_kappa_score(ya, yb, labels=list(range(len(votes.labels)))) if len(set(ya) | set(yb)) > 1 else float("nan")
        out.append({"a": who[a], "b": who[b], "n": k, "kappa": float(kap), "agreement": float((ya == yb).mean())})
    return out


def agreement(votes: Votes, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95,
              min_shared: int = 10, dimensions=None) -> dict:
    """Every agreement figure of a vote table, with bootstrap CIs over items.

    ``dimensions``: ``{name: reliability matrix}`` of rating scales (valence...) for interval alpha.
    Returns a JSON-ready dict (``n_items``, ``n_skipped``, the figures and their ``*_ci``, ``per_label``,
    and for answer tables ``cohen_kappa`` per pair and their mean)."""
    if votes.raters is not None:
        raise DataError(f"{votes.source}: agreement on multi-label answers (--label-sep) is not computed as one nominal "
                        "figure; give the label sets as they are (each set is then one category), or one column per "
                        "label as a count table for per-label agreement")
    ok = votes.enough(2)
    n_skipped = int((~ok).sum())
    if ok.sum() < 2:
        raise DataError(f"{votes.source}: {int(ok.sum())} item(s) with 2 or more answers; agreement needs at "
                        f"least 2 such items ({n_skipped} item(s) with 0 or 1 answers skipped)")
    C = votes.counts[ok]
    pre = _prep(C)
    point = _stats(pre, np.ones(len(C)))
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        w = np.bincount(rng.integers(0, len(C), len(C)), minlength=len(C)).astype(np.float64)
        boots.append(_stats(pre, w))
    out = {"n_items": int(ok.sum()), "n_skipped": n_skipped, "n_answers": int(C.sum()),
           "answers_per_item": {"min": int(C.sum(1).min()), "mean": round(float(C.sum(1).mean()), 3),
                                "max": int(C.sum(1).max())},
           "labels": list(votes.labels)}
    alpha_pkg = krippendorff_alpha(C)
    for key in ("percent_agreement", "fleiss_kappa", "krippendorff_alpha"):
        out[key] = _finite(alpha_pkg if key == "krippendorff_alpha" else point[key])
        out[f"{key}_ci"] = _finite(_ci([b[key] for b in boots], level))
    KJ = np.array([b["per_label_kappa"] for b in boots]) if boots else np.zeros((0, len(votes.labels)))
    out["per_label"] = {
        lab: {"kappa": _finite(float(point["per_label_kappa"][j])),
              "kappa_ci": _finite(_ci(KJ[:, j], level)) if len(KJ) else None,
              "share": _finite(float(point["label_share"][j]))}
        for j, lab in enumerate(votes.labels)}
    if votes.answers is not None:
        out["n_annotators"] = int(votes.answers["annotator"].nunique())
        pairs = cohen_pairs(votes.subset(ok), min_shared)
        ks = [p["kappa"] for p in pairs if np.isfinite(p["kappa"])]
        out["cohen_kappa_mean"] = _finite(float(np.mean(ks))) if ks else None
        out["cohen_kappa"] = [{**p, "kappa": _finite(p["kappa"]), "agreement": _finite(p["agreement"])} for p in pairs]
    for name, R in (dimensions or {}).items():
        R = np.asarray(R, dtype=float)
        cols = np.isfinite(R).sum(0) >= 2
        R = R[:, cols]
        if R.shape[1] < 2:
            continue
        bs = []
        for _ in range(min(n_boot, 200)):
            bs.append(interval_alpha(R[:, rng.integers(0, R.shape[1], R.shape[1])]))
        out[f"{name}_alpha_interval"] = _finite(interval_alpha(R))
        out[f"{name}_alpha_interval_ci"] = _finite(_ci(bs, level))
    out["bootstrap"] = {"n": n_boot, "level": level, "seed": seed}
    return out
