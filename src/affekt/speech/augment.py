"""Training-time augmentation that simulates other microphones, rooms and channels.

Each kind turns a decoded clip (16 kHz mono) into one degraded copy, deterministically for a
given seed:

=========  ====================================================================================
noise      white, pink or brown noise at 10-30 dB SNR (against the clip's active speech level)
babble     3-5 other clips of the training set summed, at 10-30 dB SNR
mp3        an MP3 round trip at 32-128 kbps (libsndfile's LAME encoder, in memory)
telephone  the telephone band: 300-3400 Hz, resampled through 8 kHz, mu-law companding
reverb     a synthetic room: exponentially decaying noise impulse response, RT60 0.2-0.8 s
speed      speed (and pitch) changed by 0.9-1.1
gain       a level change of -20..+10 dB with clipping at full scale
=========  ====================================================================================

Used by the speech families' ``augment`` parameter (``-p augment=noise,babble,mp3``): every
training clip adds one copy per kind. The copies' features are cached like the originals'.
"""
from __future__ import annotations

import io

import numpy as np

from affekt.core.errors import InputError

SR = 16000
KINDS = ("noise", "babble", "mp3", "telephone", "reverb", "speed", "gain")
VERSION = "aug-v1"


def parse_kinds(spec) -> tuple[str, ...]:
    """``"noise,mp3"`` or ``["noise", "mp3"]`` -> ("noise", "mp3"); unknown kinds are refused."""
    if not spec:
        return ()
    kinds = [k.strip() for k in (spec.split(",") if isinstance(spec, str) else spec) if str(k).strip()]
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InputError(f"unknown augmentation '{bad[0]}' (known: {', '.join(KINDS)})")
    return tuple(dict.fromkeys(kinds))


def active_rms(y: np.ndarray, sr: int = SR) -> float:
    """RMS over the frames within 40 dB of the loudest (the speech, not the pauses)."""
    n = max(1, int(0.02 * sr))
    if len(y) < n:
        return float(np.sqrt(np.mean(y ** 2) + 1e-12))
    e = np.sqrt(np.mean(y[: len(y) // n * n].reshape(-1, n) ** 2, axis=1) + 1e-12)
    return float(np.sqrt(np.mean(e[e > e.max() * 0.01] ** 2)))


def add_at_snr(y: np.ndarray, noise: np.ndarray, snr_db: float, sr: int = SR) -> np.ndarray:
    noise = np.resize(noise.astype(np.float64), len(y))
    g = active_rms(y, sr) / (np.sqrt(np.mean(noise ** 2)) + 1e-12) / 10 ** (snr_db / 20)
    return _unclip(y + g * noise)


def _unclip(y: np.ndarray) -> np.ndarray:
    peak = float(np.abs(y).max()) if len(y) else 0.0
    return (y / peak * 0.99 if peak > 0.99 else y).astype(np.float32)


def coloured_noise(n: int, rng, colour: str) -> np.ndarray:
    w = rng.standard_normal(n)
    if colour == "white":
        return w
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    shape = 1 / np.sqrt(f) if colour == "pink" else 1 / f
    return np.fft.irfft(np.fft.rfft(w) * shape, n)


def mp3_round_trip(y: np.ndarray, kbps: int, sr: int = SR) -> np.ndarray:
    import soundfile as sf

    buf = io.BytesIO()
    # MPEG-2 layer III at 16 kHz: compression level 0 -> 160 kbps ... 1 -> 8 kbps
    level = float(np.clip((160 - kbps) / (160 - 8), 0.0, 1.0))
    sf.write(buf, y, sr, format="MP3", subtype="MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=level)
    buf.seek(0)
    z, _ = sf.read(buf, dtype="float32")
    z = z if z.ndim == 1 else z.mean(axis=1)
    out = np.zeros_like(y)  # the decoded copy, cut or padded to the original's length
    k = min(len(y), len(z))
    out[:k] = z[:k]
    return out


def telephone(y: np.ndarray, sr: int = SR) -> np.ndarray:
    from scipy.signal import butter, resample_poly, sosfiltfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=sr, output="sos")
    z = resample_poly(sosfiltfilt(sos, y), 1, 2)  # 8 kHz
    mu = 255.0
    peak = np.abs(z).max() + 1e-9
    c = np.sign(z) * np.log1p(mu * np.abs(z / peak)) / np.log1p(mu)
    c = np.round(c * 127) / 127  # 8-bit mu-law
    z = np.sign(c) * ((1 + mu) ** np.abs(c) - 1) / mu * peak
    return _unclip(resample_poly(z, 2, 1)[: len(y)])


def reverb(y: np.ndarray, rng, sr: int = SR) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt60 = rng.uniform(0.2, 0.8)
    t = np.arange(int(rt60 * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    ir[0] = 1.0
    ir /= np.sqrt(np.sum(ir ** 2))
    return _unclip(fftconvolve(y, ir)[: len(y)] * (active_rms(y) / (active_rms(fftconvolve(y, ir)[: len(y)]) + 1e-9)))


def speed(y: np.ndarray, factor: float) -> np.ndarray:
    from scipy.signal import resample_poly

    up, down = int(round(100 / factor)), 100
    return resample_poly(y, up, down).astype(np.float32)


def degrade(y: np.ndarray, kind: str, rng, pool=None, sr: int = SR) -> np.ndarray:
    """One degraded copy of ``y`` (float32, 16 kHz mono). ``pool``: a callable returning other
    clips (for babble)."""
    y = np.asarray(y, dtype=np.float32)
    if kind == "noise":
        colour = rng.choice(["white", "pink", "brown"])
        return add_at_snr(y, coloured_noise(len(y), rng, colour), rng.uniform(10, 30), sr)
    if kind == "babble":
        others = pool(int(rng.integers(3, 6))) if pool is not None else []
        if not others:
            return add_at_snr(y, coloured_noise(len(y), rng, "pink"), rng.uniform(10, 30), sr)
        talk = np.zeros(len(y))
        for o in others:
            o = np.resize(o / (np.sqrt(np.mean(o ** 2)) + 1e-9), len(y))
            talk += np.roll(o, int(rng.integers(len(y))))
        return add_at_snr(y, talk, rng.uniform(10, 30), sr)
    if kind == "mp3":
        return mp3_round_trip(y, int(rng.choice([32, 48, 64, 96, 128])), sr)
    if kind == "telephone":
        return telephone(y, sr)
    if kind == "reverb":
        return reverb(y, rng, sr)
    if kind == "speed":
        return speed(y, rng.uniform(0.9, 1.1))
    if kind == "gain":
        return np.clip(y * 10 ** (rng.uniform(-20, 10) / 20), -1.0, 1.0).astype(np.float32)
    raise InputError(f"unknown augmentation '{kind}' (known: {', '.join(KINDS)})")
