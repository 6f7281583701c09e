"""Input items as the readers hand them to the models: any modality, one per prediction.

A reader never drops anything a user gave: an item it cannot use keeps its place in the batch
with ``error`` set, and becomes an error record in the output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# An error record echoes at most this many characters of its input (with a marker and the length).
ECHO_CHARS = 200


#: suffixes of a .txt list of input paths (one per line), for every file modality
LIST_SUFFIXES = (".txt", ".lst")

@dataclass
class Item:
    """One input: ``value`` is what the model reads (a text, a file path), ``given`` how the
    record names it (the path as the user wrote it; default: ``value``), ``id`` the user's id
    passed through to the record, ``error`` why it cannot be used (then it is not predicted)."""

    value: Any = None
    given: Any = None
    id: Any = None
    error: str | None = None
    modality: str | None = None

    @property
    def name(self) -> Any:
        return self.value if self.given is None else self.given


def echo(value: Any, limit: int = ECHO_CHARS) -> tuple[Any, int | None]:
    """``value`` as an error record echoes it: a long text cut to ``limit`` characters with a
    marker, and its full length (None when nothing was cut)."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"… [truncated: {len(value):,} characters]", len(value)
    return value, None
