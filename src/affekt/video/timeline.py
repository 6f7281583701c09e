"""What a video record says over time: the per-frame timeline (CSV / JSONL: time, track, face box,
face scores, voice scores, fused label), a PNG plot per person with the voice and the fused answer
as their own rows, and the short per-person summary ``affekt analyze`` prints."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.core.types import EmotionPrediction



def _at(windows, t: float):
    """The row of ``windows`` [(start, end, p, ...)] covering time t (p, or None)."""
    for w in windows or ():
        if w[0] <= t < w[1]:
            return w[2]
    return None


def timeline_rows(pred: EmotionPrediction) -> list[dict]:
    """One row per tracked face per sampled frame, in time order (frames without a face: none)."""
    fr = pred.frames
    if pred.error or fr is None:
        return []
    labels = fr["labels"]
    rows = []
    for k in np.argsort(fr["t"], kind="stable"):
        t = float(fr["t"][k])
        pv = _at(fr["voice"], t)
        pf = _at(fr["fused"], t)
        rows.append({"time": round(t, 3), "track": int(fr["track"][k]), "box": [int(v) for v in fr["box"][k]],
                     "face_label": labels[int(np.argmax(fr["face"][k]))],
                     "face_scores": {lab: round(float(v), 4) for lab, v in zip(labels, fr["face"][k])},
                     "voice_label": None if pv is None else labels[int(np.argmax(pv))],
                     "voice_scores": None if pv is None else {lab: round(float(v), 4) for lab, v in zip(labels, pv)},
                     "fused_label": None if pf is None else labels[int(np.argmax(pf))]})
    return rows


def write_timeline(pred: EmotionPrediction, path) -> Path:
    """Write the timeline of a video record; the format follows the suffix."""
    from affekt.speech.timeline import timeline_target

    path, suffix = timeline_target(pred, path)
    if pred.frames is None:
        raise InputError(f"no timeline for '{pred.input}': the record holds no per-frame table")
    path.parent.mkdir(parents=True, exist_ok=True)
    labels = pred.frames["labels"]
    if suffix == ".png":
        plot(pred, path)
        return path
    rows = timeline_rows(pred)
    if suffix == ".jsonl":
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps({"input": pred.input, **r}) + "\n")
        return path
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["time", "track", "x", "y", "w", "h", "face_label", *(f"face_{lab}" for lab in labels),
                    "voice_label", *(f"voice_{lab}" for lab in labels), "fused_label"])
        for r in rows:
            vs = r["voice_scores"] or {}
            w.writerow([r["time"], r["track"], *r["box"], r["face_label"], *(r["face_scores"][lab] for lab in labels),
                        r["voice_label"] or "", *(vs.get(lab, "") for lab in labels), r["fused_label"] or ""])
    return path


def plot(pred: EmotionPrediction, path) -> None:
    """Stacked emotion shares over time: one panel per person (smoothed face scores), one for the
    voice (per speech window) and one for the fused answer (per window)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fr = pred.frames
    labels = fr["labels"]
    n_tracks = len(pred.tracks or [])
    rows = n_tracks + 2
    cmap = plt.get_cmap("tab10")
    colours = [cmap(i % 10) for i in range(len(labels))]
    fig, axes = plt.subplots(rows, 1, figsize=(11, 1.3 + 1.25 * rows), sharex=True, squeeze=False)
    axes = axes[:, 0]
    end = pred.duration or 1.0
    for k in range(n_tracks):
        m = fr["track"] == k
        t, S = fr["t"][m], fr["face"][m]
        o = np.argsort(t)
        axes[k].stackplot(t[o], S[o].T, colors=colours, step="post")
        axes[k].set_ylabel(f"person {k}", rotation=0, ha="right", va="center")
    for ax, key, name in ((axes[n_tracks], "voice", "voice"), (axes[n_tracks + 1], "fused", "fused")):
        for w in fr[key] or ():
            if w[2] is None:
                continue
            bottom = 0.0
            for c, v in zip(colours, w[2]):
                ax.bar(w[0], v, width=w[1] - w[0], bottom=bottom, color=c, align="edge", lw=0)
                bottom += v
        ax.set_ylabel(name, rotation=0, ha="right", va="center")
        if not fr[key]:
            ax.text(0.5, 0.5, "no speech" if key == "voice" else "nothing to fuse", transform=ax.transAxes,
                    ha="center", va="center", color="grey")
    for ax in axes:
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.set_xlim(0, end)
    axes[-1].set_xlabel("time (s)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.suptitle(f"{Path(str(pred.input)).name} ({pred.model_id})", y=0.995, fontsize=10)
    fig.legend(handles, labels, ncol=len(labels), loc="upper center", bbox_to_anchor=(0.5, 0.965), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def summary(pred: EmotionPrediction, *, min_change_s: float = 2.0) -> dict:
    """Per person: time on screen, the share of that time each emotion held (largest first) and
    the notable changes (a new label held for at least ``min_change_s``); the same for the voice
    and the fused answer."""
    def shares(segs):
        tot: dict[str, float] = {}
        for s in segs:
            tot[s["label"]] = tot.get(s["label"], 0.0) + s["end"] - s["start"]
        all_t = sum(tot.values()) or 1.0
        return {k: round(v / all_t, 3) for k, v in sorted(tot.items(), key=lambda kv: -kv[1])}

    def changes(segs):
        out, cur = [], None
        for s in segs:
            if s["end"] - s["start"] < min_change_s or s["label"] == cur:
                continue
            if cur is not None:
                out.append({"time": s["start"], "from": cur, "to": s["label"]})
            cur = s["label"]
        return out

    people = [{"id": tr["id"], "time_on_screen": tr.get("time_on_screen"), "shares": shares(tr["segments"]),
               "changes": changes(tr["segments"])} for tr in pred.tracks or []]
    voice = (pred.voice or {}).get("segments") or []
    fused = (pred.fused or {}).get("segments") or []
    return {"people": people, "voice": shares(voice) if voice else None,
            "voice_note": (pred.voice or {}).get("note"), "fused": shares(fused) if fused else None}
