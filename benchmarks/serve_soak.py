"""Soak: mixed text and speech load on `affekt serve` for a fixed time; memory, errors, lost answers.

    python benchmarks/serve_soak.py --minutes 10 --data ../shared/data/audio/ravdess

`affekt serve --models text-default,speech-default` runs as its own process on 127.0.0.1.
Bounded load: 6 text clients (1-8 texts per request, drawn from generated sentences of 3-40
words) and 2 speech clients (one RAVDESS clip per request, drawn at random; without --data the
bundled example), each sending its next request when the last is answered, for --minutes.
The server's resident memory (RSS) is sampled every 5 s; its growth is measured from the end of
the first minute (models loaded, allocator warm) to the end. A request that gets no answer (a
connection error or a timeout) is lost. Target (issue 14): RSS growth < 10%, 0 errors, 0 lost.
Writes benchmarks/results/serving.json (key "soak").
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import command, save_tagged
from _serve import metric_sum, rss_mb, start_server

OUT = Path(__file__).parent / "results" / "serving.json"
WORDS = ["happy", "sad", "angry", "calm", "tired", "lovely", "awful", "great", "thanks", "sorry", "why", "again", "today", "work", "friends", "game", "furious", "scared", "delighted", "miserable", "proud", "the", "a", "of", "and", "I", "you", "it", "was", "so", "very", "not", "really"]


async def run(url: str, pid: int, seconds: float, audio: list[bytes]) -> dict:
    import httpx

    stats = {"text": {"requests": 0, "answered": 0, "errors": 0, "lat": []},
             "speech": {"requests": 0, "answered": 0, "errors": 0, "lat": []}}
    examples: list[str] = []
    stop = time.perf_counter() + seconds

    async def client(kind: str, seed: int):
        rng = random.Random(seed)
        s = stats[kind]
        async with httpx.AsyncClient(base_url=url, timeout=120) as c:
            while time.perf_counter() < stop:
                s["requests"] += 1
                t0 = time.perf_counter()
                try:
                    if kind == "text":
                        texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
                                 for _ in range(rng.randint(1, 8))]
                        r = await c.post("/v1/text", json={"texts": texts})
                        ok = r.status_code == 200 and len(r.json()["predictions"]) == len(texts)
                    else:
                        r = await c.post("/v1/speech", files={"file": ("clip.wav", rng.choice(audio), "audio/wav")})
                        ok = r.status_code == 200 and len(r.json()["predictions"]) == 1
                except httpx.HTTPError as exc:
                    examples.append(f"{kind}: {type(exc).__name__}")
                    continue
                s["answered"] += 1
                s["lat"].append(time.perf_counter() - t0)
                if not ok:
                    s["errors"] += 1
                    examples.append(f"{kind}: {r.status_code} {r.text[:100]}")

    rss: list[tuple[float, float]] = []

    async def sample():
        t0 = time.perf_counter()
        while time.perf_counter() < stop:
            rss.append((round(time.perf_counter() - t0, 1), round(rss_mb(pid), 1)))
            await asyncio.sleep(5)
        rss.append((round(time.perf_counter() - t0, 1), round(rss_mb(pid), 1)))

    await asyncio.gather(sample(), *(client("text", k) for k in range(6)), *(client("speech", 100 + k) for k in range(2)))
    out = {"rss_mb": rss, "error_examples": examples[:5]}
    for kind, s in stats.items():
        lat = np.array(s.pop("lat")) * 1000
        s["lost"] = s["requests"] - s["answered"]
        s["per_second"] = round(s["answered"] / seconds, 1)
        s["latency_ms"] = ({"p50": round(float(np.median(lat)), 1), "p95": round(float(np.percentile(lat, 95)), 1),
                            "p99": round(float(np.percentile(lat, 99)), 1)} if len(lat) else None)
        out[kind] = s
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--data", help="a folder of speech clips (RAVDESS); default: the bundled example")
    args = ap.parse_args()
    import io

    import soundfile as sf

    from affekt.io.audio import AUDIO_SUFFIXES, load_audio

    if args.data:
        files = sorted(f for f in Path(args.data).rglob("*") if f.suffix.lower() in AUDIO_SUFFIXES)
        files = random.Random(0).sample(files, min(40, len(files)))
    else:
        from affekt.examples import __file__ as ex

        files = [Path(ex).parent / "speech.wav"]
    audio = []
    for f in files:
        buf = io.BytesIO()
        sf.write(buf, load_audio(f), 16000, format="WAV", subtype="PCM_16")
        audio.append(buf.getvalue())
    proc, url = start_server("text-default,speech-default")
    try:
        res = asyncio.run(run(url, proc.pid, args.minutes * 60, audio))
        alive = proc.poll() is None
        total_errors = metric_sum(url, "affekt_errors_total") if alive else None
    finally:
        proc.terminate()
        proc.wait(30)
    rss = res["rss_mb"]
    base = next((v for t, v in rss if t >= 60), rss[0][1])
    growth = (rss[-1][1] - base) / base
    lost = res["text"]["lost"] + res["speech"]["lost"]
    errors = res["text"]["errors"] + res["speech"]["errors"]
    res.update(command=command(), minutes=args.minutes, cpu_count=os.cpu_count(), server_alive=alive,
               server_error_responses=total_errors, rss_after_1_min_mb=base, rss_end_mb=rss[-1][1],
               rss_growth=round(growth, 4),
               target={"rss_growth_below": 0.10, "errors": 0, "lost": 0,
                       "met": growth < 0.10 and errors == 0 and lost == 0 and alive})
    save_tagged(OUT, "soak", res)
    print(json.dumps({k: v for k, v in res.items() if k != "rss_mb"}, indent=1))


if __name__ == "__main__":
    main()
