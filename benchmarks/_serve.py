"""Shared by the serving benchmarks: `affekt serve` as its own process on 127.0.0.1, its metrics
and its memory."""
from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(models: str, extra: list[str] | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "affekt", "serve", "--port", str(port), "--models", models,
                             "--log-level", "warning", *(extra or [])],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("affekt serve exited: " + proc.stderr.read().decode()[-2000:])
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("affekt serve did not start within 120 s")


def metric_sum(url: str, name: str) -> float:
    import httpx

    text = httpx.get(url + "/metrics").text
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+-]+)$", text, re.MULTILINE))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def generated_texts(n: int, seed: int = 0) -> list[str]:
    """Sentences of 4-30 emotion and filler words, for runs without a corpus."""
    import random

    rng = random.Random(seed)
    words = ("happy", "sad", "angry", "calm", "tired", "lovely", "awful", "great", "thanks", "sorry", "why", "again",
             "today", "work", "friends", "game")
    return [" ".join(rng.choice(words) for _ in range(rng.randint(4, 30))) for _ in range(n)]
