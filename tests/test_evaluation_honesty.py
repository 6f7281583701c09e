"""Evaluation that cannot mislead (issue 10, items 3, 4, 7, 17, 18, 22).

- one function gives each headline figure and its bootstrap CI, so the point lies inside;
- a table without a split column is evaluated whole; absent labels get no per-class rows;
- tiny data: n and CIs are printed, small splits warn, made-up tiny splits fall back to CV;
- tiny tables and unknown labels give clear messages;
- cross-validation never sees the test split;
- ``shared_only`` scores cross-domain data on the labels both sides have.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from affekt.core.errors import DataError, LabelError
from affekt.datasets import Dataset, load_dataset
from affekt.evaluation.evaluate import evaluate
from affekt.evaluation.metrics import (bootstrap_ci, classification_cis, classification_headline, pearson,
                                       regression_cis)
from affekt.evaluation.summary import summary_lines

from conftest import make_corpus, write_carer


def _onehot(idx, L):
    return np.eye(L, dtype=np.int8)[idx]


# ------------------------------------------------------------------ item 17: point and CI agree
def _cases():
    rng = np.random.default_rng(0)
    cases = []
    for n, L, skew, noise in [(40, 3, None, 0.4), (300, 5, [0.7, 0.2, 0.05, 0.03, 0.02], 0.3),
                              (6, 3, None, 0.3), (25, 4, [0.85, 0.05, 0.05, 0.05], 0.5),
                              (120, 7, None, 0.6), (1000, 7, [0.3, 0.0, 0.2, 0.2, 0.2, 0.1, 0.0], 0.45)]:
        p = None if skew is None else np.asarray(skew) / np.sum(skew)
        yt = rng.choice(L, n, p=p)
        yp = np.where(rng.random(n) < noise, rng.integers(0, L, n), yt)  # errors may hit labels absent from truth
        cases.append((_onehot(yt, L), _onehot(yp, L)))
    return cases


@pytest.mark.parametrize("case", range(6))
def test_single_label_headline_is_sklearns_metric_and_inside_its_ci(case):
    Y, D = _cases()[case]
    yt, yp = Y.argmax(1), D.argmax(1)
    present = sorted(set(yt.tolist()))
    h = classification_headline(Y, D, multi_label=False)
    assert h["macro_f1"] == pytest.approx(skm.f1_score(yt, yp, labels=present, average="macro"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "y_pred contains classes not in y_true": on purpose here
        assert h["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(yt, yp))
    assert h["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp))
    cis = classification_cis(Y, D, False, n_boot=400, seed=case)
    for k, ci in cis.items():
        assert ci["value"] == h[k]  # the same function on the full arrays
        assert ci["ci_low"] <= ci["value"] <= ci["ci_high"], (k, ci)


def test_multi_label_and_regression_points_inside_their_cis():
    rng = np.random.default_rng(1)
    Y = (rng.random((200, 8)) < [0.4, 0.3, 0.1, 0.05, 0.02, 0.3, 0.2, 0.0]).astype(int)
    D = np.where(rng.random(Y.shape) < 0.2, 1 - Y, Y)
    h = classification_headline(Y, D, multi_label=True)
    present = Y.sum(0) > 0
    assert h["macro_f1"] == pytest.approx(skm.f1_score(Y[:, present], D[:, present], average="macro"))
    assert h["micro_f1"] == pytest.approx(skm.f1_score(Y, D, average="micro"))
    for k, ci in classification_cis(Y, D, True, n_boot=300).items():
        assert ci["value"] == h[k] and ci["ci_low"] <= ci["value"] <= ci["ci_high"]
    x = rng.normal(size=(60, 3))
    y = x + rng.normal(scale=[0.5, 1.0, 3.0], size=(60, 3))
    cis = regression_cis(x, y, n_boot=300)
    for j, d in enumerate(("valence", "arousal", "dominance")):
        assert cis[d]["value"] == pytest.approx(np.corrcoef(x[:, j], y[:, j])[0, 1])
        assert cis[d]["value"] == pytest.approx(pearson(x[:, j], y[:, j]))
        assert cis[d]["ci_low"] <= cis[d]["value"] <= cis[d]["ci_high"]


def test_carer_like_predictions_outside_the_truth_no_longer_split_point_and_ci():
    """The old bug: truth in 5 labels, the model often answers 'neutral'/'disgust' (absent from
    the truth). The old CI averaged F1 over labels in truth *or* predictions, the point over the
    truth's labels, and the CI excluded the point (0.448 vs [0.301, 0.336] on CARER)."""
    rng = np.random.default_rng(2)
    L, n = 7, 2000  # ekman order: anger disgust fear happiness sadness surprise neutral
    yt = rng.choice([0, 2, 3, 4, 5], n, p=[0.15, 0.12, 0.4, 0.28, 0.05])
    yp = np.where(rng.random(n) < 0.35, rng.choice([1, 6], n), np.where(rng.random(n) < 0.2, rng.integers(0, L, n), yt))
    Y, D = _onehot(yt, L), _onehot(yp, L)

    def old_macro_f1(a, b):  # what the CI used to compute: no labels= -> truth or predictions
        return skm.f1_score(a.argmax(1), b.argmax(1), average="macro", zero_division=0)

    point = classification_headline(Y, D, False)["macro_f1"]
    old = bootstrap_ci(old_macro_f1, Y, D, n_boot=200)
    assert not old["ci_low"] <= point <= old["ci_high"]  # the bug, reproduced
    new = classification_cis(Y, D, False, n_boot=400)["macro_f1"]
    assert new["value"] == point and new["ci_low"] <= point <= new["ci_high"]


