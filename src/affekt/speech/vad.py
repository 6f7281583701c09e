"""Voice activity detection with the official Silero VAD model (``pip install silero-vad``).

We run the package's own ONNX file (``silero_vad_16k_sequence.onnx``: the same network as the
streaming model, one ONNX call per ~16 s block instead of one per 32 ms frame) through
onnxruntime. The package's Python helpers import torch; the few lines that turn frame
probabilities into speech segments are therefore here, with the package's defaults.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from affekt.core.errors import MissingDependencyError

FRAME = 512          # samples per VAD frame at 16 kHz (32 ms)
CONTEXT = 64         # samples of the previous frame the model sees
FRAME_S = FRAME / 16000


def _model_path() -> Path:
    spec = importlib.util.find_spec("silero_vad")  # located without importing (its __init__ imports torch)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("voice activity detection needs 'silero-vad': pip install 'affekt[speech]'")
    p = Path(list(spec.submodule_search_locations)[0]) / "data" / "silero_vad_16k_sequence.onnx"
    if not p.is_file():
        raise MissingDependencyError(f"the installed silero-vad has no '{p.name}'; pip install -U 'silero-vad>=6'")
    return p


@dataclass
class VADParams:
    threshold: float = 0.5
    neg_threshold: float = 0.35      # hysteresis: speech ends below this
    min_speech_s: float = 0.25
    min_silence_s: float = 0.3       # shorter pauses do not split an utterance
    pad_s: float = 0.1


class SileroVAD:
    """Per-frame speech probabilities, streamable: pass consecutive blocks to :meth:`probs`."""

    _session = None

    def __init__(self, block_frames: int = 512):
        self.block_frames = block_frames
        self.reset()

    @classmethod
    def session(cls):
        if cls._session is None:
            from affekt.core.errors import require

            ort = require("onnxruntime", "speech")
            opts = ort.SessionOptions()
            opts.inter_op_num_threads = 1
            opts.intra_op_num_threads = 1
            cls._session = ort.InferenceSession(str(_model_path()), sess_options=opts,
                                                providers=["CPUExecutionProvider"])
        return cls._session

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._ctx = np.zeros(CONTEXT, np.float32)
        self._rest = np.zeros(0, np.float32)

    def probs(self, y: np.ndarray, last: bool = True) -> np.ndarray:
        """Speech probability of each complete 32 ms frame of ``y`` (16 kHz); with ``last=False``
        an incomplete tail is kept for the next call."""
        y = np.concatenate([self._rest, np.asarray(y, np.float32)])
        n = len(y) // FRAME
        if last and len(y) % FRAME:
            y = np.concatenate([y, np.zeros(FRAME - len(y) % FRAME, np.float32)])
            n += 1
        self._rest = y[n * FRAME:]
        out = []
        sess = self.session()
        for s in range(0, n, self.block_frames):
            k = min(self.block_frames, n - s)
            frames = y[s * FRAME:(s + k) * FRAME].reshape(k, FRAME)
            ctx = np.empty((k, CONTEXT), np.float32)
            ctx[0] = self._ctx
            ctx[1:] = frames[:-1, -CONTEXT:]
            self._ctx = frames[-1, -CONTEXT:].copy()
            p, self._h, self._c = sess.run(["speech_probs", "hn", "cn"],
                                           {"input": np.concatenate([ctx, frames], axis=1),
                                            "h": self._h, "c": self._c})
            out.append(np.asarray(p, np.float32).reshape(-1))
        if last:
            self.reset()
        return np.concatenate(out) if out else np.zeros(0, np.float32)


def speech_segments(probs: np.ndarray, duration: float, params: VADParams = VADParams()) -> list[tuple[float, float]]:
    """Frame probabilities -> [(start_s, end_s)] speech segments (hysteresis, gaps, padding)."""
    segs: list[list[float]] = []
    start = None
    below = 0
    min_sil = max(1, int(round(params.min_silence_s / FRAME_S)))
    for i, p in enumerate(probs):
        if start is None:
            if p >= params.threshold:
                start, below = i, 0
        elif p < params.neg_threshold:
            below += 1
            if below >= min_sil:
                segs.append([start * FRAME_S, (i - below + 1) * FRAME_S])
                start = None
        else:
            below = 0
    if start is not None:
        segs.append([start * FRAME_S, (len(probs) - below) * FRAME_S])
    out = []
    for a, b in segs:
        if b - a >= params.min_speech_s:
            a, b = max(0.0, a - params.pad_s), min(duration, b + params.pad_s)
            if out and a <= out[-1][1]:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


def windows(segments: Iterable[tuple[float, float]], max_s: float = 8.0, min_s: float = 0.5,
            join_gap_s: float = 0.6) -> list[tuple[float, float]]:
    """Speech segments -> utterance windows: close segments joined, long ones cut evenly
    into pieces of at most ``max_s`` seconds, very short ones dropped."""
    merged: list[list[float]] = []
    for a, b in segments:
        if merged and a - merged[-1][1] <= join_gap_s and b - merged[-1][0] <= max_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        n = int(np.ceil((b - a) / max_s))
        step = (b - a) / max(n, 1)
        for k in range(max(n, 1)):
            s, e = a + k * step, a + (k + 1) * step
            if e - s >= min_s:
                out.append((round(s, 3), round(e, 3)))
    return out
