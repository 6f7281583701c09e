"""Face crops: a detected face rotated upright by its eyes and cut to a model's input, or a
whole image taken as one face.

Crops are grey uint8 squares (``size`` x ``size``, 48 for FER2013-trained models). The square is
centred on the face box and as wide as its larger side times ``scale``; FER2013's faces are
framed tightly (brows to chin), which BlazeFace's box matches at ``scale`` 1.0.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image


def _grey(rgb: np.ndarray) -> Image.Image:
    if rgb.ndim == 2:
        return Image.fromarray(rgb, "L")
    return Image.fromarray(rgb, "RGB").convert("L")


def whole_crop(rgb: np.ndarray, size: int = 48) -> np.ndarray:
    """The whole image as one face: grey, centre-cropped to a square, resized to ``size``."""
    im = _grey(rgb)
    w, h = im.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    im = im.crop((left, top, left + s, top + s))
    if s != size:
        im = im.resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.asarray(im, dtype=np.uint8)


def eye_angle(keypoints) -> float:
    """The in-plane roll of a face in radians: the angle of the line from the subject's right
    eye (viewer's left) to the left eye; 0 when the eyes are level."""
    if keypoints is None:
        return 0.0
    kp = np.asarray(keypoints, dtype=np.float64)
    (rx, ry), (lx, ly) = kp[0], kp[1]
    if not np.isfinite([rx, ry, lx, ly]).all() or (lx - rx) ** 2 + (ly - ry) ** 2 < 1:
        return 0.0
    return math.atan2(ly - ry, lx - rx)


def framed_box(box, framing=(0.0, 0.0, 1.0)) -> tuple[float, float, float, float]:
    """A detector's box moved and resized to a framing ``(dx, dy, s)``: centre shifted by
    ``(dx * w, dy * h)``, a square of side ``s * max(w, h)``. Fitted per detector to reproduce
    FER2013's own crops (``benchmarks/video_crop_scale.py``)."""
    x, y, w, h = (float(v) for v in box)
    dx, dy, s = framing
    cx, cy = x + w / 2 + dx * w, y + h / 2 + dy * h
    side = s * max(w, h)
    return (cx - side / 2, cy - side / 2, side, side)


def align_crop(rgb: np.ndarray, box, keypoints=None, size: int = 48, scale: float = 1.0) -> np.ndarray:
    """The face in ``box`` (x, y, w, h), turned so its eyes are level, as a grey ``size``
    square. Pixels outside the image are filled with the border's."""
    x, y, w, h = (float(v) for v in box)
    cx, cy = x + w / 2, y + h / 2
    side = max(w, h) * scale
    ang = eye_angle(keypoints)
    im = _grey(rgb)
    # a big face is first cut out (with room for the rotation) and shrunk near the target size,
    # so the affine warp does not alias and never touches the rest of a large image
    reach = side * math.sqrt(2) / 2 + 2
    left, top = int(math.floor(cx - reach)), int(math.floor(cy - reach))
    right, bottom = int(math.ceil(cx + reach)), int(math.ceil(cy + reach))
    im = im.crop((left, top, right, bottom))  # PIL pads outside the image with black
    cx, cy = cx - left, cy - top
    factor = side / (2 * size)
    if factor > 1:
        nw, nh = max(1, round(im.width / factor)), max(1, round(im.height / factor))
        im = im.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0)
        sx, sy = im.width / (right - left), im.height / (bottom - top)
        cx, cy, side = cx * sx, cy * sy, side * sx
    s = side / size  # input pixels per output pixel
    cos, sin = math.cos(ang) * s, math.sin(ang) * s
    # output (u, v) -> input: centre + R(ang) * s * ((u, v) - size/2)
    c0 = cx - cos * size / 2 + sin * size / 2
    f0 = cy - sin * size / 2 - cos * size / 2
    out = im.transform((size, size), Image.Transform.AFFINE, (cos, -sin, c0, sin, cos, f0),
                       resample=Image.Resampling.BILINEAR)
    a = np.asarray(out, dtype=np.uint8)
    return _fill_outside(a, rgb, box, keypoints, size, scale, ang)


def _fill_outside(a: np.ndarray, rgb, box, keypoints, size, scale, ang) -> np.ndarray:
    """Black where the square left the image is replaced by the nearest inside pixel (edge
    padding), so a face at the border is not framed by a black bar the model never saw."""
    h_img, w_img = rgb.shape[:2]
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * scale
    cx, cy = x + w / 2, y + h / 2
    if cx - side * 0.71 >= 0 and cy - side * 0.71 >= 0 and cx + side * 0.71 <= w_img and cy + side * 0.71 <= h_img:
        return a
    u = (np.arange(size) + 0.5 - size / 2) * side / size
    uu, vv = np.meshgrid(u, u)
    px = cx + math.cos(ang) * uu - math.sin(ang) * vv
    py = cy + math.sin(ang) * uu + math.cos(ang) * vv
    outside = (px < 0) | (py < 0) | (px >= w_img) | (py >= h_img)
    if not outside.any() or outside.all():
        return a
    from scipy import ndimage

    idx = ndimage.distance_transform_edt(outside, return_distances=False, return_indices=True)
    return a[idx[0], idx[1]]
