"""Assemble the bundled default text model from members trained with `affekt train`.

The exact commands (also in src/affekt/models/text-default/MODEL_CARD.md):

    affekt train --dataset goemotions --data-dir DATA/goemotions --model tfidf --output runs/goemotions-tfidf
    affekt train --dataset goemotions --data-dir DATA/goemotions --model finetune -p train_layers=3 -p epochs=2 \
        -p lr=0.00015 -p checkpoint_dir=runs/ft-ckpt --output runs/goemotions-finetune
    affekt train --dataset emobank --data-dir DATA/emobank --model vad -p features=tfidf+lexicon+emotions \
        -p emotion_model=runs/goemotions-finetune --output runs/emobank-vad-emo
    python scripts/build_text_default.py --goemotions DATA/goemotions \
        --members runs/goemotions-tfidf runs/goemotions-finetune --vad runs/emobank-vad-emo

(The fine-tuned member's manifest, src/affekt/models/text-default/categorical/member_1/affekt.json,
records the parameters it was trained with: train_layers 3, epochs 2, lr 0.00015, max_length 64;
tests/test_figures_provenance.py checks that this docstring and the card say the same.)

The members are combined by soft voting (weights chosen on the GoEmotions dev split) and the
per-label thresholds tuned again on dev; the V/A/D regressor (EmoBank) joins as the dimensional part.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from affekt.core.recognizer import CompositeRecognizer, Recognizer
from affekt.core.registry import bundled_dir
from affekt.datasets import load_dataset
from affekt.evaluation.evaluate import evaluate_classification
from affekt.text.models import EnsembleClassifier


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--goemotions", required=True)
    ap.add_argument("--members", nargs="+", required=True)
    ap.add_argument("--vad", required=True)
    ap.add_argument("--name", default="text-default")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    ds = load_dataset("goemotions", a.goemotions)
    Xd, yd = ds.xy("dev")
    members = [Recognizer._from_folder(Path(p)) for p in a.members]
    # soft-voting weights and per-label thresholds are chosen on the dev split
    ens = EnsembleClassifier(members=members, method="soft", refit=False)
    ens.fit(Xd, yd, X_dev=Xd, y_dev=yd, label_space="goemotions")
    dev_f1 = evaluate_classification(ens, Xd, yd, true_space="goemotions", n_boot=0)["macro_f1"]
    best = (dev_f1, ens.weights_)
    print(f"weights {ens.weights_}: dev macro-F1 {dev_f1:.4f}", flush=True)
    ens.model_id_ = f"{a.name}-categorical"
    vad = Recognizer._from_folder(Path(a.vad))
    model = CompositeRecognizer(categorical=ens, dimensional=vad)
    model.model_id_ = a.name
    model.card_ = {"members": [m.family for m in members], "weights": best[1], "dev_macro_f1": round(best[0], 4),
                   "dimensions": ["valence", "arousal", "dominance"],
                   "data_licence": "GoEmotions CC BY 4.0; EmoBank CC BY-SA 4.0",
                   "metrics": {}}
    out = Path(a.out) if a.out else bundled_dir() / a.name
    card = out / "MODEL_CARD.md"
    keep = card.read_text() if card.exists() else None
    model.save(out)
    if keep:
        card.write_text(keep)
    print(json.dumps({"saved": str(out), "weights": best[1], "dev_macro_f1": best[0]}))


if __name__ == "__main__":
    main()
