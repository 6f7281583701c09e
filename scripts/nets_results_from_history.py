"""Keep the CPU-sized cnn/crnn RAVDESS figures with their raw output, from the git history.

The networks' out-of-fold probabilities (runs/nets_cpu.json, from ``speech_nets_cv.py cv``; about
3 hours of a 2-core CPU) were not kept, and ``benchmarks/speech_ensembles.py`` now scores only
pre-registered ensembles. This copies, unchanged, the networks' own scores and those of the two
fixed combinations "the trio + one network" from the previous output of speech_ensembles.py
(commit b82c4ed, which scored every subset) into benchmarks/results/speech_nets_cpu.json, so that
no figure of the docs is left without its raw JSON. Rerun the networks (commands in
docs/results/speech.md) to replace it.

    git show b82c4ed:benchmarks/results/speech_ensembles.json | python scripts/nets_results_from_history.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "benchmarks/results/speech_nets_cpu.json"
NETS = {"cnn": 'cnn{"arch": "cnn", "epochs": 20, "mixup": 0.2, "width": 12}',
        "crnn": 'crnn{"arch": "crnn", "epochs": 20, "mixup": 0.2, "width": 12}'}


def main() -> None:
    old = json.load(sys.stdin)["results"]
    out = {"source": "benchmarks/results/speech_ensembles.json at commit b82c4ed (copied unchanged)",
           "command": "git show b82c4ed:benchmarks/results/speech_ensembles.json | "
                      "python scripts/nets_results_from_history.py",
           "protocol": "ravdess 8 classes, 6 folds of 4 actors; per utterance",
           "configs": {k: json.loads(v[len(k):]) for k, v in NETS.items()},
           "members": {k: old[v] for k, v in NETS.items()},
           "ensembles": {f"logreg + svm + lgbm + {k}": old[f"{v} + lgbm + logreg + svm"] for k, v in NETS.items()}}
    OUT.write_text(json.dumps(out, indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
