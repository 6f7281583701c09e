"""The torch networks of the text families (imported only to train, to run a model without an
ONNX graph, or to export one). :mod:`affekt.text._torch_models` holds the recognizers, which load
without torch when onnxruntime can run them."""
from __future__ import annotations

import torch
from torch import nn

from affekt.text import features as F
from affekt.text._bert import MiniBert


# ------------------------------------------------------------------ MiniLM
class MiniLMTop(nn.Module):
    """The top ``k`` transformer layers of MiniLM + mean pooling + a linear head."""

    def __init__(self, layers: nn.ModuleList, config, n_labels: int, dropout: float):
        super().__init__()
        self.layers, self.config = layers, config
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(config["hidden_size"], n_labels)

    def pooled(self, h, mask):
        am = MiniBert.attention_bias(mask)
        h = h.float()
        for layer in self.layers:
            h = layer(h, am)
        return F.mean_pool(h, mask)

    def forward(self, h, mask):
        return self.head(self.dropout(self.pooled(h, mask)))


def bottom(base: MiniBert, split: int, ids, mask):
    """The frozen lower ``split`` layers: hidden states rounded to fp16 (as they are cached for training)."""
    h = base.embeddings(ids)
    am = MiniBert.attention_bias(mask)
    for layer in base.encoder.layer[:split]:
        h = layer(h, am)
    return h.half()


class ExportableMiniLM(nn.Module):
    """The whole inference path of a fine-tuned MiniLM, (input_ids, attention_mask) ->
    (pooled embedding, label probabilities), as one module for the ONNX export. Parameter names:
    ``embeddings.*`` and ``bottom.<i>.*`` are the wheel's (``encoder.layer.<i>.*``), ``top.*``
    are those of the fine-tuned top's safetensors file."""

    def __init__(self, base: MiniBert, top: MiniLMTop, split: int, multi_label: bool):
        super().__init__()
        self.embeddings = base.embeddings
        self.bottom = nn.ModuleList(list(base.encoder.layer[:split]))
        self.top = top
        self.multi_label = multi_label

    def forward(self, input_ids, attention_mask):
        h = self.embeddings(input_ids)
        am = MiniBert.attention_bias(attention_mask)
        for layer in self.bottom:
            h = layer(h, am)
        pooled = self.top.pooled(h.half(), attention_mask)
        logits = self.top.head(pooled)
        return pooled, (torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, -1))


# -------------------------------------------------------------------- RNN
class RNN(nn.Module):
    def __init__(self, emb, cell: str, hidden: int, layers: int, dropout: float, n_labels: int,
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
