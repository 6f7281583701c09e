"""Live speech over the WebSocket: how soon the first label comes after someone starts speaking.

    python benchmarks/serve_stream.py --data ../shared/data/audio/ravdess --n 30

`affekt serve --models speech-default` runs as its own process on 127.0.0.1. Each clip (RAVDESS
clips drawn at random, seed 0; without --data the bundled example) is padded with 1.5 s of
silence before and 1 s after, and streamed **in real time** as 16-bit PCM in 100 ms chunks, as a
microphone would send it. The speech onset is the first frame where the Silero VAD finds speech in
the clip itself (offline, without the padding its segments get), plus the silence before.

Per clip: **first-label latency** = the wall time from sending the chunk that holds the speech
onset to receiving the first prediction (it includes the 0.6 s of speech the stream waits for
before its first answer, the VAD's decision and the model); **end-to-end latency** of each
prediction = from sending the chunk that completed its window to receiving it (a final
prediction also waits for the 0.4 s of silence that ends the utterance). Target (issue
14): the first label within 1.5 s of speech onset. Writes benchmarks/results/serving.json (key
"stream").
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import command, save_tagged
from _serve import start_server

OUT = Path(__file__).parent / "results" / "serving.json"
SR = 16000


def clips(data: str | None, n: int) -> list[Path]:
    if not data:
        from affekt.examples import __file__ as ex

        return [Path(ex).parent / "speech.wav"]
    from affekt.io.audio import AUDIO_SUFFIXES

    files = sorted(f for f in Path(data).rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
    random.Random(0).shuffle(files)
    return files[:n]


def onset(y: np.ndarray) -> float | None:
    from affekt.io.audio import normalize_loudness
    from affekt.speech.vad import SileroVAD, VADParams, speech_segments

    # no padding: the onset is the first frame of speech itself, not 0.1 s before it
    segs = speech_segments(SileroVAD().probs(normalize_loudness(y)), len(y) / SR, VADParams(pad_s=0.0))
    return segs[0][0] if segs else None


def stream_one(url: str, y: np.ndarray, pad: float = 1.5, chunk_s: float = 0.1) -> dict:
    from websockets.sync.client import connect

    t_on = onset(y)
    if t_on is None:
        return {"skipped": "no speech found offline"}
    pcm = np.concatenate([np.zeros(int(pad * SR), np.float32), y, np.zeros(SR, np.float32)])
    pcm16 = (np.clip(pcm, -1, 1) * 32767).astype("<i2")
    step = int(chunk_s * SR)
    onset_s = pad + t_on
    sent: list[float] = []
    got: list[tuple[float, dict]] = []
    with connect(url.replace("http", "ws") + "/v1/speech/stream?sample_rate=16000") as ws:
        assert json.loads(ws.recv())["type"] == "ready"
        t0 = time.perf_counter()
        for k, s in enumerate(range(0, len(pcm16), step)):
            wait = t0 + k * chunk_s - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            ws.send(pcm16[s:s + step].tobytes())
            sent.append(time.perf_counter())
            while True:  # read what has arrived, without waiting
                try:
                    msg = ws.recv(timeout=0)
                except TimeoutError:
                    break
                got.append((time.perf_counter(), json.loads(msg)))
        ws.send(json.dumps({"type": "end"}))
        while True:
            m = json.loads(ws.recv(timeout=30))
            got.append((time.perf_counter(), m))
            if m["type"] in ("end", "error"):
                break
    preds = [(t, m) for t, m in got if m["type"] == "prediction" and "label" in m]
    if not preds:
        return {"onset_s": round(onset_s, 3), "first_label_s": None}
    chunk_of_onset = min(int(onset_s / chunk_s), len(sent) - 1)
    t_first, m_first = preds[0]
    e2e = []
    for t, m in preds:
        k = min(int(np.ceil(m["end"] / chunk_s)) - 1, len(sent) - 1)
        e2e.append(t - sent[max(k, 0)])
    return {"onset_s": round(onset_s, 3), "first_label_s": round(t_first - sent[chunk_of_onset], 3),
            "first_window_end_s": m_first["end"], "n_predictions": len(preds),
            "e2e_ms": [round(x * 1000, 1) for x in e2e], "server_ms": [m["latency_ms"] for _, m in preds]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a folder of speech clips (RAVDESS); default: the bundled example")
    ap.add_argument("--n", type=int, default=30)
    args = ap.parse_args()
    from affekt.io.audio import load_audio

    proc, url = start_server("speech-default")
    per = []
    try:
        for f in clips(args.data, args.n):
            y = load_audio(f)
            r = stream_one(url, y)
            r["clip"] = f.name
            per.append(r)
            print(json.dumps({k: v for k, v in r.items() if k not in ("e2e_ms", "server_ms")}), flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
    first = np.array([r["first_label_s"] for r in per if r.get("first_label_s") is not None])
    e2e = np.array([x for r in per for x in r.get("e2e_ms", [])])
    srv = np.array([x for r in per for x in r.get("server_ms", [])])
    res = {"command": command(), "clips": len(per), "cpu_count": os.cpu_count(), "chunk_ms": 100,
           "first_label_s": {"mean": round(float(first.mean()), 3), "p50": round(float(np.median(first)), 3),
                             "p95": round(float(np.percentile(first, 95)), 3), "max": round(float(first.max()), 3),
                             "n": len(first)},
           "end_to_end_ms": {"p50": round(float(np.median(e2e)), 1), "p95": round(float(np.percentile(e2e, 95)), 1),
                             "n": len(e2e)},
           "server_ms": {"p50": round(float(np.median(srv)), 1), "p95": round(float(np.percentile(srv, 95)), 1)},
           "no_label": sum(1 for r in per if r.get("first_label_s") is None),
           "target": {"first_label_within_s": 1.5, "met": bool(len(first)) and float(first.max()) <= 1.5},
           "per_clip": per}
    save_tagged(OUT, "stream", res)
    print(json.dumps({k: v for k, v in res.items() if k != "per_clip"}, indent=1))


if __name__ == "__main__":
    main()
