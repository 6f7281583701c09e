"""Live speech: PCM chunks in, a rolling timeline out (``WebSocket /v1/speech/stream``).

:class:`SpeechStream` is the part without a socket: chunks are resampled to 16 kHz, the Silero
VAD runs over them as they come (its state carried from chunk to chunk), and while someone
speaks the stream asks for a prediction of the speech so far: the first ``first_s`` seconds after
the onset, then every ``hop_s``, over the last ``window_s`` seconds; when the speech stops (or an
utterance reaches ``max_utterance_s``) the whole utterance is predicted once more, ``final``.

The protocol (JSON text messages from the server, binary PCM from the client):

* connect to ``/v1/speech/stream?sample_rate=16000&format=s16le`` (``f32le`` also read; optional
  ``model``, ``label_space``); with an API key, send ``Authorization: Bearer KEY`` or a first text
  message ``{"api_key": "KEY"}``;
* the server says ``{"type": "ready", ...}``; the client sends binary messages of PCM, mono;
* the server sends ``{"type": "vad", "speech": true|false, "t": seconds}`` at each onset and end
  of speech, and ``{"type": "prediction", "start", "end", "label", "scores", "final",
  "latency_ms"}`` (``latency_ms``: from the arrival of the chunk that completed the window to the
  answer being sent);
* the client sends ``{"type": "end"}`` (or closes): the last utterance is predicted, then
  ``{"type": "end", "duration": seconds}``.

Anything else (a text message that is not one of these, PCM of a broken length, a chunk over
the size limit, silence from the client for ``idle_s``) gets ``{"type": "error", "error": ...}``
and the socket is closed; the service goes on.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import numpy as np

SR = 16000
FORMATS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}
MAX_CHUNK_BYTES = 1 << 20
MAX_STREAM_S = 3600.0


@dataclass
class Window:
    start: float
    end: float
    samples: np.ndarray
    final: bool


class SpeechStream:
    """Feed PCM chunks (:meth:`feed`); get VAD events and windows to predict."""

    def __init__(self, sample_rate: int = SR, *, first_s: float = 0.6, hop_s: float = 1.0, window_s: float = 4.0,
                 max_utterance_s: float = 8.0, threshold: float = 0.5, neg_threshold: float = 0.35,
                 min_silence_s: float = 0.4, pre_roll_s: float = 0.2):
        from affekt.speech.vad import SileroVAD

        if not isinstance(sample_rate, int) or not 8000 <= sample_rate <= 192000:
            raise ValueError(f"sample_rate {sample_rate!r}: expected an integer rate in Hz, 8000-192000")
        self.sample_rate = sample_rate
        self.first_s, self.hop_s, self.window_s = first_s, hop_s, window_s
        self.max_utterance_s = max_utterance_s
        self.threshold, self.neg_threshold = threshold, neg_threshold
        self.min_silence = max(1, int(round(min_silence_s / 0.032)))
        self.pre_roll = int(pre_roll_s * SR)
        self.vad = SileroVAD()
        self._resampler = None
        if sample_rate != SR:
            import soxr

            self._resampler = soxr.ResampleStream(sample_rate, SR, 1, dtype="float32", quality="HQ")
        self.buf = np.zeros(0, np.float32)  # 16 kHz audio from buf_start on
        self.buf_start = 0                   # sample index (16 kHz) of buf[0]
        self.frames = 0                      # VAD frames (32 ms) done
        self.onset: int | None = None        # sample index where the current speech began
        self.below = 0
        self.last_pred: int | None = None    # sample index of the last window's end

    @property
    def now(self) -> int:
        return self.buf_start + len(self.buf)

    def feed(self, y: np.ndarray, last: bool = False) -> list[dict | Window]:
        """A chunk of mono float32 samples at the stream's rate -> what it brings, in time order:
        VAD events (dicts) and windows to predict."""
        from affekt.speech.vad import FRAME

        y = np.asarray(y, np.float32)
        if self._resampler is not None:
            y = self._resampler.resample_chunk(y, last=last)
        self.buf = np.concatenate([self.buf, y])
        probs = self.vad.probs(y, last=False)
        out: list[dict | Window] = []
        for p in probs:
            self.frames += 1
            t = self.frames * FRAME  # the end of this frame, in samples
            if self.onset is None:
                if p >= self.threshold:
                    self.onset = max(self.buf_start, t - FRAME - self.pre_roll)
                    self.below = 0
                    self.last_pred = None
                    out.append({"type": "vad", "speech": True, "t": round((t - FRAME) / SR, 3)})
            else:
                self.below = self.below + 1 if p < self.neg_threshold else 0
                if self.below >= self.min_silence:
                    end = t - (self.below - 1) * FRAME
                    out.append(self._window(self.onset, end, final=True))
                    out.append({"type": "vad", "speech": False, "t": round(end / SR, 3)})
                    self.onset = None
                elif t - self.onset >= self.max_utterance_s * SR:
                    out.append(self._window(self.onset, t, final=True))
                    self.onset, self.last_pred = t, t
                elif self.below == 0 and self._due(t):  # not while the speech may be ending
                    out.append(self._window(max(self.onset, t - int(self.window_s * SR)), t, final=False))
                    self.last_pred = t
        if last and self.onset is not None:
            end = self.now
            if end - self.onset >= 0.25 * SR:
                out.append(self._window(self.onset, end, final=True))
            out.append({"type": "vad", "speech": False, "t": round(end / SR, 3)})
            self.onset = None
        self._trim()
        return out

    def _due(self, t: int) -> bool:
        if self.last_pred is None:
            return t - self.onset >= self.first_s * SR
        return t - self.last_pred >= self.hop_s * SR

    def _window(self, a: int, b: int, final: bool) -> Window:
        a, b = max(a, self.buf_start), min(b, self.now)
        return Window(round(a / SR, 3), round(b / SR, 3), self.buf[a - self.buf_start:b - self.buf_start].copy(), final)

    def _trim(self) -> None:
        """Keep only what a later window can need: the current utterance, or a short pre-roll."""
        keep_from = self.onset if self.onset is not None else self.now - self.pre_roll - 2 * 512
        keep_from = max(self.buf_start, keep_from)
        if keep_from > self.buf_start:
            self.buf = self.buf[keep_from - self.buf_start:]
            self.buf_start = keep_from


async def serve_stream(ws, svc) -> None:
    """The WebSocket endpoint (see the module notes)."""
    import hmac

    from starlette.websockets import WebSocketDisconnect

    from affekt.serve.inputs import RequestError

    q = ws.query_params
    cfg = svc.config
    await ws.accept()
    svc.metrics.streams.inc()
    t0 = time.perf_counter()

    async def fail(msg: str, code: int = 1003) -> None:
        try:
            await ws.send_json({"type": "error", "error": msg})
            await ws.close(code=code, reason=msg[:120])
        except Exception:
            pass

    try:
        fmt = q.get("format", "s16le")
        if fmt not in FORMATS:
            return await fail(f"format '{fmt}': expected one of {', '.join(FORMATS)}", 1008)
        try:
            rate = int(q.get("sample_rate", SR))
            stream = SpeechStream(rate)
        except ValueError as exc:
            return await fail(f"sample_rate: {exc}", 1008)
        try:
            sm = svc.pick(q.get("model"), "speech")
        except RequestError as exc:
            return await fail(str(exc), 1008)
        label_space = q.get("label_space") or None
        authed = not cfg.api_key
        if not authed:
            given = ws.headers.get("authorization", "")
            scheme, _, token = given.partition(" ")
            authed = scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), cfg.api_key.encode())
        dtype = FORMATS[fmt]
        if authed:
            await ws.send_json({"type": "ready", "model": sm.name, "sample_rate": rate, "format": fmt})
        seconds = 0.0
        while True:
            try:
                msg = await asyncio.wait_for(ws.receive(), cfg.body_timeout_s)
            except TimeoutError:
                return await fail(f"no data for {cfg.body_timeout_s:g} s; closing", 1001)
            if msg["type"] == "websocket.disconnect":
                return
            arrived = time.perf_counter()
            if msg.get("text") is not None:
                try:
                    cmd = json.loads(msg["text"])
                except json.JSONDecodeError:
                    return await fail("text messages must be JSON: {\"type\": \"end\"} (audio goes in binary messages)")
                if not isinstance(cmd, dict):
                    return await fail("text messages must be a JSON object")
                if not authed:
                    key = cmd.get("api_key")
                    if isinstance(key, str) and hmac.compare_digest(key.encode(), cfg.api_key.encode()):
                        authed = True
                        await ws.send_json({"type": "ready", "model": sm.name, "sample_rate": rate, "format": fmt})
                        continue
                    return await fail("missing or wrong API key", 1008)
                if cmd.get("type") == "end":
                    await _answer(ws, svc, sm, label_space, stream.feed(np.zeros(0, np.float32), last=True), arrived)
                    await ws.send_json({"type": "end", "duration": round(seconds, 3)})
                    await ws.close()
                    return
                return await fail(f"unknown message {str(cmd)[:80]} (send PCM as binary, or {{\"type\": \"end\"}})")
            if not authed:
                return await fail("missing or wrong API key (send {\"api_key\": ...} first)", 1008)
            data = msg.get("bytes") or b""
            if len(data) > MAX_CHUNK_BYTES:
                return await fail(f"a chunk of {len(data):,} bytes is over the {MAX_CHUNK_BYTES:,}-byte limit", 1009)
            if len(data) % dtype.itemsize:
                return await fail(f"{len(data)} bytes is not a whole number of {fmt} samples")
            y = np.frombuffer(data, dtype)
            y = y.astype(np.float32) / 32768.0 if dtype.kind == "i" else y.astype(np.float32)
            if not np.isfinite(y).all():
                return await fail("the samples contain NaN or infinite values")
            seconds += len(y) / rate
            if seconds > MAX_STREAM_S:
                return await fail(f"streams are limited to {MAX_STREAM_S:g} s; open a new one", 1009)
            await _answer(ws, svc, sm, label_space, stream.feed(y), arrived)
    except WebSocketDisconnect:
        return
    finally:
        svc.metrics.streams.dec()
        svc.metrics.latency.labels("/v1/speech/stream").observe(time.perf_counter() - t0)


async def _answer(ws, svc, sm, label_space, out: list, arrived: float) -> None:
    """Send the VAD events and a prediction per window (through the model's batcher), in order."""
    for w in out:
        if isinstance(w, dict):
            await ws.send_json(w)
            continue
        preds = await svc.predict(sm, [(w.samples, SR)], label_space=label_space)
        p = preds[0]
        msg = {"type": "prediction", "start": w.start, "end": w.end, "final": w.final}
        if p.error:
            msg["error"] = p.error.replace("'<array>'", "window")
        else:
            msg.update(label=p.label, scores={k: round(float(v), 4) for k, v in p.scores.items()})
        msg["latency_ms"] = round((time.perf_counter() - arrived) * 1000, 1)
        await ws.send_json(msg)