# --------------------------------------------------------------------------- fixtures: models
def _write_table(path, texts, labels, **extra):
    pd.DataFrame({"text": texts, "label": labels, **extra}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """tf-idf on four labels (anger, fear, joy, sadness), in a space named 'small'."""
    from affekt.core.registry import make_family

    X, y = make_corpus(20, 0)
    m = make_family("text", "tfidf").fit(X, y)
    m.model_id_ = "small"
    return m


@pytest.fixture(scope="module")
def goemotions_model(multi_corpus):
    from affekt.core.registry import make_family

    (X, Y), _, _ = multi_corpus
    m = make_family("text", "tfidf").fit(X, Y, label_space="goemotions")
    m.model_id_ = "ge-small"
    return m


# ------------------------------------------------------------------------ item 3: whole table
def test_table_without_split_column_is_evaluated_whole(small_model, tmp_path):
    X, y = make_corpus(10, 5)
    ds = load_dataset("csv", _write_table(tmp_path / "mine.csv", X, y))
    assert ds.split_source == "random" and ds.default_eval_split() == "all"
    res = evaluate(small_model, ds, n_boot=100)
    assert res["split"] == "all" and res["n"] == 40 and res["split_source"] == "random"
    assert evaluate(small_model, ds, "test", n_boot=0)["n"] == len(ds.split("test")) < 40
    # data that came with splits: the test split by default
    p = _write_table(tmp_path / "given.csv", X, y, split=["train"] * 30 + ["test"] * 10)
    given = load_dataset("csv", p)
    assert given.split_source == "given" and given.default_eval_split() == "test"
    assert evaluate(small_model, given, n_boot=0)["n"] == 10


def test_absent_labels_get_no_per_class_row(small_model, tmp_path):
    X, y = make_corpus(8, 3, labels=("joy", "sadness"))
    ds = load_dataset("csv", _write_table(tmp_path / "two.csv", X, y))
    res = evaluate(small_model, ds, n_boot=0)
    shown = set(res["per_class"])
    assert {"joy", "sadness"} <= shown
    assert set(res["labels_scored"]) == {"joy", "sadness"}
    for lab in ("anger", "fear"):
        if lab in shown:  # only when the model predicted it, and then it is said so
            assert lab in res["labels_predicted_not_in_truth"] and res["per_class"][lab]["predicted"] > 0
        else:
            assert lab in res["labels_absent"]
    assert set(res["labels_absent"]).isdisjoint(shown)


# ----------------------------------------------------------------- item 7: tiny tables, labels
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 12])
def test_tiny_tables_never_crash_the_splitter(tmp_path, n):
    labels = [("joy", "anger", "fear")[i % 3] for i in range(n)]
    ds = load_dataset("csv", _write_table(tmp_path / "t.csv", [f"text {i}" for i in range(n)], labels))
    assert sum(len(v) for v in ds.splits.values()) == n and ds.default_eval_split() == "all"


def test_two_row_csv_evaluates_with_n_and_warnings(small_model, tmp_path):
    ds = load_dataset("csv", _write_table(tmp_path / "two.csv", ["I feel furious", "I feel so happy"],
                                          ["anger", "joy"]))
    res = evaluate(small_model, ds, n_boot=200)
    assert res["n"] == 2 and res["split"] == "all"
    assert any("only 2 items" in w for w in res["warnings"])
    line = summary_lines(res)[0]
    assert line.startswith("all rows (n=2): macro_f1") and "[95% CI" in line


