"""The text modality's adapter (see :mod:`affekt.core.modality`): texts given on the command
line, or tables of texts (.txt a text per line, .csv/.tsv a column, .jsonl a field)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

from affekt.core.modality import Modality, error_record
from affekt.io.items import Item
from affekt.io.text import TEXT_SUFFIXES, read_text_items


class TextModality(Modality):
    name = "text"
    default_model = "text-default"
    suffixes = TEXT_SUFFIXES
    datasets = ("goemotions", "carer", "emobank", "meld", "dailydialog", "semeval2007", "csv")

    def items_from_file(self, path: Path, given: str, *, text_column: str = "text", id_column: str | None = None,
                        encoding: str = "utf-8", **_) -> list[Item]:
        items = read_text_items(path, text_column, id_column=id_column, encoding=encoding)
        for it in items:
            it.modality = self.name
        return items

    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 256,
                progress: bool = False, **opts) -> Iterator[list]:
        """Chunks of ``batch_size`` texts in input order, one model call each (the encoder sorts
        a chunk's texts by length itself), yielded as they are done; a progress bar on stderr
        from 500 texts. The chunks depend only on the input order, so any engine that cuts the
        input at multiples of ``batch_size`` (``--engine ray``) makes the same calls and writes
        the same records."""
        self.check_options(**opts)
        bar = None
        if progress and sum(1 for it in items if not it.error) >= 500:
            from tqdm import tqdm

            bar = tqdm(total=len(items), unit="text", file=sys.stderr, desc="predict")
        for s in range(0, len(items), batch_size):
            chunk = items[s:s + batch_size]
            out: list = [error_record(it, model.model_id_) if it.error else None for it in chunk]
            idx = [i for i, it in enumerate(chunk) if not it.error]
            if idx:
                preds = model.predict([chunk[i].value for i in idx], label_space=label_space, errors="record")
                for i, p in zip(idx, preds):
                    out[i] = p
            if bar is not None:
                bar.update(len(chunk))
            yield out
        if bar is not None:
            bar.close()

    def load_dataset(self, name: str, data_dir, *, text_column: str = "text", label_column=None,
                     label_sep: str | None = None, group_column: str | None = None, label_votes: bool = False,
                     **opts):
        from affekt.datasets import load_dataset

        kw = {}
        if name.lower() in ("csv", "tsv", "jsonl", "table"):
            kw = dict(text_column=text_column, label_columns=label_column or ["label"], label_sep=label_sep,
                      group_column=group_column, votes=label_votes)
        self.check_options(**opts)
        return load_dataset(name, data_dir, modality=self.name, **kw)


ADAPTER = TextModality()
