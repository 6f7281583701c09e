"""Any user table: CSV, TSV or JSONL with a text column and label column(s).

* one label column, optionally multi-label with ``label_sep`` (e.g. ``"joy|love"``);
* or several 0/1 label columns (one per label, multi-label);
* or numeric ``valence``/``arousal``/``dominance`` columns (regression).

``path`` is a file, or a folder with ``train``/``dev``/``test`` files of one type. A single
file is split by its ``split`` column when it has one, else 80/10/10 (stratified when the labels
allow, seeded). Such made-up splits are marked ``info["split_source"] == "random"``: evaluation
then scores every row unless a split is asked for, and training cross-validates when the random
test split would be too small (see :mod:`affekt.training.pipeline`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import DIMENSIONS, LabelSpace, get_label_space
from affekt.datasets.base import Dataset

SUFFIXES = (".csv", ".tsv", ".jsonl")


def _read(p: Path) -> pd.DataFrame:
    try:
        if p.suffix == ".jsonl":
            return pd.read_json(p, lines=True, dtype=False)
        return pd.read_csv(p, sep="\t" if p.suffix == ".tsv" else ",", keep_default_na=False,
                           encoding="utf-8", dtype=str)
    except UnicodeDecodeError:
        raise DataError(f"'{p}' is not UTF-8 text") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"'{p}' cannot be read as {p.suffix[1:].upper()}: {exc}") from None


def _files(path: Path) -> dict[str, Path]:
    if path.is_file():
        if path.suffix not in SUFFIXES:
            raise DataError(f"'{path}': use a .csv, .tsv or .jsonl table")
        return {"_all": path}
    if not path.is_dir():
        raise DataError(f"'{path}' does not exist")
    found = {}
    for split in ("train", "dev", "val", "test"):
        for suf in SUFFIXES:
            if (path / f"{split}{suf}").is_file():
                found["dev" if split == "val" else split] = path / f"{split}{suf}"
    if "train" not in found:
        raise DataError(f"'{path}' has no train.csv / train.tsv / train.jsonl")
    return found


def load(path, *, text_column: str = "text", label_columns=("label",), label_sep: str | None = None,
         split_column: str = "split", group_column: str | None = None,
         label_space: str | LabelSpace | None = None, seed: int = 0, votes: bool = False) -> Dataset:
    """``votes``: several label columns hold counts (how many annotators chose each label), not 0/1:
    the rows get a ``votes`` column and their plurality label (``affekt train --label-mode``)."""
    path = Path(path)
    frames = {s: _read(p) for s, p in _files(path).items()}
    label_columns = list(label_columns)
    for s, df in frames.items():
        need = [text_column, *label_columns] + ([group_column] if group_column else [])
        missing = [c for c in need if c not in df.columns]
        if missing:
            raise DataError(f"'{_files(path)[s]}' has no column(s) {', '.join(missing)} "
                            f"(columns: {', '.join(map(str, df.columns))})")
    split_source = "given"
    if "_all" in frames:
        df = frames.pop("_all")
        if not len(df):
            raise DataError(f"'{path}' has no rows")
        if split_column in df.columns:
            frames = {str(s): part.reset_index(drop=True) for s, part in df.groupby(split_column)}
            if "val" in frames:
                frames["dev"] = frames.pop("val")
        else:
            frames = _random_split(df, label_columns, seed)
            split_source = "random"
    info = {"source": str(path), "split_source": split_source}
    if split_source == "random":
        info["split_seed"] = seed
    regression = set(label_columns) <= set(DIMENSIONS) or label_columns == ["V", "A", "D"]
    out = {}
    for s, df in frames.items():
        df = df.copy()
        df["text"] = df[text_column].astype(str)
        if regression:
            for c, d in zip(label_columns, DIMENSIONS if label_columns == ["V", "A", "D"] else label_columns):
                try:
                    df[d] = pd.to_numeric(df[c])
                except ValueError:
                    raise DataError(f"split '{s}': column '{c}' must hold numbers") from None
            for d in DIMENSIONS:
                if d not in df.columns:
                    df[d] = np.nan
        elif len(label_columns) == 1:
            col = df[label_columns[0]].astype(str).str.strip()
            df["labels"] = [[x.strip() for x in v.split(label_sep) if x.strip()] if label_sep else [v] for v in col]
            empty = [i for i, v in enumerate(df["labels"]) if not v or v == [""]]
            if empty:
                raise DataError(f"split '{s}': row {empty[0]} has an empty label in column '{label_columns[0]}'")
        elif votes:
            from affekt.annotation.votes import from_counts

            C = from_counts(df.assign(_item=np.arange(len(df)).astype(str)), "_item", label_columns,
                            source=f"'{path}' (split {s})").counts
            if (C.sum(1) == 0).any():
                raise DataError(f"split '{s}': row {int(np.flatnonzero(C.sum(1) == 0)[0]) + 2} has no votes")
            df["votes"] = [list(map(int, v)) for v in C]
            df["labels"] = [[label_columns[int(np.argmax(v))]] for v in C]  # ties: the first; see --label-mode
            if s == "test":  # a test item is scored against one label: a tie has none, and is left out
                tie = (C == C.max(1, keepdims=True)).sum(1) > 1
                df = df[~tie]
                info_ties = int(tie.sum())
                if info_ties:
                    import warnings

                    warnings.warn(f"split 'test': {info_ties} item(s) whose votes tie are left out (no one label to "
                                  "score them against)", stacklevel=2)
        else:
            M = df[label_columns].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy() > 0
            df["labels"] = [[c for c, on in zip(label_columns, row) if on] for row in M]
        out[s] = df.reset_index(drop=True)
    if regression:
        return Dataset(path.stem, out, "regression", None, group=group_column, info=info)
    all_labels = sorted({lab for df in out.values() for labs in df["labels"] for lab in labs})
    multi = bool(label_sep) or (len(label_columns) > 1 and not votes)
    if votes and len(label_columns) > 1:
        info["vote_labels"] = tuple(label_columns)
        space = LabelSpace(path.stem if path.is_file() else path.name, tuple(label_columns), multi_label=False)
        return Dataset(space.name, out, "classification", space, group=group_column, info=info)
    if label_space is not None:
        space = get_label_space(label_space)
        space.validate(all_labels, where=str(path))
    else:
        space = LabelSpace(path.stem if path.is_file() else path.name, tuple(all_labels), multi_label=multi)
    return Dataset(space.name, out, "classification", space, group=group_column, info=info)


def _random_split(df: pd.DataFrame, label_columns: list[str], seed: int) -> dict[str, pd.DataFrame]:
    """80/10/10 train/dev/test, stratified by the label column when every label has enough rows.

    Works on tables of any size: dev and test get at least one row each when there are three
    or more rows; with fewer, every row is in ``train``.
    """
    from sklearn.model_selection import train_test_split

    n = len(df)
    if n < 3:
        return {"train": df.reset_index(drop=True)}
    n_hold = max(1, int(round(0.1 * n)))
    col = label_columns[0] if len(label_columns) == 1 else None

    def cut(frame: pd.DataFrame, size: int):
        strat = None
        if col is not None:
            counts = frame[col].value_counts()
            if counts.min() >= 2 and size >= len(counts) and len(frame) - size >= len(counts):
                strat = frame[col]
        return train_test_split(frame, test_size=size, random_state=seed, stratify=strat)

    rest, test = cut(df, n_hold)
    train, dev = cut(rest, n_hold)
    return {"train": train.reset_index(drop=True), "dev": dev.reset_index(drop=True),
            "test": test.reset_index(drop=True)}
