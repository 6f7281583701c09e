"""docs/results/annotation.md from benchmarks/results/annotation.json (benchmarks/annotation.py).

    python scripts/write_annotation_results.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CREMA = {"A": "anger", "D": "disgust", "F": "fear", "H": "happiness", "N": "neutral", "S": "sadness"}


def f(v, nd: int = 3) -> str:
    return "n/a" if v is None else f"{v:.{nd}f}"


def ci(v) -> str:
    return "" if not v or v[0] is None else f" [{v[0]:.3f}, {v[1]:.3f}]"


def pct(v) -> str:
    return f"{100 * v:.1f}%"


def human_reference(modality: str) -> list[str]:
    """The human reference lines of a model card (speech: CREMA-D voice only; face: FER+'s raters on
    FER2013 PrivateTest, and CREMA-D face only), from benchmarks/results/annotation.json."""
    path = ROOT / "benchmarks/results/annotation.json"
    if not path.exists():
        return []
    r = json.loads(path.read_text())
    cond = r["cremad"]["conditions"]["voice" if modality == "speech" else "face"]
    pa, ag = cond["per_answer"], cond["agreement"]
    plur = cond["consensus_vs_intended"]["plurality (ties at random)"]
    sex = cond["by_group"]["Sex"]["answers"]
    what = "from the voice alone" if modality == "speech" else "from the face alone (silent video)"
    lines = ["## Human reference", ""]
    if modality == "face":
        h = r["ferplus"]["privatetest_human_reference"]
        lines += [f"- FER2013 PrivateTest, the same {h['images']:,} images: FER+'s crowd raters (10 per image) agree "
                  f"with FER2013's label on {pct(h['vote_accuracy'])} of their {h['votes']:,} votes"
                  f"{ci(h['vote_accuracy_ci'])}, and their plurality on {pct(h['plurality_accuracy'])}"
                  f"{ci(h['plurality_accuracy_ci'])}: FER2013's labels are noisy, and a single person matches them "
                  "less often than this model does."]
    lines += [f"- CREMA-D ({r['cremad']['clips']:,} clips of {r['cremad']['actors']} actors, 6 emotions, about 10 "
              f"raters per clip {what}): a single rating names the actor's intended emotion "
              f"{pct(pa['accuracy'])}{ci(pa['accuracy_ci'])} of the time (UAR {f(pa['uar'])}; chance 16.7%), the "
              f"plurality of the raters {pct(plur['accuracy'])}; Fleiss' kappa {f(ag['fleiss_kappa'])}. Raters were "
              f"right more often on female actors ({pct(sex['Female']['answer_accuracy'])}) than on male ones "
              f"({pct(sex['Male']['answer_accuracy'])}). "
              + ("The CREMA-D recordings are not available here, so this model has not been scored on the same "
                 "clips; its own figures above are on other corpora and label sets." if modality == "speech" else
                 "CREMA-D's videos are not available here, so this model has not been scored on them."),
              "- Source: docs/results/annotation.md (`python benchmarks/annotation.py`).", ""]
    return lines


def main() -> None:
    r = json.loads((ROOT / "benchmarks/results/annotation.json").read_text())
    sim, cd, fp = r["simulated"], r["cremad"], r["ferplus"]
    L = ["# Annotation: agreement, consensus, bias audits", "",
         f"Written by `scripts/write_annotation_results.py` from `benchmarks/results/annotation.json` "
         f"(`{r['command']}`, {r['seconds']:.0f} s on 2 CPU cores). The commands: `affekt agree`, "
         "`affekt consensus`, `affekt audit`, `affekt train --label-mode` (README, \"Labels, agreement and audits\").",
         "", "## Consensus methods on simulated annotators", "",
         "Each simulated annotator answers through their own confusion matrix (accuracy drawn from 0.6-0.9, errors "
         "spread unevenly over the other labels); spammers answer at random. 1,000 items, 5 annotators, 4 labels "
         "(`affekt.annotation.simulate`).", "",
         "| annotators | plurality (ties at random) | majority (> half) | Dawid-Skene | MACE | GLAD |",
         "|---|---|---|---|---|---|"]
    for name, label in (("honest", "5 honest"), ("spammers", "2 honest + 3 spammers")):
        s = sim[name]
        L.append(f"| {label} | " + " | ".join(
            f"{f(s[m]['accuracy'])}" + (f" (answers {pct(s[m]['coverage'])})" if s[m]["coverage"] < 1 else "")
            for m in ("plurality", "majority", "dawid-skene", "mace", "glad")) + " |")
    h = sim["honest"]["dawid-skene"]
    L += ["", f"- Dawid-Skene recovers the annotators' confusion matrices: mean absolute error "
              f"{h['confusion_mae']:.4f} per cell (target < 0.05).",
          f"- With 3 of 5 annotators spamming, Dawid-Skene is right on {f(sim['spammers']['dawid-skene']['accuracy'])} "
          f"of items against plurality's {f(sim['spammers']['plurality']['accuracy'])} "
          f"(+{100 * sim['spammers']['dawid_skene_gain_over_plurality']:.1f} points); MACE, whose model is exactly "
          f"\"sometimes a spammer\", reaches {f(sim['spammers']['mace']['accuracy'])}. With honest annotators "
          f"Dawid-Skene gains +{100 * sim['honest']['dawid_skene_gain_over_plurality']:.1f} points by weighting "
          "the better ones.", ""]
    L += ["## CREMA-D: the human reference", "",
          f"{cd['clips']:,} clips of {cd['actors']} actors, rated about 10 times in each condition "
          "(`../shared/data/annotations/crema-d`; the clips themselves are not here). *Per answer*: the share of "
          "single ratings that name the actor's intended emotion (the average rater); CIs resample actors, since one "
          "actor's clips are not independent.", "",
          "| condition | Fleiss' kappa | Krippendorff's alpha | percent agreement | per-answer accuracy | per-answer UAR |",
          "|---|---|---|---|---|---|"]
    for cond, c in cd["conditions"].items():
        a = c["agreement"]
        L.append(f"| {cond} | {f(a['fleiss_kappa'])}{ci(a['fleiss_kappa_ci'])} | {f(a['krippendorff_alpha'])} | "
                 f"{f(a['percent_agreement'])} | {f(c['per_answer']['accuracy'])}{ci(c['per_answer']['accuracy_ci'])} | "
                 f"{f(c['per_answer']['uar'])} |")
    L += ["", "CREMA-D's authors report 40.9% (voice), 58.2% (face) and 63.6% (audio-visual) of ratings matching the "
              "intended emotion; the figures above come from their published vote tables.", "",
          "Consensus against the intended emotion (accuracy over all clips; a clip left without a label counts as "
          "wrong; UAR over the 6 emotions):", "",
          "| condition | " + " | ".join(next(iter(cd["conditions"].values()))["consensus_vs_intended"]) + " |",
          "|---|" + "---|" * len(next(iter(cd["conditions"].values()))["consensus_vs_intended"])]
    for cond, c in cd["conditions"].items():
        L.append(f"| {cond} | " + " | ".join(
            f"{f(v['accuracy'])} / UAR {f(v['uar'])}" + (f" ({pct(v['coverage'])} labelled)" if v["coverage"] < 1 else "")
            for v in c["consensus_vs_intended"].values()) + " |")
    L += ["", "Per-label agreement (Fleiss' kappa of \"this emotion or not\"):", "",
          "| condition | " + " | ".join(CREMA.values()) + " |", "|---|" + "---|" * 6]
    for cond, c in cd["conditions"].items():
        L.append(f"| {cond} | " + " | ".join(f(c["agreement"]["per_label"][k]["kappa"]) for k in CREMA) + " |")
    L += ["", "### Human accuracy by actor group", "",
          "Per-answer accuracy by the actor's sex, age band, race and ethnicity (95% CIs resampling actors). "
          "*p*: permutation test of the largest gap in the plurality vote's accuracy, the groups shuffled over "
          "actors (1,000 permutations; groups under 50 clips not compared).", ""]
    for cond, c in cd["conditions"].items():
        L += [f"**{cond}**", "", "| attribute | group: accuracy [CI] (actors) | largest gap (plurality) | p |",
              "|---|---|---|---|"]
        for col, d in c["by_group"].items():
            cells = "; ".join(f"{g}: {f(x['answer_accuracy'])}{ci(x['answer_accuracy_ci'])} ({x['actors']})"
                              for g, x in d["answers"].items())
            pa = d["plurality_audit"].get("accuracy")
            gap = f"{f(pa['gap'])} ({pa['worst_group']} vs {pa['best_group']})" if pa else "n/a"
            L.append(f"| {col} | {cells} | {gap} | {f(pa['p_value']) if pa else 'n/a'} |")
        L.append("")
    c = cd["conditions"]["voice"]
    vs = c["votes_by_sex"]
    L += ["Who was labelled how (voice only): the share of votes for each emotion, by the actor's sex, against the "
          "share of clips intended as it:", "", "| actor | " + " | ".join(CREMA.values()) + " |", "|---|" + "---|" * 6]
    for g, d in vs["groups"].items():
        L.append(f"| {g} (votes) | " + " | ".join(f(d["shares"][k]) for k in CREMA) + " |")
    for g, d in c["intended_by_sex"]["groups"].items():
        L.append(f"| {g} (intended) | " + " | ".join(f(d["shares"][k]) for k in CREMA) + " |")
    if "chi2" in vs:
        L += ["", f"Votes by actor sex: chi-square {vs['chi2']['statistic']:.0f} (dof {vs['chi2']['dof']}), "
                  f"Cramer's V {vs['chi2']['cramers_v']:.3f} (a test over votes, which are not independent within "
                  "a clip: read the size, not the p-value)."]
    L += ["", "## FER+ against FER2013", "",
          f"FER+'s 10 votes per FER2013 image (`../shared/data/images/ferplus`): Fleiss' kappa "
          f"{f(fp['agreement_10']['fleiss_kappa'])}{ci(fp['agreement_10']['fleiss_kappa_ci'])} over its 10 columns "
          f"(8 emotions, unknown, not a face), {f(fp['agreement_8_emotions']['fleiss_kappa'])} over the 8 emotions "
          f"alone; percent agreement {f(fp['agreement_10']['percent_agreement'])}.", "",
          f"FER+'s plurality differs from FER2013's original label on {pct(fp['plurality_differs_from_fer2013'])} of "
          f"the {fp['images']:,} images ({pct(fp['plurality_is_tie'])} are ties, "
          f"{pct(fp['plurality_unknown_or_not_a_face'])} go to unknown or not-a-face):", "",
          "| FER2013 label | images | FER+ plurality differs | where it goes (top 3) |", "|---|---|---|---|"]
    h = fp["privatetest_human_reference"]
    for lab, d in fp["per_fer2013_class"].items():
        top = sorted(d["to"].items(), key=lambda kv: -kv[1])[:3]
        L.append(f"| {lab} | {d['n']:,} | {pct(d['differs'])} | " + ", ".join(f"{k} {pct(v)}" for k, v in top) + " |")
    L += ["", f"On PrivateTest alone ({h['images']:,} images, the split face models report), a single FER+ vote "
              f"names FER2013's label {pct(h['vote_accuracy'])}{ci(h['vote_accuracy_ci'])} of the time and the "
              f"plurality of 10 votes {pct(h['plurality_accuracy'])}{ci(h['plurality_accuracy_ci'])}: the human "
              "reference line for face-default's PrivateTest accuracy (its model card).",
          "", "Per-label agreement over the 10 columns:", "", "| " + " | ".join(fp["agreement_10"]["per_label"]) + " |",
          "|" + "---|" * len(fp["agreement_10"]["per_label"]),
          "| " + " | ".join(f(v["kappa"]) for v in fp["agreement_10"]["per_label"].values()) + " |"]
    if "speech_audit" in r:
        L += ["", "## Audit: speech-default's recipe by gender, on corpora it was not trained on", "",
              "Per-clip predictions of the bundled recipe under leave-one-corpus-out (each corpus scored by a model "
              "trained on the other three; `python benchmarks/speech_loco.py --model logreg -p C=0.03 -p "
              "corpus_norm=true -p features=functionals-floor -p augment=noise,babble,mp3,telephone,reverb,gain --tag "
              "logreg-C0.03+corpus_norm+functionals-floor+augment+gain --predictions "
              "benchmarks/results/speech_loco_predictions.csv.gz`; per-clip mean UAR "
              f"{sum(d['overall']['uar'] for d in r['speech_audit'].values()) / len(r['speech_audit']):.3f}, as in "
              "docs/results/generalisation.md). CIs resample speakers; *p*: permutation test of the gap with gender "
              "shuffled over speakers.", "",
              "| held-out corpus | female UAR [CI] (speakers) | male UAR [CI] (speakers) | gap | p |", "|---|---|---|---|---|"]
        for corpus, d in r["speech_audit"].items():
            def cell(g):
                x = d["groups"].get(g)
                return "none" if x is None else f"{f(x['uar'])}{ci(x['uar_ci'])} ({x['clusters']}; {x['n']} clips)"
            u = d.get("uar")
            L.append(f"| {corpus} | {cell('female')} | {cell('male')} | {f(u['gap']) if u else 'n/a'} | "
                     f"{f(u['p_value']) if u else 'n/a (one gender)'} |")
        L += ["", "The same audit on any labelled data with a group column: `affekt audit --model speech-default "
                  "--dataset ravdess --data-dir ../shared/data/audio/ravdess --group-by gender --label-space ekman "
                  "--shared-only --report out/` (RAVDESS is in speech-default's training data, so that audit "
                  "measures fit, not generalisation).", "",
              "**face-default** cannot be audited by demographic group here: FER2013 and FER+ record nothing about "
              "the people in them (see docs/ethics.md). `affekt audit --model face-default --dataset csv "
              "--data-dir faces.csv --group-by COL` audits it on a user's own labelled faces with group columns."]
    if "face_audit" in r:
        fa = r["face_audit"]
        L += ["", "## Audit: face-default by image condition", "",
              f"The nearest audit the data allow: FER2013 PrivateTest ({fa['images']:,} images, `--whole-image`) in "
              "thirds by the image's mean grey level (brightness) and its standard deviation (contrast), what "
              "lighting, cameras and skin tone change. Not a demographic audit. CIs resample images; *p*: "
              "permutation test of the largest gap.", "",
              "| condition | third: accuracy [CI] / UAR [CI] | largest UAR gap | p |", "|---|---|---|---|"]
        for name in ("brightness", "contrast"):
            d = fa[name]
            cells = "; ".join(f"{g}: {f(x['accuracy'])}{ci(x['accuracy_ci'])} / {f(x['uar'])}{ci(x['uar_ci'])}"
                              for g, x in d["groups"].items())
            u = d.get("uar")
            L.append(f"| {name} | {cells} | {f(u['gap']) if u else 'n/a'} ({u['worst_group']} vs {u['best_group']}) | "
                     f"{f(u['p_value']) if u else 'n/a'} |")
    out = ROOT / "docs/results/annotation.md"
    out.write_text("\n".join(L) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
