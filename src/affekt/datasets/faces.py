"""Face-expression corpora: FER2013 (folder layout + ``labels.csv``), FER+ (10 votes per FER2013
image), and a user's own faces (a folder per label, or a CSV of ``path,label``).

Datasets hold image paths (column ``path``); models decode them (:mod:`affekt.face.images`).
:func:`fer2013_arrays` decodes the whole corpus once into a uint8 array for training scripts.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import EKMAN, FERPLUS, LabelSpace
from affekt.datasets.base import Dataset, need_dir, need_file

# FER2013's canonical integer labels 0..6, in affekt's Ekman names (the same order as EKMAN)
FER2013_NAMES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER2013_TO_EKMAN = dict(zip(FER2013_NAMES, EKMAN.labels))
USAGE_SPLIT = {"Training": "train", "PublicTest": "dev", "PrivateTest": "test"}

# FER+ vote columns; the first seven are FER2013's classes
FERPLUS_COLUMNS = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt",
                   "unknown", "NF")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def _fer2013_table(data_dir) -> tuple[Path, pd.DataFrame]:
    root = need_dir(data_dir)
    labels = root / "labels.csv"
    if labels.is_file():
        df = pd.read_csv(labels)
        need = {"path", "usage", "emotion"}
        if not need <= set(df.columns):
            raise DataError(f"fer2013: '{labels}' lacks column(s) {', '.join(sorted(need - set(df.columns)))}")
    else:  # the bare Kaggle folder layout: train/<class>/*.jpg, test/<class>/*.jpg
        rows = []
        for split in ("train", "test"):
            for f in sorted((root / split).glob("*/*")):
                if f.suffix.lower() in IMAGE_SUFFIXES and f.parent.name in FER2013_NAMES:
                    usage = "Training" if split == "train" else (
                        "PrivateTest" if f.name.startswith("PrivateTest") else "PublicTest")
                    rows.append({"path": str(f.relative_to(root)), "usage": usage,
                                 "emotion": FER2013_NAMES.index(f.parent.name)})
        if not rows:
            raise DataError(f"fer2013: '{root}' has neither labels.csv nor train/<class>/ and test/<class>/ "
                            "image folders (the Kaggle msambare/fer2013 layout)")
        df = pd.DataFrame(rows)
    bad = ~df["usage"].isin(list(USAGE_SPLIT))
    if bad.any():
        raise DataError(f"fer2013: unknown usage value(s) {sorted(df.loc[bad, 'usage'].unique())[:5]}")
    df["label_index"] = df["emotion"].astype(int)
    df["label"] = [EKMAN.labels[i] for i in df["label_index"]]
    return root, df


def load_fer2013(data_dir) -> Dataset:
    """FER2013 in the Kaggle folder layout; Usage gives the splits: Training -> train,
    PublicTest -> dev, PrivateTest -> test. Labels in Ekman names."""
    root, df = _fer2013_table(data_dir)
    df = df.assign(path=[str(root / p) for p in df["path"]], labels=[[lab] for lab in df["label"]])
    splits = {s: df[df["usage"] == u].reset_index(drop=True) for u, s in USAGE_SPLIT.items()}
    return Dataset("fer2013", splits, "classification", EKMAN, input_column="path",
                   info={"split_source": "given", "source": str(root)})


def ferplus_votes(ferplus_dir, meta: pd.DataFrame, *, space: str = "fer2013") -> np.ndarray:
    """FER+ vote shares for each row of a FER2013 table (joined on ``fer2013_row``).

    ``space="fer2013"``: (n, 7) shares over FER2013's classes in Ekman order (contempt, unknown and
    not-a-face votes dropped, renormalised); ``"ferplus"``: (n, 8) over FER+'s 8 emotions. Rows
    without a FER+ match, or with no vote in the space, are NaN.
    """
    f = need_file(ferplus_dir, "fer2013new.csv", "ferplus", "the file of microsoft/FERPlus")
    votes = pd.read_csv(f)
    missing = [c for c in FERPLUS_COLUMNS if c not in votes.columns]
    if missing:
        raise DataError(f"ferplus: '{f}' lacks vote column(s) {', '.join(missing)}")
    if "fer2013_row" not in meta.columns:
        raise DataError("ferplus: the FER2013 table has no fer2013_row column to join the votes on")
    if space == "fer2013":
        cols = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
    else:
        cols = list(FERPLUS.labels)
    V = votes[cols].to_numpy(dtype=np.float32)
    out = np.full((len(meta), len(cols)), np.nan, dtype=np.float32)
    rows = pd.to_numeric(meta["fer2013_row"], errors="coerce").to_numpy()
    ok = ~np.isnan(rows)
    r = rows[ok].astype(int)
    if len(r) and (r.min() < 0 or r.max() >= len(V)):
        raise DataError(f"ferplus: fer2013_row values outside 0..{len(V) - 1}")
    sub = V[r]
    tot = sub.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        sub = np.where(tot > 0, sub / tot, np.nan)
    out[ok] = sub
    return out


def _ferplus_majority(plus: Path, meta: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Index into FERPLUS_COLUMNS of each row's most-voted column, and whether that is one clear
    emotion (not unknown / not-a-face, not tied, the row matched)."""
    f = plus / "fer2013new.csv"
    raw = pd.read_csv(f)
    missing = [c for c in FERPLUS_COLUMNS if c not in raw.columns]
    if missing:
        raise DataError(f"ferplus: '{f}' lacks vote column(s) {', '.join(missing)}")
    rows = pd.to_numeric(meta["fer2013_row"], errors="coerce")
    allv = np.full((len(meta), len(FERPLUS_COLUMNS)), np.nan, dtype=np.float32)
    ok = rows.notna().to_numpy()
    if ok.any() and (rows[ok].min() < 0 or rows[ok].max() >= len(raw)):
        raise DataError(f"ferplus: fer2013_row values outside 0..{len(raw) - 1}")
    allv[ok] = raw[list(FERPLUS_COLUMNS)].to_numpy(dtype=np.float32)[rows[ok].astype(int)]
    top = np.nan_to_num(allv, nan=-1).argmax(1)
    srt = np.sort(np.nan_to_num(allv, nan=-1), 1)
    return top, ok & (top < len(FERPLUS.labels)) & (srt[:, -1] > srt[:, -2])


