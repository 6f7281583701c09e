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
    """Three inputs of the model's modality (speech: the bundled example voice, whole and its two
    phrases, as (samples, rate): a model reports no emotion for audio without speech)."""
    if model.modality == "text":
        return TEXTS
    if model.modality == "face":  # the bundled example photo: whole, its face, and that face mirrored
        from importlib import resources

        from PIL import Image

        photo = np.asarray(Image.open(resources.files("affekt.examples").joinpath("face.jpg")).convert("RGB"))
        face = photo[60:190, 160:290]
        return [photo, face, face[:, ::-1].copy()]
    from conftest import example_speech

    y = example_speech()
    if model.modality == "video":  # tiny videos made here: two people talking, one silent, one face alone
        import tempfile
        from pathlib import Path

        from video_helpers import make_video

        d = Path(tempfile.mkdtemp(prefix="affekt-video-"))
        return [str(make_video(d / "a.mp4", people=(0, 1), audio=y, seconds=len(y) / 16000, size=(480, 240))),
                str(make_video(d / "b.mp4", seconds=2.0)), str(make_video(d / "c.mkv", people=(1,), seconds=1.5))]
    return [(y, 16000), (y[: int(2.1 * 16000)], 16000), (y[int(2.3 * 16000):], 16000)]


def test_there_is_a_default_speech_model():
    assert "speech-default" in BUNDLED and load_model("speech-default").modality == "speech"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_contract(name):
    m = load_model(name)
    card = json.loads((__import__("pathlib").Path(m_path(name)) / "affekt.json").read_text())["card"]
    assert card.get("metrics"), "a bundled model carries its measured metrics"
    X = _inputs(m)
    kw = {"whole_image": True} if m.modality == "face" else {}  # a face model scores each image as one face
    preds = m.predict(X, **kw)
    assert isinstance(preds, Predictions) and len(preds) == 3
    P = m.predict_proba(X)
    labels = list(m.labels_.labels)
    assert P.shape == (3, len(labels)) and np.isfinite(P).all()
    if not m.labels_.multi_label:  # one label per item: a distribution over the labels
        np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-4)
    for p, row in zip(preds, P):
        rec = p.to_dict()
        # the record is the scores predict_proba gives, its label their argmax, among its labels
        np.testing.assert_allclose([rec["scores"][lab] for lab in labels], row, atol=1e-5)
        assert list(rec["scores"]) == labels and rec["label"] == labels[int(row.argmax())]
        assert rec["label"] in rec["labels"] and rec["model"] == name and rec["label_space"] == m.labels_.name
        json.dumps(rec)
    # the Ekman view, worked out by hand from the published mapping: a multi-label model's Ekman
    # score is the highest of its labels that map there, a single-label model's their sum
    from affekt.core.labels import EKMAN, get_mapping

    ek = m.predict(X, label_space="ekman", **kw)
    assert {p.label_space for p in ek} == {"ekman"}
    to = get_mapping(m.labels_, "ekman").mapping if m.labels_.name != "ekman" else {lab: lab for lab in labels}
    pool = max if m.labels_.multi_label else sum
    # a composite with a model trained in Ekman space (text-default) blends its scores in at its weight
    views = getattr(m, "views", {})
    w = m.view_weights.get("ekman", 1.0) if "ekman" in views else 0.0
    V = [p.scores for p in m._view_model("ekman").predict(X, label_space="ekman")] if w else [None] * len(X)
    for p, row, v in zip(ek, P, V):
        want = {e: pool([row[i] for i, lab in enumerate(labels) if to.get(lab) == e] or [0.0]) for e in EKMAN.labels}
        if v is not None:
            want = {e: w * v[e] + (1 - w) * want[e] for e in EKMAN.labels}
        assert list(p.scores) == list(EKMAN.labels)
        np.testing.assert_allclose([p.scores[e] for e in EKMAN.labels], [want[e] for e in EKMAN.labels], atol=1e-5)
        assert p.label == max(want, key=want.get)


def test_there_is_a_default_face_model_and_it_finds_the_example_face():
    from importlib import resources

    pytest.importorskip("ai_edge_litert")  # the detector's runtime (affekt[face])
    assert "face-default" in BUNDLED
    m = load_model("face-default")
    assert m.modality == "face" and m.labels_.name == "ekman"
    p = m.predict([str(resources.files("affekt.examples").joinpath("face.jpg"))])[0]
    assert p.ok and len(p.faces) == 1
    x, y, w, h = p.faces[0]["box"]
    assert 150 < x + w / 2 < 300 and 60 < y + h / 2 < 200 and 60 < w < 160  # the astronaut's face
    assert set(p.faces[0]["scores"]) == set(m.labels_.labels)
    card = json.loads((__import__("pathlib").Path(m_path("face-default")) / "affekt.json").read_text())["card"]
    assert "fer2013_privatetest" in json.dumps(card["metrics"]) or "accuracy" in json.dumps(card["metrics"])
    size = sum(f.stat().st_size for f in __import__("pathlib").Path(m_path("face-default")).rglob("*") if f.is_file())
    assert size < 25e6, "the bundled face model stays small"


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


def test_text_default_survives_a_save_load_cycle(tmp_path):
    """The bundled text model saved to a folder of one's own and loaded back from it: the same
    model (class, id, labels, card) giving the same scores and V/A/D on a few texts."""
    from affekt.core.registry import load_model as load

    m = load_model("text-default")
    folder = m.save(tmp_path / "copy")
    copy = load(folder, cache=False)
    assert type(copy) is type(m) and copy.model_id_ == m.model_id_ == "text-default"
    assert copy.labels_.labels == m.labels_.labels and copy.card_ == m.card_
    texts = TEXTS + ["The meeting moved to 3pm.", "Wow, I did not see that coming!"]
    a, b = m.predict(texts), copy.predict(texts)
    for p, q in zip(a, b):
        assert p.to_dict() == q.to_dict()  # scores to 6 decimals, labels, V/A/D, model id
    np.testing.assert_allclose(copy.predict_proba(texts), m.predict_proba(texts), atol=1e-6)
    # and saved again from the copy, it is the same files (nothing drifts from one save to the next)
    again = copy.save(tmp_path / "again")
    assert json.loads((again / "affekt.json").read_text()) == json.loads((folder / "affekt.json").read_text())
