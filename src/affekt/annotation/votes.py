"""Vote tables: what many annotators said about each item, read and checked.

Two shapes, as annotation data comes:

* a **count table**: one row per item, one column per label holding how many annotators chose it
  (FER+'s ``fer2013new.csv``, CREMA-D's ``tabulatedVotes.csv``). Rater identities are unknown.
* an **answer table**: one row per answer, ``item, annotator, label`` (what ``affekt annotate
  export`` writes). It turns into a count table, and keeps who said what for the methods that model
  annotators (Cohen's kappa per pair, Dawid-Skene, MACE, GLAD).

Every problem is a :class:`~affekt.core.errors.DataError` naming the file, the column and the rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError

MISSING_ANNOTATOR = ("", "nan", "none", "null")


@dataclass
class Votes:
    """Per-item label counts (``counts``: items x labels), and the answers behind them where known.

    ``answers``: a frame ``item, annotator, label`` (single-label answers; ``None`` for count
    tables). ``source``: where the table came from (for messages)."""

    items: np.ndarray
    labels: tuple[str, ...]
    counts: np.ndarray
    answers: pd.DataFrame | None = None
    source: str = "votes"
    extra: pd.DataFrame | None = field(default=None, repr=False)  # the table's other columns, per item
    raters: np.ndarray | None = None  # multi-label answers: annotators per item (the counts are per label)

    @property
    def n_answers(self) -> np.ndarray:
        return self.counts.sum(1)

    def enough(self, minimum: int = 2) -> np.ndarray:
        """Items with at least ``minimum`` answers."""
        return self.n_answers >= minimum

    def subset(self, mask: np.ndarray) -> Votes:
        keep = set(self.items[mask].tolist())
        ans = None if self.answers is None else self.answers[self.answers["item"].isin(keep)].reset_index(drop=True)
        ext = None if self.extra is None else self.extra[mask].reset_index(drop=True)
        return Votes(self.items[mask], self.labels, self.counts[mask], ans, self.source, ext,
                     None if self.raters is None else self.raters[mask])

    def shares(self) -> np.ndarray:
        """Each item's vote distribution (rows sum to 1; NaN for an item without answers)."""
        n = self.n_answers[:, None].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.counts / n, np.nan)


def _read_table(path, what: str) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise DataError(f"{what} '{p}' does not exist")
    if p.is_dir():
        raise DataError(f"{what} '{p}' is a folder; give the table file (CSV, TSV, optionally .gz)")
    name = p.name.lower().removesuffix(".gz")
    sep = "\t" if name.endswith((".tsv", ".tab")) else ","
    try:
        if name.endswith(".jsonl"):
            return pd.read_json(p, lines=True, dtype=False)
        return pd.read_csv(p, sep=sep, dtype=str, keep_default_na=False)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError, OSError, EOFError) as exc:
        raise DataError(f"{what} '{p}' cannot be read as a table: {exc}") from None


def _need_columns(df: pd.DataFrame, cols, where: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns[:30]))
        raise DataError(f"{where}: no column(s) {', '.join(map(repr, missing))} (the table has: {have})")


def _rows(idx) -> str:
    idx = list(idx)
    shown = ", ".join(str(i) for i in idx[:5])
    return f"row{'s' if len(idx) > 1 else ''} {shown}{' ...' if len(idx) > 5 else ''}"


