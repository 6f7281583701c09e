"""`affekt predict --engine ray` against the local engine on 20,000 texts, on a local Ray cluster.

    python benchmarks/ray_engine.py --data ../shared/data/text/goemotions --n 20000

The cluster (`ray start --head`, 2 CPUs, no dashboard, token authentication) runs in a network
namespace that holds only the loopback interface (the script re-runs itself under
`unshare -n`, which needs root): Ray's servers bind every interface they see, and there that is
127.0.0.1 alone. Each run is the CLI as a user types it (`python -m affekt predict ...`), timed
from start to exit (Python and model start-up included).

1. The local engine; the Ray engine with 1 and with 2 workers: wall time, texts/s, and whether
   the output file is byte-identical to the local engine's.
2. A worker killed (SIGKILL) once the first shard is written: Ray restarts it and reruns its
   shard; the job's extra time over a clean 2-worker run, and the output.
3. The whole job killed once 40% of its shards are written, then the same command run again: the
   time of the second run (it does only the missing shards) and the output.

Writes benchmarks/results/serving.json (key "ray").
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _results import command, save_tagged
from _serve import generated_texts

OUT = Path(__file__).parent / "results" / "serving.json"


def interfaces() -> list[str]:
    return sorted(line.split(":")[0].strip() for line in Path("/proc/net/dev").read_text().splitlines()[2:])


def load_texts(data: str | None, n: int) -> tuple[list[str], str]:
    if data:
        from affekt.datasets import load_dataset

        ds = load_dataset("goemotions", data)
        texts = (ds.xy("train")[0] + ds.xy("test")[0])[:n]
        return [t.replace("\n", " ") for t in texts], f"GoEmotions train+test, first {len(texts)}"
    return generated_texts(n), "generated"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a GoEmotions folder; default: generated texts")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--work", default="/tmp/affekt-ray-bench")
    args = ap.parse_args()
    if interfaces() != ["lo"]:  # not isolated yet: run again in a loopback-only network namespace
        r = subprocess.run(["unshare", "-n", "--", sys.executable, *sys.argv])
        sys.exit(r.returncode)
    env = dict(os.environ, RAY_worker_niceness="0", RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token",
               RAY_AUTH_TOKEN=secrets.token_hex(16))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for f in work.glob("*.jsonl*"):
        subprocess.run(["rm", "-rf", str(f)])
    texts, source = load_texts(args.data, args.n)
    (work / "texts.txt").write_text("\n".join(texts) + "\n")
    subprocess.run(["ray", "start", "--head", "--node-ip-address=127.0.0.1", "--port=6379", "--include-dashboard=false",
                    "--num-cpus=2", "--disable-usage-stats"], check=True, env=env, capture_output=True)
    res: dict = {"command": command(), "texts": source, "n_texts": len(texts), "cpu_count": os.cpu_count(),
                 "model": "text-default", "interfaces": interfaces()}
    base = [sys.executable, "-m", "affekt", "predict", "-i", str(work / "texts.txt")]
    ray_args = ["--engine", "ray", "--address", "127.0.0.1:6379"]

    def timed(out: str, extra: list[str]) -> dict:
        t0 = time.perf_counter()
        r = subprocess.run(base + ["-o", str(work / out)] + extra, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t0
        return {"seconds": round(dt, 1), "texts_per_second": round(len(texts) / dt, 1), "code": r.returncode,
                "stderr": r.stderr[-300:] if r.returncode not in (0, 2) else ""}

    def same(out: str) -> bool:
        return (work / "local.jsonl").read_bytes() == (work / out).read_bytes()

    def launch(out: str) -> subprocess.Popen:
        return subprocess.Popen(base + ["-o", str(work / out)] + ray_args + ["--num-workers", "2"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait_shards(out: str, k: int, proc: subprocess.Popen) -> None:
        parts = work / f"{out}.parts"
        while len(list(parts.glob("*.jsonl"))) < k and proc.poll() is None:
            time.sleep(0.1)

    try:
        res["local"] = timed("local.jsonl", [])
        print("local", res["local"], flush=True)
        for w in (1, 2):
            r = timed(f"ray{w}.jsonl", ray_args + ["--num-workers", str(w)])
            r["identical_to_local"] = same(f"ray{w}.jsonl")
            res[f"ray_{w}_workers"] = r
            print(w, r, flush=True)
        n_shards = -(-len(texts) // 2048)
        # a worker killed once the first shard is written
        t0 = time.perf_counter()
        p = launch("kill_worker.jsonl")
        wait_shards("kill_worker.jsonl", 1, p)
        ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        pids = [int(line.split()[0]) for line in ps.splitlines()[1:] if "_Predictor" in line and "ray::" in line]
        killed_at = time.perf_counter() - t0
        if pids:
            os.kill(pids[0], signal.SIGKILL)
        p.wait()
        total = time.perf_counter() - t0
        res["worker_killed"] = {"killed": bool(pids), "killed_at_s": round(killed_at, 1), "seconds": round(total, 1),
                                "extra_seconds_vs_clean": round(total - res["ray_2_workers"]["seconds"], 1),
                                "code": p.returncode, "identical_to_local": same("kill_worker.jsonl")}
        print("worker killed", res["worker_killed"], flush=True)
        # the whole job killed at 40% of its shards, then run again
        p = launch("resume.jsonl")
        k = max(1, int(0.4 * n_shards))
        wait_shards("resume.jsonl", k, p)
        p.send_signal(signal.SIGKILL)
        p.wait()
        done = len(list((work / "resume.jsonl.parts").glob("*.jsonl")))
        r = timed("resume.jsonl", ray_args + ["--num-workers", "2"])
        r.update(shards=n_shards, shards_done_before_kill=done, identical_to_local=same("resume.jsonl"))
        res["job_killed_and_resumed"] = r
        print("resumed", r, flush=True)
    finally:
        subprocess.run(["ray", "stop", "--force"], env=env, capture_output=True)
    res["target"] = {"identical": all(res[k]["identical_to_local"] for k in
                                      ("ray_1_workers", "ray_2_workers", "worker_killed", "job_killed_and_resumed"))}
    save_tagged(OUT, "ray", res)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
