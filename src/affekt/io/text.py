"""Reading texts from files: the only place text inputs are opened.

:func:`read_text_items` returns one :class:`~affekt.io.items.Item` per input item, in input
order. An item that cannot be used (a line that is not valid in the file's encoding, a broken
JSONL line, a CSV row with too few fields) keeps its place with ``error`` set, so the rest of the
file is still predicted and nothing the user gave is lost.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

from affekt.core.errors import InputError
from affekt.io.items import Item

TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".ndjson", ".parquet")
_BAD = re.compile("[\udc80-\udcff]")  # bytes the encoding could not decode (surrogateescape)


@dataclass
class ItemError:
    input: object
    error: str


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise InputError(f"unknown text encoding '{encoding}' (e.g. utf-8, latin-1, cp1252, utf-16)") from None
    return "utf-8-sig" if name == "utf-8" else name  # a UTF-8 byte-order mark is not text


def _decode(path: Path, encoding: str) -> str:
    """The file as text; bytes that are not valid in ``encoding`` stay as surrogates, so that
    only the items holding them fail (see :func:`_undecodable`)."""
    if not path.exists():
        raise InputError(f"input file '{path}' does not exist")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder; give a .txt, .csv, .tsv or .jsonl file")
    text = path.read_bytes().decode(_codec(encoding), errors="surrogateescape")
    if not text.strip():
        raise InputError(f"input file '{path}' is empty")
    return text


def _undecodable(s: str, where: str, encoding: str) -> str | None:
    """Why ``s`` (from a file decoded with surrogateescape) is not valid text, or None."""
    m = _BAD.search(s)
    if m is None:
        return None
    byte = ord(m.group()) - 0xDC00
    return (f"{where} is not valid {encoding} text (byte 0x{byte:02x} at character {m.start() + 1}); "
            f"if the file is in another encoding, give it with --encoding (e.g. --encoding latin-1)")


def _printable(s: str) -> str:
    """A text with undecodable bytes shown as U+FFFD, for echoing in an error record."""
    return _BAD.sub("\ufffd", s)


def read_bytes_utf8(path: Path) -> str:
    """The whole file as UTF-8 text; a clear error (file, byte offset) when it is not UTF-8
    (for files that must be read whole, such as lists of paths)."""
    path = Path(path)
    text = _decode(path, "utf-8")
    m = _BAD.search(text)
    if m is not None:
        offset = len(text[: m.start()].encode("utf-8", "surrogateescape"))
        line = text[: m.start()].count("\n") + 1
        raise InputError(f"'{path}' is not UTF-8 text: byte 0x{ord(m.group()) - 0xDC00:02x} at offset {offset} "
                         f"(line {line}); re-save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)")
    return text


def read_text_items(path, text_column: str = "text", *, id_column: str | None = None,
                    encoding: str = "utf-8") -> list[Item]:
    """Texts from .txt (one per line), .csv/.tsv (column ``text_column``) or .jsonl (field).

    ``id_column``: a column (field) whose value each item carries to its record; by default a
    column named ``id`` when the table has one. A line or row that is not valid ``encoding``
    text becomes an item with ``error`` set; the others are read as usual."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise InputError(f"'{path}': unsupported text file type '{suffix or '(none)'}' "
                         f"(use {', '.join(TEXT_SUFFIXES)})")
    if suffix == ".parquet":
        return _parquet_items(path, text_column, id_column)
    content = _decode(path, encoding)
    if suffix == ".txt":
        if id_column:
            raise InputError(f"--id-column '{id_column}': '{path}' is a .txt file (one text per line, no columns)")
        out = []
        for n, line in enumerate(content.rstrip("\n").split("\n"), 1):
            line = line.rstrip("\r")
            err = _undecodable(line, f"line {n}", encoding)
            out.append(Item(_printable(line), error=err) if err else Item(line))
        return out
    if suffix in (".csv", ".tsv"):
        return _table_items(path, content, "\t" if suffix == ".tsv" else ",", text_column, id_column, encoding)
    return _jsonl_items(content, text_column, id_column, encoding)


