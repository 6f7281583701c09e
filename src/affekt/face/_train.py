"""Training and running the face networks on batches of grey face crops (torch).

Faces are kept as uint8 arrays ``(n, h, w)`` (48x48 for FER2013) and turned into network inputs
per batch: one ``affine_grid``/``grid_sample`` both resizes to the network's input and applies the
augmentation (rotation, scaling, shift, flip), so nothing is stored at the larger size. Random
erasing and mixup/cutmix work on the batch. Targets are label distributions (one-hot for a single
label, the vote shares for FER+'s soft labels), so one soft cross-entropy serves both.
"""
from __future__ import annotations

import math
import numpy as np
import torch
import torch.nn.functional as F

from affekt.face import _nets
from affekt.face._spec import ARCHS, NetSpec  # noqa: F401  (re-exported)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def build(arch: str, n_classes: int, *, size: int | None = None, pretrained: bool = True, width: int = 32,
          dropout: float | None = None):
    """(network, spec) for ``arch``; ``width`` scales the from-scratch networks."""
    spec = NetSpec(**{**ARCHS[arch].__dict__, **({"size": size} if size else {})})
    if arch == "vgg":
        net = _nets.VGGNet(n_classes, tuple(width * m for m in (1, 2, 4, 8)), dropout=0.4 if dropout is None else dropout)
    elif arch == "resnet":
        net = _nets.ResNet(n_classes, tuple(width * m for m in (1, 2, 4, 8)), dropout=0.3 if dropout is None else dropout)
    elif arch == "mobilenetv2":
        net = _nets.mobilenet_v2(n_classes, pretrained=pretrained, dropout=0.2 if dropout is None else dropout)
    elif arch.startswith("efficientnet-"):
        net = _nets.efficientnet_lite(n_classes, arch.split("-", 1)[1], pretrained=pretrained)
    else:
        raise ValueError(f"unknown architecture '{arch}' (known: {', '.join(ARCHS)})")
    return net, spec


def load_weights(net, path) -> None:
    """Load a network's weights strictly from a torch state dict (``.pt``, a training run's
    checkpoint) or from a saved model's ``net.safetensors`` (the file, or the model folder; its fp16
    weights are widened to float32), so a bundled model can be trained further."""
    from pathlib import Path

    path = Path(path)
    if path.is_dir():
        path = path / "net.safetensors"
    if not path.is_file():
        raise FileNotFoundError(f"no weights at {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = {k: v.float() if v.is_floating_point() else v for k, v in load_file(str(path)).items()}
    else:
        state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict(state)


def _normalise(x: torch.Tensor, spec: NetSpec) -> torch.Tensor:
    """x: (n, 1, s, s) in [0, 1] -> the network's input."""
    if spec.channels == 3:
        x = x.expand(-1, 3, -1, -1)
    if spec.norm == "imagenet":
        mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return (x - mean) / std
    if spec.norm == "lite":
        return (x * 255.0 - 127.0) / 128.0
    return (x - 0.5) / 0.25


def to_input(faces: np.ndarray, spec: NetSpec, *, flip: bool = False) -> torch.Tensor:
    """uint8 (n, h, w) grey faces -> the network's input batch (resized, scaled), no augmentation."""
    x = torch.from_numpy(np.ascontiguousarray(faces)).float().div_(255.0).unsqueeze(1)
    if x.shape[-1] != spec.size or x.shape[-2] != spec.size:
        x = F.interpolate(x, size=(spec.size, spec.size), mode="bilinear", align_corners=False,
                          antialias=x.shape[-1] > spec.size)
    if flip:
        x = torch.flip(x, dims=[3])
    return _normalise(x, spec)


def augment(faces: np.ndarray, spec: NetSpec, gen: torch.Generator, *, rotate: float = 10.0,
            scale: tuple[float, float] = (0.9, 1.1), shift: float = 0.08, erase: float = 0.25,
            degrade: float = 0.0) -> torch.Tensor:
    """Random rotation, scaling, shift and horizontal flip in one resampling to the input size,
    then random erasing (a grey rectangle) on a share ``erase`` of the batch. ``degrade``: the
    share of faces first given another camera's look (see :func:`degrade_faces`)."""
    x = torch.from_numpy(np.ascontiguousarray(faces)).float().div_(255.0).unsqueeze(1)
    n = x.shape[0]
    if degrade > 0:
        x = degrade_faces(x, gen, degrade)
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotate)
    sc = torch.empty(n).uniform_(scale[0], scale[1], generator=gen)
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    tx, ty = ((torch.rand(2, n, generator=gen) * 2 - 1) * shift * 2)
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, [n, 1, spec.size, spec.size], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if erase > 0:
        s = spec.size
        sel = torch.rand(n, generator=gen) < erase
        h = (torch.rand(n, generator=gen) * 0.3 + 0.1) * s
        w = (torch.rand(n, generator=gen) * 0.3 + 0.1) * s
        y0 = torch.rand(n, generator=gen) * (s - h)
        x0 = torch.rand(n, generator=gen) * (s - w)
        ar = torch.arange(s).float()
        my = (ar[None, :] >= y0[:, None]) & (ar[None, :] < (y0 + h)[:, None])
        mx = (ar[None, :] >= x0[:, None]) & (ar[None, :] < (x0 + w)[:, None])
        mask = (my[:, :, None] & mx[:, None, :] & sel[:, None, None]).unsqueeze(1)
        x = torch.where(mask, torch.full_like(x, 0.5), x)
    return _normalise(x, spec)


