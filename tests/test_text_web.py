"""Platform-independent text (``preprocess={"web": true}``) and sentence embeddings computed once
per distinct text across the folds of a cross-validation."""
import numpy as np
import pytest

from affekt.core.registry import load_model, make_family
from affekt.text import features as F
from affekt.text import models as M


@pytest.mark.parametrize("raw, expected", [
    ("@bob I love this!!! http://t.co/xyz #HappyDays :)", "@user I love this!!! http Happy Days smiling face"),
    ("[NAME] is so mean :(", "@user is so mean frowning face"),
    ("u/someone \U0001F44D\U0001F3FD done www.example.org/a?b=1", "@user thumbs up medium skin tone done http"),
    ("crying \U0001F62D\u200d\ufe0f", "crying loudly crying face"),
    ("mail me at a@b.com re: #1 fan", "mail me at a@b.com re: 1 fan"),
    ("no change here", "no change here"),
])
def test_normalise_web(raw, expected):
    assert F.normalise_web(raw) == expected


def test_web_preprocessing_is_saved_with_the_model(tmp_path):
    X = ["so happy :)", "@a so happy \U0001F600", "so sad :(", "@b sad \U0001F622 http://x.y", "happy day #Joy",
         "sad day #Tears"] * 5
    y = ["joy", "joy", "sadness", "sadness", "joy", "sadness"] * 5
    m = make_family("text", "tfidf", preprocess={"web": True}, min_df=1).fit(X, y)
    loaded = load_model(m.save(tmp_path / "m"), cache=False)
    assert loaded.preprocess == {"web": True}
    P = m.predict_proba(["@zed what a happy day :)"])
    np.testing.assert_allclose(loaded.predict_proba(["@zed what a happy day :)"]), P)
    # a handle or a URL no longer carries anything: two texts that differ only there score the same
    np.testing.assert_allclose(m.predict_proba(["@x sad http://a.b"]), m.predict_proba(["@y sad https://c.d/e"]))


def test_each_distinct_text_is_encoded_once(monkeypatch):
    calls = []

    def fake_encode(texts, encoder="minilm", progress=False):
        calls.append(list(texts))
        return np.array([[len(t), t.count("a")] for t in texts], np.float32)

    monkeypatch.setattr(M.F, "encode", fake_encode)
    monkeypatch.setattr(M, "_EMB", {})
    monkeypatch.setattr(M, "_MEMO", {})
    monkeypatch.delenv("AFFEKT_CACHE", raising=False)
    a = M.cached_encode(["aa", "b", "aa", "ccc"], "fake")
    b = M.cached_encode(["ccc", "dddd", "b"], "fake")
    assert calls == [["aa", "b", "ccc"], ["dddd"]]
    np.testing.assert_array_equal(a, [[2, 2], [1, 0], [2, 2], [3, 0]])
    np.testing.assert_array_equal(b, [[3, 0], [4, 0], [1, 0]])


def test_a_full_embedding_memory_starts_again_without_losing_a_call(monkeypatch):
    monkeypatch.setattr(M.F, "encode", lambda texts, encoder="minilm", progress=False:
                        np.array([[len(t), 1.0] for t in texts], np.float32).reshape(len(texts), 2))
    monkeypatch.setattr(M, "_EMB", {})
    monkeypatch.setattr(M, "_EMB_MAX", 3)
    np.testing.assert_array_equal(M._encode_new(["a", "bb"], "fake", False), [[1, 1], [2, 1]])
    # "a" is remembered, "ccc" and "dddd" are new and overflow the memory: the answer is still whole
    np.testing.assert_array_equal(M._encode_new(["a", "ccc", "dddd"], "fake", False), [[1, 1], [3, 1], [4, 1]])
    assert set(M._EMB["fake"]) == {"ccc", "dddd"}