def test_unknown_label_error_names_labels_and_says_what_to_do(small_model, tmp_path):
    ds = load_dataset("csv", _write_table(tmp_path / "newlabel.csv", ["I feel furious", "what a thing"],
                                          ["anger", "newlabel"]))
    with pytest.raises(LabelError) as e:
        evaluate(small_model, ds)
    msg = str(e.value)
    assert "'newlabel'" in msg and "anger, fear, joy, sadness" in msg
    assert "--shared-only" in msg and "affekt train" in msg and "no mapping" not in msg


def test_unknown_label_error_suggests_a_shared_label_space(goemotions_model, tmp_path):
    ds = load_dataset("csv", _write_table(tmp_path / "ek.csv", ["so happy", "so furious", "so scared"],
                                          ["happiness", "anger", "fear"]))
    with pytest.raises(LabelError, match="--label-space ekman"):
        evaluate(goemotions_model, ds)
    res = evaluate(goemotions_model, ds, label_space="ekman", n_boot=0)
    assert res["n"] == 3 and res["label_space"] == "ekman"


# ------------------------------------------------------------------- item 22: shared_only
def test_shared_only_drops_items_the_model_cannot_know(small_model, tmp_path):
    X, y = make_corpus(6, 2, labels=("joy", "sadness", "surprise"))
    ds = load_dataset("csv", _write_table(tmp_path / "mixed.csv", X, y))
    with pytest.raises(LabelError, match="surprise"):
        evaluate(small_model, ds)
    res = evaluate(small_model, ds, shared_only=True, n_boot=100)
    assert res["shared_labels"] == ["joy", "sadness"] and res["n_dropped"] == 6 and res["n"] == 12
    assert set(res["labels_scored"]) == {"joy", "sadness"}
    assert "shared labels joy, sadness" in summary_lines(res)[0]


def test_shared_only_cross_domain_carer_in_ekman(goemotions_model, tmp_path):
    carer = load_dataset("carer", write_carer(tmp_path))
    res = evaluate(goemotions_model, carer, "test", label_space="ekman", shared_only=True, n_boot=200)
    assert res["shared_labels"] == ["anger", "fear", "happiness", "sadness", "surprise"]
    assert res["n_dropped"] == 0 and res["n"] == len(carer.split("test"))
    assert set(res["labels_scored"]) == set(res["shared_labels"])
    ci = res["macro_f1_ci"]
    assert ci["value"] == res["macro_f1"] and ci["ci_low"] <= res["macro_f1"] <= ci["ci_high"]
    plain = evaluate(goemotions_model, carer, "test", label_space="ekman", n_boot=0)
    assert plain["macro_f1"] == pytest.approx(res["macro_f1"])  # the figure the benchmark reports


# --------------------------------------------------------------------- item 4: tiny training
def test_train_on_small_table_without_splits_falls_back_to_cv(tmp_path):
    from affekt.training.pipeline import train

    X, y = make_corpus(15, 0)  # 60 rows: a random test split would hold 6
    ds = load_dataset("csv", _write_table(tmp_path / "sixty.csv", X, y))
    res = train("text", ds, tmp_path / "m", family="tfidf", n_boot=100)
    assert "test" not in res and "cross-validation over all 60 rows" in res["evaluated_by"]
    assert res["cv"]["protocol"] == "kfold" and res["cv"]["k"] == 5 and res["cv"]["n"] == 60
    assert res["fit_rows"] == {"rows": "all", "n": 60, "dev": None, "n_dev": 0}
    lines = summary_lines(res)
    assert lines[0] == res["evaluated_by"]
    assert lines[1].startswith("kfold 5-fold macro_f1 ") and "pooled n=60" in lines[1] and "±" in lines[1]


def test_fallback_k_follows_the_smallest_label(tmp_path):
    from affekt.training.pipeline import fallback_k

    texts = [f"t{i}" for i in range(23)]
    labs = ["a"] * 20 + ["b"] * 3
    assert fallback_k(load_dataset("csv", _write_table(tmp_path / "k.csv", texts, labs))) == 3
    with pytest.raises(DataError, match="single example"):
        fallback_k(load_dataset("csv", _write_table(tmp_path / "k1.csv", texts, ["a"] * 22 + ["b"])))


def _given(n_train, n_dev, n_test, seed=0, test_prefix=""):
    labels = ("joy", "sadness", "anger", "fear")
    out = {}
    for name, n, s in (("train", n_train, seed), ("dev", n_dev, seed + 1), ("test", n_test, seed + 2)):
        X, y = make_corpus(n, s, labels=labels)
        if name == "test":
            X = [f"{test_prefix}{x} #{i}" for i, x in enumerate(X)]
        out[name] = pd.DataFrame({"text": X, "labels": [[v] for v in y]})
    from affekt.core.labels import LabelSpace

    return Dataset("given", out, "classification", LabelSpace("given", tuple(sorted(labels))))


