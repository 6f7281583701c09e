"""Every face family on the same split (FER2013 PrivateTest, n=3,589), in one table.

CNN rows (from scratch, fine-tuned, trained on FER+ labels, distilled) come from runs of
scripts/train_face_cnn.py (their ``test_logits.npy``: mirror-TTA logits on PrivateTest, and
``result.json``); the soft-voting ensemble of the given runs is scored here from those logits;
classical rows are copied from benchmarks/results/face_classical.json. ``--ferplus-pair`` names
two runs alike but for FER+ majority vs vote-share targets: the soft labels' gain.

    python benchmarks/face_families.py --fer2013 ../shared/data/images/fer2013 \
        --run mobilenetv2=runs/mnv2b [--run vgg=runs/vgg ...] [--ensemble mobilenetv2,vgg]

Writes ``benchmarks/results/face_families.json``. ``--add-to`` that file keeps its rows (runs trained
in earlier sessions may be gone) and adds or replaces the rows computed now; every command that
wrote the table is kept. ``--member NAME=DIR`` is scored only as an ensemble member: a run, or a
scripts/face_teacher.py output (its ``teacher_logits.npy``, e.g. of the bundled model).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from scipy.special import softmax
from sklearn.metrics import accuracy_score, f1_score

from affekt.datasets.faces import _fer2013_table

ap = argparse.ArgumentParser()
ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
ap.add_argument("--run", action="append", default=[], help="NAME=RUN_DIR (a scripts/train_face_cnn.py output)")
ap.add_argument("--ensemble", action="append", default=[], help="comma-separated run names to soft-vote")
ap.add_argument("--member", action="append", default=[], help="NAME=DIR: a run or a scripts/face_teacher.py output, "
                "scored only inside --ensemble")
ap.add_argument("--note", action="append", default=[], help="NAME=TEXT: added to that row's note")
ap.add_argument("--add-to", default=None, help="an earlier face_families.json whose rows are kept")
ap.add_argument("--classical", default="benchmarks/results/face_classical.json")
ap.add_argument("--frozen", default="benchmarks/results/face_frozen.json")
ap.add_argument("--teacher", default=None, help="a scripts/face_teacher.py output folder: its weighted ensemble")
ap.add_argument("--ferplus-pair", default=None, help="MAJORITY_RUN,SOFT_RUN: two runs alike but for FER+ "
                "majority vs vote-share targets; their difference is the soft-label gain")
ap.add_argument("--not-run", default="", help="comma-separated families not trained yet (listed as such)")
ap.add_argument("--out", default="benchmarks/results/face_families.json")
a = ap.parse_args()

_, meta = _fer2013_table(a.fer2013)
y = meta.loc[meta["usage"] == "PrivateTest", "label_index"].to_numpy()
y_dev = meta.loc[meta["usage"] == "PublicTest", "label_index"].to_numpy()


def scores(p: np.ndarray, truth=y) -> dict:
    pred = p.argmax(1)
    return {"n": int(len(truth)), "accuracy": round(float(accuracy_score(truth, pred)), 4),
            "macro_f1": round(float(f1_score(truth, pred, average="macro")), 4)}


rows, probs, dev_probs, ferplus = [], {}, {}, {}
for spec in a.member:
    name, d = spec.split("=", 1)
    d = Path(d)
    if (d / "teacher_logits.npy").is_file():  # all FER2013 rows, in labels.csv order
        Z = np.load(d / "teacher_logits.npy")
        probs[name] = softmax(Z[(meta["usage"] == "PrivateTest").to_numpy()], axis=1)
        dev_probs[name] = softmax(Z[(meta["usage"] == "PublicTest").to_numpy()], axis=1)
    else:
        probs[name] = softmax(np.load(d / "test_logits.npy"), axis=1)
        dev_probs[name] = softmax(np.load(d / "dev_logits.npy"), axis=1)
for spec in a.run:
    name, run = spec.split("=", 1)
    run = Path(run)
    r = json.loads((run / "result.json").read_text())
    p = softmax(np.load(run / "test_logits.npy"), axis=1)
    probs[name] = p
    dev_probs[name] = softmax(np.load(run / "dev_logits.npy"), axis=1)
    args = r["args"]
    kind = "distilled" if args.get("teacher") else "cnn (FER+ labels)" if args.get("ferplus_dir") else "cnn"
    if r.get("ferplus_test_accuracy_tta") is not None:
        ferplus[name] = {"ferplus_test_accuracy": round(r["ferplus_test_accuracy_tta"], 4), "ferplus_test_n": r["ferplus_test_n"],
                         "privatetest_accuracy": scores(p)["accuracy"], "n_train": r.get("n_train")}
    rows.append({"family": name, "kind": kind, **scores(p), "accuracy_without_tta": round(r["test_accuracy"], 4),
                 "publictest_accuracy": round(r["dev_accuracy_tta"], 4),
                 "epochs_run": len(r["history"]), "train_seconds": r["train_seconds"],
                 "command": "python scripts/train_face_cnn.py " + " ".join(
                     f"--{k.replace('_', '-')} {v}" if not isinstance(v, bool) else f"--{k.replace('_', '-')}"
                     for k, v in args.items() if v not in (None, False) and k not in ("cache", "threads")),
                 **({"ferplus_test_accuracy": ferplus[name]["ferplus_test_accuracy"]} if name in ferplus else {}),
                 "note": "; ".join(x for x in (
                     f"{len(r['history'])} epochs, {r['train_seconds'] / 60:.0f} min",
                     f"starting from the weights {args['init']}" if args.get("init") else "",
                     f"FER+ {'vote shares' if args.get('soft') else 'majority labels'} as targets, on the "
                     f"{r.get('n_train')} training images with a clear FER+ majority" if args.get("ferplus_dir") else "",
                     f"distilled from {args['teacher']} (alpha {args['kd_alpha']}, T {args['kd_temp']})"
                     if args.get("teacher") else "") if x)})
for ens in a.ensemble:
    names = ens.split(",")
    p = np.mean([probs[n] for n in names], axis=0)
    pd_ = np.mean([dev_probs[n] for n in names], axis=0)
    rows.append({"family": f"ensemble({'+'.join(names)})", "kind": "ensemble", **scores(p),
                 "publictest_accuracy": scores(pd_, y_dev)["accuracy"],
                 "how": "soft voting, equal weights, of the members' mirror-TTA probabilities"})
if a.teacher:  # the distillation teacher: weights from scripts/face_teacher.py --select (chosen on PublicTest)
    tj = json.loads((Path(a.teacher) / "teacher.json").read_text())
    by_dir = {str(Path(d)): n for n, d in (r.split("=", 1) for r in a.run)}
    w = {by_dir[str(Path(d))]: x for d, x in tj["weights"].items() if x > 0}
    p = sum(x * probs[n] for n, x in w.items())
    pd_ = sum(x * dev_probs[n] for n, x in w.items())
    rows.append({"family": "ensemble(" + " + ".join(f"{x:.2f} {n}" for n, x in w.items()) + ")", "kind": "ensemble",
                 **scores(p), "publictest_accuracy": scores(pd_, y_dev)["accuracy"],
                 "how": f"weights from {tj['selection']}; the distillation teacher", "command": tj["command"]})
if Path(a.classical).is_file():
    c = json.loads(Path(a.classical).read_text())
    for name, e in c.get("experiments", {}).items():
        t = e["test"]
        rows.append({"family": name, "kind": "classical", "n": t["n"], "accuracy": t["accuracy"],
                     "macro_f1": t["macro_f1"], "note": f"{e.get('features', '')}; {e.get('model', '')}"[:160],
                     "command": e.get("command", c.get("command"))})
if Path(a.frozen).is_file():
    fz = json.loads(Path(a.frozen).read_text())
    rows.append({"family": "mobilenetv2-frozen", "kind": "transfer (frozen)", "n": fz["n"], "accuracy": fz["accuracy"],
                 "macro_f1": fz["macro_f1"], "note": f"ImageNet features + logistic regression (C={fz['chosen_C']})",
                 "command": fz["command"]})
gain = None
if a.ferplus_pair:
    maj, soft = a.ferplus_pair.split(",")
    gain = {"majority": {"run": maj, **ferplus[maj]}, "soft": {"run": soft, **ferplus[soft]},
            "gain_ferplus_test": round(ferplus[soft]["ferplus_test_accuracy"] - ferplus[maj]["ferplus_test_accuracy"], 4),
            "gain_privatetest": round(ferplus[soft]["privatetest_accuracy"] - ferplus[maj]["privatetest_accuracy"], 4),
            "ferplus_test": "FER+ majority label on PrivateTest (ties, unknown, not-a-face and contempt left out)"}
for spec in a.note:
    name, text = spec.split("=", 1)
    for r in rows:
        if r["family"] == name:
            r["note"] = "; ".join(x for x in (r.get("note", ""), text) if x)
command = "python benchmarks/face_families.py " + " ".join(
    f"'{x}'" if " " in x else x for x in sys.argv[1:])
out = {"benchmark": "face_families", "split": "FER2013 PrivateTest", "command": command, "rows": rows,
       "ferplus_soft_labels": gain, "not_run": [n for n in a.not_run.split(",") if n]}
if a.add_to:  # the earlier table's rows stay, unless recomputed here under the same name
    old = json.loads(Path(a.add_to).read_text())
    new = {r["family"] for r in rows}
    out["rows"] = [r for r in old["rows"] if r["family"] not in new] + rows
    out["ferplus_soft_labels"] = gain or old.get("ferplus_soft_labels")
    out["not_run"] = out["not_run"] or old.get("not_run", [])
    out["earlier_commands"] = old.get("earlier_commands", []) + [old["command"]]
    rows = out["rows"]
Path(a.out).write_text(json.dumps(out, indent=2) + "\n")
for r in rows:
    print(f"{r['family']:40s} acc {r.get('accuracy')}  macro-F1 {r.get('macro_f1')}")
