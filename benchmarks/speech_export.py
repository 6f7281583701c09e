"""Export a speech corpus's training spectrograms once, as one compact file, so the network
families can be cross-validated where the audio is not (e.g. a GPU machine) with
``benchmarks/speech_nets_cv.py``.

For every file: its label, fold, speaker, gender and utterance windows, and the log-mel
spectrograms of each window at the training speeds (0.9, 1.0, 1.1), exactly as
``SpectrogramNet`` computes them (decode -> loudness normalisation -> Silero VAD -> log-mel),
quantised to 0.5 dB steps (uint8) and xz-compressed to keep the file small.

    AFFEKT_CACHE=.cache python benchmarks/speech_export.py --dataset ravdess \
        --data-dir ../shared/data/audio/ravdess --out exports/ravdess-mel64.npz
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from affekt.datasets import load_dataset
from affekt.speech._nets import SPEEDS, SpectrogramNet

STEP, FLOOR = 0.5, -100.0  # dB per uint8 step, value of code 0


def quantise(m: np.ndarray) -> np.ndarray:
    return np.clip(np.round((m.astype(np.float32) - FLOOR) / STEP), 0, 255).astype(np.uint8)


def dequantise(q: np.ndarray) -> np.ndarray:
    return (q.astype(np.float32) * STEP + FLOOR).astype(np.float16)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--speeds", default=",".join(map(str, SPEEDS)),
                    help="training speeds to keep (fewer = smaller file; the net then draws from those)")
    a = ap.parse_args()
    speeds = [float(s) for s in a.speeds.split(",")]
    ds = load_dataset(a.dataset, a.data_dir, modality="speech")
    df = ds.split("all")
    X, y = ds.xy("all")
    net = SpectrogramNet()
    chunks: dict = {s: [] for s in speeds}
    shapes: dict = {s: [] for s in speeds}
    windows = []
    from tqdm import tqdm

    for x in tqdm(X, desc="spectrograms", unit="file"):
        ws = net._windows(x)
        reps = net._train_repr(x)
        windows.append([[float(w[0]), float(w[1]), bool(w[2])] for w in ws])
        for r in reps:
            for s in speeds:
                chunks[s].append(quantise(r[s]).ravel())
                shapes[s].append(r[s].shape[1])
    meta = {"dataset": a.dataset, "label_space": ds.label_space.name, "labels": [v if isinstance(v, str) else v[0] for v in y],
            "fold": df["fold"].tolist(), "speaker": df["speaker"].astype(str).tolist(), "gender": df["gender"].tolist(),
            "windows": windows, "n_mels": net.n_mels, "speeds": speeds, "step_db": STEP, "floor_db": FLOOR,
            "paths": [Path(p).name for p in X]}
    arrays = {f"mel_{s}": np.concatenate(chunks[s]) for s in speeds}
    arrays.update({f"frames_{s}": np.asarray(shapes[s], np.int32) for s in speeds})
    save(a.out, meta, arrays)
    print(f"{a.out}: {len(X)} files, {sum(len(w) for w in windows)} windows, {Path(a.out).stat().st_size / 1e6:.1f} MB")


def save(path: str, meta: dict, arrays: dict) -> None:
    """The uint8 spectrogram arrays xz-compressed (about 20% smaller than zip's deflate)."""
    import lzma

    packed = {k: (np.frombuffer(lzma.compress(v.tobytes(), preset=6), np.uint8) if k.startswith("mel_") else v)
              for k, v in arrays.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, meta=np.frombuffer(json.dumps({**meta, "codec": "xz"}).encode(), np.uint8), **packed)


def load(path: str) -> tuple[dict, list]:
    """(meta, per-file list of windows, each a dict speed -> float16 log-mel)."""
    import lzma

    z = np.load(path)
    meta = json.loads(bytes(z["meta"]).decode())
    n_mels, speeds = meta["n_mels"], meta["speeds"]
    per_speed = {}
    for s in speeds:
        frames = z[f"frames_{s}"]
        flat = z[f"mel_{s}"]
        if meta.get("codec") == "xz":
            flat = np.frombuffer(lzma.decompress(flat.tobytes()), np.uint8)
        offs = np.concatenate([[0], np.cumsum(frames * n_mels)])
        per_speed[s] = [dequantise(flat[offs[i]:offs[i + 1]].reshape(n_mels, frames[i])) for i in range(len(frames))]
    reps, k = [], 0
    for ws in meta["windows"]:
        reps.append([{s: per_speed[s][k + j] for s in speeds} for j in range(len(ws))])
        k += len(ws)
    return meta, reps


if __name__ == "__main__":
    main()
