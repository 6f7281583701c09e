"""Tracker settings compared on the generated videos: identity switches (CLEAR-MOT, every video,
one- and two-person) and tracks beyond the number of people, for each FaceTracker setting.

    python benchmarks/video_tracking.py --videos /work/cache/videos /work/cache/videos_big \
        --detections /work/cache/track_dets.pkl

The faces are detected once per sampled frame (video-default's detector, crop and appearance
vector, 5 fps) and kept in ``--detections``; each setting then replays the tracker on them, and keeps
the tracks video-default keeps (confirmed, at least ``min_track_s`` on screen). The videos come from
benchmarks/make_face_videos.py (their truth.json gives each person's box over time).
"""
from __future__ import annotations

import argparse
import inspect
import itertools
import json
import pickle
import sys
import time
from pathlib import Path

import numpy as np
from _results import command  # benchmarks/_results.py

from affekt import load
from affekt.video.track import FaceTracker, identity_switches, match_to_truth

GRID = {"iou_threshold": [0.1, 0.2, 0.3], "reid_scale": [2.0, 3.0], "max_age": [1.0, 2.0],
        "appearance_weight": [0.0, 0.3]}


def detections(dirs: list[Path], fps: float) -> dict:
    from affekt.video.decode import frames, prefetch
    from affekt.video.models import _appearance

    m = load("video-default")
    det, fm = m._get_detector(), m._face()
    out = {}
    for vd in dirs:
        for v in json.loads((vd / "truth.json").read_text()):
            rows = []
            for t, rgb in prefetch(frames(str(vd / v["video"]), fps)):
                faces = det.detect(rgb)
                rows.append((t, [f.box for f in faces], _appearance([m._crop(rgb, f, fm.crop_size) for f in faces])))
            out[f"{vd.name}/{v['video']}"] = {"rows": rows, "people": v["people"]}
            print(vd.name, v["video"], len(rows), file=sys.stderr)
    return out


def _box_at(person, t):
    B = np.asarray(person["boxes"], float)
    k = int(np.argmin(np.abs(B[:, 0] - t)))
    return B[k, 1:] if abs(B[k, 0] - t) < 0.11 else None


def replay(D: dict, params: dict, step: float, min_track_s: float) -> dict:
    res = {"switches_two_person": 0, "switches_one_person": 0, "extra_tracks": 0, "videos_with_a_switch": []}
    for name, v in D.items():
        tr = FaceTracker(**params)
        T, ID, B = [], [], []
        for t, boxes, feats in v["rows"]:
            for b, i in zip(boxes, tr.update(t, boxes, features=feats)):
                T.append(t)
                ID.append(i)
                B.append(b)
        T, ID = np.asarray(T), np.asarray(ID)
        confirmed = tr.confirmed()
        kept = [i for i in np.unique(ID) if i in confirmed and (ID == i).sum() * step >= min_track_s]
        truth_ids, pred_ids = [], []
        for t in np.unique(T):
            m = (T == t) & np.isin(ID, kept)
            tb = [_box_at(p, t) for p in v["people"]]
            present = [i for i, b in enumerate(tb) if b is not None]
            truth_ids.append(present)
            pred_ids.append(match_to_truth([[tb[i] for i in present]], [[B[k] for k in np.flatnonzero(m)]],
                                           [ID[m].tolist()])[0])
        sw = identity_switches(truth_ids, pred_ids)
        res["switches_two_person" if len(v["people"]) > 1 else "switches_one_person"] += sw
        res["extra_tracks"] += max(0, len(kept) - len(v["people"]))
        if sw:
            res["videos_with_a_switch"].append(name)
    return res


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", nargs="+", type=Path, required=True)
    ap.add_argument("--detections", type=Path, required=True, help="where the detections are kept (.pkl)")
    ap.add_argument("--out", default="benchmarks/results/video_tracking.json")
    a = ap.parse_args(argv)
    model = load("video-default")
    if a.detections.exists():
        D = pickle.loads(a.detections.read_bytes())
    else:
        D = detections(a.videos, model.fps)
        a.detections.write_bytes(pickle.dumps(D))
    D = {k: v for k, v in D.items() if k.split("/")[0] in {p.name for p in a.videos}}
    t0 = time.time()
    default = {k: v.default for k, v in inspect.signature(FaceTracker).parameters.items()}
    rows = []
    for values in itertools.product(*GRID.values()):
        p = dict(zip(GRID, values))
        r = replay(D, p, 1.0 / model.fps, model.min_track_s)
        r["switches_total"] = r["switches_two_person"] + r["switches_one_person"]
        rows.append({"params": p, **r, "default": all(default[k] == v for k, v in p.items())})
    rows.sort(key=lambda r: (r["switches_total"], r["extra_tracks"], r["switches_two_person"]))
    n_two = sum(len(v["people"]) > 1 for v in D.values())
    res = {"command": command(argv), "videos": len(D), "two_person_videos": n_two, "fps": model.fps,
           "grid": GRID, "default": {k: default[k] for k in GRID}, "settings": rows,
           "seconds": round(time.time() - t0, 1)}
    Path(a.out).write_text(json.dumps(res, indent=1))
    for r in rows[:8] + [r for r in rows if r["default"]]:
        print(r["switches_total"], r["switches_two_person"], r["extra_tracks"], r["params"], "(default)" if r["default"] else "")


if __name__ == "__main__":
    main()
