"""Corpus normalisation (``corpus_norm``) and unsupervised adaptation (``adapt`` / ``--adapt``):
each training corpus standardised by its own statistics; a prediction standardised by the
typical corpus's statistics (depending on nothing but the input), or, adapted, by the
statistics of the set of recordings it came with."""
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
CHANNEL = {"low": 0.7, "mid": 1.0, "high": 1.45}  # each corpus's "set-up": a factor on every class's f0


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """3 corpora x 3 classes x 8 clips, ``<root>/<corpus>/<label>_<i>.wav``; the corpora's shift
    is as large as the classes' differences."""
    root = tmp_path_factory.mktemp("corpora")
    X, y, cor = [], [], []
    for s, (name, k) in enumerate(CHANNEL.items()):
        for c, (lab, (f0, rate, amp)) in enumerate(SPEECH_CLASSES.items()):
            for i in range(8):
                rng = np.random.default_rng(s * 100 + c * 10 + i)
                clip = speech_like(1.0, f0 * k * rng.uniform(0.97, 1.03), rate * rng.uniform(0.9, 1.1), amp,
                                   seed=s * 100 + c * 10 + i)
                X.append(write_audio(os.path.join(root, name, f"{lab}_{i}.wav"), clip))
                y.append(lab)
                cor.append(name)
    return {"root": root, "X": X, "y": y, "corpus": cor}


def _part(c, name):
    idx = [i for i, g in enumerate(c["corpus"]) if g == name]
    return [c["X"][i] for i in idx], [c["y"][i] for i in idx]


def test_loco_gains_from_adaptation(corpora):
    c = corpora
    uar = {}
    for norm, adapt in ((False, False), (True, False), (True, True)):
        r = cross_validate(make_family("speech", "logreg", corpus_norm=norm), c["X"], c["y"], protocol="loco",
                           groups=c["corpus"], progress=False, adapt=adapt)
        uar[norm, adapt] = r["balanced_accuracy"]["mean"]
    assert uar[True, True] > uar[False, False] + 0.15, uar
    assert uar[True, True] > uar[True, False] + 0.15, uar


def test_scores_are_those_of_standardised_functionals(corpora, tmp_path):
    c = corpora
    train = [i for i, g in enumerate(c["corpus"]) if g != "high"]
    m = make_family("speech", "svm", corpus_norm=True).fit([c["X"][i] for i in train], [c["y"][i] for i in train],
                                                           corpora=[c["corpus"][i] for i in train])
    assert m.n_corpora_ == 2
    stats = []
    for name in ("low", "mid"):
        R = np.vstack([w[3] for ws in m._all_windows(_part(c, name)[0]) for w in ws]).astype(np.float64)
        stats.append((R.mean(0), R.std(0)))
    mu, sd = np.mean([s[0] for s in stats], 0), np.mean([s[1] for s in stats], 0)
    np.testing.assert_allclose(m.corpus_stats_[0], mu, rtol=1e-5, atol=1e-6)
    Xte, _ = _part(c, "high")
    R = np.vstack([w[3] for ws in m._all_windows(Xte) for w in ws]).astype(np.float64)
    floor = 0.1 * sd + 1e-9
    # adapted: the held-out corpus by its own statistics
    P = m.predict_proba(Xte, adapt=True)
    expect = m.pipe_.predict_proba(((R - R.mean(0)) / np.maximum(R.std(0), floor)).astype(np.float32))
    np.testing.assert_allclose(P, expect, atol=1e-5)
    # by default: the typical corpus's statistics, so one file's answer is the same alone or with others
    P0 = m.predict_proba(Xte)
    np.testing.assert_allclose(P0, m.pipe_.predict_proba(((R - mu) / np.maximum(sd, floor)).astype(np.float32)),
                               atol=1e-5)
    np.testing.assert_array_equal(m.predict_proba(Xte[:1]), P0[:1])
    preds = m.predict(Xte, adapt=True)
    np.testing.assert_allclose([[p.scores[lab] for lab in LABELS] for p in preds], P, atol=1e-6)
    # too few recordings to adapt to: each scored on its own, with a warning
    with pytest.warns(UserWarning, match="fewer than the 20 that adaptation needs"):
        P3 = m.predict_proba(Xte[:3], adapt=True)
    np.testing.assert_array_equal(P3, P0[:3])
    loaded = load_model(m.save(tmp_path / "m"), cache=False)
    assert loaded.corpus_norm
    np.testing.assert_array_equal(loaded.predict_proba(Xte, adapt=True), P)
    with pytest.raises(InputError, match="2 corpora for 48 training inputs"):
        make_family("speech", "logreg", corpus_norm=True).fit(c["X"][:48], c["y"][:48], corpora=["a", "b"])
    with pytest.raises(InputError, match="cannot be combined"):
        make_family("speech", "logreg", corpus_norm=True, speaker_norm=True).fit(c["X"], c["y"], speakers=c["corpus"])
    with pytest.raises(InputError, match="not trained with corpus normalisation"):
        make_family("speech", "logreg").fit(c["X"], c["y"]).predict(Xte, adapt=True)


