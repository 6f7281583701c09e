"""What the scene model reads of each person, computed once and cached.

Four streams, each a vector (or, for a backbone stream fine-tuned, a feature map) per person:

* ``body`` - the person's box cut out and letterboxed (grey bars, aspect kept) to
  ``body_size`` squared, through a frozen ImageNet backbone (:class:`affekt.scene._nets.Trunk`);
* ``context`` - the whole image squeezed to ``context_size`` squared, the person's box greyed
  out (``mask_person``; ImageNet's mean colour, which the backbone reads as 0), through the same
  backbone: the branch must read the scene, not the person. Unmasked, it is one computation per
  image, shared by its people;
* ``face`` - the face BlazeFace finds in the body box (the largest whose centre lies in it),
  cropped as the video pipeline frames faces, scored by the face model (``face-default``): its
  7 probabilities and a found flag (all 0 when there is no face);
* ``pose`` - MoveNet SinglePose Lightning's key points in the body box, as
  :func:`affekt.scene.pose.pose_features` describes them.

Each person's features are kept in memory for the run (so training, dev scoring, threshold
tuning and evaluation read each image once) and, when :func:`affekt.core.cache.cache_root` says
so (``affekt train`` / ``evaluate``; ``AFFEKT_CACHE``), on disk, keyed by a digest of the image
file's bytes, the stream's settings and the box.
"""
from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affekt.core.cache import cache_root, file_digest, read_entry, write_entry
from affekt.core.errors import DataError, InputError

#: bump when what a stream computes changes: old cache entries are then not read
FEATURE_VERSION = 1
STREAMS = ("body", "context", "face", "pose")
#: longest side an image is decoded at (a JPEG is decoded reduced); boxes are scaled to it
DECODE_SIDE = 1280
#: the grey that fills masked boxes and letterbox bars: ImageNet's mean colour
GREY = (124, 116, 104)
#: how faces are cut from BlazeFace's boxes (the video pipeline's framing, fitted to FER2013)
FACE_FRAMING = (0.003, -0.113, 1.179)


def parse_streams(streams) -> tuple[str, ...]:
    """``"body,context"`` (or a list) -> ('body', 'context'), checked."""
    if isinstance(streams, str):
        names = [s.strip().lower() for s in streams.replace("+", ",").split(",") if s.strip()]
    else:
        names = [str(s).strip().lower() for s in (streams or [])]
    unknown = [s for s in names if s not in STREAMS]
    if unknown or not names:
        raise InputError(f"streams={streams!r}: use a comma-separated list of {', '.join(STREAMS)} "
                         f"(e.g. body,context or body,context,face,pose)")
    return tuple(s for s in STREAMS if s in names)


# ------------------------------------------------------------------------------ images
@dataclass
class Picture:
    """One decoded image: ``rgb`` (possibly reduced) and the factors from the image's own
    pixels to it."""

    rgb: np.ndarray
    sx: float = 1.0
    sy: float = 1.0
    warnings: tuple = ()

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in the image's own pixels."""
        h, w = self.rgb.shape[:2]
        return round(w / self.sx), round(h / self.sy)

    def scaled(self, box):
        x1, y1, x2, y2 = box
        return (x1 * self.sx, y1 * self.sy, x2 * self.sx, y2 * self.sy)


def _model_digest(name: str) -> str:
    """A short digest of a model folder's manifest and weights' sizes and times (bundled or a path)."""

    from affekt.core.registry import resolve

    try:
        folder = Path(resolve(name))
    except Exception:  # noqa: BLE001 - an unknown model fails later, where it is loaded, with its own message
        return "unknown"
    h = hashlib.sha1()
    for f in sorted(folder.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(folder)}|{st.st_size}|{int(st.st_mtime)}".encode())
    return h.hexdigest()[:12]