def ferplus_majority(ferplus_dir, meta: pd.DataFrame) -> np.ndarray:
    """The FER+ majority label of each row of a FER2013 table as an index into FER2013's 7 classes
    in Ekman order (anger ... neutral), or -1 where there is none (tied, unknown, not-a-face,
    contempt, or no FER+ row): the labels ``load_ferplus`` keeps, less contempt."""
    plus = need_dir(ferplus_dir)
    need_file(plus, "fer2013new.csv", "ferplus", "the file of microsoft/FERPlus")
    top, keep = _ferplus_majority(plus, meta)
    seven = ["anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"]
    to7 = np.array([seven.index(c) if c in seven else -1 for c in FERPLUS_COLUMNS])
    return np.where(keep, to7[top], -1)


def load_ferplus(data_dir, fer2013_dir=None) -> Dataset:
    """FER+: the FER2013 images with the majority of FER+'s 10 votes over 8 emotions (images
    whose majority is unknown / not-a-face, or tied, are left out). ``data_dir`` is the FER+
    folder (``fer2013new.csv``); the images come from ``fer2013_dir`` (default: a ``fer2013``
    folder beside it). ``votes`` holds each row's counts over the 8 emotions (unknown and
    not-a-face votes left out; ``info["vote_labels"]``), for ``affekt train --label-mode``."""
    plus = need_dir(data_dir)
    fer_dir = Path(fer2013_dir) if fer2013_dir else plus.parent / "fer2013"
    if not (fer_dir / "labels.csv").is_file():
        raise DataError(f"ferplus: the FER2013 images are needed too; expected '{fer_dir}/labels.csv' "
                        "(a fer2013 folder beside the FER+ one)")
    root, df = _fer2013_table(fer_dir)
    top, keep = _ferplus_majority(plus, df)
    raw = pd.read_csv(plus / "fer2013new.csv")
    rows = pd.to_numeric(df["fer2013_row"], errors="coerce").fillna(-1).astype(int).to_numpy()
    counts = raw[list(FERPLUS.labels)].to_numpy(dtype=np.int64)[np.clip(rows, 0, None)]
    df = df.assign(path=[str(root / p) for p in df["path"]])
    df["labels"] = [[FERPLUS.labels[t]] if k else None for t, k in zip(top, keep)]
    df["votes"] = [list(map(int, v)) for v in counts]
    df = df[keep]
    splits = {s: df[df["usage"] == u].reset_index(drop=True) for u, s in USAGE_SPLIT.items()}
    return Dataset("ferplus", splits, "classification", FERPLUS, input_column="path",
                   info={"split_source": "given", "source": str(plus), "vote_labels": FERPLUS.labels})


