"""One registry of models: those bundled inside the package and a user's saved folders.

``affekt models``, the docs and the contract tests all read :func:`list_models`.
Model families (what ``affekt train --model FAMILY`` can build) register here too.
"""
from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Callable

from affekt.core.errors import ModelNotFoundError
from affekt.core.labels import LabelSpace, viewable_spaces
from affekt.core.recognizer import MANIFEST, Recognizer

DEFAULT_MODELS = {"text": "text-default", "speech": "speech-default", "face": "face-default",
                  "video": "video-default"}


def bundled_dir() -> Path:
    return Path(str(resources.files("affekt.models")))


def user_dir() -> Path:
    return Path(os.environ.get("AFFEKT_HOME", Path.home() / ".affekt")) / "models"


def _model_dirs() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for root in (user_dir(), bundled_dir()):  # bundled names win over user names
        if root.is_dir():
            for d in sorted(root.iterdir()):
                if (d / MANIFEST).is_file():
                    found[d.name] = d
    return found


def list_models() -> list[dict]:
    """Bundled and user models: name, modality, family, label space, headline metrics."""
    out = []
    bundled = bundled_dir().resolve()
    for name, d in _model_dirs().items():
        m = json.loads((d / MANIFEST).read_text(encoding="utf-8"))
        card = m.get("card", {})
        space = m.get("label_space")
        out.append({
            "name": name,
            "modality": m.get("modality"),
            "family": m.get("family"),
            "label_space": (space or {}).get("name"),
            "label_spaces": viewable_spaces(LabelSpace.from_dict(space)) if space else [],
            "dimensions": card.get("dimensions", []),
            "metrics": card.get("metrics", {}),
            "bundled": d.resolve().parent == bundled,
            "path": str(d),
        })
    return out


def resolve(name_or_path: str | os.PathLike) -> Path:
    """A bundled/user model name or a folder -> the model folder (clear error if neither)."""
    p = Path(name_or_path)
    if (p / MANIFEST).is_file():
        return p
    dirs = _model_dirs()
    if str(name_or_path) in dirs:
        return dirs[str(name_or_path)]
    if p.exists():
        raise ModelNotFoundError(f"'{p}' is not an affekt model folder (no {MANIFEST} inside)")
    known = ", ".join(dirs) or "none installed"
    raise ModelNotFoundError(f"no model named or saved at '{name_or_path}' (known models: {known})")


_CACHE: dict[tuple, Recognizer] = {}


def load_model(name_or_path: str | os.PathLike, *, cache: bool = True) -> Recognizer:
    folder = resolve(name_or_path)
    key = (str(folder.resolve()), (folder / MANIFEST).stat().st_mtime_ns)  # a re-saved folder reloads
    if cache and key in _CACHE:
        return _CACHE[key]
    model = Recognizer._from_folder(folder)
    if cache:
        _CACHE[key] = model
    return model


def default_model(modality: str) -> str:
    try:
        return DEFAULT_MODELS[modality]
    except KeyError:
        raise ModelNotFoundError(f"no bundled default model for modality '{modality}' yet") from None


# ------------------------------------------------------------------ families
_FAMILIES: dict[tuple[str, str], tuple[Callable[..., Recognizer], str]] = {}


def register_family(modality: str, name: str, factory: Callable[..., Recognizer], task: str) -> None:
    """``task`` is 'classification' or 'regression'."""
    _FAMILIES[(modality, name)] = (factory, task)


def families(modality: str) -> dict[str, str]:
    _import_modality(modality)
    return {n: t for (m, n), (_, t) in _FAMILIES.items() if m == modality}


def make_family(modality: str, name: str, **params) -> Recognizer:
    _import_modality(modality)
    try:
        factory, _ = _FAMILIES[(modality, name)]
    except KeyError:
        known = ", ".join(families(modality))
        raise ModelNotFoundError(f"no {modality} model family '{name}' (known: {known})") from None
    if params:  # a misspelt parameter is the user's mistake, not a TypeError deep in a constructor
        known = factory().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            from affekt.core.errors import InputError

            raise InputError(f"{modality} family '{name}' has no parameter {', '.join(map(repr, unknown))} "
                             f"(its parameters: {', '.join(sorted(known))})")
    return factory(**params)


def _import_modality(modality: str) -> None:
    import importlib

    try:
        importlib.import_module(f"affekt.{modality}.models")
    except ModuleNotFoundError as exc:
        if exc.name == f"affekt.{modality}" or exc.name == f"affekt.{modality}.models":
            raise ModelNotFoundError(f"unknown modality '{modality}' (available: text, speech, face, video, "
                                     "scene)") from None
        raise
