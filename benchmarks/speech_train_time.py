"""Wall time of `affekt train` for the speech-default recipe with 5-fold cross-validation on
RAVDESS + TESS, from an empty feature cache (issue 13: <= 8 minutes on 2 cores).

    python benchmarks/speech_train_time.py --data ../shared/data/audio

Runs the CLI in a subprocess with AFFEKT_CACHE pointed at a fresh folder, so every file's features
are computed (once: folds and ensemble members share them). Writes
benchmarks/results/speech_train_time.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ap = argparse.ArgumentParser()
ap.add_argument("--data", default="../shared/data/audio")
ap.add_argument("--out", default="benchmarks/results/speech_train_time.json")
a = ap.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    cmd = ["affekt", "train", "--modality", "speech",
           "--dataset", "ravdess", "--data-dir", str(Path(a.data) / "ravdess"),
           "--dataset", "tess", "--data-dir", str(Path(a.data) / "tess"),
           "--label-space", "ekman", "--model", "ensemble", "-p", 'members=["logreg","svm","lgbm"]',
           "--cv", "5", "--output", str(Path(tmp) / "model")]
    env = {**os.environ, "AFFEKT_CACHE": str(Path(tmp) / "cache")}
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"affekt train failed:\n{r.stderr[-2000:]}")
    res = json.loads((Path(tmp) / "model" / "results.json").read_text())
cv = res["cv"]
out = {"command": "python " + " ".join(sys.argv), "cli": " ".join(cmd[:-2] + ["--output", "MODEL"]),
       "wall_seconds": round(wall, 1), "wall_minutes": round(wall / 60, 2), "target_minutes": 8,
       "cv_protocol": cv["protocol"], "cv_folds": cv["k"], "n": cv["n"],
       "cv_uar": round(cv["balanced_accuracy"]["mean"], 4), "fit_seconds_final_model": res.get("fit_seconds"),
       "cpus": os.cpu_count(), "python": platform.python_version()}
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out, indent=1))
