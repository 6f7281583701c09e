"""The temporal family (``gru``): a recurrent network over the per-frame output of the face CNN,
the seed's CNN+RNN.

Each item (a video, or a part of one written ``PATH#t=START,END``) goes through the video
pipeline (frames sampled at ``fps``, faces found, tracked and scored by ``face_model``); the
longest track's per-frame log-probabilities form a sequence, which a bidirectional GRU reads;
its outputs, averaged over the sequence, give the item's label. It learns what smoothing only
guesses: which frames to trust, how expressions build up and fade. Sequences are computed once per
item and cached in memory for the epochs (:class:`affekt.video.clips.ClipClassifier`).

Trained with ``affekt train --modality video --dataset folder|csv --model gru``; it needs torch.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.registry import register_family
from affekt.video.clips import ClipClassifier


class TemporalVideoClassifier(ClipClassifier):
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

    # ------------------------------------------------------------ sequences
    def _why(self, x) -> str | None:
        why = super()._why(x)
        if why is None and not (self.frames_of(x)["track"] == 0).any():
            return "no face tracked in the video"
        return why

    def sequences(self, X: list, errors: bool = False) -> list:
        """Per item: (n_frames, n_face_labels) log-probabilities of its longest track, or the
        reason it has none (a string) when ``errors``; raises otherwise."""
        out = []
        for x in X:
            why = self._why(x)
            if why is not None and not errors:
                raise InputError(f"'{x}': {why}")
            if why is None:
                fr = self.frames_of(x)
                why = np.log(np.clip(fr["face_raw"][fr["track"] == 0], 1e-6, 1)).astype(np.float32)
            out.append(why)
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
