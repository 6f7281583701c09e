"""Dataset loaders: one module per corpus, each reading that corpus's own public layout."""
from __future__ import annotations

from affekt.core.errors import DataError
from affekt.datasets.base import Dataset

TEXT_DATASETS = ("goemotions", "carer", "emobank", "csv")


def load_dataset(name: str, data_dir, **kw) -> Dataset:
    """``name`` is goemotions, carer, emobank or csv (any CSV/TSV/JSONL table; see table.load)."""
    name = name.lower()
    if name == "goemotions":
        from affekt.datasets import goemotions as mod
    elif name == "carer":
        from affekt.datasets import carer as mod
    elif name == "emobank":
        from affekt.datasets import emobank as mod
    elif name in ("csv", "tsv", "jsonl", "table"):
        from affekt.datasets import table

        return table.load(data_dir, **kw)
    else:
        raise DataError(f"unknown dataset '{name}' (known: {', '.join(TEXT_DATASETS)})")
    return mod.load(data_dir)


__all__ = ["Dataset", "load_dataset", "TEXT_DATASETS"]
