"""EmoBank (Buechel & Hahn, 2017): ``emobank.csv`` (id, split, V, A, D, text), 1-5 scale."""
from __future__ import annotations

import pandas as pd

from affekt.core.errors import DataError
from affekt.datasets.base import Dataset, need_dir, need_file


def load(data_dir, splits=("train", "dev", "test")) -> Dataset:
    d = need_dir(data_dir)
    p = need_file(d, "emobank.csv", "EmoBank", "expected emobank.csv with columns id,split,V,A,D,text")
    df = pd.read_csv(p, keep_default_na=False, encoding="utf-8")
    missing = {"split", "V", "A", "D", "text"} - set(df.columns)
    if missing:
        raise DataError(f"{p}: missing column(s) {', '.join(sorted(missing))}")
    df = df.rename(columns={"V": "valence", "A": "arousal", "D": "dominance"})
    df = df[df["text"].astype(str).str.strip() != ""]
    out = {s: df[df["split"] == s].reset_index(drop=True) for s in splits}
    for s, part in out.items():
        if part.empty:
            raise DataError(f"{p}: no rows with split == '{s}'")
    return Dataset("emobank", out, "regression", None,
                   info={"licence": "CC BY-SA 4.0", "source": "JULIELab/EmoBank"})
