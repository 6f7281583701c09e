"""The recognizer contract over every text family, on generated data."""
import numpy as np
import pytest

from affekt.core.errors import InputError, NotFittedError
from affekt.core.recognizer import Recognizer
from affekt.core.registry import families, make_family

FAST = {"tfidf": {}, "tfidf-svm": {}, "tfidf-lexicon": {}, "lexicon": {},
        "rnn": {"epochs": 8, "hidden": 32, "min_freq": 1, "batch_size": 8, "lr": 5e-3}}
SLOW = {"encoder": {}, "finetune": {"epochs": 1, "train_layers": 1}, "ensemble": {}, "stacking": {}}


def _accuracy(model, X, y):
    return float(np.mean([p.label == t for p, t in zip(model.predict(X), y)]))


@pytest.mark.parametrize("family", list(FAST))
def test_family_contract_single_label(family, corpus, tmp_path, request):
    if family == "rnn":
        request.getfixturevalue("torch_one_thread")
    (X, y), (Xt, yt) = corpus
    m = make_family("text", family, **FAST[family])
    assert m.fit(X, y, X_dev=Xt, y_dev=yt) is m
    P = m.predict_proba(Xt)
    assert P.shape == (len(Xt), 4)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-4)
    floor = 0.45 if family == "lexicon" else 0.8  # chance is 0.25
    assert _accuracy(m, Xt, yt) >= floor
    m.save(tmp_path / "m")
    m2 = Recognizer.load(tmp_path / "m")
    np.testing.assert_allclose(m2.predict_proba(Xt), P, atol=2e-3)
    # the model keeps its id (not the folder's name) and its class and labels through save/load
    assert m.model_id_ == f"text-{m.family}" and m2.model_id_ == m.model_id_
    assert type(m2) is type(m) and m2.labels_.labels == m.labels_.labels == ("anger", "fear", "joy", "sadness")
    assert [p.model_id for p in m2.predict(Xt[:2])] == [m.model_id_] * 2


@pytest.mark.slow
@pytest.mark.parametrize("family", list(SLOW))
def test_pretrained_families_contract(family, corpus, tmp_path):
    (X, y), (Xt, yt) = corpus
    m = make_family("text", family, **SLOW[family]).fit(X, y, X_dev=Xt, y_dev=yt)
    assert _accuracy(m, Xt, yt) >= 0.7
    m.save(tmp_path / "m")
    np.testing.assert_allclose(Recognizer.load(tmp_path / "m").predict_proba(Xt), m.predict_proba(Xt), atol=5e-3)


def test_multilabel_thresholds_tuned_on_dev_and_saved(multi_corpus, tmp_path):
    (X, y), (Xd, yd), (Xt, yt) = multi_corpus
    m = make_family("text", "tfidf").fit(X, y, X_dev=Xd, y_dev=yd, label_space="goemotions")
    assert m.labels_.name == "goemotions" and m.thresholds_.shape == (28,)
    preds = m.predict(Xt)
    assert all(p.labels for p in preds)  # every item gets at least one label
    two = [p for p, t in zip(preds, yt) if len(t) == 2]
    assert np.mean([len(p.labels) >= 2 for p in two]) > 0.5
    m.save(tmp_path / "m")
    np.testing.assert_allclose(Recognizer.load(tmp_path / "m").thresholds_, m.thresholds_, atol=1e-4)


def test_ekman_view(multi_corpus):
    (X, y), (Xd, yd), (Xt, yt) = multi_corpus
    m = make_family("text", "tfidf").fit(X, y, X_dev=Xd, y_dev=yd, label_space="goemotions")
    p = m.predict(["so happy and delighted today"], label_space="ekman")[0]
    assert p.label == "happiness" and set(p.scores) == {"anger", "disgust", "fear", "happiness", "sadness",
                                                        "surprise", "neutral"}
    assert p.label_space == "ekman"


def test_bad_items_are_recorded_or_raised(corpus):
    (X, y), _ = corpus
    m = make_family("text", "tfidf").fit(X, y)
    bad = ["I am happy", "", None, "   ", "x" * 200_001, 3]
    preds = m.predict(bad, errors="record")
    assert preds[0].ok and [p.ok for p in preds[1:]] == [False] * 5
    assert "empty" in preds[1].error and "None" in preds[2].error and "characters" in preds[4].error
    with pytest.raises(InputError, match="item 1"):
        m.predict(bad)
    with pytest.raises(InputError, match="single string"):
        m.predict("I am happy")


