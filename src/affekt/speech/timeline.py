"""Timelines of speech predictions: one row per utterance window (start, end, label, scores),
written as CSV, JSONL or a PNG plot (``affekt analyze clip.wav --timeline out.png``)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from affekt.core.errors import InputError
from affekt.core.types import EmotionPrediction

TIMELINE_SUFFIXES = (".csv", ".jsonl", ".png")


def timeline_rows(pred: EmotionPrediction) -> list[dict]:
    """The windows of a prediction (a short clip is one window spanning its speech)."""
    if pred.error:
        return []
    if pred.segments:
        return [dict(s) for s in pred.segments]
    span = pred.span or {"start": 0.0, "end": 0.0}
    return [{"start": span["start"], "end": span["end"], "label": pred.label,
             "scores": {k: round(v, 4) for k, v in pred.scores.items()}}]


def timeline_target(pred: EmotionPrediction, path) -> tuple[Path, str]:
    """``(path, suffix)`` of a timeline file to write for ``pred``; a clear error for a format
    affekt does not write or a record without a timeline (speech and video alike)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TIMELINE_SUFFIXES:
        raise InputError(f"timeline '{path}': unsupported format '{suffix or '(none)'}' (use {', '.join(TIMELINE_SUFFIXES)})")
    if pred.error:
        raise InputError(f"no timeline for '{pred.input}': {pred.error}")
    return path, suffix


def write_timeline(pred: EmotionPrediction, path) -> Path:
    """Write the timeline of ``pred`` to ``path``; the format follows the suffix."""
    path, suffix = timeline_target(pred, path)
    rows = timeline_rows(pred)
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = list(pred.scores)
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["start", "end", "label", *labels])
            for r in rows:
                w.writerow([r["start"], r["end"], r["label"], *(r["scores"].get(lab, "") for lab in labels)])
    elif suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps({"input": pred.input, **r}) + "\n")
    else:
        _plot(pred, rows, labels, path)
    return path


def _plot(pred: EmotionPrediction, rows: list[dict], labels: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    cmap = plt.get_cmap("tab10")
    colour = {lab: cmap(i % 10) for i, lab in enumerate(labels)}
    fig, (ax, strip) = plt.subplots(2, 1, figsize=(11, 4.2), sharex=True,
                                    gridspec_kw={"height_ratios": [4, 0.6]})
    mids = np.array([(r["start"] + r["end"]) / 2 for r in rows])
    for lab in labels:
        ax.plot(mids, [r["scores"].get(lab, 0.0) for r in rows], marker="o" if len(rows) < 60 else None,
                ms=3, lw=1.4, color=colour[lab], label=lab)
    ax.set_ylabel("probability")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(ncol=min(len(labels), 8), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, 1.18), frameon=False)
    for r in rows:
        strip.axvspan(r["start"], r["end"], color=colour.get(r["label"], "grey"), alpha=0.9, lw=0)
    strip.set_yticks([])
    strip.set_xlabel("time (s); bottom strip = winning emotion per speech window, gaps = no speech")
    end = max(r["end"] for r in rows)
    strip.set_xlim(0, end if end > 0 else 1)
    fig.suptitle(f"{Path(str(pred.input)).name} ({pred.model_id})", y=1.02, fontsize=10)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
