"""Modalities: one small adapter each, in one registry.

An adapter says what a modality reads (file suffixes), how a file, a folder or a ``--input``
expands into :class:`~affekt.io.items.Item` s, which bundled model is its default, how its
models are run over a batch (batching, progress, options such as speakers), and which datasets
it loads. The CLI (and later the service and the annotation tool) dispatch through
:func:`get_modality` instead of asking "is this audio?" in every command, so adding faces or
video adds an adapter, not branches.

Adapters are imported lazily (``affekt.<modality>.adapter``): importing this module is cheap.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Iterator

from affekt.core.errors import InputError, ModelNotFoundError
from affekt.io.items import Item

# name -> module holding ``ADAPTER``; in the order modalities are tried and listed
MODALITIES: dict[str, str] = {"text": "affekt.text.adapter", "speech": "affekt.speech.adapter",
                              "face": "affekt.face.adapter", "video": "affekt.video.adapter",
                              "scene": "affekt.scene.adapter"}


class Modality:
    """Base adapter. Subclasses set the class attributes and override what differs."""

    name: str = ""
    default_model: str = ""
    #: files whose content is items of this modality (a .csv of texts; a .wav clip)
    suffixes: tuple[str, ...] = ()
    #: datasets ``affekt train --modality NAME --dataset ...`` loads
    datasets: tuple[str, ...] = ()
    #: predictions of this modality may carry a timeline (``segments``) worth writing to a file
    timelines: bool = False
    #: files of this modality may be named with a time range, ``PATH#t=START,END`` (seconds)
    fragments: bool = False

    # ------------------------------------------------------------- inputs
    def items_from_file(self, path: Path, given: str, **opts) -> list[Item]:
        """The items of one file named on ``affekt analyze`` (a clip is one item, a table many)."""
        return [Item(str(path), given=given, modality=self.name)]

    def items_from_input(self, path: Path, **opts) -> list[Item]:
        """The items of ``affekt predict --input PATH``: a file's items, or those of every file
        of this modality under a folder (recursive, sorted)."""
        frag = fragment_file(str(path))
        if frag is not None and frag[1] is self:
            return [Item(str(path), given=str(path), modality=self.name)]
        path = Path(path)
        if not path.exists():
            raise InputError(f"input '{path}' does not exist")
        if not path.is_dir():
            return self.items_from_file(path, str(path), **opts)
        files = sorted(f for f in path.rglob("*") if f.is_file() and f.suffix.lower() in self.suffixes)
        if not files:
            raise InputError(f"folder '{path}' holds no {self.name} files ({' '.join(self.suffixes)}; searched recursively)")
        return [it for f in files for it in self.items_from_file(f, str(f), **opts)]

    def items_from_list(self, path: Path, kind: str) -> list[Item]:
        """The items of a .txt list of paths: one per line (blank lines and ``#`` comments
        skipped), relative to the list's folder; records name them as the line wrote them."""
        from affekt.io.text import read_bytes_utf8

        items = []
        for line in read_bytes_utf8(path).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                q = Path(line)
                items.append(Item(str(q if q.is_absolute() else path.parent / q), given=line, modality=self.name))
        if not items:
            raise InputError(f"list '{path}' names no {kind}")
        return items

    def check_options(self, **opts) -> None:
        """Refuse options that do not apply to this modality (a clear :class:`InputError`)."""
        for key, value in opts.items():
            if value:
                raise InputError(f"--{key.replace('_', '-')} does not apply to {self.name} inputs")

    # -------------------------------------------------------------- running
    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 256,
                progress: bool = False, **opts) -> Iterator[list]:
        """Predictions for ``items``, in their order, yielded in chunks as they are done (so a
        caller can write them as it goes). An item with ``error`` gets an error record."""
        raise NotImplementedError

    def write_timeline(self, pred, path) -> Path:
        """Write the timeline of one prediction (``--timeline``); the format follows the suffix."""
        raise InputError(f"{self.name} predictions have no timeline")

    # ------------------------------------------------------------- datasets
    def load_dataset(self, name: str, data_dir, **opts):
        from affekt.datasets import load_dataset

        return load_dataset(name, data_dir, modality=self.name, **opts)

    def __repr__(self) -> str:
        return f"<modality {self.name}>"


_LOADED: dict[str, Modality] = {}


def get_modality(name: str) -> Modality:
    if name not in MODALITIES:
        raise ModelNotFoundError(f"unknown modality '{name}' (available: {', '.join(MODALITIES)})")
    if name not in _LOADED:
        _LOADED[name] = importlib.import_module(MODALITIES[name]).ADAPTER
    return _LOADED[name]


def modalities() -> list[Modality]:
    return [get_modality(n) for n in MODALITIES]


def modality_of_file(path) -> Modality | None:
    """The modality whose inputs files with this suffix are, or None."""
    suffix = Path(path).suffix.lower()
    return next((m for m in modalities() if suffix in m.suffixes), None)


def fragment_file(arg: str) -> tuple[Path, Modality] | None:
    """``'clip.mp4#t=10,20'`` where clip.mp4 is a file of a modality that takes time ranges
    (W3C Media Fragments, seconds): the file and its modality; else None."""
    if "#t=" not in arg:
        return None
    p = Path(arg.rsplit("#t=", 1)[0])
    try:
        if not p.is_file():
            return None
    except OSError:
        return None
    m = modality_of_file(p)
    return (p, m) if m is not None and m.fragments else None


