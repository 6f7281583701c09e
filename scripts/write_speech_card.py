"""Write src/affekt/models/speech-default/MODEL_CARD.md from measured results only (and name the
copied model folder's manifest ``speech-default``):

- the model folder's results.json (speaker-grouped CV of the exact training run),
- benchmarks/results/speech_families.json (RAVDESS 6-fold, TESS by speaker, cross-corpus),
- benchmarks/results/speech_speed.json (affekt predict speed and memory),
- benchmarks/results/speech_ensembles.json (the pre-registered ensemble on RAVDESS, per utterance),
- benchmarks/results/speech_spknorm_ravdess_tess.json (the same recipe with transductive speaker
  normalisation, speaker-grouped CV on RAVDESS + TESS).

    python scripts/write_speech_card.py
"""
from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "src/affekt/models/speech-default"


DESCRIBE = {
    "svm": "an RBF SVM (C=10, balanced class weights, 5-fold sigmoid-calibrated probabilities)",
    "logreg": "a logistic regression (C=0.1, balanced class weights)",
    "lgbm": "LightGBM (500 trees of 15 leaves, learning rate 0.05, balanced class weights)",
    "rf": "a random forest (500 trees, balanced class weights)",
}


def _f(x, nd=3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def main() -> None:
    manifest = json.loads((MODEL / "affekt.json").read_text())
    if manifest["model_id"] != MODEL.name:  # trained under another folder name, then copied here
        manifest["model_id"] = MODEL.name
        (MODEL / "affekt.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    res = json.loads((MODEL / "results.json").read_text())
    fam_path = ROOT / "benchmarks/results/speech_families.json"
    speed_path = ROOT / "benchmarks/results/speech_speed.json"
    fams = json.loads(fam_path.read_text())["families"] if fam_path.exists() else {}
    speed = json.loads(speed_path.read_text()) if speed_path.exists() else {}
    family = manifest["family"]
    members = [json.loads((MODEL / f"member_{k}" / "affekt.json").read_text())["family"]
               for k in range(manifest.get("n_members", 0))]
    cv = res["cv"]
    pooled = cv["pooled"]
    labels = list(pooled["labels"])
    lines = [
        "# speech-default", "",
        "The bundled speech emotion model: 7 Ekman labels (anger, disgust, fear, happiness, sadness, "
        "surprise, neutral) from a recording of English speech. `affekt analyze clip.wav` uses it.", "",
        "## What it is",
        f"- Family `{family}`" + (f" (soft voting, equal weights, of {', '.join(members)})" if members else "")
        + ": utterance functionals (MFCC 1-20 with deltas and delta-deltas, RMS intensity, zero-crossing rate, "
        "spectral centroid/bandwidth/rolloff/flatness/contrast, YIN pitch over voiced frames, log-mel band "
        "statistics, voicing and pause ratios; mean, std, 10/50/90th percentiles and slope of each), computed "
        "once and standardised, then " + "; ".join(DESCRIBE[m] for m in (members or [family])) + ".",
        "- Every input is decoded to 16 kHz mono, loudness-normalised (-23 dBFS) and trimmed to its speech by "
        "Silero VAD (ONNX); recordings over 20 s are cut into speech windows of at most 8 s, each scored "
        "(the `segments` timeline), and the file's scores are the duration-weighted mean.",
        "- Labels: RAVDESS 'calm' is merged into 'neutral' (the Ekman mapping affekt registers for "
        "RAVDESS); TESS 'pleasant surprise' is 'surprise'.",
        f"- Size on disk: {sum(f.stat().st_size for f in MODEL.rglob('*') if f.is_file()) / 1e6:.1f} MB.", "",
        "## Training data and licence",
        f"- {res['dataset']['name']}: {res['dataset']['splits']['all']} utterances (RAVDESS speech: 24 actors, "
        "12 female / 12 male, 1440 files; TESS: 2 female speakers aged 26 and 64, 2800 files in the original, "
        "1820 in the copy used here).",
        f"- Data licences: {manifest['card'].get('data_licence')}. The weights are therefore for "
        "non-commercial use.", "",
        "## Training (exact command; seed 0, 2 CPU cores, "
        f"{res.get('fit_seconds', '?')} s to fit after feature extraction)",
        "```", manifest["card"].get("command", ""),
        f"cp -r {manifest['card'].get('command', '').rpartition('--output ')[2]}/. src/affekt/models/speech-default/",
        "python benchmarks/speech_speed.py --data ../shared/data/audio && python scripts/write_speech_card.py", "```",
        "The cross-validation figures below are the ones this command printed and saved (results.json).", "",
        "## Measured", "",
        f"Speaker-independent CV of this exact training run ({cv['protocol']}, {cv['k']} folds grouped by "
        "speaker; both corpora in every fold's training data):", "",
        "| measure | mean ± std over folds |", "|---|---|",
    ]
    for k, name in (("balanced_accuracy", "UAR (balanced accuracy)"), ("accuracy", "WA (accuracy)"),
                    ("macro_f1", "macro-F1")):
        lines.append(f"| {name} | {cv[k]['mean']:.3f} ± {cv[k]['std']:.3f} |")
    for g, d in cv.get("by_attribute", {}).get("gender", {}).items():
        lines.append(f"| UAR, {g} speakers | {d['balanced_accuracy']['mean']:.3f} |")
    lines += ["", "Per-class recall (pooled out-of-fold predictions):", "",
              "| " + " | ".join(labels) + " |", "|" + "---|" * len(labels),
              "| " + " | ".join(f"{pooled['per_class'][lab]['recall']:.2f}" for lab in labels) + " |", ""]
    ens_path = ROOT / "benchmarks/results/speech_ensembles.json"
    e = None
    if members and ens_path.exists():
        found = json.loads(ens_path.read_text())["ensembles"]
        e = next((v for k, v in found.items() if sorted(k.split(" + ")) == sorted(members)), None)
        if e:
            g = e.get("by_gender", {})
            lines += [f"The same ensemble on RAVDESS, 8 classes, 6 folds of 4 actors, per utterance as this model "
                      f"works (`benchmarks/speech_ensembles.py`, the pre-registered trio): "
                      f"UAR {e['balanced_accuracy']['mean']:.3f} ± {e['balanced_accuracy']['std']:.3f}, WA "
                      f"{e['accuracy']['mean']:.3f}, macro-F1 {e['macro_f1']['mean']:.3f}; female / male actors UAR "
                      f"{_f(g.get('female', {}).get('balanced_accuracy'))} / {_f(g.get('male', {}).get('balanced_accuracy'))}. "
                      f"The target for RAVDESS (UAR >= 0.65 per utterance) is "
                      f"{'met' if e['balanced_accuracy']['mean'] >= 0.65 else '**not met**'}.", ""]
    norm = fams.get("ensemble+spknorm", {}).get("ravdess_8class_6fold")
    both_path = ROOT / "benchmarks/results/speech_spknorm_ravdess_tess.json"
    both = json.loads(both_path.read_text())["cv"] if both_path.exists() else None
    if norm or both:
        text = ("Transductive, not this model: with speaker normalisation (`-p speaker_norm=true`: every clip's "
                "functionals minus the mean of all clips of its speaker, which needs each test speaker's unlabelled, "
                "emotion-balanced clips at once, 60 per RAVDESS actor) the same recipe reaches")
        parts = []
        if norm:
            parts.append(f"UAR {norm['balanced_accuracy']['mean']:.3f} ± {norm['balanced_accuracy']['std']:.3f} on "
                         "RAVDESS (8 classes, 6 folds; `benchmarks/speech_families.py`)")
        if both:
            parts.append(f"{both['balanced_accuracy']['mean']:.3f} ± {both['balanced_accuracy']['std']:.3f} in the "
                         f"same speaker-grouped {both['k']}-fold CV on RAVDESS + TESS as above "
                         "(`benchmarks/results/speech_spknorm_ravdess_tess.json`)")
        lines += [text + " " + " and ".join(parts) + ". `speech-default` scores one utterance at a time and does not "
                  "normalise, so these figures are not its accuracy and do not meet a per-utterance target.", ""]
    if members:
        lines += ["Its members one by one:", ""]
    for fam in (members or [family]):
        f = fams.get(fam)
        if not f:
            continue
        r = f["ravdess_8class_6fold"]
        t = f.get("tess_7class_by_speaker", {})
        x = f.get("cross_corpus", {})
        g = r.get("by_gender", {})
        lines += [
            f"`{fam}` alone on the standard protocols (`benchmarks/speech_families.py`):", "",
            "| protocol | UAR | WA | macro-F1 |", "|---|---|---|---|",
            f"| RAVDESS 8 classes, 6 folds of 4 actors | {r['balanced_accuracy']['mean']:.3f} ± "
            f"{r['balanced_accuracy']['std']:.3f} | {r['accuracy']['mean']:.3f} | {r['macro_f1']['mean']:.3f} |",
            f"| ... female / male actors | {_f(g.get('female', {}).get('balanced_accuracy'))} / "
            f"{_f(g.get('male', {}).get('balanced_accuracy'))} | | |",
        ]
        if t:
            lines.append(f"| TESS 7 classes, train on one speaker, test on the other | "
                         f"{t['balanced_accuracy']['mean']:.3f} | {t['accuracy']['mean']:.3f} | {t['macro_f1']['mean']:.3f} |")
        for key, name in (("ravdess_to_tess", "cross-corpus RAVDESS -> TESS"), ("tess_to_ravdess", "cross-corpus TESS -> RAVDESS")):
            if key in x:
                lines.append(f"| {name} (Ekman labels both share) | {x[key]['balanced_accuracy']:.3f} | "
                             f"{x[key]['accuracy']:.3f} | {x[key]['macro_f1']:.3f} |")
        lines.append("")
    sp = speed.get("speed")
    if sp:
        lines += ["Speed (`python benchmarks/speech_speed.py`, 2 CPU cores, start-up included):", "",
                  f"- `{sp['command']}`: {sp['files']} clips, {sp['audio_seconds']:.0f} s of audio in "
                  f"{sp['wall_seconds']:.1f} s = {sp['realtime_factor']:.1f}x real time (target >= 50x).",
                  ]
        for m in speed.get("memory", []):
            lines.append(f"- a {m['minutes']:g}-minute recording: {m['realtime_factor']:.1f}x real time, "
                         f"peak RSS {m['peak_rss_mb']:.0f} MB, {m['windows']} speech windows.")
        lines.append("")
    lines += ["## Limits", "- Acted, read sentences from 26 speakers of North-American English in quiet rooms: "
              "expect much lower accuracy on spontaneous speech, other languages, noise, children, or "
              "phone-band audio (the cross-corpus rows above show how far accuracy falls on a new corpus).",
              "- Female speakers are over-represented: 14 of the 26 speakers, and 2540 of the 3260 training clips "
              "(78%; all of TESS); the by-gender rows show the gap.",
              "- It reports the emotion a listener would label in acted speech, not what a speaker feels.", ""]
    (MODEL / "MODEL_CARD.md").write_text("\n".join(lines))
    print(f"wrote {MODEL / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main()
