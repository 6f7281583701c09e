"""Speech emotion corpora, each read from its own public file naming (any ``--data-dir``).

Every loader returns one ``all`` split (these corpora have no official train/test split; the
evaluation is speaker-independent cross-validation) with columns ``path``, ``labels``,
``speaker``, ``gender`` and ``fold`` (the default speaker-independent fold of each file).

=========  ==================================================================================
ravdess    ``Actor_XX/03-01-EE-II-SS-RR-AA.wav`` (7 two-digit codes; odd actors male). 8 labels
           incl. calm; folds: actors 1-4, 5-8, ..., 21-24 (6 folds of 4 actors).
tess       ``<Folder>/<SPK>_<word>_<emo>.wav``, speaker from the folder (OAF/YAF, both female).
cremad     ``AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav``; gender from VideoDemographics.csv.
emodb      ``wav/<spk><text><E><v>.wav`` (Berlin EmoDB, German letters: W anger, L boredom, ...).
savee      ``AudioData/<SPK>/<e><nn>.wav`` or ``<SPK>_<e><nn>.wav`` (4 male speakers).
urdu       ``<Angry|Happy|Neutral|Sad>/S<M|F><speaker>_F<file>_<A|H|N|S><n>.wav`` (Urdu talk shows;
           gender from the name); folds: 5 groups of speakers.
ased       ``<nn><Emotion>/<e><n>-<sentence>-<take>-<01 F|02 M>-<speaker>.wav`` (Amharic, 65
           speakers); folds: 5 groups of speakers.
folder     ``<root>/<label>/**/*.wav``; speakers from ``speaker_by`` (below), else unknown.
csv        a table with path, label and (optional) speaker/gender columns; paths relative to it;
           speakers from the ``speaker`` column or ``speaker_by``, else unknown.
=========  ==================================================================================

Who speaks (``folder`` and ``csv``; the rule of :mod:`affekt.datasets.speakers`, the same as
``affekt predict --speaker-by``): ``speaker_by="folder"`` takes the folder each file lies in, so
a folder dataset laid out as ``<root>/<label>/<speaker>/*.wav`` is grouped by speaker; any other
``speaker_by`` is a regex searched in the file name whose first group names the speaker (e.g.
``'^(\\w+?)_'`` for ``anger/anna_01.wav``). When no speaker is known the dataset says so: no
``speaker`` column, ``group=None`` and ``info["speakers_known"] = False``; cross-validation is then
plain k-fold, which is **not** speaker-independent, and ``affekt train`` reports it
(:func:`affekt.datasets.speakers.speaker_independence`).
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import CREMAD, EKMAN, EMODB, RAVDESS, LabelSpace  # noqa: F401
from affekt.datasets.base import Dataset, need_dir
from affekt.datasets.speakers import speakers_of
from affekt.io.audio import AUDIO_SUFFIXES


SPEECH_DATASETS = ("ravdess", "tess", "cremad", "emodb", "savee", "urdu", "ased", "folder", "csv")

_RAVDESS_EMO = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger",
                "06": "fear", "07": "disgust", "08": "surprise"}
_TESS_EMO = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness",
             "neutral": "neutral", "ps": "surprise", "pleasant": "surprise", "sad": "sadness",
             "surprise": "surprise", "surprised": "surprise"}
_CREMAD_EMO = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral", "SAD": "sadness"}
_EMODB_EMO = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear", "F": "happiness", "T": "sadness", "N": "neutral"}
_EMODB_MALE = {"03", "10", "11", "12", "15"}
_URDU_EMO = {"A": "anger", "H": "happiness", "N": "neutral", "S": "sadness"}
_ASED_EMO = {"a": "anger", "f": "fear", "h": "happiness", "n": "neutral", "s": "sadness"}
_SAVEE_EMO = {"a": "anger", "d": "disgust", "f": "fear", "h": "happiness", "n": "neutral",
              "sa": "sadness", "su": "surprise"}


def _audio_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def _named(root: Path, pattern: str) -> tuple[list[tuple[Path, re.Match]], int]:
    """The audio files under ``root`` whose name (without suffix) matches ``pattern``, with the
    match, and how many others there were (reported as skipped)."""
    pat = re.compile(pattern)
    named, skipped = [], 0
    for p in _audio_files(root):
        m = pat.match(p.stem)
        if m:
            named.append((p, m))
        else:
            skipped += 1
    return named, skipped


def _finish(name: str, rows: list[dict], space: LabelSpace, root: Path, licence: str, expected: str,
            n_skipped: int = 0) -> Dataset:
    if not rows:
        raise DataError(f"{name}: no audio files named as {expected} under '{root}'")
    df = pd.DataFrame(rows)
    space.validate((lab for labs in df["labels"] for lab in labs), where=str(root))
    known = "speaker" in df.columns
    info = {"licence": licence, "root": str(root), "skipped_files": n_skipped, "speakers_known": known}
    return Dataset(name, {"all": df}, "classification", space, input_column="path",
                   group="speaker" if known else None, folds="fold", info=info)


def load_ravdess(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows, skipped = [], 0
    pat = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
    for p in _audio_files(root):
        m = pat.match(p.stem)
        if not m or m.group(3) not in _RAVDESS_EMO:
            skipped += 1
            continue
        modality, channel, emo, inten, stmt, rep, actor = m.groups()
        if modality == "02" or channel != "01":  # video-only files and song are not speech audio
            skipped += 1
            continue
        a = int(actor)
        rows.append({"path": str(p), "labels": [_RAVDESS_EMO[emo]], "speaker": f"actor{a:02d}",
                     "gender": "male" if a % 2 else "female", "fold": (a - 1) // 4,
                     "intensity": "strong" if inten == "02" else "normal", "statement": int(stmt)})
    return _finish("ravdess", rows, RAVDESS, root, "CC BY-NC-SA 4.0 (non-commercial)",
                   "Actor_XX/03-01-EE-II-SS-RR-AA.wav", skipped)


def load_tess(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows, skipped = [], 0
    for p in _audio_files(root):
        parts = p.stem.split("_")
        folder = p.parent.name.upper()
        speaker = folder.split("_")[0] if folder.startswith(("OAF", "YAF")) else parts[0].upper()
        emo = _TESS_EMO.get(parts[-1].lower()) if len(parts) >= 3 else None
        if emo is None or speaker not in ("OAF", "YAF", "OA"):
            skipped += 1
            continue
        speaker = "OAF" if speaker == "OA" else speaker  # one original file is named OA_
        rows.append({"path": str(p), "labels": [emo], "speaker": speaker, "gender": "female",
                     "fold": 0 if speaker == "OAF" else 1, "age": 64 if speaker == "OAF" else 26,
                     "word": parts[1]})
    return _finish("tess", rows, EKMAN, root, "CC BY-NC-ND 4.0 (non-commercial, as usually quoted)",
                   "<OAF|YAF>_<emotion>/<SPK>_<word>_<emo>.wav", skipped)


def load_cremad(data_dir) -> Dataset:
    root = need_dir(data_dir)
    gender = {}
    demo = next(iter(root.rglob("VideoDemographics.csv")), None)
    if demo is not None:
        d = pd.read_csv(demo)
        if {"ActorID", "Sex"} <= set(d.columns):
            gender = {str(a): str(s).lower() for a, s in zip(d["ActorID"], d["Sex"])}
    rows, skipped = [], 0
    pat = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{1,2})$")
    for p in _audio_files(root):
        m = pat.match(p.stem)
        if not m or m.group(3) not in _CREMAD_EMO:
            skipped += 1
            continue
        actor = m.group(1)
        rows.append({"path": str(p), "labels": [_CREMAD_EMO[m.group(3)]], "speaker": actor,
                     "gender": gender.get(actor, "unknown"), "fold": (int(actor) - 1001) % 5,
                     "sentence": m.group(2), "level": m.group(4)})
    return _finish("cremad", rows, CREMAD, root, "Open Database License (ODbL)",
                   "AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav", skipped)


def load_emodb(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows = []
    named, skipped = _named(root, r"^(\d\d)([abc]\d\d)([WLEAFTN])([a-z])$")
    for p, m in named:
        spk = m.group(1)
        rows.append({"path": str(p), "labels": [_EMODB_EMO[m.group(3)]], "speaker": spk,
                     "gender": "male" if spk in _EMODB_MALE else "female", "fold": 0, "text": m.group(2)})
    df_speakers = sorted({r["speaker"] for r in rows})
    for r in rows:  # leave-one-speaker-out folds
        r["fold"] = df_speakers.index(r["speaker"])
    return _finish("emodb", rows, EMODB, root, "free for research (authors' terms)",
                   "wav/<spk><text><E><version>.wav", skipped)


def load_savee(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows, skipped = [], 0
    pat = re.compile(r"^(?:([A-Z]{2})_)?(sa|su|a|d|f|h|n)(\d\d)$")
    for p in _audio_files(root):
        m = pat.match(p.stem)
        spk = (m.group(1) if m and m.group(1) else p.parent.name.upper()) if m else None
        if not m or spk not in ("DC", "JE", "JK", "KL"):
            skipped += 1
            continue
        rows.append({"path": str(p), "labels": [_SAVEE_EMO[m.group(2)]], "speaker": spk, "gender": "male",
                     "fold": ("DC", "JE", "JK", "KL").index(spk)})
    return _finish("savee", rows, EKMAN, root, "free for research (University of Surrey)",
                   "AudioData/<SPK>/<e><nn>.wav or <SPK>_<e><nn>.wav", skipped)


def _speaker_folds(rows: list[dict], k: int = 5) -> None:
    """A corpus without folds of its own: ``k`` speaker-disjoint folds, the speakers (largest
    first) each given to the fold with the fewest clips so far."""
    counts: dict = {}
    for r in rows:
        counts[r["speaker"]] = counts.get(r["speaker"], 0) + 1
    size, fold_of = [0] * k, {}
    for spk in sorted(counts, key=lambda s: (-counts[s], s)):
        f = size.index(min(size))
        fold_of[spk], size[f] = f, size[f] + counts[spk]
    for r in rows:
        r["fold"] = fold_of[r["speaker"]]


def load_urdu(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows = []
    named, skipped = _named(root, r"^S([MF])(\d+)_F\d+_([AHNS])\d+$")
    for p, m in named:
        rows.append({"path": str(p), "labels": [_URDU_EMO[m.group(3)]], "speaker": f"S{m.group(1)}{m.group(2)}",
                     "gender": "male" if m.group(1) == "M" else "female"})
    if rows:
        _speaker_folds(rows)
    return _finish("urdu", rows, EKMAN, root, "research use only (the authors' README); not redistributable",
                   "<Emotion>/S<M|F><n>_F<n>_<A|H|N|S><n>.wav", skipped)


def load_ased(data_dir) -> Dataset:
    root = need_dir(data_dir)
    rows = []
    named, skipped = _named(root, r"^([afhns])\d*-(\d+)-(\d+)-(0[12])-(\d+)$")
    for p, m in named:
        rows.append({"path": str(p), "labels": [_ASED_EMO[m.group(1)]], "speaker": m.group(5),
                     "gender": "female" if m.group(4) == "01" else "male", "sentence": m.group(2)})
    if rows:
        _speaker_folds(rows)
    return _finish("ased", rows, EKMAN, root, "none stated; research use, cite Retta et al. 2022",
                   "<nn><Emotion>/<e><n>-<sentence>-<take>-<01|02>-<speaker>.wav", skipped)


def load_folder(data_dir, speaker_by: str | None = None, speaker_pattern: str | None = None) -> Dataset:
    """``<root>/<label>/**/*.wav`` (one sub-folder per label, any depth below it).

    ``speaker_by``: who speaks in each file: ``"folder"`` (the folder the file lies in, for
    ``<root>/<label>/<speaker>/*.wav``; a file lying directly in its label folder is an error)
    or a regex whose first group, searched in the file name, names the speaker. Without it the
    speakers are unknown and the dataset says so (``group=None``, no ``speaker`` column).
    ``speaker_pattern`` is the former name of a regex ``speaker_by``."""
    if speaker_pattern is not None:
        if speaker_by is not None and speaker_by != speaker_pattern:
            raise DataError("give speaker_by or speaker_pattern, not both")
        speaker_by = speaker_pattern
    root = need_dir(data_dir)
    rows, label_dir = [], []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        for p in _audio_files(d):
            rows.append({"path": str(p), "labels": [d.name.lower()], "gender": "unknown", "fold": -1})
            label_dir.append(d)
    if not rows:
        raise DataError(f"folder dataset: no audio files in label sub-folders of '{root}' (expected <root>/<label>/*.wav)")
    if speaker_by is not None:
        paths = [Path(r["path"]) for r in rows]
        if speaker_by == "folder":
            flat = [p for p, d in zip(paths, label_dir) if p.parent == d]
            if flat:
                raise DataError(f"speaker_by='folder': '{flat[0]}' lies directly in its label folder "
                                f"'{flat[0].parent.name}' ({len(flat)} such file(s)); the layout for speakers by "
                                "folder is <root>/<label>/<speaker>/*.wav, else give a regex on the file name")
        for r, spk in zip(rows, speakers_of(paths, speaker_by, error=DataError)):
            r["speaker"] = spk
    labels = tuple(sorted({r["labels"][0] for r in rows}))
    # Ekman's space only when every Ekman label is there (a single-label model cannot be fitted on
    # labels it never saw); a subset keeps its own space, which maps into ekman by name
    space = LabelSpace(f"folder-{root.name}", labels, multi_label=False)
    if set(labels) == set(EKMAN.labels):
        space = EKMAN
    ds = _finish("folder", rows, space, root, "as its owner's", "<root>/<label>/*.wav")
    ds.folds = None
    ds.info["speaker_by"] = speaker_by
    return ds


def load_csv(path, path_column: str = "path", label_column: str = "label", speaker_column: str = "speaker",
             gender_column: str = "gender", speaker_by: str | None = None) -> Dataset:
    """A CSV/TSV with one audio file per row; relative paths are read from the table's folder.

    Speakers: ``speaker_by`` (``"folder"`` or a regex on the file name, as for ``load_folder``)
    when given, else the ``speaker_column`` (default ``speaker``) when the table has it (every
    row then needs one), else unknown (the dataset says so: ``group=None``)."""
    p = Path(path)
    if p.is_dir():
        cands = sorted(list(p.glob("*.csv")) + list(p.glob("*.tsv")))
        if len(cands) != 1:
            raise DataError(f"'{p}': give the CSV file itself (found {len(cands)} tables in the folder)")
        p = cands[0]
    if not p.is_file():
        raise DataError(f"'{p}': table not found")
    df = pd.read_csv(p, sep="\t" if p.suffix.lower() == ".tsv" else ",")
    for col in (path_column, label_column):
        if col not in df.columns:
            raise DataError(f"'{p}': no column '{col}' (columns: {', '.join(map(str, df.columns))})")
    if speaker_by is None and speaker_column != "speaker" and speaker_column not in df.columns:
        raise DataError(f"'{p}': no speaker column '{speaker_column}' (columns: {', '.join(map(str, df.columns))})")
    use_column = speaker_by is None and speaker_column in df.columns
    rows = []
    for i, r in df.iterrows():
        f = Path(str(r[path_column]))
        f = f if f.is_absolute() else p.parent / f
        if pd.isna(r[label_column]):
            raise DataError(f"'{p}', row {i + 2}: empty label")
        gen = str(r[gender_column]).lower() if gender_column in df.columns and not pd.isna(r[gender_column]) else "unknown"
        row = {"path": str(f), "labels": [str(r[label_column]).strip().lower()], "gender": gen, "fold": -1}
        if use_column:
            if pd.isna(r[speaker_column]) or not str(r[speaker_column]).strip():
                raise DataError(f"'{p}', row {i + 2}: empty speaker (give every row its speaker, or drop the "
                                f"'{speaker_column}' column: the cross-validation is then not speaker-independent)")
            row["speaker"] = str(r[speaker_column]).strip()
        rows.append(row)
    if speaker_by is not None and rows:
        for row, spk in zip(rows, speakers_of([row["path"] for row in rows], speaker_by, error=DataError)):
            row["speaker"] = spk
    labels = tuple(sorted({r["labels"][0] for r in rows}))
    space = EKMAN if set(labels) == set(EKMAN.labels) else LabelSpace(f"csv-{p.stem}", labels, multi_label=False)
    ds = _finish("csv", rows, space, p.parent, "as its owner's", "rows of the table")
    ds.folds = None
    ds.info["speaker_by"] = speaker_by
    missing = [r["path"] for r in rows if not Path(r["path"]).exists()]
    if missing:
        raise DataError(f"'{p}': {len(missing)} listed audio file(s) do not exist, e.g. '{missing[0]}'")
    return ds


LOADERS = {"ravdess": load_ravdess, "tess": load_tess, "cremad": load_cremad, "crema-d": load_cremad,
           "emodb": load_emodb, "savee": load_savee, "urdu": load_urdu, "ased": load_ased}
