"""Metrics, all from scikit-learn/scipy, with bootstrap confidence intervals.

Classification: accuracy, balanced accuracy (UAR), per-class precision/recall/F1,
macro/micro/weighted F1, ROC-AUC, and for multi-label data mAP (macro average precision).
Regression: Pearson r, MAE and the concordance correlation coefficient (CCC) per dimension.

The headline figures (macro-F1, UAR, accuracy, micro-F1; Pearson r) and their percentile
bootstrap CIs come from one function each (:func:`classification_headline`,
:func:`pearson_weighted`), evaluated once on the full data for the point value and once per
resample (as draw counts) for the interval, so the two always measure the same thing. The tests
check these functions against scikit-learn's.
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
    """Pearson r (nan when either side is constant); the function behind r's bootstrap CI too."""
    return float(pearson_weighted(y_true, y_pred)[0])


def pearson_weighted(y_true, y_pred, weights: np.ndarray | None = None) -> np.ndarray:
    """Pearson r of the items repeated ``weights`` times: (b, n) counts, one row per bootstrap
    resample (None: each item once, the plain r). Returns one r per row; nan where a side is
    constant."""
    t, p = np.asarray(y_true, float), np.asarray(y_pred, float)
    t, p = t - t.mean(), p - p.mean()  # centred once: fewer cancellation errors in the sums
    W = np.ones((1, len(t))) if weights is None else np.asarray(weights, float)
    s = W.sum(1)
    mt, mp = W @ t / s, W @ p / s
    vt, vp = W @ (t * t) / s - mt ** 2, W @ (p * p) / s - mp ** 2
    cov = W @ (t * p) / s - mt * mp
    tiny_t, tiny_p = 1e-12 * max(float((t * t).mean()), 1e-300), 1e-12 * max(float((p * p).mean()), 1e-300)
    ok = (vt > tiny_t) & (vp > tiny_p)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, cov / np.sqrt(np.where(ok, vt * vp, 1.0)), np.nan)
    return np.clip(r, -1.0, 1.0)


def _safe(f, *a, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(f(*a, **kw))
        except ValueError:
            return float("nan")


def classification_metrics(Y_true: np.ndarray, Y_pred: np.ndarray, scores: np.ndarray | None,
                           labels, multi_label: bool) -> dict:
    """Y_true / Y_pred: (n, L) 0/1 matrices; scores: (n, L) probabilities or None.

    Macro averages run over the labels present in ``Y_true`` (``labels_scored``). Per-class
    rows are given only for labels that occur in the truth or the predictions; the others are
    listed in ``labels_absent`` (nothing was measured for them), and labels predicted but never
    true in ``labels_predicted_not_in_truth`` (their F1 is 0 by construction and they are not in
    the macro averages). The headline figures (macro-F1, UAR, accuracy, micro-F1) come from
    :func:`classification_headline`, the same function that gives their bootstrap CIs.
    """
    labels = list(labels)
    Y_true, Y_pred = np.asarray(Y_true), np.asarray(Y_pred)
    present = Y_true.sum(axis=0) > 0
    predicted = Y_pred.sum(axis=0) > 0
    out: dict = {"n": int(len(Y_true)), "multi_label": multi_label}
    out.update(classification_headline(Y_true, Y_pred, multi_label))
    idx = [int(i) for i in np.flatnonzero(present)]
    if multi_label:
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
        if scores is not None and len(yt):
            P = np.asarray(scores, float)
            conf = P[np.arange(len(yp)), yp] / np.maximum(P.sum(1), 1e-12)
            out["ece"] = expected_calibration_error(conf, yp == yt)
        p, r, f, s = skm.precision_recall_fscore_support(yt, yp, labels=range(len(labels)), zero_division=0)
        out["confusion_matrix"] = skm.confusion_matrix(yt, yp, labels=range(len(labels))).tolist()
    out["labels"] = labels
    out["labels_scored"] = [labels[i] for i in idx]
    out["labels_predicted_not_in_truth"] = [lab for i, lab in enumerate(labels) if predicted[i] and not present[i]]
    out["labels_absent"] = [lab for i, lab in enumerate(labels) if not predicted[i] and not present[i]]
    out["per_class"] = {lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                              "support": int(s[i]), "predicted": int(Y_pred[:, i].sum())}
                        for i, lab in enumerate(labels) if present[i] or predicted[i]}
    return out


