"""What ``affekt annotate`` labels: the items of one input, read once when a project is made.

An input is a folder (every audio file and image under it, recursively, in sorted order), one
audio file or image, or a text file: ``.txt`` (one text per line), ``.csv`` / ``.tsv`` (the
``--text-column``; ``--id-column`` or a column named ``id`` gives the ids) or ``.jsonl``.

Each item is a plain dict, as ``project.json`` keeps it:

* ``{"id": "a/b.png", "kind": "image", "path": "/abs/a/b.png"}`` (audio: ``"kind": "audio"``);
  the id of a file in a folder is its path under the folder, ``/``-separated;
* ``{"id": "12", "kind": "text", "text": "..."}``; the id of a text is its id column's value,
  else its line (``.txt``) or row (``.csv``, header not counted) number.

Media files are read in place (never copied); the server serves only the paths listed here.
Blank texts and lines that cannot be read are left out, with a warning that counts them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

from affekt.core.errors import InputError

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".w64", ".au", ".m4a")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".avif")
TEXT_SUFFIXES = (".txt", ".csv", ".tsv", ".jsonl", ".ndjson")
MAX_ID_CHARS = 500


def media_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "audio" if suffix in AUDIO_SUFFIXES else "image" if suffix in IMAGE_SUFFIXES else None


def read_items(source, *, text_column: str = "text", id_column: str | None = None,
               encoding: str = "utf-8") -> list[dict]:
    """The items of ``source`` (see the module's docstring); an :class:`InputError` when it holds none."""
    path = Path(source).expanduser()
    if not path.exists():
        raise InputError(f"input '{source}' does not exist (give a folder of audio files or images, "
                         "or a .txt / .csv file of texts)")
    if path.is_dir():
        return _folder_items(path)
    suffix = path.suffix.lower()
    if media_kind(path):
        return [{"id": path.name, "kind": media_kind(path), "path": str(path.resolve())}]
    if suffix in TEXT_SUFFIXES:
        return _text_items(path, text_column, id_column, encoding)
    raise InputError(f"input '{source}': cannot label a '{suffix or '(no suffix)'}' file; give a folder of audio "
                     f"files or images, an audio file or image, or a text file ({', '.join(TEXT_SUFFIXES)})")


def _folder_items(folder: Path) -> list[dict]:
    root = folder.resolve()
    items, other = [], 0
    for f in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        if not f.is_file() or any(part.startswith(".") for part in f.relative_to(root).parts):
            continue
        kind = media_kind(f)
        if kind is None:
            other += 1
            continue
        items.append({"id": f.relative_to(root).as_posix(), "kind": kind, "path": str(f)})
    if not items:
        raise InputError(f"folder '{folder}' holds no audio files or images (looked recursively for "
                         f"{', '.join(AUDIO_SUFFIXES + IMAGE_SUFFIXES)})")
    if other:
        warnings.warn(f"{other} file(s) in '{folder}' are neither audio nor images and are not labelled")
    return items


def _text_items(path: Path, text_column: str, id_column: str | None, encoding: str) -> list[dict]:
    from affekt.io.text import read_text_items

    raw = read_text_items(path, text_column, id_column=id_column, encoding=encoding)
    items, seen, skipped, failed = [], {}, 0, []
    for n, it in enumerate(raw, 1):
        if it.error:
            failed.append(it.error)
            continue
        text = it.value if isinstance(it.value, str) else ("" if it.value is None else str(it.value))
        if not text.strip():
            skipped += 1
            continue
        iid = str(it.id).strip() if it.id not in (None, "") else str(n)
        if len(iid) > MAX_ID_CHARS:
            raise InputError(f"'{path}': an id of {len(iid):,} characters ({iid[:40]!r}...); ids may have at most "
                             f"{MAX_ID_CHARS}")
        if iid in seen:
            raise InputError(f"'{path}': the id '{iid}' is given twice (items {seen[iid]} and {n}); each item "
                             "needs its own id")
        seen[iid] = n
        items.append({"id": iid, "kind": "text", "text": text})
    if failed:
        warnings.warn(f"{len(failed)} line(s) of '{path}' cannot be read and are not labelled (first: {failed[0]})")
    if skipped:
        warnings.warn(f"{skipped} blank text(s) in '{path}' are not labelled")
    if not items:
        raise InputError(f"'{path}' holds no text to label")
    return items
