"""Body pose for the scene modality: 17 COCO keypoints from MoveNet SinglePose Lightning, and a
fixed-length feature vector of a person's pose for the scene models.

The model
    ``affekt/scene/data/movenet_single_pose_lightning_ptq.tflite``: Google's MoveNet SinglePose
    Lightning, post-training int8 quantised, as ``google-coral/test_data`` publishes it (commit
    104342d2; Apache-2.0, ``data/LICENSE.movenet``, ``data/NOTICE.movenet``). It takes one
    192x192 RGB uint8 image and gives (1, 1, 17, 3): for each keypoint (y, x, score), y and x in
    [0, 1] of that input. It runs through ``ai-edge-litert``'s interpreter (no TensorFlow): about
    6 ms for the model and 8 ms a person with the pre-processing, on one CPU thread (more threads
    do not help this small model). Its batch dimension cannot be resized (a GATHER_ND inside
    fails), so a batch is run one person at a time.

Pre-processing (after the official MoveNet code: the TF Hub tutorial's ``resize_with_pad`` and
``init_crop_region`` / ``determine_crop_region`` of ``tensorflow/examples``
``lite/examples/pose_estimation/raspberry_pi/ml/movenet.py``, and libcoral's reference test)
    1. The region the model sees (``fit="pad"``, the default, keeps the aspect ratio):
       * no box: the whole image, padded to a square (the official ``init_crop_region``);
       * a person box [x1, y1, x2, y2] (pixels): a square centred on the box, of side
         ``expand`` (1.2, MoveNet's ``_BODY_EXPANSION_RATIO``) x the box's longer side; when that
         square is larger than the image's longer side, the whole image padded to a square is
         used instead (as ``determine_crop_region`` does).
       ``fit="stretch"`` takes the image (or the box grown by ``expand`` on both axes) without
       keeping its aspect ratio, as libcoral's ``CopyResizedImage`` feeds the model in the test
       that made the reference keypoints shipped with the model.
    2. That region resampled to 192x192 by bilinear interpolation with half-pixel centres (what
       TensorFlow's ``tf.image.resize`` and TFLite's ``RESIZE_BILINEAR(half_pixel_centers)`` do;
       no antialiasing), parts outside the image black (``resize_with_pad`` pads with zeros),
       rounded to the nearest uint8 (the tutorial's cast and libcoral's copy truncate instead:
       this int8 model moves a keypoint by up to ~0.02 of the image for such half-level changes,
       which is the precision to expect of it). A region more than 4x the input's side (768 px)
       is first reduced by an integer k x k block mean (k = side // 384), so a large photograph
       does not alias.
    3. The keypoints mapped back: image coordinate = region origin + model coordinate x region
       size (the official ``_run_detector``), normalised by the image's size and clipped to [0, 1].

On the reference image (``reference_case``), ``fit="stretch"`` (the reference's own
pre-processing) lands every keypoint within 0.019 of the reference; the default ``fit="pad"``
within 0.034. The reference's scores lie on another quantisation grid than this file's output,
so they were made with an earlier build of the model: scores are not compared.

``pose_features`` turns keypoints and a person box into :data:`POSE_FEATURE_NAMES` (111
float32 values), each one described in :func:`pose_features`.
"""
from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError, MissingDependencyError

__all__ = ["KEYPOINT_NAMES", "MIN_SCORE", "MOVENET_SIZE", "POSE_FEATURE_NAMES", "Keypoints", "MoveNet",
           "keypoints_batch", "movenet_model_path", "pose_features", "reference_case"]

MOVENET_FILE = "movenet_single_pose_lightning_ptq.tflite"
MOVENET_SIZE = 192  # the model's square input, pixels
BOX_EXPANSION = 1.2  # the official _BODY_EXPANSION_RATIO: the square around a person is 1.2x its extent
MIN_SCORE = 0.2  # the official _MIN_CROP_KEYPOINT_SCORE: a keypoint under it is not trusted
_PREREDUCE_ABOVE = 4.0  # a region more than this many times the input's side is block-averaged first
_LITERT_PIP = "pip install ai-edge-litert"

