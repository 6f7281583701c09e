"""Covering a face: the one blur / pixelate primitive shared by ``affekt anonymize`` and
``affekt analyze --annotate OUT.mp4 --blur-faces``.

A face box (x, y, w, h) is enlarged by ``expand`` of its size on every side (BlazeFace's boxes
run from the brows to the chin; the enlargement takes in the forehead, hair line and ears), and
the enlarged region is replaced by:

* ``blur``: a Gaussian blur whose sigma is a sixth of the face's longer side (18 px for a 105-px
  face), so the eyes, nose and mouth merge into one smooth blob whatever the image's size;
* ``pixelate``: blocks of the region's mean colour, 8 blocks across the face (the coarse end of the
  8-12 blocks often used), so no feature is smaller than a block.

Both stop people from recognising a face; neither is a guarantee against a machine: models
trained on pixelated or blurred faces can still match some of them to known people (McPherson,
Shokri & Shmatikov 2016, "Defeating image obfuscation with deep learning"). ``docs/ethics.md``.
Only pixels inside the enlarged regions change.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from affekt.core.errors import InputError

METHODS = ("blur", "pixelate")
#: Gaussian sigma as a share of the face's longer side
BLUR_SIGMA = 1 / 6
#: pixelation blocks across the face's longer side
PIXEL_BLOCKS = 8
#: default enlargement of a face box, as a share of its size on every side
EXPAND = 0.25


def check_method(method: str) -> str:
    m = str(method).strip().lower()
    if m not in METHODS:
        raise InputError(f"unknown method {method!r}; use {' or '.join(METHODS)}")
    return m


def check_expand(expand) -> float:
    if isinstance(expand, bool) or not isinstance(expand, (int, float, np.floating)) \
            or not math.isfinite(float(expand)) or not 0.0 <= float(expand) <= 2.0:
        raise InputError(f"--expand must be a number from 0 to 2 (a share of the face's size added on "
                         f"every side), got {expand!r}")
    return float(expand)


def region(box: Sequence[float], width: int, height: int, expand: float = EXPAND,
           pad: tuple[float, float] = (0.0, 0.0)) -> tuple[int, int, int, int] | None:
    """The box (x, y, w, h) enlarged by ``expand`` of its size on every side and by ``pad`` pixels
    (x, y) more, rounded outwards and clipped to the image: (x0, y0, x1, y1), or None when nothing
    of it lies inside the image."""
    x, y, w, h = (float(v) for v in box)
    mx, my = expand * w + pad[0], expand * h + pad[1]
    x0, y0 = max(0, math.floor(x - mx)), max(0, math.floor(y - my))
    x1, y1 = min(width, math.ceil(x + w + mx)), min(height, math.ceil(y + h + my))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def cover_region(rgb: np.ndarray, reg: tuple[int, int, int, int], face_side: float, method: str = "blur") -> None:
    """Blur or pixelate ``rgb[y0:y1, x0:x1]`` in place, as strongly as a face of ``face_side``
    pixels needs."""
    x0, y0, x1, y1 = reg
    part = rgb[y0:y1, x0:x1]
    if part.size == 0:
        return
    side = max(float(face_side), 1.0)
    if method == "pixelate":
        b = max(2, round(side / PIXEL_BLOCKS))
        h, w = part.shape[:2]
        ny, nx = -(-h // b), -(-w // b)
        padded = np.pad(part, ((0, ny * b - h), (0, nx * b - w), (0, 0)), mode="edge").astype(np.float32)
        means = padded.reshape(ny, b, nx, b, -1).mean(axis=(1, 3))
        part[...] = np.rint(np.repeat(np.repeat(means, b, axis=0), b, axis=1)[:h, :w]).astype(rgb.dtype)
        return
    from PIL import Image, ImageFilter

    sigma = max(2.0, side * BLUR_SIGMA)
    im = Image.fromarray(np.ascontiguousarray(part))
    part[...] = np.asarray(im.filter(ImageFilter.GaussianBlur(sigma)))


def cover_faces(rgb: np.ndarray, boxes: Iterable[Sequence[float]], *, method: str = "blur",
                expand: float = EXPAND, inplace: bool = False) -> np.ndarray:
    """``rgb`` (H, W, 3) uint8 with every face box (x, y, w, h) enlarged by ``expand`` and
    blurred or pixelated. A copy unless ``inplace``."""
    method, expand = check_method(method), check_expand(expand)
    out = rgb if inplace else np.array(rgb, copy=True)
    h, w = out.shape[:2]
    for box in boxes:
        reg = region(box, w, h, expand)
        if reg is not None:
            cover_region(out, reg, max(float(box[2]), float(box[3])), method)
    return out
