"""Which part of the image around a detected face the video pipeline crops, chosen without the
test videos: FER2013 **Training** faces pasted (upscaled, as the generated videos do) on the same kind
of background, found by each BlazeFace model, aligned and cropped at several scales of the box,
and scored by the face model. Besides the box scaled by a few factors, a "framing" (centre offset
and side relative to the detector's box) is fitted on the first half of the faces to reproduce
FER2013's own crop, and scored on the second half. The figure is the agreement with the face model's answer on the
same face read whole (48x48), i.e. how little the detect-and-crop path changes the answer.

    python benchmarks/video_crop_scale.py --fer2013 ../shared/data/images/fer2013 --n 600

Writes benchmarks/results/video_crop_scale.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from affekt.core.registry import load_model
from affekt.datasets.faces import fer2013_arrays
from affekt.face.align import align_crop
from affekt.face.detect import get_detector

ap = argparse.ArgumentParser()
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None)
ap.add_argument("--n", type=int, default=600)
ap.add_argument("--scales", default="0.9,1.0,1.1,1.2,1.3,1.4")
ap.add_argument("--models", default="back,full")
ap.add_argument("--face-model", default="face-default")
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--out", default="benchmarks/results/video_crop_scale.json")
a = ap.parse_args()

spec = importlib.util.spec_from_file_location("make_face_videos", Path(__file__).with_name("make_face_videos.py"))
mfv = sys.modules["make_face_videos"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mfv)

X, meta = fer2013_arrays(a.fer2013, cache=a.cache)
rng = np.random.default_rng(a.seed)
rows = rng.choice(np.where(meta["usage"].to_numpy() == "Training")[0], a.n, replace=False)
fm = load_model(a.face_model)
whole = fm.predict_proba(X[rows]).argmax(1)
y = meta["label_index"].to_numpy()[rows]
scales = [float(s) for s in a.scales.split(",")]
res = {"command": "python " + " ".join(sys.argv), "n_faces": int(a.n), "face_model": a.face_model,
       "whole_image_accuracy": round(float((whole == y).mean()), 4), "detectors": {}}
def paste(k, r):
    """The k-th test image (seeded by k): FER row r upscaled on a background; (image, square)."""
    g = np.random.default_rng([a.seed, int(k)])
    bg = mfv.background(int(g.integers(1 << 30)), (640, 480))
    side = int(g.integers(150, 221))
    face = np.asarray(Image.fromarray(X[r]).resize((side, side), Image.BICUBIC))
    x, yy = int(g.integers(20, 640 - side - 20)), int(g.integers(20, 480 - side - 20))
    bg[yy:yy + side, x:x + side] = face[..., None]
    return bg, (x, yy, side)


def framed(box, fr):
    """The box moved and resized by a framing (dx, dy, s): centre + (dx w, dy h), side s max(w, h)."""
    x, y, w, h = box
    cx, cy = x + w / 2 + fr[0] * w, y + h / 2 + fr[1] * h
    side = fr[2] * max(w, h)
    return (cx - side / 2, cy - side / 2, side, side)


fit = np.arange(a.n) < a.n // 2  # the first half fits the framing, the second half scores it
for model in a.models.split(","):
    det = get_detector("blazeface", min_face=20, model=model)
    got = {}
    for k, r in enumerate(rows):
        img, (x, yy, side) = paste(k, r)
        faces = [f for f in det.detect(img) if x <= f.box[0] + f.box[2] / 2 <= x + side]
        if faces:
            got[k] = (faces[0], (x, yy, side))
    F = np.array([[(sq[0] + sq[2] / 2 - (f.box[0] + f.box[2] / 2)) / f.box[2],
                   (sq[1] + sq[2] / 2 - (f.box[1] + f.box[3] / 2)) / f.box[3],
                   sq[2] / max(f.box[2], f.box[3])] for k, (f, sq) in got.items() if fit[k]])
    framing = tuple(round(float(v), 3) for v in np.median(F, axis=0))
    variants = {f"box x{s}": ((0.0, 0.0, s), True) for s in scales}
    variants.update({"fitted framing": (framing, True), "fitted framing, no rotation": (framing, False)})
    crops = {v: [] for v in variants}
    ev = [k for k in got if not fit[k]]
    for k in ev:
        f, _ = got[k]
        img, _ = paste(k, rows[k])
        for v, (fr, rot) in variants.items():
            crops[v].append(align_crop(img, framed(f.box, fr), f.keypoints if rot else None, fm.crop_size))
    idx = np.array(ev)
    per = {}
    for v in variants:
        p = fm.predict_proba(np.stack(crops[v])).argmax(1)
        per[v] = {"agreement_with_whole": round(float((p == whole[idx]).mean()), 4),
                  "accuracy": round(float((p == y[idx]).mean()), 4)}
    res["detectors"][model] = {"found": round(len(got) / a.n, 4), "framing_fitted": framing,
                               "n_scored": len(ev), "variants": per,
                               "whole_image_accuracy_on_scored": round(float((whole[idx] == y[idx]).mean()), 4)}
    print(model, json.dumps(res["detectors"][model]), file=sys.stderr)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps(res, indent=1))