KEYPOINT_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # COCO order; "left" is the person's own left
_K = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
_FIT = ("pad", "stretch")


# ----------------------------------------------------------------------------- files
def movenet_model_path() -> Path:
    """The bundled MoveNet SinglePose Lightning ``.tflite`` (``affekt/scene/data/``)."""
    path = Path(__file__).with_name("data") / MOVENET_FILE
    if not path.is_file():
        raise MissingDependencyError(f"MoveNet's model ({MOVENET_FILE}) is missing from {path.parent}; "
                                     "reinstall affekt")
    return path


def reference_case() -> tuple[np.ndarray, np.ndarray]:
    """The image the model's reference keypoints were made from (``squat.bmp`` of
    google-coral/test_data, stored as lossless WebP: the same 500x610 pixels) and those
    keypoints, ``(17, 3)`` float32 (y, x normalised, score), from the same source."""
    from affekt.face.images import load_image

    data = Path(__file__).with_name("data")
    rgb = load_image(data / "movenet_reference_squat.webp")
    rows = np.loadtxt(data / "movenet_reference_squat.csv", delimiter=",", skiprows=1, ndmin=2)
    # columns: pose_id, pose_score, keypoint_id, keypoint_score, keypoint_x, keypoint_y
    rows = rows[np.argsort(rows[:, 2])]
    return rgb, np.stack([rows[:, 5], rows[:, 4], rows[:, 3]], axis=1).astype(np.float32)


def _litert():
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(f"MoveNet needs the LiteRT runtime: {_LITERT_PIP}") from exc
    return Interpreter


# ----------------------------------------------------------------------------- checks
def _label(image, name: str | None) -> str:
    """How messages name an image: ``name``, else its path, else "image"."""
    if name is not None:
        return name
    return f"'{image}'" if isinstance(image, (str, os.PathLike)) else "image"


