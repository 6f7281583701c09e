"""Agreement and consensus: equal to the reference implementations, Dawid-Skene on simulated
annotators, the count/answer tables' refusals, and the `affekt agree` / `affekt consensus` commands."""
import gzip
import json

import numpy as np
import pandas as pd
import pytest

from affekt.annotation import agreement as ag
from affekt.annotation.consensus import consensus, pooled_dawid_skene
from affekt.annotation.simulate import simulate
from affekt.annotation.votes import from_answers, from_counts, reliability_matrix
from affekt.core.errors import DataError, InputError
from cli_helpers import invoke

krippendorff = pytest.importorskip("krippendorff")
inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")


def _random_counts(seed, n=200, k=5, raters=None):
    rng = np.random.default_rng(seed)
    if raters is None:
        raters = rng.integers(2, 12, n)
    p = rng.dirichlet(np.full(k, 0.7), n)
    return np.array([rng.multinomial(r, pi) for r, pi in zip(np.broadcast_to(raters, (n,)), p)])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fleiss_equals_statsmodels_with_equal_raters(seed):
    C = _random_counts(seed, raters=10)
    assert abs(ag.fleiss_kappa(C) - inter_rater.fleiss_kappa(C, method="fleiss")) < 1e-9
    # percent agreement is statsmodels' mean P_i (Fleiss' P-bar); check via the kappa identity
    pe = ((C.sum(0) / C.sum()) ** 2).sum()
    assert abs(ag.percent_agreement(C) - (ag.fleiss_kappa(C) * (1 - pe) + pe)) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_alpha_closed_form_equals_krippendorff_with_varying_raters(seed):
    C = _random_counts(seed)
    pre = ag._prep(C)
    mine = ag._stats(pre, np.ones(len(C)))["krippendorff_alpha"]
    ref = krippendorff.alpha(value_counts=C, level_of_measurement="nominal")
    assert abs(mine - ref) < 1e-9
    assert abs(ag.krippendorff_alpha(C) - ref) < 1e-9


def test_per_label_kappa_is_fleiss_of_the_binary_table():
    C = _random_counts(3, raters=8)
    res = ag.agreement(from_counts(pd.DataFrame(C, columns=list("abcde")).assign(item=range(len(C))), "item",
                                   list("abcde")), n_boot=50)
    for j, lab in enumerate("abcde"):
        B = np.stack([C[:, j], C.sum(1) - C[:, j]], 1)
        assert abs(res["per_label"][lab]["kappa"] - inter_rater.fleiss_kappa(B)) < 1e-9


def test_perfect_and_chance_agreement():
    perfect = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5], [5, 0, 0]])
    assert ag.fleiss_kappa(perfect) == pytest.approx(1.0)
    assert ag.percent_agreement(perfect) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    chance = np.array([rng.multinomial(6, [1 / 3] * 3) for _ in range(3000)])
    assert abs(ag.fleiss_kappa(chance)) < 0.03


def test_answers_table_cohen_and_interval_alpha():
    from sklearn.metrics import cohen_kappa_score

    votes, _, _ = simulate(300, 3, 4, seed=5)
    res = ag.agreement(votes, n_boot=100)
    assert res["n_annotators"] == 3 and len(res["cohen_kappa"]) == 3
    R, _ = reliability_matrix(votes)
    assert abs(res["cohen_kappa"][0]["kappa"] - cohen_kappa_score(R[0].astype(int), R[1].astype(int))) < 1e-9
    assert abs(res["krippendorff_alpha"] - krippendorff.alpha(reliability_data=R, level_of_measurement="nominal")) < 1e-9
    lo, hi = res["fleiss_kappa_ci"]
    assert lo < res["fleiss_kappa"] < hi
    V = np.random.default_rng(1).integers(1, 10, (4, 50)).astype(float)
    V[0, :5] = np.nan
    assert ag.interval_alpha(V) == pytest.approx(krippendorff.alpha(reliability_data=V, level_of_measurement="interval"))


