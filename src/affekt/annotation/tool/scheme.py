"""The label scheme of an annotation project, and the check every answer goes through.

A scheme is fixed when the project is made (``project.json`` keeps it): categories from an
affekt label space or the user's own list, one per item or several (``multi``); optionally the
three SAM dimensions (valence, arousal, dominance, integers 1-9); optionally an "unsure" mark
and a "not applicable" answer (no label, no dimensions).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from affekt.core.errors import InputError, LabelError

DIMENSIONS = ("valence", "arousal", "dominance")
SAM_MIN, SAM_MAX = 1, 9
MAX_LABEL_CHARS = 64
ANSWER_FIELDS = ("answer_id", "annotator", "item", "labels", "label", *DIMENSIONS, "unsure", "not_applicable",
                 "duration_ms")
_ANSWER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class AnswerError(InputError):
    """An answer (or a request) the server refuses: ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Scheme:
    labels: tuple[str, ...] = ()
    multi: bool = False
    vad: bool = False
    unsure: bool = False
    not_applicable: bool = False
    space: str | None = None  # the affekt label space the labels are, when they are one

    # ------------------------------------------------------------------ making one
    @classmethod
    def parse(cls, labels: str | None, *, multi: bool | None = None, vad: bool = False, unsure: bool = False,
              not_applicable: bool = False) -> Scheme:
        """``labels``: an affekt label space's name, the user's own comma-separated list, or a file
        of labels (one a line); None or "" for none (then ``vad`` must be on). ``multi`` None:
        as the label space says (GoEmotions is multi-label); one label per item otherwise."""
        from affekt.core.labels import _SPACES

        space, names = None, ()
        given = (labels or "").strip()
        if given:
            if given.lower() in _SPACES:
                ls = _SPACES[given.lower()]
                space, names = ls.name, tuple(ls.labels)
                multi = ls.multi_label if multi is None else multi
            elif "," in given:
                names = tuple(x.strip() for x in given.split(","))
            elif Path(given).expanduser().is_file():
                from affekt.io.text import read_bytes_utf8

                names = tuple(x.strip() for x in read_bytes_utf8(Path(given).expanduser()).splitlines()
                              if x.strip() and not x.strip().startswith("#"))
            else:
                raise LabelError(f"--labels '{given}': not a label space (known: {', '.join(sorted(_SPACES))}), "
                                 "a file of labels, or a list of your own (two or more, comma-separated, "
                                 "e.g. 'joy,anger,other')")
            _check_names(names, given)
        if not names and not vad:
            raise InputError("nothing to annotate: give --labels (a label space such as ekman, or your own list "
                             "such as 'joy,anger,other') and/or --vad")
        return cls(names, bool(multi) and bool(names), bool(vad), bool(unsure), bool(not_applicable), space)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["labels"] = list(self.labels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Scheme:
        return cls(tuple(d.get("labels") or ()), bool(d.get("multi")), bool(d.get("vad")), bool(d.get("unsure")),
                   bool(d.get("not_applicable")), d.get("space"))

    def describe(self) -> str:
        parts = []
        if self.labels:
            kind = "several labels per item" if self.multi else "one label per item"
            parts.append(f"{self.space or 'own labels'} ({', '.join(self.labels)}; {kind})")
        if self.vad:
            parts.append("valence/arousal/dominance 1-9")
        if self.unsure:
            parts.append("'unsure'")
        if self.not_applicable:
            parts.append("'not applicable'")
        return ", ".join(parts)

    def differences(self, other: Scheme) -> list[str]:
        """What differs between this scheme and ``other``, in words."""
        out = []
        if self.labels != other.labels:
            out.append(f"labels {', '.join(self.labels) or '(none)'} vs {', '.join(other.labels) or '(none)'}")
        for key, words in (("multi", "multi-label"), ("vad", "--vad"), ("unsure", "--unsure"),
                           ("not_applicable", "--not-applicable")):
            if getattr(self, key) != getattr(other, key):
                out.append(f"{words} {'on' if getattr(self, key) else 'off'} vs {'on' if getattr(other, key) else 'off'}")
        return out

    # ------------------------------------------------------------------ answers
    def parse_labels(self, value, where: str = "labels") -> tuple[str, ...]:
        """A label or list of labels (or 'a;b') -> the labels in the scheme's order; a
        :class:`AnswerError` naming any that are not in the scheme."""
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            vals = [v.strip() for v in value.split(";") if v.strip()]
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            vals = list(value)
        else:
            raise AnswerError(f"{where}: expected a list of labels (strings), got {type(value).__name__}")
        unknown = sorted({v for v in vals if v not in self.labels})
        if unknown:
            allowed = ", ".join(self.labels) if self.labels else "none (this project asks for dimensions only)"
            raise AnswerError(f"{where}: {', '.join(map(repr, unknown[:5]))} {'is' if len(unknown) == 1 else 'are'} "
                              f"not in this project's labels (allowed: {allowed})")
        if len(set(vals)) != len(vals):
            raise AnswerError(f"{where}: a label is given twice")
        return tuple(lab for lab in self.labels if lab in vals)

    def check(self, body: dict) -> dict:
        """An answer as the API takes it -> its checked values (labels, dimensions, marks); an
        :class:`AnswerError` with the reason when it does not fit the scheme."""
        unknown = sorted(set(body) - set(ANSWER_FIELDS))
        if unknown:
            raise AnswerError(f"unknown field(s) {', '.join(unknown)} (fields: {', '.join(ANSWER_FIELDS)})")
        if body.get("labels") is not None and body.get("label") is not None:
            raise AnswerError("give labels (a list) or label (one), not both")
        raw = body.get("labels") if body.get("labels") is not None else body.get("label")
        labels = self.parse_labels(raw)
        na = _flag(body, "not_applicable")
        unsure = _flag(body, "unsure")
        if na and not self.not_applicable:
            raise AnswerError("not_applicable: this project has no 'not applicable' answer "
                              "(start it with --not-applicable for one)")
        if unsure and not self.unsure:
            raise AnswerError("unsure: this project has no 'unsure' mark (start it with --unsure for one)")
        dims = {}
        for d in DIMENSIONS:
            v = body.get(d)
            if v is None:
                dims[d] = None
                continue
            if not self.vad:
                raise AnswerError(f"{d}: this project does not ask for valence/arousal/dominance (--vad)")
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v):
                raise AnswerError(f"{d}: expected a whole number from {SAM_MIN} to {SAM_MAX}, got {v!r}")
            if not SAM_MIN <= v <= SAM_MAX:
                raise AnswerError(f"{d}: {v:g} is outside the scale {SAM_MIN}-{SAM_MAX}")
            dims[d] = int(v)
        if na:
            if labels or any(v is not None for v in dims.values()):
                raise AnswerError("a 'not applicable' answer carries no labels and no valence/arousal/dominance")
        else:
            if self.labels and not labels:
                raise AnswerError("labels: missing; choose " + ("one or more labels" if self.multi else "a label")
                                  + (" (or 'not applicable')" if self.not_applicable else ""))
            if labels and not self.multi and len(labels) > 1:
                raise AnswerError(f"labels: one label per item in this project, got {len(labels)} "
                                  f"({', '.join(labels)})")
            if self.vad:
                missing = [d for d, v in dims.items() if v is None]
                if missing:
                    raise AnswerError(f"{', '.join(missing)}: missing; rate each from {SAM_MIN} to {SAM_MAX}")
        duration = body.get("duration_ms")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float))
                                     or not 0 <= duration < float("inf")):
            raise AnswerError(f"duration_ms: expected milliseconds (a number >= 0), got {duration!r}")
        answer_id = body.get("answer_id")
        if answer_id is not None and (not isinstance(answer_id, str) or not _ANSWER_ID.match(answer_id)):
            raise AnswerError("answer_id: expected 8-64 letters, digits, '-' or '_' (the page makes one per answer, "
                              "so that a retried request is stored once)")
        return {"labels": labels, **dims, "unsure": unsure, "not_applicable": na,
                "duration_ms": None if duration is None else int(min(duration, 2**53)), "answer_id": answer_id}


def _flag(body: dict, key: str) -> bool:
    v = body.get(key, False)
    if v is None:
        return False
    if not isinstance(v, bool):
        raise AnswerError(f"{key}: expected true or false, got {v!r}")
    return v


def _check_names(names: tuple[str, ...], given: str) -> None:
    if len(names) < 2:
        raise LabelError(f"--labels '{given}': give two or more labels")
    bad = [n for n in names if not n or len(n) > MAX_LABEL_CHARS or ";" in n or any(ord(c) < 32 for c in n)]
    if bad:
        raise LabelError(f"--labels '{given}': labels must be 1-{MAX_LABEL_CHARS} characters without ';' "
                         f"(it joins labels in exports) or control characters, got {bad[0]!r}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise LabelError(f"--labels '{given}': {', '.join(map(repr, dup))} given twice")
