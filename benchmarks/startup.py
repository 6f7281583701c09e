"""Start-up of the command line: wall time and peak memory of `affekt analyze "hello"`, each run a
fresh process of the real console script, as a user runs it in a loop.

    python benchmarks/startup.py                # 7 timed runs after 1 warm-up
    python benchmarks/startup.py --runs 15 --out /tmp/startup.json
    python benchmarks/startup.py --env AFFEKT_TORCH=1 --out /tmp/startup-torch.json   # network in torch

Also times `python -c "import affekt"` and `python -c "import affekt; affekt.load('text-default')"`
(both fresh processes), so a slow start can be traced to import, model loading or the CLI, and
records which heavy modules loading the model imports (torch or onnxruntime, ...). For each
command: wall time, CPU time (user + system) and peak memory (the child's own maximum resident
set size, ``os.wait4``).

The target (issue 10) is a median of at most 3 s on an idle 2-core machine. The load average at
the start and at the end is recorded, with a warning when the machine was busy: timings taken
while other work runs are slower and are not a measurement of the target.
Writes benchmarks/results/startup.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HERE = Path(__file__).parent
TARGET_S = 3.0


def console_script() -> str:
    """The installed `affekt` entry point next to this interpreter (not a pyenv shim)."""
    exe = Path(sysconfig.get_path("scripts")) / ("affekt.exe" if os.name == "nt" else "affekt")
    if exe.is_file():
        return str(exe)
    found = shutil.which("affekt")
    if not found:
        raise SystemExit("no `affekt` console script found: pip install -e . first")
    return found


def run_once(cmd: list[str], env: dict) -> tuple[float, float, float]:
    """(wall s, CPU s (user + system), peak RSS MB) of one fresh process; fails loudly on a non-zero exit.

    CPU time is reported because it is much less sensitive than wall time to other work on the
    machine: compare it first when the load average was high."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    if hasattr(os, "wait4"):  # this child's own rusage
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu = usage.ru_utime + usage.ru_stime
        rss = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    else:  # pragma: no cover - Windows
        _, err = p.communicate()
        wall, cpu, rss = time.perf_counter() - t, float("nan"), float("nan")
    p.stderr.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}:\n{err.decode(errors='replace')[-2000:]}")
    return wall, cpu, rss


def _stats(xs: list[float], nd: int = 3) -> dict:
    return {"median": round(statistics.median(xs), nd), "min": round(min(xs), nd), "max": round(max(xs), nd),
            "all": [round(x, nd) for x in xs]}


def measure(name: str, cmd: list[str], runs: int, warmup: int, env: dict) -> dict:
    for _ in range(warmup):
        run_once(cmd, env)
    walls, cpus, rss = zip(*(run_once(cmd, env) for _ in range(runs)))
    res = {"command": " ".join(cmd), "runs": runs, "wall_s": _stats(walls), "cpu_s": _stats(cpus),
           "peak_rss_mb": {"median": round(statistics.median(rss), 1), "max": round(max(rss), 1)}}
    print(f"{name:>8}: wall median {res['wall_s']['median']:.2f} s (min {res['wall_s']['min']:.2f}), "
          f"CPU median {res['cpu_s']['median']:.2f} s, peak RSS {res['peak_rss_mb']['max']:.0f} MB",
          file=sys.stderr)
    return res


IMPORTED = r'''
import sys, json
import affekt
m = affekt.load("text-default")
m.predict(["hello"])
print(json.dumps({k: k in sys.modules for k in
                  ("torch", "onnxruntime", "sklearn", "scipy.stats", "pandas", "transformers", "tokenizers")}))
'''


def facts() -> dict:
    import affekt

    f = {"python": platform.python_version(), "machine": platform.machine(), "platform": platform.platform(),
         "cpu_count": os.cpu_count(), "affekt": affekt.__version__}
    if hasattr(os, "sched_getaffinity"):
        f["cpus_usable"] = len(os.sched_getaffinity(0))
    try:
        root = HERE.parent
        f["git_commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                                         text=True).stdout.strip() or None
        f["git_dirty"] = bool(subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=root,
                                             capture_output=True, text=True).stdout.strip())
    except OSError:
        pass
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--text", default="hello")
    ap.add_argument("--out", default=str(HERE / "results" / "startup.json"))
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="set for the measured processes, e.g. AFFEKT_TORCH=1 (run the network in torch)")
    a = ap.parse_args()

    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("AFFEKT_DEBUG", None)
    extra = dict(kv.split("=", 1) for kv in a.env)
    env.update(extra)
    cpus = os.cpu_count() or 1
    load_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    busy = load_start is not None and load_start[0] > 0.5 * cpus
    if busy:
        print(f"warning: load average {load_start[0]:.2f} on {cpus} CPUs: the machine is busy; these timings "
              "are slower than on an idle machine and do not measure the target", file=sys.stderr)

    py = sys.executable
    res = {"target": {"command": f'affekt analyze "{a.text}"', "median_wall_s_at_most": TARGET_S,
                      "condition": "idle 2-core machine"},
           "machine": facts(), "env": extra, "load_average_start": load_start}
    res["analyze"] = measure("analyze", [console_script(), "analyze", a.text], a.runs, a.warmup, env)
    res["import_affekt"] = measure("import", [py, "-c", "import affekt"], a.runs, a.warmup, env)
    res["load_and_predict"] = measure("load", [py, "-c", "import affekt; affekt.load('text-default')"
                                                         ".predict(['hello'])"], a.runs, a.warmup, env)
    res["modules_imported_by_load_and_predict"] = json.loads(
        subprocess.run([py, "-c", IMPORTED], capture_output=True, text=True, env=env, check=True).stdout)
    load_end = os.getloadavg() if hasattr(os, "getloadavg") else None
    res["load_average_end"] = load_end
    busy = busy or (load_end is not None and load_end[0] > 0.5 * cpus + 1)  # + our own runs
    res["machine_busy"] = busy
    # a busy machine's timings say nothing about the target either way
    res["meets_target"] = None if busy else res["analyze"]["wall_s"]["median"] <= TARGET_S
    if busy:
        res["note"] = "measured on a busy machine: rerun on an idle one to check the target"
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