def test_items_with_fewer_than_two_answers_are_skipped():
    df = pd.DataFrame({"item": list("abcd"), "x": [3, 1, 0, 2], "y": [1, 0, 0, 2]})
    res = ag.agreement(from_counts(df, "item", ["x", "y"]), n_boot=10)
    assert res["n_items"] == 2 and res["n_skipped"] == 2
    with pytest.raises(DataError, match="0 or 1 answers"):
        ag.agreement(from_counts(df.iloc[1:3], "item", ["x", "y"]), n_boot=10)


@pytest.mark.parametrize("cell, match", [(-1, "negative"), (1.5, "non-integer"), ("many", "not numbers")])
def test_count_table_refuses_bad_counts(cell, match):
    df = pd.DataFrame({"item": ["a", "b"], "x": [3, 2], "y": [1, 2]}).astype(object)
    df.loc[1, "y"] = cell
    with pytest.raises(DataError, match=match):
        from_counts(df, "item", ["x", "y"])


def test_tables_refuse_unknown_columns_missing_annotators_and_labels_outside_the_scheme():
    df = pd.DataFrame({"item": ["a", "a"], "x": [1, 2]})
    with pytest.raises(DataError, match="no column.*'z'"):
        from_counts(df.drop_duplicates("item"), "item", ["x", "z"])
    with pytest.raises(DataError, match="appears on 2 rows"):
        from_counts(df, "item", ["x"])
    ans = pd.DataFrame({"item": ["a", "a", "b"], "annotator": ["u1", "", "u1"], "label": ["joy", "joy", "joy"]})
    with pytest.raises(DataError, match="without an annotator id.*row 3"):
        from_answers(ans, "item", "annotator", "label")
    ans.loc[1, "annotator"] = "u2"
    ans.loc[2, "label"] = "rage"
    with pytest.raises(DataError, match="'rage'.*not in the scheme: joy, sadness"):
        from_answers(ans, "item", "annotator", "label", labels=("joy", "sadness"))


def test_dawid_skene_recovers_simulated_confusions():
    votes, truth, mats = simulate(1000, 5, 4, seed=1)
    ds = consensus(votes, "dawid-skene")
    mae = np.mean([np.abs(ds.info["confusion"][w] - mats[w]).mean() for w in mats])
    assert mae < 0.05
    acc = lambda c: np.mean([votes.labels.index(x) == t if x else False for x, t in zip(c.label, truth)])
    assert acc(ds) > acc(consensus(votes, "plurality", tie="random"))


def test_dawid_skene_beats_majority_with_spammers():
    votes, truth, _ = simulate(600, 5, 3, spammers=3, accuracy=(0.75, 0.9), seed=2)
    acc = lambda c: np.mean([votes.labels.index(x) == t if x else False for x, t in zip(c.label, truth)])
    assert acc(consensus(votes, "dawid-skene")) > acc(consensus(votes, "plurality", tie="random")) + 0.05


def test_pooled_dawid_skene_on_counts_recovers_a_shared_confusion():
    rng = np.random.default_rng(0)
    M = np.array([[0.8, 0.15, 0.05], [0.1, 0.7, 0.2], [0.05, 0.15, 0.8]])
    truth = rng.integers(0, 3, 2000)
    C = np.array([rng.multinomial(7, M[t]) for t in truth])
    P, conf, _ = pooled_dawid_skene(C)
    assert np.abs(conf - M).mean() < 0.03
    assert (P.argmax(1) == truth).mean() > 0.9


def test_consensus_rules():
    df = pd.DataFrame({"item": list("abcd"), "x": [3, 2, 1, 0], "y": [1, 2, 1, 0], "z": [0, 0, 2, 0]})
    v = from_counts(df, "item", ["x", "y", "z"])
    assert consensus(v, "plurality", tie="drop").label == ["x", None, "z", None]
    assert consensus(v, "plurality", tie="first").label == ["x", "x", "z", None]
    assert consensus(v, "majority").label == ["x", None, None, None]
    assert consensus(v, "multi", threshold=0.5).label == [["x"], ["x", "y"], ["z"], None]
    soft = consensus(v, "soft").probs
    assert np.allclose(soft[:3].sum(1), 1) and soft[0].tolist() == [0.75, 0.25, 0.0]
    with pytest.raises(InputError, match="tie rule"):
        consensus(v, "plurality", tie="coin")
    with pytest.raises(DataError, match="answer table"):
        consensus(v, "mace")


