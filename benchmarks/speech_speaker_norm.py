"""How many clips of a new speaker does speaker normalisation need? RAVDESS 8 classes, 6 folds of
4 actors, one speaker-normalised model per fold (trained with its training actors' speakers);
each test actor's 60 clips are then predicted in sessions of k clips (shuffled, seeded), every
session normalised on its own clips only, as `predict(clips, speakers=...)` would be used on k
recordings of a person. Also: all 4 test actors pooled as one "speaker" (what `affekt predict`
does without --speaker-by), and no test statistics at all (the training population's mean).

    AFFEKT_CACHE=.cache python benchmarks/speech_speaker_norm.py --data ../shared/data/audio/ravdess \
        [--family logreg] [--out benchmarks/results/speech_speaker_norm.json]
"""
from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import balanced_accuracy_score

from affekt.core.registry import make_family
from affekt.datasets import load_dataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/audio/ravdess")
    ap.add_argument("--family", default="logreg")
    ap.add_argument("--sizes", default="5,10,20,30,60")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="benchmarks/results/speech_speaker_norm.json")
    a = ap.parse_args()
    ds = load_dataset("ravdess", a.data)
    df = ds.split("all")
    X = np.asarray(df["path"].tolist(), dtype=object)
    y = np.asarray([labs[0] for labs in df["labels"]], dtype=object)
    spk, fold = df["speaker"].to_numpy(), df["fold"].to_numpy()
    sizes = [int(k) for k in a.sizes.split(",")]
    rng = np.random.default_rng(a.seed)
    uar: dict[str, list[float]] = {}
    t0 = time.time()
    for f in sorted(set(fold)):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        m = make_family("speech", a.family, speaker_norm=True).fit(list(X[tr]), list(y[tr]),
                                                                   label_space=ds.label_space,
                                                                   speakers=list(spk[tr]))
        labels = list(m.labels_.labels)
        runs = {}
        for k in sizes:
            m.min_speaker_clips = min(k, 10)  # measure sessions smaller than the default minimum too
            pred = np.empty(len(te), dtype=object)
            for s in sorted(set(spk[te])):
                idx = rng.permutation(te[spk[te] == s])
                for c in range(0, len(idx), k):
                    chunk = idx[c:c + k]
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # a last, short session is referred to the population
                        P = m.predict_proba(list(X[chunk]), speakers=[s] * len(chunk))
                    pred[np.searchsorted(te, chunk)] = [labels[i] for i in P.argmax(1)]
            runs[f"sessions of {k} clips of one speaker"] = pred
        m.min_speaker_clips = 10
        P = m.predict_proba(list(X[te]))  # no speakers: the call's inputs are one group
        runs["4 test actors pooled as one speaker"] = np.asarray([labels[i] for i in P.argmax(1)], dtype=object)
        m.min_speaker_clips = 10 ** 9  # nobody has enough clips: the training population's mean
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P = m.predict_proba(list(X[te]))
        m.min_speaker_clips = 10
        runs["no test statistics (training population mean)"] = np.asarray([labels[i] for i in P.argmax(1)],
                                                                            dtype=object)
        for name, pred in runs.items():
            uar.setdefault(name, []).append(float(balanced_accuracy_score(y[te], pred)))
        print(f"fold {f}: " + ", ".join(f"{n.split(' (')[0]} {v[-1]:.3f}" for n, v in uar.items()), flush=True)
    res = {"protocol": "ravdess 8 classes, 6 folds of 4 actors", "family": a.family, "seed": a.seed,
           "seconds": round(time.time() - t0, 1),
           "uar": {n: {"mean": round(float(np.mean(v)), 4), "std": round(float(np.std(v)), 4),
                       "folds": [round(x, 4) for x in v]} for n, v in uar.items()}}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1))
    for n, v in res["uar"].items():
        print(f"| {n} | {v['mean']:.3f} ± {v['std']:.3f} |")


if __name__ == "__main__":
    main()
