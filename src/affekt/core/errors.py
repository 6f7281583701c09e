"""The affekt error hierarchy.

Every error a user can cause is an :class:`AffektError`; the CLI turns it into one readable
line and exit code 1. Each one also subclasses the matching built-in, as scikit-learn does,
so ``except ValueError`` keeps working for library users.
"""
from __future__ import annotations


class AffektError(Exception):
    """Base class of every error affekt raises on purpose."""


class InputError(AffektError, ValueError):
    """An input item or file cannot be used (empty text, bad encoding, unknown format...)."""


class DataError(AffektError, ValueError):
    """A dataset or table does not have the expected layout (missing file, column, split)."""


class LabelError(DataError):
    """Labels outside the label space, or label spaces that cannot be mapped."""


class ModelNotFoundError(AffektError, FileNotFoundError):
    """Neither a bundled model of that name nor a saved model folder at that path."""


class NotFittedError(AffektError, ValueError, AttributeError):
    """The recognizer is used before ``fit`` (or ``load``)."""


class MissingDependencyError(AffektError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


def require(module: str, extra: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``affekt[extra]``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(
            f"'{module}' is needed for this and is not installed: pip install 'affekt[{extra}]'"
        ) from exc