def _as_rgb(image, name: str | None = None) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array. Such an array is used as it is; anything else (grey, RGBA,
    uint16 / float arrays, a PIL image, a path, bytes) goes through affekt's image reader, which
    refuses a non-image with an :class:`~affekt.face.images.ImageError` naming the problem."""
    label = _label(image, name)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3:
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise InputError(f"{label}: the image is empty (shape {image.shape})")
        return image
    if image is None or isinstance(image, (bool, int, float, complex, list, tuple, dict, set)):
        raise InputError(f"{label}: expected an RGB image (a uint8 numpy array (H, W, 3), a PIL image, "
                         f"a path or bytes), got {type(image).__name__}")
    from affekt.face.images import load_image

    return load_image(image, name=name, min_side=1)


def _check_box(box, width: int, height: int, label: str = "image") -> tuple[float, float, float, float]:
    """A person box [x1, y1, x2, y2] in pixels: four finite numbers, positive width and height,
    overlapping the image. It may extend past the image's edges."""
    try:
        vals = np.asarray(box, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{label}: a person box must be four numbers [x1, y1, x2, y2], got {box!r}") from None
    if vals.size != 4:
        raise InputError(f"{label}: a person box must be four numbers [x1, y1, x2, y2], got {box!r}")
    x1, y1, x2, y2 = (float(v) for v in vals)
    shown = "[" + ", ".join(f"{v:g}" for v in (x1, y1, x2, y2)) + "]"
    if not all(math.isfinite(v) for v in (x1, y1, x2, y2)):
        raise InputError(f"{label}: the person box {shown} has a value that is not a finite number")
    if x2 <= x1 or y2 <= y1:
        raise InputError(f"{label}: the person box {shown} has zero or negative area "
                         "(expected [x1, y1, x2, y2] with x2 > x1 and y2 > y1, in pixels)")
    if x1 >= width or y1 >= height or x2 <= 0 or y2 <= 0:
        raise InputError(f"{label}: the person box {shown} lies outside the {width}x{height} image")
    return x1, y1, x2, y2


# ----------------------------------------------------------------------------- pre-processing
def _region(width: int, height: int, box, fit: str, expand: float) -> tuple[float, float, float, float]:
    """The region the model sees: (top, left, region height, region width) in pixels of the image
    (continuous coordinates: the image spans [0, width] x [0, height]); it may extend past the image."""
    if box is None:
        if fit == "stretch":
            return 0.0, 0.0, float(height), float(width)
        side = float(max(width, height))
        return (height - side) / 2.0, (width - side) / 2.0, side, side
    x1, y1, x2, y2 = box
    cx, cy, bw, bh = (x1 + x2) / 2.0, (y1 + y2) / 2.0, x2 - x1, y2 - y1
    if fit == "stretch":
        rh, rw = bh * expand, bw * expand
        return cy - rh / 2.0, cx - rw / 2.0, rh, rw
    side = max(bw, bh) * expand
    if side > max(width, height):  # as large as the image: the whole image, padded to a square
        return _region(width, height, None, fit, expand)
    return cy - side / 2.0, cx - side / 2.0, side, side


def _axis(start: float, length: float, n_in: int, lo: int, k: int, size: int):
    """Sample positions of one axis: for each of ``size`` output pixels, the two neighbouring
    pixels of the (sub-)array (rows ``lo``.. of the image, reduced by ``k``), their weight, and
    whether the sample's centre lies inside the image."""
    src = start + (np.arange(size) + 0.5) * (length / size)  # continuous image coordinate of each centre
    inside = (src >= 0.0) & (src <= n_in)
    red = (src - lo) / k - 0.5  # pixel-centre coordinate in the reduced sub-array
    f = np.floor(red)
    w = (red - f).astype(np.float32)
    return f.astype(np.int64), w, inside


def _model_input(rgb: np.ndarray, region: tuple[float, float, float, float], size: int = MOVENET_SIZE) -> np.ndarray:
    """The region resampled to ``size`` x ``size`` RGB uint8 (bilinear, half-pixel centres, black
    outside the image)."""
    H, W = rgb.shape[:2]
    top, left, rh, rw = region
    # the rows / columns the samples can touch, one pixel of margin
    ya, yb = max(0, math.floor(top) - 1), min(H, math.ceil(top + rh) + 1)
    xa, xb = max(0, math.floor(left) - 1), min(W, math.ceil(left + rw) + 1)
    if yb <= ya or xb <= xa:
        return np.zeros((size, size, 3), np.uint8)
    k = max(1, int(min(rh, rw) / size / (_PREREDUCE_ABOVE / 2.0))) if max(rh, rw) > _PREREDUCE_ABOVE * size else 1
    sub = rgb[ya:yb, xa:xb]
    if k > 1:
        ny, nx = sub.shape[0] // k, sub.shape[1] // k
        if ny >= 1 and nx >= 1:  # k x k block means (Pillow's reduce, in C)
            from PIL import Image

            sub = np.asarray(Image.fromarray(np.ascontiguousarray(sub[:ny * k, :nx * k])).reduce(k))
        else:
            k = 1
    y0, wy, iny = _axis(top, rh, H, ya, k, size)
    x0, wx, inx = _axis(left, rw, W, xa, k, size)
    hy, hx = sub.shape[0] - 1, sub.shape[1] - 1
    ylo, yhi = np.clip(y0, 0, hy), np.clip(y0 + 1, 0, hy)
    xlo, xhi = np.clip(x0, 0, hx), np.clip(x0 + 1, 0, hx)

    def at(rows, cols):  # only the size x size pixels needed are gathered, then made float
        return np.take(sub[rows], cols, axis=1).astype(np.float32, copy=False)

    wxc = wx[None, :, None]
    top_row = at(ylo, xlo) * (1.0 - wxc) + at(ylo, xhi) * wxc
    bottom_row = at(yhi, xlo) * (1.0 - wxc) + at(yhi, xhi) * wxc
    wyc = wy[:, None, None]
    out = top_row * (1.0 - wyc) + bottom_row * wyc
    out *= (iny[:, None] & inx[None, :])[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Keypoints:
    """One person's 17 keypoints.

    ``array``: (17, 3) float32, each row (y, x, score) with y and x in [0, 1] of the whole image
    (y from the top, x from the left) and the model's confidence in [0, 1]; rows in
    :data:`KEYPOINT_NAMES` (COCO) order. ``image_size``: (width, height) in pixels. ``box``: the
    person box [x1, y1, x2, y2] in pixels that was given, or None (the whole image).
    ``np.asarray(keypoints)`` is ``array``."""

    array: np.ndarray
    image_size: tuple[int, int]
    box: tuple[float, float, float, float] | None = None

    names = KEYPOINT_NAMES

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    @property
    def scores(self) -> np.ndarray:
        return self.array[:, 2]

    def pixels(self) -> np.ndarray:
        """(17, 2) float32: (x, y) in pixels of the image."""
        w, h = self.image_size
        return np.stack([self.array[:, 1] * w, self.array[:, 0] * h], axis=1).astype(np.float32)

    def in_box(self) -> np.ndarray:
        """(17, 3) float32: (y, x, score) with y and x relative to the box (0 at its top / left
        edge, 1 at its bottom / right edge; a point outside the box is outside [0, 1]). Without a
        box, the same as ``array``."""
        if self.box is None:
            return self.array.copy()
        w, h = self.image_size
        x1, y1, x2, y2 = self.box
        out = self.array.copy()
        out[:, 0] = (self.array[:, 0] * h - y1) / (y2 - y1)
        out[:, 1] = (self.array[:, 1] * w - x1) / (x2 - x1)
        return out

    def to_dict(self) -> dict:
        return {"box": None if self.box is None else [round(float(v), 1) for v in self.box],
                "keypoints": {n: {"y": round(float(y), 4), "x": round(float(x), 4), "score": round(float(s), 4)}
                              for n, (y, x, s) in zip(KEYPOINT_NAMES, self.array)}}


# ----------------------------------------------------------------------------- the model
class MoveNet:
    """MoveNet SinglePose Lightning through ai-edge-litert.

    ``threads``: the interpreter's CPU threads (1: about 6 ms a person; more rarely helps this
    small model). ``fit``: ``"pad"`` (default; the region is a square, aspect kept) or
    ``"stretch"`` (see the module's notes). ``expand``: how much larger than the person box the
    region is (1.2). ``model_path``: another MoveNet SinglePose ``.tflite`` (default: the bundled one).

    The interpreter is made at the first call, and one instance's calls are serialised by a lock,
    so an instance may be shared by threads (for parallel scoring, make one instance a thread).
    """

    def __init__(self, threads: int | None = 1, *, fit: str = "pad", expand: float = BOX_EXPANSION,
                 model_path=None):
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, (int, np.integer))
                                    or threads < 1):
            raise InputError(f"MoveNet: threads must be a whole number >= 1 (or None), got {threads!r}")
        if fit not in _FIT:
            raise InputError(f"MoveNet: fit must be one of {', '.join(_FIT)}, got {fit!r}")
        if not isinstance(expand, (int, float, np.floating)) or not 1.0 <= float(expand) <= 4.0:
            raise InputError(f"MoveNet: expand must be a number from 1 to 4, got {expand!r}")
        self.threads = None if threads is None else int(threads)
        self.fit = fit
        self.expand = float(expand)
        self.model_path = Path(model_path) if model_path is not None else movenet_model_path()
        self._lock = threading.Lock()
        self._it = None

    def _interpreter(self):
        """(interpreter, input detail, output detail), made once (the caller holds the lock)."""
        if self._it is None:
            from affekt.face.detect import _quiet_stderr

            Interpreter = _litert()
            kw = {} if self.threads is None else {"num_threads": self.threads}
            try:
                with _quiet_stderr():  # LiteRT prints "INFO: Created TensorFlow Lite XNNPACK delegate" on fd 2
                    it = Interpreter(model_path=str(self.model_path), **kw)
                    it.allocate_tensors()
            except ValueError as exc:
                raise InputError(f"{self.model_path}: not a TFLite model LiteRT can load ({exc})") from None
            inp, out = it.get_input_details()[0], it.get_output_details()[0]
            if tuple(inp["shape"]) != (1, MOVENET_SIZE, MOVENET_SIZE, 3) or tuple(out["shape"][-2:]) != (17, 3):
                raise InputError(f"{self.model_path}: not MoveNet SinglePose Lightning (input {[int(v) for v in inp['shape']]}, "
                                 f"output {[int(v) for v in out['shape']]}; expected [1, 192, 192, 3] -> [1, 1, 17, 3])")
            self._it = (it, inp, out)
        return self._it

    def _run(self, x: np.ndarray) -> np.ndarray:
        """One (192, 192, 3) uint8 input -> (17, 3) float32 (y, x, score) in the input's [0, 1]."""
        with self._lock:
            it, inp, out = self._interpreter()
            dtype = inp["dtype"]
            scale, zero = inp.get("quantization", (0.0, 0))
            if dtype == np.uint8 and not scale:
                t = x
            elif np.issubdtype(dtype, np.floating):
                t = x.astype(dtype)  # the float MoveNet models take 0..255 as well
            elif scale:  # an int8 / uint8 input quantised from 0..255
                info = np.iinfo(dtype)
                t = np.clip(np.rint(x / scale + zero), info.min, info.max).astype(dtype)
            else:
                t = x.astype(dtype)
            it.set_tensor(inp["index"], t[None])
            it.invoke()
            raw = it.get_tensor(out["index"])
        oscale, ozero = out.get("quantization", (0.0, 0))
        res = raw.astype(np.float32).reshape(17, 3)
        if oscale and not np.issubdtype(raw.dtype, np.floating):
            res = (res - ozero) * oscale
        return res

    def keypoints(self, image, box=None, *, name: str | None = None) -> Keypoints:
        """The keypoints of the person in ``image`` (an RGB uint8 array (H, W, 3); other arrays, a
        PIL image, a path or bytes are read as affekt reads images), or of the person in ``box``
        ([x1, y1, x2, y2], pixels) when given. ``name``: how error messages name the image
        (default: its path, or "image").
        Raises :class:`~affekt.core.errors.InputError` for a non-image or a box that is outside
        the image or has no area."""
        rgb = _as_rgb(image, name)
        H, W = rgb.shape[:2]
        b = None if box is None else _check_box(box, W, H, _label(image, name))
        top, left, rh, rw = _region(W, H, b, self.fit, self.expand)
        out = self._run(_model_input(rgb, (top, left, rh, rw)))
        y = (top + out[:, 0] * rh) / H
        x = (left + out[:, 1] * rw) / W
        arr = np.stack([np.clip(y, 0.0, 1.0), np.clip(x, 0.0, 1.0), np.clip(out[:, 2], 0.0, 1.0)], axis=1)
        return Keypoints(arr.astype(np.float32), (int(W), int(H)), b)

    __call__ = keypoints

    def keypoints_batch(self, images_and_boxes: Iterable) -> np.ndarray:
        """:func:`keypoints_batch` with this model."""
        out = []
        for i, item in enumerate(images_and_boxes):
            image, box = _split_item(item)
            where = f" ({image})" if isinstance(image, (str, os.PathLike)) else ""
            out.append(self.keypoints(image, box, name=f"item {i}{where}").array)
        return np.stack(out) if out else np.zeros((0, 17, 3), np.float32)


