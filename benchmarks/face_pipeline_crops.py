"""FER2013 PrivateTest two ways: each 48x48 crop read whole (the published protocol), and the same
faces as the detect-and-crop path sees them (pasted on a background, found by BlazeFace,
cropped as the video pipeline crops; scripts/face_pipeline_crops.py). The second is what a user's
photo or video goes through; the gap between the two is what FER2013's own framing is worth.

    python scripts/face_pipeline_crops.py --out /work/cache/fer_pipeline.npz
    python benchmarks/face_pipeline_crops.py --crops /work/cache/fer_pipeline.npz --model face-default

Writes benchmarks/results/face_pipeline_crops.json (one entry per --model, merged into the file).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from affekt.core.registry import load_model
from affekt.datasets.faces import fer2013_arrays

ap = argparse.ArgumentParser()
ap.add_argument("--crops", required=True)
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None)
ap.add_argument("--model", action="append", required=True, help="a model name or folder (repeatable)")
ap.add_argument("--out", default="benchmarks/results/face_pipeline_crops.json")
a = ap.parse_args()

X, meta = fer2013_arrays(a.fer2013, cache=a.cache)
E = np.load(a.crops)
te = meta["usage"].to_numpy() == "PrivateTest"
m = te & E["found"]
y = meta["label_index"].to_numpy()
out = Path(a.out)
res = json.loads(out.read_text()) if out.exists() else {}
res.update({"crops": json.loads(str(E["settings"])), "privatetest_n": int(te.sum()),
            "privatetest_found": int(m.sum())})
res.setdefault("models", {})
for name in a.model:
    fm = load_model(name)
    whole = fm.predict_proba(X[te]).argmax(1)
    pipe = fm.predict_proba(E["X"][m]).argmax(1)
    whole_on_found = whole[m[te]]
    res["models"][name] = {
        "whole_accuracy": round(float((whole == y[te]).mean()), 4),
        "pipeline_accuracy": round(float((pipe == y[m]).mean()), 4),
        "whole_accuracy_on_found": round(float((whole_on_found == y[m]).mean()), 4),
        "agreement_pipeline_vs_whole": round(float((pipe == whole_on_found).mean()), 4),
        "command": "python " + " ".join(sys.argv)}
    print(name, res["models"][name], file=sys.stderr)
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text(json.dumps(res, indent=2) + "\n")
