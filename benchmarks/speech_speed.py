"""Speed and memory of speech inference through the command line, start-up included.

speed: ``affekt predict --modality speech`` on a list of real clips (default 300: RAVDESS and
TESS alternating, in a fixed order); real-time factor = seconds of audio / wall seconds of the
whole command (interpreter start, imports, model and VAD loading, decoding, VAD, features,
scoring, JSONL writing). Target: >= 50x real time.

memory: one long recording (RAVDESS clips with 1-4 s pauses, written as 16-bit FLAC at 16 kHz)
of 10 minutes and of 1 hour, each through ``affekt predict``; the peak resident memory of the
process (getrusage of the child) should not grow with the duration (flat memory).

    python benchmarks/speech_speed.py --data ../shared/data/audio [--n 300] [--model speech-default] \
        [--out benchmarks/results/speech_speed.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _files(data: Path, n: int) -> list[Path]:
    rav = sorted((data / "ravdess").rglob("*.flac")) + sorted((data / "ravdess").rglob("*.wav"))
    tess = sorted((data / "tess").rglob("*.flac")) + sorted((data / "tess").rglob("*.wav"))
    rng = np.random.default_rng(0)
    rav = [rav[i] for i in rng.permutation(len(rav))]
    tess = [tess[i] for i in rng.permutation(len(tess))]
    out = [f for pair in zip(rav, tess) for f in pair]
    return out[:n]


def _peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of ``cmd`` run as a child (ru_maxrss of the children)."""
    env = {k: v for k, v in os.environ.items() if k != "AFFEKT_CACHE"}
    t0 = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, env)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) not in (0, 2):  # 2: some files failed; their records are counted
        raise SystemExit(f"{' '.join(cmd)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return wall, ru.ru_maxrss / 1024  # KiB on Linux


def long_recording(files: list[Path], seconds: float, path: Path) -> float:
    """Write RAVDESS clips separated by 1-4 s pauses to ``path`` until ``seconds``; returns duration."""
    import soundfile as sf

    from affekt.io.audio import load_audio

    rng = np.random.default_rng(1)
    total = 0
    with sf.SoundFile(str(path), "w", samplerate=16000, channels=1, subtype="PCM_16", format="FLAC") as out:
        i = 0
        while total < seconds * 16000:
            y = load_audio(files[i % len(files)])
            pause = np.zeros(int(rng.uniform(1, 4) * 16000), np.float32)
            pause += rng.normal(0, 1e-4, len(pause)).astype(np.float32)  # room noise, not digital zero
            block = np.concatenate([y * 0.5, pause])
            out.write(block)
            total += len(block)
            i += 1
    return total / 16000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/audio")
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model", default="speech-default")
    ap.add_argument("--memory-minutes", default="10,60")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/speech_speed.json")
    a = ap.parse_args()
    from affekt.io.audio import audio_info

    data = Path(a.data)
    files = _files(data, a.n)
    audio_s = sum(audio_info(f).duration for f in files)
    exe = [sys.executable, "-m", "affekt"]
    res: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "processor": platform.processor() or platform.machine()},
                 "model": a.model}
    with tempfile.TemporaryDirectory() as tmp:
        lst = Path(tmp) / "clips.txt"
        lst.write_text("\n".join(str(f.resolve()) for f in files) + "\n")
        out = Path(tmp) / "out.jsonl"
        wall, rss = _peak_rss_mb(exe + ["predict", "--modality", "speech", "--input", str(lst), "--output", str(out),
                                        "--model", a.model])
        lines = [json.loads(x) for x in out.read_text().splitlines()]
        res["speed"] = {"files": len(files), "audio_seconds": round(audio_s, 1), "wall_seconds": round(wall, 2),
                        "realtime_factor": round(audio_s / wall, 1), "files_per_second": round(len(files) / wall, 2),
                        "errors": sum(1 for x in lines if "error" in x), "peak_rss_mb": round(rss, 1),
                        "target_realtime_factor": 50, "meets_target": audio_s / wall >= 50,
                        "command": "affekt predict --modality speech --input clips.txt --output out.jsonl "
                                   f"--model {a.model}"}
        print(json.dumps(res["speed"]), flush=True)
        if not a.skip_memory:
            rav = sorted((data / "ravdess").rglob("*.flac"))
            res["memory"] = []
            for minutes in [float(m) for m in a.memory_minutes.split(",")]:
                rec = Path(tmp) / f"long_{minutes:g}min.flac"
                dur = long_recording(rav, minutes * 60, rec)
                out = Path(tmp) / "long.jsonl"
                wall, rss = _peak_rss_mb(exe + ["predict", "--modality", "speech", "--input", str(rec),
                                                "--output", str(out), "--model", a.model])
                p = json.loads(out.read_text().splitlines()[0])
                r = {"minutes": minutes, "audio_seconds": round(dur, 1), "wall_seconds": round(wall, 1),
                     "realtime_factor": round(dur / wall, 1), "peak_rss_mb": round(rss, 1),
                     "windows": len(p.get("segments") or []), "error": p.get("error")}
                res["memory"].append(r)
                print(json.dumps(r), flush=True)
            m = res["memory"]
            res["memory_flat"] = {"peak_rss_growth_mb": round(m[-1]["peak_rss_mb"] - m[0]["peak_rss_mb"], 1),
                                  "audio_growth_x": round(m[-1]["audio_seconds"] / m[0]["audio_seconds"], 1)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
