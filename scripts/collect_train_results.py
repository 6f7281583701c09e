"""Commit the raw output of an `affekt train` run: its results.json, with the exact command (from
the saved model's manifest) and the model's card metrics, into benchmarks/results/.

    python scripts/collect_train_results.py runs/speech-logo-logreg benchmarks/results/speech_logo_logreg.json
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: collect_train_results.py RUN_FOLDER OUT.json")
    run, out = Path(sys.argv[1]), Path(sys.argv[2])
    manifest = json.loads((run / "affekt.json").read_text())
    results = json.loads((run / "results.json").read_text())
    card = manifest.get("card", {})
    doc = {"command": card.get("command"), "family": manifest.get("family"), "params": card.get("params"),
           "card_metrics": card.get("metrics"), **results}
    out.write_text(json.dumps(doc, indent=1))
    print(f"wrote {out}: {doc['command']}")


if __name__ == "__main__":
    main()