def expected_calibration_error(confidence, correct, n_bins: int = 15) -> float:
    """Expected calibration error of top-label confidences: the mean over 15 equal-width bins of
    |accuracy - mean confidence|, each bin weighted by its share of items (Guo et al. 2017). 0 means
    a score of 0.9 is right 90% of the time."""
    c = np.asarray(confidence, float)
    ok = np.asarray(correct, float)
    if not len(c):
        return float("nan")
    b = np.minimum((c * n_bins).astype(int), n_bins - 1)
    n = np.bincount(b, minlength=n_bins)
    gap = np.abs(np.bincount(b, ok, n_bins) - np.bincount(b, c, n_bins))
    return float(gap.sum() / n.sum())


def scale_temperature(P, temperature: float) -> np.ndarray:
    """Temperature scaling of probabilities: p^(1/T), renormalised (the softmax of logits / T).
    T > 1 softens, T < 1 sharpens; the ranking, and so the top label, never changes."""
    P = np.asarray(P, float)
    if temperature == 1.0:
        return P
    Z = np.log(np.clip(P, 1e-12, None)) / temperature
    Z = np.exp(Z - Z.max(axis=1, keepdims=True))
    return Z / Z.sum(axis=1, keepdims=True)


def fit_temperature(parts) -> float:
    """The temperature that minimises log-loss (Guo et al. 2017) over ``parts``: pairs
    ``(P, y)`` of probabilities (n, k) and true class indices (n,), pooled. Searched on
    log T in [-3, 3] (T from 0.05 to 20)."""
    from scipy.optimize import minimize_scalar

    parts = [(np.asarray(P, float), np.asarray(y, int)) for P, y in parts]
    if not sum(len(y) for _, y in parts):
        raise ValueError("fit_temperature needs at least one scored item")

    def nll(log_t):
        T = float(np.exp(log_t))
        return -float(np.mean(np.concatenate([np.log(np.clip(scale_temperature(P, T)[np.arange(len(y)), y], 1e-12, None))
                                              for P, y in parts])))

    return float(np.exp(minimize_scalar(nll, bounds=(-3, 3), method="bounded").x))


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
    """Percentile bootstrap CI of any ``metric(*arrays)`` over items (rows), resampled with
    replacement. The headline metrics use :func:`classification_cis` / :func:`regression_cis`,
    which are exact and much faster."""
    rng = np.random.default_rng(seed)
    n = len(arrays[0])
    point = float(metric(*arrays))
    vals = []
    for _ in range(n_boot):
        i = rng.integers(0, n, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vals.append(metric(*(a[i] for a in arrays)))
    return _interval(point, np.asarray(vals, dtype=float), n_boot, alpha)


def _interval(point: float, draws: np.ndarray, n_boot: int, alpha: float) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lo, hi = np.nanpercentile(draws, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    out = {"value": float(point), "ci_low": float(lo), "ci_high": float(hi), "n_boot": int(n_boot),
           "level": 1 - alpha, "method": "percentile bootstrap"}
    undefined = int(np.isnan(draws).sum())
    if undefined:
        out["n_boot_undefined"] = undefined  # resamples where the metric has no value (left out)
    return out


# -------------------------------------------------- headline metrics: point and CI from one function
HEADLINE = {False: ("macro_f1", "balanced_accuracy", "accuracy"), True: ("macro_f1", "micro_f1")}


def classification_headline(Y_true, Y_pred, multi_label: bool, weights: np.ndarray | None = None,
                            labels_idx=None) -> dict:
    """The headline classification metrics of (n, L) 0/1 matrices, from per-label counts.

    ``weights``: (b, n) counts, how often each item is drawn in each of b bootstrap resamples;
    None gives the point value (each item once) as floats, otherwise one array of b values per
    metric. The point value and the CI therefore come from this one function.

    Single-label: ``macro_f1`` (F1 averaged over the labels present in the full truth, the same
    labels in every resample), ``balanced_accuracy`` (UAR: recall averaged over those labels),
    ``accuracy``. Multi-label: ``macro_f1`` (same rule) and ``micro_f1``. A predicted label absent
    from the truth counts as an error for the true label and is not averaged over. A label that a
    resample happens to lack (no true item, so no recall; no true or predicted item, so no F1) has
    no value there and is left out of that resample's average, as scikit-learn's
    ``zero_division=np.nan`` does. ``labels_idx`` overrides the labels averaged over.
    """
    Yt, Yp = np.asarray(Y_true) > 0, np.asarray(Y_pred) > 0
    W = np.ones((1, len(Yt))) if weights is None else np.asarray(weights, float)
    idx = np.flatnonzero(Yt.any(0)) if labels_idx is None else np.asarray(labels_idx, int)
    tp = W @ (Yt & Yp).astype(float)
    fn = W @ (Yt & ~Yp).astype(float)
    fp = W @ (~Yt & Yp).astype(float)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # nanmean of all-nan rows -> nan
        f1 = 2 * tp / (2 * tp + fp + fn)
        out = {"macro_f1": np.nanmean(f1[:, idx], axis=1) if len(idx) else np.full(len(W), np.nan)}
        if multi_label:
            T, F_p, F_n = tp.sum(1), fp.sum(1), fn.sum(1)
            out["micro_f1"] = 2 * T / (2 * T + F_p + F_n)
        else:
            rec = tp / (tp + fn)
            out["balanced_accuracy"] = np.nanmean(rec[:, idx], axis=1) if len(idx) else np.full(len(W), np.nan)
            out["accuracy"] = tp.sum(1) / W.sum(1)
    if weights is None:
        return {k: float(v[0]) for k, v in out.items()}
    return out


def resample_weights(n: int, n_boot: int, seed: int = 0, max_cells: int = 4_000_000):
    """Bootstrap resamples of n items as (b, n) draw counts, in batches of at most ``max_cells``."""
    rng = np.random.default_rng(seed)
    batch = max(1, min(n_boot, max_cells // max(n, 1)))
    done = 0
    while done < n_boot:
        b = min(batch, n_boot - done)
        idx = rng.integers(0, n, (b, n)) + (np.arange(b) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        done += b


def _bootstrap(fn, n: int, n_boot: int, alpha: float, seed: int) -> dict:
    """``fn(weights)`` -> {name: values}: the point (weights None) and percentile CI of each."""
    point = fn(None)
    draws = {k: [] for k in point}
    for W in resample_weights(n, n_boot, seed):
        for k, v in fn(W).items():
            draws[k].append(v)
    return {k: _interval(point[k], np.concatenate(draws[k]), n_boot, alpha) for k in point}


def classification_cis(Y_true, Y_pred, multi_label: bool, *, n_boot: int = 1000, alpha: float = 0.05,
                       seed: int = 0, labels_idx=None) -> dict:
    """{metric: {value, ci_low, ci_high, ...}} for the headline metrics (see
    :func:`classification_headline`); ``value`` equals the metric on the full arrays."""
    return _bootstrap(lambda W: classification_headline(Y_true, Y_pred, multi_label, W, labels_idx),
                      len(Y_true), n_boot, alpha, seed)


def regression_cis(Y_true, Y_pred, names=("valence", "arousal", "dominance"), *, n_boot: int = 1000,
                   alpha: float = 0.05, seed: int = 0) -> dict:
    """{dimension: CI of Pearson r} for each dimension with at least two labelled items."""
    Y_true, Y_pred = np.asarray(Y_true, float), np.asarray(Y_pred, float)
    out = {}
    for j, name in enumerate(names):
        ok = np.isfinite(Y_true[:, j])
        if ok.sum() < 2:
            continue
        t, p = Y_true[ok, j], Y_pred[ok, j]

        def fn(W, t=t, p=p):
            r = pearson_weighted(t, p, W)
            return {"pearson_r": float(r[0]) if W is None else r}
        out[name] = _bootstrap(fn, len(t), n_boot, alpha, seed)["pearson_r"]
    return out


def macro_f1_fn(multi_label: bool):
    """``f(Y_true, Y_pred)`` -> macro-F1 of 0/1 matrices, as :func:`classification_headline` defines it."""
    def f(yt, yp):
        return classification_headline(yt, yp, multi_label)["macro_f1"]
    return f
