"""The scene networks (plain torch; imported only to extract features, train or score).

* :class:`Trunk` - an ImageNet backbone cut in two: a frozen ``prefix`` (its output is what
  :mod:`affekt.scene.features` computes once per person and caches) and a ``tail`` of the last
  ``tail_blocks`` blocks, fine-tuned with ``-p finetune=true`` (with ``tail_blocks=0`` the
  prefix is the whole backbone and ends in global average pooling: a 1280-vector).
  MobileNetV2 in torchvision's layout (its ImageNet weights, see :mod:`affekt.face._nets`);
  EfficientNet-Lite0 from ``efficientnet-lite-pytorch``.
* :class:`FusionNet` - Kosti et al.'s fusion: per stream (body, context, face, pose) a layer
  norm and a projection, concatenated, one hidden layer, then a 26-way multi-label head
  (logits) and a 3-way V/A/D head (sigmoid: [0, 1] stands for 1-10).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
BACKBONES = ("mobilenetv2", "efficientnet-lite0")


class _Pool(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


class _LiteStem(nn.Module):
    """EfficientNet-Lite's stem and its first blocks."""

    def __init__(self, net, upto: int):
        super().__init__()
        self.conv_stem, self.bn0, self.act = net._conv_stem, net._bn0, net._swish
        self.blocks = nn.ModuleList(net._blocks[:upto])

    def forward(self, x):
        x = self.act(self.bn0(self.conv_stem(x)))
        for b in self.blocks:
            x = b(x)
        return x


class _LiteTail(nn.Module):
    """EfficientNet-Lite's last blocks and its head convolution, pooled."""

    def __init__(self, net, start: int):
        super().__init__()
        self.blocks = nn.ModuleList(net._blocks[start:])
        self.conv_head, self.bn1, self.act = net._conv_head, net._bn1, copy.deepcopy(net._swish)

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return self.act(self.bn1(self.conv_head(x))).mean(dim=(2, 3))


class Trunk:
    """An ImageNet backbone split into a frozen ``prefix`` and a trainable ``tail`` (the last
    ``tail_blocks`` blocks, counting the final 1x1 convolution as one), both in eval mode."""

    def __init__(self, name: str = "mobilenetv2", tail_blocks: int = 0, pretrained: bool = True):
        from affekt.core.errors import InputError

        if name not in BACKBONES:
            raise InputError(f"unknown scene backbone '{name}' (known: {', '.join(BACKBONES)})")
        self.name, self.tail_blocks = name, int(tail_blocks)
        if name == "mobilenetv2":
            from affekt.face._nets import mobilenet_v2

            feats = list(mobilenet_v2(1, pretrained=pretrained).features)
            cut = len(feats) - self.tail_blocks
            if not 0 < cut <= len(feats):
                raise InputError(f"tail_blocks must be 0 to {len(feats) - 1}, got {tail_blocks}")
            self.prefix = nn.Sequential(*feats[:cut], *([_Pool()] if self.tail_blocks == 0 else []))
            self.tail = nn.Sequential(*feats[cut:], _Pool()) if self.tail_blocks else None
            self.norm = "imagenet"
        else:
            from affekt.face._nets import efficientnet_lite

            net = efficientnet_lite(1, "lite0", pretrained=pretrained)
            n = len(net._blocks)
            if not 0 <= self.tail_blocks <= n:
                raise InputError(f"tail_blocks must be 0 to {n}, got {tail_blocks}")
            if self.tail_blocks == 0:
                self.prefix = nn.Sequential(_LiteStem(net, n), _LiteTail(net, n))
                self.tail = None
            else:
                start = n - (self.tail_blocks - 1)
                self.prefix = _LiteStem(net, start)
                self.tail = _LiteTail(net, start)
            self.norm = "lite"
        self.prefix.eval()
        for p in self.prefix.parameters():
            p.requires_grad_(False)
        if self.tail is not None:
            self.tail.eval()

    dim = 1280

    def to_input(self, batch: np.ndarray) -> torch.Tensor:
        """uint8 (n, h, w, 3) -> the backbone's input (n, 3, h, w)."""
        x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float()
        if self.norm == "imagenet":
            mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0
            std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0
            return (x - mean) / std
        return (x - 127.0) / 128.0

    @torch.inference_mode()
    def features(self, batch: np.ndarray) -> np.ndarray:
        """The prefix's output for uint8 images (n, h, w, 3): pooled vectors (n, 1280), or
        feature maps (n, c, h', w') when a tail is left to fine-tune."""
        return self.prefix(self.to_input(batch)).float().numpy()