def degrade_faces(x: torch.Tensor, gen: torch.Generator, share: float) -> torch.Tensor:
    """Another camera's look on a share of the faces ``x`` (n, 1, h, w) in [0, 1]: lower resolution
    (down to 40-90% of the side and back, bilinear), gamma 0.6-1.6, contrast 0.6-1.3 about the
    face's mean, brightness +-0.15 and sensor noise (sigma up to 0.04). Each of the four is drawn
    for a face with probability 1/2, so the degraded faces vary."""
    n, _, h, w = x.shape
    sel = torch.rand(n, generator=gen) < share
    if not bool(sel.any()):
        return x
    y = x[sel]
    m = y.shape[0]
    on = torch.rand(4, m, generator=gen) < 0.5
    f = float(torch.empty(1).uniform_(0.4, 0.9, generator=gen))  # one factor per batch: one resize call
    small = F.interpolate(y, size=(max(8, round(h * f)), max(8, round(w * f))), mode="bilinear",
                          align_corners=False, antialias=True)
    low = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    y = torch.where(on[0].view(m, 1, 1, 1), low, y)
    gamma = torch.exp(torch.empty(m).uniform_(math.log(0.6), math.log(1.6), generator=gen))
    y = torch.where(on[1].view(m, 1, 1, 1), y.clamp(1e-4, 1).pow(gamma.view(m, 1, 1, 1)), y)
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    c = torch.empty(m).uniform_(0.6, 1.3, generator=gen).view(m, 1, 1, 1)
    b = torch.empty(m).uniform_(-0.15, 0.15, generator=gen).view(m, 1, 1, 1)
    y = torch.where(on[2].view(m, 1, 1, 1), (y - mean) * c + mean + b, y)
    sigma = torch.rand(m, generator=gen).view(m, 1, 1, 1) * 0.04
    noise = torch.randn(y.shape, generator=gen) * sigma
    y = torch.where(on[3].view(m, 1, 1, 1), y + noise, y)
    x = x.clone()
    x[sel] = y.clamp(0, 1)
    return x