def test_small_given_splits_warn_and_ensemble_weights_are_not_called_tuned(tmp_path, monkeypatch):
    from affekt.text.models import EnsembleClassifier, TfidfClassifier
    from affekt.training.pipeline import train

    # two quick members instead of the default tf-idf + fine-tuned transformer
    monkeypatch.setattr(EnsembleClassifier, "_members",
                        lambda self: [TfidfClassifier(), TfidfClassifier(classifier="linsvm")])
    ds = _given(12, 2, 2)  # dev and test: 8 items each, 2 per label
    res = train("text", ds, tmp_path / "m", family="ensemble", n_boot=100)
    w = res["warnings"]
    assert any(x.startswith("the dev split has only 8 items") and "ensemble weights" in x for x in w)
    assert any(x.startswith("the test split has only 8 items") for x in w)
    assert any("under 5 items of 4 label(s)" in x for x in w)
    assert "too few to trust" in res["ensemble_weights"]["chosen_on"]
    lines = summary_lines(res)
    assert lines[0].startswith("test (n=8): macro_f1 ") and "[95% CI" in lines[0]
    assert any(line.startswith("ensemble weights") for line in lines)


# ------------------------------------------------------------------ item 18: CV without test
def test_cv_uses_train_and_dev_only(tmp_path, monkeypatch):
    import affekt.evaluation.cv as cvmod
    from affekt.training.pipeline import train

    seen = []
    real = cvmod.cross_validate

    def spy(estimator, X, y, **kw):
        seen.append(list(X))
        return real(estimator, X, y, **kw)

    monkeypatch.setattr(cvmod, "cross_validate", spy)
    ds = _given(10, 5, 5, test_prefix="HELD-OUT ")
    res = train("text", ds, tmp_path / "m", family="tfidf", cv=3, n_boot=0)
    assert res["cv"]["n"] == len(ds.split("train")) + len(ds.split("dev")) == 60
    assert res["cv"]["rows"] == "train+dev"
    assert len(seen) == 1 and not any(x.startswith("HELD-OUT") for x in seen[0])
    assert res["test"]["n"] == 20  # the test split is scored once, at the end


def test_made_up_splits_large_enough_keep_a_held_out_test(tmp_path):
    from affekt.training.pipeline import holdout_too_small

    X, y = make_corpus(100, 0)  # 400 rows: random test split 40, 10 per label
    ds = load_dataset("csv", _write_table(tmp_path / "big.csv", X, y))
    assert holdout_too_small(ds) is None
    X, y = make_corpus(15, 0)
    assert holdout_too_small(load_dataset("csv", _write_table(tmp_path / "s.csv", X, y))) == "6 items"


def test_torch_text_family_without_dev_is_not_scored_on_a_constant(corpus, monkeypatch, torch_one_thread):
    """Without a dev split (the CV fallback fits on all rows) the dev score was a constant 0.0, so
    the trainer kept epoch 1's weights; now it gets no dev score and follows the training loss."""
    import affekt.text._torch_models as tm
    from affekt.core.registry import make_family

    seen = []
    real = tm.fit_torch

    def spy(module, batches, loss_fn, score, **kw):
        seen.append(score)
        return real(module, batches, loss_fn, score, **kw)

    monkeypatch.setattr(tm, "fit_torch", spy)
    (X, y), (Xd, yd) = corpus
    make_family("text", "rnn", epochs=1, hidden=8, min_freq=1, batch_size=32).fit(X, y)
    make_family("text", "rnn", epochs=1, hidden=8, min_freq=1, batch_size=32).fit(X, y, X_dev=Xd, y_dev=yd)
    assert seen[0] is None and callable(seen[1])


def test_per_class_chart_draws_only_labels_in_the_truth(tmp_path, monkeypatch):
    """A label the model predicted but the data never has is not drawn as a measured F1 of 0."""
    import numpy as np

    from affekt.evaluation import report
    from affekt.evaluation.metrics import classification_metrics

    Y = np.eye(3, dtype=int)[[0, 0, 1, 1]]
    D = np.eye(3, dtype=int)[[0, 2, 1, 1]]  # label c predicted once, never true
    m = classification_metrics(Y, D, None, ["a", "b", "c"], False)
    drawn = {}
    import matplotlib.axes

    orig = matplotlib.axes.Axes.barh

    def spy(self, names, *a, **kw):
        drawn["names"] = list(names)
        return orig(self, names, *a, **kw)

    monkeypatch.setattr(matplotlib.axes.Axes, "barh", spy)
    report.write_report(m, tmp_path)
    assert sorted(drawn["names"]) == ["a", "b"] and "c" in m["per_class"]
    assert "Predicted but absent from the truth" in (tmp_path / "report.md").read_text()
