"""Speech features, all from one STFT per utterance (16 kHz, 25 ms Hann windows, 10 ms hop).

- :func:`log_mel`: the (n_mels, frames) log-mel spectrogram the neural families read;
- :func:`functionals`: utterance-level statistics (mean, std, 10/50/90th percentiles, slope) of
  frame-level descriptors: MFCC 1-20 with deltas and delta-deltas, RMS intensity, zero-crossing
  rate, spectral centroid / bandwidth / rolloff / flatness / contrast, pitch (YIN; statistics over
  voiced frames) and log-mel band means/stds, plus voicing and pause ratios;
- optional: openSMILE eGeMAPSv02 / ComParE_2016 (``affekt[opensmile]``, audEERING's
  non-commercial licence) and Praat jitter/shimmer/HNR via parselmouth (``affekt[praat]``, GPL).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from affekt.core.errors import InputError, require

SR = 16000
N_FFT = 512
WIN = 400
HOP = 160
N_MELS = 64
FEATURE_SETS = ("functionals", "functionals-cms", "functionals-floor", "egemaps", "compare", "praat")
FLOOR_DB = -40.0  # functionals-floor: the noise floor added, relative to the utterance's active speech level


@lru_cache(maxsize=4)
def _mel_basis(n_mels: int = N_MELS) -> np.ndarray:
    """librosa's Slaney mel filterbank; the default 64-band one is shipped as computed by
    ``librosa.filters.mel`` (same arguments) to spare the 1 s librosa import at start-up."""
    from pathlib import Path

    shipped = Path(__file__).parent / "data" / f"mel{n_mels}_16k_512.npy"
    if shipped.is_file():
        return np.load(shipped)
    import librosa.filters

    return librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=n_mels, fmin=50, fmax=SR // 2).astype(np.float32)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    w = np.zeros(N_FFT, np.float32)  # 25 ms periodic Hann, centred in the 32 ms FFT frame
    off = (N_FFT - WIN) // 2
    w[off:off + WIN] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WIN) / WIN)
    return w


def _frames(y: np.ndarray, length: int, hop: int = HOP) -> np.ndarray:
    """(n_frames, length) centred frames (zero padding), as librosa's ``center=True``."""
    pad = length // 2
    y = np.pad(y, pad)
    n = 1 + (len(y) - length) // hop
    return np.lib.stride_tricks.sliding_window_view(y, length)[::hop][:n]


def _power_spec(y: np.ndarray) -> np.ndarray:
    """(257, frames) power spectrum: numpy's FFT over centred frames (the STFT librosa computes,
    without its 3 s first-call start-up)."""
    from scipy import fft

    F = fft.rfft(_frames(y.astype(np.float32, copy=False), N_FFT) * _window(), axis=1)
    return (F.real ** 2 + F.imag ** 2).T.astype(np.float32)


