"""What each face network family takes (no torch import: a loaded model needs it to run in onnxruntime)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class NetSpec:
    """What a network family takes: input side, channels and pixel scaling."""

    arch: str
    size: int
    channels: int
    norm: str  # "grey" ((x-0.5)/0.25), "imagenet" (mean/std per channel), "lite" ((x*255-127)/128)


ARCHS = {
    "vgg": NetSpec("vgg", 48, 1, "grey"),
    "resnet": NetSpec("resnet", 48, 1, "grey"),
    "mobilenetv2": NetSpec("mobilenetv2", 64, 3, "imagenet"),
    "efficientnet-lite0": NetSpec("efficientnet-lite0", 64, 3, "lite"),
    "efficientnet-lite2": NetSpec("efficientnet-lite2", 64, 3, "lite"),
}
