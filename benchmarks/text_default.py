"""Accuracy of a text model (default: the bundled text-default) against the issue's targets.

    python benchmarks/text_default.py --data ../shared/data/text [--model text-default] [--update-card]

Writes benchmarks/results/text_default.json:
- GoEmotions test, 28 labels (macro-F1 target >= 0.48) and the Ekman-7 view (>= 0.62);
- EmoBank test valence/arousal/dominance Pearson r (valence target >= 0.70);
- the test splits of CARER, MELD, DailyDialog and SemEval-2007 in Ekman space, each scored on the
  labels it has (``evaluate(..., label_space="ekman", shared_only=True)``; CARER's love counted as
  happiness; an answer outside the corpus's labels counts as an error). Each row says whether the
  model learnt from that corpus's other splits (text-default's Ekman view does: in-corpus) or not
  (cross-domain). Figures on corpora never trained on: benchmarks/text_loco.py.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from affekt.core.registry import load_model, resolve
from affekt.datasets import load_dataset
from affekt.evaluation.evaluate import evaluate

HERE = Path(__file__).parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/text")
    ap.add_argument("--model", default="text-default")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", default=str(HERE / "results" / "text_default.json"))
    ap.add_argument("--update-card", action="store_true", help="write the headline numbers into the model's manifest")
    a = ap.parse_args()
    data = Path(a.data)
    model = load_model(a.model)
    res: dict = {"model": a.model, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    ge = load_dataset("goemotions", data / "goemotions")
    t = time.time()
    r28 = evaluate(model, ge, "test", n_boot=a.n_boot)
    rek = evaluate(model, ge, "test", label_space="ekman", n_boot=a.n_boot)
    res["goemotions_test_28"] = r28
    res["goemotions_test_ekman"] = rek
    res["goemotions_seconds"] = round(time.time() - t, 1)
    if hasattr(model, "dimensional_part") and model.dimensional_part() is not None:
        res["emobank_test"] = evaluate(model, load_dataset("emobank", data / "emobank"), "test", n_boot=a.n_boot)
    # the Ekman answer's training corpora (text-default's Ekman view records them in its card)
    view_card = ((getattr(model, "card_", None) or {}).get("views") or {}).get("ekman") or {}
    trained_on = set(view_card.get("corpora", {})) | {"goemotions"}
    res["ekman_test"] = {}
    for name in ("carer", "meld", "dailydialog", "semeval2007"):
        ds = load_dataset(name, data / name)
        # only the labels both sides have are scored (the library's shared_only rule)
        r = evaluate(model, ds, "test", label_space="ekman", shared_only=True, n_boot=a.n_boot)
        res["ekman_test"][name] = {"in_corpus": name in trained_on, **r}
    head = {
        "goemotions28_macro_f1": r28["macro_f1"],
        "goemotions28_micro_f1": r28["micro_f1"],
        "goemotions28_mAP": r28.get("mAP"),
        "ekman7_macro_f1": rek["macro_f1"],
    }
    for name, r in res["ekman_test"].items():
        head[f"{name}_ekman_macro_f1"] = r["macro_f1"]
    if "emobank_test" in res:
        for d in ("valence", "arousal", "dominance"):
            head[f"emobank_{d}_pearson_r"] = res["emobank_test"][d]["pearson_r"]
    res["headline"] = head
    res["targets"] = {"goemotions28_macro_f1": 0.48, "ekman7_macro_f1": 0.62, "emobank_valence_pearson_r": 0.70}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print(json.dumps(head, indent=2))
    if a.update_card:
        mf = resolve(a.model) / "affekt.json"
        man = json.loads(mf.read_text())
        man.setdefault("card", {})["metrics"] = {k: round(v, 4) for k, v in head.items() if v is not None}
        man["card"]["metrics_source"] = "python benchmarks/text_default.py --data ../shared/data/text --update-card"
        mf.write_text(json.dumps(man, indent=2))


if __name__ == "__main__":
    main()
