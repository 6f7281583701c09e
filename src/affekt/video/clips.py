"""The base of the trainable video families (``gru``, ``fusion``): clip classifiers.

Each item (a video, a folder of frames, or a part ``PATH#t=START,END``) goes once through the
video pipeline (:class:`affekt.video.models.VideoRecognizer`, unsmoothed, any confirmed track kept)
and its per-frame table is cached on the model, so the epochs of training and the scoring reuse
it. Subclasses turn that table into their inputs and say when an item has nothing to read
(``_why``); ``predict`` gives such an item an error record and scores the others.
"""
from __future__ import annotations

import os

from affekt.core.errors import InputError
from affekt.core.recognizer import EmotionClassifier


def check_video_item(x) -> str | None:
    """Why ``x`` cannot be a video item (videos are read from paths), or None."""
    if not isinstance(x, (str, os.PathLike)):
        return f"a video is read from a file path, got {type(x).__name__}"
    return None


class ClipClassifier(EmotionClassifier):
    modality = "video"
    #: whether the pipeline also reads the audio track (with ``voice_model``)
    reads_voice = False

    def check_item(self, x) -> str | None:
        return check_video_item(x)

    def frames_of(self, x):
        """The pipeline's per-frame table of one item (cached), or why there is none (a string)."""
        cache = self.__dict__.setdefault("_frames_cache", {})
        key = str(x)
        if key not in cache:
            from affekt.video.models import VideoRecognizer

            v = VideoRecognizer(face_model=self.face_model, fps=self.fps, smoothing="none", min_track_s=0.0,
                                voice_model=getattr(self, "voice_model", None) if self.reads_voice else None)
            v.model_id_ = f"{self.family}-frames"
            try:
                cache[key] = v._one(key, self.fps, False).frames
            except InputError as exc:
                cache[key] = str(exc)
        return cache[key]

    def _why(self, x) -> str | None:
        """Why an item cannot be classified, or None."""
        fr = self.frames_of(x)
        return fr if isinstance(fr, str) else None

    def predict(self, X, *, label_space=None, errors: str = "raise", fps: float | None = None, progress: bool = False):
        """One record per item; an item with nothing to read is an error record
        (``errors="record"``) or an :class:`InputError`."""
        from affekt.core.types import EmotionPrediction, Predictions

        self._check_fitted()
        if fps is not None and fps != self.fps:
            raise InputError(f"this {self.family} model was trained at {self.fps:g} fps; --fps {fps:g} would change "
                             "what it reads")
        X = [str(x) for x in X]
        why = [self._why(x) for x in X]
        if errors == "raise" and any(why):
            i = next(i for i, w in enumerate(why) if w)
            raise InputError(f"'{X[i]}': {why[i]}")
        ok = [x for x, w in zip(X, why) if w is None]
        got = iter(super().predict(ok, label_space=label_space, errors=errors) if ok else [])
        recs = [next(got) if w is None else EmotionPrediction(input=x, error=w, model_id=self.model_id_)
                for x, w in zip(X, why)]
        return Predictions(recs, model_id=self.model_id_, label_space=next((r.label_space for r in recs if r.ok), None))