def mel_power(y: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, frames) mel power spectrogram."""
    return _mel_basis(n_mels) @ _power_spec(y)


def log_mel(y: np.ndarray, n_mels: int = N_MELS) -> np.ndarray:
    """(n_mels, frames) log-mel spectrogram in dB (floor -100 dB)."""
    return 10.0 * np.log10(np.maximum(mel_power(y, n_mels), 1e-10)).astype(np.float32)


def yin(y: np.ndarray, fmin: float = 65.0, fmax: float = 500.0, frame_length: int = 512,
        threshold: float = 0.1) -> np.ndarray:
    """F0 per 10 ms frame by YIN (de Cheveigne & Kawahara 2002), vectorised over frames
    as in ``librosa.yin`` (same steps, no numba start-up)."""
    from scipy import fft

    fr = _frames(y.astype(np.float32, copy=False), frame_length)
    W = frame_length // 2
    tmin, tmax = max(1, int(SR // fmax)), min(W - 1, int(np.ceil(SR / fmin)))
    spec = fft.rfft(fr, n=2 * frame_length, axis=1)
    acf = fft.irfft(spec * np.conj(fft.rfft(fr[:, :W], n=2 * frame_length, axis=1)), axis=1)[:, :tmax + 1]
    fr = fr.astype(np.float64)
    energy = np.cumsum(fr ** 2, axis=1)
    e0 = energy[:, W - 1]
    lag_energy = energy[:, W - 1 + np.arange(tmax + 1)] - np.concatenate(
        [np.zeros((len(fr), 1)), energy[:, :tmax]], axis=1)
    d = np.maximum(e0[:, None] + lag_energy - 2 * acf, 0)
    d[:, 0] = 0
    cum = np.cumsum(d[:, 1:], axis=1) / np.arange(1, tmax + 1)
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] / np.maximum(cum, 1e-12)
    c = cmnd[:, tmin:tmax]
    is_min = np.zeros_like(c, dtype=bool)
    is_min[:, 1:-1] = (c[:, 1:-1] <= c[:, :-2]) & (c[:, 1:-1] <= c[:, 2:])
    below = is_min & (c < threshold)
    tau = np.where(below.any(axis=1), below.argmax(axis=1), c.argmin(axis=1))
    k = np.clip(tau, 1, c.shape[1] - 2)
    rows = np.arange(len(c))
    a, b, cc = c[rows, k - 1], c[rows, k], c[rows, k + 1]
    den = a - 2 * b + cc
    shift = np.where(np.abs(den) > 1e-12, 0.5 * (a - cc) / np.where(den == 0, 1, den), 0.0)
    period = tmin + k + np.clip(shift, -1, 1)
    return (SR / period).astype(np.float32)


def _stats(M: np.ndarray) -> np.ndarray:
    """Row-wise mean, std, p10, p50, p90 and linear slope (per second) of (rows, frames)."""
    M = np.asarray(M, np.float64)
    n = M.shape[1]
    if n == 0:
        return np.zeros(M.shape[0] * 6)
    p = np.percentile(M, [10, 50, 90], axis=1)
    t = (np.arange(n) - (n - 1) / 2) * (HOP / SR)
    denom = float((t ** 2).sum()) or 1.0
    slope = (M - M.mean(axis=1, keepdims=True)) @ t / denom
    return np.concatenate([M.mean(axis=1), M.std(axis=1), p[0], p[1], p[2], slope])


def _functional_names() -> list[str]:
    rows = ([f"mfcc{i}" for i in range(1, 21)] + [f"d_mfcc{i}" for i in range(1, 21)]
            + [f"dd_mfcc{i}" for i in range(1, 21)]
            + ["rms_db", "zcr", "centroid", "bandwidth", "rolloff", "flatness"]
            + [f"contrast{i}" for i in range(7)])
    names = [f"{r}_{s}" for s in ("mean", "std", "p10", "p50", "p90", "slope") for r in rows]
    names += [f"mel{i}_{s}" for s in ("mean", "std") for i in range(N_MELS)]
    names += [f"f0_{s}" for s in ("mean", "std", "p10", "p50", "p90", "slope")]
    names += ["f0_range_st", "d_f0_std", "voiced_ratio", "pause_ratio", "rms_peak_db", "duration_s"]
    return names


FUNCTIONAL_NAMES = _functional_names()
_CONTRAST_EDGES = [0, 100, 200, 400, 800, 1600, 3200, 8001]


def _contrast(P: np.ndarray, alpha: float = 0.02) -> np.ndarray:
    """Spectral contrast (Jiang et al. 2002) in 7 octave bands: log ratio of the mean of the
    strongest and the weakest ``alpha`` share of each band's bins."""
    freqs = np.arange(P.shape[0]) * SR / N_FFT
    out = []
    for lo, hi in zip(_CONTRAST_EDGES[:-1], _CONTRAST_EDGES[1:]):
        band = np.sort(P[(freqs >= lo) & (freqs < hi)], axis=0)
        k = max(1, int(round(alpha * len(band))))
        out.append(10 * np.log10((band[-k:].mean(axis=0) + 1e-10) / (band[:k].mean(axis=0) + 1e-10)))
    return np.vstack(out)


