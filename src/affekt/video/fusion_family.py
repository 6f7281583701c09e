"""The learned audio-visual fusion family (``fusion``): logistic regression over a video's face
scores (the face model's mean probabilities over its longest track) and voice scores (the voice
model's, duration-weighted over its speech windows), each with a 'missing' flag
(:class:`affekt.fusion.LearnedFusion`). It learns how far to trust each side, per emotion, from
labelled audio-visual clips (``affekt train --modality video --dataset folder|csv --model fusion``),
where ``video-default`` uses fixed weights.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.core.registry import register_family
from affekt.video.clips import ClipClassifier


class FusionVideoClassifier(ClipClassifier):
    family = "fusion"
    reads_voice = True

    def __init__(self, face_model: str = "face-default", voice_model: str = "speech-default", fps: float = 5.0,
                 C: float = 1.0):
        self.face_model = face_model
        self.voice_model = voice_model
        self.fps = fps
        self.C = C

    def parts(self, X: list) -> tuple[np.ndarray, np.ndarray]:
        """(face, voice): (n, k) mean probabilities per item in the face model's labels, NaN rows
        where that side has nothing (no tracked face; no audio or no speech)."""
        F = V = None
        for i, x in enumerate(X):
            fr = self.frames_of(x)
            if isinstance(fr, str):
                raise InputError(f"'{x}': {fr}")
            if F is None:
                F, V = (np.full((len(X), len(fr["labels"])), np.nan) for _ in range(2))
            m = fr["track"] == 0
            if m.any():
                F[i] = fr["face_raw"][m].mean(0)
            W = fr["voice"] or []
            if W:
                V[i] = sum((b - a) * p for a, b, p in W) / sum(b - a for a, b, _ in W)
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

    def _get_state(self, folder: Path) -> dict:
        import pickle

        (folder / "fusion.pkl").write_bytes(pickle.dumps(self.fusion_))
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        import pickle

        super()._set_state(folder, manifest)
        self.fusion_ = pickle.loads((folder / "fusion.pkl").read_bytes())


register_family("video", "fusion", FusionVideoClassifier, "classification")
