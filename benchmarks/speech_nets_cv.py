"""Cross-validate (and fit) the network speech families (cnn, crnn) from spectrogram exports
(``benchmarks/speech_export.py``), without the audio: e.g. on a GPU machine.

The model is the package's own ``SpectrogramNet`` (same training, augmentation and scoring
code); only the decoding/VAD/log-mel step is read from the export (0.5 dB quantised) instead
of recomputed. Uses a CUDA GPU when torch sees one, else the CPU.

``cv``: every (configuration, seed, fold) is one job, run side by side (``--jobs`` processes);
the out-of-fold probabilities are written to ``--out`` as the jobs finish. ``score`` turns such a
file into the same metrics as ``cross_validate`` (UAR, WA, macro-F1, confusion, by gender),
optionally averaging in other families' out-of-fold probabilities (soft-voting ensembles).
``fit``: one configuration on all of one or more exports (labels mapped to ``--label-space``),
saved as a regular affekt model folder.

    python benchmarks/speech_nets_cv.py cv --export exports/ravdess-mel64.npz \
        --config '{"arch": "cnn"}' --config '{"arch": "crnn", "mixup": 0.2}' --out runs/nets.json
    python benchmarks/speech_nets_cv.py score runs/nets.json [--with runs/speech_functionals.json:svm]
    python benchmarks/speech_nets_cv.py fit --export exports/ravdess-mel64.npz,exports/tess-mel64.npz \
        --label-space ekman --config '{"arch": "cnn"}' --out-model runs/cnn-ekman
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPS: list = []     # per file of the loaded export(s): its windows' {speed: log-mel}
WINDOWS: list = []  # per file: [(start, end, speech_found)] of its windows
_META: dict = {}    # labels, fold and label space of the loaded files (set in each worker)


def _model_class():
    from affekt.speech._nets import SpectrogramNet

    class FromExport(SpectrogramNet):
        """Inputs are indices into the loaded export(s)."""

        def check_item(self, x):
            return None

        def _train_repr(self, i):
            return REPS[i]

        def _windows(self, i):
            return [(a, b, sp, r[1.0]) for (a, b, sp), r in zip(WINDOWS[i], REPS[i])]

    return FromExport


def _load(exports: str) -> dict:
    """Concatenate one or more exports; REPS/WINDOWS become the global per-file lists."""
    from speech_export import load

    metas = []
    for path in exports.split(","):
        meta, reps = load(path)
        REPS.extend(reps)
        WINDOWS.extend(meta["windows"])
        metas.append(meta)
    return {"metas": metas, "labels": [lab for m in metas for lab in m["labels"]],
            "fold": [f for m in metas for f in m["fold"]], "gender": [g for m in metas for g in m["gender"]]}


def _job(export: str, config: dict, seed: int, fold: int, threads: int) -> dict:
    import torch

    import affekt.datasets.speech  # noqa: F401  (registers the speech label spaces)
    from affekt.core.labels import get_label_space

    torch.set_num_threads(threads)
    if not REPS:
        _init(export)
    m0 = _META
    folds = np.asarray(m0["fold"])
    tr, te = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
    t0 = time.time()
    model = _model_class()(**{**config, "seed": seed})
    labels = np.asarray(m0["labels"], dtype=object)
    model.fit(tr.tolist(), list(labels[tr]), label_space=get_label_space(m0["label_space"]))
    P = model._scores(te.tolist())
    return {"config": config, "seed": seed, "fold": fold, "index": te.tolist(), "scores": P.round(5).tolist(),
            "labels": list(model.labels_.labels), "device": str(model._device()), "seconds": round(time.time() - t0, 1)}


def _init(export: str) -> None:
    info = _load(export)
    m = info["metas"][0]
    _META.update({"labels": info["labels"], "fold": info["fold"], "label_space": m["label_space"]})


def cmd_cv(a) -> None:
    from speech_export import load

    meta, _ = load(a.export)
    folds = sorted(set(meta["fold"]))
    configs = [json.loads(c) for c in a.config] or [{}]
    jobs = [(c, int(s), f) for c in configs for s in a.seeds.split(",") for f in folds]
    out = {"export": a.export, "folds": meta["fold"], "labels": meta["labels"], "gender": meta["gender"],
           "label_space": meta["label_space"], "jobs": []}
    done = json.loads(Path(a.out).read_text())["jobs"] if (a.resume and Path(a.out).exists()) else []
    out["jobs"] = done
    seen = {(json.dumps(j["config"], sort_keys=True), j["seed"], j["fold"]) for j in done}
    jobs = [j for j in jobs if (json.dumps(j[0], sort_keys=True), j[1], j[2]) not in seen]
    print(f"{len(jobs)} jobs on {a.jobs} processes", flush=True)
    t0 = time.time()
    with ProcessPoolExecutor(max_workers=min(a.jobs, len(jobs)), initializer=_init, initargs=(a.export,)) as ex:
        futs = {ex.submit(_job, a.export, c, s, f, a.threads): (c, s, f) for c, s, f in jobs}
        for fut in as_completed(futs):
            r = fut.result()
            out["jobs"].append(r)
            print(f"[{time.time() - t0:5.0f}s] {json.dumps(r['config'])} seed {r['seed']} fold {r['fold']}: "
                  f"{r['seconds']}s on {r['device']}", flush=True)
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps(out))


def oof_tables(path: str) -> dict:
    """{config-name: (n, n_labels) out-of-fold probabilities} of a cv file (seeds averaged)."""
    d = json.loads(Path(path).read_text())
    n = len(d["labels"])
    acc: dict = {}
    for j in d["jobs"]:
        key = json.dumps(j["config"], sort_keys=True)
        t = acc.setdefault(key, {"P": np.zeros((n, len(j["labels"]))), "c": np.zeros(n), "labels": j["labels"]})
        t["P"][j["index"]] += np.asarray(j["scores"])
        t["c"][j["index"]] += 1
    out = {}
    for k, t in acc.items():
        if (t["c"] == 0).any():
            continue  # not every fold done
        out[k] = (t["P"] / t["c"][:, None], t["labels"])
    return out


def score_table(P: np.ndarray, labels: list, meta: dict) -> dict:
    """The metrics ``cross_validate`` gives, computed from out-of-fold probabilities ``P``."""
    import affekt.datasets.speech  # noqa: F401
    from affekt.core.labels import get_label_space
    from affekt.core.recognizer import EmotionClassifier
    from affekt.evaluation.cv import cross_validate
    from speech_families import _brief

    table = P

    class Lookup(EmotionClassifier):
        modality = "speech"
        family = "lookup"

        def check_item(self, x):
            return None

        def _fit(self, X, Y, X_dev, Y_dev):
            pass

        def _scores(self, X):
            return table[np.asarray(X)]

    space = get_label_space(meta["label_space"])
    assert list(space.labels) == list(labels), (space.labels, labels)
    cv = cross_validate(Lookup(), list(range(len(P))), meta["labels"], protocol="folds", folds=meta["folds"],
                        label_space=space, attributes={"gender": meta["gender"]}, progress=False)
    return _brief(cv)


def cmd_score(a) -> None:
    d = json.loads(Path(a.cv).read_text())
    tables = oof_tables(a.cv)
    others = {}
    for spec in a.with_:
        path, _, fam = spec.partition(":")
        r = json.loads(Path(path).read_text())["families"][fam]["ravdess_predictions"]
        P = np.zeros((len(d["labels"]), len(r["labels"])))
        P[r["index"]] = np.asarray(r["scores"])
        others[fam] = (P, r["labels"])
    results = {}
    for k, (P, labels) in {**tables, **{f"[{f}]": v for f, v in others.items()}}.items():
        results[k] = score_table(P, labels, d)
        for f, (Po, lo) in others.items():
            if not k.startswith("["):
                assert lo == labels
                results[f"{k} + [{f}]"] = score_table((P + Po) / 2, labels, d)
    rows = sorted(results.items(), key=lambda kv: -kv[1]["balanced_accuracy"]["mean"])
    for k, r in rows:
        g = r.get("by_gender", {})
        print(f"UAR {r['balanced_accuracy']['mean']:.4f} ± {r['balanced_accuracy']['std']:.4f}  WA {r['accuracy']['mean']:.4f}"
              f"  F1 {r['macro_f1']['mean']:.4f}  f/m {g.get('female', {}).get('balanced_accuracy', 0):.3f}/"
              f"{g.get('male', {}).get('balanced_accuracy', 0):.3f}  {k}")
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=1))


def cmd_fit(a) -> None:
    import torch

    import affekt.datasets.speech  # noqa: F401
    from affekt.core.labels import get_label_space, get_mapping
    from affekt.speech._nets import SpectrogramNet

    torch.set_num_threads(a.threads)
    info = _load(a.export)
    space = get_label_space(a.label_space)
    y, keep, k = [], [], 0
    for m in info["metas"]:
        mp = None if m["label_space"] == space.name else get_mapping(m["label_space"], space)
        for lab in m["labels"]:
            t = [lab] if mp is None else mp.map_labels([lab])
            if t:
                y.append(t[0])
                keep.append(k)
            k += 1
    t0 = time.time()
    config = json.loads(a.config)
    model = _model_class()(**config)
    model.fit(keep, y, label_space=space)
    model.__class__ = SpectrogramNet  # a plain package model from here on
    model.model_id_ = a.model_id
    model.save(a.out_model)
    print(f"fitted {json.dumps(config)} on {len(keep)} files ({time.time() - t0:.0f}s) -> {a.out_model}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cv")
    c.add_argument("--export", required=True)
    c.add_argument("--config", action="append", default=[], help="SpectrogramNet parameters as JSON")
    c.add_argument("--seeds", default="0")
    c.add_argument("--jobs", type=int, default=4)
    c.add_argument("--threads", type=int, default=1)
    c.add_argument("--resume", action="store_true")
    c.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("cv")
    s.add_argument("--with", dest="with_", action="append", default=[], help="FILE:family of speech_families.py")
    s.add_argument("--out")
    f = sub.add_parser("fit")
    f.add_argument("--export", required=True, help="comma-separated exports")
    f.add_argument("--label-space", default="ekman")
    f.add_argument("--config", default="{}")
    f.add_argument("--threads", type=int, default=4)
    f.add_argument("--model-id", default="speech-cnn")
    f.add_argument("--out-model", required=True)
    a = ap.parse_args()
    {"cv": cmd_cv, "score": cmd_score, "fit": cmd_fit}[a.cmd](a)


if __name__ == "__main__":
    main()
