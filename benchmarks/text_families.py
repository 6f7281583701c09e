"""Every text family on the same GoEmotions splits (train / dev for thresholds / test), plus the
V/A/D regressor on EmoBank and the default family on CARER: one results table.

    AFFEKT_CACHE=.cache python benchmarks/text_families.py --data ../shared/data/text

Each model is trained with the same code path as `affekt train` (the command is recorded per
row) into runs/<dataset>-<family>; a folder already there is reused (delete it to retrain).
Writes benchmarks/results/text_families.json and docs/results/text.md.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from affekt.core.registry import load_model
from affekt.datasets import load_dataset
from affekt.evaluation.evaluate import evaluate
from affekt.training.pipeline import train

HERE = Path(__file__).parent
ROOT = HERE.parent

# family -> extra parameters (as `affekt train -p key=value`)
GOEMOTIONS_FAMILIES = {
    "lexicon": {},
    "tfidf": {},
    "tfidf-svm": {},
    "tfidf-lexicon": {},
    "encoder": {},
    "encoder-use": {},
    "rnn": {"epochs": 3, "checkpoint_dir": "runs/rnn-ckpt"},
    "finetune": {"train_layers": 3, "epochs": 2, "lr": 0.00015, "checkpoint_dir": "runs/ft-ckpt"},
}
DESCRIPTION = {
    "lexicon": "VADER + NRC lexicon features -> logistic regression",
    "tfidf": "word 1-2 + char 2-5 TF-IDF -> logistic regression",
    "tfidf-svm": "word 1-2 + char 2-5 TF-IDF -> linear SVM",
    "tfidf-lexicon": "TF-IDF + lexicon features -> logistic regression",
    "encoder": "frozen MiniLM-L6 sentence embedding -> logistic regression",
    "encoder-use": "frozen USE-multilingual-v3 embedding -> logistic regression",
    "rnn": "GloVe 6B-50d -> BiLSTM, max+mean pooling",
    "finetune": "MiniLM-L6, top 3 layers fine-tuned",
    "ensemble": "soft voting: tfidf + finetune (weights on dev); the default family",
    "stacking": "stacking: per-label logistic regression over tfidf + finetune probabilities (fit on dev)",
}


def command(dataset: str, family: str, params: dict, name: str | None = None) -> str:
    p = " ".join(f"-p {k}={v}" for k, v in params.items())
    return (f"affekt train --dataset {dataset} --data-dir DATA/{dataset} --model {family} {p} "
            f"--output runs/{dataset}-{name or family}").replace("  ", " ")


def get_model(dataset, ds, family, params, runs: Path, name: str | None = None):
    out = runs / f"{dataset}-{name or family}"
    if not (out / "affekt.json").exists():
        print(f"training {family} on {dataset}...", flush=True)
        train("text", ds, out, family=family, params=params, command=command(dataset, family, params), n_boot=0)
    return load_model(out, cache=False)


def row(model, ds, family, cmd, n_boot) -> dict:
    t = time.perf_counter()
    r = evaluate(model, ds, "test", n_boot=n_boot)
    secs = time.perf_counter() - t
    out = {"family": family, "description": DESCRIPTION.get(family, family), "command": cmd,
           "test_seconds": round(secs, 1)}
    if ds.task == "regression":
        for d in ("valence", "arousal", "dominance"):
            out[f"{d}_pearson_r"] = r[d]["pearson_r"]
            out[f"{d}_ccc"] = r[d]["ccc"]
        return out
    out.update({k: r.get(k) for k in ("macro_f1", "micro_f1", "mAP", "accuracy")})
    out["macro_f1_ci"] = [r["macro_f1_ci"]["ci_low"], r["macro_f1_ci"]["ci_high"]] if "macro_f1_ci" in r else None
    if ds.name == "goemotions":
        out["ekman_macro_f1"] = evaluate(model, ds, "test", label_space="ekman", n_boot=0)["macro_f1"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data/text")
    ap.add_argument("--runs", default=str(ROOT / "runs"))
    ap.add_argument("--families", nargs="*", default=list(GOEMOTIONS_FAMILIES) + ["ensemble", "stacking"])
    ap.add_argument("--n-boot", type=int, default=200)
    ap.add_argument("--merge", action="store_true",
                    help="keep the rows of families not run now from the existing JSON")
    a = ap.parse_args()
    data, runs = Path(a.data), Path(a.runs)
    results = {"goemotions": [], "carer": [], "emobank": []}
    out = HERE / "results" / "text_families.json"
    previous = json.loads(out.read_text()) if a.merge and out.exists() else None
    ge = load_dataset("goemotions", data / "goemotions")
    fitted = {}
    for fam in a.families:
        if fam in GOEMOTIONS_FAMILIES:
            m = get_model("goemotions", ge, fam, GOEMOTIONS_FAMILIES[fam], runs)
            fitted[fam] = m
            results["goemotions"].append(row(m, ge, fam, command("goemotions", fam, GOEMOTIONS_FAMILIES[fam]), a.n_boot))
        elif fam in ("ensemble", "stacking"):
            from affekt.text.models import EnsembleClassifier

            members = [fitted.get(f) or get_model("goemotions", ge, f, GOEMOTIONS_FAMILIES[f], runs)
                       for f in ("tfidf", "finetune")]
            Xtr, ytr = ge.xy("train")
            Xd, yd = ge.xy("dev")
            if fam == "ensemble":  # the bundled default's categorical part
                m = load_model("text-default").categorical_part()
                cmd = "python scripts/build_text_default.py (see its docstring)"
            else:
                m = EnsembleClassifier(members=members, method="stacking", refit=False)
                m.fit(Xtr, ytr, X_dev=Xd, y_dev=yd, label_space="goemotions")
                m.model_id_ = "goemotions-stacking"
                cmd = "EnsembleClassifier(members=[tfidf, finetune], method='stacking', refit=False) in this script"
            results["goemotions"].append(row(m, ge, fam, cmd, a.n_boot))
        print(json.dumps(results["goemotions"][-1] if results["goemotions"] else {}, default=str)[:300], flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))  # partial results survive an interrupted run
    if previous:
        done = {r["family"] for r in results["goemotions"]}
        order = list(GOEMOTIONS_FAMILIES) + ["ensemble", "stacking"]
        results["goemotions"] = sorted([r for r in previous["goemotions"] if r["family"] not in done]
                                       + results["goemotions"], key=lambda r: order.index(r["family"]))
    carer = load_dataset("carer", data / "carer")
    for fam in ("tfidf", "ensemble"):  # ensemble = the default family of `affekt train`
        results["carer"].append(row(get_model("carer", carer, fam, {}, runs), carer, fam,
                                    command("carer", fam, {}), a.n_boot))
    eb = load_dataset("emobank", data / "emobank")
    emo = {"features": "tfidf+lexicon+emotions", "emotion_model": "runs/goemotions-finetune"}
    for name, params in (("vad", {}), ("vad-emo", emo)):  # vad-emo: the bundled default's V/A/D part
        r = row(get_model("emobank", eb, "vad", params, runs, name), eb, name, command("emobank", "vad", params, name),
                a.n_boot)
        results["emobank"].append(r)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    write_table(results, ROOT / "docs" / "results" / "text.md")


def write_table(results: dict, path: Path) -> None:
    f = lambda v: "" if v is None else f"{v:.3f}"  # noqa: E731
    lines = ["# Text results", "",
             "Produced by `AFFEKT_CACHE=.cache python benchmarks/text_families.py --data ../shared/data/text` "
             "(raw numbers: benchmarks/results/text_families.json). All rows use the same splits; multi-label "
             "thresholds are tuned per label on the dev split only.", "",
             "## GoEmotions test (5,427 comments; 28 labels, multi-label)", "",
             "| family | model | macro-F1 [95% CI] | micro-F1 | mAP | Ekman-7 macro-F1 |", "|---|---|---|---|---|---|"]
    for r in results["goemotions"]:
        ci = f" [{r['macro_f1_ci'][0]:.3f}, {r['macro_f1_ci'][1]:.3f}]" if r.get("macro_f1_ci") else ""
        lines.append(f"| {r['family']} | {r['description']} | {f(r['macro_f1'])}{ci} | {f(r['micro_f1'])} | "
                     f"{f(r.get('mAP'))} | {f(r.get('ekman_macro_f1'))} |")
    lines += ["", "## CARER test (2,000 tweets; 6 labels)", "", "| family | model | macro-F1 [95% CI] | accuracy |",
              "|---|---|---|---|"]
    for r in results["carer"]:
        ci = f" [{r['macro_f1_ci'][0]:.3f}, {r['macro_f1_ci'][1]:.3f}]" if r.get("macro_f1_ci") else ""
        desc = "tfidf + finetune (3 top layers, 3 epochs), soft voting" if r["family"] == "ensemble" else r["description"]
        lines.append(f"| {r['family']} | {desc} | {f(r['macro_f1'])}{ci} | {f(r['accuracy'])} |")
    lines += ["", "## EmoBank test (1,000 sentences; V/A/D, 1-5)", "",
              "| family | features | valence r | arousal r | dominance r | valence CCC |", "|---|---|---|---|---|---|"]
    feats = {"vad": "frozen MiniLM embedding + TF-IDF -> ridge",
             "vad-emo": "TF-IDF + lexicons + fine-tuned GoEmotions network (embedding + 28 scores) -> ridge"}
    for r in results["emobank"]:
        lines.append(f"| {r['family']} | {feats.get(r['family'], '')} | {f(r['valence_pearson_r'])} | {f(r['arousal_pearson_r'])} | "
                     f"{f(r['dominance_pearson_r'])} | {f(r['valence_ccc'])} |")
    lines += ["", "## Commands", ""] + [f"- {r['family']} ({ds}): `{r['command']}`"
                                         for ds in results for r in results[ds]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
