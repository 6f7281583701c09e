"""SemEval-2007 Task 14 "Affective Text" (Strapparava & Mihalcea, 2007): 1,250 news headlines,
each scored 0-100 by six annotators for anger, disgust, fear, joy, sadness and surprise.

Reads either layout:

* ``affectivetext_trial.csv`` and ``affectivetext_test.csv`` (R ``write.csv`` style: columns
  ``""``, ``origin_ID``, ``news_headlines``, ``anger``, ``disgust``, ``fear``, ``joy``,
  ``sadness``, ``surprise``);
* the organisers' ``AffectiveText.Semeval.2007.tar.gz`` unpacked: ``affectivetext_trial.xml``
  and ``affectivetext_trial.emotions.gold`` (``id anger disgust fear joy sadness surprise`` per
  line), the same for ``test``, in the folder or in its ``AffectiveText.trial/`` and
  ``AffectiveText.test/`` (or ``AffectiveText.Semeval.2007/AffectiveText.*/``). Scores are
  matched to headlines by id.

A categorical dataset made from the scores: a headline's label is its highest-scoring emotion
(ties go to the first in the order anger, disgust, fear, joy, sadness, surprise), or
``neutral`` when every score is below ``min_score``. The default, 50, is the task's own: its
coarse-grained evaluation counted an emotion as present at a score of 50 or more. With it
about two thirds of the headlines (796 of 1,250) are neutral; scores are intensities and several
emotions can be high at once, so the single label loses information. The six raw scores stay
as columns ``anger`` ... ``surprise`` (with ``id``, the ``<instance id>``), for regression or
another rule. Whitespace inside a headline is collapsed to one space (one test headline has a tab).

Splits: the trial set (250) is ``dev`` and the test set (1,000) ``test``. The task was
unsupervised: there is **no train split**. ``split("all")`` / ``xy("all")`` give all 1,250 (what
:func:`affekt.datasets.concat` uses); ``affekt train`` on this corpus alone cross-validates over
all rows. Some headlines occur twice with separately collected scores (9 in trial, 13 in test),
and their labels can differ.

The same 1,250 headlines are in EmoBank (ids ``SemEval_<id>``; 1,192 of them in
``emobank.csv``, across its train, dev and test splits): keep that in mind when combining the two
or testing across corpora.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import SEMEVAL2007
from affekt.datasets.base import Dataset, need_dir

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
PARTS = {"trial": "dev", "test": "test"}
LICENCE = ("no licence stated; released by the task organisers for research use (headlines belong to "
           "their news outlets)")
SOURCE = "SemEval-2007 Task 14 Affective Text (Strapparava & Mihalcea, 2007)"
HINT = ("expected affectivetext_trial.csv and affectivetext_test.csv, or the organisers' "
        "affectivetext_<trial|test>.xml with affectivetext_<trial|test>.emotions.gold")
_INSTANCE = re.compile(r'<instance\s+id="(\d+)"\s*>(.*?)</instance>', re.DOTALL)


def _find(d: Path, name: str, part: str) -> Path | None:
    for folder in (d, d / f"AffectiveText.{part}", d / "AffectiveText.Semeval.2007" / f"AffectiveText.{part}"):
        if (folder / name).is_file():
            return folder / name
    return None


def _from_csv(p: Path) -> pd.DataFrame:
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{p}: not UTF-8 text") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{p}: cannot be read as CSV ({exc})") from None
    missing = [c for c in ("news_headlines", *EMOTIONS) if c not in df.columns]
    if missing:
        raise DataError(f"{p}: missing column(s) {', '.join(missing)} (columns: {', '.join(map(str, df.columns))})")
    out = pd.DataFrame({"id": df["origin_ID"].str.strip() if "origin_ID" in df.columns else "",
                        "text": df["news_headlines"].str.strip()})
    for e in EMOTIONS:
        out[e] = df[e].str.strip()
    return out


def _from_original(xml: Path, gold: Path) -> pd.DataFrame:
    text = xml.read_text(encoding="utf-8", errors="replace")
    heads = {i: html.unescape(t).strip() for i, t in _INSTANCE.findall(text)}
    if not heads:
        raise DataError(f"{xml}: no <instance id=\"...\">headline</instance> elements")
    rows = []
    for n, line in enumerate(gold.read_text(encoding="utf-8").splitlines(), 1):
        f = line.split()
        if not f:
            continue
        if len(f) != 7:
            raise DataError(f"{gold}, line {n}: expected 'id anger disgust fear joy sadness surprise', "
                            f"got {line[:60]!r}")
        if f[0] not in heads:
            raise DataError(f"{gold}, line {n}: id {f[0]} has no headline in {xml.name}")
        rows.append([f[0], heads[f[0]], *f[1:]])
    return pd.DataFrame(rows, columns=["id", "text", *EMOTIONS])


def load(data_dir, min_score: float = 50) -> Dataset:
    """``min_score``: a headline whose six scores are all below it is ``neutral`` (see above)."""
    if not 0 < float(min_score) <= 100:
        raise DataError(f"SemEval-2007: min_score must be in (0, 100], got {min_score}")
    d = need_dir(data_dir)
    out, layout = {}, None
    for part, split in PARTS.items():
        csv_p = _find(d, f"affectivetext_{part}.csv", part)
        xml, gold = _find(d, f"affectivetext_{part}.xml", part), _find(d, f"affectivetext_{part}.emotions.gold", part)
        if csv_p is not None:
            p, df, layout = csv_p, _from_csv(csv_p), "csv"
        elif xml is not None and gold is not None:
            p, df, layout = gold, _from_original(xml, gold), "original"
        else:
            raise DataError(f"SemEval-2007: '{d / f'affectivetext_{part}.csv'}' not found; {HINT}")
        for e in EMOTIONS:
            v = pd.to_numeric(df[e], errors="coerce")
            bad = v.isna() | (v < 0) | (v > 100)
            if bad.any():
                i = int(bad.to_numpy().argmax())
                raise DataError(f"{p}: column '{e}' must hold scores from 0 to 100; data row {i + 1} has "
                                f"{df[e].iloc[i]!r}")
            df[e] = v.astype(int) if (v == v.round()).all() else v
        scores = df[list(EMOTIONS)].to_numpy(dtype=float)
        top = np.asarray(EMOTIONS)[scores.argmax(axis=1)]
        df["labels"] = [[str(t)] if m >= min_score else ["neutral"] for t, m in zip(top, scores.max(axis=1))]
        df["text"] = [" ".join(t.split()) for t in df["text"]]  # one headline has a tab inside
        out[split] = df.loc[df["text"] != "", ["id", "text", "labels", *EMOTIONS]].reset_index(drop=True)
    return Dataset("semeval2007", out, "classification", SEMEVAL2007,
                   info={"licence": LICENCE, "source": SOURCE, "layout": layout, "min_score": min_score,
                         "note": "no train split (the task was unsupervised): trial is dev, test is test"})
