"""Soft-voting ensembles of speech families on RAVDESS (8 classes, 6 folds of 4 actors), from
the out-of-fold probabilities that ``speech_families.py --keep-predictions`` (functionals
families) and ``speech_nets_cv.py cv`` (networks) store.

Every member was fitted on the same training folds, so the equal-weight mean of their
out-of-fold probabilities is exactly what ``SpeechEnsemble`` (family ``ensemble``) predicts for
those folds. Metrics come from the same ``cross_validate`` code as every other figure.

    AFFEKT_CACHE=.cache python benchmarks/speech_families.py --families logreg,svm,rf,lgbm \
        --keep-predictions --out runs/speech_functionals.json
    python benchmarks/speech_ensembles.py --families runs/speech_functionals.json [--nets runs/nets_cpu.json] \
        --data ../shared/data/audio/ravdess --out benchmarks/results/speech_ensembles.json
"""
from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    from speech_nets_cv import oof_tables, score_table

    from affekt.datasets import load_dataset

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", required=True)
    ap.add_argument("--nets")
    ap.add_argument("--data", default="../shared/data/audio/ravdess")
    ap.add_argument("--max-members", type=int, default=4)
    ap.add_argument("--out", default="benchmarks/results/speech_ensembles.json")
    a = ap.parse_args()
    df = load_dataset("ravdess", a.data).split("all")
    meta = {"labels": [labs[0] for labs in df["labels"]], "folds": df["fold"].tolist(),
            "gender": df["gender"].tolist(), "label_space": "ravdess"}
    tables: dict = {}
    for fam, r in json.loads(Path(a.families).read_text())["families"].items():
        pr = r.get("ravdess_predictions")
        if pr and not fam.startswith("ensemble"):  # ensembles are results, not members
            M = np.zeros((len(df), len(pr["labels"])))
            M[pr["index"]] = np.asarray(pr["scores"])
            tables[fam] = (M, pr["labels"])
    if a.nets:
        if json.loads(Path(a.nets).read_text())["labels"] != meta["labels"]:
            raise SystemExit(f"{a.nets} was exported from a different RAVDESS file list")
        for cfg, (M, labels) in oof_tables(a.nets).items():
            c = json.loads(cfg)
            tables[f"{c.get('arch', 'cnn')}{json.dumps(c, sort_keys=True)}"] = (M, labels)
    results = {}
    for k in range(1, min(a.max_members, len(tables)) + 1):
        for combo in itertools.combinations(sorted(tables), k):
            labels = tables[combo[0]][1]
            if any(tables[c][1] != labels for c in combo):
                continue
            results[" + ".join(combo)] = score_table(sum(tables[c][0] for c in combo) / k, labels, meta)
    rows = sorted(results.items(), key=lambda kv: -kv[1]["balanced_accuracy"]["mean"])
    for name, r in rows[:15]:
        g = r.get("by_gender", {})
        print(f"UAR {r['balanced_accuracy']['mean']:.4f} ± {r['balanced_accuracy']['std']:.4f}  WA {r['accuracy']['mean']:.4f}"
              f"  F1 {r['macro_f1']['mean']:.4f}  f/m {g.get('female', {}).get('balanced_accuracy', 0):.3f}/"
              f"{g.get('male', {}).get('balanced_accuracy', 0):.3f}  {name}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"protocol": "ravdess 8 classes, 6 folds of 4 actors", "results": dict(rows)}, indent=1))


if __name__ == "__main__":
    main()
