"""A composite's label-space view (text-default's Ekman model beside its GoEmotions-28 one), and the
corpus-balanced union it is trained on."""
from pathlib import Path

import numpy as np
import pytest

from affekt.core.labels import get_label_space
from affekt.core.recognizer import CompositeRecognizer, Recognizer
from affekt.core.registry import make_family
from affekt.datasets import load_dataset, present_labels, single_label_union
from affekt.evaluation.evaluate import evaluate_classification

from conftest import write_carer, write_goemotions

TO_EKMAN = {"joy": "happiness", "sadness": "sadness", "anger": "anger", "fear": "fear", "neutral": "neutral"}


@pytest.fixture()
def composite(multi_corpus):
    (X, y), (Xd, yd), (Xt, yt) = multi_corpus
    main = make_family("text", "tfidf").fit(X, y, X_dev=Xd, y_dev=yd, label_space="goemotions")
    # the view learns the opposite of what the words say: its answers cannot come from the main part
    flip = {"joy": "sadness", "sadness": "happiness", "anger": "fear", "fear": "anger", "neutral": "neutral"}
    flipped = [flip[labs[0]] for labs in y]
    view = make_family("text", "tfidf").fit(X, flipped, label_space=present_labels(get_label_space("ekman"), flipped))
    comp = CompositeRecognizer(categorical=main, views={"ekman": view})
    comp.model_id_ = "combo"
    return comp, main, view, Xt, yt


def test_the_view_answers_its_own_space_and_the_main_part_every_other(composite):
    comp, main, view, Xt, _ = composite
    got = comp.predict(Xt[:20], label_space="ekman")
    mine = view.predict(Xt[:20], label_space="ekman")
    assert [p.label for p in got] == [p.label for p in mine]
    np.testing.assert_allclose([list(p.scores.values()) for p in got], [list(p.scores.values()) for p in mine])
    mapped = main.predict(Xt[:20], label_space="ekman")
    assert np.mean([a.label != b.label for a, b in zip(got, mapped)]) > 0.5
    # no label space, or another one: the main part, as before
    assert [p.label for p in comp.predict(Xt[:20])] == [p.label for p in main.predict(Xt[:20])]
    assert got.label_space == "ekman" and comp.predict(Xt[:2]).label_space == "goemotions"


def test_a_saved_view_round_trips_and_loads_only_when_asked_for(composite, tmp_path):
    comp, _, view, Xt, _ = composite
    comp.save(tmp_path / "combo")
    assert (tmp_path / "combo" / "view_ekman" / "affekt.json").exists()
    again = Recognizer.load(tmp_path / "combo")
    assert isinstance(again.views["ekman"], Path)  # not read yet
    assert [p.label for p in again.predict(Xt[:5])] == [p.label for p in comp.predict(Xt[:5])]
    assert isinstance(again.views["ekman"], Path)  # the 28-label answer did not need it
    a = again.predict(Xt[:10], label_space="ekman")
    assert [p.label for p in a] == [p.label for p in view.predict(Xt[:10], label_space="ekman")]
    assert not isinstance(again.views["ekman"], Path)


def test_evaluating_in_the_views_space_scores_the_view(composite):
    comp, _, view, Xt, yt = composite
    one = [i for i, labs in enumerate(yt) if len(labs) == 1]
    X1, truth = [Xt[i] for i in one], [TO_EKMAN[yt[i][0]] for i in one]
    by_comp = evaluate_classification(comp, X1, truth, true_space="ekman", label_space="ekman", n_boot=0)
    by_view = evaluate_classification(view, X1, truth, true_space="ekman", label_space="ekman", n_boot=0)
    assert by_comp["macro_f1"] == pytest.approx(by_view["macro_f1"])
    assert by_comp["macro_f1"] < 0.3  # the view's flipped answers, not the main part's right ones


def test_single_label_union_balances_corpora_and_can_leave_test_splits_out(tmp_path, multi_corpus):
    go = tmp_path / "goemotions"
    go.mkdir()
    write_goemotions(go, multi_corpus)
    ca = tmp_path / "carer"
    ca.mkdir()
    write_carer(ca)
    sources = [("goemotions", go), ("carer", ca)]
    X, y, corpus = single_label_union(sources, "ekman", per_corpus=40)
    assert corpus.count("goemotions") == 40 and corpus.count("carer") == 40
    assert all(isinstance(v, str) for v in y) and set(y) <= {"anger", "fear", "happiness", "sadness", "surprise",
                                                             "neutral", "disgust"}
    # stratified: each corpus keeps its label mix
    ds = load_dataset("carer", ca)
    assert set(y[i] for i, c in enumerate(corpus) if c == "carer") == {"anger", "fear", "happiness", "sadness",
                                                                         "surprise"}
    assert single_label_union(sources, "ekman", per_corpus=40) == (X, y, corpus)  # seeded
    # without the test splits: exactly the items of the other splits
    _, _, cn = single_label_union(sources, "ekman", per_corpus=10_000, without_test=True)
    Xa, _, ca_ = single_label_union(sources, "ekman", per_corpus=10_000)
    assert cn.count("carer") == len(ds.xy("train")[0]) + len(ds.xy("dev")[0]) and ca_.count("carer") == len(ds.xy("all")[0])
    assert 0 < cn.count("goemotions") < ca_.count("goemotions")
    # a GoEmotions item with two Ekman emotions has no single answer: left out
    two = [x for x, labs in zip(*multi_corpus[0]) if len({TO_EKMAN[lab] for lab in labs}) == 2]
    assert two and not set(two) & set(Xa)


def test_a_weighted_view_blends_with_the_main_part_and_keeps_its_weight(composite, tmp_path):
    comp, main, view, Xt, _ = composite
    blended = CompositeRecognizer(categorical=main, views={"ekman": view}, view_weights={"ekman": 0.5})
    blended.model_id_ = "blend"
    got = blended.predict(Xt[:20], label_space="ekman")
    Pm, Dm, sm = main._proba_and_decisions(Xt[:20], "ekman")
    Pv, _, sv = view._proba_and_decisions(Xt[:20], "ekman")
    Pv = Pv[:, [sv.labels.index(lab) for lab in sm.labels]]
    want = 0.5 * Pv + 0.5 * Pm
    np.testing.assert_allclose([[p.scores[lab] for lab in sm.labels] for p in got], want, atol=1e-6)
    for p, row, d in zip(got, want, np.asarray(Dm)):
        assert p.label == sm.labels[int(row.argmax())]
        # the top blended label, and every label the main part's thresholds give
        assert set(p.labels) == {p.label} | {lab for lab, on in zip(sm.labels, d) if on}
    blended.save(tmp_path / "blend")
    again = Recognizer.load(tmp_path / "blend")
    assert again.view_weights == {"ekman": 0.5}
    np.testing.assert_allclose([list(p.scores.values()) for p in again.predict(Xt[:20], label_space="ekman")],
                               [list(p.scores.values()) for p in got], atol=2e-3)
