"""A minimal BERT encoder in plain torch, for inference and fine-tuning of all-MiniLM-L6-v2.

Why not transformers' BertModel: importing transformers costs about 3 s, more than the whole
forward pass of a short batch, and start-up is part of every CLI call. This module has the
same parameter names as transformers' BERT (so the wheel's safetensors and our fine-tuned
layers load unchanged) and gives the same outputs (checked in tests/test_bert.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F


class _Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c.get("pad_token_id", 0))
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, input_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device)
        h = self.word_embeddings(input_ids) + self.position_embeddings(pos)[None] + self.token_type_embeddings.weight[0]
        return self.LayerNorm(h)


class _SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, h, bias):
        B, T, D = h.shape
        split = lambda x: x.view(B, T, self.heads, D // self.heads).transpose(1, 2)  # noqa: E731
        out = F.scaled_dot_product_attention(split(self.query(h)), split(self.key(h)), split(self.value(h)),
                                             attn_mask=bias)
        return out.transpose(1, 2).reshape(B, T, D)


class _Dense(nn.Module):
    def __init__(self, d_in, d_out, eps, norm=True):
        super().__init__()
        self.dense = nn.Linear(d_in, d_out)
        if norm:
            self.LayerNorm = nn.LayerNorm(d_out, eps=eps)


class _Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _Dense(c["hidden_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, h, bias):
        a = self.self(h, bias)
        return self.output.LayerNorm(self.output.dense(a) + h)


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Dense(c["hidden_size"], c["intermediate_size"], 0, norm=False)
        self.output = _Dense(c["intermediate_size"], c["hidden_size"], c["layer_norm_eps"])

    def forward(self, h, bias):
        a = self.attention(h, bias)
        i = F.gelu(self.intermediate.dense(a))
        return self.output.LayerNorm(self.output.dense(i) + a)


class _Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class MiniBert(nn.Module):
    """Embeddings + encoder layers; ``forward`` returns the last hidden states (B, T, D)."""

    def __init__(self, config: dict):
        super().__init__()
        self.config = config
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    @staticmethod
    def attention_bias(mask: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        """(B, T) 0/1 mask -> (B, 1, 1, T) additive bias for scaled_dot_product_attention."""
        return ((1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min)

    def forward(self, input_ids, attention_mask):
        h = self.embeddings(input_ids)
        bias = self.attention_bias(attention_mask, h.dtype)
        for layer in self.encoder.layer:
            h = layer(h, bias)
        return h

    @classmethod
    def from_folder(cls, folder: Path) -> "MiniBert":
        from safetensors.torch import load_file

        config = json.loads((Path(folder) / "config.json").read_text())
        if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
            raise ValueError(f"unsupported BERT variant in {folder}")
        model = cls(config)
        state = {k: v for k, v in load_file(str(Path(folder) / "model.safetensors")).items()
                 if not k.startswith("pooler.") and not k.endswith("position_ids")}
        # assign: keep the file's (memory-mapped, copy-on-write) tensors instead of copying 90 MB
        model.load_state_dict(state, strict=True, assign=True)
        return model.eval()