def fer2013_arrays(data_dir, *, cache=None) -> tuple[np.ndarray, pd.DataFrame]:
    """Every FER2013 image as one uint8 array (n, 48, 48) with its table (usage, label_index,
    fer2013_row...). ``cache``: an .npz path to reuse the decoded pixels."""
    from PIL import Image

    root, df = _fer2013_table(data_dir)
    if cache and Path(cache).is_file():
        z = np.load(cache, allow_pickle=False)
        if list(z["paths"]) == list(df["path"]):
            return z["X"], df

    def read(p):
        with Image.open(root / p) as im:
            a = np.asarray(im.convert("L"))
        if a.shape != (48, 48):
            raise DataError(f"fer2013: '{root / p}' is {a.shape[1]}x{a.shape[0]}, not 48x48")
        return a

    with ThreadPoolExecutor(4) as ex:
        X = np.stack(list(ex.map(read, df["path"], chunksize=256)))
    if cache:
        np.savez(cache, X=X, paths=np.asarray(df["path"], dtype=str))
    return X, df


def load_folder(data_dir, suffixes=IMAGE_SUFFIXES, kind: str = "images", frame_folders: bool = False) -> Dataset:
    """A user's faces (or, with video ``suffixes``, clips): one sub-folder per label
    (``DIR/<label>/*.jpg``). One ``all`` split (or ``train``/``dev``/``test`` top folders, each
    holding label folders, when present). ``frame_folders``: a folder of images under a label
    folder is one clip (``DIR/<label>/<clip>/*.jpg``, as CK+ comes)."""
    root = need_dir(data_dir)
    split_dirs = [d for d in ("train", "dev", "val", "test") if (root / d).is_dir()]

    def rows_of(base: Path):
        rows = []
        for d in sorted(p for p in base.iterdir() if p.is_dir()):
            for f in sorted(d.rglob("*")):
                if f.is_file() and f.suffix.lower() in suffixes:
                    rows.append({"path": str(f), "labels": [d.name]})
                elif frame_folders and f.is_dir() and any(g.suffix.lower() in IMAGE_SUFFIXES for g in f.iterdir()):
                    rows.append({"path": str(f), "labels": [d.name]})  # a clip given as a folder of frames
        return pd.DataFrame(rows, columns=["path", "labels"])

    if split_dirs:
        splits = {("dev" if d == "val" else d): rows_of(root / d) for d in split_dirs}
        source = "given"
    else:
        splits = {"all": rows_of(root)}
        source = "none"
    if sum(len(s) for s in splits.values()) == 0:
        raise DataError(f"folder dataset '{root}': no {kind} in label sub-folders "
                        f"(expected {root}/<label>/*{suffixes[0]}; suffixes {' '.join(suffixes)})")
    labels = sorted({lab for s in splits.values() for labs in s["labels"] for lab in labels_of(labs)})
    space = _space_for(labels, root.name)
    return Dataset(f"folder:{root.name}", splits, "classification", space, input_column="path",
                   info={"split_source": source, "source": str(root)})


def load_csv(path, *, path_column: str = "path", label_column="label", split_column: str = "split",
             time_range: bool = False) -> Dataset:
    """A CSV of ``path,label`` (and optionally ``split``: train/dev/test). Relative paths are
    relative to the CSV's folder. ``time_range`` (videos): optional ``start``/``end`` columns in
    seconds label a part of a video; the item is then ``PATH#t=START,END`` (W3C Media Fragments).
    ``label_column`` a list of several columns: a vote table, each column the number of annotators
    who chose that label (``votes``; the label is the plurality, see :mod:`affekt.annotation.targets`)."""
    if not isinstance(label_column, str):
        cols = list(label_column)
        if len(cols) > 1:
            return _load_vote_csv(path, path_column, cols, split_column)
        label_column = cols[0]
    p, df = _read_csv(path, (path_column, label_column))
    empty = df[label_column].str.strip() == ""
    if empty.any():
        raise DataError(f"'{p}': row {int(np.flatnonzero(empty)[0]) + 2} has an empty '{label_column}'")
    paths = [str(q if Path(q).is_absolute() else p.parent / q) for q in df[path_column]]
    if time_range and ("start" in df.columns or "end" in df.columns):
        for col in ("start", "end"):
            if col not in df.columns:
                raise DataError(f"'{p}': a '{'start' if col == 'end' else 'end'}' column needs a '{col}' column too")
        try:
            se = df[["start", "end"]].astype(float).to_numpy()
        except ValueError as exc:
            raise DataError(f"'{p}': columns start/end must be seconds ({exc})") from None
        bad = ~(se[:, 1] > se[:, 0]) | (se[:, 0] < 0)
        if bad.any():
            raise DataError(f"'{p}': row {int(np.flatnonzero(bad)[0]) + 2}: need 0 <= start < end")
        paths = [f"{q}#t={a:g},{b:g}" for q, (a, b) in zip(paths, se)]
    out = pd.DataFrame({"path": paths, "labels": [[lab.strip()] for lab in df[label_column]]})
    _keep_other_columns(out, df, (path_column, label_column, split_column))
    if split_column in df.columns:
        sp = df[split_column].str.strip().str.lower().replace({"val": "dev", "validation": "dev"})
        bad = ~sp.isin(["train", "dev", "test"])
        if bad.any():
            raise DataError(f"'{p}': column '{split_column}' holds '{sp[bad].iloc[0]}' (use train, dev or test)")
        splits = {s: out[sp.to_numpy() == s].reset_index(drop=True) for s in ("train", "dev", "test")
                  if (sp == s).any()}
        source = "given"
    else:
        splits, source = {"all": out}, "none"
    space = _space_for(sorted({labs[0] for labs in out["labels"]}), p.stem)
    return Dataset(f"csv:{p.name}", splits, "classification", space, input_column="path",
                   info={"split_source": source, "source": str(p)})


