"""FER2013 faces as the detect-and-crop path sees them: each face pasted (upscaled) on a seeded
background, found by BlazeFace, and cropped as the video pipeline crops (``framed_box``, the eyes
levelled beyond ``align_above_deg``). A network trained on these as well as on FER2013's own crops
stops depending on FER2013's exact framing, which a detector cannot reproduce.

    python scripts/face_pipeline_crops.py --out /work/cache/fer_pipeline.npz [--model back]

Writes ``X`` (n, 48, 48) uint8 (zeros where nothing was found), ``found`` (n,) bool, and the
settings used, for every FER2013 row.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from affekt.datasets.faces import fer2013_arrays
from affekt.face.detect import get_detector
from affekt.video.models import VideoRecognizer

ap = argparse.ArgumentParser()
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None)
ap.add_argument("--out", required=True)
ap.add_argument("--model", default="back")
ap.add_argument("--canvas", default="320x240")
ap.add_argument("--side", default="72,112", help="pasted face side range in pixels")
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--limit", type=int, default=None)
a = ap.parse_args()

spec = importlib.util.spec_from_file_location(
    "make_face_videos", Path(__file__).resolve().parents[1] / "benchmarks" / "make_face_videos.py")
mfv = sys.modules["make_face_videos"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mfv)

X, meta = fer2013_arrays(a.fer2013, cache=a.cache)
n = len(X) if a.limit is None else min(a.limit, len(X))
W, H = (int(v) for v in a.canvas.split("x"))
lo, hi = (int(v) for v in a.side.split(","))
det = get_detector("blazeface", min_face=20, model=a.model)
video = VideoRecognizer(detector_model=a.model)
out = np.zeros((len(X), 48, 48), np.uint8)
found = np.zeros(len(X), bool)
t0 = time.time()
for i in range(n):
    g = np.random.default_rng([a.seed, i])
    img = mfv.background(int(g.integers(1 << 30)), (W, H))
    side = int(g.integers(lo, hi + 1))
    x, y = int(g.integers(0, W - side + 1)), int(g.integers(0, H - side + 1))
    img[y:y + side, x:x + side] = np.asarray(Image.fromarray(X[i]).resize((side, side), Image.BICUBIC))[..., None]
    faces = [f for f in det.detect(img) if x <= f.box[0] + f.box[2] / 2 <= x + side
             and y <= f.box[1] + f.box[3] / 2 <= y + side]
    if faces:
        out[i] = video._crop(img, faces[0], 48)
        found[i] = True
    if i % 2000 == 0:
        print(f"{i}/{n} found {found[:i + 1].mean():.3f} {time.time() - t0:.0f}s", flush=True)
np.savez_compressed(a.out, X=out, found=found,
                    settings=json.dumps({**vars(a), "framing": list(video.framing),
                                         "align_above_deg": video.align_above_deg}))
print(f"found {found[:n].mean():.4f} of {n} in {time.time() - t0:.0f}s -> {a.out}")