def known_suffixes() -> dict[str, str]:
    """suffix -> modality, over every registered modality."""
    return {s: m.name for m in modalities() for s in m.suffixes}


# ------------------------------------------------------------ command-line arguments
MAX_PATH_CHARS = 4096


def looks_like_path(arg: str) -> bool:
    """Whether an argument that names nothing on disk was still meant as a path: one line that
    ends in a suffix affekt reads (``clip.wav``, ``notes.csv``), or has a path separator and no
    spaces (``data/x``, ``some/folder/``). A text that merely contains a dot stays text."""
    if not arg or "\n" in arg or len(arg) > MAX_PATH_CHARS:
        return False
    if Path(arg).suffix.lower() in known_suffixes() and not arg.endswith(" "):
        return True
    return ("/" in arg or "\\" in arg) and not any(c.isspace() for c in arg)


def classify_argument(arg: str, *, as_text: bool = False, **opts) -> list[Item]:
    """The items one ``affekt analyze`` argument stands for.

    * an existing file: read by its suffix's modality (a table of texts, an audio clip...);
    * an existing folder: every file under it that some modality reads, in sorted order;
    * ``clip.mp4#t=START,END``: that time range (seconds) of an existing video;
    * something that looks like a path (:func:`looks_like_path`) but does not exist: an error;
    * anything else: a text. ``as_text=True`` makes every argument a text.
    """
    if as_text:
        return [Item(arg, modality="text")]
    p = Path(arg) if arg and "\n" not in arg and len(arg) <= MAX_PATH_CHARS else None
    try:
        exists = p is not None and p.exists()
    except OSError:  # a name the file system cannot hold (too long, NUL...): a text
        exists = False
    if exists and p.is_dir():
        return items_of_folder(p, **opts)
    if exists:
        m = modality_of_file(p)
        if m is None:
            raise InputError(f"'{arg}': affekt does not read '{p.suffix or '(no extension)'}' files "
                             f"({_suffix_help()}); to analyse the words themselves, add --as-text")
        return m.items_from_file(p, arg, **opts)
    frag = fragment_file(arg) if p is not None else None
    if frag is not None:  # clip.mp4#t=10,20: a time range of an existing video
        return [Item(arg, given=arg, modality=frag[1].name)]
    if looks_like_path(arg):
        raise InputError(f"'{arg}': no such file or folder (it looks like a path: {_suffix_help()}); "
                         "to analyse it as a text, add --as-text")
    return [Item(arg, modality="text")]


def items_of_folder(folder: Path, **opts) -> list[Item]:
    """Every file under ``folder`` (recursive, sorted) that a modality reads, as its items."""
    items: list[Item] = []
    for f in sorted(q for q in folder.rglob("*") if q.is_file()):
        m = modality_of_file(f)
        if m is not None:
            items.extend(m.items_from_file(f, str(f), **opts))
    if not items:
        raise InputError(f"folder '{folder}' holds no file affekt reads ({_suffix_help()}; searched recursively)")
    return items


def _suffix_help() -> str:
    by: dict[str, list[str]] = {}
    for s, name in known_suffixes().items():
        by.setdefault(name, []).append(s)
    return "; ".join(f"{name}: {' '.join(sfx)}" for name, sfx in by.items())


def run_items(model, modality: Modality, items: list[Item], *, abstain_below: float | None = None,
              **kw) -> Iterator[list]:
    """``modality.predict`` with each record carrying its item's id; ``abstain_below``: labels
    whose top score is under it become "uncertain" (:mod:`affekt.core.abstain`)."""
    from affekt.core.abstain import abstain, check_threshold

    if abstain_below is not None:
        check_threshold(abstain_below)
    k = 0
    for chunk in modality.predict(model, items, **kw):
        for p in chunk:
            p.id = items[k].id
            k += 1
            if abstain_below is not None:
                abstain(p, abstain_below)
        yield chunk


def error_record(item: Item, model_id: Any = None):
    from affekt.core.types import EmotionPrediction

    return EmotionPrediction(input=item.name, error=item.error, model_id=model_id, id=item.id)


def predict_chunks(model, items: list[Item], *, step: int, label_space=None, progress: bool = False,
                   min_progress: int = 50, **kw) -> Iterator[list]:
    """``model.predict`` over ``items`` in chunks of ``step``, records in input order, chunk by chunk:
    an item that could not be read gets its error record, the others are predicted together
    (``errors="record"``, ``kw`` passed on); each record names the input as the user gave it.
    A progress bar from ``min_progress`` items on."""
    import sys

    from tqdm import tqdm

    with tqdm(total=len(items), unit="image", file=sys.stderr, desc="predict",
              disable=not progress or len(items) < min_progress) as bar:
        for s in range(0, len(items), step):
            chunk = items[s:s + step]
            ok = [it for it in chunk if not it.error]
            preds = iter(model.predict([it.value for it in ok], label_space=label_space, errors="record", **kw)
                         if ok else [])
            out = []
            for it in chunk:
                p = error_record(it, model.model_id_) if it.error else next(preds)
                p.input = it.name  # the path as the user gave it (a list's line as written)
                out.append(p)
            yield out
            bar.update(len(chunk))
