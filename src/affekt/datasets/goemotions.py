"""GoEmotions (Demszky et al., 2020): the simplified train/dev/test TSV release.

Layout (as in google-research/goemotions/data): ``train.tsv``, ``dev.tsv``, ``test.tsv`` with
rows ``text<TAB>comma-separated label ids<TAB>comment id``; label ids index ``emotions.txt``
(if absent, the standard 28-label order is used).
"""
from __future__ import annotations

import csv

import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import GOEMOTIONS
from affekt.datasets.base import Dataset, need_dir, need_file


def load(data_dir, splits=("train", "dev", "test")) -> Dataset:
    d = need_dir(data_dir)
    labels = GOEMOTIONS.labels
    if (d / "emotions.txt").is_file():
        names = [x.strip() for x in (d / "emotions.txt").read_text(encoding="utf-8").split("\n") if x.strip()]
        if tuple(names) != labels:
            raise DataError(f"{d / 'emotions.txt'}: labels differ from the GoEmotions 28 ({len(names)} found)")
    out = {}
    for s in splits:
        p = need_file(d, f"{s}.tsv", "GoEmotions", "expected train.tsv, dev.tsv, test.tsv")
        df = pd.read_csv(p, sep="\t", header=None, names=["text", "ids", "id"], dtype=str,
                         quoting=csv.QUOTE_NONE, keep_default_na=False, encoding="utf-8")
        try:
            df["labels"] = [[labels[int(i)] for i in ids.split(",")] for ids in df["ids"]]
        except (ValueError, IndexError) as exc:
            raise DataError(f"{p}: label ids must be integers 0-27 separated by commas ({exc})") from None
        out[s] = df[["id", "text", "labels"]]
    return Dataset("goemotions", out, "classification", GOEMOTIONS,
                   info={"licence": "CC BY 4.0 (Google Research)", "source": "google-research/goemotions"})
