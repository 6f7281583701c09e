"""Soft-voting ensembles of speech families on RAVDESS (8 classes, 6 folds of 4 actors), from
the out-of-fold probabilities that ``speech_families.py --keep-predictions`` (functionals
families) and ``speech_nets_cv.py cv`` (networks) store.

Every member was fitted on the same training folds, so the equal-weight mean of their
out-of-fold probabilities is exactly what ``SpeechEnsemble`` (family ``ensemble``) predicts for
those folds. Metrics come from the same ``cross_validate`` code as every other figure.

Only **pre-registered** ensembles are scored: the ones named with ``--ensemble`` before any is
scored (default: logreg + svm + lgbm, the recipe of the bundled ``speech-default``). No subset of
members is chosen by its score on these folds: picking the best of many subsets on the folds
that also report it would overstate what a new speaker gets.

    AFFEKT_CACHE=.cache python benchmarks/speech_families.py --data ../shared/data/audio \
        --families logreg,svm,lgbm --keep-predictions --no-cross --out runs/speech_functionals.json
    python benchmarks/speech_ensembles.py --families runs/speech_functionals.json \
        --data ../shared/data/audio/ravdess --out benchmarks/results/speech_ensembles.json

Members are family names as ``speech_families.py`` stored them, without ``--tag`` (``--tag
+spknorm`` reads ``logreg+spknorm`` for ``logreg``); a network from ``--nets`` is named by its
``arch`` (cnn, crnn) when the file holds one configuration of it. ``--ensemble
logreg,svm,lgbm,cnn`` adds a network to the trio.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

PREREGISTERED = "logreg,svm,lgbm"  # the speech-default recipe, fixed before any ensemble was scored


def member_tables(families: str, nets: str | None, n: int, tag: str = "", ravdess_labels=None) -> dict:
    """{member name: (out-of-fold probabilities (n, n_labels), labels)}."""
    from speech_nets_cv import oof_tables

    tables: dict = {}
    for fam, r in json.loads(Path(families).read_text())["families"].items():
        pr = r.get("ravdess_predictions")
        if not pr or fam.startswith("ensemble") or not fam.endswith(tag):
            continue  # ensembles are results, not members
        M = np.zeros((n, len(pr["labels"])))
        M[pr["index"]] = np.asarray(pr["scores"])
        tables[fam[: len(fam) - len(tag)] if tag else fam] = (M, pr["labels"])
    if nets:
        if ravdess_labels is not None and json.loads(Path(nets).read_text())["labels"] != ravdess_labels:
            raise SystemExit(f"{nets} was exported from a different RAVDESS file list")
        by_arch: dict = {}
        for cfg, (M, labels) in oof_tables(nets).items():
            by_arch.setdefault(json.loads(cfg).get("arch", "cnn"), []).append((cfg, M, labels))
        for arch, runs in by_arch.items():
            for cfg, M, labels in runs:
                tables[arch if len(runs) == 1 else f"{arch}{cfg}"] = (M, labels)
    return tables


def main() -> None:
    from speech_nets_cv import score_table

    from affekt.datasets import load_dataset

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", required=True, help="a speech_families.py --keep-predictions output")
    ap.add_argument("--nets", help="a speech_nets_cv.py cv output")
    ap.add_argument("--tag", default="", help="the --tag of the speech_families.py run (e.g. +spknorm)")
    ap.add_argument("--ensemble", action="append", default=None,
                    help=f"members of one pre-registered ensemble, comma-separated (repeatable; default {PREREGISTERED})")
    ap.add_argument("--data", default="../shared/data/audio/ravdess")
    ap.add_argument("--out", default="benchmarks/results/speech_ensembles.json")
    a = ap.parse_args()
    ensembles = [tuple(m.strip() for m in e.split(",") if m.strip()) for e in (a.ensemble or [PREREGISTERED])]
    df = load_dataset("ravdess", a.data).split("all")
    meta = {"labels": [labs[0] for labs in df["labels"]], "folds": df["fold"].tolist(),
            "gender": df["gender"].tolist(), "label_space": "ravdess"}
    tables = member_tables(a.families, a.nets, len(df), a.tag, meta["labels"])
    missing = sorted({m for e in ensembles for m in e} - set(tables))
    if missing:
        raise SystemExit(f"no out-of-fold predictions for {', '.join(missing)} (have: {', '.join(sorted(tables))})")
    members = {m: score_table(tables[m][0], tables[m][1], meta) for m in sorted({m for e in ensembles for m in e})}
    results = {}
    for e in ensembles:
        labels = tables[e[0]][1]
        if any(tables[m][1] != labels for m in e):
            raise SystemExit(f"ensemble {' + '.join(e)}: its members have different label lists")
        results[" + ".join(e)] = score_table(sum(tables[m][0] for m in e) / len(e), labels, meta)
    for name, r in list(results.items()) + [(f"{m} (alone)", r) for m, r in members.items()]:
        g = r.get("by_gender", {})
        print(f"UAR {r['balanced_accuracy']['mean']:.4f} ± {r['balanced_accuracy']['std']:.4f}  WA {r['accuracy']['mean']:.4f}"
              f"  F1 {r['macro_f1']['mean']:.4f}  f/m {g.get('female', {}).get('balanced_accuracy', 0):.3f}/"
              f"{g.get('male', {}).get('balanced_accuracy', 0):.3f}  {name}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({
        "protocol": "ravdess 8 classes, 6 folds of 4 actors; per utterance" if not a.tag else
                    f"ravdess 8 classes, 6 folds of 4 actors; members run with tag {a.tag}",
        "selection": "pre-registered: the ensembles were named before scoring (--ensemble); no subset is "
                     "chosen by its score on these folds",
        "command": "python benchmarks/speech_ensembles.py " + " ".join(sys.argv[1:]),
        "ensembles": results, "members": members}, indent=1))


if __name__ == "__main__":
    main()
