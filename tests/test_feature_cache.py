"""Speech features are computed once per file per run (memory), and kept between runs on disk
where asked (AFFEKT_CACHE, or the default folder for training commands)."""
from __future__ import annotations

import pytest
from conftest import class_clip, write_audio

from affekt.core import cache
from affekt.core.registry import make_family
from affekt.speech import models as sm


@pytest.fixture()
def clips(tmp_path):
    X, y = [], []
    for i, lab in enumerate(["anger", "sadness"] * 6):
        X.append(write_audio(tmp_path / f"c{i}.wav", class_clip(lab, i)))
        y.append(lab)
    return X, y


def _count_reprs(monkeypatch):
    calls = []
    cls = type(make_family("speech", "svm"))
    real = cls._repr

    def spy(self, samples):
        calls.append(1)
        return real(self, samples)

    monkeypatch.setattr(cls, "_repr", spy)
    return calls


def test_features_are_read_once_per_file_across_fits_and_families(clips, monkeypatch, tmp_path):
    monkeypatch.setenv("AFFEKT_CACHE", "off")
    sm._MEMORY.clear()
    calls = _count_reprs(monkeypatch)
    X, y = clips
    m = make_family("speech", "svm").fit(X, y)
    n = len(calls)
    assert n >= len(X)
    make_family("speech", "svm", C=3.0).fit(X, y)  # another fold / member: from memory
    m.predict_proba(X[:3])
    assert len(calls) == n
    assert not any(tmp_path.rglob("*.pkl"))  # off: nothing on disk
    write_audio(X[0], class_clip("anger", 99, dur=1.0))  # an edited file is read again
    m.predict_proba(X[:1])
    assert len(calls) > n


def test_disk_cache_location(monkeypatch, tmp_path, clips):
    monkeypatch.delenv("AFFEKT_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(cache, "_DISK_BY_DEFAULT", False)
    assert cache.cache_root() is None  # predicting: nothing of a user's files on disk unless asked
    cache.cache_on_disk_by_default()
    assert cache.cache_root() == tmp_path / "xdg" / "affekt"
    sm._MEMORY.clear()
    X, y = clips
    make_family("speech", "svm").fit(X, y)
    assert len(list((tmp_path / "xdg" / "affekt" / "speech").rglob("*.pkl"))) == len(X)
    monkeypatch.setenv("AFFEKT_CACHE", str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"
    for off in ("off", "0", "none"):
        monkeypatch.setenv("AFFEKT_CACHE", off)
        assert cache.cache_root() is None


def test_a_copied_or_moved_corpus_is_served_from_the_disk_cache(monkeypatch, tmp_path, clips):
    import shutil

    monkeypatch.setenv("AFFEKT_CACHE", str(tmp_path / "cache"))
    sm._MEMORY.clear()
    calls = _count_reprs(monkeypatch)
    X, y = clips
    make_family("speech", "svm").fit(X, y)
    n = len(calls)
    copy = tmp_path / "copied"
    copy.mkdir()
    X2 = [shutil.copy(x, copy / f"renamed_{i}.wav") for i, x in enumerate(X)]  # new paths, new mtimes
    sm._MEMORY.clear()
    make_family("speech", "svm").fit(X2, y)
    assert len(calls) == n  # the features are keyed by the files' bytes


def test_text_embeddings_respect_cache_off(monkeypatch, tmp_path):
    """AFFEKT_CACHE=off keeps embeddings in memory only (it once made a folder named 'off')."""
    import numpy as np

    from affekt.text import models as tm

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tm, "_encode_new", lambda texts, enc, progress: np.zeros((len(texts), 3), np.float32))
    for value, folder in (("off", None), (str(tmp_path / "emb"), tmp_path / "emb")):
        monkeypatch.setenv("AFFEKT_CACHE", value)
        tm._MEMO.clear()
        tm.cached_encode([f"a text {value}"], "minilm")
        if folder is None:
            assert not any(tmp_path.iterdir())
        else:
            assert len(list(folder.glob("emb-minilm-*.npy"))) == 1
