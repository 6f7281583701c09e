"""`affekt train --label-mode`: vote tables (text and face CSVs of counts) -> plurality, majority, soft,
multi-label and Dawid-Skene targets; soft targets reach the face networks as distributions."""
import json

import numpy as np
import pandas as pd
import pytest

from affekt.annotation.targets import apply_label_mode
from affekt.core.errors import DataError
from affekt.core.labels import LabelSpace
from affekt.datasets.base import Dataset
from cli_helpers import invoke

LABS = ("joy", "anger", "calm")


def vote_dataset():
    votes = [[3, 1, 0], [2, 2, 0], [1, 1, 2], [0, 0, 0], [4, 0, 1], [1, 3, 1]]
    df = pd.DataFrame({"text": [f"t{i}" for i in range(6)], "votes": votes,
                       "labels": [[LABS[int(np.argmax(v))]] for v in votes]})
    test = df.iloc[:2].reset_index(drop=True)
    return Dataset("v", {"train": df, "test": test}, "classification", LabelSpace("v", LABS),
                   info={"vote_labels": LABS})


def test_modes_relabel_the_training_split_only():
    ds = vote_dataset()
    with pytest.warns(UserWarning, match="left out"):
        plur = apply_label_mode(ds, "plurality")
    assert plur.split("train")["labels"].tolist() == [["joy"], ["calm"], ["joy"], ["anger"]]
    assert plur.split("test")["labels"].tolist() == [["joy"], ["joy"]]  # the test split keeps its labels
    with pytest.warns(UserWarning):
        maj = apply_label_mode(ds, "majority")
    assert maj.split("train")["labels"].tolist() == [["joy"], ["joy"], ["anger"]]
    with pytest.warns(UserWarning):
        soft = apply_label_mode(ds, "soft")
    _, Y = soft.xy("train", targets=True)
    assert Y.dtype == np.float32 and Y.shape == (5, 3) and np.allclose(Y.sum(1), 1)
    assert Y[0].tolist() == [0.75, 0.25, 0.0]
    assert isinstance(soft.xy("test", targets=True)[1], list)  # scored on labels
    with pytest.warns(UserWarning):
        multi = apply_label_mode(ds, "multi", threshold=0.4)
    assert multi.label_space.multi_label
    assert multi.split("train")["labels"].tolist()[:3] == [["joy"], ["joy", "anger"], ["calm"]]
    with pytest.warns(UserWarning):
        ds_ = apply_label_mode(ds, "dawid-skene")
    assert len(ds_.split("train")) == 5 and "confusion" in ds_.info["label_mode"]


def test_label_mode_needs_votes():
    ds = vote_dataset()
    ds.info.pop("vote_labels")
    with pytest.raises(DataError, match="needs vote counts"):
        apply_label_mode(ds, "soft")


def test_soft_targets_reach_the_face_network_and_other_families_take_the_top_label(monkeypatch):
    pytest.importorskip("torch")
    from affekt.core.registry import make_family
    from affekt.face import _train

    seen = {}

    def fake_train(net, spec, X, T, *a, **k):
        seen["T"] = np.array(T)
        return {"history": []}

    monkeypatch.setattr(_train, "train", fake_train)
    rng = np.random.default_rng(0)
    X = [rng.integers(0, 255, (48, 48), dtype=np.uint8) for _ in range(4)]
    Y = np.array([[0.5, 0.5, 0], [0.1, 0.8, 0.1], [0, 0, 1], [1, 0, 0]], dtype=np.float32)
    space = LabelSpace("v", LABS)
    make_family("face", "vgg", width=4).fit(X, Y, label_space=space)
    assert np.allclose(seen["T"], Y)
    with pytest.warns(UserWarning, match="most voted label"):
        m = make_family("face", "hog-svm").fit(X * 3, np.vstack([Y] * 3), label_space=space)
    assert m.labels_.labels == LABS


def test_text_vote_table_trains_in_every_mode(tmp_path):
    rng = np.random.default_rng(1)
    words = {"joy": "happy glad great", "anger": "mad furious angry", "calm": "quiet still easy"}
    rows = []
    for i in range(90):
        lab = LABS[i % 3]
        c = rng.multinomial(5, [0.7 if x == lab else 0.15 for x in LABS])
        rows.append({"text": f"{words[lab]} {i}", **dict(zip(LABS, c)), "split": "test" if i >= 75 else "train"})
    f = tmp_path / "votes.csv"
    pd.DataFrame(rows).to_csv(f, index=False)
    cols = [x for lab in LABS for x in ("--label-column", lab)]
    for mode in ("soft", "multi", "dawid-skene"):
        out = tmp_path / f"m-{mode}"
        invoke(["train", "--dataset", "csv", "--data-dir", f, *cols, "--model", "tfidf", "--label-mode", mode,
                "-o", out])
        res = json.loads((out / "results.json").read_text())
        assert res["label_mode"]["mode"] == mode
        manifest = (out / "affekt.json").read_text()
        assert ("--vote-threshold" in manifest) == (mode == "multi")  # the command as typed, no idle defaults
        test_rows = [r for r in rows if r["split"] == "test"]
        untied = sum(1 for r in test_rows if sorted(r[lab] for lab in LABS)[-1] > sorted(r[lab] for lab in LABS)[-2])
        assert res["test"]["n"] == untied < 15  # a tied test item has no one label to be scored against
    bad = tmp_path / "bad.csv"
    pd.DataFrame(rows).assign(joy=-2).to_csv(bad, index=False)
    r = invoke(["train", "--dataset", "csv", "--data-dir", bad, *cols, "--model", "tfidf", "--label-mode", "soft",
                "-o", tmp_path / "x"], 1)
    assert "negative counts" in r.output


def test_face_vote_csv_and_ferplus_votes(tmp_path):
    from PIL import Image

    from affekt.datasets.faces import load_csv

    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(tmp_path / f"f{i}.png")
        rows.append({"path": f"f{i}.png", "happiness": i, "sadness": 5 - i, "split": "train" if i < 4 else "test"})
    pd.DataFrame(rows).to_csv(tmp_path / "v.csv", index=False)
    ds = load_csv(tmp_path / "v.csv", label_column=["happiness", "sadness"])
    assert ds.info["vote_labels"] == ("happiness", "sadness")
    assert ds.split("train")["votes"].tolist()[0] == [0, 5]
    soft = apply_label_mode(ds, "soft")
    assert soft.xy("train", targets=True)[1][1].tolist() == pytest.approx([0.2, 0.8])
