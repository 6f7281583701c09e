"""Assemble the bundled ``face-default`` model from networks trained by scripts/train_face_cnn.py.

    python scripts/build_face_default.py runs/mnv2 [runs/vgg ...] --output src/affekt/models/face-default

One run: that network. Several: a soft-voting ensemble (equal weights). The card's figures are
written afterwards by ``benchmarks/face_default.py`` (which evaluates the bundled model).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from affekt.core.labels import EKMAN
from affekt.face import _train
from affekt.face.models import FaceCNN, FaceEnsemble

ap = argparse.ArgumentParser()
ap.add_argument("runs", nargs="+", type=Path)
ap.add_argument("--output", type=Path, default=Path("src/affekt/models/face-default"))
ap.add_argument("--checkpoint", action="store_true", help="use ckpt/best.pt (a run still going on)")
ap.add_argument("--before", action="append", default=[], help="a command that came before the runs' own (e.g. the "
                "run whose checkpoint a run started from)")
ap.add_argument("--note", default="", help="how the runs were made, for the card")
ap.add_argument("--calibrate", default=None, metavar="FER2013_DIR",
                help="fit each network's score temperature on FER2013 PublicTest (the dev split) in this folder")
ap.add_argument("--cache", default=None, help="an .npz with the decoded FER2013 images (see fer2013_arrays)")
a = ap.parse_args()


def member(run: Path) -> FaceCNN:
    args = json.loads((run / "result.json").read_text())["args"] if (run / "result.json").is_file() else \
        json.loads((run / "args.json").read_text())
    net, spec = _train.build(args["arch"], 7, size=args.get("size"), pretrained=False, width=args.get("width", 32))
    state = run / ("ckpt/best.pt" if a.checkpoint or not (run / "net.pt").is_file() else "net.pt")
    net.load_state_dict(torch.load(state, map_location="cpu", weights_only=True))
    m = FaceCNN.from_trained(net, spec, EKMAN, model_id=f"face-{args['arch']}", width=args.get("width", 32),
                             epochs=args["epochs"], lr=args["lr"], mixup=args.get("mixup", 0.0),
                             cutmix=args.get("cutmix", 0.0), erase=args.get("erase", 0.25), degrade=args.get("degrade", 0.0),
                             smoothing=args.get("smoothing", 0.1), freeze_epochs=args.get("freeze_epochs", 0),
                             seed=args.get("seed", 0), tta=True)
    m.history_ = json.loads((run / "result.json").read_text()).get("history", []) if (run / "result.json").is_file() else []
    m.train_args_ = args
    return m


members = [member(r) for r in a.runs]
calibration = None
if a.calibrate:  # temperature scaling on the dev split: the scores then say how often the answer is right
    from calibrate_face_model import calibrate  # scripts/

    calibration = calibrate(members, a.calibrate, a.cache)
if len(members) == 1:
    model = members[0]
else:
    model = FaceEnsemble()
    model.members_, model.weights_ = members, [1 / len(members)] * len(members)
    model.labels_ = EKMAN
    import numpy as np

    model.thresholds_ = np.full(len(EKMAN), 0.5, np.float32)
model.model_id_ = a.output.name
cmds = []
for m in members:
    args = m.train_args_
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                     if k not in ("out", "cache", "soft", "ferplus_dir", "data_dir") and v is not None)
    cmds.append(f"python scripts/train_face_cnn.py {flags} --data-dir ../shared/data/images/fer2013 --out {args['out']}"
                + (" --soft --ferplus-dir ../shared/data/images/ferplus" if args.get("soft") else ""))
model.card_ = {
    "dataset": {"name": "fer2013", "splits": {"train": 28709, "dev": 3589, "test": 3589}},
    "data_licence": "FER2013 (ICML 2013 challenge, Kaggle): images from web search, copyright of their owners; "
                    "research use, no open licence",
    "family": model.family,
    "training_commands": a.before + cmds + [f"python scripts/build_face_default.py {' '.join(str(r) for r in a.runs)} "
                                 f"--output {a.output}"
                                 + (" --calibrate ../shared/data/images/fer2013" if a.calibrate else "")],
    "calibration": calibration,
    "training_note": a.note,
    "distilled": any(m.train_args_.get("teacher") for m in members),
    "input": "grey face crop, 48x48 (whole image read as one face, or a detected face aligned by its eyes)",
    "outputs": "FER2013's 7 classes in Ekman's names (angry->anger, happy->happiness, sad->sadness, ...); "
               "no valence/arousal",
}
model.save(a.output)
print(f"saved {a.output} ({sum(f.stat().st_size for f in a.output.rglob('*') if f.is_file()) / 1e6:.1f} MB)")
