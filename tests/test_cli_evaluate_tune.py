"""Command-line paths that produce published figures or choose a model's parameters:
``affekt evaluate --label-space`` (how the README's Ekman-space GoEmotions and CARER
cross-domain figures were made), ``affekt train --tune``, ``affekt tune``, and ``-p`` given
badly. Each result is checked against the same thing worked out here, by hand or with the
library and scikit-learn."""
import json
import re

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from conftest import write_carer, write_goemotions

from cli_helpers import invoke
from affekt.core.labels import EKMAN, GOEMOTIONS


# the published GoEmotions -> Ekman grouping (Demszky et al. 2020, ekman_mapping.json), written out
# here as the README gives it, so the test does not read it back from the code it checks
GO_TO_EKMAN = {
    "anger": ["anger", "annoyance", "disapproval"],
    "disgust": ["disgust"],
    "fear": ["fear", "nervousness"],
    "happiness": ["joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
                  "admiration", "desire", "caring"],
    "sadness": ["sadness", "disappointment", "embarrassment", "grief", "remorse"],
    "surprise": ["surprise", "realization", "confusion", "curiosity"],
    "neutral": ["neutral"],
}
GO_EK = {go: ek for ek, gos in GO_TO_EKMAN.items() for go in gos}
CARER_EK = {"joy": "happiness", "love": "happiness", "sadness": "sadness", "anger": "anger", "fear": "fear",
            "surprise": "surprise"}




def test_hand_mapping_is_the_published_one():
    """(The grouping above covers the 28 labels once each.)"""
    assert sorted(GO_EK) == sorted(GOEMOTIONS.labels) and set(GO_EK.values()) == set(EKMAN.labels)


@pytest.fixture(scope="module")
def data(tmp_path_factory, multi_corpus):
    go = write_goemotions(tmp_path_factory.mktemp("goemotions"), multi_corpus)
    carer = write_carer(tmp_path_factory.mktemp("carer"))
    return {"goemotions": go, "carer": carer, "go_test": multi_corpus[2]}


@pytest.fixture(scope="module")
def go_model(data, tmp_path_factory):
    """A tiny multi-label model in GoEmotions' 28 labels, trained by the CLI."""
    out = tmp_path_factory.mktemp("models") / "go-tfidf"
    invoke(["train", "--dataset", "goemotions", "--data-dir", data["goemotions"], "--model", "tfidf", "-o", out])
    return out


def _binary(sets, labels):
    return np.array([[int(lab in s) for lab in labels] for s in sets])


def test_evaluate_goemotions_in_ekman_space_matches_the_mapping_done_by_hand(data, go_model, tmp_path):
    from affekt.core.registry import load_model

    rep = tmp_path / "rep"
    r = invoke(["evaluate", "-m", go_model, "--dataset", "goemotions", "--data-dir", data["goemotions"],
                "--label-space", "ekman", "--report", rep, "--n-boot", "50"])
    got = json.loads((rep / "metrics.json").read_text())
    X, Y = data["go_test"]
    assert got["label_space"] == "ekman" and got["labels"] == list(EKMAN.labels) and got["n"] == len(X)
    # by hand: the model's own (GoEmotions) labels and the truth, each label sent to its Ekman group
    own = load_model(go_model, cache=False).predict(X)
    assert own.label_space == "goemotions"
    T = _binary([{GO_EK[lab] for lab in y} for y in Y], EKMAN.labels)
    D = _binary([{GO_EK[lab] for lab in p.labels} for p in own], EKMAN.labels)
    present = T.sum(0) > 0  # macro-F1 over the labels the test data has
    assert got["macro_f1"] == pytest.approx(f1_score(T[:, present], D[:, present], average="macro",
                                                     zero_division=0), abs=1e-9)
    assert got["micro_f1"] == pytest.approx(f1_score(T, D, average="micro", zero_division=0), abs=1e-9)
    assert got["macro_f1"] > 0.7  # the generated data are easy: a real number, not a degenerate one
    printed = re.search(r"macro_f1[=: ]+([0-9.]+)", r.stdout)  # the summary line says the same
    assert printed and float(printed.group(1)) == pytest.approx(got["macro_f1"], abs=5e-4), r.stdout
    # the view changes the answer: in its own 28 labels the same model scores differently
    own_rep = tmp_path / "own"
    invoke(["evaluate", "-m", go_model, "--dataset", "goemotions", "--data-dir", data["goemotions"],
            "--report", own_rep, "--n-boot", "50"])
    assert json.loads((own_rep / "metrics.json").read_text())["labels"] == list(GOEMOTIONS.labels)


def test_evaluate_carer_cross_domain_in_ekman_space_matches_by_hand(data, go_model, tmp_path):
    """A GoEmotions model scored on CARER (single-label, other labels): both sides in Ekman's
    space; a multi-label model's Ekman score is the highest of its labels in the group, and its
    answer for a single-label item is the top Ekman label."""
    from affekt.core.registry import load_model

    rep = tmp_path / "rep"
    invoke(["evaluate", "-m", go_model, "--dataset", "carer", "--data-dir", data["carer"], "--label-space", "ekman",
            "--report", rep, "--n-boot", "50"])
    got = json.loads((rep / "metrics.json").read_text())
    rows = [line.rsplit(";", 1) for line in (data["carer"] / "test.txt").read_text().splitlines()]
    X, truth = [x for x, _ in rows], [CARER_EK[lab] for _, lab in rows]
    P = load_model(go_model, cache=False).predict_proba(X)
    ek = np.array([[max(P[i, GOEMOTIONS.index(g)] for g in GO_TO_EKMAN[e]) for e in EKMAN.labels]
                   for i in range(len(X))])
    pred = [EKMAN.labels[j] for j in ek.argmax(1)]
    present = sorted(set(truth))
    assert got["n"] == len(X) == 60 and got["label_space"] == "ekman"
    assert got["accuracy"] == pytest.approx(accuracy_score(truth, pred), abs=1e-9)
    assert got["macro_f1"] == pytest.approx(f1_score(truth, pred, labels=present, average="macro",
                                                     zero_division=0), abs=1e-9)