def test_unfitted_and_unknown_family():
    from affekt.core.errors import ModelNotFoundError

    with pytest.raises(NotFittedError):
        make_family("text", "tfidf").predict(["hi"])
    with pytest.raises(ModelNotFoundError, match="known"):
        make_family("text", "nope")
    assert {"tfidf", "lexicon", "encoder", "finetune", "rnn", "vad", "ensemble"} <= set(families("text"))


def test_preprocessing_options_change_features_and_are_saved(corpus, tmp_path):
    from affekt.text.features import Preprocessing

    pre = Preprocessing(tokenize=True, stopwords=True, stem="porter", negation=True)
    assert pre("I am not happy, but the cats are running") == "not happi_NEG , cat run"
    assert Preprocessing(stem="lemma", tokenize=True)("the cats were running") == "the cat be run"
    (X, y), (Xt, yt) = corpus
    m = make_family("text", "tfidf", preprocess=pre.to_dict()).fit(X, y)
    m.save(tmp_path / "m")
    assert Recognizer.load(tmp_path / "m").preprocess == pre.to_dict()


def test_vad_regressor(emobank_dir):
    from affekt.datasets import load_dataset
    from affekt.evaluation.evaluate import evaluate

    ds = load_dataset("emobank", emobank_dir)
    X, Y = ds.xy("train")
    m = make_family("text", "vad", features="tfidf").fit(X, Y, X_dev=ds.xy("dev")[0], y_dev=ds.xy("dev")[1])
    r = evaluate(m, ds, "test", n_boot=50)
    assert r["valence"]["pearson_r"] > 0.8
    p = m.predict(["I am so happy today"])[0]
    assert p.valence > 3.2 and p.label is None


def test_cross_validation_protocols(corpus):
    from affekt.evaluation.cv import cross_validate

    (X, y), _ = corpus
    res = cross_validate(make_family("text", "tfidf"), X, y, k=3, progress=False)
    assert res["k"] == 3 and res["macro_f1"]["mean"] > 0.8
    groups = [i % 4 for i in range(len(X))]
    res = cross_validate(make_family("text", "tfidf"), X, y, protocol="logo", groups=groups, progress=False)
    assert res["k"] == 4


@pytest.mark.slow
def test_composite_with_emotion_transfer_vad(corpus, emobank_dir, tmp_path):
    """A fine-tuned classifier feeds the V/A/D regressor; the composite answers both and round-trips."""
    from affekt.core.recognizer import CompositeRecognizer
    from affekt.datasets import load_dataset

    (X, y), (Xt, yt) = corpus
    clf = make_family("text", "finetune", epochs=1, train_layers=1).fit(X, y, X_dev=Xt, y_dev=yt)
    clf.save(tmp_path / "clf")
    ds = load_dataset("emobank", emobank_dir)
    vad = make_family("text", "vad", features="tfidf+lexicon+emotions", emotion_model=str(tmp_path / "clf"))
    vad.fit(*ds.xy("train"), X_dev=ds.xy("dev")[0], y_dev=ds.xy("dev")[1])
    comp = CompositeRecognizer(categorical=clf, dimensional=vad)
    comp.model_id_ = "combo"
    comp.save(tmp_path / "combo")
    again = Recognizer.load(tmp_path / "combo")
    a, b = comp.predict(Xt[:5]), again.predict(Xt[:5])
    assert [p.label for p in a] == [p.label for p in b]
    np.testing.assert_allclose([p.valence for p in a], [p.valence for p in b], atol=1e-3)
    assert again.predict(["I feel happy today"])[0].valence > again.predict(["I feel sad today"])[0].valence


def test_tuning_with_optuna(carer_dir):
    from affekt.datasets import load_dataset
    from affekt.training.tuning import tune

    ds = load_dataset("carer", carer_dir)
    best, trials = tune("text", "tfidf", ds, 2)
    assert len(trials) == 2 and "C" in best and all(t["value"] > 0.5 for t in trials)