def test_ensemble_members_normalise_and_round_trip(corpora, tmp_path):
    c = corpora
    ens = make_family("speech", "ensemble", members=["logreg", "rf"], corpus_norm=True)
    ens.fit(c["X"], c["y"], corpora=c["corpus"])
    assert all(m.corpus_norm for m in ens.members_)
    Xte, _ = _part(c, "mid")
    P = ens.predict_proba(Xte, adapt=True)
    parts = sum(w * m.predict_proba(Xte, adapt=True) for m, w in zip(ens.members_, ens.weights_))
    np.testing.assert_allclose(P, parts, atol=1e-5)
    loaded = load_model(ens.save(tmp_path / "e"), cache=False)
    assert loaded.corpus_norm and all(m.corpus_norm for m in loaded.members_)
    np.testing.assert_allclose(loaded.predict_proba(Xte, adapt=True), P, atol=1e-6)
    np.testing.assert_allclose(loaded.predict_proba(Xte), ens.predict_proba(Xte), atol=1e-6)
    with pytest.raises(InputError, match="give corpus_norm=True to the ensemble"):
        make_family("speech", "ensemble", members=[make_family("speech", "logreg", corpus_norm=True)]).fit(
            c["X"], c["y"])


def test_cli_train_loco_and_predict_adapted(corpora, tmp_path):
    c = corpora
    tables = []
    for name in CHANNEL:
        t = tmp_path / f"{name}.csv"
        with open(t, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["path", "label"])
            w.writerows(zip(*_part(c, name)))
        tables.append(t)
    args = ["train", "--modality", "speech", "--model", "logreg", "-p", "corpus_norm=true", "--protocol", "loco",
            "--label-space", "ekman"]
    for t in tables:
        args += ["--dataset", "csv", "--data-dir", t]
    out = tmp_path / "cn"
    invoke(args + ["-o", out, "--adapt"])
    res = json.loads((out / "results.json").read_text())
    assert res["cv"]["adapted"] and res["cv"]["balanced_accuracy"]["mean"] >= 0.6
    m = load_model(out, cache=False)
    assert m.corpus_norm and m.n_corpora_ == 3
    o = tmp_path / "o.jsonl"
    invoke(["predict", "--modality", "speech", "-i", c["root"] / "high", "-o", o, "--model", out, "--adapt"])
    recs = [json.loads(line) for line in o.read_text().splitlines()]
    Xh = sorted(str(p) for p in (c["root"] / "high").glob("*.wav"))
    assert [r["input"] for r in recs] == Xh
    np.testing.assert_allclose([[r["scores"][lab] for lab in m.labels_.labels] for r in recs],
                               m.predict_proba(Xh, adapt=True), atol=1e-4)
    # one file: refused adaptation falls back, with a warning on the console
    r = invoke(["predict", "--modality", "speech", "-i", Xh[0], "-o", tmp_path / "one.jsonl", "--model", out,
                "--adapt"])
    assert "warning: adapt: 1 recording(s) with speech" in r.output and "UserWarning" not in r.output
    plain = tmp_path / "plain"
    make_family("speech", "logreg").fit(c["X"], c["y"]).save(plain)
    r = invoke(["predict", "--modality", "speech", "-i", c["root"] / "high", "-o", tmp_path / "x.jsonl",
                "--model", plain, "--adapt"], code=1)
    assert "not trained with corpus normalisation" in r.output
    r = invoke(args[:5] + ["--dataset", "csv", "--data-dir", tables[0], "-o", tmp_path / "x", "--cv", "2", "--adapt"],
               code=1)
    assert "add -p corpus_norm=true" in r.output


def test_corpus_balance_weighs_every_corpus_the_same(corpora, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    c = corpora
    keep = [i for i, g in enumerate(c["corpus"]) if g == "mid" or (g == "low" and i % 4 == 0)]  # 24 and 6 clips
    X, y, cor = ([c[k][i] for i in keep] for k in ("X", "y", "corpus"))
    seen = {}
    real = LogisticRegression.fit

    def spy(self, Xf, yf, sample_weight=None):
        seen["w"] = sample_weight
        return real(self, Xf, yf, sample_weight=sample_weight)

    monkeypatch.setattr(LogisticRegression, "fit", spy)
    make_family("speech", "logreg", corpus_balance=True).fit(X, y, corpora=cor)
    w = np.asarray(seen["w"])
    per = {g: w[[k for k, h in enumerate(cor) if h == g]].sum() for g in ("low", "mid")}
    assert len(w) == len(X) and per["low"] == pytest.approx(per["mid"]) and w.mean() == pytest.approx(1.0)
    make_family("speech", "logreg").fit(X, y, corpora=cor)
    assert seen["w"] is None  # off by default
    with pytest.raises(InputError, match="corpus_balance needs the corpus"):
        make_family("speech", "logreg", corpus_balance=True).fit(X, y)