def _delta(M: np.ndarray, order: int) -> np.ndarray:
    from scipy.signal import savgol_filter

    width = min(9, M.shape[1] if M.shape[1] % 2 else M.shape[1] - 1)
    if width < 3:
        return np.zeros_like(M)
    return savgol_filter(M, width, polyorder=order, deriv=order, axis=1, mode="interp")


def remove_channel(y: np.ndarray, cutoff_hz: float = 60.0) -> np.ndarray:
    """DC removed and a 4th-order Butterworth high-pass at ``cutoff_hz``: the hum, rumble and
    offset that say more about the recording than the voice."""
    from scipy.signal import butter, sosfiltfilt

    y = np.asarray(y, np.float64) - float(np.mean(y)) if len(y) else np.asarray(y, np.float64)
    if len(y) <= 27:  # sosfiltfilt's padding needs a few samples
        return y.astype(np.float32)
    return sosfiltfilt(butter(4, cutoff_hz, "highpass", fs=SR, output="sos"), y).astype(np.float32)


def functionals(y: np.ndarray, channel_norm: bool = False) -> np.ndarray:
    """One vector of :data:`FUNCTIONAL_NAMES` for a 16 kHz utterance (float32).

    ``channel_norm`` (feature set ``functionals-cms``): DC and low-frequency rumble removed first
    (:func:`remove_channel`), and the log-mel spectrum and MFCCs taken relative to their mean over
    the utterance (cepstral mean subtraction): a microphone or a room multiplies the spectrum by its
    own response, an offset in the log domain that the mean carries. Their mean functionals are then
    0; their spread, percentiles and slopes stay."""
    from scipy.fft import dct

    if channel_norm:
        y = remove_channel(y)
    if len(y) < WIN:
        y = np.pad(y, (0, WIN - len(y)))
    P = _power_spec(y)
    mag = np.sqrt(P)
    mel_db = 10.0 * np.log10(np.maximum(_mel_basis() @ P, 1e-10))
    if channel_norm:
        mel_db = mel_db - mel_db.mean(axis=1, keepdims=True)
    mfcc = dct(mel_db, type=2, norm="ortho", axis=0)[:20]
    d1, d2 = _delta(mfcc, 1), _delta(mfcc, 2)
    rms_db = 10 * np.log10(np.maximum(P.sum(axis=0) * 2 / (N_FFT * (_window() ** 2).sum()), 1e-12))
    fr = _frames(y, WIN)
    zcr = (np.abs(np.diff(np.signbit(fr), axis=1)).sum(axis=1) / WIN)[: P.shape[1]]
    freqs = np.arange(P.shape[0]) * SR / N_FFT
    norm = mag.sum(axis=0) + 1e-10
    centroid = (freqs[:, None] * mag).sum(axis=0) / norm
    bandwidth = np.sqrt(((freqs[:, None] - centroid[None]) ** 2 * mag).sum(axis=0) / norm)
    cum = np.cumsum(mag, axis=0)
    rolloff = freqs[np.argmax(cum >= 0.85 * cum[-1:], axis=0)]
    flatness = np.exp(np.mean(np.log(P + 1e-10), axis=0)) / (np.mean(P, axis=0) + 1e-10)
    n = min(mfcc.shape[1], len(zcr))
    frame_rows = np.vstack([mfcc[:, :n], d1[:, :n], d2[:, :n], rms_db[None, :n], zcr[None, :n],
                            centroid[None, :n] / 1000, bandwidth[None, :n] / 1000, rolloff[None, :n] / 1000,
                            np.log10(flatness[None, :n] + 1e-10), _contrast(P)[:, :n]])
    # pitch: YIN; frames loud enough and not noise-like count as voiced
    f0 = yin(y)[:n]
    m = len(f0)
    loud = rms_db[:n] > rms_db.max() - 30
    voiced = loud[:m] & (zcr[:m] < 0.2) & (flatness[:m] < 0.3)
    f0v = f0[voiced]
    if len(f0v) >= 3:
        st = 12 * np.log2(f0v / 100.0)  # semitones re 100 Hz
        f0_stats = _stats(st[None, :])
        f0_extra = [float(np.percentile(st, 95) - np.percentile(st, 5)), float(np.std(np.diff(st)))]
    else:
        f0_stats, f0_extra = np.zeros(6), [0.0, 0.0]
    tail = [float(voiced.mean()) if m else 0.0, float((~loud).mean()) if n else 0.0,
            float(rms_db.max()), len(y) / SR]
    vec = np.concatenate([_stats(frame_rows), mel_db.mean(axis=1), mel_db.std(axis=1), f0_stats, f0_extra, tail])
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


