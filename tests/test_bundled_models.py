"""One contract suite over every model the registry lists as bundled."""
import json

import numpy as np
import pytest

from affekt.core.registry import list_models, load_model
from affekt.core.types import Predictions

BUNDLED = [m["name"] for m in list_models() if m["bundled"]]
TEXTS = ["Thank you so much, this made my day!", "I can't believe they cancelled it again, so annoying.",
         "My grandmother passed away last night."]


def test_there_is_a_default_text_model():
    assert "text-default" in BUNDLED


def _inputs(model):
    """Three inputs of the model's modality (speech: generated voiced clips as (samples, rate))."""
    if model.modality == "text":
        return TEXTS
    from conftest import speech_like

    return [(speech_like(1.5, f0, rate, amp, seed=i), 16000)
            for i, (f0, rate, amp) in enumerate([(220, 6, 0.5), (150, 4, 0.25), (105, 2.5, 0.1)])]


def test_there_is_a_default_speech_model():
    assert "speech-default" in BUNDLED and load_model("speech-default").modality == "speech"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_contract(name):
    m = load_model(name)
    card = json.loads((__import__("pathlib").Path(m_path(name)) / "affekt.json").read_text())["card"]
    assert card.get("metrics"), "a bundled model carries its measured metrics"
    X = _inputs(m)
    preds = m.predict(X)
    assert isinstance(preds, Predictions) and len(preds) == 3
    P = m.predict_proba(X)
    assert P.shape == (3, len(m.labels_)) and np.isfinite(P).all() and (P >= 0).all() and (P <= 1).all()
    for p in preds:
        rec = p.to_dict()
        assert rec["label"] in m.labels_.labels and rec["labels"] and rec["model"] == name
        json.dumps(rec)
    ek = m.predict(X, label_space="ekman")
    assert {p.label_space for p in ek} == {"ekman"}


def m_path(name):
    return next(m["path"] for m in list_models() if m["name"] == name)


def test_default_text_model_behaves_sensibly():
    m = load_model("text-default")
    preds = m.predict(TEXTS, label_space="ekman")
    assert preds[0].label == "happiness"
    assert preds[1].label == "anger"
    assert preds[2].label == "sadness"
    if m.dimensions_:
        assert preds[0].valence > preds[2].valence
