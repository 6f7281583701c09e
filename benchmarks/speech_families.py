"""Every speech family, speaker-independent, on the same folds; results as JSON (+ a markdown table).

- RAVDESS 8 classes, 6 folds of 4 actors (1-4, 5-8, ..., 21-24): UAR, WA, macro-F1, pooled
  confusion matrix, all split by gender;
- TESS 7 classes, by speaker (train on one actress, test on the other, both ways);
- cross-corpus RAVDESS -> TESS and TESS -> RAVDESS in the Ekman space (calm counted as neutral).

    AFFEKT_CACHE=.cache python benchmarks/speech_families.py --data ../shared/data/audio \
        [--families svm,rf,lgbm,logreg,cnn,crnn,ensemble] [--out benchmarks/results/speech_families.json]

With ``-p FAMILY:speaker_norm=true --tag +spknorm`` the functionals families normalise per speaker
(unsupervised adaptation: every fold's test speakers are normalised with their own unlabelled
clips); their results are stored under ``FAMILY+spknorm``.

Each family's result is written as soon as it is done (the file is updated in place), so a long
run can be followed and resumed with --skip-done.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from affekt.core.registry import make_family
from affekt.datasets import load_dataset
from affekt.evaluation.cv import cross_validate
from affekt.evaluation.report import to_jsonable

FAMILIES = ("logreg", "svm", "rf", "lgbm", "cnn", "crnn", "ensemble")


def _brief(cv: dict) -> dict:
    out = {k: {"mean": round(cv[k]["mean"], 4), "std": round(cv[k]["std"], 4)}
           for k in ("balanced_accuracy", "accuracy", "macro_f1") if k in cv}
    pooled = cv["pooled"]
    out["pooled"] = {k: round(pooled[k], 4) for k in ("balanced_accuracy", "accuracy", "macro_f1")}
    out["confusion_matrix"] = pooled["confusion_matrix"]
    out["labels"] = pooled["labels"]
    out["per_class_recall"] = {k: round(v["recall"], 4) for k, v in pooled["per_class"].items()}
    if "by_attribute" in cv:
        out["by_gender"] = {g: {k: round(v["mean"], 4) for k, v in d.items()}
                            for g, d in cv["by_attribute"].get("gender", {}).items()}
    return out


def cross_corpus(family: str, params: dict, train, test) -> dict:
    """Fit on all of ``train``, score ``test`` in the Ekman space on the labels both share."""
    from affekt.core.labels import get_mapping
    from affekt.evaluation.metrics import classification_metrics

    Xtr, ytr = train.xy("all")
    m = make_family("speech", family, **params)
    norm = getattr(m, "speaker_norm", False)  # speakers of both corpora (the test ones unlabelled)
    m.fit(Xtr, ytr, label_space=train.label_space, **({"speakers": train.split("all")["speaker"].tolist()} if norm else {}))
    Xte, yte = test.xy("all")
    P, _, space = m._proba_and_decisions(Xte, "ekman", **({"speakers": test.split("all")["speaker"].tolist()}
                                                           if norm else {}))
    yt = get_mapping(test.label_space, "ekman")
    truth = [yt.map_labels(v) for v in yte]
    shared = [lab for lab in space.labels
              if any(lab in t for t in truth) and any(lab == get_mapping(train.label_space, "ekman").mapping.get(s)
                                                      for s in train.label_space.labels)]
    idx = [space.labels.index(lab) for lab in shared]
    keep = [i for i, t in enumerate(truth) if t and t[0] in shared]
    Ps = P[keep][:, idx]
    Y = np.eye(len(shared), dtype=np.int8)[[shared.index(truth[i][0]) for i in keep]]
    D = np.eye(len(shared), dtype=np.int8)[Ps.argmax(1)]
    res = classification_metrics(Y, D, Ps, shared, False)
    return {"labels": shared, "n": len(keep), **{k: round(res[k], 4) for k in ("balanced_accuracy", "accuracy", "macro_f1")},
            "confusion_matrix": res["confusion_matrix"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/audio")
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--out", default="benchmarks/results/speech_families.json")
    ap.add_argument("--skip-done", action="store_true")
    ap.add_argument("--no-cross", action="store_true", help="skip TESS folds and the cross-corpus runs")
    ap.add_argument("--keep-predictions", action="store_true",
                    help="also store the out-of-fold RAVDESS probabilities (to combine families afterwards)")
    ap.add_argument("-p", "--param", action="append", default=[], help="family:key=value (JSON value)")
    ap.add_argument("--tag", default="", help="appended to each family's name in the results (e.g. '+spknorm')")
    a = ap.parse_args()
    params: dict = {}
    for p in a.param:
        fam, _, kv = p.partition(":")
        k, _, v = kv.partition("=")
        params.setdefault(fam, {})[k] = json.loads(v)
    out = Path(a.out)
    results = json.loads(out.read_text()) if out.exists() else {}
    results.setdefault("families", {})
    rav = load_dataset("ravdess", Path(a.data) / "ravdess")
    tess = load_dataset("tess", Path(a.data) / "tess")
    for fam in a.families.split(","):
        name = fam + a.tag
        if a.skip_done and name in results["families"]:
            continue
        kw = params.get(fam, {})
        t0 = time.time()
        r: dict = {"params": kw}
        df = rav.split("all")
        X, y = rav.xy("all")
        cv = cross_validate(make_family("speech", fam, **kw), X, y, protocol="folds", folds=df["fold"].tolist(),
                            label_space=rav.label_space, attributes={"gender": df["gender"].tolist()}, progress=True,
                            keep_predictions=a.keep_predictions, speakers=df["speaker"].tolist())
        r["ravdess_8class_6fold"] = _brief(cv)
        if a.keep_predictions:
            r["ravdess_predictions"] = cv["predictions"]
        print(f"{name}: RAVDESS UAR {cv['balanced_accuracy']['mean']:.4f} WA {cv['accuracy']['mean']:.4f} "
              f"F1 {cv['macro_f1']['mean']:.4f} ({time.time() - t0:.0f}s)", flush=True)
        if not a.no_cross:
            dt = tess.split("all")
            Xt, yt = tess.xy("all")
            cvt = cross_validate(make_family("speech", fam, **kw), Xt, yt, protocol="folds", folds=dt["fold"].tolist(),
                                 label_space=tess.label_space, progress=False, speakers=dt["speaker"].tolist())
            r["tess_7class_by_speaker"] = _brief(cvt)
            r["cross_corpus"] = {"ravdess_to_tess": cross_corpus(fam, kw, rav, tess),
                                 "tess_to_ravdess": cross_corpus(fam, kw, tess, rav)}
            print(f"{name}: TESS UAR {cvt['balanced_accuracy']['mean']:.4f}; RAVDESS->TESS UAR "
                  f"{r['cross_corpus']['ravdess_to_tess']['balanced_accuracy']:.4f}; TESS->RAVDESS UAR "
                  f"{r['cross_corpus']['tess_to_ravdess']['balanced_accuracy']:.4f}", flush=True)
        r["seconds"] = round(time.time() - t0, 1)
        results["families"][name] = r
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1, default=to_jsonable))
    print(table(results))


def table(results: dict) -> str:
    rows = ["| family | RAVDESS UAR (6-fold) | WA | macro-F1 | UAR female / male | TESS UAR (by speaker) "
            "| RAVDESS->TESS UAR | TESS->RAVDESS UAR |", "|---|---|---|---|---|---|---|---|"]
    for fam, r in results["families"].items():
        c = r["ravdess_8class_6fold"]
        g = c.get("by_gender", {})
        t = r.get("tess_7class_by_speaker", {}).get("balanced_accuracy", {}).get("mean")
        x = r.get("cross_corpus", {})
        rows.append(f"| {fam} | {c['balanced_accuracy']['mean']:.3f} ± {c['balanced_accuracy']['std']:.3f} "
                    f"| {c['accuracy']['mean']:.3f} | {c['macro_f1']['mean']:.3f} "
                    f"| {g.get('female', {}).get('balanced_accuracy', float('nan')):.3f} / "
                    f"{g.get('male', {}).get('balanced_accuracy', float('nan')):.3f} "
                    f"| {t if t is None else f'{t:.3f}'} "
                    f"| {x.get('ravdess_to_tess', {}).get('balanced_accuracy', '-')} "
                    f"| {x.get('tess_to_ravdess', {}).get('balanced_accuracy', '-')} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
