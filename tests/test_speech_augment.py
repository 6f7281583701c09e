"""Training-time augmentation (``augment=``): each kind degrades a clip as it says, deterministically,
and the degraded copies join the training set with their original's label."""
import os

import numpy as np
import pytest
from conftest import SPEECH_CLASSES, speech_like, write_audio

from affekt.core.errors import InputError
from affekt.core.registry import load_model, make_family
from affekt.speech import augment as A

SR = A.SR


def _clip(seed=0):
    return speech_like(1.5, 150.0, 4.0, 0.3, seed=seed)


def _snr(clean, noisy):
    return 20 * np.log10(A.active_rms(clean) / A.active_rms(noisy - clean))


@pytest.mark.parametrize("kind", A.KINDS)
def test_every_kind_gives_a_clip_of_the_same_kind(kind):
    y = _clip()
    pool = lambda n: [_clip(s) for s in range(1, n + 1)]  # noqa: E731
    a = A.degrade(y, kind, np.random.default_rng(3), pool)
    b = A.degrade(y, kind, np.random.default_rng(3), pool)
    assert a.dtype == np.float32 and np.isfinite(a).all() and np.abs(a).max() <= 1.0
    np.testing.assert_array_equal(a, b)  # deterministic for a seed
    if kind == "speed":
        assert 0.85 * len(y) < len(a) < 1.15 * len(y)
    else:
        assert len(a) == len(y)
    assert len(a) != len(y) or not np.allclose(a, y)


def test_noise_and_babble_sit_at_the_drawn_snr():
    y = _clip()
    for kind in ("noise", "babble"):
        for seed in range(5):
            rng = np.random.default_rng(seed)
            z = A.degrade(y, kind, np.random.default_rng(seed), lambda n: [_clip(s) for s in range(1, n + 1)])
            rng.choice(["white", "pink", "brown"]) if kind == "noise" else rng.integers(3, 6)
            assert 9.0 < _snr(y, z) < 31.0, (kind, seed, _snr(y, z))


def test_telephone_keeps_the_band_and_mp3_keeps_the_timing():
    y = _clip()
    t = A.telephone(y)
    spec = np.abs(np.fft.rfft(t)) ** 2
    f = np.fft.rfftfreq(len(t), 1 / SR)
    assert spec[f > 4000].sum() < 0.01 * spec.sum()
    m = A.mp3_round_trip(y, 64)
    lag = np.argmax(np.correlate(m[:8000], y[:8000], "full")) - 7999
    assert abs(lag) < 1200 and np.corrcoef(m, y)[0, 1] > 0.5


def test_unknown_kind_is_refused():
    with pytest.raises(InputError, match="unknown augmentation 'vinyl'"):
        A.parse_kinds("noise,vinyl")
    assert A.parse_kinds(["noise", "mp3", "noise"]) == ("noise", "mp3")


def _clips(folder, n: int):
    """``n`` synthetic clips per class, written under ``folder/<label>/``."""
    X, y = [], []
    for c, (lab, (f0, rate, amp)) in enumerate(SPEECH_CLASSES.items()):
        for i in range(n):
            X.append(write_audio(os.path.join(folder, lab, f"{i}.wav"), speech_like(1.0, f0, rate, amp, seed=c * 10 + i)))
            y.append(lab)
    return X, y


@pytest.mark.usefixtures("speech_env", "synthetic_voices_are_speech")
def test_augmented_copies_join_training(tmp_path):
    X, y = _clips(tmp_path, 6)
    m = make_family("speech", "logreg", augment="noise,gain")
    W, src = m._augmented_windows(X)
    assert len(W) == 2 * len(X) and sorted(src) == sorted(list(range(len(X))) * 2)
    m.fit(X, y)
    assert m.pipe_[0].n_samples_seen_ == 3 * len(X)  # the scaler saw originals and copies
    loaded = load_model(m.save(tmp_path / "m"), cache=False)
    assert loaded.augment == "noise,gain"
    np.testing.assert_allclose(loaded.predict_proba(X[:3]), m.predict_proba(X[:3]), atol=1e-6)
    ens = make_family("speech", "ensemble", members=["logreg", "svm"], augment="noise")
    ens.fit(X, y)
    assert all(mm.augment == "noise" for mm in ens.members_)
    with pytest.raises(InputError, match="unknown augmentation"):
        make_family("speech", "logreg", augment="vinyl").fit(X, y)


@pytest.mark.usefixtures("speech_env", "synthetic_voices_are_speech")
def test_temperature_softens_scores_and_keeps_the_ranking(tmp_path):
    X, y = _clips(tmp_path, 5)
    P1 = make_family("speech", "logreg").fit(X, y).predict_proba(X)
    m = make_family("speech", "logreg", temperature=2.0).fit(X, y)
    P2 = m.predict_proba(X)
    expected = np.sqrt(P1) / np.sqrt(P1).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(P2, expected, atol=1e-5)
    assert (P2.argmax(1) == P1.argmax(1)).all() and P2.max(1).mean() < P1.max(1).mean()
    loaded = load_model(m.save(tmp_path / "t"), cache=False)
    np.testing.assert_allclose(loaded.predict_proba(X[:4]), P2[:4], atol=1e-6)
    with pytest.raises(InputError, match="temperature must be a positive number"):
        make_family("speech", "logreg", temperature=0).fit(X, y)
