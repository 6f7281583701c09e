"""DailyDialog (Li et al., 2017): everyday two-party English conversations, one emotion per utterance.

Reads the first of these layouts found in the folder:

1. ``utterances.tsv.gz`` (or ``utterances.tsv``): one row per utterance, tab-separated, columns
   ``split`` (train / validation / test), ``dialogue_id``, ``utt_idx``, ``speaker``, ``topic``,
   ``act``, ``emotion``, ``utterance`` (a flat copy of 2.);
2. ``data.zip``: ConvLab-3's unified conversion (``data/dialogues.json``; ``ConvLab/ConvLab-3``
   ``data/unified_datasets/dailydialog/``), whose text ConvLab detokenised (``Say, Jim, ...``);
3. the authors' ``ijcnlp_dailydialog`` release, unzipped: ``train/dialogues_train.txt`` and
   ``train/dialogues_emotion_train.txt`` (and ``dialogues_act_train.txt``), the same for
   ``validation/`` and ``test/`` (the folder itself or an ``ijcnlp_dailydialog/`` in it; the
   split zips may stay zipped). Its text is space-tokenised (``Say , Jim , ...``) and kept so.

The corpus's own split (11,118 / 1,000 / 1,000 dialogues) gives ``train`` / ``dev`` / ``test``.
Emotions are no emotion, anger, disgust, fear, happiness, sadness, surprise; "no emotion" is named
``neutral`` here (label space ``dailydialog``, which is Ekman's seven). About 83% of utterances
are "no emotion".

Columns: ``text``, ``labels``, ``dialogue`` (``train-0``: the split and the dialogue's line in the
split file), ``turn``, ``role`` (``user`` for the first speaker of a dialogue, ``system`` for the
second, as ConvLab names them: two anonymous people per dialogue, not speaker ids), ``act`` and
``topic`` where the layout has them. The dataset's ``group`` is ``dialogue``. The release repeats
some dialogues across splits (about 110 test and 81 validation dialogues have the text of a
train dialogue): de-duplicate before evaluating if that matters.
"""
from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pandas as pd

from affekt.core.errors import DataError, LabelError
from affekt.core.labels import DAILYDIALOG
from affekt.datasets.base import Dataset, need_dir

EMOTIONS = ("no emotion", "anger", "disgust", "fear", "happiness", "sadness", "surprise")  # ids 0-6
ACTS = {1: "inform", 2: "question", 3: "directive", 4: "commissive"}
SPLITS = {"train": "train", "validation": "dev", "test": "test"}
COLUMNS = ("split", "dialogue_id", "emotion", "utterance")
LICENCE = "CC BY-NC-SA 4.0 (non-commercial, share-alike; DailyDialog authors, ConvLab-3 and Hugging Face cards)"
SOURCE = ("Li et al., IJCNLP 2017 (yanran.li/dailydialog); unified form: ConvLab/ConvLab-3 "
          "data/unified_datasets/dailydialog")
HINT = ("expected utterances.tsv.gz, ConvLab-3's data.zip, or the authors' train/ validation/ test/ folders "
        "(dialogues_<split>.txt + dialogues_emotion_<split>.txt)")


def _label(value: str, where: str) -> str:
    v = str(value).strip().lower()
    if v.isdigit() and int(v) < len(EMOTIONS):
        v = EMOTIONS[int(v)]
    if v not in EMOTIONS:
        raise LabelError(f"{where}: emotion {value!r} is not one of DailyDialog's "
                         f"{', '.join(EMOTIONS)} (or their ids 0-6)")
    return "neutral" if v == "no emotion" else v


def _split(value: str, where: str) -> str:
    s = str(value).strip().lower()
    s = {"val": "validation", "dev": "validation"}.get(s, s)
    if s not in SPLITS:
        raise DataError(f"{where}: split {value!r} is not train, validation or test")
    return SPLITS[s]


