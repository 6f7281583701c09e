"""From an input (file path or ``(samples, sample_rate)``) to the utterances a model scores.

A short input (up to :data:`LONG_S` seconds) is one utterance: loudness-normalised, with the
leading and trailing silence the VAD finds trimmed away. A longer input is streamed: the VAD
runs block by block over the whole file, its speech segments become utterance windows of at
most ``max_window_s`` seconds, and each window is read back from the file on its own, so memory
does not grow with the length of the recording.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from affekt.io.audio import (AUDIO_SUFFIXES, SR, AudioError, audio_info, check_array, dbfs, load_audio,
                             normalize_loudness, stream_audio)
from affekt.speech.vad import SileroVAD, VADParams, speech_segments, windows

LONG_S = 20.0          # longer inputs get a timeline of windows
SILENCE_DBFS = -70.0   # quieter than this everywhere: nothing to analyse


@dataclass
class Utterance:
    start: float
    end: float
    samples: np.ndarray
    speech: bool = True  # False when the VAD found no speech and the whole clip is used


def input_name(x) -> str:
    if isinstance(x, (str, os.PathLike)):
        return str(x)
    return "<array>"


def check_input(x) -> str | None:
    """Cheap check (no decoding): why ``x`` cannot be an audio input, or None."""
    if isinstance(x, (str, os.PathLike)):
        p = Path(x)
        if not p.exists():
            hint = " (a text? speech models take audio files; texts need a text model)" \
                if isinstance(x, str) and p.suffix.lower() not in AUDIO_SUFFIXES and " " in x else ""
            return f"'{p}': file not found{hint}"
        return None
    if isinstance(x, tuple) and len(x) == 2 and hasattr(x[0], "__len__"):
        return None
    return f"expected an audio file path or a (samples, sample_rate) tuple, got {type(x).__name__}"


def _trim(y: np.ndarray, vad: SileroVAD, params: VADParams) -> Utterance:
    """A short clip cut to its speech. When the VAD hears speech (a frame at or above its
    threshold) but too briefly to make a segment, the whole clip is kept as speech: shouted or
    clipped speech scores so (10 of RAVDESS's 1440 clips), noise and tones stay far below."""
    dur = len(y) / SR
    probs = vad.probs(y)
    segs = speech_segments(probs, dur, params)
    if not segs:
        heard = bool(len(probs)) and float(np.max(probs)) >= params.threshold
        return Utterance(0.0, round(dur, 3), y, speech=heard)
    a, b = segs[0][0], segs[-1][1]
    return Utterance(round(a, 3), round(b, 3), y[int(a * SR): int(b * SR)])


def utterances(x, *, vad: bool = True, params: VADParams = VADParams(), max_window_s: float = 8.0,
               long_s: float = LONG_S) -> Iterator[Utterance]:
    """The utterances of one input, in time order (see the module doc)."""
    name = input_name(x)
    v = SileroVAD() if vad else None
    if isinstance(x, tuple):
        y = check_array(x[0], x[1], name)
        dur = len(y) / SR
        if dur <= long_s:
            yield _short(y, name, v, params)
            return
        if v is not None:
            level = dbfs(y)
            if level < SILENCE_DBFS:
                raise AudioError(f"'{name}': silent recording (level {level:.0f} dBFS everywhere)")
        segs = _segments_of_array(y, v, params) if v else [(0.0, dur)]
        for a, b in _long_windows(name, segs, dur, max_window_s):
            yield Utterance(a, b, normalize_loudness(y[int(a * SR): int(b * SR)]))
        return
    info = audio_info(x)
    if info.duration <= long_s:
        yield _short(load_audio(x, info=info), name, v, params)
        return
    # long file: pass 1 streams the VAD over the file, pass 2 reads each window back
    if v is not None:
        probs, peak = [], -np.inf
        for block in stream_audio(x, info=info):
            peak = max(peak, dbfs(block))
            probs.append(v.probs(normalize_loudness(block), last=False))
        probs.append(v.probs(np.zeros(0, np.float32), last=True))
        if peak < SILENCE_DBFS:
            raise AudioError(f"'{name}': silent recording (level {peak:.0f} dBFS everywhere)")
        segs = speech_segments(np.concatenate(probs), info.duration, params)
    else:
        segs = [(0.0, info.duration)]
    for a, b in _long_windows(name, segs, info.duration, max_window_s):
        yield Utterance(a, b, normalize_loudness(load_audio(x, start=a, end=b, info=info)))


def _long_windows(name: str, segs, duration: float, max_window_s: float) -> list[tuple[float, float]]:
    """The windows of a long input; none (no speech, or only blips too short to score) is an error,
    for files and arrays alike."""
    out = windows(segs, max_s=max_window_s)
    if not out:
        raise AudioError(f"'{name}': no speech found in {duration:.0f} s of audio")
    return out


def _short(y: np.ndarray, name: str, v: SileroVAD | None, params: VADParams) -> Utterance:
    level = dbfs(y)
    if level < SILENCE_DBFS:
        raise AudioError(f"'{name}': silent recording (level {level:.0f} dBFS)")
    y = normalize_loudness(y)
    if v is None:
        return Utterance(0.0, round(len(y) / SR, 3), y)
    u = _trim(y, v, params)
    if u.end - u.start < 0.1:
        u = Utterance(0.0, round(len(y) / SR, 3), y, speech=False)
    return u


def _segments_of_array(y: np.ndarray, v: SileroVAD, params: VADParams):
    probs = v.probs(normalize_loudness(y))
    return speech_segments(probs, len(y) / SR, params)
