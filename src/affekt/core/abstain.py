"""Abstaining: below a top score the user sets, the answer is "uncertain" rather than a guess.

Applied to a record after the model has spoken, so every modality gets it the same way: the
record's own label, and the label of each face, segment and track segment inside it. The scores
are kept, so nothing the model said is lost; a record that abstains says so in ``warnings`` and
each nested part with ``"abstained": true``. How much is answered and how accurate the answers are
at each threshold is measured per held-out corpus by ``benchmarks/speech_loco.py``
(docs/results/generalisation.md).
"""
from __future__ import annotations

UNCERTAIN = "uncertain"


def check_threshold(threshold: float) -> float:
    from affekt.core.errors import InputError

    t = float(threshold)
    if not 0.0 < t < 1.0:
        raise InputError(f"--abstain-below must be a score between 0 and 1 (exclusive); got {threshold}")
    return t


def _part(d: dict, t: float) -> int:
    """Abstain in one nested part (a face, a segment) and those inside it; how many abstained."""
    n = 0
    sc = d.get("scores")
    if isinstance(sc, dict) and sc and d.get("label") not in (None, UNCERTAIN) and max(sc.values()) < t:
        d["label"], d["abstained"] = UNCERTAIN, True
        n += 1
    for key in ("segments", "faces"):
        for sub in d.get(key) or []:
            if isinstance(sub, dict):
                n += _part(sub, t)
    return n


def abstain(pred, threshold: float):
    """``pred`` (an :class:`~affekt.core.types.EmotionPrediction`) with every label whose top
    score is under ``threshold`` replaced by ``"uncertain"``; returns ``pred``."""
    t = check_threshold(threshold)
    if pred.error is not None:
        return pred
    if pred.scores and pred.label not in (None, UNCERTAIN) and max(pred.scores.values()) < t:
        pred.warnings.append(f"top score {max(pred.scores.values()):.2f} is under --abstain-below {t:g}: "
                             f"'{pred.label}' is given as '{UNCERTAIN}'")
        if list(pred.labels) == [pred.label]:  # a single-label decision: withdrawn with the label
            pred.labels = []
        pred.label = UNCERTAIN
    for part in (pred.faces, pred.segments, pred.tracks):
        for d in part or []:
            _part(d, t)
    for part in (pred.voice, pred.fused):
        if isinstance(part, dict):
            _part(part, t)
    return pred
