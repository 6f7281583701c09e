"""Bias audits: does a model (or a crowd) work equally well for different groups of people?

:func:`audit` takes each item's true and predicted label and its group (gender, age band, ...; several
attributes give their intersections) and reports, per group:

* accuracy, UAR (balanced accuracy) and macro-F1 (fairlearn's ``MetricFrame`` over scikit-learn's
  metrics), each with a percentile bootstrap CI (items resampled within the group);
* the worst group, the largest gap (best - worst) and ratio (worst / best) of each metric;
* whether the gap is larger than chance: a permutation test that shuffles the group labels over the
  items (``n_perm`` times) and counts how often a gap at least as large appears (p-value);
* the confusion matrix of each group (rows: true label, normalised).

:func:`label_audit` looks at the labels themselves: how each label is distributed by group (who was
labelled how), with a chi-square test of independence. Groups under ``min_group`` items are reported
but left out of the worst/gap figures (too few to compare).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from affekt.core.errors import DataError, require

METRICS = ("accuracy", "uar", "macro_f1")


def _confusions(t: np.ndarray, p: np.ndarray, g: np.ndarray, n_groups: int, n_labels: int) -> np.ndarray:
    """(groups, true, predicted) counts, in one bincount."""
    flat = (g * n_labels + t) * n_labels + p
    return np.bincount(flat, minlength=n_groups * n_labels * n_labels).reshape(n_groups, n_labels, n_labels)


def _from_confusion(M: np.ndarray) -> dict:
    """accuracy, UAR and macro-F1 of each (true x predicted) matrix in ``M`` (..., L, L), as
    scikit-learn computes them: UAR over the labels present in the truth; macro-F1 over the labels
    present in the truth or the predictions."""
    M = M.astype(np.float64)
    tp = np.diagonal(M, axis1=-2, axis2=-1)
    true_n = M.sum(-1)
    pred_n = M.sum(-2)
    n = true_n.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = tp.sum(-1) / n
        present = true_n > 0
        uar = np.where(present, tp / np.where(present, true_n, 1), 0).sum(-1) / np.maximum(present.sum(-1), 1)
        denom = true_n + pred_n
        f1 = np.where(denom > 0, 2 * tp / np.where(denom > 0, denom, 1), 0.0)
        used = denom > 0
        mf1 = (f1 * used).sum(-1) / np.maximum(used.sum(-1), 1)
    return {"accuracy": acc, "uar": uar, "macro_f1": mf1}


def _ci(samples, level: float = 0.95) -> list:
    s = np.asarray(samples, dtype=float)
    s = s[np.isfinite(s)]
    if not len(s):
        return [None, None]
    lo, hi = np.quantile(s, [(1 - level) / 2, 1 - (1 - level) / 2])
    return [float(lo), float(hi)]


def group_keys(frame: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's group: the value of one column, or the values of several joined by ' & '."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(c for c in frame.columns if c not in ("labels", "votes", "targets"))
        raise DataError(f"no group column(s) {', '.join(map(repr, missing))} in the data (columns: {have})")
    parts = [frame[c].astype(str).str.strip().replace({"": "unknown", "nan": "unknown"}) for c in columns]
    out = parts[0]
    for p in parts[1:]:
        out = out + " & " + p
    return out.to_numpy()


def audit(y_true, y_pred, groups, labels, *, clusters=None, n_boot: int = 1000, n_perm: int = 1000,
          min_group: int = 10, seed: int = 0, level: float = 0.95) -> dict:
    """Per-group accuracy, UAR and macro-F1 with CIs; worst group, gaps, ratios, permutation p-values;
    per-group confusion matrices. ``y_true``/``y_pred``: label indices into ``labels``.

    ``clusters``: who each item comes from (a speaker, an actor), when the groups are attributes of
    those people: the bootstrap then resamples people within a group and the permutation test
    shuffles the groups over people, not items (items of one person are not independent; treating
    them as such makes the CIs too narrow and the p-values too small)."""
    fl = require("fairlearn.metrics", "annotate")
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    t = np.asarray(y_true, dtype=np.int64)
    p = np.asarray(y_pred, dtype=np.int64)
    g_raw = np.asarray(groups).astype(str)
    if not (len(t) == len(p) == len(g_raw)):
        raise DataError(f"{len(t)} true labels, {len(p)} predictions and {len(g_raw)} group values")
    names, g = np.unique(g_raw, return_inverse=True)
    L = len(labels)
    import warnings

    with warnings.catch_warnings():  # a group without some label: sklearn warns, the figure stands
        warnings.simplefilter("ignore")
        mf = fl.MetricFrame(metrics={"accuracy": accuracy_score, "uar": balanced_accuracy_score,
                                     "macro_f1": lambda a, b: f1_score(a, b, average="macro", zero_division=0)},
                            y_true=t, y_pred=p, sensitive_features=pd.Series(g_raw, name="group"))
    by = mf.by_group
    counts = np.bincount(g, minlength=len(names))
    M = _confusions(t, p, g, len(names), L)
    rng = np.random.default_rng(seed)
    cl = None
    if clusters is not None:
        cnames, cl = np.unique(np.asarray(clusters).astype(str), return_inverse=True)
        if len(cl) != len(t):
            raise DataError(f"{len(t)} items but {len(cl)} cluster ids")
        per_cluster = [set(g[cl == c]) for c in range(len(cnames))]
        spanning = sum(len(x) > 1 for x in per_cluster)
        if spanning:
            raise DataError(f"{spanning} cluster(s) (e.g. {cnames[[len(x) > 1 for x in per_cluster].index(True)]!r}) "
                            "have items in several groups: clusters must lie within one group")
        cluster_group = np.array([next(iter(x)) for x in per_cluster])
        members = [np.flatnonzero(cl == c) for c in range(len(cnames))]
    idx_by = [np.flatnonzero(g == k) for k in range(len(names))]
    boot = {m: [[] for _ in names] for m in METRICS}
    for _ in range(n_boot):
        for k, idx in enumerate(idx_by):
            if cl is None:
                s = rng.choice(idx, len(idx))
            else:
                own = np.flatnonzero(cluster_group == k)
                s = np.concatenate([members[c] for c in rng.choice(own, len(own))])
            r = _from_confusion(np.bincount(t[s] * L + p[s], minlength=L * L).reshape(L, L))
            for m in METRICS:
                boot[m][k].append(float(r[m]))
    big = counts >= min_group
    groups_out = {}
    for k, name in enumerate(names):
        row = {"n": int(counts[k]), "compared": bool(big[k])}
        for m in METRICS:
            row[m] = float(by.loc[name, m])
            row[f"{m}_ci"] = _ci(boot[m][k], level)
        conf = M[k].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            row["confusion"] = np.round(np.where(conf.sum(1, keepdims=True) > 0,
                                                 conf / conf.sum(1, keepdims=True), 0.0), 4).tolist()
        row["true_counts"] = M[k].sum(1).astype(int).tolist()
        groups_out[str(name)] = row
    out = {"labels": list(labels), "n": len(t), "groups": groups_out, "min_group": min_group,
           "overall": {m: float(v) for m, v in mf.overall.items()},
           "left_out": [str(n) for n, b in zip(names, big) if not b]}
    if big.sum() >= 2:
        keep = np.flatnonzero(big)
        vals = _from_confusion(M[keep])
        perm_gaps = {m: [] for m in METRICS}
        in_big = np.isin(g, keep)
        t_b, p_b, g_b = t[in_big], p[in_big], g[in_big]
        remap = np.full(len(names), -1)
        remap[keep] = np.arange(len(keep))
        g_b = remap[g_b]
        if cl is not None:
            cl_b = cl[in_big]
            used, cl_b = np.unique(cl_b, return_inverse=True)
            cg_b = remap[cluster_group[used]]
        for _ in range(n_perm):
            gp = rng.permutation(g_b) if cl is None else rng.permutation(cg_b)[cl_b]
            r = _from_confusion(_confusions(t_b, p_b, gp, len(keep), L))
            for m in METRICS:
                perm_gaps[m].append(np.nanmax(r[m]) - np.nanmin(r[m]))
        for m in METRICS:
            v = vals[m]
            worst, best = int(np.nanargmin(v)), int(np.nanargmax(v))
            gap = float(v[best] - v[worst])
            pg = np.asarray(perm_gaps[m])
            out[m] = {"worst_group": str(names[keep[worst]]), "worst": float(v[worst]),
                      "best_group": str(names[keep[best]]), "best": float(v[best]), "gap": gap,
                      "ratio": float(v[worst] / v[best]) if v[best] > 0 else None,
                      "p_value": float((1 + (pg >= gap - 1e-12).sum()) / (n_perm + 1)) if n_perm else None,
                      "chance_gap_95": float(np.quantile(pg, 0.95)) if n_perm else None}
    out["settings"] = {"n_boot": n_boot, "n_perm": n_perm, "seed": seed, "level": level,
                       "resampled": "items" if cl is None else "clusters (people)"}
    if cl is not None:
        for k, name in enumerate(names):
            out["groups"][str(name)]["clusters"] = int((cluster_group == k).sum())
    return out


def label_audit(labels_per_item, groups, label_names, *, counts=None) -> dict:
    """How labels are distributed by group: counts and shares per group, and a chi-square test of
    independence (scipy). ``counts``: per-item vote counts (items x labels) to tally instead of one
    label per item (who the annotators labelled how)."""
    from scipy.stats import chi2_contingency

    g = np.asarray(groups).astype(str)
    names = sorted(set(g))
    L = len(label_names)
    T = np.zeros((len(names), L))
    pos = {n: i for i, n in enumerate(names)}
    if counts is not None:
        C = np.asarray(counts, dtype=float)
        for i, row in zip(g, C):
            T[pos[i]] += row
    else:
        idx = {lab: j for j, lab in enumerate(label_names)}
        for i, labs in zip(g, labels_per_item):
            for lab in ([labs] if isinstance(labs, str) else labs):
                T[pos[i], idx[lab]] += 1
    nz = T.sum(0) > 0
    res = {"groups": {n: {"n": float(T[k].sum()),
                          "shares": {lab: (float(T[k, j] / T[k].sum()) if T[k].sum() else None)
                                     for j, lab in enumerate(label_names)}} for k, n in enumerate(names)},
           "what": "votes" if counts is not None else "labels"}
    rows = T.sum(1) > 0
    if rows.sum() >= 2 and nz.sum() >= 2:
        chi2, pv, dof, _ = chi2_contingency(T[rows][:, nz])
        n = T.sum()
        res["chi2"] = {"statistic": float(chi2), "dof": int(dof), "p_value": float(pv),
                       "cramers_v": float(np.sqrt(chi2 / (n * (min(rows.sum(), nz.sum()) - 1))))}
    return res
