"""Train text-default's Ekman view: text-default's own recipe (TF-IDF + fine-tuned MiniLM, soft-voted
0.4 / 0.6) on five corpora at once, in Ekman space, as ``benchmarks/text_loco.py --recipe
tfidf+finetune`` measures it under leave-one-corpus-out (same corpora, same sample, same recipe).

    python scripts/train_text_union.py --data DATA --output runs/text-union-ekman

DATA holds the public layouts goemotions/, carer/, meld/, dailydialog/, semeval2007/. Each corpus gives
its single-label items from every split but its test split, at most 8000, a seeded sample stratified
by label (:func:`affekt.datasets.single_label_union`). The recipe was chosen, and its cross-corpus
figures measured, on held-out corpora (docs/results/generalisation.md); the test splits left out here
give the in-corpus figures beside them (benchmarks/text_default.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from text_loco import CORPORA, make  # noqa: E402  (the recipe as measured)

from affekt.datasets import single_label_union  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/text")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("--recipe", default="tfidf+finetune")
    ap.add_argument("--per-corpus", type=int, default=8000)
    ap.add_argument("--output", required=True)
    a = ap.parse_args(argv)
    t0 = time.time()
    names = [c.strip() for c in a.corpora.split(",") if c.strip()]
    X, y, corpus = single_label_union([(n, Path(a.data) / n) for n in names], "ekman", a.per_corpus,
                                      without_test=True)
    model = make(a.recipe)
    model.fit(X, y, label_space="ekman")
    model.model_id_ = "text-union-ekman"
    counts = {n: corpus.count(n) for n in names}
    model.card_ = {"recipe": a.recipe, "corpora": counts, "label_space": "ekman",
                   "command": "python scripts/train_text_union.py " + " ".join(argv or sys.argv[1:]),
                   "seconds": round(time.time() - t0, 1)}
    model.save(a.output)
    print(json.dumps({"saved": a.output, "items": len(X), "corpora": counts, "seconds": model.card_["seconds"]}))


if __name__ == "__main__":
    main()
