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

    def split(self, name) -> pd.DataFrame:
        """One split by name; ``"all"`` for every row; a list/tuple of names for those splits together."""
        if isinstance(name, (list, tuple)):
            return pd.concat([self.split(n) for n in name], ignore_index=True)
        if name == "all":
            return pd.concat(list(self.splits.values()), ignore_index=True)
        if name not in self.splits:
            raise DataError(f"dataset '{self.name}' has no split '{name}' (splits: {', '.join(self.splits)}, all)")
        return self.splits[name]

    def xy(self, split, *, targets: bool = False):
        """(inputs, labels) of a split. ``targets``: a split relabelled by ``--label-mode soft`` gives
        its vote distributions, an (n, labels) float array, instead (what a model learns from)."""
        df = self.split(split)
        X = df[self.input_column].tolist()
        if self.task == "regression":
            return X, df[list(DIMENSIONS)].to_numpy(dtype=np.float32)
        if targets and "targets" in df.columns and df["targets"].notna().all():
            return X, np.array(df["targets"].tolist(), dtype=np.float32)
        return X, df["labels"].tolist()

    @property
    def split_source(self) -> str:
        """``"given"`` when the splits came with the data (the corpus's own files, a ``split``
        column, train/dev/test files); ``"random"`` when affekt made them up (a table without a
        split column is split 80/10/10 at random); ``"none"`` when there is only ``all``."""
        if set(self.splits) <= {"all"}:
            return "none"
        return self.info.get("split_source", "given")

    @property
    def splits_made_up(self) -> bool:
        return self.split_source == "random"

    def default_eval_split(self) -> str:
        """The split an evaluation should score unless told otherwise: the test split when the
        data came with one, else every row (made-up splits would score a random 10%)."""
        if "test" in self.splits and self.split_source == "given":
            return "test"
        return "all"

    def non_test_splits(self) -> list[str]:
        """The splits a model may learn from or be cross-validated on: all but ``test``."""
        return [s for s in self.splits if s != "test"]

    @property
    def dev_split(self) -> str | None:
        for s in ("dev", "val", "validation"):
            if s in self.splits:
                return s
        return None

    def summary(self) -> dict:
        return {"name": self.name, "task": self.task,
                "label_space": self.label_space.name if self.label_space else None,
                "splits": {k: len(v) for k, v in self.splits.items()}, "split_source": self.split_source}


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