def _keep_other_columns(out: pd.DataFrame, df: pd.DataFrame, used) -> None:
    """The table's other columns (gender, age, a speaker...), kept for audits and grouping."""
    for col in df.columns:
        if col not in used and col not in out.columns:
            out[col] = df[col].to_numpy()


def _read_csv(path, columns) -> tuple[Path, pd.DataFrame]:
    """A face dataset's CSV as strings, with ``columns`` checked."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"face csv dataset: '{p}' is not a file")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"'{p}': not a readable CSV ({exc})") from exc
    for col in columns:
        if col not in df.columns:
            raise DataError(f"'{p}': no column '{col}' (columns: {', '.join(df.columns)})")
    return p, df


def _load_vote_csv(path, path_column: str, label_columns: list[str], split_column: str) -> Dataset:
    """A CSV of ``path`` and one count column per label (``load_csv`` with several label columns)."""
    from affekt.annotation.targets import plurality_labels
    from affekt.annotation.votes import from_counts

    p, df = _read_csv(path, (path_column,))
    votes = from_counts(df.assign(_item=np.arange(len(df)).astype(str)), "_item", label_columns, source=str(p))
    paths = [str(q if Path(q).is_absolute() else p.parent / q) for q in df[path_column]]
    out = pd.DataFrame({"path": paths, "labels": plurality_labels(votes.counts, votes.labels),
                        "votes": [list(map(int, v)) for v in votes.counts]})
    _keep_other_columns(out, df, (path_column, split_column, *label_columns))
    if split_column in df.columns:
        sp = df[split_column].str.strip().str.lower().replace({"val": "dev", "validation": "dev"}).to_numpy()
    else:
        sp = np.array(["all"] * len(df))
    test_tie = (sp == "test") & out["labels"].isna().to_numpy()
    out = out[~test_tie]  # a test item needs one label to be scored against: tied ones are left out
    sp = sp[~test_tie]
    splits = {s: out[sp == s].reset_index(drop=True) for s in ("train", "dev", "test", "all") if (sp == s).any()}
    bad = set(sp) - {"train", "dev", "test", "all"}
    if bad:
        raise DataError(f"'{p}': column '{split_column}' holds '{sorted(bad)[0]}' (use train, dev or test)")
    for name, part in splits.items():  # a tie gets the first of its top labels until --label-mode decides
        if part["labels"].isna().any():
            part["labels"] = [labs if labs is not None else [label_columns[int(np.argmax(v))]]
                              for labs, v in zip(part["labels"], part["votes"])]
    space = LabelSpace(p.stem, tuple(label_columns), multi_label=False)
    return Dataset(f"csv:{p.name}", splits, "classification", space, input_column="path",
                   info={"split_source": "given" if split_column in df.columns else "none", "source": str(p),
                         "vote_labels": tuple(label_columns), "test_ties_left_out": int(test_tie.sum())})


def labels_of(labs) -> list[str]:
    return list(labs) if not isinstance(labs, str) else [labs]


def _space_for(labels: list[str], name: str) -> LabelSpace:
    """Ekman's space when the labels are exactly Ekman's seven, else the labels as found."""
    if set(labels) == set(EKMAN.labels):
        return EKMAN
    return LabelSpace(f"custom:{name}", tuple(labels), multi_label=False)
