"""Reading texts from files: the only place text inputs are opened.

Each reader returns a list with one entry per input item, in input order: the text, or an
:class:`ItemError` saying why that item cannot be used (the rest of the batch goes on).
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from affekt.core.errors import InputError

TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".ndjson")


@dataclass
class ItemError:
    input: object
    error: str


def read_bytes_utf8(path: Path) -> str:
    """The whole file as UTF-8 text; a clear error (file, byte offset) when it is not UTF-8."""
    if not path.exists():
        raise InputError(f"input file '{path}' does not exist")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder; give a .txt, .csv, .tsv or .jsonl file")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"'{path}' is not UTF-8 text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {line}); re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
        ) from None
    if not text.strip():
        raise InputError(f"input file '{path}' is empty")
    return text


def read_texts(path, text_column: str = "text") -> list:
    """Texts from .txt (one per line), .csv/.tsv (column ``text_column``) or .jsonl (field)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise InputError(f"'{path}': unsupported text file type '{suffix or '(none)'}' "
                         f"(use {', '.join(TEXT_SUFFIXES)})")
    content = read_bytes_utf8(path)
    if suffix == ".txt":
        return [line.rstrip("\r") for line in content.rstrip("\n").split("\n")]
    if suffix in (".csv", ".tsv"):
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter="\t" if suffix == ".tsv" else ",")
        cols = reader.fieldnames or []
        if text_column not in cols:
            raise InputError(f"'{path}' has no column '{text_column}' (columns: {', '.join(cols) or 'none'}); "
                             "name the text column with --text-column")
        rows = list(reader)
        if not rows:
            raise InputError(f"'{path}' has a header but no rows")
        return [r[text_column] if r[text_column] is not None else ItemError(None, "row has too few fields")
                for r in rows]
    out: list = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(ItemError(line[:200], f"line {n} is not valid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict) or text_column not in obj:
            out.append(ItemError(line[:200], f"line {n} has no field '{text_column}'"))
            continue
        out.append(obj[text_column])
    return out