def from_counts(df: pd.DataFrame, item_column: str | None, label_columns, *, source: str = "count table") -> Votes:
    """A count table (one row per item, one column of counts per label) -> :class:`Votes`.

    ``item_column``: the column naming the items (``None``: an ``item`` column if there is one, else
    the rows are the items, named ``row2``, ``row3``... by their line in the file). Counts must be
    non-negative integers; an item listed twice is an error (merge them first)."""
    label_columns = [c for c in label_columns]
    if not label_columns:
        raise DataError(f"{source}: no label columns given")
    if len(set(label_columns)) != len(label_columns):
        raise DataError(f"{source}: a label column is named twice in {label_columns}")
    if item_column is None:
        if "item" in df.columns:
            item_column = "item"
        else:
            df = df.assign(_row=[f"row{i + 2}" for i in range(len(df))])
            item_column = "_row"
    _need_columns(df, [item_column, *label_columns], source)
    C = np.zeros((len(df), len(label_columns)), dtype=np.int64)
    for j, col in enumerate(label_columns):
        raw = df[col]
        num = pd.to_numeric(raw.astype(str).str.strip().replace("", "0"), errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(num))
        if len(bad):
            raise DataError(f"{source}: column '{col}' has values that are not numbers at {_rows(bad + 2)} "
                            f"(e.g. {raw.iloc[bad[0]]!r}); counts must be whole numbers >= 0")
        neg = np.flatnonzero(num < 0)
        if len(neg):
            raise DataError(f"{source}: column '{col}' has negative counts at {_rows(neg + 2)} "
                            f"(e.g. {num[neg[0]]:g}); counts must be whole numbers >= 0")
        frac = np.flatnonzero(num != np.round(num))
        if len(frac):
            raise DataError(f"{source}: column '{col}' has non-integer counts at {_rows(frac + 2)} "
                            f"(e.g. {num[frac[0]]:g}); counts must be whole numbers >= 0 (vote shares? "
                            "give the counts)")
        C[:, j] = num.astype(np.int64)
    items = df[item_column].astype(str).str.strip().to_numpy()
    empty = np.flatnonzero((items == "") | df[item_column].isna().to_numpy())
    if len(empty):
        raise DataError(f"{source}: {len(empty)} row(s) have no item id in column '{item_column}' "
                        f"({_rows(empty + 2)}); fill them in, or leave out --item-column to name items by row")
    dup = pd.Series(items).duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(f"{source}: item {items[dup][0]!r} appears on {int((items == items[dup][0]).sum())} rows "
                        f"of column '{item_column}'; one row per item in a count table")
    extra = df.drop(columns=list(label_columns)).reset_index(drop=True)
    return Votes(items, tuple(map(str, label_columns)), C, None, source, extra)


def from_answers(df: pd.DataFrame, item_column: str, annotator_column: str, label_column: str, *,
                 labels=None, source: str = "answer table", label_sep: str | None = None) -> Votes:
    """A per-answer table (``item, annotator, label``) -> :class:`Votes` with its answers kept.

    ``labels``: the scheme (a label outside it is an error); default: the labels that occur, sorted.
    Rows whose label is empty (an "unsure" / "not applicable" answer) are left out of the counts.
    ``label_sep``: multi-label answers joined by it are split, one vote per label."""
    _need_columns(df, [item_column, annotator_column, label_column], source)
    ann = df[annotator_column].astype(str).str.strip()
    missing = np.flatnonzero(ann.str.lower().isin(MISSING_ANNOTATOR).to_numpy() | df[annotator_column].isna().to_numpy())
    if len(missing):
        raise DataError(f"{source}: {len(missing)} answer(s) without an annotator id in column "
                        f"'{annotator_column}' ({_rows(missing + 2)})")
    items = df[item_column].astype(str).str.strip()
    no_item = np.flatnonzero((items == "").to_numpy() | df[item_column].isna().to_numpy())
    if len(no_item):
        raise DataError(f"{source}: {len(no_item)} answer(s) without an item in column '{item_column}' "
                        f"({_rows(no_item + 2)})")
    lab = df[label_column].astype(str).str.strip().where(df[label_column].notna(), "")
    frame = pd.DataFrame({"item": items, "annotator": ann, "label": lab, "_row": np.arange(len(df)) + 2})
    twice = frame.duplicated(["item", "annotator"], keep=False).to_numpy()
    if twice.any():
        first = frame[twice].iloc[0]
        rows = frame[twice & (frame["item"] == first["item"]).to_numpy() & (frame["annotator"] == first["annotator"]).to_numpy()]
        raise DataError(f"{source}: annotator {first['annotator']!r} answered item {first['item']!r} more than once "
                        f"({_rows(rows['_row'])}); keep one answer per annotator and item (multi-label answers: one row, "
                        "the labels joined, with --label-sep)")
    if label_sep:
        frame["label"] = frame["label"].str.split(label_sep)
        frame = frame.explode("label")
        frame["label"] = frame["label"].str.strip()
    frame = frame[frame["label"] != ""]
    if labels is None:
        labels = tuple(sorted(frame["label"].unique()))
    labels = tuple(labels)
    outside = ~frame["label"].isin(labels)
    if outside.any():
        bad = frame[outside]
        raise DataError(f"{source}: label {bad['label'].iloc[0]!r} (column '{label_column}', "
                        f"{_rows(bad['_row'])}) is not in the scheme: {', '.join(labels)}")
    if not len(frame):
        raise DataError(f"{source}: no answers with a label")
    order = pd.unique(items)
    ct = pd.crosstab(frame["item"], frame["label"]).reindex(index=order, columns=list(labels), fill_value=0)
    answers = frame.drop(columns="_row").reset_index(drop=True)
    votes = Votes(np.asarray(order, dtype=str), labels, ct.to_numpy(dtype=np.int64), answers, source)
    if label_sep:  # several labels per answer: shares are per annotator, not per vote
        raters = frame.groupby("item")["annotator"].nunique().reindex(order, fill_value=0).to_numpy()
        votes.raters = raters
    return votes


