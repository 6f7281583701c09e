"""Calibrate a saved face network's scores: fit its temperature on FER2013 PublicTest (the dev
split; log-loss) and save the model back with it, recording what was done in its card.

    python scripts/calibrate_face_model.py src/affekt/models/face-default --fer2013 ../shared/data/images/fer2013

Label smoothing and distillation leave a network's probabilities too soft (on PublicTest, face-default's top
score averaged 0.37 while it was right 69% of the time); one temperature, which never changes the
top label, makes a score of 0.9 mean about 90% right. ``scripts/build_face_default.py
--calibrate`` does the same while it builds.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path


def calibrate(members: list, fer2013_dir: str, cache: str | None = None) -> dict:
    """Fit each FaceCNN member's temperature on PublicTest; ECE there before and after."""
    from affekt.datasets.faces import fer2013_arrays
    from affekt.evaluation.metrics import expected_calibration_error

    X, meta = fer2013_arrays(fer2013_dir, cache=cache)
    dev = (meta["usage"] == "PublicTest").to_numpy()
    Xd, yd = X[dev], meta["label_index"].to_numpy()[dev]
    out = {"fitted_on": f"FER2013 PublicTest (n={int(dev.sum())}; log-loss)", "members": []}
    for m in members:
        m.temperature_ = 1.0
        P0 = m._scores(Xd)
        T = m.fit_temperature(Xd, yd)
        P1 = m._scores(Xd)
        out["members"].append({
            "temperature": T,
            "publictest_ece_before": round(expected_calibration_error(P0.max(1), P0.argmax(1) == yd), 4),
            "publictest_ece_after": round(expected_calibration_error(P1.max(1), P1.argmax(1) == yd), 4),
            "publictest_mean_top_score_before": round(float(P0.max(1).mean()), 4),
            "publictest_mean_top_score_after": round(float(P1.max(1).mean()), 4),
            "publictest_accuracy": round(float((P1.argmax(1) == yd).mean()), 4)})
        print("calibrated", out["members"][-1], flush=True)
    return out


def main() -> None:
    from affekt.core.registry import load_model

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path, help="a saved face model folder (a network or an ensemble of networks)")
    ap.add_argument("--fer2013", default="../shared/data/images/fer2013")
    ap.add_argument("--cache", default=None, help="an .npz with the decoded FER2013 images (see fer2013_arrays)")
    a = ap.parse_args()
    model = load_model(a.model, cache=False)
    members = getattr(model, "members_", None) or [model]
    if not all(hasattr(m, "fit_temperature") for m in members):
        raise SystemExit(f"{a.model}: only face networks (FaceCNN, or ensembles of them) carry a temperature")
    for m in members:
        m.torch_net()  # the weights are read before the folder is rewritten
    card = dict(getattr(model, "card_", {}))
    card["calibration"] = calibrate(members, a.fer2013, a.cache)
    cmd = f"python scripts/calibrate_face_model.py {a.model} --fer2013 ../shared/data/images/fer2013"
    card["training_commands"] = [c for c in card.get("training_commands", []) if "calibrate_face_model.py" not in c] + [cmd]
    model.card_ = card
    with tempfile.TemporaryDirectory() as tmp:  # write beside, then replace: a failed save loses nothing
        model.save(Path(tmp) / "m")
        for f in a.model.iterdir():  # what the model does not write itself (its MODEL_CARD.md) stays
            if f.is_file() and not (Path(tmp) / "m" / f.name).exists():
                shutil.copy2(f, Path(tmp) / "m" / f.name)
        shutil.rmtree(a.model)
        shutil.copytree(Path(tmp) / "m", a.model)
    print("saved", a.model)


if __name__ == "__main__":
    main()
