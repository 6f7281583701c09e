"""MELD (Poria et al., 2019): the text CSVs of the multimodal *Friends* dialogue corpus.

Layout (as in ``declare-lab/MELD`` ``data/MELD/``, or ``MELD.Raw/`` of the authors' archive):
``train_sent_emo.csv``, ``dev_sent_emo.csv``, ``test_sent_emo.csv`` with columns ``Sr No.``,
``Utterance``, ``Speaker``, ``Emotion``, ``Sentiment``, ``Dialogue_ID``, ``Utterance_ID``,
``Season``, ``Episode``, ``StartTime``, ``EndTime``. Labels are the ``Emotion`` column (anger,
disgust, fear, joy, neutral, sadness, surprise), one per utterance.

Copies from before November 2020 (and the archive on the authors' site) hold Windows-1252 bytes
mis-read as Latin-1: ``I\\x92m``, ``Â\\x92``, ``â\\x80\\x99`` for ``I’m``. :func:`repair_text` undoes
those with ftfy (and a file that is not UTF-8 at all is read as Windows-1252); how many utterances it
changed is in ``info["text_repaired"]``.

Columns: ``text``, ``labels``, ``speaker``, ``dialogue`` (``<split>:<Dialogue_ID>``: the ids
restart at 0 in each split, so the split keeps dialogues of different splits apart),
``utterance_id``, ``sentiment``, ``season``, ``episode``. The dataset's ``group`` is
``dialogue``: cross-validation keeps an utterance and its dialogue context in one fold. The
official split is not speaker-independent (Chandler, Monica... speak in every split).
"""
from __future__ import annotations

import io

import pandas as pd

from affekt.core.errors import DataError, LabelError
from affekt.core.labels import MELD
from affekt.datasets.base import Dataset, need_dir, need_file

FILES = {"train": "train_sent_emo.csv", "dev": "dev_sent_emo.csv", "test": "test_sent_emo.csv"}
COLUMNS = ("Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID")
LICENCE = "GPL-3.0 (declare-lab/MELD repository LICENSE; the utterances are Friends transcripts, Warner Bros.)"
SOURCE = "declare-lab/MELD (data/MELD/*_sent_emo.csv); Poria et al., ACL 2019"

def repair_text(s: str) -> str:
    """Undo the usual Windows-1252 / UTF-8 mix-ups with ftfy (``â€™`` -> ``’``, ``Ã©`` -> ``é``,
    ``\\x92`` -> ``’``), and nothing else: curly quotes, ligatures, widths and line breaks are kept.
    Text without such characters comes back unchanged."""
    if s.isascii():
        return s
    from affekt.core.errors import require

    ftfy = require("ftfy", "text")
    return ftfy.fix_text(s, ftfy.TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, uncurl_quotes=False, fix_latin_ligatures=False,
        fix_character_width=False, fix_line_breaks=False, remove_control_chars=False, normalization=None,
        explain=False))


def _read(p) -> pd.DataFrame:
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DataError(f"{p}: neither UTF-8 nor Windows-1252 text (byte 0x{raw[exc.start]:02x} at offset "
                            f"{exc.start})") from None
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{p}: cannot be read as CSV ({exc})") from None


def load(data_dir, splits=("train", "dev", "test")) -> Dataset:
    d = need_dir(data_dir)
    out, repaired = {}, 0
    for s in splits:
        p = need_file(d, FILES[s], "MELD", "expected train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv "
                      "(the CSVs of declare-lab/MELD data/MELD/ or MELD.Raw/)")
        df = _read(p)
        missing = [c for c in COLUMNS if c not in df.columns]
        if missing:
            raise DataError(f"{p}: missing column(s) {', '.join(missing)} (columns: {', '.join(df.columns)})")
        labels = df["Emotion"].str.strip().str.lower()
        bad = ~labels.isin(MELD.labels)
        if bad.any():
            first = int(bad.to_numpy().argmax())
            raise LabelError(f"{p}: column 'Emotion' holds label(s) not in MELD's seven: "
                             f"{', '.join(map(repr, sorted(set(labels[bad]))[:10]))} (first at data row {first + 1}); "
                             f"allowed: {', '.join(MELD.labels)}")
        text = [repair_text(t) for t in df["Utterance"]]
        repaired += sum(a != b for a, b in zip(text, df["Utterance"]))
        part = pd.DataFrame({
            "text": [t.strip() for t in text],
            "labels": [[lab] for lab in labels],
            "speaker": [repair_text(x).strip() for x in df["Speaker"]],
            "dialogue": [f"{s}:{x.strip()}" for x in df["Dialogue_ID"]],
            "utterance_id": df["Utterance_ID"].str.strip(),
        })
        for c in ("Sentiment", "Season", "Episode"):
            if c in df.columns:
                part[c.lower()] = df[c].str.strip().to_numpy()
        out[s] = part[part["text"] != ""].reset_index(drop=True)
    return Dataset("meld", out, "classification", MELD, group="dialogue",
                   info={"licence": LICENCE, "source": SOURCE, "text_repaired": repaired})