def mix(x: torch.Tensor, t: torch.Tensor, gen: torch.Generator, *, mixup: float = 0.0, cutmix: float = 0.0):
    """Mixup (alpha ``mixup``) or CutMix (alpha ``cutmix``), one of them per batch at random."""
    if not (mixup or cutmix):
        return x, t
    use_cut = cutmix > 0 and (mixup <= 0 or torch.rand(1, generator=gen).item() < 0.5)
    alpha = cutmix if use_cut else mixup
    lam = float(np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen))).beta(alpha, alpha))
    perm = torch.randperm(x.shape[0], generator=gen)
    if use_cut:
        s = x.shape[-1]
        r = math.sqrt(1 - lam)
        ch, cw = int(s * r), int(s * r)
        cy, cx = int(torch.randint(0, s, (1,), generator=gen)), int(torch.randint(0, s, (1,), generator=gen))
        y0, y1 = max(cy - ch // 2, 0), min(cy + ch // 2, s)
        x0, x1 = max(cx - cw // 2, 0), min(cx + cw // 2, s)
        x = x.clone()
        x[:, :, y0:y1, x0:x1] = x[perm, :, y0:y1, x0:x1]
        lam = 1 - (y1 - y0) * (x1 - x0) / (s * s)
    else:
        x = lam * x + (1 - lam) * x[perm]
    return x, lam * t + (1 - lam) * t[perm]


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor, smoothing: float = 0.0,
                       class_weight: torch.Tensor | None = None) -> torch.Tensor:
    k = logits.shape[1]
    if smoothing:
        target = target * (1 - smoothing) + smoothing / k
    logp = F.log_softmax(logits, dim=1)
    loss = -(target * logp)
    if class_weight is not None:
        loss = loss * class_weight[None, :]
    return loss.sum(1).mean()


def param_groups(net, arch: str, lr: float, decay: float = 0.5):
    """Discriminative learning rates: the head at ``lr``, each earlier stage of a pretrained
    backbone at ``decay`` times the stage after it (stages: MobileNetV2's feature blocks, in 5 groups)."""
    if arch != "mobilenetv2":
        return None
    head = list(net.classifier.parameters())
    blocks = list(net.features.children())
    groups = [{"params": head, "lr": lr}]
    chunks = np.array_split(np.arange(len(blocks)), 5)[::-1]  # top stage first
    for depth, idx in enumerate(chunks, start=1):
        ps = [p for i in idx for p in blocks[i].parameters()]
        groups.append({"params": ps, "lr": lr * decay ** depth})
    return groups


def backbone_params(net, arch: str):
    if arch == "mobilenetv2":
        return list(net.features.parameters())
    if arch.startswith("efficientnet-"):
        return [p for n, p in net.named_parameters() if not n.startswith("_fc")]
    return []


def logits(net, faces: np.ndarray, spec: NetSpec, *, batch: int = 256, tta: bool = False) -> np.ndarray:
    """Logits for uint8 faces; ``tta`` averages the logits of each face and its mirror image."""
    net.eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(faces), batch):
            b = faces[s:s + batch]
            z = net(to_input(b, spec))
            if tta:
                z = (z + net(to_input(b, spec, flip=True))) / 2
            out.append(z.float().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def train(net, spec: NetSpec, X: np.ndarray, T: np.ndarray, X_dev: np.ndarray | None = None,
          y_dev: np.ndarray | None = None, *, epochs: int = 20, batch: int = 64, lr: float = 1e-3,
          weight_decay: float = 5e-4, smoothing: float = 0.1, mixup: float = 0.0, cutmix: float = 0.0,
          erase: float = 0.25, rotate: float = 10.0, degrade: float = 0.0, freeze_epochs: int = 0,
          lr_decay: float = 0.5, warmup: float = 0.3, patience: int | None = None, seed: int = 0, checkpoint_dir=None,
          progress: bool = True, class_weight: np.ndarray | None = None, log=None) -> dict:
    """Train ``net`` on uint8 faces ``X`` and target distributions ``T`` (n, k); early stopping on
    dev accuracy (``y_dev`` integer labels). ``freeze_epochs``: epochs that train only the head of
    a pretrained backbone (then everything, at discriminative rates). Cosine schedule with a
    ``warmup`` epochs' linear warm-up."""
    from affekt.training.trainer import fit_torch

    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    T_t = torch.from_numpy(np.asarray(T, dtype=np.float32))
    cw = torch.from_numpy(np.asarray(class_weight, dtype=np.float32)) if class_weight is not None else None
    steps_per_epoch = math.ceil(len(X) / batch)
    frozen = backbone_params(net, spec.arch) if freeze_epochs else []

    def batches(epoch):
        for p in frozen:
            p.requires_grad_(epoch >= freeze_epochs)
        order = torch.randperm(len(X), generator=gen).numpy()
        for s in range(0, len(order) - batch + 1, batch):  # drop the ragged last batch (BatchNorm)
            idx = np.sort(order[s:s + batch])
            x = augment(X[idx], spec, gen, rotate=rotate, erase=erase, degrade=degrade)
            x, t = mix(x, T_t[idx], gen, mixup=mixup, cutmix=cutmix)
            yield (x,), t

    def loss(z, t):
        return soft_cross_entropy(z, t, smoothing, cw)

    def score():
        if X_dev is None:
            return float("nan")
        z = logits(net, X_dev, spec)
        acc = float((z.argmax(1) == y_dev).mean())
        if log:
            log(f"dev accuracy {acc:.4f}")
        return acc

    groups = param_groups(net, spec.arch, lr, lr_decay)
    return fit_torch(net, batches, loss, score if X_dev is not None else None, epochs=epochs, lr=lr,
                     weight_decay=weight_decay, patience=epochs if patience is None else patience,
                     checkpoint_dir=checkpoint_dir, progress=progress, param_groups=groups,
                     warmup_steps=int(warmup * steps_per_epoch), cosine_steps=epochs * steps_per_epoch)
