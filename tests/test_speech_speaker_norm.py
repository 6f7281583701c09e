"""Speaker normalisation (``speaker_norm``): functionals taken relative to each speaker's mean,
in training, in cross-validation (test speakers unlabelled) and in prediction (API and CLI)."""
import csv
import json
import os

import numpy as np
import pytest
from conftest import SPEECH_CLASSES, speech_like, write_audio

from cli_helpers import invoke
from affekt.core.errors import InputError
from affekt.core.registry import load_model, make_family
from affekt.evaluation.cv import cross_validate

pytestmark = pytest.mark.usefixtures("speech_env", "synthetic_voices_are_speech")
LABELS = sorted(SPEECH_CLASSES)
PITCH = (0.7, 0.85, 1.15, 1.4)  # each speaker's voice: a pitch factor on every class's f0


@pytest.fixture(scope="module")
def speakers_corpus(tmp_path_factory):
    """4 speakers x 3 classes x 4 clips, ``<root>/s<k>/<label>_<i>.wav``; the speakers' pitch
    differs as much as the classes' does."""
    root = tmp_path_factory.mktemp("speakers")
    X, y, spk = [], [], []
    for s, k in enumerate(PITCH):
        for c, (lab, (f0, rate, amp)) in enumerate(SPEECH_CLASSES.items()):
            for i in range(4):
                rng = np.random.default_rng(s * 100 + c * 10 + i)
                clip = speech_like(1.0, f0 * k * rng.uniform(0.97, 1.03), rate * rng.uniform(0.9, 1.1), amp,
                                   seed=s * 100 + c * 10 + i)
                X.append(write_audio(os.path.join(root, f"s{s}", f"{lab}_{i}.wav"), clip))
                y.append(lab)
                spk.append(f"s{s}")
    return {"root": root, "X": X, "y": y, "speakers": spk}


def test_leave_one_speaker_out_gains_from_speaker_norm(speakers_corpus):
    c = speakers_corpus
    folds = [int(s[1]) for s in c["speakers"]]
    uar = {}
    for norm in (False, True):
        r = cross_validate(make_family("speech", "logreg", speaker_norm=norm), c["X"], c["y"], protocol="folds",
                           folds=folds, speakers=c["speakers"], progress=False)
        uar[norm] = r["balanced_accuracy"]["mean"]
    assert uar[True] > uar[False] + 0.05, uar


def test_scores_are_those_of_speaker_centred_functionals(speakers_corpus, tmp_path):
    c = speakers_corpus
    train = [i for i, s in enumerate(c["speakers"]) if s != "s3"]
    test = [i for i, s in enumerate(c["speakers"]) if s == "s3"]
    m = make_family("speech", "svm", speaker_norm=True).fit([c["X"][i] for i in train], [c["y"][i] for i in train],
                                                            speakers=[c["speakers"][i] for i in train])
    Xte = [c["X"][i] for i in test]
    P = m.predict_proba(Xte, speakers=["s3"] * len(Xte))
    R = np.vstack([w[3] for ws in m._all_windows(Xte) for w in ws])
    np.testing.assert_allclose(P, m.pipe_.predict_proba(R - R.mean(axis=0)), atol=1e-6)
    # without speakers, the inputs of one call are one speaker (here: the same thing)
    np.testing.assert_allclose(m.predict_proba(Xte), P, atol=1e-6)
    preds = m.predict(Xte, speakers=["s3"] * len(Xte))
    np.testing.assert_allclose([[p.scores[lab] for lab in LABELS] for p in preds], P, atol=1e-6)
    # a speaker with too few clips is referred to the training population, with a warning
    with pytest.warns(UserWarning, match="fewer than 10 utterances for lonely"):
        P1 = m.predict_proba(Xte[:1], speakers=["lonely"])
    R_train = np.vstack([w[3] for ws in m._all_windows([c["X"][i] for i in train]) for w in ws])
    np.testing.assert_allclose(P1, m.pipe_.predict_proba(R[:1] - R_train.mean(axis=0)), atol=1e-5)
    loaded = load_model(m.save(tmp_path / "m"), cache=False)
    assert loaded.speaker_norm
    np.testing.assert_array_equal(loaded.predict_proba(Xte, speakers=["s3"] * len(Xte)), P)
    with pytest.raises(InputError, match="2 speakers for 12 inputs"):
        m.predict_proba(Xte, speakers=["s3", "s3"])
    with pytest.raises(InputError, match="needs the speaker of every training clip"):
        make_family("speech", "logreg", speaker_norm=True).fit(c["X"], c["y"])


