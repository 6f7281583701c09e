"""What the temporal model (``gru``: a GRU over the face CNN's per-frame output) adds over
smoothing, and what learned fusion (``fusion``) adds over fixed-weight late fusion, per stretch of
one expression, on generated videos: trained on videos of FER2013 **Training** faces, tested on
the benchmark videos of PublicTest faces.

    python benchmarks/make_face_videos.py --usage Training --seed 1 --n-single 40 --n-pair 0 \
        --n-congruent 20 --no-edge --fer2013 ../shared/data/images/fer2013 \
        --ravdess ../shared/data/audio/ravdess --out /work/cache/videos_train
    python benchmarks/video_temporal.py --train /work/cache/videos_train --test /work/cache/videos \
        --out benchmarks/results/video_temporal_training_faces.json

The headline comparison trains on videos of PublicTest faces and tests on PrivateTest faces (the
face model never trained on either; the commands that made the videos go into the JSON):

    python benchmarks/make_face_videos.py --usage PublicTest --seed 1 --n-single 40 --n-pair 0 \
        --n-congruent 20 --no-edge ... --out /work/cache/videos_pub
    python benchmarks/make_face_videos.py --usage PrivateTest --seed 2 --n-pair 0 --no-edge ... \
        --out /work/cache/videos_priv
    python benchmarks/video_temporal.py --train /work/cache/videos_pub --test /work/cache/videos_priv

Items are stretches (``PATH#t=START,END``, 0.25 s in from each change) of the one-person videos;
``affekt train --modality video --dataset csv --model gru`` trains on the training stretches (15%
of the training videos as dev). Baselines on the same test stretches: the face model's mean
per-frame probabilities, and the majority of the median-smoothed per-frame labels.
Writes benchmarks/results/video_temporal.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--train", required=True, type=Path)
ap.add_argument("--test", required=True, type=Path)
ap.add_argument("--out", default="benchmarks/results/video_temporal.json")
ap.add_argument("--params", default="", help="extra -p KEY=VALUE for the gru family, comma-separated")
a = ap.parse_args()


def stretches(folder: Path, dev_share: float = 0.0, congruent: bool = False):
    """One-person videos' stretches; ``congruent``: only those of congruent videos, cut to the
    voice clip inside them (face and voice say the same emotion)."""
    rows = []
    truth = [t for t in json.loads((folder / "truth.json").read_text())
             if len(t["people"]) == 1 and bool(t.get("congruent")) == congruent]
    n_dev = round(dev_share * len(truth))
    for k, t in enumerate(truth):
        split = "dev" if k < n_dev else "train" if dev_share else "test"
        clips = (t.get("voice") or {}).get("clips", [])
        for s in t["people"][0]["stretches"]:
            a0, b0 = s["start"] + 0.25, s["end"] - 0.25
            if congruent:
                c = next((c for c in clips if s["start"] <= c["start"] < s["end"]), None)
                if c is None:
                    continue
                a0, b0 = max(a0, c["start"]), min(b0, c["end"])
            if b0 - a0 >= 1.0:
                rows.append({"path": str(folder / t["video"]), "start": round(a0, 3), "end": round(b0, 3),
                             "label": s["label"], "split": split})
    return rows


with tempfile.TemporaryDirectory() as tmp:
    tmp = Path(tmp)
    train_csv = tmp / "train.csv"
    test_rows = stretches(a.test)
    with open(train_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, ["path", "start", "end", "label", "split"])
        w.writeheader()
        w.writerows(stretches(a.train, dev_share=0.15))
    model_dir = tmp / "gru"
    cmd = ["affekt", "train", "--modality", "video", "--dataset", "csv", "--data-dir", str(train_csv),
           "--model", "gru", "--output", str(model_dir)]
    for p in filter(None, a.params.split(",")):
        cmd += ["-p", p]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"training failed: {r.stderr[-3000:]}")
    train_s = time.time() - t0
    from affekt.core.registry import load_model
    from affekt.video.models import smooth

    gru = load_model(model_dir)
    items = [f"{r['path']}#t={r['start']:g},{r['end']:g}" for r in test_rows]
    y = np.array([gru.labels_.labels.index(r["label"]) for r in test_rows])
    S = gru.sequences(items, errors=True)
    ok = np.array([not isinstance(s, str) for s in S])
    P = gru.predict_proba([it for it, o in zip(items, ok) if o])
    mean_raw = np.array([np.exp(s).mean(0).argmax() for s, o in zip(S, ok) if o])
    majority = []
    for s, o in zip(S, ok):
        if o:
            t = np.arange(len(s)) / gru.fps
            lab = smooth(t, np.exp(s), "median", 1.0).argmax(1)
            majority.append(np.bincount(lab, minlength=P.shape[1]).argmax())
    yy = y[ok]
    res = {"command": "python " + " ".join(sys.argv), "train_command": " ".join(cmd).replace(str(tmp), "TMP"),
           "train_stretches": sum(1 for _ in open(train_csv)) - 1, "test_stretches": int(len(items)),
           "test_stretches_with_a_face": int(ok.sum()), "train_seconds": round(train_s, 1),
           "accuracy": {"gru": round(float((P.argmax(1) == yy).mean()), 4),
                        "mean_of_frames": round(float((mean_raw == yy).mean()), 4),
                        "majority_of_median_smoothed_frames": round(float((np.array(majority) == yy).mean()), 4)},
           "train_log_tail": r.stdout[-1500:],
           "videos_made_by": {k: json.loads((d / "manifest.json").read_text()).get("command")
                              for k, d in (("train", a.train), ("test", a.test)) if (d / "manifest.json").is_file()}}
    # learned fusion vs fixed-weight late fusion, on congruent stretches
    fus_csv = tmp / "fusion.csv"
    with open(fus_csv, "w", newline="") as fh:
        w = csv.DictWriter(fh, ["path", "start", "end", "label", "split"])
        w.writeheader()
        w.writerows([{**r, "split": "train"} for r in stretches(a.train, congruent=True)])
    fcmd = ["affekt", "train", "--modality", "video", "--dataset", "csv", "--data-dir", str(fus_csv),
            "--model", "fusion", "--output", str(tmp / "fusion")]
    r2 = subprocess.run(fcmd, capture_output=True, text=True)
    if r2.returncode:
        sys.exit(f"fusion training failed: {r2.stderr[-3000:]}")
    from affekt.fusion import late_fuse

    fus = load_model(tmp / "fusion")
    default = load_model("video-default")
    crow = stretches(a.test, congruent=True)
    citems = [f"{r['path']}#t={r['start']:g},{r['end']:g}" for r in crow]
    cy = np.array([fus.labels_.labels.index(r["label"]) for r in crow])
    F, V = fus.parts(citems)
    hasf, hasv = ~np.isnan(F).any(1), ~np.isnan(V).any(1)
    late = np.array([late_fuse([f if hf else None, v if hv else None], [default.face_weight, default.voice_weight],
                               conf=default.confidence) for f, v, hf, hv in zip(F, V, hasf, hasv)])
    Pf = fus.predict_proba(citems)

    def acc(P, mask=None):
        m = np.ones(len(cy), bool) if mask is None else mask
        return round(float((np.nan_to_num(P[m]).argmax(1) == cy[m]).mean()), 4)

    res["fusion"] = {"train_command": " ".join(fcmd).replace(str(tmp), "TMP"),
                     "train_stretches": sum(1 for _ in open(fus_csv)) - 1, "test_stretches": len(citems),
                     "with_face": int(hasf.sum()), "with_voice": int(hasv.sum()),
                     "accuracy": {"face_alone": acc(F, hasf), "voice_alone": acc(V, hasv),
                                  "late_fusion_fixed_weights": acc(late), "learned_fusion": acc(Pf)}}
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps({k: v for k, v in res.items() if k != "train_log_tail"}, indent=1))
