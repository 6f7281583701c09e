"""Leave-one-corpus-out (``--protocol loco``): the matrix, own-label scoring and the refusals."""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import make_corpus

from cli_helpers import invoke  # noqa: E402

from affekt.core.errors import DataError
from affekt.evaluation.cv import loco_checks

EKMAN = {"joy": "happiness", "sadness": "sadness", "anger": "anger", "fear": "fear"}


def _csv(path, labels, seed, n=25):
    import pandas as pd

    X, y = make_corpus(n, seed=seed, labels=labels)
    pd.DataFrame({"text": X, "label": [EKMAN[v] for v in y]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("loco")
    return {"a": _csv(d / "a.csv", ("joy", "sadness", "anger"), 1),
            "b": _csv(d / "b.csv", ("joy", "sadness", "fear"), 2),
            "c": _csv(d / "c.csv", ("joy", "anger", "fear", "sadness"), 3),
            "one_class": _csv(d / "one.csv", ("joy",), 4),
            "foreign": _csv(d / "foreign.csv", ("anger", "fear"), 5)}


def _args(paths):
    out = []
    for p in paths:
        out += ["--dataset", "csv", "--data-dir", p]
    return out


def test_loco_prints_the_matrix_scored_on_each_corpus_own_labels(corpora, tmp_path):
    r = invoke(["train", *_args([corpora[k] for k in "abc"]), "--label-column", "label", "--label-space", "ekman",
                "--model", "tfidf", "--protocol", "loco", "-o", tmp_path / "m"])
    assert "leave-one-corpus-out" in r.output and "mean" in r.output
    cv = json.loads((tmp_path / "m" / "results.json").read_text())["cv"]
    assert cv["protocol"] == "loco" and cv["k"] == 3
    by = cv["by_corpus"]
    assert set(by) == {"csv:a", "csv:b", "csv:c"} or len(by) == 3
    own = {tuple(sorted(v["labels_own"])) for v in by.values()}
    assert own == {("anger", "happiness", "sadness"), ("fear", "happiness", "sadness"),
                   ("anger", "fear", "happiness", "sadness")}
    # the words give the class away in every corpus: each held-out corpus is read well
    assert all(v["balanced_accuracy"] > 0.6 for v in by.values())
    assert np.isclose(cv["balanced_accuracy"]["mean"], np.mean([v["balanced_accuracy"] for v in by.values()]))
    for name, v in by.items():
        assert str(v["n"]) in r.output and f"{v['balanced_accuracy']:.3f}" in r.output


@pytest.mark.parametrize("keys,words", [
    ("a", "at least 2 corpora"),
    ("a one_class", "single class"),
    ("a foreign", "shares"),
])
def test_loco_refuses_what_cannot_be_scored(corpora, tmp_path, keys, words):
    r = invoke(["train", *_args([corpora[k] for k in keys.split()]), "--label-column", "label",
                "--label-space", "ekman", "--model", "tfidf", "--protocol", "loco", "-o", tmp_path / "m"], code=1)
    assert words in r.output


def test_loco_checks_name_the_corpus():
    with pytest.raises(DataError, match="corpus 'x' shares no label"):
        loco_checks(["x", "x", "y", "y", "z", "z"], ["anger", "fear", "joy", "sadness", "joy", "sadness"])
    with pytest.raises(DataError, match="several corpora"):
        loco_checks(None, ["a", "b"])


def test_a_label_only_the_held_out_corpus_has_counts_as_missed(corpora, tmp_path):
    # a has anger, b has fear: holding out b, the model never saw fear, so b's fear clips are missed
    invoke(["train", *_args([corpora["a"], corpora["b"]]), "--label-column", "label", "--label-space", "ekman",
            "--model", "tfidf", "--protocol", "loco", "-o", tmp_path / "m"])
    res = json.loads((tmp_path / "m" / "results.json").read_text())
    b = next(v for k, v in res["cv"]["by_corpus"].items() if "fear" in v["labels_own"])
    assert b["per_class"]["fear"]["recall"] == 0.0 and b["balanced_accuracy"] <= 2 / 3 + 1e-9
    manifest = json.loads((tmp_path / "m" / "affekt.json").read_text())
    assert manifest["label_space"]["labels"] == ["anger", "fear", "happiness", "sadness"]  # what the corpora have
