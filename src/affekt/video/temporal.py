"""The temporal family (``gru``): a recurrent network over the per-frame output of the face CNN,
the seed's CNN+RNN.

Each item (a video, or a part of one written ``PATH#t=START,END``) goes through the video
pipeline (frames sampled at ``fps``, faces found, tracked and scored by ``face_model``); the
longest track's per-frame log-probabilities form a sequence, which a bidirectional GRU reads;
its outputs, averaged over the sequence, give the item's label. It learns what smoothing only
guesses: which frames to trust, how expressions build up and fade. Sequences are computed once per
item and cached in memory for the epochs.

Trained with ``affekt train --modality video --dataset folder|csv --model gru``; it needs torch.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.recognizer import EmotionClassifier
from affekt.core.registry import register_family


class TemporalVideoClassifier(EmotionClassifier):
    modality = "video"
    family = "gru"

    def __init__(self, face_model: str = "face-default", fps: float = 5.0, hidden: int = 32, epochs: int = 40,
                 lr: float = 3e-3, weight_decay: float = 1e-3, dropout: float = 0.2, patience: int = 8,
                 seed: int = 0):
        self.face_model = face_model
        self.fps = fps
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.patience = patience
        self.seed = seed

    def check_item(self, x) -> str | None:
        if not isinstance(x, (str, os.PathLike)):
            return f"a video is read from a file path, got {type(x).__name__}"
        return None

    # ------------------------------------------------------------ sequences
    def _pipeline(self):
        from affekt.video.models import VideoRecognizer

        v = VideoRecognizer(face_model=self.face_model, voice_model=None, fps=self.fps, smoothing="none", min_track_s=0.0)
        v.model_id_ = "gru-frames"
        return v

    def sequences(self, X: list, errors: bool = False) -> list:
        """Per item: (n_frames, n_face_labels) log-probabilities of its longest track, or the
        reason it has none (a string) when ``errors``; raises otherwise."""
        cache = self.__dict__.setdefault("_seq_cache", {})
        v = self._pipeline()
        out = []
        for x in X:
            key = str(x)
            if key not in cache:
                try:
                    rec = v._one(key, self.fps, False)
                    fr = rec.frames
                    m = fr["track"] == 0
                    cache[key] = (np.log(np.clip(fr["face_raw"][m], 1e-6, 1)).astype(np.float32) if m.any()
                                  else "no face tracked in the video")
                except InputError as exc:
                    cache[key] = str(exc)
            s = cache[key]
            if isinstance(s, str) and not errors:
                raise InputError(f"'{key}': {s}")
            out.append(s)
        return out

    # ---------------------------------------------------------------- model
    def _net(self, n_in: int, n_out: int):
        import torch

        class Net(torch.nn.Module):
            def __init__(self, hidden, dropout):
                super().__init__()
                self.gru = torch.nn.GRU(n_in, hidden, batch_first=True, bidirectional=True)
                self.drop = torch.nn.Dropout(dropout)
                self.out = torch.nn.Linear(2 * hidden, n_out)

            def forward(self, x, lengths):
                h, _ = self.gru(x)
                mask = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()[..., None]
                pooled = (h * mask).sum(1) / lengths[:, None].float()
                return self.out(self.drop(pooled))

        return Net(self.hidden, self.dropout)

    @staticmethod
    def _batch(seqs: list):
        import torch

        lengths = torch.tensor([len(s) for s in seqs])
        x = torch.zeros(len(seqs), int(lengths.max()), seqs[0].shape[1])
        for i, s in enumerate(seqs):
            x[i, :len(s)] = torch.from_numpy(s)
        return x, lengths

    def _fit(self, X, Y, X_dev, Y_dev):
        import torch

        torch.manual_seed(self.seed)
        S = self.sequences(X, errors=True)
        keep = [i for i, s in enumerate(S) if not isinstance(s, str)]
        if len(keep) < 2:
            raise DataError(f"only {len(keep)} of {len(X)} training videos have a tracked face")
        S, Y = [S[i] for i in keep], Y[keep]
        dev = None
        if X_dev is not None and len(X_dev):
            Sd = self.sequences(X_dev, errors=True)
            kd = [i for i, s in enumerate(Sd) if not isinstance(s, str)]
            dev = ([Sd[i] for i in kd], Y_dev[kd]) if kd else None
        self.n_in_ = S[0].shape[1]
        net = self._net(self.n_in_, Y.shape[1])
        opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        x, lengths = self._batch(S)
        target = torch.from_numpy(Y.argmax(1)).long()
        counts = np.bincount(Y.argmax(1), minlength=Y.shape[1]).astype(float)
        w = torch.tensor(np.where(counts > 0, len(Y) / (Y.shape[1] * np.maximum(counts, 1)), 0.0), dtype=torch.float32)
        loss_fn = torch.nn.CrossEntropyLoss(weight=w)
        gen = torch.Generator().manual_seed(self.seed)
        best, best_state, bad = -1.0, None, 0
        for _ in range(self.epochs):
            net.train()
            for idx in torch.randperm(len(S), generator=gen).split(32):
                opt.zero_grad()
                loss = loss_fn(net(x[idx], lengths[idx]), target[idx])
                loss.backward()
                opt.step()
            if dev is None:
                continue
            net.eval()
            with torch.no_grad():
                xd, ld = self._batch(dev[0])
                acc = float((net(xd, ld).argmax(1).numpy() == dev[1].argmax(1)).mean())
            if acc > best:
                best, best_state, bad = acc, {k: v.clone() for k, v in net.state_dict().items()}, 0
            else:
                bad += 1
                if bad >= self.patience:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        self.net_ = net.eval()
        self.best_dev_ = best if dev is not None else None

    def _scores(self, X) -> np.ndarray:
        import torch

        S = self.sequences(X)
        x, lengths = self._batch(S)
        with torch.no_grad():
            return torch.softmax(self.net_(x, lengths), 1).numpy()

    def predict(self, X, *, label_space=None, errors: str = "raise", fps: float | None = None, progress: bool = False):
        """One record per item (label and scores); an item without a tracked face is an error
        record (``errors="record"``) or an :class:`InputError`."""
        from affekt.core.types import EmotionPrediction, Predictions

        self._check_fitted()
        if fps is not None and fps != self.fps:
            raise InputError(f"this gru model was trained at {self.fps} fps; --fps {fps} would change what it reads")
        X = [str(x) for x in X]
        S = self.sequences(X, errors=True)
        ok = [i for i, s in enumerate(S) if not isinstance(s, str)]
        if errors == "raise" and len(ok) < len(X):
            bad = next(i for i in range(len(X)) if i not in ok)
            raise InputError(f"'{X[bad]}': {S[bad]}")
        recs: list = [EmotionPrediction(input=x, error=s, model_id=self.model_id_) if isinstance(s, str) else None
                      for x, s in zip(X, S)]
        space_name = None
        if ok:
            P, D, space = self._view(self._scores([X[i] for i in ok]), label_space)
            space_name = space.name
            for k, i in enumerate(ok):
                r = EmotionPrediction(input=X[i], model_id=self.model_id_, label_space=space.name)
                r.scores = {lab: float(v) for lab, v in zip(space.labels, P[k])}
                r.label = space.labels[int(P[k].argmax())]
                r.labels = [lab for lab, on in zip(space.labels, D[k]) if on] or [r.label]
                recs[i] = r
        return Predictions(recs, model_id=self.model_id_, label_space=space_name)

    # ------------------------------------------------------------ save/load
    def _get_state(self, folder: Path) -> dict:
        import torch

        torch.save(self.net_.state_dict(), folder / "gru.pt")
        return {**super()._get_state(folder), "n_in": self.n_in_}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        import torch

        super()._set_state(folder, manifest)
        self.n_in_ = manifest["n_in"]
        self.net_ = self._net(self.n_in_, len(self.labels_))
        self.net_.load_state_dict(torch.load(folder / "gru.pt", map_location="cpu", weights_only=True))
        self.net_.eval()


register_family("video", "gru", TemporalVideoClassifier, "classification")
