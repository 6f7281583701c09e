"""Train one face-expression network on FER2013 (or FER+ votes) and save its weights + history.

    python scripts/train_face_cnn.py --arch mobilenetv2 --epochs 14 --out runs/mnv2 \
        --data-dir ../shared/data/images/fer2013 [--ferplus-dir ../shared/data/images/ferplus --soft]

Targets: the FER2013 label (default); with ``--ferplus-dir``, FER+'s majority label (``--soft``: its
vote shares) on the training images that have a clear FER+ majority; with ``--teacher Z.npy``
(logits for every FER2013 row, e.g. from ``scripts/face_teacher.py``), knowledge distillation:
``kd_alpha * softmax(Z / kd_temp) + (1 - kd_alpha) * label``.

Early stopping on PublicTest (dev; its FER+ majority labels when trained on FER+); PrivateTest
accuracy (with and without mirror TTA; and FER+ test accuracy with ``--ferplus-dir``) is written
to ``OUT/result.json``; ``OUT/net.pt`` holds the best dev epoch's state dict, and
``OUT/test_logits.npy`` / ``OUT/dev_logits.npy`` the logits for ensembling.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from affekt.datasets.faces import fer2013_arrays, ferplus_majority, ferplus_votes
from affekt.face import _train

ap = argparse.ArgumentParser()
ap.add_argument("--arch", default="mobilenetv2")
ap.add_argument("--data-dir", default="../shared/data/images/fer2013")
ap.add_argument("--ferplus-dir", default=None)
ap.add_argument("--soft", action="store_true", help="train on FER+ vote shares (7 FER2013 classes)")
ap.add_argument("--teacher", default=None, help="distil: .npy logits (n_fer2013_rows, 7) of a teacher")
ap.add_argument("--kd-alpha", type=float, default=0.7)
ap.add_argument("--kd-temp", type=float, default=2.0)
ap.add_argument("--out", required=True)
ap.add_argument("--epochs", type=int, default=14)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--size", type=int, default=None)
ap.add_argument("--width", type=int, default=32)
ap.add_argument("--mixup", type=float, default=0.0)
ap.add_argument("--cutmix", type=float, default=0.0)
ap.add_argument("--erase", type=float, default=0.25)
ap.add_argument("--degrade", type=float, default=0.0,
                help="share of training faces given another camera's look (resolution, gamma, contrast, noise)")
ap.add_argument("--smoothing", type=float, default=0.1)
ap.add_argument("--freeze-epochs", type=int, default=0)
ap.add_argument("--lr-decay", type=float, default=0.7)
ap.add_argument("--weight-decay", type=float, default=5e-4)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--cache", default=None, help="an .npz to keep the decoded images in")
ap.add_argument("--extra-crops", default=None,
                help="an .npz from scripts/face_pipeline_crops.py: the same faces as the detect-and-crop path sees "
                     "them, added to training (same targets) and to the early-stopping dev set; PrivateTest is also "
                     "scored on them")
ap.add_argument("--init", default=None, help="start from these weights: a state dict (a checkpoint of an earlier run) "
                "or a saved model's folder / net.safetensors (e.g. src/affekt/models/face-default)")
a = ap.parse_args()

torch.set_num_threads(a.threads)
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
(out / "args.json").write_text(json.dumps(vars(a), indent=1))
X, meta = fer2013_arrays(a.data_dir, cache=a.cache)
y = meta["label_index"].to_numpy()
tr, dev, te = (meta["usage"] == u for u in ("Training", "PublicTest", "PrivateTest"))
T = np.eye(7, dtype=np.float32)[y]
if a.soft and not a.ferplus_dir:
    ap.error("--soft needs --ferplus-dir")
use = tr.to_numpy().copy()
if a.ferplus_dir:  # FER+ targets, on the training images with a clear FER+ majority (the same rows soft or not)
    yp = ferplus_majority(a.ferplus_dir, meta)
    use &= yp >= 0
    T[yp >= 0] = np.eye(7, dtype=np.float32)[yp[yp >= 0]]
    if a.soft:
        V = ferplus_votes(a.ferplus_dir, meta)  # (n, 7) vote shares in FER2013's classes
        ok = ~np.isnan(V).any(1) & (yp >= 0)
        T[ok] = V[ok]
if a.teacher:
    Z = np.load(a.teacher).astype(np.float64)
    if Z.shape != (len(X), 7):
        ap.error(f"--teacher: expected logits of shape {(len(X), 7)}, got {Z.shape}")
    P = np.exp((Z - Z.max(1, keepdims=True)) / a.kd_temp)
    P /= P.sum(1, keepdims=True)
    T = (a.kd_alpha * P + (1 - a.kd_alpha) * T).astype(np.float32)
net, spec = _train.build(a.arch, 7, size=a.size, width=a.width)
if a.init:
    _train.load_weights(net, a.init)
t0 = time.time()
dv = dev.to_numpy()
y_stop = y
if a.ferplus_dir:  # early stopping on PublicTest's FER+ majority labels
    dv = dv & (yp >= 0)
    y_stop = yp
Xtr, Ttr, Xdv, ydv = X[use], T[use], X[dv], y_stop[dv]
if a.extra_crops:
    E = np.load(a.extra_crops)
    XE, found = E["X"], E["found"]
    if XE.shape != X.shape:
        ap.error(f"--extra-crops: expected crops of shape {X.shape}, got {XE.shape}")
    Xtr, Ttr = np.concatenate([Xtr, XE[use & found]]), np.concatenate([Ttr, T[use & found]])
    Xdv, ydv = np.concatenate([Xdv, XE[dv & found]]), np.concatenate([ydv, y_stop[dv & found]])
hist = _train.train(net, spec, Xtr, Ttr, Xdv, ydv,
                    epochs=a.epochs, batch=a.batch, lr=a.lr, weight_decay=a.weight_decay,
                    smoothing=a.smoothing, mixup=a.mixup, cutmix=a.cutmix, erase=a.erase, degrade=a.degrade,
                    freeze_epochs=a.freeze_epochs, lr_decay=a.lr_decay, seed=a.seed, checkpoint_dir=out / "ckpt",
                    log=lambda s: print(s, flush=True))
torch.save(net.state_dict(), out / "net.pt")
res = {"args": vars(a), "train_seconds": round(time.time() - t0, 1), "history": hist["history"],
       "best_dev": hist["best_dev"]}
for name, mask in (("dev", dev), ("test", te)):
    z = _train.logits(net, X[mask.to_numpy()], spec)
    zt = _train.logits(net, X[mask.to_numpy()], spec, tta=True)
    np.save(out / f"{name}_logits.npy", zt)
    res[f"{name}_accuracy"] = float((z.argmax(1) == y[mask.to_numpy()]).mean())
    res[f"{name}_accuracy_tta"] = float((zt.argmax(1) == y[mask.to_numpy()]).mean())
    if a.ferplus_dir and name == "test":  # FER+ test: majority label, contempt left out
        m = yp[mask.to_numpy()] >= 0
        res["ferplus_test_n"] = int(m.sum())
        res["ferplus_test_accuracy"] = float((z.argmax(1)[m] == yp[mask.to_numpy()][m]).mean())
        res["ferplus_test_accuracy_tta"] = float((zt.argmax(1)[m] == yp[mask.to_numpy()][m]).mean())
if a.extra_crops:  # PrivateTest as the detect-and-crop path sees it
    m = te.to_numpy() & found
    z = _train.logits(net, XE[m], spec)
    zt = _train.logits(net, XE[m], spec, tta=True)
    np.save(out / "test_pipeline_logits.npy", zt)
    res["test_pipeline_n"] = int(m.sum())
    res["test_pipeline_accuracy"] = float((z.argmax(1) == y[m]).mean())
    res["test_pipeline_accuracy_tta"] = float((zt.argmax(1) == y[m]).mean())
res["n_train"] = int(len(Xtr))
(out / "result.json").write_text(json.dumps(res, indent=2))
print(json.dumps({k: v for k, v in res.items() if k.endswith(("accuracy", "tta", "seconds"))}))
