"""Saving and loading a model's fitted Python objects (scikit-learn estimators, arrays, dicts).

Why not joblib: ``joblib.load`` unpickles with the pure-Python :class:`pickle._Unpickler` (it
overrides BUILD to read its arrays), which is slow for objects made of many small Python objects,
such as a TF-IDF vocabulary (a dict of ~100k n-grams): 1.3 s for the bundled text model's 17 MB
file against 0.1 s for the C unpickler. Pickle protocol 5 stores numpy arrays as raw buffers, so
nothing is lost. Folders written by earlier versions (``<stem>.joblib``) still load.

Like joblib files, these files run code when loaded: load only models you trust.
"""
from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from affekt.core.errors import DataError

PROTOCOL = 5


def dump_state(obj: Any, folder: Path, stem: str = "model") -> Path:
    """Write ``obj`` to ``folder/<stem>.pkl``; returns the path."""
    path = Path(folder) / f"{stem}.pkl"
    with open(path, "wb") as fh:
        pickle.dump(obj, fh, protocol=PROTOCOL)
    return path


def state_exists(folder: Path, stem: str = "model") -> bool:
    return (Path(folder) / f"{stem}.pkl").is_file() or (Path(folder) / f"{stem}.joblib").is_file()


def load_state(folder: Path, stem: str = "model") -> Any:
    """Read what :func:`dump_state` wrote (or a ``<stem>.joblib`` of an earlier version)."""
    folder = Path(folder)
    path = folder / f"{stem}.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    legacy = folder / f"{stem}.joblib"
    if legacy.is_file():
        import joblib

        return joblib.load(legacy)
    raise DataError(f"'{folder}' holds no saved model state ({stem}.pkl)")
