"""Synthetic fixtures: small emotion corpora made here, so the suite needs no ../shared data."""
from __future__ import annotations

import importlib.util
import os
import random

import numpy as np
import pytest

WORDS = {
    "joy": ["happy", "delighted", "great", "wonderful", "love it", "thrilled", "awesome"],
    "sadness": ["sad", "miserable", "crying", "heartbroken", "lonely", "down"],
    "anger": ["furious", "angry", "hate", "annoyed", "outraged", "mad"],
    "fear": ["scared", "afraid", "terrified", "nervous", "worried", "anxious"],
    "love": ["adore you", "in love", "cherish you", "devoted to you", "so romantic"],
    "surprise": ["shocked", "amazed", "astonished", "stunned", "surprised"],
}
FILLER = ["today", "about the game", "with my friend", "at work", "this morning", "again", "honestly"]


def make_corpus(n_per_label: int = 30, seed: int = 0, labels=("joy", "sadness", "anger", "fear")):
    rng = random.Random(seed)
    texts, ys = [], []
    for lab in labels:
        for _ in range(n_per_label):
            texts.append(f"I feel {rng.choice(WORDS[lab])} {rng.choice(FILLER)} {rng.choice(FILLER)}")
            ys.append(lab)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [ys[i] for i in order]


@pytest.fixture(scope="session")
def corpus():
    return make_corpus(30, 0), make_corpus(10, 1)


@pytest.fixture(scope="session")
def multi_corpus():
    """Multi-label in GoEmotions space: joy/anger/sadness/fear/neutral, some items with two labels."""
    rng = random.Random(3)
    ge = {"joy": "joy", "sadness": "sadness", "anger": "anger", "fear": "fear"}

    def make(n, seed):
        r = random.Random(seed)
        X, Y = [], []
        for _ in range(n):
            a, b = r.sample(list(ge), 2)
            if r.random() < 0.3:
                X.append(f"{r.choice(WORDS[a])} and {r.choice(WORDS[b])} {r.choice(FILLER)}")
                Y.append([ge[a], ge[b]])
            elif r.random() < 0.15:
                X.append(f"the meeting is {r.choice(FILLER)}")
                Y.append(["neutral"])
            else:
                X.append(f"so {r.choice(WORDS[a])} {r.choice(FILLER)}")
                Y.append([ge[a]])
        return X, Y
    _ = rng
    return make(200, 0), make(80, 1), make(80, 2)


def write_goemotions(folder, splits):
    """A tiny folder in the public GoEmotions TSV layout from (train, dev, test) (texts, label lists)."""
    from affekt.core.labels import GOEMOTIONS

    for name, (X, Y) in zip(("train", "dev", "test"), splits):
        lines = [f"{x}\t{','.join(str(GOEMOTIONS.index(l)) for l in y)}\tid{i}" for i, (x, y) in enumerate(zip(X, Y))]
        (folder / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "emotions.txt").write_text("\n".join(GOEMOTIONS.labels) + "\n")
    return folder


@pytest.fixture()
def goemotions_dir(tmp_path, multi_corpus):
    """A tiny folder in the public GoEmotions TSV layout."""
    return write_goemotions(tmp_path, multi_corpus)


def write_carer(folder):
    """A tiny folder in the public CARER layout (train/val/test.txt, `text;label`)."""
    for split, (n, seed) in {"train": (30, 0), "val": (10, 1), "test": (10, 2)}.items():
        X, y = make_corpus(n, seed, labels=tuple(WORDS))
        (folder / f"{split}.txt").write_text("\n".join(f"{x.lower()};{lab}" for x, lab in zip(X, y)) + "\n")
    return folder


@pytest.fixture()
def carer_dir(tmp_path):
    return write_carer(tmp_path)


@pytest.fixture()
def emobank_dir(tmp_path):
    rng = random.Random(0)
    rows = ["id,split,V,A,D,text"]
    for i in range(240):
        lab = rng.choice(["joy", "sadness", "anger", "fear"])
        v = {"joy": 4.0, "sadness": 2.0, "anger": 1.8, "fear": 2.2}[lab] + rng.uniform(-0.3, 0.3)
        a = {"joy": 3.5, "sadness": 2.5, "anger": 4.0, "fear": 3.8}[lab] + rng.uniform(-0.3, 0.3)
        split = "train" if i < 160 else ("dev" if i < 200 else "test")
        rows.append(f'id{i},{split},{v:.2f},{a:.2f},3.0,"I am {rng.choice(WORDS[lab])} {rng.choice(FILLER)}"')
    (tmp_path / "emobank.csv").write_text("\n".join(rows) + "\n")
    return tmp_path


