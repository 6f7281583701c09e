"""The teacher for distillation: a soft-voting ensemble of trained face networks, scored on every
FER2013 image.

    python scripts/face_teacher.py runs/mnv2b runs/vgg runs/effl0 runs/resnet --out runs/teacher

Each run (a scripts/train_face_cnn.py output, or a saved single-network model folder such as
src/affekt/models/face-default) gives mirror-TTA logits for all 35,887 images (kept as
``RUN/all_logits.npy`` for a training run). The ensemble averages the members' probabilities, with equal
weights or (``--select``) weights from greedy selection on PublicTest log-loss; ``OUT/teacher_logits.npy`` holds the log of that average (rows in labels.csv order, for
``train_face_cnn.py --teacher``) and ``OUT/teacher.json`` each member's and the ensemble's
PublicTest and PrivateTest accuracy.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from scipy.special import softmax

from affekt.datasets.faces import fer2013_arrays
from affekt.face import _train

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+", type=Path)
ap.add_argument("--data-dir", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None, help="an .npz with the decoded images (see fer2013_arrays)")
ap.add_argument("--out", type=Path, required=True)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--select", action="store_true", help="weigh the members by greedy selection on PublicTest "
                "(else equal weights)")
a = ap.parse_args()

torch.set_num_threads(a.threads)
X, meta = fer2013_arrays(a.data_dir, cache=a.cache)
y = meta["label_index"].to_numpy()
masks = {"publictest": (meta["usage"] == "PublicTest").to_numpy(), "privatetest": (meta["usage"] == "PrivateTest").to_numpy()}


def all_logits(run: Path) -> np.ndarray:
    f = run / "all_logits.npy"
    if f.is_file():
        return np.load(f)
    saved = (run / "affekt.json").is_file()  # a saved single-network model (e.g. src/affekt/models/face-default)
    args = json.loads((run / "affekt.json").read_text())["params"] if saved else json.loads((run / "args.json").read_text())
    net, spec = _train.build(args["arch"], 7, size=args.get("size"), pretrained=False, width=args.get("width", 32))
    _train.load_weights(net, run if saved else run / "net.pt")
    z = _train.logits(net, X, spec, tta=True)
    if not saved:  # never write into a model folder
        np.save(f, z)
    return z


def acc(p: np.ndarray) -> dict:
    return {k: round(float((p[m].argmax(1) == y[m]).mean()), 4) for k, m in masks.items()}


report = {"members": {}, "command": "python scripts/face_teacher.py " + " ".join(map(str, a.runs)) + f" --out {a.out}"
          + (" --select" if a.select else "")}
probs = []
for run in a.runs:
    p = softmax(all_logits(run), axis=1)
    probs.append(p)
    report["members"][str(run)] = acc(p)
    print(run, report["members"][str(run)], flush=True)
dev = masks["publictest"]


def nll(P: np.ndarray) -> float:
    return float(-np.log(np.clip(P[dev, y[dev]], 1e-7, None)).mean())


if a.select:  # greedy ensemble selection with replacement (Caruana et al. 2004) on PublicTest log-loss
    counts = np.zeros(len(probs), int)
    counts[int(np.argmin([nll(p) for p in probs]))] = 1
    for _ in range(2 * len(probs)):
        cur = sum(c * p for c, p in zip(counts, probs)) / counts.sum()
        trial = [nll((cur * counts.sum() + p) / (counts.sum() + 1)) for p in probs]
        if min(trial) >= nll(cur):
            break
        counts[int(np.argmin(trial))] += 1
    weights = counts / counts.sum()
else:
    weights = np.full(len(probs), 1 / len(probs))
P = sum(w * p for w, p in zip(weights, probs))
report["weights"] = {str(r): round(float(w), 4) for r, w in zip(a.runs, weights)}
report["selection"] = ("greedy selection with replacement on PublicTest log-loss" if a.select else "equal weights")
report["ensemble"] = acc(P)
print("weights", report["weights"], "ensemble", report["ensemble"])
a.out.mkdir(parents=True, exist_ok=True)
np.save(a.out / "teacher_logits.npy", np.log(np.clip(P, 1e-7, None)).astype(np.float32))
(a.out / "teacher.json").write_text(json.dumps(report, indent=2) + "\n")
