"""Results: one :class:`EmotionPrediction` per item, gathered in :class:`Predictions`.

Both are JSON- and pandas-friendly and carry the id of the model that made them.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

from affekt.core.labels import DIMENSIONS


@dataclass
class EmotionPrediction:
    """What a model says about one item (a text, a clip, a face, a segment...).

    ``label`` is the top label, ``labels`` the multi-label decision (for single-label models
    just ``[label]``), ``scores`` a probability per label. ``valence``/``arousal``/``dominance``
    are on the model's dimensional scale (EmoBank's 1-5 for text). ``span`` locates the item
    inside a larger input (time segment, face box); ``segments`` is the timeline of a long input
    (one ``{"start", "end", "label", "scores"}`` per window). ``error`` is set, and no emotion,
    when the item could not be processed (its record echoes a long input only in part).
    ``warnings`` are reasons to trust a prediction less (e.g. a text in a language the model was
    not trained on). ``id`` is the user's own id of the item, passed through to the record.
    ``faces`` (images, unless read whole): one dict per face found, largest first, each with
    ``box`` [x, y, w, h], ``score`` (detection), ``keypoints``, ``label`` and ``scores``;
    ``[]`` when the image holds no face.
    Videos: ``duration`` (s); ``tracks`` (one per person, longest on screen first, each with
    its ``segments``); ``voice`` and ``fused`` (``{"segments": [...]}``). ``frames`` holds the
    per-frame table behind them (for ``--timeline``); it is not written to records.
    """

    input: Any = None
    label: str | None = None
    labels: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    valence: float | None = None
    arousal: float | None = None
    dominance: float | None = None
    span: dict | None = None
    segments: list[dict] | None = None
    model_id: str | None = None
    label_space: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    id: Any = None
    faces: list[dict] | None = None
    duration: float | None = None
    tracks: list[dict] | None = None
    voice: dict | None = None
    fused: dict | None = None
    frames: Any = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        return sorted(self.scores.items(), key=lambda kv: -kv[1])[:k]

    def to_dict(self) -> dict:
        """JSON-ready record; leaves out fields that are empty."""
        d: dict[str, Any] = {} if self.id is None else {"id": self.id}
        if self.error is not None:
            from affekt.io.items import echo

            d["input"], length = echo(self.input)
            if length is not None:
                d["input_length"] = length
            d["error"] = self.error
            if self.span is not None:
                d["span"] = self.span
            return d
        d["input"] = self.input
        if self.duration is not None:
            d["duration"] = self.duration
        for key in ("tracks", "voice", "fused"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        if self.faces is not None:
            d["faces"] = self.faces
        if self.label is not None or self.scores:
            d["label"] = self.label
            d["labels"] = list(self.labels)
            d["scores"] = {k: round(float(v), 6) for k, v in self.scores.items()}
        for dim in DIMENSIONS:
            v = getattr(self, dim)
            if v is not None and not math.isnan(v):
                d[dim] = round(float(v), 4)
        if self.span is not None:
            d["span"] = self.span
        if self.segments is not None:
            d["segments"] = self.segments
        d["model"] = self.model_id
        if self.label_space:
            d["label_space"] = self.label_space
        if self.warnings:
            d["warnings"] = list(self.warnings)
        return d


class Predictions(Sequence[EmotionPrediction]):
    """An ordered batch of :class:`EmotionPrediction`, one per input item."""

    def __init__(self, items: list[EmotionPrediction], *, model_id: str | None = None,
                 label_space: str | None = None):
        self._items = list(items)
        self.model_id = model_id
        self.label_space = label_space

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return Predictions(self._items[i], model_id=self.model_id, label_space=self.label_space)
        return self._items[i]

    def __iter__(self) -> Iterator[EmotionPrediction]:
        return iter(self._items)

    def __repr__(self) -> str:
        return f"Predictions(n={len(self)}, model={self.model_id!r}, label_space={self.label_space!r})"

    @property
    def labels(self) -> list[str | None]:
        return [p.label for p in self._items]

    def to_records(self) -> list[dict]:
        return [p.to_dict() for p in self._items]

    def to_json(self, **kw) -> str:
        return json.dumps(self.to_records(), ensure_ascii=False, **kw)

    def to_jsonl(self, path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            for rec in self.to_records():
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    def to_frame(self):
        """A pandas DataFrame: one row per item, a ``score_<label>`` column per label (images: ``n_faces``,
        and ``label`` is the largest face's)."""
        import pandas as pd

        rows = []
        for p in self._items:
            row = {"id": p.id, "input": p.input, "label": p.label, "labels": "|".join(p.labels),
                   "valence": p.valence, "arousal": p.arousal, "dominance": p.dominance,
                   "model": p.model_id, "error": p.error, "warnings": "; ".join(p.warnings)}
            if p.faces is not None:  # an image's faces: how many, and the largest one's label
                row["n_faces"] = len(p.faces)
                row["label"] = p.faces[0]["label"] if p.faces else None
            row.update({f"score_{k}": v for k, v in p.scores.items()})
            rows.append(row)
        return pd.DataFrame(rows)

    def plot(self, path=None, top: int = 10):
        """Bar chart of the mean score per label over the batch (saved to ``path`` if given)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        df = self.to_frame()
        cols = [c for c in df.columns if c.startswith("score_")]
        means = df[cols].mean().sort_values(ascending=False).head(top)
        fig, ax = plt.subplots(figsize=(6, 0.35 * len(means) + 1))
        ax.barh([c[6:] for c in means.index][::-1], means.values[::-1])
        ax.set_xlabel("mean score")
        ax.set_title(f"{self.model_id or 'predictions'} (n={len(self)})")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
            plt.close(fig)
        return fig