def _split_item(item):
    """An item of a batch: an image, or (image, box) / (image, None)."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return item[0], item[1]
    return item, None


_DEFAULT: dict[tuple, MoveNet] = {}
_DEFAULT_LOCK = threading.Lock()


def keypoints_batch(images_and_boxes: Iterable, *, model: MoveNet | None = None, threads: int | None = 1,
                    fit: str = "pad") -> np.ndarray:
    """Keypoints of many people: ``images_and_boxes`` yields images, or ``(image, box)`` pairs
    (box [x1, y1, x2, y2] in pixels, or None for the whole image). Returns ``(n, 17, 3)`` float32
    (y, x normalised to each whole image, score), in the input order. ``model``: a
    :class:`MoveNet` to use (default: one shared per ``threads`` / ``fit``, made once)."""
    if model is None:
        key = (threads, fit)
        with _DEFAULT_LOCK:
            model = _DEFAULT.get(key)
            if model is None:
                model = _DEFAULT[key] = MoveNet(threads, fit=fit)
    return model.keypoints_batch(images_and_boxes)


# ----------------------------------------------------------------------------- features
_GEOMETRY = (
    # name, needs a flag
    ("left_elbow_angle", True), ("right_elbow_angle", True),
    ("left_knee_angle", True), ("right_knee_angle", True),
    ("left_shoulder_angle", True), ("right_shoulder_angle", True),
    ("left_hip_angle", True), ("right_hip_angle", True),
    ("shoulder_torso_ratio", True), ("torso_lean", True), ("head_tilt", True), ("head_height", True),
    ("left_wrist_raise", True), ("right_wrist_raise", True),
    ("left_hand_above_head", True), ("right_hand_above_head", True),
    ("arm_spread", True), ("body_width", True), ("body_height", True),
    ("centre_x_in_box", False), ("centre_y_in_box", False), ("centre_from_torso", False),
    ("visible_fraction", False), ("mean_score", False),
)

POSE_FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"{n}_{c}" for n in KEYPOINT_NAMES for c in ("x", "y"))
    + tuple(f"{n}_score" for n in KEYPOINT_NAMES)
    + tuple(f"{n}_visible" for n in KEYPOINT_NAMES)
    + tuple(n for n, _ in _GEOMETRY)
    + tuple(f"{n}_valid" for n, flag in _GEOMETRY if flag)
)


def _angle(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> float:
    """The angle at ``b`` between ``a`` and ``c``, divided by pi (0: folded back, 1: straight)."""
    u, v = a - b, c - b
    nu, nv = float(np.hypot(*u)), float(np.hypot(*v))
    if nu < 1e-9 or nv < 1e-9:
        return float("nan")
    cos = float(np.dot(u, v)) / (nu * nv)
    return math.acos(min(1.0, max(-1.0, cos))) / math.pi


def pose_features(kps, box=None, *, image_size=None, min_score: float = MIN_SCORE) -> np.ndarray:
    """A person's pose as ``len(POSE_FEATURE_NAMES)`` (111) float32 values, for the scene models.

    ``kps``: a :class:`Keypoints`, or an array (17, 3) of (y, x, score) normalised to the image
    (as :func:`keypoints_batch` gives; then ``image_size`` = (width, height) in pixels is needed),
    or (n, 17, 3) with ``box`` (n, 4) for n people (returns (n, 111)). ``box``: the person box
    [x1, y1, x2, y2] in pixels (default: the box the keypoints were found in, else the whole
    image). A keypoint whose score is under ``min_score`` (0.2) is *not visible*: its
    coordinates are 0 and its ``_visible`` flag 0; a geometric feature that needs it is 0 with
    its ``_valid`` flag 0.

    Geometry is measured in pixels (so angles are true angles whatever the image's aspect), then
    lengths are divided by the box's height ``bh``. The *centre* is the mean of the visible
    shoulders and hips (the hip / shoulder midpoint), or the box's centre when none is visible.
    Image y grows downwards; "left" is the person's own left.

    In order:

    * ``<keypoint>_x``, ``<keypoint>_y`` (34): (point - centre) / bh.
    * ``<keypoint>_score`` (17): the model's confidence (kept for every keypoint).
    * ``<keypoint>_visible`` (17): 1 when score >= ``min_score``.
    * ``left/right_elbow_angle``: angle shoulder-elbow-wrist / pi (1: arm straight).
    * ``left/right_knee_angle``: angle hip-knee-ankle / pi (1: leg straight).
    * ``left/right_shoulder_angle``: angle hip-shoulder-elbow / pi (0: arm down by the side,
      0.5: held out sideways or forwards, 1: raised straight up).
    * ``left/right_hip_angle``: angle shoulder-hip-knee / pi (1: standing straight, ~0.5: sitting).
    * ``shoulder_torso_ratio``: shoulder width / torso length (shoulder midpoint to hip midpoint);
      small when the person is turned sideways.
    * ``torso_lean``: signed angle of the torso (hip midpoint to shoulder midpoint) from upright,
      / pi, in [-1, 1]; positive leans towards the image's right.
    * ``head_tilt``: signed angle of the line from the right to the left eye (ears when the eyes
      are not both visible) from horizontal, / pi.
    * ``head_height``: (shoulder midpoint's y - nose's y) / bh; small or negative when the head
      is bowed.
    * ``left/right_wrist_raise``: (that shoulder's y - that wrist's y) / bh; positive when the
      wrist is above the shoulder.
    * ``left/right_hand_above_head``: 1 when that wrist is above the highest visible point of
      the head (nose, eyes, ears), else 0.
    * ``arm_spread``: distance between the wrists / bh.
    * ``body_width``, ``body_height``: the extent of the visible keypoints / bh (an open,
      expansive pose is wide and tall; a huddled one small). Valid with 2 or more visible.
    * ``centre_x_in_box``, ``centre_y_in_box``: the centre in box fractions (0.5: the box's middle).
    * ``centre_from_torso``: 1 when the centre is the torso's, 0 when it fell back to the box's.
    * ``visible_fraction``: share of the 17 keypoints visible; ``mean_score``: their mean score.
    * ``<feature>_valid`` (19): 1 when the geometric feature above could be measured, one flag
      for each of the first 19 (every geometric feature but the last five).
    """
    arr = np.asarray(kps.array if isinstance(kps, Keypoints) else kps, dtype=np.float64)
    if arr.ndim == 3:
        if arr.shape[1:] != (17, 3):
            raise InputError(f"pose_features: keypoints must be (n, 17, 3), got shape {arr.shape}")
        boxes = None if box is None else np.asarray(box, dtype=np.float64).reshape(-1, 4)
        sizes = None if image_size is None else np.broadcast_to(np.asarray(image_size, np.float64).reshape(-1, 2),
                                                                (len(arr), 2))
        if boxes is not None and len(boxes) != len(arr):
            raise InputError(f"pose_features: {len(arr)} people but {len(boxes)} boxes")
        return np.stack([pose_features(arr[i], None if boxes is None else boxes[i],
                                       image_size=None if sizes is None else sizes[i], min_score=min_score)
                         for i in range(len(arr))]) if len(arr) else np.zeros((0, len(POSE_FEATURE_NAMES)), np.float32)
    if arr.shape != (17, 3):
        raise InputError(f"pose_features: keypoints must be (17, 3) rows of (y, x, score), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError("pose_features: the keypoints contain NaN or infinite values")
    if isinstance(kps, Keypoints):
        W, H = kps.image_size
        if box is None:
            box = kps.box
    else:
        if image_size is None:
            raise InputError("pose_features: keypoints given as an array need image_size=(width, height) in pixels")
        W, H = (float(v) for v in np.asarray(image_size, dtype=np.float64).reshape(-1)[:2])
    if not (W > 0 and H > 0):
        raise InputError(f"pose_features: image_size must be positive, got {(W, H)}")
    x1, y1, x2, y2 = (0.0, 0.0, float(W), float(H)) if box is None else _check_box(box, math.ceil(W), math.ceil(H),
                                                                                  "pose_features")
    bw, bh = x2 - x1, y2 - y1

    pts = np.stack([arr[:, 1] * W, arr[:, 0] * H], axis=1)  # (17, 2) x, y pixels
    score = arr[:, 2]
    vis = score >= min_score

    def ok(*names: str) -> bool:
        return all(vis[_K[n]] for n in names)

    def p(n: str) -> np.ndarray:
        return pts[_K[n]]

    torso = [_K[n] for n in ("left_shoulder", "right_shoulder", "left_hip", "right_hip") if vis[_K[n]]]
    if torso:
        sh = [_K[n] for n in ("left_shoulder", "right_shoulder") if vis[_K[n]]]
        hp = [_K[n] for n in ("left_hip", "right_hip") if vis[_K[n]]]
        if sh and hp:  # the midpoint of the shoulder midpoint and the hip midpoint
            centre = (pts[sh].mean(axis=0) + pts[hp].mean(axis=0)) / 2.0
        else:
            centre = pts[torso].mean(axis=0)
    else:
        centre = np.array([(x1 + x2) / 2.0, (y1 + y2) / 2.0])

    rel = (pts - centre) / bh
    rel[~vis] = 0.0
    geo: dict[str, float] = {}

    def put(name: str, value: float, valid: bool) -> None:
        good = valid and math.isfinite(value)
        geo[name] = value if good else 0.0
        geo[name + "_valid"] = 1.0 if good else 0.0

    for side in ("left", "right"):
        s, e, w, h, k, a = (f"{side}_{j}" for j in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
        put(f"{side}_elbow_angle", _angle(p(s), p(e), p(w)) if ok(s, e, w) else 0.0, ok(s, e, w))
        put(f"{side}_knee_angle", _angle(p(h), p(k), p(a)) if ok(h, k, a) else 0.0, ok(h, k, a))
        put(f"{side}_shoulder_angle", _angle(p(h), p(s), p(e)) if ok(h, s, e) else 0.0, ok(h, s, e))
        put(f"{side}_hip_angle", _angle(p(s), p(h), p(k)) if ok(s, h, k) else 0.0, ok(s, h, k))

    all4 = ok("left_shoulder", "right_shoulder", "left_hip", "right_hip")
    sh_mid = (p("left_shoulder") + p("right_shoulder")) / 2.0
    hip_mid = (p("left_hip") + p("right_hip")) / 2.0
    torso_len = float(np.hypot(*(sh_mid - hip_mid)))
    shoulder_w = float(np.hypot(*(p("left_shoulder") - p("right_shoulder"))))
    put("shoulder_torso_ratio", shoulder_w / torso_len if torso_len > 1e-9 else float("nan"), all4)
    d = sh_mid - hip_mid
    put("torso_lean", math.atan2(d[0], -d[1]) / math.pi if torso_len > 1e-9 else float("nan"), all4)

    pair = next(((a, b) for a, b in (("left_eye", "right_eye"), ("left_ear", "right_ear")) if ok(a, b)), None)
    if pair is not None:
        v = p(pair[0]) - p(pair[1])  # from the right to the left eye: pointing to the image's right when facing the camera
        if v[0] < 0:  # seen from behind (or mislabelled): measure the line the same way round
            v = -v
        put("head_tilt", math.atan2(v[1], v[0]) / math.pi, True)
    else:
        put("head_tilt", 0.0, False)
    both_sh = ok("left_shoulder", "right_shoulder")
    put("head_height", float(sh_mid[1] - p("nose")[1]) / bh if both_sh and ok("nose") else 0.0,
        both_sh and ok("nose"))
    head = [_K[n] for n in ("nose", "left_eye", "right_eye", "left_ear", "right_ear") if vis[_K[n]]]
    head_top = float(pts[head, 1].min()) if head else float("nan")
    for side in ("left", "right"):
        s, w = f"{side}_shoulder", f"{side}_wrist"
        put(f"{side}_wrist_raise", float(p(s)[1] - p(w)[1]) / bh if ok(s, w) else 0.0, ok(s, w))
    for side in ("left", "right"):
        w = f"{side}_wrist"
        put(f"{side}_hand_above_head", 1.0 if ok(w) and head and p(w)[1] < head_top else 0.0, ok(w) and bool(head))
    put("arm_spread", float(np.hypot(*(p("left_wrist") - p("right_wrist")))) / bh
        if ok("left_wrist", "right_wrist") else 0.0, ok("left_wrist", "right_wrist"))
    n_vis = int(vis.sum())
    if n_vis >= 2:
        ext = pts[vis].max(axis=0) - pts[vis].min(axis=0)
        put("body_width", float(ext[0]) / bh, True)
        put("body_height", float(ext[1]) / bh, True)
    else:
        put("body_width", 0.0, False)
        put("body_height", 0.0, False)
    geo["centre_x_in_box"] = float(centre[0] - x1) / bw
    geo["centre_y_in_box"] = float(centre[1] - y1) / bh
    geo["centre_from_torso"] = 1.0 if torso else 0.0
    geo["visible_fraction"] = n_vis / 17.0
    geo["mean_score"] = float(score.mean())

    out = np.concatenate([
        rel.reshape(-1),  # x, y per keypoint
        score,
        vis.astype(np.float64),
        [geo[n] for n, _ in _GEOMETRY],
        [geo[n + "_valid"] for n, flag in _GEOMETRY if flag],
    ]).astype(np.float32)
    assert out.shape == (len(POSE_FEATURE_NAMES),)
    return out