# --------------------------------------------------------------------------------------- tuning
def test_train_with_tune_trains_the_best_trial(data, tmp_path):
    from affekt.datasets import load_dataset
    from affekt.training.tuning import _NGRAMS, tune

    out = tmp_path / "tuned"
    invoke(["train", "--dataset", "carer", "--data-dir", data["carer"], "--model", "tfidf", "--tune", "3",
            "-p", "max_features=5000", "-o", out])
    res = json.loads((out / "results.json").read_text())
    tuning = res["tuning"]
    assert tuning["n_trials"] == 3 and [t["number"] for t in tuning["trials"]] == [0, 1, 2]
    best = max(tuning["trials"], key=lambda t: t["value"])
    params = json.loads((out / "affekt.json").read_text())["params"]
    # the saved model has the best trial's parameters, and the one fixed with -p
    assert params["C"] == pytest.approx(best["params"]["C"]) and params["min_df"] == best["params"]["min_df"]
    assert params["class_weight"] == best["params"]["class_weight"]
    assert params["char_ngrams"] == _NGRAMS[best["params"]["char"]]
    assert params["max_features"] == 5000 == tuning["best_params"]["max_features"]
    assert "--tune 3" in json.loads((out / "affekt.json").read_text())["card"]["command"]
    # the same search through the library (seeded): the same trials, the same answer
    lib_best, lib_trials = tune("text", "tfidf", load_dataset("carer", data["carer"]), 3,
                                base_params={"max_features": 5000}, seed=0)
    assert [t["value"] for t in lib_trials] == pytest.approx([t["value"] for t in tuning["trials"]])
    assert json.loads(json.dumps(lib_best)) == tuning["best_params"]


def test_tune_command_reports_and_writes_its_trials(data, tmp_path):
    from affekt.datasets import load_dataset
    from affekt.training.tuning import tune

    r = invoke(["tune", "--dataset", "carer", "--data-dir", data["carer"], "--model", "tfidf", "--n-trials", "3",
                "--output", tmp_path / "trials.json"])
    said = json.loads(r.stdout.strip().splitlines()[-1])
    saved = json.loads((tmp_path / "trials.json").read_text())
    assert len(saved["trials"]) == 3 and saved["best_params"] == said["best_params"]
    assert said["best_value"] == max(t["value"] for t in saved["trials"])
    lib_best, lib_trials = tune("text", "tfidf", load_dataset("carer", data["carer"]), 3, seed=0)
    assert json.loads(json.dumps(lib_best)) == said["best_params"]
    assert [t["value"] for t in lib_trials] == pytest.approx([t["value"] for t in saved["trials"]])


def test_fixed_parameters_stay_fixed_while_tuning(data):
    """A parameter given with -p is not searched over: every trial and the answer keep it."""
    from affekt.core import registry
    from affekt.datasets import load_dataset
    from affekt.training.tuning import tune

    seen = []
    real = registry.make_family

    def spy(modality, family, **params):
        seen.append(params)
        return real(modality, family, **params)

    mp = pytest.MonkeyPatch()
    mp.setattr(registry, "make_family", spy)
    try:
        best, trials = tune("text", "tfidf", load_dataset("carer", data["carer"]), 3,
                            base_params={"C": 3.0, "min_df": 1})
    finally:
        mp.undo()
    assert len(seen) >= 3 and all(p["C"] == 3.0 and p["min_df"] == 1 for p in seen)
    assert best["C"] == 3.0 and best["min_df"] == 1


@pytest.mark.parametrize("args,msg", [
    (["--model", "lexiconn"], "no search space for family 'lexiconn'"),
    (["-p", "nope=3"], "text family 'tfidf' has no parameter 'nope'"),
    (["-p", "C"], "expects key=value"),
])
def test_tune_errors_are_one_line(data, args, msg):
    r = invoke(["tune", "--dataset", "carer", "--data-dir", data["carer"], "--n-trials", "2", *args], code=1)
    assert msg in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert "Trial 0 failed" not in r.output  # optuna's own log of the failure, traceback and all


# ------------------------------------------------------------------------------------ bad -p
@pytest.mark.parametrize("param,msg", [
    ("foo", "expects key=value"),
    ("=3", "expects key=value"),
    ("x=[1,", "-p x: '[1,' is not valid JSON"),
    ("C={\"a\": ", "-p C: '{\"a\":' is not valid JSON"),
    ("nope=3", "text family 'tfidf' has no parameter 'nope' (its parameters: C, char_ngrams"),
    ("C=abc", "invalid parameter: The 'C' parameter of LogisticRegression must be a float"),
])
def test_train_with_a_malformed_param_is_one_clear_line(data, tmp_path, param, msg):
    out = tmp_path / "m"
    r = invoke(["train", "--dataset", "carer", "--data-dir", data["carer"], "--model", "tfidf", "-p", param,
                "-o", out], code=1)
    assert r.output.startswith("error: ") and len(r.output.strip().splitlines()) == 1, r.output
    assert msg in r.output, r.output
    assert "unexpected" not in r.output  # a user's mistake, not reported as a bug of ours
    assert not out.exists()
