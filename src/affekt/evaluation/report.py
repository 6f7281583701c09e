"""Evaluation reports: metrics.json, report.md, confusion-matrix PNG, per-class F1 bar chart."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def to_jsonable(o):
    """json.dumps default= for numpy scalars and arrays."""
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"{type(o).__name__} is not JSON serializable")


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def confusion_figure(cm: np.ndarray, labels: list[str]):
    """A confusion matrix (rows: true, columns: predicted; colour: row-normalised) as a figure
    wide enough for its title whatever the number of labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    n = len(labels)
    fig, ax = plt.subplots(figsize=(max(4.5, 1.5 + 0.6 * n), max(3.5, 1.2 + 0.55 * n)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), labels, rotation=45, ha="right")
    ax.set_yticks(range(n), labels)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center",
                    color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("confusion matrix\n(colour: row-normalised)", fontsize=10)
    fig.tight_layout()
    return fig


def _plots(metrics: dict, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    labels = metrics.get("labels", [])
    if metrics.get("confusion_matrix"):
        fig = confusion_figure(np.asarray(metrics["confusion_matrix"], dtype=float), labels)
        fig.savefig(out / "confusion_matrix.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        made.append("confusion_matrix.png")
    if metrics.get("multilabel_confusion"):
        mc = np.asarray(metrics["multilabel_confusion"], dtype=float)  # (L, 2, 2)
        cols = ["TP", "FN", "FP"]
        counts = np.stack([mc[:, 1, 1], mc[:, 1, 0], mc[:, 0, 1]], axis=1)
        support = np.maximum(mc[:, 1, :].sum(1, keepdims=True), 1)
        fig, ax = plt.subplots(figsize=(5.5, 0.32 * len(labels) + 1.8))
        ax.imshow(counts / support, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(3), cols)
        ax.set_yticks(range(len(labels)), labels)
        for i in range(len(labels)):
            for j in range(3):
                ax.text(j, i, int(counts[i, j]), ha="center", va="center", fontsize=7)
        ax.set_title("per-label confusion\n(colour: count / positives)", fontsize=10)
        fig.tight_layout()
        fig.savefig(out / "confusion_matrix.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        made.append("confusion_matrix.png")
    if metrics.get("per_class"):
        pc = metrics["per_class"]
        # the labels the macro-F1 averages over (in the truth); labels only predicted have F1 0 by
        # construction and are listed in report.md instead of drawn as measured zeros
        names = [n for n in pc if n in metrics.get("labels_scored", pc)]
        f1 = [pc[n]["f1"] for n in names]
        fig, ax = plt.subplots(figsize=(7, 0.3 * len(names) + 1.2))
        ax.barh(names[::-1], f1[::-1], color="#4c72b0")
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1")
        ax.set_title(f"per-class F1 (macro-F1 {metrics.get('macro_f1', float('nan')):.3f})")
        fig.tight_layout()
        fig.savefig(out / "per_class_f1.png", dpi=120, bbox_inches="tight")
        plt.close(fig)
        made.append("per_class_f1.png")
    return made


def write_report(metrics: dict, out_dir, title: str = "affekt evaluation") -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, default=to_jsonable))
    lines = [f"# {title}", ""]
    for key in ("model", "dataset", "split", "split_source", "label_space", "n"):
        if key in metrics:
            lines.append(f"- **{key}**: {metrics[key]}")
    if metrics.get("shared_labels"):
        lines.append(f"- **scored on the shared labels**: {', '.join(metrics['shared_labels'])} "
                     f"({metrics.get('n_dropped', 0)} items with other labels left out)")
    for w in metrics.get("warnings", []):
        lines.append(f"- **warning**: {w}")
    lines += ["", "| metric | value |", "|---|---|"]
    for k, v in metrics.items():
        if isinstance(v, float):
            lines.append(f"| {k} | {_fmt(v)} |")
        elif isinstance(v, dict) and "ci_low" in v:
            lines.append(f"| {k} | {v['value']:.4f} [{v['ci_low']:.4f}, {v['ci_high']:.4f}] |")
    for dim in ("valence", "arousal", "dominance"):
        if isinstance(metrics.get(dim), dict):
            d = metrics[dim]
            lines.append(f"| {dim} Pearson r / MAE / CCC | {d['pearson_r']:.4f} / {d['mae']:.4f} / {d['ccc']:.4f} |")
    if metrics.get("per_class"):
        lines += ["", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
        for lab, d in metrics["per_class"].items():
            lines.append(f"| {lab} | {d['precision']:.3f} | {d['recall']:.3f} | {d['f1']:.3f} | {d['support']} |")
        if metrics.get("labels_predicted_not_in_truth"):
            lines += ["", "Predicted but absent from the truth (F1 0 by construction, not in the macro averages): "
                      + ", ".join(metrics["labels_predicted_not_in_truth"]) + "."]
        if metrics.get("labels_absent"):
            lines += ["", "Neither in the truth nor predicted (nothing measured, no row): "
                      + ", ".join(metrics["labels_absent"]) + "."]
    for png in _plots(metrics, out):
        lines += ["", f"![{png}]({png})"]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return out
