"""Speech models (functionals families, nets, ensemble), label-space views, fold CV, long-input
timelines, and the speech side of the CLI (train / predict / analyze). Tiny models on generated
clips: the point is behaviour, not accuracy."""
import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import (LONG_BURSTS, SPEECH_CLASSES, SR, FitSpy, class_clip, needs_torch, same_state, speech_like,
                      state_of, write_audio, write_bad_audio)

from cli_helpers import ITEMS_FAILED, invoke
from affekt.core.errors import InputError, NotFittedError
from affekt.core.registry import load_model, make_family

pytestmark = pytest.mark.usefixtures("speech_env", "synthetic_voices_are_speech")
LABELS = sorted(SPEECH_CLASSES)
TINY = {"svm": {}, "logreg": {}, "rf": {"n_estimators": 20}, "lgbm": {"n_estimators": 10},
        "cnn": {"epochs": 1, "width": 4}, "crnn": {"epochs": 1, "width": 4}}






@pytest.fixture(scope="module")
def fitted(speech_env, speech_corpus):
    """family -> a tiny model fitted on the 24 training clips (each fitted once per module)."""
    models = {}

    def get(family):
        if family not in models:
            models[family] = make_family("speech", family, **TINY[family]).fit(speech_corpus["X"], speech_corpus["y"])
        return models[family]
    return get


def check_prediction(p, labels, source=None):
    assert p.error is None and list(p.scores) == list(labels)
    assert sum(p.scores.values()) == pytest.approx(1, abs=1e-4)
    assert p.label == max(p.scores, key=p.scores.get) and p.labels == [p.label]
    if source is not None:
        assert p.input == str(source)


# ----------------------------------------------------------------------------------- families
NETS = ("cnn", "crnn")  # the torch families; the others need no torch


