"""When does ``affekt predict --adapt`` help? Under leave-one-corpus-out, a model trained with
corpus normalisation on all corpora but one scores the held-out corpus in batches, each batch
adapted to by its own statistics, as a user's run of ``--adapt`` over a folder would be:

* batch sizes 20, 50, 100, 200 and the whole corpus, drawn at random (emotions mixed as the corpus has them);
* skewed batches: 50 clips, 70% of them one emotion (each emotion in turn), the rest mixed;
* against the same model scoring each clip on its own (no adaptation).

Figures: UAR over the held-out corpus (own labels), pooled over all batches of a setting
(each clip scored in ``--repeats`` random batches; the mean over repeats).

    python benchmarks/speech_adapt_batches.py --data ../shared/data/audio --corpora ravdess,tess,urdu,ased \
        --model logreg -p C=0.03
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from affekt.cli.common import parse_params
from affekt.core.cache import cache_on_disk_by_default
from affekt.core.registry import make_family
from affekt.datasets import concat, load_dataset, present_labels

from _results import command  # benchmarks/_results.py


def uar_own(P, labels, own, truth) -> float:
    from sklearn.metrics import balanced_accuracy_score

    idx = [labels.index(lab) for lab in own]
    return float(balanced_accuracy_score(truth, np.asarray(own, dtype=object)[P[:, idx].argmax(1)]))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/audio")
    ap.add_argument("--corpora", default="ravdess,tess,urdu,ased")
    ap.add_argument("--model", default="logreg")
    ap.add_argument("-p", "--param", action="append", default=[])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default="benchmarks/results/speech_adapt_batches.json")
    a = ap.parse_args(argv)
    cache_on_disk_by_default()
    import warnings

    warnings.filterwarnings("ignore", message="adapt:")
    t0 = time.time()
    names = [c.strip() for c in a.corpora.split(",") if c.strip()]
    ds = concat([load_dataset(n, Path(a.data) / n, modality="speech") for n in names], "ekman")
    X, y = ds.xy("all")
    df = ds.split("all")
    y = np.array([v if isinstance(v, str) else v[0] for v in y], dtype=object)
    corpus = df["corpus"].to_numpy()
    params = {**parse_params(a.param), "corpus_norm": True}
    rng = np.random.default_rng(0)
    out: dict = {}
    for c in names:
        tr, te = np.where(corpus != c)[0], np.where(corpus == c)[0]
        space = present_labels(ds.label_space, y[tr])
        m = make_family("speech", a.model, **params)
        m.fit([X[i] for i in tr], list(y[tr]), label_space=space, corpora=list(corpus[tr]))
        labels = list(m.labels_.labels)
        Xte, yte = [X[i] for i in te], y[te]
        own = sorted(set(yte))
        row = {"n": len(te), "labels": own,
               "each_on_its_own": round(uar_own(m.predict_proba(Xte), labels, own, yte), 4)}
        for size in (20, 50, 100, 200, len(te)):
            vals = []
            for r in range(a.repeats if size < len(te) else 1):
                order = rng.permutation(len(te))
                P = np.zeros((len(te), len(labels)))
                for s in range(0, len(te), size):
                    b = order[s:s + size]
                    if len(b) < 20:  # the tail: joined to the previous batch, as too small to adapt to
                        b = order[max(0, s - size):]
                    P[b] = m.predict_proba([Xte[i] for i in b], adapt=True)
                vals.append(uar_own(P, labels, own, yte))
            row["all" if size == len(te) else f"batches_of_{size}"] = round(float(np.mean(vals)), 4)
        skew = {}
        for lab in own:
            vals = []
            major = np.where(yte == lab)[0]
            rest = np.where(yte != lab)[0]
            for r in range(a.repeats):
                b = np.concatenate([rng.choice(major, 35, replace=len(major) < 35), rng.choice(rest, 15, replace=False)])
                P = m.predict_proba([Xte[i] for i in b], adapt=True)
                P0 = m.predict_proba([Xte[i] for i in b])
                idx = [labels.index(x) for x in own]
                acc = (np.asarray(own, dtype=object)[P[:, idx].argmax(1)] == yte[b]).mean()
                acc0 = (np.asarray(own, dtype=object)[P0[:, idx].argmax(1)] == yte[b]).mean()
                vals.append((acc, acc0))
            skew[lab] = {"accuracy_adapted": round(float(np.mean([v[0] for v in vals])), 4),
                         "accuracy_on_its_own": round(float(np.mean([v[1] for v in vals])), 4)}
        row["skewed_50_70pct_one_emotion"] = skew
        out[c] = row
        print(c, json.dumps(row), flush=True)
    res = {"command": command(argv),
           "family": a.model, "params": params, "repeats": a.repeats, "by_corpus": out,
           "seconds": round(time.time() - t0, 1)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