def read_picture(x) -> Picture:
    """Decode an image path / array (an :class:`affekt.face.images.ImageError` when it cannot be)."""
    from affekt.face.images import load_image_checked, oriented_size

    name = None if isinstance(x, (str, os.PathLike)) else "image array"
    rgb, warns = load_image_checked(x, max_side=DECODE_SIDE, name=name)
    sx = sy = 1.0
    if max(rgb.shape[:2]) >= DECODE_SIDE:  # decoded reduced: boxes are in the image's own pixels
        size = oriented_size(x) if isinstance(x, (str, os.PathLike)) else (
            (np.asarray(x).shape[1], np.asarray(x).shape[0]) if np.ndim(x) >= 2 else None)
        if size and size[0] != rgb.shape[1]:
            sx, sy = rgb.shape[1] / size[0], rgb.shape[0] / size[1]
    return Picture(rgb, sx, sy, tuple(warns))


def body_crop(rgb: np.ndarray, box, size: int) -> np.ndarray:
    """The box (x1, y1, x2, y2, pixels of ``rgb``) letterboxed into a ``size`` square (grey bars)."""
    from PIL import Image

    h, w = rgb.shape[:2]
    x1, y1 = int(np.clip(np.floor(box[0]), 0, w - 1)), int(np.clip(np.floor(box[1]), 0, h - 1))
    x2, y2 = int(np.clip(np.ceil(box[2]), x1 + 1, w)), int(np.clip(np.ceil(box[3]), y1 + 1, h))
    crop = Image.fromarray(np.ascontiguousarray(rgb[y1:y2, x1:x2]))
    scale = size / max(crop.width, crop.height)
    nw, nh = max(1, round(crop.width * scale)), max(1, round(crop.height * scale))
    crop = crop.resize((nw, nh), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out = np.empty((size, size, 3), np.uint8)
    out[:] = GREY
    ox, oy = (size - nw) // 2, (size - nh) // 2
    out[oy:oy + nh, ox:ox + nw] = np.asarray(crop)
    return out


def squeezed(rgb: np.ndarray, size: int) -> np.ndarray:
    """The whole image resized to a ``size`` square (aspect not kept, as Kosti et al. do)."""
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0))


def masked(small: np.ndarray, box, width: int, height: int) -> np.ndarray:
    """A copy of the squeezed image ``small`` with ``box`` (pixels of a ``width`` x ``height``
    image) filled grey, and the pixel around it."""
    size = small.shape[0]
    out = small.copy()
    # one pixel more on each side: the resampling filter spreads the box's edge over its neighbours
    x1, x2 = int(np.floor(box[0] * size / width)) - 1, int(np.ceil(box[2] * size / width)) + 1
    y1, y2 = int(np.floor(box[1] * size / height)) - 1, int(np.ceil(box[3] * size / height)) + 1
    out[max(0, y1):max(0, y2), max(0, x1):max(0, x2)] = GREY
    return out


# ------------------------------------------------------------------------------ caching
_MEMORY: OrderedDict[str, Any] = OrderedDict()
_MEMORY_MAX = 400_000
_LOCK = threading.Lock()


def image_key(x) -> str | None:
    """A digest of an image's content: of a file's bytes (memoised by path, size and mtime),
    of an array's values; None when there is nothing to read."""
    if isinstance(x, np.ndarray):
        h = hashlib.sha1(np.ascontiguousarray(x).tobytes())
        h.update(f"{x.shape}{x.dtype}".encode())
        return "a" + h.hexdigest()
    if not isinstance(x, (str, os.PathLike)):
        return None
    try:
        return file_digest(x)
    except OSError:
        return None


def _box_text(box) -> str:
    return "none" if box is None else ",".join(f"{float(v):.1f}" for v in box)


def _entry_key(img: str, kind: str, box) -> str:
    # the cache folder is part of the key, as for speech: a run that points AFFEKT_CACHE elsewhere
    # (a test's stand-in model) is not served from memory either
    return hashlib.sha1(f"{img}|{kind}|{_box_text(box)}|{cache_root()}".encode()).hexdigest()


def _disk_file(key: str, kind: str, persistent: bool) -> Path | None:
    root = cache_root()
    if root is None or not persistent:
        return None
    return root / "scene" / kind.split("|")[0] / key[:2] / f"{key}.pkl"


def _lookup(key: str, kind: str, persistent: bool):
    if key in _MEMORY:
        return _MEMORY[key]
    v = read_entry(_disk_file(key, kind, persistent))  # a damaged entry (a killed run): computed again
    if v is not None:
        _remember(key, v)
    return v


