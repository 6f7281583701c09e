"""Video speed and memory through the CLI, start-up included: `affekt predict --modality video`
on 640x480 one-face videos at 5 sampled fps, each in a fresh process, timed, with its peak RSS.

    python benchmarks/make_face_videos.py ... --out /work/cache/videos --long-minutes 1
    python benchmarks/make_face_videos.py ... --out /work/cache/videos --long-minutes 60
    python benchmarks/video_speed.py /work/cache/videos/long_1min.mp4 /work/cache/videos/long_60min.mp4

Targets (issue 12): >= 4x real time; the 1-hour video's peak RSS within 10% of the 1-minute one's.
Writes benchmarks/results/video_speed.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("videos", nargs="+", type=Path)
ap.add_argument("--fps", type=float, default=5.0)
ap.add_argument("--model", default="video-default")
ap.add_argument("--out", default="benchmarks/results/video_speed.json")
a = ap.parse_args()

from affekt.video.decode import probe  # noqa: E402

gnu_time = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
rows = []
for v in a.videos:
    info = probe(v)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        cmd = [shutil.which("affekt") or "affekt", "predict", "--modality", "video", "--input", str(v), "--output",
               str(out), "--fps", str(a.fps), "--model", a.model]
        t0 = time.perf_counter()
        if gnu_time:
            r = subprocess.run([gnu_time, "-f", "%M", *cmd], capture_output=True, text=True, env=os.environ)
            peak_mb = int(r.stderr.strip().splitlines()[-1]) / 1024
        else:
            r = subprocess.run(cmd, capture_output=True, text=True)
            import resource

            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        wall = time.perf_counter() - t0
        if r.returncode != 0:
            sys.exit(f"{v}: affekt failed ({r.returncode}): {r.stderr[-2000:]}")
        rec = json.loads(out.read_text().splitlines()[0])
    sampled = int(info.duration * a.fps)
    rows.append({"video": v.name, "size": [info.width, info.height], "source_fps": info.fps,
                 "duration_s": info.duration, "wall_s": round(wall, 2),
                 "times_real_time": round(info.duration / wall, 2), "sampled_frames": sampled,
                 "frames_per_s": round(sampled / wall, 1), "peak_rss_mb": round(peak_mb, 1),
                 "tracks": len(rec.get("tracks", [])), "voice_segments": len(rec.get("voice", {}).get("segments", []))})
    print(rows[-1], file=sys.stderr)

res = {"command": "python " + " ".join(sys.argv), "cpu_count": os.cpu_count(), "fps": a.fps, "model": a.model,
       "peak_rss_how": "GNU time %M of the CLI process" if gnu_time else "RUSAGE_CHILDREN",
       "runs": rows}
if len(rows) > 1:
    res["peak_rss_ratio_longest_to_shortest"] = round(
        max(rows, key=lambda r: r["duration_s"])["peak_rss_mb"] / min(rows, key=lambda r: r["duration_s"])["peak_rss_mb"], 3)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps(res, indent=1))