def _table_items(path: Path, content: str, delimiter: str, text_column: str, id_column: str | None,
                 encoding: str) -> list[Item]:
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    cols = reader.fieldnames or []
    if text_column not in cols:
        raise InputError(f"'{path}' has no column '{text_column}' (columns: {', '.join(cols) or 'none'}); "
                         "name the text column with --text-column")
    if id_column and id_column not in cols:
        raise InputError(f"'{path}' has no id column '{id_column}' (columns: {', '.join(cols)})")
    id_col = id_column or ("id" if "id" in cols else None)
    out = []
    start = 2  # the header is line 1
    for r in reader:
        where = f"line {start}" if reader.line_num == start else f"lines {start}-{reader.line_num}"
        start = reader.line_num + 1
        rid = r.get(id_col) if id_col else None
        text = r[text_column]
        if text is None:
            out.append(Item(None, id=rid, error=f"{where}: the row has too few fields (no '{text_column}')"))
            continue
        err = _undecodable(text, where, encoding) or (_undecodable(rid, f"{where} (id)", encoding) if rid else None)
        out.append(Item(_printable(text), id=rid and _printable(rid), error=err) if err else Item(text, id=rid))
    if not out:
        raise InputError(f"'{path}' has a header but no rows")
    return out


def _parquet_items(path: Path, text_column: str, id_column: str | None) -> list[Item]:
    """A Parquet table's text column (and id column); a null text is an error item."""
    from affekt.core.errors import require

    pq = require("pyarrow.parquet", "text")
    try:
        schema = pq.read_schema(path)
    except Exception as exc:
        raise InputError(f"'{path}': not a readable Parquet file ({str(exc)[:120]})") from None
    cols = list(schema.names)
    if text_column not in cols:
        raise InputError(f"'{path}' has no column '{text_column}' (columns: {', '.join(cols) or 'none'}); "
                         "name the text column with --text-column")
    if id_column and id_column not in cols:
        raise InputError(f"'{path}' has no id column '{id_column}' (columns: {', '.join(cols)})")
    kind = schema.field(text_column).type
    import pyarrow as pa

    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        raise InputError(f"'{path}': column '{text_column}' holds {kind}, not text")
    id_col = id_column or ("id" if "id" in cols else None)
    table = pq.read_table(path, columns=[text_column] + ([id_col] if id_col else []))
    texts = table.column(text_column).to_pylist()
    ids = table.column(id_col).to_pylist() if id_col else [None] * len(texts)
    if not texts:
        raise InputError(f"'{path}' has no rows")
    return [Item(t, id=i) if t is not None else Item(None, id=i, error=f"row {n}: no text (null)")
            for n, (t, i) in enumerate(zip(texts, ids), 1)]


def _jsonl_items(content: str, text_column: str, id_column: str | None, encoding: str) -> list[Item]:
    out: list[Item] = []
    for n, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        err = _undecodable(line, f"line {n}", encoding)
        if err:
            out.append(Item(_printable(line), error=err))
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            out.append(Item(line, error=f"line {n} is not valid JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict) or text_column not in obj:
            out.append(Item(line, error=f"line {n} has no field '{text_column}'"))
            continue
        if id_column and id_column not in obj:
            out.append(Item(obj[text_column], error=f"line {n} has no id field '{id_column}'"))
            continue
        out.append(Item(obj[text_column], id=obj.get(id_column or "id")))
    return out


def read_texts(path, text_column: str = "text", *, encoding: str = "utf-8") -> list:
    """Like :func:`read_text_items`, as plain values: the text, or an :class:`ItemError`."""
    return [ItemError(it.name, it.error) if it.error else it.value
            for it in read_text_items(path, text_column, encoding=encoding)]
