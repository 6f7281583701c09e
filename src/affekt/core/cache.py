"""Where affekt keeps what it computes from files between runs (speech features, scene features, text embeddings).

Within one run, features are kept in memory by the modality that computes them, so every fold of
a cross-validation and every member of an ensemble reads each file once. Between runs they go on
disk under :func:`cache_root`.
"""
from __future__ import annotations

import os
from pathlib import Path

_OFF = ("0", "off", "no", "none", "false")
_DISK_BY_DEFAULT = False


def cache_on_disk_by_default(on: bool = True) -> None:
    """Keep features on disk between runs even when ``AFFEKT_CACHE`` is unset (``affekt train``,
    ``evaluate`` and ``tune`` turn this on: training runs read the same corpora again and again).
    ``affekt predict`` leaves it off: a user's files are not mirrored on disk unless asked."""
    global _DISK_BY_DEFAULT
    _DISK_BY_DEFAULT = bool(on)


def cache_root() -> Path | None:
    """Where features are kept between runs: ``$AFFEKT_CACHE``; when it is unset, for training
    (:func:`cache_on_disk_by_default`) ``$XDG_CACHE_HOME/affekt`` (``~/.cache/affekt``), else
    nowhere. None when ``AFFEKT_CACHE`` is ``off`` (or 0, no, none, false). Within one run every
    file's features are also kept in memory, so folds and ensemble members share them."""
    v = os.environ.get("AFFEKT_CACHE")
    if v is not None and v.strip().lower() in _OFF + ("",):
        return None
    if v:
        return Path(v)
    if not _DISK_BY_DEFAULT:
        return None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "affekt"


#: content digests of the files seen in this process, by (path, size, mtime): each file is read
#: for its digest once
_DIGESTS: dict = {}


def file_digest(path) -> str:
    """SHA-1 of a file's bytes, memoised for this process by (path, size, mtime): cache keys made from
    it serve a copied, moved or re-downloaded file and read an edited one again. OSError if unreadable."""
    import hashlib

    p = Path(path)
    st = p.stat()
    k = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    d = _DIGESTS.get(k)
    if d is None:
        h = hashlib.sha1()
        with open(p, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        d = _DIGESTS[k] = h.hexdigest()
    return d



def read_entry(path: Path | None, default=None):
    """A cache entry from disk, or ``default`` when there is none or it is damaged (a killed run's
    half-written file): the caller computes it again."""
    import pickle

    if path is None or not path.exists():
        return default
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # noqa: BLE001 - any unreadable entry is recomputed, never an error of the run
        return default


def write_entry(path: Path | None, value) -> None:
    """Keep ``value`` on disk at ``path`` atomically (a temporary file, then renamed, so a reader never
    sees half an entry); a read-only or full cache folder is skipped and the run goes on."""
    import pickle
    import threading

    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError:
        pass
