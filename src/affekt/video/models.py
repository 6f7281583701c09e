"""Video models: who feels what, and when, from the faces and the voice of a clip.

:class:`VideoRecognizer` (family ``late-fusion``; the bundled ``video-default``) reads a video in
one streaming pass:

1. frames sampled at ``fps`` (:mod:`affekt.video.decode`; memory stays flat);
2. faces found on each frame (BlazeFace's 256x256 "back" model: it finds faces at any distance
   from the camera; see docs/results/video.md), aligned by the eyes, and linked into tracks, one id per
   person (:class:`affekt.video.track.FaceTracker`: IoU on a motion prediction plus appearance);
   Each face is cropped as FER2013 frames its faces (a framing of the detector's box fitted on
   FER2013 training faces, ``benchmarks/video_crop_scale.py``);
3. every face scored by a face model (``face_model``, default ``face-default``), in batches;
4. each track's scores smoothed over time (``smoothing``: a centred ``median`` or ``mean`` over
   ``smooth_s`` seconds, the causal ``ema``, or ``none``) and cut into segments of one label;
5. the audio track sent through the speech pipeline (``voice_model``; VAD, windows);
6. face and voice fused per ``window_s`` window in the label space both share
   (:func:`affekt.fusion.late_fuse`: fixed weights times each side's confidence; the face is the
   largest one in view; a window without a face or without speech uses the other alone).

A record carries ``duration``, ``tracks`` (longest on screen first, ids renumbered in that order),
``voice``, ``fused`` and, at the top, the fused scores averaged over the video. Its ``frames`` (not
written to records) is the per-frame table behind ``--timeline``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.core.recognizer import Recognizer
from affekt.core.registry import register_family
from affekt.core.types import EmotionPrediction, Predictions

SMOOTHING = ("median", "mean", "ema", "none")


def smooth(t: np.ndarray, P: np.ndarray, kind: str = "median", seconds: float = 1.0) -> np.ndarray:
    """Per-frame probabilities ``P`` (n, k) at times ``t`` smoothed over time (renormalised)."""
    if kind not in SMOOTHING:
        raise InputError(f"unknown smoothing '{kind}' (use {', '.join(SMOOTHING)})")
    if kind == "none" or len(P) < 2 or seconds <= 0:
        return P
    if kind == "ema":  # causal: what a live view can do
        out = np.empty_like(P)
        out[0] = P[0]
        for i in range(1, len(P)):
            a = 1.0 - np.exp(-max(t[i] - t[i - 1], 1e-3) / seconds)
            out[i] = out[i - 1] + a * (P[i] - out[i - 1])
        return out
    half = seconds / 2
    lo = np.searchsorted(t, t - half - 1e-9, side="left")
    hi = np.searchsorted(t, t + half + 1e-9, side="right")
    f = np.median if kind == "median" else np.mean
    out = np.stack([f(P[a:b], axis=0) for a, b in zip(lo, hi)])
    return out / np.maximum(out.sum(1, keepdims=True), 1e-12)


def runs(t: np.ndarray, P: np.ndarray, labels, step: float, end: float, max_gap: float = 1.0) -> list[dict]:
    """Segments of one label: consecutive frames with the same top label and no gap over
    ``max_gap`` s; each with its mean scores. A frame stands for ``step`` seconds."""
    out: list[dict] = []
    if not len(t):
        return out
    top = P.argmax(1)
    start = 0
    for i in range(1, len(t) + 1):
        if i == len(t) or top[i] != top[start] or t[i] - t[i - 1] > max_gap:
            m = P[start:i].mean(0)
            out.append({"start": round(float(t[start]), 3), "end": round(float(min(t[i - 1] + step, end)), 3),
                        "label": labels[int(top[start])],
                        "scores": {lab: round(float(v), 4) for lab, v in zip(labels, m)}})
            start = i
    return out


def _appearance(crops: list[np.ndarray]) -> np.ndarray | None:
    """A small appearance vector per face crop (12x12 grey, zero mean, unit norm) for the tracker."""
    if not crops:
        return None
    from PIL import Image

    V = np.stack([np.asarray(Image.fromarray(c).resize((12, 12), Image.BILINEAR), np.float32).ravel() for c in crops])
    V -= V.mean(1, keepdims=True)
    return V / np.maximum(np.linalg.norm(V, axis=1, keepdims=True), 1e-6)


class VideoRecognizer(Recognizer):
    """Faces tracked over time + the voice, fused (see the module notes). It has no weights of its
    own: ``face_model`` and ``voice_model`` name models (bundled or folders); ``voice_model=None``
    reads the faces alone."""

    modality = "video"
    family = "late-fusion"

    def __init__(self, face_model: str = "face-default", voice_model: str | None = "speech-default",
                 fps: float = 5.0, smoothing: str = "median", smooth_s: float = 1.0,
                 face_weight: float = 1.0, voice_weight: float = 0.5, window_s: float = 1.0,
                 detector: str = "blazeface", detector_model: str = "back", min_face: int = 20,
                 min_track_s: float = 0.5, confidence: str = "margin",
                 framing: tuple = (0.003, -0.113, 1.179), align_above_deg: float = 10.0):
        self.face_model = face_model
        self.voice_model = voice_model
        self.fps = fps
        self.smoothing = smoothing
        self.smooth_s = smooth_s
        self.face_weight = face_weight
        self.voice_weight = voice_weight
        self.window_s = window_s
        self.detector = detector
        self.detector_model = detector_model
        self.min_face = min_face
        self.min_track_s = min_track_s
        self.confidence = confidence
        self.framing = framing
        self.align_above_deg = align_above_deg

    # ---------------------------------------------------------------- parts
    def _face(self):
        from affekt.core.registry import load_model

        return load_model(self.face_model)

    def _voice(self):
        from affekt.core.registry import load_model

        return None if not self.voice_model else load_model(self.voice_model)

    def _get_detector(self):
        from affekt.face.detect import get_detector

        kw = {"model": self.detector_model} if self.detector == "blazeface" and self.detector_model else {}
        key = (self.detector, self.min_face, tuple(kw.items()))
        if getattr(self, "_det_key", None) != key:
            self._det, self._det_key = get_detector(self.detector, min_face=self.min_face, **kw), key
        return self._det

    @property
    def labels_(self):
        return self._face().labels_

    def fit(self, X=None, y=None, **kw):
        """Nothing to learn: the parts are trained models. Sets the model id."""
        if self.smoothing not in SMOOTHING:
            raise InputError(f"unknown smoothing '{self.smoothing}' (use {', '.join(SMOOTHING)})")
        self._face()
        self.model_id_ = getattr(self, "model_id_", None) or "video-late-fusion"
        return self

    def _get_state(self, folder: Path) -> dict:
        """No weights: the label space (the face model's) for `affekt models`."""
        return {"label_space": self.labels_.to_dict()}

    def check_item(self, x) -> str | None:
        from affekt.video.clips import check_video_item

        return check_video_item(x)

    def describe(self) -> dict:
        d = super().describe()
        d.update(face_model=self.face_model, voice_model=self.voice_model, fps=self.fps)
        return d

    def predict_proba(self, X, *, fps: float | None = None) -> np.ndarray:
        """(n_videos, n_labels): each video's fused scores averaged over its length (a video
        with neither a face nor speech raises an :class:`InputError`)."""
        preds = self.predict(X, fps=fps)
        labels = list(self.labels_.labels)
        for p in preds:
            if not p.scores:
                raise InputError(f"'{p.input}': no face and no speech to read an emotion from")
        return np.array([[p.scores[lab] for lab in labels] for p in preds])

    # -------------------------------------------------------------- predict
    def predict(self, X, *, label_space=None, errors: str = "raise", fps: float | None = None,
                progress: bool = False) -> Predictions:
        """One record per video (see the module notes). A file that cannot be read is an error
        record (``errors="record"``) or an :class:`InputError` (``errors="raise"``)."""
        self._check_fitted()
        if isinstance(X, (str, bytes, os.PathLike)):
            raise InputError("expected a list of videos, got a single path; wrap it in a list")
        if label_space is not None and str(getattr(label_space, "name", label_space)) != self.labels_.name:
            raise InputError(f"video models answer in '{self.labels_.name}' (the face model's space); "
                             f"--label-space {getattr(label_space, 'name', label_space)} is not supported for video yet")
        out = []
        for x in X:
            err = self.check_item(x)
            try:
                if err:
                    raise InputError(err)
                out.append(self._one(x, fps or self.fps, progress))
            except InputError as exc:
                if errors == "raise":
                    raise
                out.append(EmotionPrediction(input=str(x), error=str(exc), model_id=self.model_id_))
        return Predictions(out, model_id=self.model_id_, label_space=self.labels_.name)

    def _one(self, path, fps: float, progress: bool) -> EmotionPrediction:
        from affekt.video.decode import (
            audio_to_wav,
            frames,
            prefetch,
            probe,
            split_fragment,
        )
        from affekt.video.track import FaceTracker

        src, start, end = split_fragment(path)
        info = probe(src)
        if start and info.duration and start >= info.duration:
            raise InputError(f"'{path}': the time range starts at {start:g} s, after the video's end "
                             f"({info.duration:.1f} s)")
        warns = list(info.warnings)
        fm = self._face()
        labels = list(fm.labels_.labels)
        det = self._get_detector()
        tracker = FaceTracker()
        T, ID, B, P = [], [], [], []
        pend_crops: list[np.ndarray] = []
        n_frames = 0
        step = 1.0 / fps
        bar = _bar(progress, info.duration, str(path))
        for t, rgb in prefetch(frames(src, fps, warnings=warns, start=start, end=end)):
            n_frames += 1
            faces = det.detect(rgb)
            crops = [self._crop(rgb, f, fm.crop_size) for f in faces]
            ids = tracker.update(t, [f.box for f in faces], features=_appearance(crops))
            for f, i in zip(faces, ids):
                T.append(t)
                ID.append(i)
                B.append(f.box)
            pend_crops += crops
            if len(pend_crops) >= 128:
                P.append(fm._scores(np.stack(pend_crops)))
                pend_crops = []
            if bar:
                bar.update(round(t, 1) - bar.n)
        if pend_crops:
            P.append(fm._scores(np.stack(pend_crops)))
        if bar:
            bar.close()
        duration = info.duration or (T[-1] + step if T else start + n_frames * step)
        if end is not None:
            duration = min(duration, end)
        T = np.asarray(T, float)
        ID = np.asarray(ID, int)
        B = np.asarray(B, int).reshape(-1, 4)
        P = np.vstack(P) if P else np.zeros((0, len(labels)))
        # tracks: confirmed, on screen long enough, longest first, renumbered
        keep = tracker.confirmed()
        on = {i: (ID == i).sum() * step for i in np.unique(ID) if i in keep}
        order = [i for i, s in sorted(on.items(), key=lambda kv: -kv[1]) if s >= self.min_track_s]
        new_id = {old: k for k, old in enumerate(order)}
        sel = np.isin(ID, order)
        T, ID, B, P = T[sel], np.array([new_id[i] for i in ID[sel]], int), B[sel], P[sel]
        S = np.zeros_like(P)
        tracks = []
        for k in range(len(order)):
            m = ID == k
            S[m] = smooth(T[m], P[m], self.smoothing, self.smooth_s)
            tracks.append({"id": k, "time_on_screen": round(float(m.sum() * step), 2),
                           "segments": runs(T[m], S[m], labels, step, duration)})
        voice = self._voice_part(src, info, labels, warns, audio_to_wav, start, end)
        fused = self._fuse(T, ID, B, S, voice, labels, duration)
        rec = EmotionPrediction(input=str(path), model_id=self.model_id_, label_space=fm.labels_.name,
                                warnings=warns, duration=round(float(duration), 3), tracks=tracks,
                                voice={k: v for k, v in voice.items() if not k.startswith("_")},
                                fused={"segments": fused["segments"]})
        if fused["mean"] is not None:
            rec.scores = {lab: float(v) for lab, v in zip(labels, fused["mean"])}
            rec.label = labels[int(np.argmax(fused["mean"]))]
            rec.labels = [rec.label]
        if not tracks:
            warns.append("no face found in the video" if not len(ID) else "no face stayed in view long enough to track")
        rec.frames = {"t": T, "track": ID, "box": B, "face": S, "face_raw": P, "labels": labels, "step": step,
                      "voice": voice.get("_windows"), "fused": fused["windows"], "fps": fps,
                      "n_frames": n_frames, "video": info}
        return rec

    def _crop(self, rgb, face, size: int) -> np.ndarray:
        """The face cropped as FER2013 frames its faces (``framing``, fitted to the detector), and
        turned upright only when its eyes tilt more than ``align_above_deg`` (FER's own faces are
        upright only roughly, and the face models learnt them so)."""
        import math

        from affekt.face.align import align_crop, eye_angle, framed_box

        tilt = abs(math.degrees(eye_angle(face.keypoints)))
        kp = face.keypoints if tilt > self.align_above_deg else None
        return align_crop(rgb, framed_box(face.box, tuple(self.framing)), kp, size)

    def _voice_part(self, path, info, labels, warns, audio_to_wav, start: float = 0.0, end: float | None = None) -> dict:
        vm = self._voice()
        if vm is None:
            return {"segments": [], "note": "no voice model"}
        if not info.has_audio:
            return {"segments": [], "note": "no audio stream"}
        with tempfile.TemporaryDirectory(prefix="affekt-video-") as tmp:
            wav = Path(tmp) / "audio.wav"
            dur = audio_to_wav(path, wav, warnings=warns, start=start, end=end)
            if not dur:
                return {"segments": [], "note": "the audio stream holds no decodable audio"}
            rec = vm.predict([str(wav)], label_space=_shared_space(vm, labels), errors="record")[0]
        if rec.error:
            return {"segments": [], "note": rec.error.replace(str(wav), "the audio track")}
        segs = rec.segments or [{"start": rec.span["start"], "end": rec.span["end"], "label": rec.label,
                                 "scores": {k: round(v, 4) for k, v in rec.scores.items()}}]
        if start:  # a part of a video: its audio was cut at `start`; times stay the video's own
            segs = [{**s, "start": round(s["start"] + start, 3), "end": round(s["end"] + start, 3)} for s in segs]
        W = [(s["start"], s["end"], np.array([s["scores"].get(lab, 0.0) for lab in labels])) for s in segs]
        return {"segments": segs, "model": vm.model_id_, "_windows": W}

    def _fuse(self, T, ID, B, S, voice, labels, duration) -> dict:
        from affekt.fusion import late_fuse

        w = self.window_s
        n = max(1, int(np.ceil(duration / w - 1e-9)))
        area = B[:, 2] * B[:, 3] if len(B) else np.zeros(0)
        W = voice.get("_windows") or []
        rows, segs = [], []
        for j in range(n):
            a, b = j * w, min((j + 1) * w, duration)
            m = (T >= a) & (T < b)
            pf = None
            if m.any():  # the person whose face is the largest in view: their scores over the window
                big = np.argmax(np.where(m, area, -1))
                pf = S[m & (ID == ID[big])].mean(0)
            pv = None
            ov = [(min(b, e) - max(a, s), p) for s, e, p in W if min(b, e) > max(a, s)]
            if ov:
                tot = sum(o for o, _ in ov)
                pv = sum(o * p for o, p in ov) / tot
            p = late_fuse([pf, pv], [self.face_weight, self.voice_weight], conf=self.confidence)
            rows.append((a, b, p, pf is not None, pv is not None))
        mean = None
        got = [(b - a, p) for a, b, p, _, _ in rows if p is not None]
        if got:
            mean = sum(d * p for d, p in got) / sum(d for d, _ in got)
        # merge equal-label windows into segments
        for a, b, p, hf, hv in rows:
            if p is None:
                continue
            lab = labels[int(np.argmax(p))]
            src = "+".join(s for s, h in (("face", hf), ("voice", hv)) if h)
            if segs and segs[-1]["label"] == lab and abs(segs[-1]["end"] - a) < 1e-6 and segs[-1]["from"] == src:
                segs[-1]["end"] = round(b, 3)
                segs[-1]["_p"].append(p)
            else:
                segs.append({"start": round(a, 3), "end": round(b, 3), "label": lab, "from": src, "_p": [p]})
        for s in segs:
            m = np.mean(s.pop("_p"), axis=0)
            s["scores"] = {lab: round(float(v), 4) for lab, v in zip(labels, m)}
        return {"segments": segs, "windows": rows, "mean": mean}


def _shared_space(vm, labels) -> str | None:
    """The face model's space if the voice model can be viewed in it (else its own)."""
    from affekt.core.labels import get_label_space, viewable_spaces

    for name in viewable_spaces(vm.labels_):
        if list(get_label_space(name).labels) == list(labels):
            return name
    return None


def _bar(progress: bool, total: float, name: str):
    if not progress:
        return None
    import sys

    from tqdm import tqdm

    return tqdm(total=round(total, 1), unit="s", file=sys.stderr, desc=Path(name).name[:30], leave=False)


register_family("video", "late-fusion", VideoRecognizer, "classification")

# the other video families (gru, fusion) register themselves on import
from affekt.video import fusion_family, temporal  # noqa: E402,F401
