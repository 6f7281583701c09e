"""Neural speech families over log-mel spectrograms (torch, CPU-sized).

``cnn``: four conv blocks (3x3 conv, batch norm, ReLU, 2x2 max-pool) -> frequency mean ->
masked mean+std pooling over time -> linear. ``crnn``: three conv blocks (time pooled twice)
-> BiLSTM over frames -> attention pooling -> linear.

Training augments on the fly, cheaply, from cached spectrograms: speed perturbation (the
utterance resampled at 0.9x / 1.1x, computed once and cached), additive noise at a random SNR
(5-30 dB, white to pink, added in the mel power domain, where powers of uncorrelated signals
add), a pitch-like shift of the mel axis by up to +-2 bands, and SpecAugment (two frequency
and two time masks); optional mixup. Cosine learning-rate decay over ``epochs``; with a dev
split, early stopping on its balanced accuracy (``patience`` epochs) keeping the best epoch;
balanced class weights; seeded; ``checkpoint_dir`` keeps the best weights on disk. Saved
weights are float16 safetensors.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.speech import features as F
from affekt.speech.models import SpeechClassifier, _cache_file

SPEEDS = (0.9, 1.0, 1.1)
CROP = 300  # frames (3 s) per training example


def _torch():
    from affekt.core.errors import require

    return require("torch", "speech")


def _build(arch: str, n_labels: int, n_mels: int, width: int, dropout: float):
    torch = _torch()
    nn = torch.nn

    def block(cin, cout, pool):
        return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(inplace=True), nn.MaxPool2d(pool))

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.body = nn.Sequential(block(1, w, 2), block(w, 2 * w, 2), block(2 * w, 4 * w, 2), block(4 * w, 4 * w, 2))
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(8 * w, n_labels)
            self.stride = 16

        def forward(self, x, lengths):
            h = self.body(x[:, None]).mean(dim=2)  # (B, C, T')
            mask = _mask(lengths, self.stride, h.shape[-1])[:, None, :]
            n = mask.sum(-1).clamp(min=1)
            mean = (h * mask).sum(-1) / n
            std = (((h - mean[..., None]) ** 2 * mask).sum(-1) / n).clamp(min=1e-6).sqrt()
            return self.out(self.drop(torch.cat([mean, std], dim=1)))

    class CRNN(nn.Module):
        def __init__(self):
            super().__init__()
            w = width
            self.body = nn.Sequential(block(1, w, 2), block(w, 2 * w, 2), block(2 * w, 4 * w, (2, 1)))
            self.proj = nn.Linear(4 * w * (n_mels // 8), 128)
            self.rnn = nn.LSTM(128, 64, batch_first=True, bidirectional=True)
            self.att = nn.Linear(128, 1)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(128, n_labels)
            self.stride = 4

        def forward(self, x, lengths):
            h = self.body(x[:, None])  # (B, C, F', T')
            B, C, Fq, T = h.shape
            h = torch.relu(self.proj(h.permute(0, 3, 1, 2).reshape(B, T, C * Fq)))
            h, _ = self.rnn(h)
            mask = _mask(lengths, self.stride, T)
            a = self.att(h).squeeze(-1).masked_fill(mask == 0, -1e4).softmax(dim=1)
            return self.out(self.drop((a[..., None] * h).sum(1)))

    def _mask(lengths, stride, T):
        steps = torch.clamp((lengths + stride - 1) // stride, min=1, max=T)
        return (torch.arange(T, device=lengths.device)[None, :] < steps[:, None]).float()

    if arch == "cnn":
        return CNN()
    if arch == "crnn":
        return CRNN()
    raise InputError(f"unknown speech network '{arch}' (cnn, crnn)")


class SpectrogramNet(SpeechClassifier):
    family = "cnn"

    def __init__(self, arch: str = "cnn", epochs: int = 40, lr: float = 2e-3, batch: int = 32, width: int = 24,
                 dropout: float = 0.3, n_mels: int = F.N_MELS, specaugment: bool = True, noise: bool = True,
                 speed: bool = True, pitch: bool = True, mixup: float = 0.0, seed: int = 0,
                 checkpoint_dir: str | None = None, device: str = "auto", patience: int = 8):
        self.arch = arch
        self.epochs = epochs
        self.lr = lr
        self.batch = batch
        self.width = width
        self.dropout = dropout
        self.n_mels = n_mels
        self.specaugment = specaugment
        self.noise = noise
        self.speed = speed
        self.pitch = pitch
        self.mixup = mixup
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir
        self.device = device
        self.patience = patience

    def _device(self):
        """``auto``: a CUDA GPU when torch sees one, else the CPU (never required)."""
        torch = _torch()
        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    @property
    def family(self):  # type: ignore[override]  # noqa: F811
        return self.arch

    # ------------------------------------------------------------ representations
    def _repr_kind(self) -> str:
        return f"mel{self.n_mels}-v1"

    def _repr(self, samples):
        return F.log_mel(samples, self.n_mels).astype(np.float16)

    def _train_repr(self, x) -> list:
        """Log-mels of each utterance of ``x`` at the training speeds (cached for files)."""
        import pickle

        from affekt.io.audio import _resample
        from affekt.speech.utterances import utterances

        f = _cache_file(x, f"mel{self.n_mels}-speeds-v1")
        if f is not None and f.exists():
            with open(f, "rb") as fh:
                return pickle.load(fh)
        out = []
        for u in utterances(x, max_window_s=self.max_window_s):
            out.append({s: F.log_mel(u.samples if s == 1.0 else _resample(u.samples, int(F.SR * s), F.SR),
                                     self.n_mels).astype(np.float16) for s in SPEEDS})
        if f is not None:
            f.parent.mkdir(parents=True, exist_ok=True)
            with open(f.with_suffix(".tmp"), "wb") as fh:
                pickle.dump(out, fh, protocol=pickle.HIGHEST_PROTOCOL)
            f.with_suffix(".tmp").replace(f)
        return out

    # ------------------------------------------------------------ training
    def _fit(self, X, Y, X_dev, Y_dev):
        from tqdm import tqdm

        reps, idx = [], []
        for i, x in enumerate(tqdm(X, desc=f"{self.arch}: spectrograms", unit="file", leave=False,
                                   disable=len(X) < 50)):
            for r in self._train_repr(x):
                reps.append(r)
                idx.append(i)
        R_dev = Y_d = None
        if X_dev is not None and len(X_dev):  # a dev split: early stopping on its balanced accuracy
            W = self._all_windows(list(X_dev), progress=True)  # threaded, like the base class's fit
            R_dev = [w[3] for ws in W for w in ws]
            Y_d = Y_dev[[i for i, ws in enumerate(W) for _ in ws]]
        self._fit_reprs(reps, Y[idx], R_dev, Y_d)

    def _fit_reprs(self, R, Y, R_dev, Y_dev):
        torch = _torch()
        from affekt.training.trainer import fit_torch

        rng = np.random.default_rng(self.seed)
        torch.manual_seed(self.seed)
        base = [r[1.0] if isinstance(r, dict) else r for r in R]
        allf = np.concatenate([b.astype(np.float32) for b in base], axis=1)
        self.mean_ = allf.mean(axis=1).astype(np.float32)
        self.std_ = np.float32(allf.std() + 1e-3)
        y = Y.argmax(axis=1)
        onehot = np.eye(Y.shape[1], dtype=np.float32)[y]
        counts = np.bincount(y, minlength=Y.shape[1]).astype(np.float64)
        dev = self._device()
        cw = torch.tensor(len(y) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32, device=dev)
        self.net_ = _build(self.arch, Y.shape[1], self.n_mels, self.width, self.dropout).to(dev)
        steps = int(np.ceil(len(R) / self.batch)) * self.epochs

        def batches(epoch):
            order = rng.permutation(len(R))
            for s in range(0, len(order), self.batch):
                ids = order[s:s + self.batch]
                x, lengths = self._train_batch([R[i] for i in ids], rng)
                t = torch.as_tensor(onehot[ids])
                if self.mixup > 0:  # mix each example with another of the batch (soft targets)
                    lam = float(rng.beta(self.mixup, self.mixup))
                    perm = torch.as_tensor(rng.permutation(len(ids)))
                    x = lam * x + (1 - lam) * x[perm]
                    lengths = torch.maximum(lengths, lengths[perm])
                    t = lam * t + (1 - lam) * t[perm]
                yield (x.to(dev), lengths.to(dev)), t.to(dev)

        lossf = torch.nn.CrossEntropyLoss(weight=cw, label_smoothing=0.05)
        score, patience = None, self.epochs  # no dev split: the fixed cosine schedule runs to its end
        if R_dev is not None:
            from sklearn.metrics import balanced_accuracy_score

            y_dev = Y_dev.argmax(axis=1)

            def score():
                return balanced_accuracy_score(y_dev, self._score_reprs(R_dev).argmax(axis=1))
            patience = self.patience
        self.history_ = fit_torch(self.net_, batches, lossf, score, epochs=self.epochs, lr=self.lr,
                                  weight_decay=1e-3, patience=patience, cosine_steps=steps,
                                  checkpoint_dir=self.checkpoint_dir, progress=False)["history"]
        self.net_.eval()

    def _train_batch(self, reps: list, rng) -> tuple:
        torch = _torch()
        xs = []
        for r in reps:
            s = float(rng.choice(list(r))) if (self.speed and isinstance(r, dict)) else 1.0
            m = (r[s] if isinstance(r, dict) else r).astype(np.float32)
            if m.shape[1] > CROP:
                a = rng.integers(0, m.shape[1] - CROP + 1)
                m = m[:, a:a + CROP]
            if self.noise and rng.random() < 0.5:
                pw = 10 ** (m / 10)
                snr = rng.uniform(5, 30)
                tilt = rng.uniform(0, 1) * np.linspace(0, -12, len(m))[:, None]  # white .. pink-ish
                noise = 10 ** (tilt / 10) * rng.gamma(2.0, 0.5, size=m.shape)
                noise *= pw.mean() / noise.mean() / 10 ** (snr / 10)
                m = 10 * np.log10(pw + noise)
            if self.pitch and rng.random() < 0.5:
                k = int(rng.integers(-2, 3))
                if k:
                    m = np.roll(m, k, axis=0)
                    if k > 0:
                        m[:k] = m[k:k + 1]
                    else:
                        m[k:] = m[k - 1:k]
            m = (m - self.mean_[:, None]) / self.std_
            if self.specaugment:
                for _ in range(2):
                    f = int(rng.integers(0, 9))
                    f0 = int(rng.integers(0, max(1, len(m) - f)))
                    m[f0:f0 + f] = 0
                    t = int(rng.integers(0, min(31, max(1, m.shape[1] // 5))))
                    t0 = int(rng.integers(0, max(1, m.shape[1] - t)))
                    m[:, t0:t0 + t] = 0
            xs.append(m)
        return self._pad(xs, torch)

    @staticmethod
    def _pad(xs, torch):
        T = max(16, max(x.shape[1] for x in xs))
        T = int(np.ceil(T / 16) * 16)
        out = np.zeros((len(xs), xs[0].shape[0], T), np.float32)
        for i, x in enumerate(xs):
            out[i, :, :x.shape[1]] = x
        return torch.from_numpy(out), torch.tensor([x.shape[1] for x in xs])

    # ------------------------------------------------------------ inference
    def _score_reprs(self, R) -> np.ndarray:
        torch = _torch()
        xs = [(r.astype(np.float32) - self.mean_[:, None]) / self.std_ for r in R]
        order = np.argsort([x.shape[1] for x in xs])
        out = np.zeros((len(xs), len(self.labels_)), np.float32)
        dev = next(self.net_.parameters()).device
        with torch.inference_mode():
            for s in range(0, len(order), 16):
                ids = order[s:s + 16]
                x, lengths = self._pad([xs[i] for i in ids], torch)
                out[ids] = torch.softmax(self.net_(x.to(dev), lengths.to(dev)), dim=1).cpu().numpy()
        return out

    # ------------------------------------------------------------ save / load
    def _get_state(self, folder: Path) -> dict:
        from safetensors.torch import save_file

        sd = {k: (v.half() if v.is_floating_point() else v).cpu().contiguous()
              for k, v in self.net_.state_dict().items()}
        save_file(sd, str(folder / "net.safetensors"))
        np.save(folder / "norm.npy", np.concatenate([self.mean_, [self.std_]]).astype(np.float32))
        (folder / "history.json").write_text(json.dumps(getattr(self, "history_", [])))
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        from safetensors.torch import load_file

        super()._set_state(folder, manifest)
        norm = np.load(folder / "norm.npy")
        self.mean_, self.std_ = norm[:-1], np.float32(norm[-1])
        self.net_ = _build(self.arch, len(self.labels_), self.n_mels, self.width, self.dropout)
        self.net_.load_state_dict({k: v.float() if v.is_floating_point() else v
                                   for k, v in load_file(str(folder / "net.safetensors")).items()})
        self.net_.eval()

