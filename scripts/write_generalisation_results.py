"""docs/results/generalisation.md from benchmarks/results/speech_loco.json (benchmarks/speech_loco.py),
speech_adapt_batches.json (benchmarks/speech_adapt_batches.py) and text_loco.json (benchmarks/text_loco.py).

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
    base = S.get("speech-default-recipe")
    if base:
        def delta(tag):
            r = S.get(tag)
            if not r:
                return None
            return ", ".join(f"{c} {100 * (v['uar'] - base['by_corpus'][c]['uar']):+.1f}" for c, v in r["by_corpus"].items())
        notes = []
        if delta("speech-default-recipe+speaker_norm"):
            notes.append("- **Speaker normalisation** (`-p speaker_norm=true`: each speaker's clips taken relative to that "
                         "speaker's mean, in training and in the held-out corpus) changes UAR by "
                         f"{delta('speech-default-recipe+speaker_norm')} points. It helps where every speaker "
                         "recorded several emotions (acted corpora) and hurts URDU, where most clips come from a "
                         "speaker heard in a single emotion (talk-show guests; see the speaker x label table of its "
                         "metadata.csv): subtracting such a speaker's mean subtracts the emotion. Not kept as a default; an opt-in for sets where each speaker spans "
                         "emotions.")
        if delta("speech-default-recipe+corpus_norm"):
            notes.append("- **Corpus normalisation** (`-p speaker_norm=true` grouped by corpus, `benchmarks/speech_loco.py "
                         "--norm-by corpus`: each training corpus's features taken relative to its own mean, and the "
                         "held-out corpus relative to its own; unsupervised adaptation to a new set of recordings, which "
                         "needs that set's unlabelled clips at once) changes UAR by "
                         f"{delta('speech-default-recipe+corpus_norm')} points: a gain on every corpus, the best lever so "
                         "far. It cannot be the default of a one-file prediction (the answer would depend on the other "
                         "files); it is what an opt-in `--adapt` is to build on.")
        if delta("speech-default-recipe+functionals-cms"):
            notes.append("- **Channel normalisation** (`-p features=functionals-cms`: DC and rumble removed, cepstral mean "
                         f"subtraction) changes UAR by {delta('speech-default-recipe+functionals-cms')} points: the "
                         "utterance's mean spectrum carries emotion (vocal effort, tilt) as well as the microphone, and "
                         "removing it loses more than it gains here. Not kept.")
        cn = "logreg-C0.03+corpus_norm+adapt"
        if delta(cn):
            notes.append("- **Corpus standardisation with `--adapt`** (`-p corpus_norm=true`: each training corpus's "
                         "features standardised by its own mean and standard deviation; `--adapt`: the held-out corpus by "
                         "its own) with a strongly regularised logistic regression (`-p C=0.03`, i.e. sklearn C = 0.0003, "
                         "chosen under LOCO: the weaker the regularisation, the more the model learns the training "
                         f"corpora's particulars) changes UAR by {delta(cn)} points. Without `--adapt` the same model "
                         "(each clip standardised by the typical training corpus's statistics, so its answer depends on "
                         "that clip alone) reaches "
                         + (f"{S['logreg-C0.03+corpus_norm']['mean_uar']:.3f}" if "logreg-C0.03+corpus_norm" in S else "n/a")
                         + " mean UAR, no better than the starting point: the gain is the adaptation's.")
        eg = "logreg+logreg-egemaps+corpus_norm+adapt"
        if delta(eg):
            notes.append("- **+ eGeMAPS** (a second logistic regression on openSMILE's eGeMAPS v02 functionals, the "
                         "feature set designed for cross-corpus work; equal-weight soft vote) changes UAR by "
                         f"{delta(eg)} points against the starting point: the best recipe measured, "
                         f"mean {S[eg]['mean_uar']:.3f}, worst {S[eg]['worst_uar']:.3f}, mean ECE {S[eg]['mean_ece']:.3f} "
                         "without any scaling. openSMILE's licence is research / non-commercial, so this recipe stays "
                         "an opt-in (`pip install 'affekt[opensmile]'`), not a bundled default.")
        au, na = "logreg-C0.03+corpus_norm+augment", "logreg-C0.03+corpus_norm"
        if au in S and na in S:
            aa = S.get("logreg-C0.03+corpus_norm+augment+adapt")
            notes.append("- **Augmentation** (`-p augment=noise,babble,mp3,telephone,reverb`: every training clip adds one "
                         "copy per kind, see `affekt.speech.augment`) lifts the same logreg's per-clip LOCO (no adaptation) "
                         f"from {S[na]['mean_uar']:.3f} to {S[au]['mean_uar']:.3f} mean UAR (per corpus "
                         + ", ".join(f"{c} {100 * (v['uar'] - S[na]['by_corpus'][c]['uar']):+.1f}" for c, v in S[au]['by_corpus'].items())
                         + " points): all of the gain is on URDU, the corpus recorded over many broadcast channels, and "
                         "the acted studio corpora lose a little. It is the best mean a single clip gets so far (the "
                         "starting point: " + f"{base['mean_uar']:.3f})"
                         + (f"; with `--adapt` it changes nothing ({aa['mean_uar']:.3f} against "
                            f"{S['logreg-C0.03+corpus_norm+adapt']['mean_uar']:.3f}): adaptation already removes what the "
                            "copies teach the model to ignore." if aa and "logreg-C0.03+corpus_norm+adapt" in S else "."))
        fl = "logreg-C0.03+corpus_norm+functionals-floor"
        if fl in S and na in S:
            notes.append("- **A noise floor** (`-p features=functionals-floor`: white noise 40 dB under the speech level added "
                         "before the functionals, so that spectral regions a studio left silent or a codec zeroed read the "
                         f"same) changes the per-clip LOCO from {S[na]['mean_uar']:.3f} to {S[fl]['mean_uar']:.3f}; its "
                         "purpose is the MP3 robustness below.")
        cb, bt0 = "logreg-C0.03+corpus_norm+functionals-floor+augment+corpus_balance", "logreg-C0.03+corpus_norm+functionals-floor+augment"
        if cb in S and bt0 in S:
            notes.append("- **Corpus-balanced training** (`-p corpus_balance=true`: sample weights so that every training "
                         "corpus weighs the same, however many clips it has; classes stay balanced within) changes the "
                         f"bundled recipe's per-clip LOCO from {S[bt0]['mean_uar']:.3f} to {S[cb]['mean_uar']:.3f} (per corpus "
                         + ", ".join(f"{c} {100 * (v['uar'] - S[bt0]['by_corpus'][c]['uar']):+.1f}" for c, v in S[cb]['by_corpus'].items())
                         + " points): every held-out corpus loses when the small corpora (URDU 400 and ASED 538 clips) "
                         "count as much as TESS's 1,820. Not kept; an opt-in.")
        if notes:
            out += ["", "What each lever does against the starting point (the previous speech-default recipe: soft voting of "
                    "logreg, svm and lgbm on RAVDESS + TESS):", ""] + notes
        bt = "logreg-C0.03+corpus_norm+functionals-floor+augment+gain"
        if bt in S:
            out += ["", f"**The bundled speech-default** is now `{bt}` (logreg, `-p C=0.03 -p corpus_norm=true -p "
                    "features=functionals-floor -p augment=noise,babble,mp3,telephone,reverb,gain`, trained on all four "
                    "corpora; the gain copies since session 10, see below): "
                    f"per clip, mean UAR {S[bt]['mean_uar']:.3f} (worst {S[bt]['worst_uar']:.3f}) against "
                    f"{base['mean_uar']:.3f} ({base['worst_uar']:.3f}) for the previous recipe, and the channel robustness "
                    "below; an ensemble with LightGBM on the same inputs fell to "
                    + (f"{S['logreg+lgbm+corpus_norm+functionals-floor+augment']['mean_uar']:.3f}"
                       if "logreg+lgbm+corpus_norm+functionals-floor+augment" in S else "n/a")
                    + " (boosted trees learn the training corpora's particulars). Its card: "
                    "src/affekt/models/speech-default/MODEL_CARD.md."]
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
    ts = {tag: r["temperature_scaling"] for tag, r in S.items() if r.get("temperature_scaling")}
    if ts:
        out += ["", "### Calibration: temperature scaling under LOCO", "",
                "For each held-out corpus one temperature is fitted (log-loss) on the other held-out corpora's scores and",
                "applied to this one's. No label of the corpus scored enters its temperature, though the other corpora's",
                "scores come from models that were trained on it. ECE of the top score, 15 bins (target <= 0.10):", "",
                "| recipe | " + " | ".join(f"{c}: T, ECE before -> after" for c in next(iter(ts.values())) if c not in ("all", "mean_ece_after")) +
                " | mean ECE after | T fitted on all |",
                "|---|" + "---|" * (len(next(iter(ts.values()))) - 2) + "---|---|"]
        for tag, d in ts.items():
            cells = [f"{v['temperature']:.2f}, {v['ece_before']:.3f} -> {v['ece_after']:.3f}" for c, v in d.items()
                     if c not in ("all", "mean_ece_after")]
            out.append(f"| {tag} | " + " | ".join(cells) + f" | {d['mean_ece_after']:.3f} | {d['all']['temperature']:.2f} |")
    ab = {tag: r["abstaining"] for tag, r in S.items() if r.get("abstaining")}
    if ab:
        tag = "speech-default-recipe" if "speech-default-recipe" in ab else next(iter(ab))
        A = ab[tag]
        ts = list(next(iter(A.values())))
        out += ["", f"### Abstaining ({tag})", "",
                "`--abstain-below T` answers \"uncertain\" where the top score is under T. Per held-out corpus, the share",
                "of clips answered and the accuracy on them (top score among the corpus's own labels):", "",
                "| held out | " + " | ".join(f"T={t}" for t in ts) + " |", "|---|" + "---|" * len(ts)]
        for c, d in A.items():
            out.append(f"| {c} | " + " | ".join(
                f"{v['coverage']:.0%} answered, {v['accuracy']:.3f}" if v["accuracy"] is not None else "none answered"
                for v in d.values()) + " |")
ad = ROOT / "benchmarks" / "results" / "speech_adapt_batches.json"
if ad.exists():
    A = json.loads(ad.read_text())
    cols = [k for k in next(iter(A["by_corpus"].values())) if k == "each_on_its_own" or k.startswith("batches_of") or k == "all"]
    out += ["", "### When `--adapt` helps: batch size and mix of emotions", "",
            f"`{A['command']}`: under LOCO, the held-out corpus scored in random batches, each batch adapted to by its "
            f"own statistics (as `affekt predict --adapt` over a folder of that size), UAR over the corpus (mean of "
            f"{A['repeats']} random batchings):", "",
            "| held out | " + " | ".join(c.replace("_", " ") for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for c, r in A["by_corpus"].items():
        out.append(f"| {c} | " + " | ".join(f"{r[k]:.3f}" for k in cols) + " |")
    hdr_labels = sorted({lab for r in A["by_corpus"].values() for lab in r["skewed_50_70pct_one_emotion"]})
    out += ["", "Batches of 50 clips, 70% of them one emotion (accuracy on the batch, adapted vs each clip on its own):", "",
            "| held out | " + " | ".join(f"mostly {lab}" for lab in hdr_labels) + " |", "|---|" + "---|" * len(hdr_labels)]
    for c, r in A["by_corpus"].items():
        sk = r["skewed_50_70pct_one_emotion"]
        out.append(f"| {c} | " + " | ".join(
            f"{sk[lab]['accuracy_adapted']:.2f} vs {sk[lab]['accuracy_on_its_own']:.2f}" if lab in sk else "" for lab in hdr_labels) + " |")
    out += ["", "Adaptation standardises a batch by its own mean and spread; it helps when the batch is a mix of "
            "emotions from one set-up (a call centre's recordings, a study's sessions), and misleads when the batch is "
            "mostly one emotion (its mean is then that emotion, and is taken away). Below 20 clips `--adapt` is not "
            "applied (a warning says so) and each clip is scored on its own."]
rb = ROOT / "benchmarks" / "results" / "speech_robustness.json"
if rb.exists():
    B = json.loads(rb.read_text())
    first = next(iter(B.values()))
    vs = list(first["variants"])
    out += ["", "### Robustness to the channel (held-out RAVDESS folds)", "",
            f"`benchmarks/speech_robustness.py`: {first['folds']}, train on 5 and test on the 6th, each in turn; the test "
            f"clips clean, after an MP3 round trip at {first['mp3_kbps']} kbps, with white noise and with babble (6 TESS "
            f"voices) at {first['snr_db']:.0f} dB SNR. Target: accuracy within 5 points of clean.", "",
            "| recipe | " + " | ".join(f"{v.replace('_', ' ')} accuracy (drop)" for v in vs) + " | UAR clean / mp3 / white / babble | within 5 points |",
            "|---|" + "---|" * len(vs) + "---|---|"]
    for tag, r in B.items():
        v = r["variants"]
        out.append(f"| {tag} | " + " | ".join(f"{v[k]['accuracy']:.3f} ({-v[k]['accuracy_drop_points']:+.1f})" for k in vs) +
                   " | " + " / ".join(f"{v[k]['uar']:.3f}" for k in vs) + f" | {'yes' if r['within_5_points'] else 'no'} |")
    out += ["", "Commands: " + "; ".join(f"`{r['command']}` ({r['seconds'] / 60:.0f} min)" for r in B.values()) + "."]
    g0, g1 = "logreg-C0.03+corpus_norm+functionals-floor+augment", "logreg-C0.03+corpus_norm+functionals-floor+augment+gain"
    SL = json.loads((ROOT / "benchmarks" / "results" / "speech_loco.json").read_text())
    if g0 in B and g1 in B and g1 in SL and g0 in SL:
        def drops(r):
            return " / ".join(f"{r['variants'][k]['accuracy_drop_points']:.1f}" for k in vs if k != "clean")
        out += ["", f"**Gain augmentation** (`-p augment=noise,babble,mp3,telephone,reverb,gain`: each training clip also "
                "a copy 20 dB quieter to 10 dB louder, clipped at full scale) on the bundled recipe: held-out RAVDESS "
                f"accuracy clean {B[g1]['variants']['clean']['accuracy']:.3f}, drops (MP3 / white / babble) {drops(B[g1])} "
                f"points against {drops(B[g0])} ({'within' if B[g1]['within_5_points'] else 'not within'} 5 points); "
                f"per-clip LOCO mean UAR {SL[g1]['mean_uar']:.3f} (worst {SL[g1]['worst_uar']:.3f}) against "
                f"{SL[g0]['mean_uar']:.3f} ({SL[g0]['worst_uar']:.3f}) as measured before (rerun in session 10, the "
                "recipe without gain gave 0.403 / 0.303: the two are level). Kept: speech-default is trained with it "
                "since session 10."]
X = ROOT / "benchmarks" / "results" / "text_loco.json"
if X.exists():
    T = json.loads(X.read_text())
    first = next(iter(T.values()))
    names = first["corpora"]
    out += ["", "## Text", "",
            "Targets (issue 13): mean held-out macro-F1 at least 0.08 above today's text-default recipe, and no held-out",
            "corpus below 0.35. `benchmarks/text_loco.py` (see its docstring): GoEmotions (Reddit), CARER (tweets), MELD",
            "(TV dialogue), DailyDialog (conversation), SemEval-2007 (headlines, top-scoring emotion or neutral under 50),",
            f"in Ekman space, single-label items only, each corpus a stratified sample of at most {first['per_corpus']}",
            "items (so the corpora weigh about the same in training). `bundled` is today's text-default recipe, the",
            "issue's baseline: text-default's GoEmotions-28 model (trained on GoEmotions alone; its GoEmotions figure is",
            "in-corpus and left out of its mean) read in Ekman space. ECE: of the top score among the corpus's own",
            "labels, 15 bins, no scaling, mean over the held-out corpora (recorded since session 11).", "",
            "| recipe | mean macro-F1 (held out) | mean without GoEmotions | worst | mean UAR | mean ECE | " +
            " | ".join(f"{c} macro-F1" for c in names) + " |",
            "|---|---|---|---|---|---|" + "---|" * len(names)]
    order = ["bundled"] + [t for t in T if t != "bundled"] if "bundled" in T else list(T)
    for tag in order:
        r = T[tag]
        out.append(f"| {tag} | {r['mean_macro_f1']:.3f} | {r['mean_macro_f1_without_goemotions']:.3f} | "
                   f"{r['worst_macro_f1']:.3f} | {r['mean_uar']:.3f} | "
                   + (f"{r['mean_ece']:.3f}" if "mean_ece" in r else "") + " | " + " | ".join(
            (f"{r['by_corpus'][c]['macro_f1']:.3f}" + ("" if r["by_corpus"][c]["held_out"] else " (in-corpus)"))
            if c in r["by_corpus"] else "" for c in names) + " |")
    def against_bundled(f, b):
        """The held-out corpora (GoEmotions aside) and the mean macro-F1 gain over the GoEmotions-only model."""
        return ([c for c in f["by_corpus"] if c != "goemotions"],
                f["mean_macro_f1_without_goemotions"] - b["mean_macro_f1_without_goemotions"])

    notes = []
    if "bundled" in T and "tfidf+encoder" in T:
        b, e = T["bundled"], T["tfidf+encoder"]
        notes.append(f"- **Multi-corpus training** (every recipe here trains on four corpora) with TF-IDF and frozen MiniLM "
                     f"embeddings, soft-voted: mean held-out macro-F1 without GoEmotions {e['mean_macro_f1_without_goemotions']:.3f} "
                     f"against {b['mean_macro_f1_without_goemotions']:.3f} for the GoEmotions-only model (`bundled`) on the same "
                     f"four corpora: {e['mean_macro_f1_without_goemotions'] - b['mean_macro_f1_without_goemotions']:+.3f}, "
                     "short of the +0.08 the issue asks. Neither half alone beats the shipped model; together they do.")
    if "bundled" in T and "tfidf+finetune" in T:
        b, f = T["bundled"], T["tfidf+finetune"]
        held, gain = against_bundled(f, b)
        notes.append(f"- **Fine-tuning the encoder on the union** (text-default's own recipe, TF-IDF + MiniLM with its top 3 "
                     f"layers fine-tuned, soft-voted 0.4 / 0.6, trained on four corpora): mean held-out macro-F1 without "
                     f"GoEmotions {f['mean_macro_f1_without_goemotions']:.3f} against {b['mean_macro_f1_without_goemotions']:.3f}: "
                     f"{gain:+.3f} ({'meets' if gain >= 0.08 else 'short of'} the +0.08); per held-out corpus ("
                     + ", ".join(f"{c} {f['by_corpus'][c]['macro_f1'] - b['by_corpus'][c]['macro_f1']:+.3f}" for c in held)
                     + f"), worst {min(f['by_corpus'][c]['macro_f1'] for c in held):.3f} (target none under 0.35)"
                     + (f"; held-out ECE {f['mean_ece']:.3f} without any scaling (target <= 0.10 after scaling)"
                        if "mean_ece" in f else "") + ". The best recipe measured: since session 11 it is text-default's "
                     "Ekman view (`--label-space ekman`), trained on all five corpora by scripts/train_text_union.py.")
    for tag in [t for t in T if t.startswith("tfidf+finetune+bundled@")]:
        f, b = T[tag], T.get("bundled")
        if b:
            held, gain = against_bundled(f, b)
            notes.append(f"- **text-default's Ekman answer** (`{tag}`: the five-corpus recipe's held-out scores x "
                         f"{f['weight']:g} + the GoEmotions-only model's x {1 - f['weight']:.1f}, the weight that keeps "
                         "GoEmotions dev Ekman macro-F1 at the GoEmotions-only model's): mean held-out macro-F1 without "
                         f"GoEmotions {f['mean_macro_f1_without_goemotions']:.3f}, {gain:+.3f} against the GoEmotions-only "
                         f"model ({'meets' if gain >= 0.08 else 'short of'} the +0.08), worst "
                         f"{min(f['by_corpus'][c]['macro_f1'] for c in held):.3f}; held-out ECE "
                         f"{sum(f['by_corpus'][c]['ece'] for c in held) / len(held):.3f} without scaling (the "
                         f"GoEmotions-only model: {sum(b['by_corpus'][c]['ece'] for c in held) / len(held):.3f}). Its "
                         "GoEmotions row is in-corpus (the GoEmotions-only half learnt from it).")
    if "tfidf+finetune" in T and "finetune" in T:
        f, g = T["tfidf+finetune"], T["finetune"]
        notes.append(f"- **The fine-tuned network alone** (no TF-IDF half): mean held-out macro-F1 "
                     f"{g['mean_macro_f1']:.3f} against {f['mean_macro_f1']:.3f} for the two soft-voted (over all five "
                     "held-out corpora).")
    for base in ("tfidf", "encoder"):
        if base in T and f"{base}+web" in T:
            notes.append(f"- **Web normalisation** (`preprocess={{\"web\": true}}`: URLs, handles, hashtags, emoji in one form) "
                         f"changes the {base} recipe's mean held-out macro-F1 by "
                         f"{T[base + '+web']['mean_macro_f1'] - T[base]['mean_macro_f1']:+.3f}: these corpora differ in what "
                         "people write about and how labels were given, not in platform markup. Kept as an option, not a default.")
    if notes:
        out += ["", "What each lever does:", ""] + notes
    runs = {r["command"]: r["seconds"] for r in T.values()}  # one run may write several rows (--blend-bundled)
    out += ["", "Commands: " + "; ".join(f"`{c}` ({sec / 60:.0f} min)" for c, sec in runs.items()) + ".",
            "Labels per corpus: " + "; ".join(f"{c}: {', '.join(v['labels'])} (n={v['n']})"
                                                for c, v in first["by_corpus"].items()) + "."]
tt = ROOT / "benchmarks" / "results" / "speech_train_time.json"
if tt.exists():
    T = json.loads(tt.read_text())
    out += ["", "## Training time (features computed once per file per run)", "",
            f"`{T['command']}`: `{T['cli']}` from an empty feature cache: **{T['wall_minutes']:.1f} min** wall "
            f"({T['cpus']} cores; target <= {T['target_minutes']} min), {T['cv_protocol']} {T['cv_folds']}-fold CV UAR "
            f"{T['cv_uar']:.3f} on {T['n']} clips, then the final model on all of them. Each file's features are computed "
            "once and shared by every fold and ensemble member (in memory), and kept on disk for the next run."]
out.append("")
(ROOT / "docs" / "results" / "generalisation.md").write_text("\n".join(out))
print("wrote docs/results/generalisation.md")