class FusionNet(nn.Module):
    """Streams -> fused hidden layer -> (category logits, V/A/D in [0, 1]).

    ``dims``: stream name -> its feature size (the pooled size for a fine-tuned stream, whose
    ``tails`` module turns its cached map into a vector first)."""

    def __init__(self, dims: dict[str, int], n_labels: int, hidden: int = 256, dropout: float = 0.3,
                 tails: dict[str, nn.Module] | None = None):
        super().__init__()
        self.streams = list(dims)
        self.tails = nn.ModuleDict(tails or {})
        self.norms = nn.ModuleDict({s: nn.LayerNorm(d) for s, d in dims.items()})
        width = {s: (hidden if d >= 64 else max(16, hidden // 8)) for s, d in dims.items()}
        self.proj = nn.ModuleDict({s: nn.Sequential(nn.Linear(d, width[s]), nn.ReLU(inplace=True), nn.Dropout(dropout))
                                   for s, d in dims.items()})
        self.fuse = nn.Sequential(nn.Linear(sum(width.values()), hidden), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.cat = nn.Linear(hidden, n_labels)
        self.vad = nn.Linear(hidden, 3)

    def forward(self, feats: dict[str, torch.Tensor]):
        parts = []
        for s in self.streams:
            x = feats[s]
            if s in self.tails:
                x = self.tails[s](x)
            parts.append(self.proj[s](self.norms[s](x)))
        h = self.fuse(torch.cat(parts, dim=1))
        return self.cat(h), torch.sigmoid(self.vad(h))


def kosti_weights(Y: np.ndarray, c: float = 1.2) -> np.ndarray:
    """EMOTIC's category weights (Kosti et al., TPAMI 2019): w_i = 1 / ln(c + p_i), p_i the
    share of training people with category i; c = 1.2 bounds them (5.5 for a category nobody
    has, 1.27 for one everybody has)."""
    p = np.asarray(Y, np.float64).mean(axis=0)
    return (1.0 / np.log(c + p)).astype(np.float32)


def category_loss(logits: torch.Tensor, Y: torch.Tensor, w: torch.Tensor, kind: str = "kosti") -> torch.Tensor:
    """``kosti``: the weighted squared error of Kosti et al., sum_i w_i (sigmoid(z_i) - y_i)^2,
    averaged over people; ``bce``: the same weights on the binary cross-entropy."""
    if kind == "bce":
        per = nn.functional.binary_cross_entropy_with_logits(logits, Y, reduction="none")
    else:
        per = (torch.sigmoid(logits) - Y) ** 2
    return (per * w).sum(dim=1).mean()


def vad_loss(pred: torch.Tensor, V: torch.Tensor) -> torch.Tensor:
    """Smooth-L1 between predicted and true V/A/D, both scaled to [0, 1] (1-10 -> 0-1), with the
    quadratic zone one scale point wide (beta 1/9); summed over the dimensions, averaged over
    people; people without V/A/D (NaN) count nothing."""
    ok = torch.isfinite(V)
    if not ok.any():
        return pred.sum() * 0.0
    d = nn.functional.smooth_l1_loss(pred[ok], V[ok], beta=1.0 / 9.0, reduction="sum")
    return 9.0 * d / max(1, int(ok.any(dim=1).sum()))
