"""Train one face-expression network on FER2013 (or FER+ votes) and save its weights + history.

    python scripts/train_face_cnn.py --arch mobilenetv2 --epochs 14 --out runs/mnv2 \
        --data-dir ../shared/data/images/fer2013 [--ferplus-dir ../shared/data/images/ferplus --soft]

Early stopping on PublicTest (dev); PrivateTest accuracy (with and without mirror TTA) is
written to ``OUT/result.json``; ``OUT/net.pt`` holds the best dev epoch's state dict, and
``OUT/test_logits.npy`` / ``OUT/dev_logits.npy`` the logits for ensembling.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from affekt.datasets.faces import fer2013_arrays, ferplus_votes
from affekt.face import _train

ap = argparse.ArgumentParser()
ap.add_argument("--arch", default="mobilenetv2")
ap.add_argument("--data-dir", default="../shared/data/images/fer2013")
ap.add_argument("--ferplus-dir", default=None)
ap.add_argument("--soft", action="store_true", help="train on FER+ vote shares (7 FER2013 classes)")
ap.add_argument("--out", required=True)
ap.add_argument("--epochs", type=int, default=14)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--size", type=int, default=None)
ap.add_argument("--width", type=int, default=32)
ap.add_argument("--mixup", type=float, default=0.0)
ap.add_argument("--cutmix", type=float, default=0.0)
ap.add_argument("--erase", type=float, default=0.25)
ap.add_argument("--smoothing", type=float, default=0.1)
ap.add_argument("--freeze-epochs", type=int, default=0)
ap.add_argument("--lr-decay", type=float, default=0.7)
ap.add_argument("--weight-decay", type=float, default=5e-4)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--cache", default=None, help="an .npz to keep the decoded images in")
ap.add_argument("--init", default=None, help="start from these weights (a state dict: a checkpoint of an earlier run)")
a = ap.parse_args()

torch.set_num_threads(a.threads)
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
(out / "args.json").write_text(json.dumps(vars(a), indent=1))
X, meta = fer2013_arrays(a.data_dir, cache=a.cache)
y = meta["label_index"].to_numpy()
tr, dev, te = (meta["usage"] == u for u in ("Training", "PublicTest", "PrivateTest"))
T = np.eye(7, dtype=np.float32)[y]
if a.soft:
    V = ferplus_votes(a.ferplus_dir, meta)  # (n, 7) vote shares in FER2013's classes, NaN rows unknown
    ok = ~np.isnan(V).any(1) & tr.to_numpy()
    T[ok] = V[ok]
net, spec = _train.build(a.arch, 7, size=a.size, width=a.width)
if a.init:
    net.load_state_dict(torch.load(a.init, map_location="cpu", weights_only=True))
t0 = time.time()
hist = _train.train(net, spec, X[tr.to_numpy()], T[tr.to_numpy()], X[dev.to_numpy()], y[dev.to_numpy()],
                    epochs=a.epochs, batch=a.batch, lr=a.lr, weight_decay=a.weight_decay,
                    smoothing=a.smoothing, mixup=a.mixup, cutmix=a.cutmix, erase=a.erase,
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
(out / "result.json").write_text(json.dumps(res, indent=2))
print(json.dumps({k: v for k, v in res.items() if k.endswith(("accuracy", "tta", "seconds"))}))