# ------------------------------------------------------------------------------ speech fixtures
# Synthetic "speech": a harmonic tone whose f0 wanders around a class centre, with a
# syllable-rate amplitude envelope and a little noise. Classes differ in pitch, rate and
# level, so a tiny model can learn them. (Silero does not reliably call such tones speech:
# tests that need a deterministic detector use ``energy_vad``.)
SR = 16000
SPEECH_CLASSES = {  # label -> (f0 Hz, syllables per second, peak amplitude)
    "anger": (220.0, 6.0, 0.5),
    "neutral": (150.0, 4.0, 0.25),
    "sadness": (105.0, 2.5, 0.1),
}


def speech_like(dur: float = 1.2, f0: float = 150.0, rate: float = 4.0, amp: float = 0.3, seed: int = 0,
                sr: int = SR, vibrato: float = 0.12, noise: float = 0.003) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(dur * sr))) / sr
    f = f0 * (1 + vibrato * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi)))
    phase = 2 * np.pi * np.cumsum(f) / sr
    y = sum(0.6 ** k * np.sin((k + 1) * phase) for k in range(8))
    env = np.abs(np.sin(np.pi * rate * t + rng.uniform(0, np.pi))) ** 0.7
    y = y * env
    y = amp * y / np.abs(y).max() + rng.normal(0, noise, len(t))
    return y.astype(np.float32)


def class_clip(label: str, seed: int, dur: float = 1.2, pad: float = 0.25) -> np.ndarray:
    """One clip of a class (silence + speech-like + silence), jittered by ``seed``."""
    f0, rate, amp = SPEECH_CLASSES[label]
    rng = np.random.default_rng(1000 + seed)
    y = speech_like(dur, f0 * rng.uniform(0.93, 1.07), rate * rng.uniform(0.9, 1.1), amp * rng.uniform(0.8, 1.2),
                    seed=seed)
    z = rng.normal(0, 3e-4, int(pad * SR)).astype(np.float32)
    return np.concatenate([z, y, z])


def write_audio(path, y, sr: int = SR, **kw):
    import soundfile as sf

    path = os.fspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    sf.write(path, y, sr, **kw)
    return path


def write_speech_folder(root, n_per_class: int = 8, seed: int = 0):
    """``<root>/<label>/s<speaker>_<i>.wav``: the ``folder`` dataset layout; returns (paths, labels)."""
    X, y = [], []
    for c, label in enumerate(SPEECH_CLASSES):
        for i in range(n_per_class):
            X.append(write_audio(os.path.join(root, label, f"s{i % 4}_{i:02d}.wav"),
                                 class_clip(label, seed + 100 * c + i)))
            y.append(label)
    return X, y


