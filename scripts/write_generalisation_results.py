"""docs/results/generalisation.md from benchmarks/results/speech_loco.json (benchmarks/speech_loco.py).

    python scripts/write_generalisation_results.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
speech = ROOT / "benchmarks" / "results" / "speech_loco.json"
S = json.loads(speech.read_text()) if speech.exists() else {}

out = ["# Generalisation: leave-one-corpus-out", "",
       "Written by `scripts/write_generalisation_results.py` from `benchmarks/results/speech_loco.json`.",
       "Every figure is on a corpus the model was not trained on: train on all corpora but one, test on the one",
       "left out, for each corpus in turn (`affekt train --protocol loco`, or `benchmarks/speech_loco.py` for the",
       "same protocol without saving a model). Each held-out corpus is scored on its own labels: the answer is the",
       "top score among the labels that corpus has, and UAR (unweighted average recall, = balanced accuracy) and",
       "macro-F1 average over them. 2-core CPU, no GPU.", "",
       "The corpora (../shared/data/audio, each with a README): RAVDESS (acted, North American English, 24",
       "actors), TESS (acted, 2 Canadian actresses), URDU (unscripted Urdu talk shows, 29 speakers, 4 emotions),",
       "ASED (Amharic, 65 speakers recording where they were, 5 emotions).", ""]
if S:
    out += ["## Speech", "",
            "Targets (issue 13): mean UAR >= 0.50 and no held-out corpus below 0.40.", "",
            "| recipe | mean UAR | mean macro-F1 | worst held-out UAR | " +
            " | ".join(f"{c} UAR" for c in next(iter(S.values()))["by_corpus"]) + " |",
            "|---|---|---|---|" + "---|" * len(next(iter(S.values()))["by_corpus"])]
    for tag, r in S.items():
        out.append(f"| {tag} | {r['mean_uar']:.3f} | {r['mean_macro_f1']:.3f} | {r['worst_uar']:.3f} | " +
                   " | ".join(f"{v['uar']:.3f}" for v in r["by_corpus"].values()) + " |")
    for tag, r in S.items():
        out += ["", f"### {tag}", "", f"`{r['command']}` ({r['seconds'] / 60:.0f} min)", "",
                "| held out | n | labels | UAR | macro-F1 | ECE | UAR by gender |", "|---|---|---|---|---|---|---|"]
        for c, v in r["by_corpus"].items():
            g = ", ".join(f"{k} {x:.3f}" for k, x in v["uar_by_gender"].items())
            out.append(f"| {c} | {v['n']} | {', '.join(v['labels'])} | {v['uar']:.3f} | {v['macro_f1']:.3f} | "
                       f"{v['ece']:.3f} | {g} |")
        chance = {c: 1 / len(v["labels"]) for c, v in r["by_corpus"].items()}
        out += ["", "Chance UAR: " + ", ".join(f"{c} {x:.3f}" for c, x in chance.items()) + ". ECE: expected "
                "calibration error of the top score among the corpus's own labels (15 bins; target <= 0.10)."]
out.append("")
(ROOT / "docs" / "results" / "generalisation.md").write_text("\n".join(out))
print("wrote docs/results/generalisation.md")
