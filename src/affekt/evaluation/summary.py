"""The lines ``affekt train`` and ``affekt evaluate`` print: every headline figure with its 95% CI
and the number of items it rests on, so that tiny data cannot look more solid than it is.

    test (n=6): macro_f1 0.667 [95% CI 0.17 to 1.00], balanced_accuracy 0.700 [95% CI 0.33 to 1.00], ...
    kfold 5-fold macro_f1 0.612 ± 0.081, balanced_accuracy ... (mean ± std over 5 folds; pooled n=60; rows: all)

Warnings (too few items, dev-tuned settings that rest on a handful of rows) are not part of these
lines: they are the one-line strings in ``results["warnings"]``.
"""
from __future__ import annotations

HEADLINE_CLASSIFICATION = {False: ("macro_f1", "balanced_accuracy", "accuracy"), True: ("macro_f1", "micro_f1")}
DIMENSIONS = ("valence", "arousal", "dominance")


def _figure(name: str, value: float, ci: dict | None) -> str:
    if ci and ci.get("ci_low") == ci.get("ci_low"):  # not nan
        return f"{name} {value:.3f} [95% CI {ci['ci_low']:.2f} to {ci['ci_high']:.2f}]"
    return f"{name} {value:.3f}"


def evaluation_line(m: dict, split: str | None = None) -> str:
    """One evaluation result (from :func:`affekt.evaluation.evaluate.evaluate`) as one line."""
    split = split or m.get("split") or "evaluation"
    where = "all rows" if split == "all" else split
    extra = ", random split" if m.get("split_source") == "random" and split != "all" else ""
    figures = []
    if "multi_label" in m:
        for key in HEADLINE_CLASSIFICATION[bool(m["multi_label"])]:
            if isinstance(m.get(key), float):
                figures.append(_figure(key, m[key], m.get(f"{key}_ci")))
    if m.get("multi_label") and isinstance(m.get("mAP"), float):  # multi-label: the mean average precision too
        figures.append(f"mAP {m['mAP']:.3f}")
    for d in DIMENSIONS:
        if isinstance(m.get(d), dict):
            figures.append(_figure(f"{d}_pearson_r", m[d]["pearson_r"], m[d].get("pearson_r_ci")))
    dims = m.get("dimensions")  # a categorical model that also gives V/A/D: their mean absolute errors
    if isinstance(dims, dict) and all(isinstance(dims.get(d), dict) for d in DIMENSIONS):
        figures.append("V/A/D MAE " + " / ".join(f"{dims[d]['mae']:.2f}" for d in DIMENSIONS))
    line = f"{where} (n={m.get('n', '?')}{extra}): " + ", ".join(figures)
    if m.get("shared_only"):
        line += (f"; scored on the shared labels {', '.join(m.get('shared_labels', []))}"
                 f" ({m.get('n_dropped', 0)} items with other labels left out)")
    return line


def cv_lines(cv: dict) -> list[str]:
    """Cross-validation: mean ± std over the folds of each headline figure, with the pooled n."""
    multi = bool(cv.get("pooled", {}).get("multi_label"))
    keys = HEADLINE_CLASSIFICATION[multi] + tuple(f"{d}_pearson_r" for d in DIMENSIONS)
    figs = [f"{k} {cv[k]['mean']:.3f} ± {cv[k]['std']:.3f}" for k in keys if isinstance(cv.get(k), dict)]
    k = cv.get("k")
    tail = f"mean ± std over {k} folds"
    if "n" in cv:
        tail += f"; pooled n={cv['n']}"
    if cv.get("rows"):
        tail += f"; rows: {cv['rows']}"
    if cv.get("protocol") == "loco" and cv.get("by_corpus"):
        return loco_lines(cv)
    lines = [f"{cv.get('protocol', 'cv')} {k}-fold " + ", ".join(figs) + f" ({tail})"]
    for attr, groups in cv.get("by_attribute", {}).items():
        for g, d in groups.items():
            if "balanced_accuracy" in d:
                lines.append(f"  {attr}={g}: balanced_accuracy {d['balanced_accuracy']['mean']:.3f} "
                             f"± {d['balanced_accuracy']['std']:.3f}")
    return lines


def loco_lines(cv: dict) -> list[str]:
    """The leave-one-corpus-out matrix: one line per held-out corpus (UAR and macro-F1 on its own
    labels, per gender where known), then the means."""
    rows = cv["by_corpus"]
    w = max([len("held out")] + [len(c) for c in rows])
    lines = ["leave-one-corpus-out: trained on the other corpora, scored on each held-out corpus's own labels",
             f"  {'held out':<{w}}  {'n':>6}  {'UAR':>5}  {'macro-F1':>8}  labels"]
    for c, r in rows.items():
        line = (f"  {c:<{w}}  {r['n']:>6}  {r['balanced_accuracy']:.3f}  {r['macro_f1']:>8.3f}  "
                f"{len(r.get('labels_own', []))}")
        for attr, groups in r.get("by_attribute", {}).items():
            line += "  " + " ".join(f"{attr}={g}: UAR {d['balanced_accuracy']:.3f}" for g, d in groups.items()
                                    if isinstance(d.get("balanced_accuracy"), float))
        lines.append(line)
    ua, mf = cv.get("balanced_accuracy", {}), cv.get("macro_f1", {})
    if ua and mf:
        lines.append(f"  {'mean':<{w}}  {'':>6}  {ua['mean']:.3f}  {mf['mean']:>8.3f}  "
                     f"(worst held-out UAR {min(ua['folds']):.3f})")
    return lines


def summary_lines(results: dict) -> list[str]:
    """The lines to print for a results dict from :func:`affekt.training.pipeline.train` (test
    figures, cross-validation, how the model was evaluated) or from
    :func:`affekt.evaluation.evaluate.evaluate` (one line)."""
    if "test" not in results and "cv" not in results and "family" not in results:
        return [evaluation_line(results)]
    lines = []
    if results.get("evaluated_by"):
        lines.append(results["evaluated_by"])
    if "test" in results:
        lines.append(evaluation_line(results["test"], "test"))
    if "cv" in results:
        lines += cv_lines(results["cv"])
    ew = results.get("ensemble_weights")
    if ew:
        lines.append(f"ensemble weights {ew['weights']}: {ew['chosen_on']}")
    return lines