def write_bad_audio(d):
    """Broken inputs of every kind in folder ``d``: name -> (path, words its error must contain)."""
    import soundfile as sf

    d.mkdir(parents=True, exist_ok=True)
    out = {}
    (d / "empty.wav").write_bytes(b"")
    out["empty"] = (d / "empty.wav", "empty file")
    sf.write(d / "noframes.wav", np.zeros(0, np.float32), SR)  # a valid 44-byte header, no samples
    out["noframes"] = (d / "noframes.wav", "no audio samples")
    sf.write(d / "silent.wav", np.zeros(SR, np.float32), SR)
    out["silent"] = (d / "silent.wav", "silent recording")
    y = speech_like(2.0, seed=2)
    for ext in ("wav", "flac", "aiff"):
        whole = d / f"whole.{ext}"
        sf.write(whole, y, SR)
        b = whole.read_bytes()
        (d / f"truncated.{ext}").write_bytes(b[: len(b) // 2])
        whole.unlink()
        out[f"truncated_{ext}"] = (d / f"truncated.{ext}", "truncated")
    (d / "corrupt.flac").write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    out["corrupt"] = (d / "corrupt.flac", "not a known audio format")
    (d / "notes.wav").write_text("this is a shopping list, not a recording\n")
    out["text"] = (d / "notes.wav", "text file")
    (d / "clip.xyz").write_bytes(b"\x00" * 100)
    out["xyz"] = (d / "clip.xyz", "unsupported audio format")
    out["missing"] = (d / "missing.wav", "not found")
    (d / "folder.wav").mkdir()
    out["folder"] = (d / "folder.wav", "folder")
    return out


# the long recording: speech-like bursts (start, end, class) separated by silences
LONG_BURSTS = [(1.0, 4.0, "anger"), (6.0, 16.0, "sadness"), (18.0, 21.0, "neutral"), (23.5, 28.0, "anger"),
               (30.0, 39.0, "neutral"), (41.0, 44.0, "sadness")]
LONG_S = 45.0


def long_recording() -> np.ndarray:
    rng = np.random.default_rng(7)
    y = rng.normal(0, 3e-4, int(LONG_S * SR)).astype(np.float32)
    for k, (a, b, label) in enumerate(LONG_BURSTS):
        f0, rate, amp = SPEECH_CLASSES[label]
        s = speech_like(b - a, f0, rate, amp, seed=50 + k)
        y[int(a * SR): int(a * SR) + len(s)] = s
    return y


@pytest.fixture(scope="session")
def speech_corpus(tmp_path_factory):
    """24 training clips in the folder layout (3 classes x 8) and 6 held-out clips."""
    root = tmp_path_factory.mktemp("speech_corpus")
    X, y = write_speech_folder(root / "train", 8, seed=0)
    Xt, yt = [], []
    for c, label in enumerate(SPEECH_CLASSES):
        for i in range(2):
            Xt.append(write_audio(root / "test" / f"{label}_{i}.wav", class_clip(label, 5000 + 10 * c + i)))
            yt.append(label)
    return {"root": root / "train", "X": X, "y": y, "X_test": Xt, "y_test": yt}


@pytest.fixture(scope="session")
def long_clip(tmp_path_factory):
    return write_audio(tmp_path_factory.mktemp("long") / "long.wav", long_recording())


def _energy_probs(self, y, last=True):
    """A frame-energy stand-in for ``SileroVAD.probs`` (same framing and streaming contract)."""
    from affekt.speech import vad

    y = np.concatenate([self._rest, np.asarray(y, np.float32)])
    n = len(y) // vad.FRAME
    if last and len(y) % vad.FRAME:
        y = np.concatenate([y, np.zeros(vad.FRAME - len(y) % vad.FRAME, np.float32)])
        n += 1
    self._rest = y[n * vad.FRAME:]
    rms = np.sqrt(np.mean(np.square(y[:n * vad.FRAME].reshape(n, vad.FRAME)), axis=1))
    if last:
        self.reset()
    return np.where(rms > 0.01, 0.95, 0.02).astype(np.float32)


def _use_energy_vad(mp) -> None:
    """Patch the detector; and keep what it finds out of the Silero-made cache entries (the
    cache key does not name the VAD), in a cache folder of its own."""
    from affekt.speech import vad

    mp.setattr(vad.SileroVAD, "probs", _energy_probs)
    cache = os.environ.get("AFFEKT_CACHE")
    if cache and not cache.endswith("-energy-vad"):
        mp.setenv("AFFEKT_CACHE", cache + "-energy-vad")


@pytest.fixture()
def energy_vad(monkeypatch):
    """Silero replaced by a frame-energy detector, so the logic around the VAD (trimming,
    windows, timelines) is deterministic on synthetic tones."""
    _use_energy_vad(monkeypatch)
    return _energy_probs


@pytest.fixture(scope="module")
def synthetic_voices_are_speech(speech_env):
    """The energy detector for a whole module whose subject is models, not the VAD: Silero does
    not take the generated harmonic tones for speech, and a clip without speech gets no emotion.
    (Silero itself is tested on a real voice in test_speech_io.py and test_speech_no_speech.py.)"""
    mp = pytest.MonkeyPatch()
    _use_energy_vad(mp)
    yield
    mp.undo()


HAS_TORCH = importlib.util.find_spec("torch") is not None
# for the tests (and parameters) that train or load a torch network; the others run without torch
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch (pip install 'affekt[all]')")


def _torch_if_installed():
    """torch when it is installed and imports, else None: nothing here depends on it."""
    if not HAS_TORCH:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


@pytest.fixture(scope="session", autouse=True)
def _private_cache_home(tmp_path_factory):
    """``affekt train`` keeps features under $XDG_CACHE_HOME/affekt when AFFEKT_CACHE is unset: in
    the tests that is a session folder, never the user's own cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def speech_env(tmp_path_factory):
    """A private AFFEKT_HOME; AFFEKT_CACHE pointed at a per-session folder (the cache is opt-in;
    with it, the many fits of a test module decode and featurise each file once); and one
    BLAS/torch thread: on a busy shared CPU, OpenMP threads waiting on each other make the tiny
    LSTM of a crnn a hundred times slower. torch is optional here: without it the torch-free
    families (svm, logreg, rf, lgbm) are still tested, and only the network tests skip."""
    from threadpoolctl import threadpool_limits

    torch = _torch_if_installed()
    cache = tmp_path_factory.getbasetemp() / "affekt-cache"
    home = tmp_path_factory.mktemp("affekt-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("AFFEKT_CACHE", str(cache))
    mp.setenv("AFFEKT_HOME", str(home))
    threads = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    with threadpool_limits(1):
        yield {"cache": cache, "home": home}
    if torch is not None:
        torch.set_num_threads(threads)
    mp.undo()


@pytest.fixture()
def torch_one_thread():
    """One torch thread for a test that trains a tiny network: on a busy shared CPU, OpenMP
    threads waiting on each other make a small LSTM many times slower."""
    torch = pytest.importorskip("torch")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


# ------------------------------------------------------------------- the bundled example voice
def example_speech_path() -> str:
    """``affekt/examples/speech.wav``: 4.6 s of a synthetic (espeak-ng) English voice that Silero
    detects as speech, shipped with the package."""
    import affekt.examples

    return os.path.join(os.path.dirname(affekt.examples.__file__), "speech.wav")


def example_speech() -> np.ndarray:
    """The example voice as 16 kHz float32 samples."""
    from affekt.io.audio import load_audio

    return load_audio(example_speech_path())


def voiced_extent(y: np.ndarray, sr: int = SR, floor_db: float = 40.0) -> tuple[float, float]:
    """(first, last) second of the 10 ms frames within ``floor_db`` of the loudest one: where the
    voice is, measured by energy alone (independently of any VAD)."""
    hop = sr // 100
    n = len(y) // hop
    e = 10 * np.log10(np.mean(np.square(y[: n * hop].reshape(n, hop).astype(np.float64)), axis=1) + 1e-12)
    on = np.flatnonzero(e > e.max() - floor_db)
    return on[0] * hop / sr, (on[-1] + 1) * hop / sr


# ------------------------------------------------------------------- the torch training loop
def state_of(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same_state(a, b):
    return a.keys() == b.keys() and all(bool((a[k] == b[k]).all()) for k in a)


class FitSpy:
    """Wraps ``fit_torch`` where a family looks it up: the dev score the loop sees is scripted
    (``script``; None keeps the real one), and at each epoch the spy records the real dev score
    and a copy of the weights, so a test can tell which epoch's weights the model ended with."""

    def __init__(self, monkeypatch, where, script=None):
        from affekt.training import trainer

        self.real_fit = trainer.fit_torch
        self.script = script
        self.runs = []
        monkeypatch.setattr(where, "fit_torch", self)

    def __call__(self, module, batches, loss_fn, score, **kw):
        run = {"module": module, "states": [], "real": [], "kw": kw, "score": score}
        self.runs.append(run)

        def spied():
            real = score() if score is not None else None
            run["real"].append(real)
            run["states"].append(state_of(module))
            return self.script[len(run["states"]) - 1] if self.script is not None else real

        run["out"] = self.real_fit(module, batches, loss_fn, spied if score is not None else None, **kw)
        return run["out"]


@pytest.fixture(scope="module")
def wav_bytes():
    """A tiny valid WAV file's bytes (loaders only look at names and headers)."""
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, (0.1 * np.sin(np.arange(800) / 5)).astype(np.float32), 16000, format="WAV")
    return buf.getvalue()


def touch(root, rels, data):
    """Write ``data`` at each relative path under ``root`` (a corpus's file naming in miniature)."""
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A small tfidf model trained through the CLI on a generated CARER-layout corpus."""
    from typer.testing import CliRunner

    from affekt.cli.app import app

    data = write_carer(tmp_path_factory.mktemp("carer"))
    out = tmp_path_factory.mktemp("models") / "carer-model"
    r = CliRunner().invoke(app, ["train", "--dataset", "carer", "--data-dir", str(data), "--model", "tfidf",
                                 "--output", str(out)])
    assert r.exit_code == 0, r.output
    return out
