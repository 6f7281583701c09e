"""affekt: emotion recognition as categories and as valence/arousal/dominance.

Import is cheap: heavy dependencies (torch, transformers, encoders) load lazily.

>>> import affekt
>>> model = affekt.load("text-default")          # doctest: +SKIP
>>> model.predict(["I can't wait to see you!"])   # doctest: +SKIP
"""
from __future__ import annotations

__version__ = "0.1.0"

from affekt.core.errors import (  # noqa: F401
    AffektError,
    DataError,
    InputError,
    LabelError,
    MissingDependencyError,
    ModelNotFoundError,
    NotFittedError,
)
from affekt.core.labels import CARER, EKMAN, GOEMOTIONS, LabelSpace, get_label_space  # noqa: F401
from affekt.core.types import EmotionPrediction, Predictions  # noqa: F401


def load(name_or_path: str):
    """Load a bundled model by name or a saved model folder (see ``affekt models``)."""
    from affekt.core.registry import load_model

    return load_model(name_or_path)
