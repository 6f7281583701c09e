"""The Ray engine on a local Ray cluster, run by tests/test_ray_engine.py inside a network
namespace that holds only the loopback interface (``unshare -n``): Ray's servers bind every
interface they see, and here that is 127.0.0.1 alone.

    unshare -n -- python tests/ray_check.py WORKDIR      # writes WORKDIR/report.json

Checks, each recorded in the report: the same records as the local engine for .txt, .csv (with
ids and a broken row), .parquet and a .txt list of audio files (one missing); the listening
sockets; a job killed part-way resumes without redoing its finished shards; a worker killed
part-way is replaced and the output is still the same.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# token authentication (Ray's default for a cluster): one token for the head and every client
ENV = dict(os.environ, RAY_worker_niceness="0", RAY_USAGE_STATS_ENABLED="0", PYTHONUNBUFFERED="1",
           RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=secrets.token_hex(16))
ADDRESS = "127.0.0.1:6379"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, env=ENV, **kw)


def affekt(*args, check=True):
    return sh(sys.executable, "-m", "affekt", *args, check=check)


def listening() -> list[str]:
    """Local addresses of the listening TCP sockets of this network namespace."""
    out = []
    for name in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{name}").read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A":  # LISTEN
                addr, port = f[1].split(":")
                out.append(f"{_addr(addr)}:{int(port, 16)}")
    return sorted(set(out))


def _addr(hexaddr: str) -> str:
    import ipaddress

    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = [raw[i:i + 4][::-1] for i in range(0, 16, 4)]
    a = ipaddress.IPv6Address(b"".join(words))
    return str(a.ipv4_mapped or a)  # ::ffff:127.0.0.1 is 127.0.0.1


def texts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    words = ["happy", "sad", "angry", "calm", "tired", "lovely", "awful", "great", "thanks", "sorry", "why", "again", "today", "work", "friends", "game", "furious", "scared", "delighted", "miserable", "proud"]
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 25))) for _ in range(n)]


def wait_for(pred, timeout: float = 300) -> bool:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return True
        time.sleep(0.2)
    return False


def main(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    # /proc/net/dev lists this namespace's interfaces (/sys/class/net is the host's unless remounted)
    report: dict = {"interfaces": sorted(line.split(":")[0].strip()
                                         for line in Path("/proc/net/dev").read_text().splitlines()[2:])}
    sh("ip", "link", "set", "lo", "up")
    sh("ray", "start", "--head", "--node-ip-address=127.0.0.1", "--port=6379", "--include-dashboard=false",
       "--num-cpus=2", "--disable-usage-stats")
    try:
        report["listening"] = listening()
        same = {}
        # ---- inputs: .txt, .csv with ids and a broken row, .parquet, a list of audio files
        t = texts(1400)
        (work / "t.txt").write_text("\n".join(t[:700] + [""] + t[700:]) + "\n")
        import csv

        with open(work / "t.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["id", "text"])
            for k, x in enumerate(t[:600]):
                w.writerow([f"r{k}", x])
        with open(work / "t.csv", "a") as fh:
            fh.write("r600\n")  # a row without its text
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"text": t[:500] + [None], "id": list(range(501))}), work / "t.parquet")
        from serve_helpers import speech_wav

        for k in range(3):
            (work / f"a{k}.wav").write_bytes(speech_wav(gaps=(0.2 * k, 0.2)))
        (work / "audio.txt").write_text("a0.wav\na1.wav\nmissing.wav\na2.wav\n")
        for name, extra in (("t.txt", ["--batch-size", "64"]), ("t.csv", ["--batch-size", "64"]),
                            ("t.parquet", ["--batch-size", "64"]), ("audio.txt", ["--modality", "speech", "--batch-size", "2"])):
            a = affekt("predict", "-i", str(work / name), "-o", str(work / f"{name}.local.jsonl"), *extra, check=False)
            t0 = time.time()
            b = affekt("predict", "-i", str(work / name), "-o", str(work / f"{name}.ray.jsonl"), *extra, "--engine", "ray",
                       "--address", ADDRESS, "--num-workers", "2", check=False)
            same[name] = {"codes": [a.returncode, b.returncode], "seconds": round(time.time() - t0, 1),
                          "identical": (work / f"{name}.local.jsonl").read_bytes() == (work / f"{name}.ray.jsonl").read_bytes(),
                          "records": len((work / f"{name}.ray.jsonl").read_text().splitlines()),
                          "stderr": b.stderr[-500:]}
        report["same"] = same
        report["listening_during_jobs"] = listening()

        # ---- a killed job resumes; a killed worker is replaced
        big = texts(2600, seed=1)
        (work / "big.txt").write_text("\n".join(big) + "\n")
        affekt("predict", "-i", str(work / "big.txt"), "-o", str(work / "big.local.jsonl"), "--batch-size", "64")
        args = [sys.executable, "-m", "affekt", "predict", "-i", str(work / "big.txt"), "--batch-size", "64",
                "--engine", "ray", "--address", ADDRESS, "--num-workers", "2"]
        parts = work / "big.ray.jsonl.parts"
        p = subprocess.Popen(args + ["-o", str(work / "big.ray.jsonl")], env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        got = wait_for(lambda: len(list(parts.glob("*.jsonl"))) >= 2)
        p.send_signal(signal.SIGKILL)
        p.wait()
        done_before = sorted(f.name for f in parts.glob("*.jsonl"))
        t0 = time.time()
        r = subprocess.run(args + ["-o", str(work / "big.ray.jsonl")], env=ENV, capture_output=True, text=True)
        report["resume"] = {"shards_before_kill": len(done_before), "saw_shards": got, "code": r.returncode,
                            "seconds": round(time.time() - t0, 1),
                            "said": [line for line in r.stderr.splitlines() if line.startswith("resuming")],
                            "identical": (work / "big.local.jsonl").read_bytes() == (work / "big.ray.jsonl").read_bytes(),
                            "parts_left": parts.exists()}
        # a worker killed mid-job
        parts2 = work / "big2.jsonl.parts"
        p = subprocess.Popen(args + ["-o", str(work / "big2.jsonl")], env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        got = wait_for(lambda: len(list(parts2.glob("*.jsonl"))) >= 1)
        killed = _kill_one_worker()
        _, err = p.communicate(timeout=600)
        report["worker_kill"] = {"saw_shard": got, "killed_pid": killed, "code": p.returncode,
                                 "seconds": round(time.time() - t0, 1), "stderr": err[-800:],
                                 "identical": (work / "big.local.jsonl").read_bytes() == (work / "big2.jsonl").read_bytes()}
    finally:
        sh("ray", "stop", "--force", check=False)
        (work / "report.json").write_text(json.dumps(report, indent=1))


def _kill_one_worker() -> int | None:
    """SIGKILL one Ray actor process holding the model (``ray::_Predictor``)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    pids = [int(line.split()[0]) for line in out.splitlines()[1:] if "_Predictor" in line and "ray::" in line]
    if not pids:
        return None
    os.kill(pids[0], signal.SIGKILL)
    return pids[0]


if __name__ == "__main__":
    main(Path(sys.argv[1]))