@pytest.mark.parametrize("family", [pytest.param(f, marks=needs_torch) if f in NETS else f for f in TINY])
def test_family_fit_predict_save_load(family, fitted, speech_corpus, tmp_path):
    m = fitted(family)
    X = speech_corpus["X_test"]
    preds = m.predict(X)
    assert len(preds) == len(X) and m.labels_.labels == tuple(LABELS)
    for p, x in zip(preds, X):
        check_prediction(p, LABELS, x)
        assert p.model_id == f"speech-{family}" and p.segments is None
        # each test clip: 0.25 s of near-silence, 1.2 s of voice, 0.25 s; the span is the voice, plus
        # the detector's 0.1 s padding (to within its 32 ms frames)
        assert p.span["start"] == pytest.approx(0.15, abs=0.04) and p.span["end"] == pytest.approx(1.55, abs=0.04)
    P = m.predict_proba(X)
    assert P.shape == (len(X), 3) and np.allclose(P.sum(axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(P, [[p.scores[lab] for lab in LABELS] for p in preds], atol=1e-6)
    if family in ("svm", "logreg", "rf"):  # pitch, rate and level separate the classes
        assert np.mean([p.label == y for p, y in zip(preds, speech_corpus["y_test"])]) >= 5 / 6
    folder = m.save(tmp_path / "m")
    manifest = json.loads((folder / "affekt.json").read_text())
    assert manifest["modality"] == "speech" and manifest["family"] == family
    assert manifest["label_space"]["labels"] == LABELS
    loaded = load_model(folder, cache=False)
    P1 = loaded.predict_proba(X)
    if family in NETS:
        # weights are saved as float16: close to the float32 model, and exact from then on
        np.testing.assert_allclose(P1, P, atol=2e-2)
        again = load_model(loaded.save(tmp_path / "m2"), cache=False).predict_proba(X)
        np.testing.assert_array_equal(again, P1)
    else:
        np.testing.assert_array_equal(P1, P)


def test_predict_records_errors_in_order(fitted, speech_corpus, tmp_path):
    m = fitted("logreg")
    bad = write_bad_audio(tmp_path / "bad")
    good = speech_corpus["X_test"][:2]
    arr = (class_clip("anger", 77), SR)
    X = [good[0], bad["empty"][0], bad["truncated_wav"][0], arr, str(bad["missing"][0]), good[1], 42]
    preds = m.predict(X, errors="record")
    assert len(preds) == len(X)
    check_prediction(preds[0], LABELS, good[0])
    check_prediction(preds[5], LABELS, good[1])
    check_prediction(preds[3], LABELS, "<array>")
    for i, word in ((1, "empty file"), (2, "truncated"), (4, "not found")):
        assert str(X[i]) in preds[i].error and word in preds[i].error and not preds[i].scores
        assert preds[i].to_dict() == {"input": str(X[i]), "error": preds[i].error}
    assert "got int" in preds[6].error
    with pytest.raises(InputError, match="truncated") as e:
        m.predict([good[0], bad["truncated_wav"][0]])
    assert str(bad["truncated_wav"][0]) in str(e.value)
    with pytest.raises(InputError, match="wrap it in a list"):
        m.predict(good[0])
    with pytest.raises(NotFittedError):
        make_family("speech", "svm").predict(good)


@needs_torch
def test_ensemble_svm_cnn_soft_votes_and_round_trips(speech_corpus, tmp_path):
    from affekt.speech._nets import SpectrogramNet
    from affekt.speech.models import FunctionalsClassifier, SpeechEnsemble

    ens = SpeechEnsemble(members=[FunctionalsClassifier("svm"), SpectrogramNet(epochs=1, width=4)])
    ens.fit(speech_corpus["X"], speech_corpus["y"])
    X = speech_corpus["X_test"]
    P = ens.predict_proba(X)
    parts = [m.predict_proba(X) for m in ens.members_]
    assert ens.weights_ == [0.5, 0.5]
    np.testing.assert_allclose(P, 0.5 * parts[0] + 0.5 * parts[1], atol=1e-5)  # soft voting
    for p in ens.predict(X):
        check_prediction(p, LABELS)
    folder = ens.save(tmp_path / "ens")
    manifest = json.loads((folder / "affekt.json").read_text())
    assert manifest["family"] == "ensemble" and manifest["n_members"] == 2
    members = [json.loads((folder / f"member_{k}" / "affekt.json").read_text()) for k in (0, 1)]
    assert [m["family"] for m in members] == ["svm", "cnn"]
    loaded = load_model(folder, cache=False)
    assert [m.family for m in loaded.members_] == ["svm", "cnn"]
    P1 = loaded.predict_proba(X)
    np.testing.assert_allclose(P1, P, atol=2e-2)  # the cnn member is stored in float16
    np.testing.assert_array_equal(load_model(loaded.save(tmp_path / "ens2"), cache=False).predict_proba(X), P1)


def test_ensemble_of_family_names_computes_shared_features_once(speech_corpus, monkeypatch):
    from affekt.speech import features as F
    from affekt.speech.models import SpeechEnsemble

    ens = SpeechEnsemble(members=["logreg", "svm"]).fit(speech_corpus["X"], speech_corpus["y"])
    assert [m.family for m in ens.members_] == ["logreg", "svm"]
    calls = []
    real = F.feature_vector
    monkeypatch.setattr(F, "feature_vector", lambda y, fs="functionals": calls.append(fs) or real(y, fs))
    X = speech_corpus["X_test"][:2]
    ens.predict(X)
    assert len(calls) == len(X)  # one functionals vector per utterance, read by both members


@needs_torch
def test_cnn_early_stops_on_a_dev_split_and_keeps_its_best_epoch(speech_corpus, monkeypatch):
    """The dev split's balanced accuracy drives early stopping (scripted here, so the stop is
    certain): training ends after ``patience`` + 1 epochs without a gain, and the network that
    comes back is the best epoch's, which scores on the dev clips what that epoch scored."""
    from affekt.speech._nets import SpectrogramNet
    from affekt.training import trainer

    X, y = speech_corpus["X"], speech_corpus["y"]
    spy = FitSpy(monkeypatch, trainer, script=[0.4, 0.7, 0.5, 0.6, 0.9, 0.9])
    m = SpectrogramNet(epochs=6, width=4, patience=1, seed=1)
    m.fit(X[:18], y[:18], X_dev=X[18:], y_dev=y[18:])
    (run,) = spy.runs
    assert [h["dev_score"] for h in m.history_] == [0.4, 0.7, 0.5, 0.6]  # stopped after 4 of 6 epochs
    assert same_state(state_of(m.net_), run["states"][1]) and not same_state(state_of(m.net_), run["states"][-1])
    assert run["score"]() == pytest.approx(run["real"][1], abs=1e-12)
    # without a dev split there is nothing to stop on: the cosine schedule runs all its epochs
    spy = FitSpy(monkeypatch, trainer)
    m = SpectrogramNet(epochs=3, width=4, patience=0, seed=1).fit(X, y)
    assert len(m.history_) == 3 and spy.runs[0]["kw"]["patience"] == 3


def test_ravdess_space_viewed_in_ekman():
    """Trained in RAVDESS's 8 labels (with calm); viewed in Ekman's 7, calm merges into neutral."""
    from affekt.core.labels import EKMAN
    from affekt.datasets.speech import RAVDESS
    from affekt.speech.models import FunctionalsClassifier

    X, y = [], []
    for k, lab in enumerate(RAVDESS.labels):
        for i in range(3):
            X.append((speech_like(0.8, 95 + 20 * k, 2 + 0.5 * k, 0.3, seed=10 * k + i), SR))
            y.append(lab)
    m = FunctionalsClassifier("logreg").fit(X, y, label_space="ravdess")
    own = m.predict(X[:6])
    ek = m.predict(X[:6], label_space="ekman")
    assert own.label_space == "ravdess" and ek.label_space == "ekman"
    for o, e in zip(own, ek):
        check_prediction(o, RAVDESS.labels)
        check_prediction(e, EKMAN.labels)
        assert e.scores["neutral"] == pytest.approx(o.scores["neutral"] + o.scores["calm"], abs=1e-5)
        for lab in EKMAN.labels:
            if lab != "neutral":
                assert e.scores[lab] == pytest.approx(o.scores[lab], abs=1e-6)


def test_cross_validate_own_folds_with_gender_breakdown(speech_corpus):
    from affekt.core.errors import DataError
    from affekt.evaluation.cv import cross_validate
    from affekt.speech.models import FunctionalsClassifier

    X, y = speech_corpus["X"], speech_corpus["y"]
    speakers = [Path(x).stem.split("_")[0] for x in X]          # s0..s3
    folds = [int(s[1]) for s in speakers]                        # one fold per speaker
    gender = ["male" if f % 2 else "female" for f in folds]
    res = cross_validate(FunctionalsClassifier("logreg"), X, y, protocol="folds", folds=folds,
                         attributes={"gender": gender}, progress=False)
    assert res["protocol"] == "folds" and res["k"] == 4 and len(res["folds"]) == 4
    # every figure is the one scikit-learn gives on the same folds, fitted here by hand
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    f1s, uars, pred = [], [], {}
    for f in range(4):  # fold f = speaker s<f>, in order
        tr = [i for i in range(len(X)) if folds[i] != f]
        te = [i for i in range(len(X)) if folds[i] == f]
        m = FunctionalsClassifier("logreg").fit([X[i] for i in tr], [y[i] for i in tr])
        yp = [m.labels_.labels[j] for j in m.predict_proba([X[i] for i in te]).argmax(1)]
        yt = [y[i] for i in te]
        f1s.append(f1_score(yt, yp, labels=sorted(set(yt)), average="macro", zero_division=0))
        uars.append(balanced_accuracy_score(yt, yp))
        pred.update(zip(te, yp))
    assert res["macro_f1"]["folds"] == pytest.approx(f1s, abs=1e-9)
    assert res["macro_f1"]["mean"] == pytest.approx(np.mean(f1s), abs=1e-9)
    assert res["balanced_accuracy"]["folds"] == pytest.approx(uars, abs=1e-9)
    assert res["pooled"]["n"] == len(X)
    assert res["pooled"]["accuracy"] == pytest.approx(accuracy_score(y, [pred[i] for i in range(len(X))]))
    assert res["pooled"]["accuracy"] >= 0.8  # pitch, rate and level separate the classes
    pooled = res["pooled"]["by_attribute"]["gender"]
    assert {g: pooled[g]["n"] for g in pooled} == {"female": 12, "male": 12}
    by = res["by_attribute"]["gender"]
    assert set(by) == {"female", "male"}
    # each fold holds one speaker, so one gender: folds 0 and 2 are the women's, 1 and 3 the men's
    assert by["female"]["balanced_accuracy"]["folds"] == pytest.approx([uars[0], uars[2]], abs=1e-9)
    assert by["male"]["balanced_accuracy"]["folds"] == pytest.approx([uars[1], uars[3]], abs=1e-9)
    with pytest.raises(DataError, match="predefined folds"):
        cross_validate(FunctionalsClassifier("logreg"), X, y, protocol="folds", progress=False)
    with pytest.raises(DataError, match="group-kfold with 5 folds needs at least 5 groups.*the data has 4"):
        cross_validate(FunctionalsClassifier("logreg"), X, y, protocol="group-kfold", k=5, groups=speakers,
                       progress=False)


# --------------------------------------------------------------------------------- long input
def check_segments(p, labels):
    segs = p.segments
    assert segs and len(segs) >= len(LONG_BURSTS)
    for s in segs:
        assert s["start"] < s["end"] and s["end"] - s["start"] <= 8.0 + 1e-6
        assert s["label"] in labels and s["label"] == max(s["scores"], key=s["scores"].get)
        assert list(s["scores"]) == list(labels) and sum(s["scores"].values()) == pytest.approx(1, abs=1e-3)
        mid = (s["start"] + s["end"]) / 2
        assert any(a - 0.2 <= mid <= b + 0.2 for a, b, _ in LONG_BURSTS)  # windows lie on the speech
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in zip(segs, segs[1:]))  # in time order
    for a, b, _ in LONG_BURSTS:
        assert any(s["start"] <= (a + b) / 2 <= s["end"] for s in segs)
    assert p.span == {"start": segs[0]["start"], "end": segs[-1]["end"]}
    # the clip's scores are the duration-weighted mean of its windows'
    d = np.array([s["end"] - s["start"] for s in segs])
    S = np.array([[s["scores"][lab] for lab in labels] for s in segs])
    np.testing.assert_allclose([p.scores[lab] for lab in labels], d @ S / d.sum(), atol=1e-3)


def test_long_input_timeline(fitted, long_clip, energy_vad, tmp_path):
    from affekt.speech.timeline import timeline_rows, write_timeline

    (p,) = fitted("svm").predict([long_clip])
    check_prediction(p, LABELS, long_clip)
    check_segments(p, LABELS)
    n = len(p.segments)
    assert timeline_rows(p) == p.segments
    with open(write_timeline(p, tmp_path / "t.csv"), newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["start", "end", "label", *LABELS] and len(rows) == n + 1
    for row, s in zip(rows[1:], p.segments):
        assert float(row[0]) == s["start"] and float(row[1]) == s["end"] and row[2] == s["label"]
        assert [float(v) for v in row[3:]] == [s["scores"][lab] for lab in LABELS]
    lines = write_timeline(p, tmp_path / "t.jsonl").read_text().splitlines()
    assert len(lines) == n
    recs = [json.loads(line) for line in lines]
    assert all(r["input"] == long_clip for r in recs) and [r["start"] for r in recs] == [s["start"] for s in p.segments]
    png = write_timeline(p, tmp_path / "sub" / "t.png")
    assert png.stat().st_size > 5000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InputError, match="unsupported format '.svg'"):
        write_timeline(p, tmp_path / "t.svg")


def test_short_clip_timeline_is_one_row_and_errors_have_none(fitted, speech_corpus, tmp_path):
    from affekt.core.types import EmotionPrediction
    from affekt.speech.timeline import timeline_rows, write_timeline

    (p,) = fitted("svm").predict(speech_corpus["X_test"][:1])
    (row,) = timeline_rows(p)
    assert (row["start"], row["end"], row["label"]) == (p.span["start"], p.span["end"], p.label)
    assert len(write_timeline(p, tmp_path / "one.jsonl").read_text().splitlines()) == 1
    bad = EmotionPrediction(input="x.wav", error="'x.wav': file not found")
    assert timeline_rows(bad) == []
    with pytest.raises(InputError, match="no timeline for 'x.wav'"):
        write_timeline(bad, tmp_path / "bad.csv")


# ------------------------------------------------------------------------------------------ CLI
@pytest.fixture(scope="module")
def cli_model(speech_env, speech_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "speech-svm"
    r = invoke(["train", "--modality", "speech", "--dataset", "folder", "--data-dir", speech_corpus["root"],
                "--speaker-by", r"^(s\d)_", "--model", "svm", "-o", out])
    return out, r.stdout, r.output


def test_cli_train_reports_cv_and_saves(cli_model):
    out, log, both = cli_model
    line = next(ln for ln in log.splitlines() if "macro_f1" in ln)
    # --speaker-by names the 4 speakers of s<k>_<i>.wav: speaker-grouped CV, 4 folds (one per speaker);
    # that no speaker is on both sides of a fold is checked in tests/test_speech_speakers.py
    assert line.startswith("group-kfold 4-fold macro_f1")
    assert "not speaker-independent" not in both
    assert 0.0 <= float(re.search(r"macro_f1:? ([0-9.]+) ±", line).group(1)) <= 1.0
    assert f"saved to {out}" in both
    manifest = json.loads((out / "affekt.json").read_text())
    assert manifest["modality"] == "speech" and manifest["family"] == "svm" and manifest["model_id"] == "speech-svm"
    assert manifest["label_space"]["labels"] == LABELS
    metrics = manifest["card"]["metrics"]
    assert set(metrics) == {"group-kfold4_balanced_accuracy", "group-kfold4_accuracy", "group-kfold4_macro_f1"}
    assert manifest["card"]["command"].startswith("affekt train --modality speech --dataset folder")
    res = json.loads((out / "results.json").read_text())
    assert res["cv"]["protocol"] == "group-kfold" and len(res["cv"]["folds"]) == 4
    assert res["cv"]["speaker_independent"] is True
    assert res["cv"]["pooled"]["n"] == 24 and "gender" in res["cv"]["by_attribute"]


@pytest.fixture(scope="module")
def input_folder(tmp_path_factory, speech_corpus):
    """Good clips in nested folders, plus broken files (each must get its own error record)."""
    root = tmp_path_factory.mktemp("inputs")
    for i, src in enumerate(speech_corpus["X_test"][:4]):
        dst = root / ["a", "b/nested", "c", "."][i] / f"clip{i}.wav"
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dst)
    bad = write_bad_audio(root / "z_bad")
    shutil.rmtree(bad.pop("folder")[0])
    for name in ("missing", "xyz"):  # never collected from a folder
        bad.pop(name)
    (root / "a" / "notes.txt").write_text("not collected")
    return root, bad


def test_cli_predict_folder_recursive_sorted_with_error_records(cli_model, input_folder, tmp_path):
    root, bad = input_folder
    out = tmp_path / "o.jsonl"
    r = invoke(["predict", "--modality", "speech", "--input", root, "--output", out, "--model", cli_model[0]],
               code=ITEMS_FAILED)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    expected = sorted(str(p) for p in root.rglob("*") if p.suffix in (".wav", ".flac", ".aiff"))
    assert [rec["input"] for rec in recs] == expected
    errors = {rec["input"]: rec["error"] for rec in recs if "error" in rec}
    assert set(errors) == {str(p) for p, _ in bad.values()}
    for path, word in bad.values():
        assert str(path) in errors[str(path)] and word in errors[str(path)]
    good = [rec for rec in recs if "error" not in rec]
    assert len(good) == 4
    for rec in good:
        assert rec["label"] in LABELS and sum(rec["scores"].values()) == pytest.approx(1, abs=1e-4)
        assert rec["model"] == "speech-svm" and {"start", "end"} <= set(rec["span"])
    assert f"wrote {len(recs)} predictions" in r.output


def test_cli_predict_list_keeps_its_order(cli_model, input_folder, tmp_path):
    root, _ = input_folder
    lst = root / "list.txt"
    lst.write_text(f"# clips to score\nc/clip2.wav\n\nmissing.wav\n{root / 'a' / 'clip0.wav'}\n  clip3.wav  \n")
    out = tmp_path / "o.jsonl"
    invoke(["predict", "--modality", "speech", "-i", lst, "-o", out, "-m", cli_model[0]], code=ITEMS_FAILED)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    # each file named as the list gives it (relative lines are read from the list's folder)
    assert [rec["input"] for rec in recs] == ["c/clip2.wav", "missing.wav", str(root / "a/clip0.wav"), "clip3.wav"]
    assert recs[1] == {"input": "missing.wav", "error": f"'{root / 'missing.wav'}': file not found"}
    assert all("label" in recs[i] for i in (0, 2, 3))


def test_cli_predict_label_space_ekman(cli_model, input_folder, tmp_path):
    from affekt.core.labels import EKMAN

    root, _ = input_folder
    out, own = tmp_path / "ek.jsonl", tmp_path / "own.jsonl"
    invoke(["predict", "--modality", "speech", "-i", root / "a", "-o", own, "-m", cli_model[0]])
    invoke(["predict", "--modality", "speech", "-i", root / "a", "-o", out, "-m", cli_model[0],
            "--label-space", "ekman"])
    (o,), (e,) = [[json.loads(line) for line in f.read_text().splitlines()] for f in (own, out)]
    assert list(e["scores"]) == list(EKMAN.labels) and e["label_space"] == "ekman"
    for lab in EKMAN.labels:
        assert e["scores"][lab] == pytest.approx(o["scores"].get(lab, 0.0), abs=1e-5)
    assert e["label"] == o["label"]


@pytest.mark.parametrize("make,msg", [
    (lambda d: (d / "clip.xyz").write_bytes(b"1") and d / "clip.xyz", "not an audio file, folder or .txt list"),
    (lambda d: d / "nope", "does not exist"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no audio files"),
    (lambda d: (d / "l.txt").write_text("# none\n") and d / "l.txt", "names no files"),
])
def test_cli_predict_bad_input_is_one_line(cli_model, tmp_path, make, msg):
    r = invoke(["predict", "--modality", "speech", "-i", make(tmp_path), "-o", tmp_path / "o.jsonl",
                "-m", cli_model[0]], code=1)
    assert msg in r.output and len(r.output.strip().splitlines()) == 1 and r.output.startswith("error: ")
    assert not (tmp_path / "o.jsonl").exists()


def test_cli_analyze_timelines_and_json(cli_model, speech_corpus, tmp_path):
    clip = speech_corpus["X_test"][0]
    r = invoke(["analyze", clip, "--model", cli_model[0], "--timeline", tmp_path / "t.csv",
                "--timeline", tmp_path / "t.png"])
    assert "model: speech-svm" in r.output
    with open(tmp_path / "t.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["start", "end", "label", *LABELS] and len(rows) == 2 and rows[1][2] in LABELS
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    assert f"timeline written to {tmp_path / 't.csv'}" in r.output
    r = invoke(["analyze", clip, speech_corpus["X_test"][3], "--model", cli_model[0], "--json",
                "--timeline", tmp_path / "m.jsonl"])
    recs = json.loads(r.stdout)
    assert [rec["input"] for rec in recs] == [clip, speech_corpus["X_test"][3]]
    for rec in recs:
        assert rec["label"] in LABELS and sum(rec["scores"].values()) == pytest.approx(1, abs=1e-4)
    for x in (clip, speech_corpus["X_test"][3]):  # several inputs: one timeline per input
        assert len((tmp_path / f"m.{Path(x).stem}.jsonl").read_text().splitlines()) == 1


def test_cli_analyze_long_clip_prints_its_timeline(cli_model, long_clip, energy_vad, tmp_path):
    r = invoke(["analyze", long_clip, "--model", cli_model[0], "--timeline", tmp_path / "t.jsonl"])
    n = len((tmp_path / "t.jsonl").read_text().splitlines())
    assert n >= len(LONG_BURSTS) and f"({n} windows)" in " ".join(r.stdout.split())  # the timeline table's title
    r = invoke(["analyze", long_clip, "--model", cli_model[0], "--json"])
    (rec,) = json.loads(r.stdout)
    assert len(rec["segments"]) == n


def test_cli_analyze_errors(cli_model, speech_corpus, tmp_path):
    clip = speech_corpus["X_test"][0]
    r = invoke(["analyze", clip, "I feel great", "--model", cli_model[0]], code=1)
    assert "these are speech and text" in r.output
    r = invoke(["analyze", clip, "--model", cli_model[0], "--timeline", tmp_path / "t.txt"], code=1)
    assert "use a .csv, .jsonl, .png file" in r.output
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    r = invoke(["analyze", empty, "--model", cli_model[0]], code=ITEMS_FAILED)  # every input failed
    assert "empty file" in r.output
    r = invoke(["analyze", empty, clip, "--model", cli_model[0], "--json"], code=ITEMS_FAILED)  # one failed
    recs = json.loads(r.stdout)
    assert "empty file" in recs[0]["error"] and recs[1]["label"] in LABELS


def test_cli_analyze_with_the_default_model(speech_corpus):
    import affekt

    if not (Path(affekt.__file__).parent / "models" / "speech-default" / "affekt.json").is_file():
        pytest.skip("no bundled speech-default model")
    from affekt.core.registry import load_model as load

    labels = list(load("speech-default").labels_.labels)
    r = invoke(["analyze", speech_corpus["X_test"][0], "--json"])
    (rec,) = json.loads(r.stdout)
    assert list(rec["scores"]) == labels and rec["label"] in labels and rec["model"] == "speech-default"
    assert sum(rec["scores"].values()) == pytest.approx(1, abs=1e-4)


def test_cli_train_combines_corpora_into_ekman(tmp_path):
    """RAVDESS + TESS layouts (4 + 2 speakers, every Ekman label each) -> one Ekman model; calm
    counts as neutral; the CV is grouped by corpus-prefixed speaker and broken down by gender."""
    from affekt.core.labels import EKMAN

    rav = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger", "06": "fear",
           "07": "disgust", "08": "surprise"}
    tess = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "neutral": "neutral",
            "ps": "surprise", "sad": "sadness"}
    f0 = {lab: 100 + 25 * k for k, lab in enumerate(EKMAN.labels)}
    for a in range(1, 5):
        for code, lab in rav.items():
            if code != "02" or a == 1:
                write_audio(tmp_path / "rav" / f"Actor_{a:02d}" / f"03-01-{code}-01-01-01-{a:02d}.wav",
                            speech_like(0.6, f0["neutral" if lab == "calm" else lab], 4, 0.3, seed=a * 10 + int(code)))
    for s, spk in enumerate(("OAF", "YAF")):
        for code, lab in tess.items():
            write_audio(tmp_path / "tess" / f"{spk}_{code}" / f"{spk}_word_{code}.wav",
                        speech_like(0.6, f0[lab], 4, 0.3, seed=500 + s * 10 + len(code)))
    out = tmp_path / "m"
    r = invoke(["train", "--modality", "speech", "--dataset", "ravdess", "--data-dir", tmp_path / "rav",
                "--dataset", "tess", "--data-dir", tmp_path / "tess", "--label-space", "ekman",
                "--model", "logreg", "-o", out])
    assert "group-kfold 5-fold macro_f1" in r.output
    assert "gender=female: balanced_accuracy" in r.output and "gender=male: balanced_accuracy" in r.output
    manifest = json.loads((out / "affekt.json").read_text())
    assert manifest["label_space"]["name"] == "ekman" and manifest["card"]["dataset"]["name"] == "ravdess+tess"
    assert manifest["card"]["dataset"]["splits"]["all"] == 4 * 7 + 1 + 2 * 7


@pytest.mark.parametrize("args,msg", [
    (["--dataset", "folder", "--data-dir", "{empty}"], "no audio files"),
    (["--dataset", "ravdess", "--dataset", "tess", "--data-dir", "{empty}"], "2 --dataset but 1 --data-dir"),
    (["--dataset", "folder", "--data-dir", "{corpus}", "--dataset", "folder", "--data-dir", "{corpus}"],
     "combining datasets needs --label-space"),
    (["--dataset", "folder", "--data-dir", "{corpus}", "--model", "bert"], "unknown speech family 'bert'"),
    (["--dataset", "imdb", "--data-dir", "{corpus}"], "unknown speech dataset 'imdb'"),
])
def test_cli_train_errors_are_one_line(speech_corpus, tmp_path, args, msg):
    (tmp_path / "empty").mkdir()
    args = [a.format(empty=tmp_path / "empty", corpus=speech_corpus["root"]) for a in args]
    r = invoke(["train", "--modality", "speech", *args, "-o", tmp_path / "out"], code=1)
    assert msg in r.output and len(r.output.strip().splitlines()) == 1


def test_cli_predict_unknown_modality(tmp_path):
    r = invoke(["predict", "--modality", "gesture", "-i", tmp_path, "-o", tmp_path / "o.jsonl"], code=1)
    assert "unknown modality 'gesture'" in r.output
