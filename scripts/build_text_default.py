"""Assemble the bundled default text model from members trained with `affekt train`.

The exact commands (also in src/affekt/models/text-default/MODEL_CARD.md):

    affekt train --dataset goemotions --data-dir DATA/goemotions --model tfidf --output runs/goemotions-tfidf
    affekt train --dataset goemotions --data-dir DATA/goemotions --model finetune -p train_layers=3 -p epochs=2 \
        -p lr=0.00015 -p checkpoint_dir=runs/ft-ckpt --output runs/goemotions-finetune
    affekt train --dataset emobank --data-dir DATA/emobank --model vad -p features=tfidf+lexicon+emotions \
        -p emotion_model=runs/goemotions-finetune --output runs/emobank-vad-emo
    python scripts/build_text_default.py --goemotions DATA/goemotions \
        --members runs/goemotions-tfidf runs/goemotions-finetune --vad runs/emobank-vad-emo
    python scripts/train_text_union.py --data DATA --output runs/text-union-ekman
    python scripts/build_text_default.py --add-view ekman=runs/text-union-ekman --goemotions DATA/goemotions

(The fine-tuned member's manifest, src/affekt/models/text-default/categorical/member_1/affekt.json,
records the parameters it was trained with: train_layers 3, epochs 2, lr 0.00015, max_length 64;
tests/test_figures_provenance.py checks that this docstring and the card say the same.)

The members are combined by soft voting (weights chosen on the GoEmotions dev split) and the
per-label thresholds tuned again on dev; the V/A/D regressor (EmoBank) joins as the dimensional part.
``--add-view ekman=DIR`` then puts a model trained natively in Ekman space on five corpora
(scripts/train_text_union.py) into the built model, leaving its other parts as they are: it answers
whenever Ekman labels are asked for (``--label-space ekman``), blended with the GoEmotions model at the
largest weight that keeps GoEmotions dev Ekman macro-F1 at the GoEmotions model's own
(``choose_view_weight``; with ``--goemotions``).
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
    ap.add_argument("--goemotions")
    ap.add_argument("--members", nargs="+")
    ap.add_argument("--vad")
    ap.add_argument("--add-view", action="append", default=[], metavar="SPACE=DIR",
                    help="put a model trained natively in label space SPACE into the built model (its other parts "
                         "untouched): it answers when SPACE is asked for")
    ap.add_argument("--name", default="text-default")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = Path(a.out) if a.out else bundled_dir() / a.name
    if a.add_view:
        add_views(out, a.add_view, a.name, a.goemotions)
        return
    if not (a.goemotions and a.members and a.vad):
        ap.error("building needs --goemotions, --members and --vad (or --add-view alone)")
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
    card = out / "MODEL_CARD.md"
    keep = card.read_text() if card.exists() else None
    model.save(out)
    if keep:
        card.write_text(keep)
    print(json.dumps({"saved": str(out), "weights": best[1], "dev_macro_f1": best[0]}))


def choose_view_weight(main, view, space: str, goemotions: str) -> tuple[float, dict]:
    """The largest weight for the view (grid of 0.05, 1.0 down to 0.3) whose blend keeps GoEmotions dev
    macro-F1 in ``space`` at least at the main part's own: no in-corpus regression where the main
    part is at home. Scored as ``evaluate`` scores a multi-label view (decisions: the blend's top label
    plus the main part's thresholded ones, as affekt.core.recognizer.BlendedView decides)."""
    import numpy as np

    from affekt.core.labels import get_mapping
    from affekt.evaluation.metrics import classification_metrics

    ds = load_dataset("goemotions", goemotions)
    X, y = ds.xy("dev")
    Pm, Dm, sp = main._proba_and_decisions(X, space)
    Pv, _, sv = view._proba_and_decisions(X, space)
    Pv = Pv[:, [sv.labels.index(lab) for lab in sp.labels]]
    mp = get_mapping(ds.label_space, sp)
    Y = np.zeros((len(y), len(sp.labels)), int)
    for i, labs in enumerate(y):
        for lab in mp.map_labels(labs):
            Y[i, sp.labels.index(lab)] = 1
    keep = Y.sum(1) > 0

    def f1(D, P):
        return classification_metrics(Y[keep], D[keep], P[keep], list(sp.labels), True)["macro_f1"]

    base = f1(np.asarray(Dm), Pm)
    grid = {}
    for w in np.round(np.arange(1.0, 0.299, -0.05), 2):
        P = w * Pv + (1 - w) * Pm
        D = np.asarray(Dm).copy()
        D[np.arange(len(P)), P.argmax(1)] = 1
        grid[float(w)] = round(float(f1(D, P)), 4)
    ok = [w for w, v in grid.items() if v >= round(base, 4)]
    return (max(ok) if ok else min(grid)), {"goemotions_dev_main": round(float(base), 4), "goemotions_dev_blend": grid}


def add_views(out: Path, specs: list[str], name: str, goemotions: str | None) -> None:
    """Save each SPACE=DIR model as ``out/view_SPACE`` and list it in ``out``'s manifest; with
    ``goemotions``, blend it with the main part at the weight :func:`choose_view_weight` gives."""
    mf = out / "affekt.json"
    man = json.loads(mf.read_text())
    main = Recognizer._from_folder(out / man["parts"]["categorical"])
    for spec in specs:
        space, _, folder = spec.partition("=")
        view = Recognizer._from_folder(Path(folder))
        if view.labels_.name.split("-subset")[0] != space:
            raise SystemExit(f"{folder} answers in '{view.labels_.name}', not '{space}'")
        card = dict(view.card_)
        if goemotions:
            w, card["weight_choice"] = choose_view_weight(main, view, space, goemotions)
            man.setdefault("view_weights", {})[space] = w
            print(f"{space}: view weight {w} ({card['weight_choice']})", flush=True)
        view.model_id_ = f"{name}-{space}"
        view.save(out / f"view_{space}")
        man["parts"].setdefault("views", {})[space] = f"view_{space}"
        man["card"].setdefault("views", {})[space] = card
    mf.write_text(json.dumps(man, indent=2, ensure_ascii=False))
    print(json.dumps({"saved": str(out), "views": man["parts"]["views"], "view_weights": man.get("view_weights")}))


if __name__ == "__main__":
    main()