def _remember(key: str, value) -> None:
    with _LOCK:
        _MEMORY[key] = value
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > _MEMORY_MAX:
            _MEMORY.popitem(last=False)


def _store(key: str, kind: str, value, persistent: bool) -> None:
    _remember(key, value)
    write_entry(_disk_file(key, kind, persistent), value)


def clear_memory() -> None:
    """Forget the features kept in memory (the disk cache stays)."""
    with _LOCK:
        _MEMORY.clear()


# ------------------------------------------------------------------------------ extractor
_TRUNKS: dict = {}
_POSE: dict = {}


def _trunk(name: str, tail_blocks: int):
    key = (name, tail_blocks)
    if key not in _TRUNKS:
        from affekt.scene._nets import Trunk

        _TRUNKS[key] = Trunk(name, tail_blocks)
    return _TRUNKS[key]


def _pose_model():
    if "m" not in _POSE:
        from affekt.scene.pose import MoveNet

        _POSE["m"] = MoveNet()
    return _POSE["m"]


def pose_dim() -> int:
    from affekt.scene.pose import POSE_FEATURE_NAMES

    return len(POSE_FEATURE_NAMES)


class SceneFeatures:
    """Per-person stream features with caching (see the module's docstring).

    ``persons``: ``(image, box)`` pairs, ``image`` a path or an RGB array, ``box``
    (x1, y1, x2, y2) in the image's own pixels, or None for the largest person
    :func:`affekt.scene.people.find_people` finds."""

    def __init__(self, backbone: str = "mobilenetv2", body_size: int = 128, context_size: int = 224,
                 mask_person: bool = True, tail_blocks: int = 0, face_model: str = "face-default",
                 batch: int = 32):
        self.backbone, self.body_size, self.context_size = backbone, int(body_size), int(context_size)
        self.mask_person, self.tail_blocks, self.face_model = bool(mask_person), int(tail_blocks), face_model
        self.batch = int(batch)
        self.timing: dict[str, float] = {}

    def kind(self, stream: str) -> str:
        v = FEATURE_VERSION
        if stream == "body":
            return f"body|{self.backbone}|{self.body_size}|tail{self.tail_blocks}|v{v}"
        if stream == "context":
            return f"context|{self.backbone}|{self.context_size}|mask{int(self.mask_person)}|tail{self.tail_blocks}|v{v}"
        if stream == "face":  # the face model's own files, not just its name: a retrained model is another key
            return f"face|{self.face_model}|{_model_digest(self.face_model)}|v{v}"
        if stream == "pose":
            return f"pose|movenet-lightning|v{v}"
        raise InputError(f"unknown stream '{stream}'")

    def _box_for_key(self, stream: str, box):
        return None if stream == "context" and not self.mask_person else box

    def __call__(self, persons: list, streams, *, pictures: dict | None = None, progress: bool = False,
                 persistent: bool = True) -> dict[str, np.ndarray]:
        """``{stream: (n, ...) float32}`` for the ``persons``. ``pictures``: images already
        decoded (image key -> :class:`Picture`). ``persistent=False``: nothing from disk
        (arrays never are). Raises :class:`DataError` naming an image that cannot be read or a
        box outside it."""
        import time

        streams = parse_streams(streams)
        n = len(persons)
        keys = [image_key(img) for img, _ in persons]
        for (img, _), k in zip(persons, keys):
            if k is None:
                raise DataError(f"'{img}': no such image file" if isinstance(img, (str, os.PathLike))
                                else f"expected an image path or array, got {type(img).__name__}")
        boxes = [b for _, b in persons]
        pictures = dict(pictures or {})
        # a person without a box: the largest one found in its image
        if any(b is None for b in boxes):
            for i in [i for i, b in enumerate(boxes) if b is None]:
                boxes[i] = self._largest_person(persons[i][0], keys[i], pictures)
        out: dict[str, list] = {s: [None] * n for s in streams}
        need: dict[str, set[int]] = {s: set() for s in streams}
        entry: dict[tuple[str, int], str] = {}
        for s in streams:
            kind = self.kind(s)
            for i in range(n):
                disk = persistent and not keys[i].startswith("a")
                e = entry[(s, i)] = _entry_key(keys[i], kind, self._box_for_key(s, boxes[i]))
                v = _lookup(e, kind, disk)
                if v is None:
                    need[s].add(i)
                else:
                    out[s][i] = v
        missing: dict[str, list[int]] = {}
        for i in sorted(set().union(*need.values())):
            missing.setdefault(keys[i], []).append(i)
        t0 = time.time()
        if missing:
            from tqdm import tqdm

            images = list(missing)
            bar = tqdm(total=sum(len(v) for v in missing.values()), unit="person", file=sys.stderr,
                       desc="scene features", disable=not progress or n < 200)
            chunk = 32

            def decode(part):
                return self._decode_many([(k, persons[missing[k][0]][0]) for k in part], pictures)

            with ThreadPoolExecutor(1) as ex:
                nxt = ex.submit(decode, images[:chunk])
                for c in range(0, len(images), chunk):
                    done = nxt.result()
                    if c + chunk < len(images):  # the next images are decoded while these are computed
                        nxt = ex.submit(decode, images[c + chunk:c + 2 * chunk])
                    jobs = [(i, done[k]) for k in images[c:c + chunk] for i in missing[k]]
                    got = self._compute(jobs, boxes, {s: need[s] for s in streams}, persons)
                    for s, vals in got.items():
                        kind = self.kind(s)
                        for i, v in vals.items():
                            if out[s][i] is None:
                                out[s][i] = v
                                _store(entry[(s, i)], kind, v, persistent and not keys[i].startswith("a"))
                    bar.update(len(jobs))
            bar.close()
        self.timing["compute_s"] = self.timing.get("compute_s", 0.0) + time.time() - t0
        return {s: np.stack([np.asarray(v, dtype=np.float32) for v in out[s]]) if n else
                np.zeros((0, self.dim(s)), np.float32) for s in streams}

    def _trunk_for_tails(self):
        """The backbone whose ``tail`` the fine-tuned streams copy."""
        return _trunk(self.backbone, self.tail_blocks)

    def dim(self, stream: str) -> int:
        if stream in ("body", "context"):
            return 1280
        if stream == "face":
            from affekt.core.registry import load_model

            return len(load_model(self.face_model).labels_) + 1
        return pose_dim()

    # ---------------------------------------------------------------------- helpers
    def _largest_person(self, img, key: str, pictures: dict):
        from affekt.scene.people import find_people

        e = _entry_key(key, f"largest-person|v{FEATURE_VERSION}", None)
        v = _lookup(e, "people", False)
        if v is None:
            pic = pictures.get(key) or self._decode(key, img)
            pictures[key] = pic
            b = find_people(pic.rgb)[0].box
            v = (b[0] / pic.sx, b[1] / pic.sy, b[2] / pic.sx, b[3] / pic.sy)
            _remember(e, v)
        return v

    @staticmethod
    def _decode(key: str, img) -> Picture:
        from affekt.face.images import ImageError

        try:
            return read_picture(img)
        except ImageError as exc:
            raise DataError(str(exc)) from None

    def _decode_many(self, pairs, pictures: dict) -> dict:
        import time

        t0 = time.perf_counter()
        out = {k: pictures.get(k) or self._decode(k, img) for k, img in pairs}
        self._tick("decode", time.perf_counter() - t0, len(pairs))
        return out

    def _tick(self, what: str, seconds: float, n: int) -> None:
        """``timing``: seconds spent and how many images / people, per step (the benchmark reads it)."""
        self.timing[f"{what}_s"] = self.timing.get(f"{what}_s", 0.0) + seconds
        self.timing[f"{what}_n"] = self.timing.get(f"{what}_n", 0) + n

    def _compute(self, jobs: list, boxes: list, need: dict[str, set], persons) -> dict[str, dict[int, np.ndarray]]:
        """Features for ``jobs`` ((person index, Picture) pairs) of the streams ``need`` asks
        for them (stream -> person indices)."""
        from affekt.scene.people import fit_box

        got: dict[str, dict[int, np.ndarray]] = {}
        all_jobs = jobs
        scaled = {}
        for i, pic in jobs:
            w, h = pic.size
            try:
                b, _ = fit_box(boxes[i], w, h)
            except InputError as exc:
                img = persons[i][0]
                where = f"'{img}': " if isinstance(img, (str, os.PathLike)) else ""
                raise DataError(f"{where}{exc}") from None
            scaled[i] = pic.scaled(b)

        def part(stream):
            return [(i, pic) for i, pic in all_jobs if i in need.get(stream, ())]

        import time

        if part("body"):
            t0 = time.perf_counter()
            jobs = part("body")
            crops = [body_crop(pic.rgb, scaled[i], self.body_size) for i, pic in jobs]
            got["body"] = dict(zip([i for i, _ in jobs], self._embed(crops)))
            self._tick("body", time.perf_counter() - t0, len(jobs))
        if part("context"):
            t0 = time.perf_counter()
            jobs = part("context")
            small: dict[int, np.ndarray] = {}
            views, idx = [], []
            seen: dict[int, int] = {}
            for i, pic in jobs:
                if id(pic) not in small:
                    small[id(pic)] = squeezed(pic.rgb, self.context_size)
                if self.mask_person:
                    h, w = pic.rgb.shape[:2]
                    views.append(masked(small[id(pic)], scaled[i], w, h))
                    idx.append(i)
                elif id(pic) not in seen:  # unmasked: once per image, shared by its people
                    seen[id(pic)] = len(views)
                    views.append(small[id(pic)])
                    idx.append(i)
            feats = self._embed(views)
            if self.mask_person:
                got["context"] = dict(zip(idx, feats))
            else:
                got["context"] = {i: feats[seen[id(pic)]] for i, pic in jobs}
            self._tick("context", time.perf_counter() - t0, len(jobs))
        for stream, fn in (("face", self._faces), ("pose", self._poses)):
            if part(stream):
                t0 = time.perf_counter()
                got[stream] = fn(part(stream), scaled)
                self._tick(stream, time.perf_counter() - t0, len(part(stream)))
        return got

    def _embed(self, crops: list[np.ndarray]) -> list[np.ndarray]:
        trunk = _trunk(self.backbone, self.tail_blocks)
        out = []
        for s in range(0, len(crops), self.batch):
            f = trunk.features(np.stack(crops[s:s + self.batch]))
            out.extend(f.astype(np.float16))
        return out

    def _faces(self, jobs, scaled) -> dict[int, np.ndarray]:
        """The face model's scores of the largest face centred in each body box, and a flag."""
        import math

        from affekt.core.registry import load_model
        from affekt.face.align import align_crop, eye_angle, framed_box
        from affekt.scene.people import detect_faces

        fm = load_model(self.face_model)
        n_lab = len(fm.labels_)
        found: dict[int, list] = {}
        crops, owners = [], []
        for i, pic in jobs:
            if id(pic) not in found:
                found[id(pic)] = detect_faces(pic.rgb)
            x1, y1, x2, y2 = scaled[i]
            inside = [f for f in found[id(pic)]
                      if x1 <= f.box[0] + f.box[2] / 2 <= x2 and y1 <= f.box[1] + f.box[3] / 2 <= y2
                      and f.area <= (x2 - x1) * (y2 - y1)]
            if inside:
                f = inside[0]
                kp = f.keypoints if abs(math.degrees(eye_angle(f.keypoints))) > 10 else None
                crops.append(align_crop(pic.rgb, framed_box(f.box, FACE_FRAMING), kp, fm.crop_size))
                owners.append(i)
        out = {i: np.zeros(n_lab + 1, np.float32) for i, _ in jobs}
        if crops:
            P = np.asarray(fm._scores(np.stack(crops)), np.float32)
            for i, p in zip(owners, P):
                out[i] = np.concatenate([p, [1.0]]).astype(np.float32)
        return out

    def _poses(self, jobs, scaled) -> dict[int, np.ndarray]:
        from affekt.scene.pose import pose_features

        net = _pose_model()
        out = {}
        for i, pic in jobs:
            kps = net.keypoints(pic.rgb, scaled[i])
            out[i] = np.asarray(pose_features(kps, scaled[i]), np.float32)
        return out