def test_agree_and_consensus_commands(tmp_path):
    C = _random_counts(7, n=60, k=3, raters=6)
    df = pd.DataFrame(C, columns=["joy", "anger", "calm"]).assign(clip=[f"c{i}" for i in range(60)])
    f = tmp_path / "votes.csv.gz"
    with gzip.open(f, "wt") as fh:
        df.to_csv(fh, index=False)
    r = invoke(["agree", "--counts", f, "--item-column", "clip", "--label-columns", "joy,anger,calm", "--json"])
    res = json.loads(r.stdout)
    assert res["n_items"] == 60 and res["n_skipped"] == 0
    assert abs(res["fleiss_kappa"] - inter_rater.fleiss_kappa(C)) < 1e-9
    assert {"percent_agreement", "krippendorff_alpha"} <= set(res)
    out = tmp_path / "cons.csv"
    invoke(["consensus", "--counts", f, "--item-column", "clip", "--label-columns", "joy,anger,calm",
            "--method", "dawid-skene", "-o", out])
    got = pd.read_csv(out)
    assert list(got.columns) == ["item", "label", "p_joy", "p_anger", "p_calm"] and len(got) == 60
    bad = tmp_path / "bad.csv"
    df.assign(joy=-1).to_csv(bad, index=False)
    assert "negative counts" in invoke(["agree", "--counts", bad, "--item-column", "clip", "--label-columns",
                                        "joy,anger"], 1).output
    assert "'fear'" in invoke(["agree", "--counts", f, "--item-column", "clip", "--label-columns", "joy,fear"], 1).output
    ans = tmp_path / "answers.csv"
    pd.DataFrame({"item": ["a", "a", "b", "b"], "annotator": ["u", "v", "u", "v"],
                  "label": ["joy", "joy", "joy", "anger"]}).to_csv(ans, index=False)
    pd.DataFrame({"item": ["a", "a", "b", "b", "c", "c"], "annotator": ["u", "v"] * 3,
                  "label": ["joy", "joy", "joy", "anger", "anger", "anger"],
                  "valence": [7, 8, 6, 2, 1, ""]}).to_csv(ans, index=False)
    r = invoke(["agree", "--answers", ans, "--json", "--min-shared", "1", "--dimensions", "valence"])
    R = np.array([[7, 6, 1], [8, 2, np.nan]])
    assert json.loads(r.stdout)["valence_alpha_interval"] == pytest.approx(
        krippendorff.alpha(reliability_data=R, level_of_measurement="interval"))
    assert json.loads(r.stdout)["n_annotators"] == 2


def test_multi_label_answers_and_repeated_answers():
    ans = pd.DataFrame({"item": ["a", "a", "b", "b"], "annotator": ["u", "v", "u", "v"],
                        "label": ["x;y", "x;y", "x", "y"]})
    v = from_answers(ans, "item", "annotator", "label", label_sep=";")
    assert v.raters.tolist() == [2, 2] and v.counts.tolist() == [[2, 2], [1, 1]]
    assert consensus(v, "multi", threshold=0.5).label == [["x", "y"], ["x", "y"]]
    with pytest.raises(InputError, match="--method multi"):
        consensus(v, "plurality")
    with pytest.raises(DataError, match="multi-label"):
        ag.agreement(v, n_boot=5)
    twice = pd.DataFrame({"item": ["a", "a"], "annotator": ["u", "u"], "label": ["x", "y"]})
    with pytest.raises(DataError, match="more than once"):
        from_answers(twice, "item", "annotator", "label")