def _from_tsv(p: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE, encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{p}: not UTF-8 text") from None
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:  # a broken gzip is an OSError
        raise DataError(f"{p}: cannot be read as a tab-separated table ({exc})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError(f"{p}: missing column(s) {', '.join(missing)} (columns: {', '.join(df.columns)})")
    rows = {"split": [], "labels": []}
    for n, (s, e) in enumerate(zip(df["split"], df["emotion"]), 2):
        rows["split"].append(_split(s, f"{p}, line {n}, column 'split'"))
        rows["labels"].append([_label(e, f"{p}, line {n}, column 'emotion'")])
    out = pd.DataFrame({"text": df["utterance"].str.strip(), "labels": rows["labels"], "split": rows["split"],
                        "dialogue": df["dialogue_id"].str.strip()})
    for src, dst in (("utt_idx", "turn"), ("speaker", "role"), ("act", "act"), ("topic", "topic")):
        if src in df.columns:
            out[dst] = pd.to_numeric(df[src], errors="coerce") if dst == "turn" else df[src].to_numpy()
    return out


def _from_convlab(p: Path) -> pd.DataFrame:
    try:
        with zipfile.ZipFile(p) as z:
            dialogues = json.loads(z.read("data/dialogues.json"))
    except KeyError:
        raise DataError(f"{p}: no data/dialogues.json in the zip (ConvLab-3's unified layout)") from None
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"{p}: cannot be read as ConvLab-3's data.zip ({exc})") from None
    rows = []
    for i, dlg in enumerate(dialogues):
        try:
            where = f"{p}: data/dialogues.json, dialogue {dlg.get('dialogue_id', i)}"
            split = _split(dlg["data_split"], where)
            did = dlg.get("original_id") or dlg["dialogue_id"]
            topic = (dlg.get("domains") or [None])[0]
            for t in dlg["turns"]:
                acts = (t.get("dialogue_acts") or {}).get("binary") or [{}]
                rows.append((t["utterance"].strip(), [_label(t["emotion"], f"{where}, field 'emotion'")], split,
                             did, t.get("utt_idx"), t.get("speaker"), acts[0].get("intent"), topic))
        except (KeyError, TypeError, AttributeError) as exc:
            raise DataError(f"{p}: data/dialogues.json, dialogue {i}: missing field {exc}") from None
    return pd.DataFrame(rows, columns=["text", "labels", "split", "dialogue", "turn", "role", "act", "topic"])


def _original_file(root: Path, split: str, kind: str) -> str | None:
    """The text of ``<split>/dialogues[_kind]_<split>.txt``, from the folder or from ``<split>.zip``."""
    name = f"dialogues_{kind + '_' if kind else ''}{split}.txt"
    if (root / split / name).is_file():
        return (root / split / name).read_text(encoding="utf-8")
    if (root / f"{split}.zip").is_file():
        with zipfile.ZipFile(root / f"{split}.zip") as z:
            if f"{split}/{name}" in z.namelist():
                return z.read(f"{split}/{name}").decode("utf-8")
    return None


def _from_original(root: Path) -> pd.DataFrame:
    rows = []
    for split, name in SPLITS.items():
        texts, emos = _original_file(root, split, ""), _original_file(root, split, "emotion")
        if texts is None or emos is None:
            missing = f"dialogues_{split}.txt" if texts is None else f"dialogues_emotion_{split}.txt"
            raise DataError(f"DailyDialog: '{root / split / missing}' not found (nor in {root / split}.zip); {HINT}")
        acts = _original_file(root, split, "act")
        t_lines, e_lines = texts.splitlines(), emos.splitlines()
        nt, ne = sum(bool(x.strip()) for x in t_lines), sum(bool(x.strip()) for x in e_lines)
        if nt != ne:
            raise DataError(f"{root / split / f'dialogues_emotion_{split}.txt'}: {ne} lines for the {nt} dialogues "
                            f"of dialogues_{split}.txt")
        a_lines = acts.splitlines() if acts is not None else [None] * len(t_lines)
        for n, (t, e, a) in enumerate(zip(t_lines, e_lines, a_lines)):
            if not t.strip():
                continue
            utts = [u.strip() for u in t.split("__eou__")][:-1] if "__eou__" in t else [t.strip()]
            where = f"{root / split / f'dialogues_emotion_{split}.txt'}, line {n + 1}"
            labs = [[_label(x, where)] for x in e.split()]
            if len(labs) != len(utts):
                raise DataError(f"{where}: {len(labs)} emotions for the {len(utts)} utterances of "
                                f"dialogues_{split}.txt line {n + 1}")
            act = [ACTS.get(int(x)) if x.isdigit() else x for x in a.split()] if a else [None] * len(utts)
            for k, (u, lab) in enumerate(zip(utts, labs)):
                rows.append((u, lab, name, f"{split}-{n}", k, "user" if k % 2 == 0 else "system",
                             act[k] if k < len(act) else None))
    return pd.DataFrame(rows, columns=["text", "labels", "split", "dialogue", "turn", "role", "act"])


def load(data_dir) -> Dataset:
    d = need_dir(data_dir)
    original = next((r for r in (d, d / "ijcnlp_dailydialog")
                     if (r / "train").is_dir() or (r / "train.zip").is_file()), None)
    if (d / "utterances.tsv.gz").is_file() or (d / "utterances.tsv").is_file():
        p = d / "utterances.tsv.gz" if (d / "utterances.tsv.gz").is_file() else d / "utterances.tsv"
        df, layout = _from_tsv(p), "utterances.tsv"
    elif (d / "data.zip").is_file():
        p = d / "data.zip"
        df, layout = _from_convlab(p), "convlab-unified"
    elif original is not None:
        p = original
        df, layout = _from_original(original), "original"
    else:
        raise DataError(f"DailyDialog: '{d / 'utterances.tsv.gz'}' not found; {HINT}")
    df = df[df["text"] != ""]
    out = {s: part.drop(columns="split").reset_index(drop=True)
           for s in ("train", "dev", "test") for part in [df[df["split"] == s]]}
    empty = [s for s, part in out.items() if part.empty]
    if empty:
        raise DataError(f"{p}: no utterances in split(s) {', '.join(empty)} (expected train, validation and test)")
    return Dataset("dailydialog", out, "classification", DAILYDIALOG, group="dialogue",
                   info={"licence": LICENCE, "source": SOURCE, "layout": layout, "file": str(p)})