def read_counts(path, item_column: str | None, label_columns) -> Votes:
    return from_counts(_read_table(path, "count table"), item_column, label_columns, source=str(path))


def read_answers(path, item_column: str, annotator_column: str, label_column: str, *, labels=None,
                 label_sep: str | None = None) -> Votes:
    return from_answers(_read_table(path, "answer table"), item_column, annotator_column, label_column,
                        labels=labels, source=str(path), label_sep=label_sep)


def reliability_matrix(votes: Votes) -> tuple[np.ndarray, list[str]]:
    """(annotators x items) label indices (NaN where an annotator did not answer): Krippendorff's
    reliability data. Needs the answers (an answer table)."""
    if votes.answers is None:
        raise DataError(f"{votes.source}: this needs who answered what (an answer table with an annotator column)")
    a = votes.answers.drop_duplicates(["item", "annotator"], keep="last")
    annotators = sorted(a["annotator"].unique())
    R = np.full((len(annotators), len(votes.items)), np.nan)
    pos = {it: i for i, it in enumerate(votes.items)}
    lab = {lab: j for j, lab in enumerate(votes.labels)}
    who = {w: i for i, w in enumerate(annotators)}
    R[a["annotator"].map(who).to_numpy(), a["item"].map(pos).to_numpy()] = a["label"].map(lab).to_numpy()
    return R, annotators


def rating_matrix(df: pd.DataFrame, item_column: str, annotator_column: str, column: str, items,
                  *, source: str = "answer table") -> np.ndarray:
    """(annotators x items) ratings of one scale (valence, 1-9...) from a per-answer table, NaN where
    an annotator gave none: reliability data for Krippendorff's interval alpha."""
    _need_columns(df, [item_column, annotator_column, column], source)
    val = pd.to_numeric(df[column].replace("", np.nan), errors="coerce")
    bad = np.flatnonzero(val.isna().to_numpy() & df[column].astype(str).str.strip().ne("").to_numpy()
                         & df[column].notna().to_numpy())
    if len(bad):
        raise DataError(f"{source}: column '{column}' has values that are not numbers at {_rows(bad + 2)}")
    frame = pd.DataFrame({"item": df[item_column].astype(str).str.strip(),
                          "annotator": df[annotator_column].astype(str).str.strip(), "v": val}).dropna()
    frame = frame.drop_duplicates(["item", "annotator"], keep="last")
    who = sorted(frame["annotator"].unique())
    pos = {it: i for i, it in enumerate(items)}
    frame = frame[frame["item"].isin(pos)]
    R = np.full((len(who), len(items)), np.nan)
    R[frame["annotator"].map({w: i for i, w in enumerate(who)}).to_numpy(), frame["item"].map(pos).to_numpy()] = frame["v"]
    return R
