"""Leave-one-corpus-out (LOCO) for a speech recipe: train on all corpora but one, test on the one
left out, for each corpus in turn, in the Ekman space. Each held-out corpus is scored on its own
labels (UAR and macro-F1, per gender too); the mean and the worst held-out UAR are the figures
issue 13 targets (mean UAR >= 0.50, none below 0.40).

    python benchmarks/speech_loco.py --data ../shared/data/audio --corpora ravdess,tess,urdu,ased \
        --model ensemble -p 'members=["logreg","svm","lgbm"]' --tag speech-default-recipe

The same protocol as ``affekt train --protocol loco``. Results are added under ``--tag`` to
``--out`` (benchmarks/results/speech_loco.json), so recipes can be compared side by side; features
are computed once per file (memory) and kept on disk under $AFFEKT_CACHE (default ~/.cache/affekt).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from affekt.cli.common import parse_params
from affekt.core.cache import cache_on_disk_by_default
from affekt.core.registry import make_family
from affekt.datasets import concat, load_dataset
from affekt.evaluation.cv import cross_validate


THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def abstaining(pred: dict, y: list, corpus: list, rows: dict) -> dict:
    """Per held-out corpus and --abstain-below threshold: the share of clips answered and the
    accuracy on those (top score among the corpus's own labels, renormalised, as they are scored)."""
    import numpy as np

    labels = pred["labels"]
    P = np.zeros((len(y), len(labels)))
    P[np.asarray(pred["index"])] = np.asarray(pred["scores"])
    truth = np.array([v if isinstance(v, str) else v[0] for v in y], dtype=object)
    out = {}
    for c, r in rows.items():
        m = np.array([g == c for g in corpus])
        own = [labels.index(lab) for lab in r["labels"]]
        Q = P[m][:, own]
        Q = Q / np.maximum(Q.sum(1, keepdims=True), 1e-12)
        right = np.array(r["labels"], dtype=object)[Q.argmax(1)] == truth[m]
        top = Q.max(1)
        out[c] = {f"{t:.1f}": {"coverage": round(float((top >= t).mean()), 4),
                               "accuracy": round(float(right[top >= t].mean()), 4) if (top >= t).any() else None}
                  for t in THRESHOLDS}
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/audio", help="folder holding one sub-folder per corpus")
    ap.add_argument("--corpora", default="ravdess,tess,urdu,ased")
    ap.add_argument("--model", default="ensemble", help="speech family")
    ap.add_argument("-p", "--param", action="append", default=[], help="family parameter key=value (JSON values)")
    ap.add_argument("--tag", required=True, help="the name this recipe's results are stored under")
    ap.add_argument("--out", default="benchmarks/results/speech_loco.json")
    a = ap.parse_args(argv)
    cache_on_disk_by_default()
    names = [c.strip() for c in a.corpora.split(",") if c.strip()]
    t0 = time.time()
    ds = concat([load_dataset(n, Path(a.data) / n, modality="speech") for n in names], "ekman")
    X, y = ds.xy("all")
    df = ds.split("all")
    params = parse_params(a.param)
    cv = cross_validate(make_family("speech", a.model, **params), X, y, protocol="loco",
                        groups=df["corpus"].tolist(), label_space=ds.label_space,
                        attributes={"gender": df["gender"].tolist()},
                        speakers=df["speaker"].tolist() if "speaker" in df.columns else None, keep_predictions=True)
    rows = {}
    for c, r in cv["by_corpus"].items():
        rows[c] = {"n": r["n"], "labels": r["labels_own"], "uar": round(r["balanced_accuracy"], 4),
                   "macro_f1": round(r["macro_f1"], 4), "accuracy": round(r["accuracy"], 4),
                   "ece": round(r["ece"], 4),
                   "uar_by_gender": {g: round(d["balanced_accuracy"], 4)
                                     for g, d in r.get("by_attribute", {}).get("gender", {}).items()
                                     if isinstance(d.get("balanced_accuracy"), float)}}
    res = {"command": "python " + " ".join([sys.argv[0]] + (argv if argv is not None else sys.argv[1:])),
           "family": a.model, "params": params, "corpora": names, "label_space": ds.label_space.name,
           "labels": list(ds.label_space.labels), "by_corpus": rows,
           "mean_uar": round(cv["balanced_accuracy"]["mean"], 4), "mean_macro_f1": round(cv["macro_f1"]["mean"], 4),
           "worst_uar": round(min(r["uar"] for r in rows.values()), 4),
           "mean_ece": round(cv["ece"]["mean"], 4), "seconds": round(time.time() - t0, 1)}
    res["abstaining"] = abstaining(cv["predictions"], y, df["corpus"].tolist(), rows)
    out = Path(a.out)
    allres = json.loads(out.read_text()) if out.exists() else {}
    allres[a.tag] = res
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(allres, indent=2) + "\n")
    print(json.dumps({k: v for k, v in res.items() if k != "by_corpus"}, indent=1))
    for c, r in rows.items():
        print(f"{c:10s} n={r['n']:5d} UAR {r['uar']:.3f} macro-F1 {r['macro_f1']:.3f} {r['uar_by_gender']}")
    return res


if __name__ == "__main__":
    main()
