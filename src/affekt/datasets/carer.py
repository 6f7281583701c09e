"""CARER / dair-ai "emotion" (Saravia et al., 2018): ``train.txt``, ``val.txt``, ``test.txt``
with one ``text;label`` per line (the Kaggle "Emotions dataset for NLP" layout)."""
from __future__ import annotations

import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import CARER
from affekt.datasets.base import Dataset, need_dir, need_file


def load(data_dir, splits=("train", "val", "test")) -> Dataset:
    d = need_dir(data_dir)
    out = {}
    for s in splits:
        p = need_file(d, f"{s}.txt", "CARER", "expected train.txt, val.txt, test.txt (text;label)")
        rows = []
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            text, sep, label = line.rpartition(";")
            if not sep:
                raise DataError(f"{p}, line {n}: expected 'text;label', got {line[:60]!r}")
            rows.append((text, [label.strip()]))
        df = pd.DataFrame(rows, columns=["text", "labels"])
        CARER.validate((lab for labs in df["labels"] for lab in labs), where=str(p))
        out["dev" if s == "val" else s] = df
    return Dataset("carer", out, "classification", CARER,
                   info={"licence": "research/education use (authors' README)", "source": "dair-ai/emotion"})
