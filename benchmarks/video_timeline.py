"""Timeline accuracy, identity switches and what smoothing and fusion add, on the generated videos
of real FER2013 PublicTest faces (benchmarks/make_face_videos.py).

    python benchmarks/make_face_videos.py --fer2013 ../shared/data/images/fer2013 \
        --ravdess ../shared/data/audio/ravdess --out /work/cache/videos
    python benchmarks/video_timeline.py --videos /work/cache/videos --fer2013 ../shared/data/images/fer2013

Several ``--videos`` folders (sets made with other seeds) are scored as one pooled set.

Scoring, per person and per second of video (the second's middle), skipping 0.25 s either side
of an expression change: the label of the track matched to that person (Hungarian on box IoU
against the known boxes, per sampled frame) at the sampled frame nearest that time. A second
where no track covers the person counts as wrong. The face model's own accuracy is on the same
faces read whole (48x48 FER crops), each weighted by the seconds it is scored. A second reference
separates what the video path costs from what detection and cropping cost: each face pasted at its
video size on a still background (as make_face_videos draws it, no motion, no codec) and read
through the same detect-and-crop path. Gaps come with 95% CIs from a paired bootstrap over the
distinct faces (a face held for 4 s is one draw, not four). Smoothing variants
are recomputed from the same per-frame scores. Fusion is scored on the "congruent" videos, where
the voice says the same emotion as the face: face only, voice only and fused, on the seconds
inside a voice clip (a second where the speech pipeline gave no window counts as wrong for the
voice alone).
Writes benchmarks/results/video_timeline.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from affekt.core.registry import load_model
from affekt.datasets.faces import fer2013_arrays
from affekt.fusion import late_fuse
from affekt.video.models import SMOOTHING, smooth
from affekt.video.track import identity_switches, match_to_truth

ap = argparse.ArgumentParser()
ap.add_argument("--videos", required=True, type=Path, nargs="+",
                help="one or more folders of make_face_videos.py output, scored as one pooled set")
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--cache", default=None)
ap.add_argument("--model", default="video-default")
ap.add_argument("--fps", type=float, default=None)
ap.add_argument("--out", default="benchmarks/results/video_timeline.json")
a = ap.parse_args()

truth = []
for folder in a.videos:
    for v in json.loads((folder / "truth.json").read_text()):
        # the name a video is reported under; the folder's too when several are pooled
        truth.append({**v, "path": folder / v["video"], "video": v["video"] if len(a.videos) == 1 else f"{folder.name}/{v['video']}"})
model = load_model(a.model)
fps = a.fps or model.fps
X, meta = fer2013_arrays(a.fer2013, cache=a.cache)
labels = list(model.labels_.labels)
face_model = load_model(model.face_model)


def truth_at(stretches, t, guard=0.25):
    for s in stretches:
        if s["start"] + guard <= t < s["end"] - guard:
            return s
    return None


def boxes_at(person, t):
    B = np.asarray(person["boxes"], float)
    k = int(np.argmin(np.abs(B[:, 0] - t)))
    return B[k, 1:] if abs(B[k, 0] - t) < 0.11 else None


hits = {k: [0, 0] for k in SMOOTHING}
own = [0, 0]
paired = []  # per scored second: (face key, label index, timeline right, FER crop right)
own_cache: dict = {}
covered = [0, 0]
fusion = {"face": [0, 0], "voice": [0, 0], "voice_where_answered": [0, 0], "fused": [0, 0],
          "fused_equal_weights": [0, 0]}
switches = {}
seconds_processed = 0.0
t_total = 0.0
per_video = []
for v in truth:
    path = v["path"]
    t0 = time.perf_counter()
    rec = model.predict([str(path)], fps=fps, errors="raise")[0]
    t_total += time.perf_counter() - t0
    seconds_processed += rec.duration
    fr = rec.frames
    T, ID, B, R = fr["t"], fr["track"], fr["box"], fr["face_raw"]
    times = np.unique(T)
    # person -> matched track id per sampled frame
    people = v["people"]
    truth_ids, pred_ids, match = [], [], {}
    for t in times:
        m = T == t
        tb = [boxes_at(p, t) for p in people]
        present = [i for i, b in enumerate(tb) if b is not None]
        got = match_to_truth([[tb[i] for i in present]], [B[m].tolist()], [ID[m].tolist()])[0]
        truth_ids.append(present)
        pred_ids.append(got)
        for i, g in zip(present, got):
            match[(i, float(t))] = g
    if len(people) > 1:
        switches[v["video"]] = identity_switches(truth_ids, pred_ids)
    smoothed = {}
    for kind in SMOOTHING:
        S = np.zeros_like(R)
        for k in np.unique(ID):
            mk = ID == k
            S[mk] = smooth(T[mk], R[mk], kind, model.smooth_s)
        smoothed[kind] = S
    voice = fr["voice"] or []
    v_hits = {k: 0 for k in SMOOTHING}
    v_n = 0
    for i, p in enumerate(people):
        for sec in np.arange(0.5, v["duration"], 1.0):
            st = truth_at(p["stretches"], sec)
            if st is None:
                continue
            y = labels.index(st["label"])
            v_n += 1
            own[1] += 1
            if st["fer_row"] not in own_cache:
                own_cache[st["fer_row"]] = int(face_model.predict_proba(X[[st["fer_row"]]])[0].argmax())
            own_ok = int(own_cache[st["fer_row"]] == y)
            own[0] += own_ok
            key = (st["fer_row"], p["face_side"])
            near = times[np.abs(times - sec) <= 0.5 / fps + 1e-6]
            tk = next((match[(i, float(t))] for t in sorted(near, key=lambda t: abs(t - sec))
                       if match.get((i, float(t))) is not None), None)
            covered[1] += 1
            if tk is None:
                for kind in SMOOTHING:
                    hits[kind][1] += 1
                paired.append((key, y, 0, own_ok))
                continue
            covered[0] += 1
            rows = np.where((ID == tk) & (np.abs(T - sec) <= 0.5 / fps + 1e-6))[0]
            row = rows[np.argmin(np.abs(T[rows] - sec))]
            for kind in SMOOTHING:
                ok = int(smoothed[kind][row].argmax() == y)
                hits[kind][0] += ok
                hits[kind][1] += 1
                v_hits[kind] += ok
            paired.append((key, y, int(smoothed[model.smoothing][row].argmax() == y), own_ok))
            speaking = any(c["start"] + 0.25 <= sec < c["end"] - 0.25 for c in (v.get("voice") or {}).get("clips", []))
            if v.get("congruent") and len(people) == 1 and speaking:
                pv = next((w[2] for w in voice if w[0] <= sec < w[1]), None)
                pf = smoothed[model.smoothing][row]
                for name, p_ in (("face", pf), ("voice", pv),
                                 ("fused", late_fuse([pf, pv], [model.face_weight, model.voice_weight],
                                                     conf=model.confidence)),
                                 ("fused_equal_weights", late_fuse([pf, pv], [1.0, 1.0], conf=None))):
                    fusion[name][1] += 1
                    fusion[name][0] += int(p_ is not None and int(np.argmax(p_)) == y)
                if pv is not None:  # the voice's accuracy where it gave an answer (its VAD found speech)
                    fusion["voice_where_answered"][1] += 1
                    fusion["voice_where_answered"][0] += int(int(np.argmax(pv)) == y)
    per_video.append({"video": v["video"], "people": len(people), "tracks": len(rec.tracks),
                      "seconds_scored": v_n, "accuracy": round(v_hits[model.smoothing] / max(v_n, 1), 4)})
    print(per_video[-1], file=sys.stderr)

acc = {k: round(h / max(n, 1), 4) for k, (h, n) in hits.items()}


def still_label(fer_row: int, side: int):
    """The face at its video size, pasted on a still background and read through the video's own
    detect-and-crop path; None where the detector misses it."""
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).parent))
    from make_face_videos import background

    W, H = 640, 480
    img = background(fer_row, (W, H))
    x, y = (W - side) // 2, (H - side) // 2
    img[y:y + side, x:x + side] = np.asarray(Image.fromarray(X[fer_row]).resize((side, side), Image.BICUBIC))[..., None]
    faces = [f for f in model._get_detector().detect(img)
             if x <= f.box[0] + f.box[2] / 2 <= x + side and y <= f.box[1] + f.box[3] / 2 <= y + side]
    if not faces:
        return None
    crop = model._crop(img, max(faces, key=lambda f: f.box[2] * f.box[3]), face_model.crop_size)
    return int(face_model.predict_proba(crop[None])[0].argmax())


still = {k: still_label(*k) for k in dict.fromkeys(k for k, *_ in paired)}
faces = list(still)
idx = {k: i for i, k in enumerate(faces)}
F = np.array([idx[k] for k, *_ in paired])
Y = np.array([y for _, y, _, _ in paired])
TL = np.array([t for *_, t, _ in paired], float)
OWN = np.array([o for *_, o in paired], float)
STILL = np.array([float(still[k] == y) for k, y, _, _ in paired])  # a missed face counts as wrong


def paired_gap(A: np.ndarray, B: np.ndarray, n_boot: int = 2000) -> dict:
    """mean(A) - mean(B) over the scored seconds, in points, with a bootstrap over distinct faces."""
    rng = np.random.default_rng(0)
    sa, sb, n = (np.bincount(F, A, len(faces)), np.bincount(F, B, len(faces)), np.bincount(F, None, len(faces)))
    draws = rng.integers(0, len(faces), (n_boot, len(faces)))
    g = 100 * (sa[draws].sum(1) - sb[draws].sum(1)) / n[draws].sum(1)
    return {"points": round(100 * (A.mean() - B.mean()), 2),
            "ci95": [round(float(np.percentile(g, 2.5)), 2), round(float(np.percentile(g, 97.5)), 2)]}


res = {
    "command": "python " + " ".join(sys.argv),
    "model": a.model, "face_model": model.face_model, "fps": fps, "smoothing_default": model.smoothing,
    "smooth_s": model.smooth_s, "videos": len(truth), "person_seconds_scored": hits[model.smoothing][1],
    "timeline_accuracy": acc[model.smoothing],
    "face_model_own_accuracy_same_faces": round(own[0] / max(own[1], 1), 4),
    "gap_points": round(100 * (own[0] / max(own[1], 1) - acc[model.smoothing]), 2),
    "distinct_faces_scored": len(faces),
    "gap_to_fer_crops": paired_gap(OWN, TL),
    "still_pipeline_accuracy_same_faces": round(float(STILL.mean()), 4),
    "still_pipeline_faces_missed": int(sum(v is None for v in still.values())),
    "gap_to_still_pipeline": paired_gap(STILL, TL),
    "still_pipeline_vs_fer_crops": paired_gap(OWN, STILL),
    "timeline_accuracy_by_smoothing": acc,
    "person_seconds_with_a_track": round(covered[0] / max(covered[1], 1), 4),
    "identity_switches": switches, "identity_switches_total": int(sum(switches.values())),
    "fusion_on_congruent_videos": {k: {"accuracy": round(h / n, 4), "n": n} for k, (h, n) in fusion.items() if n},
    "video_seconds": round(seconds_processed, 1), "wall_seconds_in_process": round(t_total, 1),
    "times_real_time_in_process": round(seconds_processed / max(t_total, 1e-9), 2),
    "per_video": per_video,
}
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
print(json.dumps({k: v for k, v in res.items() if k != "per_video"}, indent=1))
