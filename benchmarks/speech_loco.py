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
import time
from pathlib import Path

from affekt.cli.common import parse_params
from affekt.core.cache import cache_on_disk_by_default
from affekt.core.registry import make_family
from affekt.datasets import concat, load_dataset
from affekt.evaluation.cv import cross_validate

from _results import command, save_tagged  # benchmarks/_results.py


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


def _own(pred: dict, y: list, corpus: list, rows: dict):
    """Per held-out corpus: its clips' scores over its own labels (renormalised) and the truth index."""
    import numpy as np

    labels = pred["labels"]
    P = np.zeros((len(y), len(labels)))
    P[np.asarray(pred["index"])] = np.asarray(pred["scores"])
    truth = [v if isinstance(v, str) else v[0] for v in y]
    out = {}
    for c, r in rows.items():
        m = np.array([g == c for g in corpus])
        own = [labels.index(lab) for lab in r["labels"]]
        Q = P[m][:, own]
        out[c] = (Q / np.maximum(Q.sum(1, keepdims=True), 1e-12),
                  np.array([r["labels"].index(t) for t in np.asarray(truth, dtype=object)[m]]))
    return out


def write_predictions(path, pred: dict, y: list, df, rows: dict) -> None:
    """Each held-out clip: corpus, path, speaker, gender, true label, predicted label (top score among
    its corpus's own labels, as it is scored)."""
    import numpy as np
    import pandas as pd

    own = _own(pred, y, df["corpus"].tolist(), rows)
    parts = []
    for c, (Q, t) in own.items():
        sub = df[df["corpus"] == c]
        labs = np.array(rows[c]["labels"], dtype=object)
        parts.append(pd.DataFrame({"corpus": c, "path": sub["path"].to_numpy(),
                                   "speaker": sub["speaker"].to_numpy() if "speaker" in sub else "",
                                   "gender": sub["gender"].to_numpy(), "truth": labs[t], "pred": labs[Q.argmax(1)]}))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    pd.concat(parts).to_csv(path, index=False)


def temperature(pred: dict, y: list, corpus: list, rows: dict) -> dict:
    """Temperature scaling under LOCO: for each held-out corpus, one temperature fitted (log-loss)
    on the other held-out corpora's scores, applied to this one's; ECE before and after. ``all``:
    the temperature fitted on every held-out corpus (what a bundled model trained on all would use)."""
    import numpy as np

    from affekt.evaluation.metrics import expected_calibration_error, fit_temperature
    from affekt.evaluation.metrics import scale_temperature as scaled

    own = _own(pred, y, corpus, rows)

    def ece(Q, t):
        return round(expected_calibration_error(Q.max(1), Q.argmax(1) == t), 4)

    out = {}
    for c, (Q, t) in own.items():
        T = fit_temperature([v for k, v in own.items() if k != c])
        out[c] = {"temperature": round(T, 3), "ece_before": ece(Q, t), "ece_after": ece(scaled(Q, T), t)}
    out["all"] = {"temperature": round(fit_temperature(list(own.values())), 3)}
    out["mean_ece_after"] = round(float(np.mean([v["ece_after"] for k, v in out.items() if k in own])), 4)
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/audio", help="folder holding one sub-folder per corpus")
    ap.add_argument("--corpora", default="ravdess,tess,urdu,ased")
    ap.add_argument("--model", default="ensemble", help="speech family")
    ap.add_argument("-p", "--param", action="append", default=[], help="family parameter key=value (JSON values)")
    ap.add_argument("--tag", required=True, help="the name this recipe's results are stored under")
    ap.add_argument("--norm-by", choices=["speaker", "corpus"], default="speaker",
                    help="with speaker_norm=true: the groups whose mean is taken out (corpus: each training corpus "
                         "by its own mean, the held-out corpus by its own, i.e. unsupervised adaptation to it)")
    ap.add_argument("--adapt", action="store_true",
                    help="with corpus_norm=true: each held-out corpus standardised by its own statistics "
                         "(affekt predict --adapt); without it each clip is scored on its own")
    ap.add_argument("--out", default="benchmarks/results/speech_loco.json")
    ap.add_argument("--predictions", default=None, help="also write each held-out clip's corpus, path, gender, "
                    "true and predicted label (among its corpus's own labels) to this CSV (for bias audits)")
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
                        speakers=df[a.norm_by].tolist() if a.norm_by in df.columns else None, keep_predictions=True,
                        corpora=df["corpus"].tolist(), adapt=a.adapt)
    rows = {}
    for c, r in cv["by_corpus"].items():
        rows[c] = {"n": r["n"], "labels": r["labels_own"], "uar": round(r["balanced_accuracy"], 4),
                   "macro_f1": round(r["macro_f1"], 4), "accuracy": round(r["accuracy"], 4),
                   "ece": round(r["ece"], 4),
                   "uar_by_gender": {g: round(d["balanced_accuracy"], 4)
                                     for g, d in r.get("by_attribute", {}).get("gender", {}).items()
                                     if isinstance(d.get("balanced_accuracy"), float)}}
    res = {"command": command(argv),
           "family": a.model, "params": params, "norm_by": a.norm_by if params.get("speaker_norm") else None,
           "adapt": a.adapt, "corpora": names, "label_space": ds.label_space.name,
           "labels": list(ds.label_space.labels), "by_corpus": rows,
           "mean_uar": round(cv["balanced_accuracy"]["mean"], 4), "mean_macro_f1": round(cv["macro_f1"]["mean"], 4),
           "worst_uar": round(min(r["uar"] for r in rows.values()), 4),
           "mean_ece": round(cv["ece"]["mean"], 4), "seconds": round(time.time() - t0, 1)}
    res["abstaining"] = abstaining(cv["predictions"], y, df["corpus"].tolist(), rows)
    res["temperature_scaling"] = temperature(cv["predictions"], y, df["corpus"].tolist(), rows)
    if a.predictions:
        write_predictions(a.predictions, cv["predictions"], y, df, rows)
    save_tagged(a.out, a.tag, res)
    print(json.dumps({k: v for k, v in res.items() if k != "by_corpus"}, indent=1))
    for c, r in rows.items():
        print(f"{c:10s} n={r['n']:5d} UAR {r['uar']:.3f} macro-F1 {r['macro_f1']:.3f} {r['uar_by_gender']}")
    return res


if __name__ == "__main__":
    main()
