"""Text over HTTP against `affekt predict` on the same texts, on this machine (loopback).

    python benchmarks/serve_text.py --data ../shared/data/text/goemotions --n 2000 --clients 1,8,32

1. `affekt predict`'s throughput: the texts through the text modality's batch path in this process
   (chunks of 256, as `affekt predict --input texts.txt` runs them; its start-up is timed apart,
   since a service pays it once). The median of --repeats runs.
2. `affekt serve --models text-default` started as its own process on 127.0.0.1; for each number
   of clients, that many concurrent clients (one HTTP/1.1 keep-alive connection each, written
   with asyncio streams as wrk or hey are, so that the load generator costs little; every
   answer is parsed and checked) send the
   same texts **one text per request**, each client sending its next request when the last is
   answered: the interactive case, where all batching is the service's (micro-batching). Then
   the most clients again with --batched texts per request (a dashboard sending a page of
   comments at once). Each level is run --repeats times: the median run is reported (errors and
   lost answers summed over all runs).
   Throughput, p50/p95/p99 latency, errors and lost responses (requests with no answer) per level,
   and the mean batch the service formed (from its /metrics).

The clients run on the same 2 cores as the service, so the figures include the load generator's
cost. Without --data the texts are generated sentences. Writes benchmarks/results/serving.json
(key "text").
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _results import command, save_tagged
from _serve import generated_texts, metric_sum, start_server

OUT = Path(__file__).parent / "results" / "serving.json"


def load_texts(data: str | None, n: int) -> tuple[list[str], str]:
    if data:
        from affekt.datasets import load_dataset

        ds = load_dataset("goemotions", data)
        texts = ds.xy("test")[0][:n]
        return texts, f"GoEmotions test split, first {len(texts)}"
    return generated_texts(n), "generated"


def predict_throughput(texts: list[str], repeats: int = 3) -> dict:
    from affekt.core.modality import get_modality, run_items
    from affekt.core.registry import load_model
    from affekt.io.items import Item

    t0 = time.perf_counter()
    model = load_model("text-default")
    model.predict(["warm up"])
    startup = time.perf_counter() - t0
    mod = get_modality("text")
    runs = []
    for _ in range(repeats):
        items = [Item(t, modality="text") for t in texts]
        t0 = time.perf_counter()
        n = sum(len(c) for c in run_items(model, mod, items, batch_size=256))
        runs.append(time.perf_counter() - t0)
        assert n == len(texts)
    mid = float(np.median(runs))
    return {"texts_per_second": round(len(texts) / mid, 1), "seconds": round(mid, 3),
            "runs_texts_per_second": [round(len(texts) / r, 1) for r in runs],
            "model_load_seconds": round(startup, 2), "batch_size": 256}


async def _post_json(reader, writer, host: str, path: str, payload: dict) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive POST on an open connection: (status, body). A minimal client (as wrk
    or hey are) so that the load generator's own cost stays small next to the service's."""
    body = json.dumps(payload).encode()
    writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next(int(v) for k, _, v in (ln.partition(":") for ln in lines[1:]) if k.lower() == "content-length")
    return status, await reader.readexactly(length)


async def load(url: str, texts: list[str], clients: int, per_request: int = 1) -> dict:
    host, port = url.split("//")[1].split(":")
    lat: list[float] = []
    errors: list[str] = []
    answered = 0
    queue = [list(range(s, min(s + per_request, len(texts)))) for s in range(0, len(texts), per_request)]
    queue.reverse()

    async def client():
        nonlocal answered
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while queue:
                idx = queue.pop()
                t0 = time.perf_counter()
                try:
                    status, body = await asyncio.wait_for(
                        _post_json(reader, writer, host, "/v1/text", {"texts": [texts[i] for i in idx]}), 60)
                except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                    errors.append(type(exc).__name__)
                    reader, writer = await asyncio.open_connection(host, int(port))
                    continue
                answered += 1
                lat.append(time.perf_counter() - t0)
                if status != 200 or len(json.loads(body)["predictions"]) != len(idx):
                    errors.append(f"{status} {body[:100]!r}")
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - t0
    q = np.percentile(np.array(lat) * 1000, [50, 95, 99]) if lat else [float("nan")] * 3
    n_req = len(range(0, len(texts), per_request))
    return {"clients": clients, "texts_per_request": per_request, "requests": n_req, "answered": answered,
            "lost": n_req - answered, "errors": len(errors), "error_examples": errors[:3], "seconds": round(wall, 2),
            "texts_per_second": round(len(texts) / wall, 1),
            "latency_ms": {"p50": round(q[0], 1), "p95": round(q[1], 1), "p99": round(q[2], 1)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a GoEmotions folder (its test texts); default: generated texts")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--clients", default="1,8,32")
    ap.add_argument("--batched", type=int, default=8, help="also run the most clients with this many texts per "
                    "request (0: skip)")
    ap.add_argument("--tag", default="text")
    ap.add_argument("--repeats", type=int, default=3, help="runs per level (and of affekt predict): the median is "
                    "reported, every run beside it (this machine's speed varies by 10-20% from run to run)")
    args = ap.parse_args()
    texts, source = load_texts(args.data, args.n)
    base = predict_throughput(texts)
    print(f"affekt predict: {base['texts_per_second']} texts/s", flush=True)
    proc, url = start_server("text-default")
    try:
        asyncio.run(load(url, texts[:200], 8))  # warm-up
        levels = []
        counts = [int(x) for x in args.clients.split(",")]
        runs = [(c, 1) for c in counts] + ([(max(counts), args.batched)] if args.batched > 1 else [])
        for c, per in runs:
            b0, n0 = metric_sum(url, "affekt_batch_size_sum"), metric_sum(url, "affekt_batch_size_count")
            reps = [asyncio.run(load(url, texts, c, per)) for _ in range(args.repeats)]
            b1, n1 = metric_sum(url, "affekt_batch_size_sum"), metric_sum(url, "affekt_batch_size_count")
            reps.sort(key=lambda r: r["texts_per_second"])
            res = dict(reps[len(reps) // 2])  # the median run; every run's figure beside it
            res["runs_texts_per_second"] = [r["texts_per_second"] for r in reps]
            res["errors"] = sum(r["errors"] for r in reps)
            res["lost"] = sum(r["lost"] for r in reps)
            res["mean_batch"] = round((b1 - b0) / max(n1 - n0, 1), 1)
            res["vs_predict"] = round(res["texts_per_second"] / base["texts_per_second"], 3)
            levels.append(res)
            print(json.dumps(res), flush=True)
    finally:
        proc.terminate()
        proc.wait(30)
    top = max((r for r in levels if r["texts_per_request"] == 1), key=lambda r: r["clients"])
    save_tagged(OUT, args.tag, {
        "command": command(), "texts": source, "n_texts": len(texts), "model": "text-default",
        "cpu_count": os.cpu_count(), "machine": platform.machine(),
        "affekt_predict": base, "http": levels,
        "target": {"clients": top["clients"], "min_vs_predict": 0.70, "vs_predict": top["vs_predict"],
                   "met": top["vs_predict"] >= 0.70 and top["errors"] == 0 and top["lost"] == 0},
    })
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
