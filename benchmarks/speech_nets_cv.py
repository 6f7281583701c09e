"""Cross-validate the network speech families (cnn, crnn) from a spectrogram export
(``benchmarks/speech_export.py``), on the corpus's predefined speaker folds, without the audio.

The model is the package's own ``SpectrogramNet`` (same training, augmentation and scoring
code); only the decoding/VAD/log-mel step is read from the export instead of recomputed.
Uses a CUDA GPU when torch sees one, else the CPU. Several configurations run side by side
(one process each).

    python benchmarks/speech_nets_cv.py --export exports/ravdess-mel64.npz \
        --config '{"arch": "cnn"}' --config '{"arch": "crnn", "mixup": 0.2}' --out runs/nets.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPS: list = []


def _model_class():
    from affekt.speech._nets import SpectrogramNet

    class FromExport(SpectrogramNet):
        """Inputs are indices into the export."""

        def check_item(self, x):
            return None

        def _train_repr(self, i):
            return REPS[i]

        def _windows(self, i):
            return [(a, b, sp, r[1.0]) for (a, b, sp), r in zip(META["windows"][i], REPS[i])]

    return FromExport


META: dict = {}


def run(export: str, config: dict, seed: int) -> dict:
    import torch

    import affekt.datasets.speech  # noqa: F401  (registers the speech label spaces)
    from affekt.core.labels import get_label_space
    from affekt.evaluation.cv import cross_validate
    from speech_export import load

    torch.set_num_threads(2)
    global REPS
    meta, REPS = load(export)
    META.update(meta)
    t0 = time.time()
    model = _model_class()(**{**config, "seed": seed})
    cv = cross_validate(model, list(range(len(REPS))), meta["labels"], protocol="folds", folds=meta["fold"],
                        label_space=get_label_space(meta["label_space"]), attributes={"gender": meta["gender"]},
                        keep_predictions=True, progress=False)
    from speech_families import _brief

    out = {"config": config, "seed": seed, "device": str(model._device()), "seconds": round(time.time() - t0, 1),
           **_brief(cv), "predictions": cv["predictions"]}
    print(f"{json.dumps(config)} seed {seed}: UAR {out['balanced_accuracy']['mean']:.4f} "
          f"± {out['balanced_accuracy']['std']:.4f} WA {out['accuracy']['mean']:.4f} F1 {out['macro_f1']['mean']:.4f} "
          f"({out['seconds']}s)", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--export", required=True)
    ap.add_argument("--config", action="append", default=[], help="SpectrogramNet parameters as JSON")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    configs = [json.loads(c) for c in a.config] or [{}]
    jobs = [(c, int(s)) for c in configs for s in a.seeds.split(",")]
    results = []
    with ProcessPoolExecutor(max_workers=min(a.jobs, len(jobs))) as ex:
        futs = [ex.submit(run, a.export, c, s) for c, s in jobs]
        for f in futs:
            results.append(f.result())
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps({"export": a.export, "runs": results}))


if __name__ == "__main__":
    main()