# --------------------------------------------------------------------------- optional extras
@lru_cache(maxsize=2)
def _smile(feature_set: str):
    opensmile = require("opensmile", "opensmile")
    fs = {"egemaps": opensmile.FeatureSet.eGeMAPSv02, "compare": opensmile.FeatureSet.ComParE_2016}[feature_set]
    return opensmile.Smile(feature_set=fs, feature_level=opensmile.FeatureLevel.Functionals)


def opensmile_functionals(y: np.ndarray, feature_set: str = "egemaps") -> np.ndarray:
    """openSMILE functionals (eGeMAPSv02: 88, ComParE_2016: 6373). audEERING's licence is
    research/non-commercial only: a model using them inherits that."""
    df = _smile(feature_set).process_signal(y, SR)
    return np.nan_to_num(df.to_numpy(np.float32)[0])


def praat_voice_quality(y: np.ndarray) -> np.ndarray:
    """Jitter (local, rap), shimmer (local, apq3), HNR and mean F0 via Praat (parselmouth, GPL)."""
    parselmouth = require("parselmouth", "praat")
    from parselmouth.praat import call

    snd = parselmouth.Sound(y.astype(np.float64), sampling_frequency=SR)
    try:
        pp = call(snd, "To PointProcess (periodic, cc)", 65, 500)
        jit_l = call(pp, "Get jitter (local)", 0, 0, 0.0001, 0.02, 1.3)
        jit_r = call(pp, "Get jitter (rap)", 0, 0, 0.0001, 0.02, 1.3)
        shim_l = call([snd, pp], "Get shimmer (local)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
        shim_a = call([snd, pp], "Get shimmer (apq3)", 0, 0, 0.0001, 0.02, 1.3, 1.6)
        hnr = call(call(snd, "To Harmonicity (cc)", 0.01, 65, 0.1, 1.0), "Get mean", 0, 0)
        f0 = call(snd.to_pitch(), "Get mean", 0, 0, "Hertz")
    except Exception:  # Praat gives up on unvoiced input: no voice-quality measures
        return np.zeros(6, np.float32)
    return np.nan_to_num(np.array([jit_l, jit_r, shim_l, shim_a, hnr, f0], np.float32))


def noise_floor(y: np.ndarray, level_db: float = FLOOR_DB) -> np.ndarray:
    """``y`` plus white noise ``level_db`` below its active speech level (a fixed seed: the same
    input gives the same features). Spectral regions a studio left silent, or a codec zeroed, then
    read the same: the log-spectral features no longer measure how empty they were."""
    from affekt.speech.augment import active_rms

    y = np.asarray(y, np.float32)
    if not len(y):
        return y
    n = np.random.default_rng(0).standard_normal(len(y)).astype(np.float32)
    return (y + active_rms(y) * 10 ** (level_db / 20) * n).astype(np.float32)


def feature_vector(y: np.ndarray, feature_set: str = "functionals") -> np.ndarray:
    """Functionals of one utterance for a '+'-joined feature set name (e.g. "functionals+praat")."""
    parts = []
    for name in feature_set.split("+"):
        if name == "functionals":
            parts.append(functionals(y))
        elif name == "functionals-cms":
            parts.append(functionals(y, channel_norm=True))
        elif name == "functionals-floor":
            parts.append(functionals(noise_floor(y)))
        elif name in ("egemaps", "compare"):
            parts.append(opensmile_functionals(y, name))
        elif name == "praat":
            parts.append(praat_voice_quality(y))
        else:
            raise InputError(f"unknown speech feature set '{name}' (known: {', '.join(FEATURE_SETS)})")
    return np.concatenate(parts)
