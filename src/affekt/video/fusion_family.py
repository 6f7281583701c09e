"""The learned audio-visual fusion family (``fusion``): logistic regression over a video's face
scores (the face model's mean probabilities over its longest track) and voice scores (the voice
model's, duration-weighted over its speech windows), each with a 'missing' flag
(:class:`affekt.fusion.LearnedFusion`). It learns how far to trust each side, per emotion, from
labelled audio-visual clips (``affekt train --modality video --dataset folder|csv --model fusion``),
where ``video-default`` uses fixed weights.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.core.recognizer import EmotionClassifier
from affekt.core.registry import register_family


class FusionVideoClassifier(EmotionClassifier):
    modality = "video"
    family = "fusion"

    def __init__(self, face_model: str = "face-default", voice_model: str = "speech-default", fps: float = 5.0,
                 C: float = 1.0):
        self.face_model = face_model
        self.voice_model = voice_model
        self.fps = fps
        self.C = C

    def check_item(self, x) -> str | None:
        if not isinstance(x, (str, os.PathLike)):
            return f"a video is read from a file path, got {type(x).__name__}"
        return None

    def parts(self, X: list) -> tuple[np.ndarray, np.ndarray]:
        """(face, voice): (n, k) mean probabilities per item in the face model's labels, NaN rows
        where that side has nothing (no tracked face; no audio or no speech)."""
        from affekt.video.models import VideoRecognizer

        cache = self.__dict__.setdefault("_parts_cache", {})
        v = VideoRecognizer(face_model=self.face_model, voice_model=self.voice_model, fps=self.fps, smoothing="none",
                             min_track_s=0.0)
        v.model_id_ = "fusion-parts"
        k = len(v.labels_)
        F, V = np.full((len(X), k), np.nan), np.full((len(X), k), np.nan)
        for i, x in enumerate(X):
            key = str(x)
            if key not in cache:
                rec = v._one(key, self.fps, False)
                fr = rec.frames
                m = fr["track"] == 0
                f = fr["face_raw"][m].mean(0) if m.any() else None
                W = fr["voice"] or []
                w = sum((b - a) * p for a, b, p in W) / sum(b - a for a, b, _ in W) if W else None
                cache[key] = (f, w)
            f, w = cache[key]
            if f is not None:
                F[i] = f
            if w is not None:
                V[i] = w
        return F, V

    def _fit(self, X, Y, X_dev, Y_dev):
        from affekt.fusion import LearnedFusion

        F, V = self.parts(list(X))
        self.fusion_ = LearnedFusion(C=self.C).fit([F, V], Y.argmax(1))

    def _scores(self, X) -> np.ndarray:
        F, V = self.parts(list(X))
        P = self.fusion_.predict_proba([F, V])
        out = np.zeros((len(X), len(self.labels_)))
        out[:, self.fusion_.classes_] = P
        return out

    def predict(self, X, *, label_space=None, errors: str = "raise", fps: float | None = None, progress: bool = False):
        """One record per video; a file that cannot be read is an error record
        (``errors="record"``) or an :class:`InputError`."""
        from affekt.core.types import EmotionPrediction, Predictions

        self._check_fitted()
        if fps is not None and fps != self.fps:
            raise InputError(f"this fusion model was trained at {self.fps} fps; --fps {fps} would change what it reads")
        X = [str(x) for x in X]
        why = [self._why(x) for x in X]
        if errors == "raise" and any(why):
            raise InputError(next(w for w in why if w))
        ok = [x for x, w in zip(X, why) if w is None]
        got = iter(super().predict(ok, label_space=label_space, errors=errors) if ok else [])
        recs = [next(got) if w is None else EmotionPrediction(input=x, error=w, model_id=self.model_id_)
                for x, w in zip(X, why)]
        return Predictions(recs, model_id=self.model_id_, label_space=next((r.label_space for r in recs if r.ok), None))

    def _why(self, x) -> str | None:
        from affekt.video.decode import probe, split_fragment

        try:
            probe(split_fragment(x)[0])
        except InputError as exc:
            return str(exc)
        return None

    def _get_state(self, folder: Path) -> dict:
        import pickle

        (folder / "fusion.pkl").write_bytes(pickle.dumps(self.fusion_))
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        import pickle

        super()._set_state(folder, manifest)
        self.fusion_ = pickle.loads((folder / "fusion.pkl").read_bytes())


register_family("video", "fusion", FusionVideoClassifier, "classification")
