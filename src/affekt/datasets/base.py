"""The shape every dataset loader returns."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import DIMENSIONS, LabelSpace


@dataclass
class Dataset:
    """Splits of one corpus as DataFrames.

    Classification: column ``labels`` holds a list of label names per row (one for
    single-label data). Regression: columns ``valence``, ``arousal``, ``dominance``.
    ``group`` names a column to group by in cross-validation (speaker, author...); ``folds``
    a column of predefined fold ids (RAVDESS's six groups of four actors, for example).
    """

    name: str
    splits: dict[str, pd.DataFrame]
    task: str  # "classification" | "regression"
    label_space: LabelSpace | None = None
    input_column: str = "text"
    group: str | None = None
    folds: str | None = None  # column holding each row's predefined cross-validation fold
    info: dict = field(default_factory=dict)

    def split(self, name: str) -> pd.DataFrame:
        if name == "all":
            return pd.concat(list(self.splits.values()), ignore_index=True)
        if name not in self.splits:
            raise DataError(f"dataset '{self.name}' has no split '{name}' (splits: {', '.join(self.splits)}, all)")
        return self.splits[name]

    def xy(self, split: str):
        df = self.split(split)
        X = df[self.input_column].tolist()
        if self.task == "regression":
            return X, df[list(DIMENSIONS)].to_numpy(dtype=np.float32)
        return X, df["labels"].tolist()

    @property
    def dev_split(self) -> str | None:
        for s in ("dev", "val", "validation"):
            if s in self.splits:
                return s
        return None

    def summary(self) -> dict:
        return {"name": self.name, "task": self.task,
                "label_space": self.label_space.name if self.label_space else None,
                "splits": {k: len(v) for k, v in self.splits.items()}}


def need_file(data_dir: Path, name: str, dataset: str, hint: str = "") -> Path:
    p = Path(data_dir) / name
    if not p.is_file():
        raise DataError(f"{dataset}: '{p}' not found{'; ' + hint if hint else ''}")
    return p


def need_dir(data_dir) -> Path:
    p = Path(data_dir)
    if not p.is_dir():
        raise DataError(f"data folder '{p}' does not exist")
    return p
