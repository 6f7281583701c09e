"""Bias audits: per-group figures equal fairlearn/scikit-learn's, a real gap is found and a chance one
is not, people-level resampling, label audits, and `affekt audit` end to end on a tiny text model."""
import json

import numpy as np
import pandas as pd
import pytest

from affekt.core.errors import DataError
from cli_helpers import invoke

pytest.importorskip("fairlearn")
from affekt.evaluation.audit import audit, label_audit


def _data(gap: float, n: int = 600, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 3, n)
    g = np.where(np.arange(n) % 2 == 0, "a", "b")
    acc = np.where(g == "a", 0.8, 0.8 - gap)
    p = np.where(rng.random(n) < acc, t, (t + rng.integers(1, 3, n)) % 3)
    return t, p, g


def test_group_figures_equal_sklearn():
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score

    t, p, g = _data(0.2)
    res = audit(t, p, g, ["x", "y", "z"], n_boot=50, n_perm=50)
    for grp in ("a", "b"):
        m = g == grp
        r = res["groups"][grp]
        assert r["accuracy"] == pytest.approx(accuracy_score(t[m], p[m]))
        assert r["uar"] == pytest.approx(balanced_accuracy_score(t[m], p[m]))
        assert r["macro_f1"] == pytest.approx(f1_score(t[m], p[m], average="macro"))
        assert r["accuracy_ci"][0] < r["accuracy"] < r["accuracy_ci"][1]
        assert np.allclose(np.array(r["confusion"]).sum(1), 1, atol=1e-3)  # rounded to 4 decimals
    assert res["accuracy"]["worst_group"] == "b" and res["accuracy"]["gap"] > 0.1


def test_permutation_test_tells_a_gap_from_chance():
    real = audit(*_data(0.2), ["x", "y", "z"], n_boot=10, n_perm=300)
    none = audit(*_data(0.0, seed=3), ["x", "y", "z"], n_boot=10, n_perm=300)
    assert real["accuracy"]["p_value"] < 0.01
    assert none["accuracy"]["p_value"] > 0.05


def test_clusters_resample_people_and_must_lie_within_a_group():
    t, p, g = _data(0.1)
    people = np.array([f"{x}{i % 5}" for i, x in enumerate(g)])  # 5 people per group
    # each person's items share one accuracy: items are far from independent
    rng = np.random.default_rng(1)
    skill = {s: rng.uniform(0.4, 1.0) for s in set(people)}
    p = np.array([tt if rng.random() < skill[s] else (tt + 1) % 3 for tt, s in zip(t, people)])
    items = audit(t, p, g, ["x", "y", "z"], n_boot=200, n_perm=200)
    by_people = audit(t, p, g, ["x", "y", "z"], clusters=people, n_boot=200, n_perm=200)
    width = lambda r: r["groups"]["a"]["accuracy_ci"][1] - r["groups"]["a"]["accuracy_ci"][0]
    assert width(by_people) > 1.5 * width(items)
    assert by_people["groups"]["a"]["clusters"] == 5
    with pytest.raises(DataError, match="several groups"):
        audit(t, p, g, ["x", "y", "z"], clusters=np.arange(len(t)) % 7, n_boot=5, n_perm=5)


def test_small_groups_are_shown_not_compared_and_label_audit():
    t, p, g = _data(0.0)
    g = g.astype(object)
    g[:4] = "tiny"
    res = audit(t, p, g, ["x", "y", "z"], n_boot=10, n_perm=10, min_group=10)
    assert res["left_out"] == ["tiny"] and "tiny" in res["groups"]
    la = label_audit(["x", "x", "y", "z"], ["f", "f", "m", "m"], ["x", "y", "z"])
    assert la["groups"]["f"]["shares"]["x"] == 1.0 and la["groups"]["m"]["shares"]["y"] == 0.5
    lv = label_audit(None, ["f", "m"], ["x", "y"], counts=[[3, 1], [0, 4]])
    assert lv["what"] == "votes" and lv["groups"]["f"]["shares"]["x"] == 0.75


def test_audit_command(tmp_path):
    rng = np.random.default_rng(0)
    words = {"joy": "happy glad great", "anger": "mad furious angry"}
    rows = []
    for i in range(120):
        lab = ("joy", "anger")[i % 2]
        gender = "f" if i % 4 < 2 else "m"
        text = words[lab] if gender == "f" or rng.random() < 0.5 else words["joy" if lab == "anger" else "anger"]
        rows.append({"text": f"{text} {i}", "label": lab, "gender": gender, "age": "young" if i % 3 else "old",
                     "split": "train" if i < 60 else "test"})
    f = tmp_path / "t.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    model = tmp_path / "m"
    invoke(["train", "--dataset", "csv", "--data-dir", f, "--model", "tfidf", "-o", model])
    rep = tmp_path / "rep"
    r = invoke(["audit", "--model", model, "--dataset", "csv", "--data-dir", f, "--group-by", "gender",
                "--report", rep, "--n-boot", "100", "--n-perm", "200"])
    assert "| f | 30 |" in r.stdout and "gap" in r.stdout
    res = json.loads((rep / "audit.json").read_text())
    assert res["accuracy"]["worst_group"] == "m" and res["accuracy"]["p_value"] < 0.05
    assert (rep / "metrics_by_group.png").stat().st_size > 1000 and (rep / "confusion_by_group.png").is_file()
    assert "label_audit" in res and (rep / "audit.md").is_file()
    r = invoke(["audit", "--model", model, "--dataset", "csv", "--data-dir", f, "--group-by", "gender,age",
                "--json", "--n-boot", "10", "--n-perm", "10"])
    assert "f & old" in json.loads(r.stdout)["groups"]
    r = invoke(["audit", "--model", model, "--dataset", "csv", "--data-dir", f, "--group-by", "sex"], 1)
    assert "no group column(s) 'sex'" in r.output