def test_ensemble_members_normalise_and_round_trip(speakers_corpus, tmp_path):
    c = speakers_corpus
    ens = make_family("speech", "ensemble", members=["logreg", "rf"], speaker_norm=True)
    ens.fit(c["X"], c["y"], speakers=c["speakers"])
    assert all(m.speaker_norm for m in ens.members_)
    X4 = [x for x, s in zip(c["X"], c["speakers"]) if s == "s1"]
    P = ens.predict_proba(X4, speakers=["s1"] * len(X4))
    parts = sum(w * m.predict_proba(X4, speakers=["s1"] * len(X4)) for m, w in zip(ens.members_, ens.weights_))
    np.testing.assert_allclose(P, parts, atol=1e-5)
    loaded = load_model(ens.save(tmp_path / "e"), cache=False)
    assert loaded.speaker_norm and all(m.speaker_norm for m in loaded.members_)
    np.testing.assert_allclose(loaded.predict_proba(X4, speakers=["s1"] * len(X4)), P, atol=1e-6)
    member = make_family("speech", "logreg", speaker_norm=True)
    with pytest.raises(InputError, match="give speaker_norm=True to the ensemble"):
        make_family("speech", "ensemble", members=[member]).fit(c["X"], c["y"], speakers=c["speakers"])




def test_cli_train_and_predict_by_speaker(speakers_corpus, tmp_path):
    c = speakers_corpus
    table = tmp_path / "train.csv"
    with open(table, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "speaker"])
        w.writerows(zip(c["X"], c["y"], c["speakers"]))
    out = tmp_path / "spk-logreg"
    r = invoke(["train", "--modality", "speech", "--dataset", "csv", "--data-dir", table, "--model", "logreg",
                "-p", "speaker_norm=true", "-o", out])
    assert "group-kfold" in r.output
    res = json.loads((out / "results.json").read_text())
    assert res["cv"]["balanced_accuracy"]["mean"] >= 0.75
    m = load_model(out, cache=False)
    assert m.speaker_norm
    X3 = sorted(str(p) for p in (c["root"] / "s3").glob("*.wav"))  # the folder a predict run collects
    for by, spk in (("folder", ["s3"] * len(X3)), (r"(\.wav)$", [".wav"] * len(X3))):
        o = tmp_path / "o.jsonl"
        invoke(["predict", "--modality", "speech", "-i", c["root"] / "s3", "-o", o, "--model", out,
                "--speaker-by", by])
        recs = [json.loads(line) for line in o.read_text().splitlines()]
        assert [rec["input"] for rec in recs] == X3
        expected = m.predict_proba(X3, speakers=spk)
        np.testing.assert_allclose([[rec["scores"][lab] for lab in LABELS] for rec in recs], expected, atol=1e-4)
    r = invoke(["analyze", X3[0], "--model", out])  # one clip: no statistics of its speaker
    assert "warning: speaker normalisation: fewer than 10 utterances" in r.output and "UserWarning" not in r.output
    plain = tmp_path / "plain"
    make_family("speech", "logreg").fit(c["X"], c["y"]).save(plain)
    r = invoke(["predict", "--modality", "speech", "-i", c["root"] / "s3", "-o", tmp_path / "x.jsonl",
                "--model", plain, "--speaker-by", "folder"], code=1)
    assert "does not normalise per speaker" in r.output
    r = invoke(["predict", "--modality", "speech", "-i", c["root"] / "s3", "-o", tmp_path / "x.jsonl",
                "--model", out, "--speaker-by", "([0-9]+$"], code=1)
    assert "neither 'folder' nor a valid regex" in r.output
    r = invoke(["predict", "--modality", "speech", "-i", c["root"] / "s3", "-o", tmp_path / "x.jsonl",
                "--model", out, "--speaker-by", "zzz(\\d)"], code=1)
    assert "finds no speaker in the file name" in r.output
