"""Faces blurred or pixelated in images and videos (``affekt anonymize``).

Faces are found by BlazeFace, its full-range and "back" models together (:class:`UnionDetector`):
each misses faces the other finds. In an image the boxes of one face are merged into the box
around them; in a video every box is tracked and covered, and the merged ones count the people.

**Images** are decoded as the face modality decodes them (:mod:`affekt.face.images`: EXIF
orientation applied, every refusal an error naming the file), the faces found (the full-range
model also run on 2 x 2 overlapping tiles, for faces down to about a twentieth of the image)
are covered (:mod:`affekt.privacy.cover`), and the image is written
again in its own format (JPEG with the source's quantisation tables, so what is not covered
changes by re-encoding noise only). Nothing of the source's metadata is copied: no EXIF (GPS,
camera, times), XMP, IPTC or comments; only an RGB source's ICC colour profile is kept.
Transparency is kept where the format holds it; grey images stay grey. Animated images are
refused (only one frame would be written).

**Videos** are read twice. The first pass looks for faces on ``fps`` frames a second (10 by
default; ``fps=None``: every frame) and links the boxes into tracks (constant-velocity prediction, centre
distance within a face's size, Hungarian matching). The second pass decodes every frame at full
size and covers, on each, every track's box at that frame's time: a detected box on a frame that
was looked at, else the box interpolated between the track's detections before and after
(enlarged by half the distance it moved between them), and for ``hold`` seconds before a track's
first and after its last detection its box carried on at the track's speed (enlarged with the
time carried). A face the detector misses on a few frames of a track, and the frames between
sampled ones, are so covered too. Frames are written with libx264 (VP8 for .webm, MPEG-4 part 2
for .avi) at their own timestamps; the audio is copied as it is (or re-encoded where the
container cannot hold its codec) unless ``audio=False``. Container and stream metadata,
subtitles and other streams are not copied.

Nothing is written except the outputs: no cache, no temporary file outside the output's folder
(each output is written to a hidden ``.NAME.part`` beside it and renamed when complete, removed
on failure), and an output that would be an input is refused.
"""
from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.privacy.cover import (
    EXPAND,
    check_expand,
    check_method,
    cover_faces,
    cover_region,
    region,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
    "Job",
    "NoFaceError",
    "Result",
    "UnionDetector",
    "anonymize_image",
    "anonymize_many",
    "anonymize_path",
    "default_detector",
    "find_faces",
    "link_tracks",
    "plan",
    "regions_at",
]

IMAGE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".gif": "GIF", ".tif": "TIFF",
                 ".tiff": "TIFF", ".webp": "WEBP", ".pgm": "PPM", ".ppm": "PPM"}
IMAGE_SUFFIXES = tuple(IMAGE_FORMATS)
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov")
#: faces smaller than this (longer box side, pixels) are left alone
MIN_FACE = 16
#: seconds a track's box is carried on before its first and after its last detection
HOLD = 0.5
#: a track not detected for longer than this (seconds) ends; a later detection starts another
MAX_GAP = 1.0
#: video frames a second the detector looks at by default (None: every frame)
FPS = 10.0
_ALPHA_FORMATS = ("PNG", "WEBP", "TIFF")
_GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F")
# audio codecs each container takes as they are; others are re-encoded (AAC, Opus for WebM)
_AUDIO_COPY = {".mp4": {"aac", "mp3", "alac", "ac3", "eac3"}, ".m4v": {"aac", "mp3", "alac", "ac3", "eac3"},
               ".mov": {"aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le"}, ".webm": {"opus", "vorbis"},
               ".avi": {"mp3", "aac", "ac3", "pcm_s16le"}, ".mkv": None}


class NoFaceError(InputError):
    """``strict``: no face was found in an image or video, so it is not written."""


@dataclass
class Result:
    """What happened to one input. ``faces``: faces covered (image) or face tracks (video);
    ``frames``: frames written; ``frames_covered``: frames on which something was covered;
    ``sampled``: frames the detector looked at."""

    input: str
    output: str | None = None
    kind: str | None = None
    method: str | None = None
    faces: int = 0
    frames: int | None = None
    frames_covered: int | None = None
    sampled: int | None = None
    written: bool = False
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v != []}


@dataclass
class Job:
    """One input of a run and where it goes (``error``: why it cannot be done)."""

    src: Path
    dst: Path | None
    given: str
    error: str | None = None


# ----------------------------------------------------------------------------- detection
_DETECTORS: dict = {}
_DET_LOCK = threading.Lock()


class UnionDetector:
    """Several detectors on one image; boxes of one face (IoU over ``iou``) merged into the box
    around them all, so a face is covered as widely as any of the detectors saw it. BlazeFace's
    full-range model and its "back" model miss different faces (the back model finds more of the
    small, grey, low-resolution FER2013 faces of the generated videos, ``docs/results/video.md``;
    the full-range model more of the others)."""

    def __init__(self, *detectors, iou: float = 0.3):
        self.detectors, self.iou = detectors, iou

    def detect_all(self, rgb: np.ndarray) -> list:
        """Every detector's faces, not merged."""
        return [f for d in self.detectors for f in d.detect(rgb)]

    def detect(self, rgb: np.ndarray) -> list:
        return self.merge(self.detect_all(rgb))

    def merge(self, faces: list) -> list:
        """Faces of one person (IoU over ``iou``) as one, boxed around them all."""
        from affekt.face.detect import Face

        if len(faces) < 2:
            return list(faces)
        merged: list[list] = []
        for f in sorted(faces, key=lambda f: -f.score):
            x, y, w, h = f.box
            for m in merged:
                mx0, my0, mx1, my1 = m[0]
                ix = max(0, min(x + w, mx1) - max(x, mx0))
                iy = max(0, min(y + h, my1) - max(y, my0))
                inter = ix * iy
                if inter / max(1, w * h + (mx1 - mx0) * (my1 - my0) - inter) > self.iou:
                    m[0] = (min(x, mx0), min(y, my0), max(x + w, mx1), max(y + h, my1))
                    break
            else:
                merged.append([(x, y, x + w, y + h), f])
        out = [Face((x0, y0, x1 - x0, y1 - y0), f.score, f.keypoints) for (x0, y0, x1, y1), f in merged]
        out.sort(key=lambda f: (-f.area, -f.score))
        return out

    __call__ = detect


def default_detector(min_face: int = MIN_FACE, tiles: int = 1):
    """The detector ``anonymize`` uses: BlazeFace full-range (on ``tiles`` x ``tiles`` tiles too)
    and BlazeFace "back", their boxes merged (:class:`UnionDetector`). Built once per setting."""
    key = (min_face, tiles)
    with _DET_LOCK:
        if key not in _DETECTORS:
            from affekt.face.detect import get_detector

            _DETECTORS[key] = UnionDetector(get_detector("blazeface", model="full", min_face=min_face, tiles=tiles),
                                            get_detector("blazeface", model="back", min_face=min_face))
        return _DETECTORS[key]


def _check_min_face(min_face) -> int:
    if isinstance(min_face, bool) or not isinstance(min_face, (int, np.integer)) or min_face < 1:
        raise InputError(f"--min-face must be a whole number of pixels >= 1, got {min_face!r}")
    return int(min_face)


def find_faces(rgb: np.ndarray, *, min_face: int = MIN_FACE, tiles: int = 2, detector=None) -> list:
    """Faces of an RGB image (:class:`affekt.face.detect.Face`), as ``anonymize`` finds them
    (:func:`default_detector`, or ``detector``: any object with ``detect(rgb)``)."""
    det = detector or default_detector(_check_min_face(min_face), tiles)
    return det.detect(rgb)


def anonymize_image(x, *, method: str = "blur", expand: float = EXPAND, min_face: int = MIN_FACE,
                    tiles: int = 2, detector=None, return_faces: bool = False):
    """An image (a path, bytes, PIL image or numpy array; decoded with EXIF orientation applied)
    with its faces blurred or pixelated: an RGB uint8 array (and the faces, ``return_faces``)."""
    from affekt.face.images import load_image

    method, expand = check_method(method), check_expand(expand)
    rgb = load_image(x)
    faces = find_faces(rgb, min_face=min_face, tiles=tiles, detector=detector)
    out = cover_faces(rgb, [f.box for f in faces], method=method, expand=expand)
    return (out, faces) if return_faces else out


# ----------------------------------------------------------------------------- planning
def _same(a: Path, b: Path) -> bool:
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _kind(path: Path) -> str | None:
    s = path.suffix.lower()
    return "image" if s in IMAGE_FORMATS else "video" if s in VIDEO_SUFFIXES else None


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def plan(input, output) -> list[Job]:
    """Where each input goes. ``input``: an image or video file (``output``: the file to write,
    or a folder to write it into, which a path without a suffix is taken to be); a folder (every
    image and video under it, recursive, sorted; its tree mirrored under ``output``); or a .txt
    list of paths (one a line, relative to the list's folder; written under ``output`` at the
    path the line gives, or by name for an absolute path or one with ``..``; ``NAME-2`` on a clash).
    Raises :class:`InputError` for a missing input, and for any output that would be an input."""
    from affekt.io.items import LIST_SUFFIXES

    src, out = Path(input), Path(output)
    if not str(input).strip():
        raise InputError("give an input: an image, a video, a folder or a .txt list of paths")
    if not src.exists():
        raise InputError(f"input '{src}' does not exist")
    if src.is_dir():
        if _same(src, out) or _inside(out, src):
            raise InputError(f"--output '{out}' is the input folder or inside it; write the anonymized copies "
                             "to a folder outside the input")
        if (out.exists() and not out.is_dir()) or (not out.exists() and _kind(out)):
            raise InputError(f"--output '{out}' is a file; a folder input needs an output folder")
        files = sorted(f for f in src.rglob("*") if f.is_file() and _kind(f))
        if not files:
            raise InputError(f"folder '{src}' holds no image or video files ({' '.join(IMAGE_SUFFIXES + VIDEO_SUFFIXES)}; "
                             "searched recursively)")
        jobs = [Job(f, out / f.relative_to(src), str(f)) for f in files]
    elif src.suffix.lower() in LIST_SUFFIXES:
        if (out.exists() and not out.is_dir()) or (not out.exists() and _kind(out)):
            raise InputError(f"--output '{out}' is a file; a list of paths needs an output folder")
        jobs = _plan_list(src, out)
    else:
        kind = _kind(src)
        if kind is None:
            raise InputError(f"'{src}': not an image, a video, a folder or a .txt list of paths "
                             f"(images: {' '.join(IMAGE_SUFFIXES)}; videos: {' '.join(VIDEO_SUFFIXES)})")
        if out.is_dir() or not out.suffix:
            dst = out / src.name
        else:
            dst = out
            if _kind(dst) != kind:
                ok = IMAGE_SUFFIXES if kind == "image" else VIDEO_SUFFIXES
                raise InputError(f"--output '{out}': write the anonymized {kind} as one of {' '.join(ok)}, "
                                 "or give a folder")
        jobs = [Job(src, dst, str(input))]
    inputs = {j.src.resolve() for j in jobs}
    for j in jobs:
        if j.dst is not None and (j.dst.resolve() in inputs or _same(j.dst, j.src)):
            raise InputError(f"--output: '{j.dst}' is an input; anonymize never overwrites its inputs "
                             "(choose another output)")
    return jobs


def _plan_list(lst: Path, out: Path) -> list[Job]:
    from affekt.io.text import read_bytes_utf8

    jobs, taken = [], set()
    for line in read_bytes_utf8(lst).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        q = Path(line)
        p = q if q.is_absolute() else lst.parent / q
        if not p.is_file():
            jobs.append(Job(p, None, line, "no such file" if not p.exists() else "not a file"))
            continue
        if _kind(p) is None:
            jobs.append(Job(p, None, line, f"not an image or video file ('{p.suffix or '(no extension)'}')"))
            continue
        rel = q if not q.is_absolute() and ".." not in q.parts else Path(p.name)  # never outside ``out``
        dst, n = out / rel, 2
        while str(dst).lower() in taken:
            dst = (out / rel).with_name(f"{rel.stem}-{n}{rel.suffix}")
            n += 1
        taken.add(str(dst).lower())
        jobs.append(Job(p, dst, line))
    if not jobs:
        raise InputError(f"list '{lst}' names no images or videos")
    return jobs


# ----------------------------------------------------------------------------- running
def anonymize_many(input, output, *, method: str = "blur", expand: float = EXPAND, min_face: int = MIN_FACE,
                   strict: bool = False, fps: float | None = FPS, audio: bool = True, tiles: int | None = None,
                   on_result: Callable[[Result], None] | None = None) -> list[Result]:
    """Anonymize every input of :func:`plan` (``input``: a file, folder or .txt list) into
    ``output``; one :class:`Result` per input, in order (a failed one holds its error, and the
    run goes on). ``on_result`` is called as each is done."""
    method, expand, min_face = check_method(method), check_expand(expand), _check_min_face(min_face)
    _check_fps(fps)
    results = []
    for job in plan(input, output):
        if job.error:
            r = Result(job.given, kind=_kind(job.src), error=f"'{job.given}': {job.error}")
        else:
            r = anonymize_path(job.src, job.dst, method=method, expand=expand, min_face=min_face, strict=strict,
                               fps=fps, audio=audio, tiles=tiles, errors="record", name=job.given)
        results.append(r)
        if on_result is not None:
            on_result(r)
    return results


def _check_fps(fps) -> None:
    if fps is not None and not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise InputError(f"--fps must be a number of frames a second above 0, got {fps!r}")


def anonymize_path(src, dst, *, method: str = "blur", expand: float = EXPAND, min_face: int = MIN_FACE,
                   strict: bool = False, fps: float | None = FPS, audio: bool = True, tiles: int | None = None,
                   errors: str = "raise", name: str | None = None) -> Result:
    """Write ``dst``: image or video ``src`` with its faces covered (see the module's text).
    ``strict``: when no face is found, nothing is written (:class:`NoFaceError`); otherwise the
    input is written uncovered (metadata stripped) with a warning. ``fps``: videos: frames a
    second the detector looks at (None: every frame). ``tiles``: the detector's tiling (default
    2 for images, 1 for video frames). ``errors="record"``: an unreadable input gives a
    :class:`Result` holding the error instead of raising."""
    from affekt.face.images import ImageError

    src, dst = Path(src), Path(dst)
    method, expand, min_face = check_method(method), check_expand(expand), _check_min_face(min_face)
    _check_fps(fps)
    name = str(src) if name is None else name
    res = Result(name, output=str(dst), kind=_kind(src), method=method)
    try:
        if _same(src, dst):
            raise InputError(f"'{dst}' is the input; anonymize never overwrites its inputs")
        if res.kind is None:
            raise InputError(f"'{name}': not an image or video file ('{src.suffix or '(no extension)'}')")
        if res.kind == "image":
            _image_file(src, dst, res, method=method, expand=expand, strict=strict,
                        det=default_detector(min_face, 2 if tiles is None else tiles))
        else:
            _video_file(src, dst, res, method=method, expand=expand, strict=strict, fps=fps, audio=audio,
                        det=default_detector(min_face, 1 if tiles is None else tiles))
    except (InputError, ImageError) as exc:
        if errors != "record":
            raise
        res.error, res.written = str(exc), False
    except OSError as exc:
        if errors != "record":
            raise
        res.error, res.written = f"'{name}': {exc.strerror or exc}", False
    if not res.written:
        res.output = None
    return res


def _partial(dst: Path) -> Path:
    return dst.with_name(f".{dst.stem}.part{dst.suffix}")


# ----------------------------------------------------------------------------- images
def _image_file(src: Path, dst: Path, res: Result, *, method, expand, strict, det) -> None:
    from PIL import Image, ImageOps

    from affekt.face.images import ImageError, load_image_checked

    rgb, warns = load_image_checked(src)
    res.warnings += [w for w in warns if "frames, the first" not in w and "pages, the first" not in w]
    try:
        opened = Image.open(src)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"'{src}': too large to re-encode ({exc})") from None
    with opened as im:  # the header, and an alpha channel: load_image read the pixels already
        n = int(getattr(im, "n_frames", 1) or 1)
        if n > 1:
            raise ImageError(f"'{src}': {n} frames or pages; anonymize writes still images only (turn an "
                             "animation into a video first)")
        src_mode, src_fmt = im.mode, (im.format or "").upper()
        icc = im.info.get("icc_profile") if im.mode in ("RGB", "RGBA") else None
        qtables = sampling = None
        if src_fmt == "JPEG" and im.mode in ("RGB", "L"):
            from PIL import JpegImagePlugin

            qtables, sampling = getattr(im, "quantization", None), JpegImagePlugin.get_sampling(im)
        alpha = None
        if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
            a = (ImageOps.exif_transpose(im) or im).convert("RGBA").getchannel("A")
            if a.size == (rgb.shape[1], rgb.shape[0]):
                alpha = a
    faces = det.detect(rgb)
    res.faces = len(faces)
    if not faces:
        if strict:
            raise NoFaceError(f"'{res.input}': no face found (--strict: not written)")
        res.warnings.append("no face found: written uncovered (metadata stripped)")
    out = cover_faces(rgb, [f.box for f in faces], method=method, expand=expand)
    fmt = IMAGE_FORMATS[dst.suffix.lower()]
    im = Image.fromarray(out, "RGB")
    if src_mode in _GREY_MODES or (fmt == "PPM" and dst.suffix.lower() == ".pgm"):
        im = im.convert("L")
    if alpha is not None and fmt in _ALPHA_FORMATS:
        im.putalpha(alpha)
    kw: dict = {}
    if fmt == "JPEG":
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        kw = {"qtables": qtables, "subsampling": sampling} if qtables and sampling is not None and sampling >= 0 \
            else {"quality": 95}
    elif fmt == "WEBP":
        kw = {"quality": 95}
    elif fmt == "TIFF":
        kw = {"compression": "tiff_lzw"}
    if icc and fmt in ("JPEG", "PNG", "WEBP", "TIFF") and im.mode in ("RGB", "RGBA"):
        kw["icc_profile"] = icc
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(dst)
    try:
        im.save(tmp, format=fmt, **kw)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    res.written = True


# ----------------------------------------------------------------------------- videos
def _cxcywh(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, np.float64).reshape(-1, 4)
    return np.column_stack([b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2, b[:, 2], b[:, 3]])


def _predict(obs: list, t: float) -> np.ndarray:
    last = np.asarray(obs[-1][1:], np.float64)
    if len(obs) < 2 or obs[-1][0] <= obs[-2][0]:
        return last
    prev = np.asarray(obs[-2][1:], np.float64)
    v = (last[:2] - prev[:2]) / (obs[-1][0] - obs[-2][0])
    return np.concatenate([last[:2] + v * (t - obs[-1][0]), last[2:]])


def link_tracks(samples: Iterable[tuple[float, np.ndarray]], *, max_gap: float = MAX_GAP,
                gate: float = 1.0) -> list[np.ndarray]:
    """Face boxes per sampled frame ``(t, boxes (n, 4) x, y, w, h)``, in time order, linked into
    tracks: arrays (k, 5) of ``t, cx, cy, w, h``. A detection joins the live track whose
    constant-velocity prediction its centre lies within ``gate`` face sizes of (sizes within 2x;
    Hungarian matching); a track unseen for more than ``max_gap`` seconds ends."""
    from scipy.optimize import linear_sum_assignment

    live: list[list] = []
    done: list[list] = []
    for t, boxes in samples:
        keep = []
        for tr in live:
            (done if t - tr[-1][0] > max_gap else keep).append(tr)
        live = keep
        det = _cxcywh(boxes)
        taken = set()
        if live and len(det):
            pred = np.array([_predict(tr, t) for tr in live])
            size = np.maximum(pred[:, None, 2:].max(-1), det[None, :, 2:].max(-1))
            dist = np.hypot(pred[:, None, 0] - det[None, :, 0], pred[:, None, 1] - det[None, :, 1]) / np.maximum(size, 1)
            sp, sd = pred[:, None, 2:].max(-1), det[None, :, 2:].max(-1)
            ratio = np.maximum(sp, sd) / np.maximum(np.minimum(sp, sd), 1)
            cost = np.where((dist <= gate) & (ratio <= 2.0), dist, 1e6)
            for i, j in zip(*linear_sum_assignment(cost)):
                if cost[i, j] < 1e6:
                    live[i].append((t, *det[j]))
                    taken.add(j)
        live += [[(t, *det[j])] for j in range(len(det)) if j not in taken]
    return [np.asarray(tr, np.float64) for tr in done + live]


def regions_at(tracks: list[np.ndarray], t: float, *, hold: float = HOLD) -> list[tuple[np.ndarray, tuple, float]]:
    """Where each track's face is at time ``t``: ``(box x, y, w, h, pad (px, py), face side)``
    for every track that covers ``t`` (see the module's text)."""
    out = []
    for tr in tracks:
        T = tr[:, 0]
        if t < T[0] - hold - 1e-6 or t > T[-1] + hold + 1e-6:
            continue
        k = int(np.searchsorted(T, t))
        if k < len(T) and abs(T[k] - t) < 1e-6:
            c, pad = tr[k, 1:].copy(), (0.0, 0.0)
        elif 0 < k < len(T):
            a, b = tr[k - 1], tr[k]
            f = (t - a[0]) / (b[0] - a[0])
            c = np.concatenate([a[1:3] + f * (b[1:3] - a[1:3]), np.maximum(a[3:], b[3:])])
            pad = (0.5 * abs(b[1] - a[1]), 0.5 * abs(b[2] - a[2]))
        else:
            end, nxt = (tr[0], tr[1] if len(tr) > 1 else None) if k == 0 else (tr[-1], tr[-2] if len(tr) > 1 else None)
            dt = abs(t - end[0])
            v = np.zeros(2) if nxt is None or nxt[0] == end[0] else (end[1:3] - nxt[1:3]) / abs(end[0] - nxt[0])
            c = end[1:].copy()
            c[:2] += v * dt
            side = max(end[3], end[4])
            pad = (0.5 * abs(v[0]) * dt + 0.5 * side * dt, 0.5 * abs(v[1]) * dt + 0.5 * side * dt)
        box = np.array([c[0] - c[2] / 2, c[1] - c[3] / 2, c[2], c[3]])
        out.append((box, pad, float(max(c[2], c[3]))))
    return out


def _video_out(o, dst: Path, rate, width: int, height: int, time_base):
    import av  # noqa: F401

    suffix = dst.suffix.lower()
    codec = "libvpx" if suffix == ".webm" else "mpeg4" if suffix == ".avi" else "libx264"
    vout = o.add_stream(codec, rate=rate)
    vout.pix_fmt = "yuv420p"
    vout.width, vout.height = width, height
    if time_base is not None:
        vout.time_base = time_base
        vout.codec_context.time_base = time_base
    if codec == "libx264":
        vout.options = {"preset": "veryfast", "crf": "20"}
    elif codec == "libvpx":
        vout.options = {"deadline": "realtime", "cpu-used": "8", "crf": "10", "b": "4M"}
    else:
        vout.options = {"qscale": "3"}
        vout.codec_context.qscale = 3
    return vout


def _audio_out(o, ain, dst: Path):
    ok = _AUDIO_COPY.get(dst.suffix.lower())
    name = ain.codec_context.name if ain.codec_context is not None else ""
    if ok is None or name in ok:
        return o.add_stream_from_template(ain), False
    aout = o.add_stream("libopus" if dst.suffix.lower() == ".webm" else "aac", rate=48000 if dst.suffix.lower() == ".webm"
                        else (ain.rate or 44100))
    aout.layout = "stereo" if (ain.channels or 1) > 1 else "mono"
    return aout, True


def _video_file(src: Path, dst: Path, res: Result, *, method, expand, strict, fps, audio, det) -> None:
    from affekt.video import decode

    decode.probe(src)  # a VideoError naming the problem
    warns: list[str] = []
    # pass 1: faces on the frames looked at
    step = 1.0 / fps if fps else 0.0
    samples, people, shape, last_t, n_sampled = [], [], None, -1.0, 0
    for t, rgb in decode.prefetch(decode.frames(src, fps=fps or 1000.0, warnings=warns)):
        shape = rgb.shape[:2]
        faces = det.detect_all(rgb) if hasattr(det, "detect_all") else det.detect(rgb)
        if faces:  # every detector's box is covered; the merged ones count the people
            samples.append((t, np.array([f.box for f in faces], np.float64).reshape(-1, 4)))
            one = det.merge(faces) if hasattr(det, "merge") else faces
            people.append((t, np.array([f.box for f in one], np.float64).reshape(-1, 4)))
        last_t, n_sampled = t, n_sampled + 1
    gap = max(MAX_GAP, 2.5 * step)
    tracks = link_tracks(samples, max_gap=gap)
    res.sampled, res.faces = n_sampled, len(link_tracks(people, max_gap=gap))
    res.warnings += warns
    if not tracks:
        if strict:
            raise NoFaceError(f"'{res.input}': no face found on {n_sampled} frames looked at (--strict: not written)")
        res.warnings.append(f"no face found on {n_sampled} frames looked at: written uncovered (metadata stripped)")
    hold = max(HOLD, 2.0 * step)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = _partial(dst)
    try:
        _write_video(src, tmp, dst, res, tracks, shape, last_t + max(step, 1e-3) + 1e-6, hold=hold, method=method,
                     expand=expand, audio=audio)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    res.written = True


def _write_video(src: Path, tmp: Path, dst: Path, res: Result, tracks, shape, until: float, *, hold, method,
                 expand, audio) -> None:
    import av

    from affekt.video.decode import VideoError, _msg, _open, _rotated

    n_out = n_cov = 0
    stopped = None
    with _open(src) as c, av.open(str(tmp), "w", format=_muxer(dst)) as o:
        vin = c.streams.video[0]
        vin.thread_type = "SLICE"  # as decode.frames
        ain = c.streams.audio[0] if audio and c.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or 25
        vout = aout = None
        recode = False
        pending: list = []  # audio packets demuxed before the first frame set the output up
        t0 = last_pts = None
        i = -1
        for packet in c.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.stream.type == "audio":
                if vout is None:
                    pending.append(packet)
                else:
                    _put_audio(o, packet, aout, recode)
                continue
            try:
                decoded = packet.decode()
            except av.error.FFmpegError as exc:
                stopped = _msg(exc)
                break
            for frame in decoded:
                i += 1
                t = frame.time if frame.time is not None else i / float(rate)
                t0 = t if t0 is None else t0
                t = round(t - t0, 4)
                if t > until:  # decoding stopped early in the first pass: nothing unseen is written
                    break
                rgb = _rotated(frame.to_ndarray(format="rgb24"), frame.rotation)
                if vout is None:
                    H, W = rgb.shape[:2]
                    width, height = max(2, W // 2 * 2), max(2, H // 2 * 2)
                    # the frames keep their timestamps (variable frame rates too); AVI's MPEG-4 is written
                    # at a constant rate (its time base cannot be the input's)
                    tb = vin.time_base if frame.pts is not None and dst.suffix.lower() != ".avi" else None
                    vout = _video_out(o, dst, rate, width, height, tb)
                    if ain is not None:
                        aout, recode = _audio_out(o, ain, dst)
                    sy, sx = (H / shape[0], W / shape[1]) if shape else (1.0, 1.0)
                rgb = np.ascontiguousarray(rgb[:height, :width])
                done = 0
                for box, pad, side in regions_at(tracks, t, hold=hold):
                    reg = region(box * (sx, sy, sx, sy), width, height, expand, (pad[0] * sx, pad[1] * sy))
                    if reg is not None:
                        cover_region(rgb, reg, side * max(sx, sy), method)
                        done += 1
                n_cov += bool(done)
                out = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                if tb is not None and frame.pts is not None:
                    pts = frame.pts if last_pts is None or frame.pts > last_pts else last_pts + 1
                    out.pts, out.time_base, last_pts = pts, tb, pts
                for p in vout.encode(out):
                    o.mux(p)
                n_out += 1
                if aout is not None and pending:
                    for a in pending:
                        _put_audio(o, a, aout, recode)
                    pending = []
            if t0 is not None and t > until:
                break
        if vout is None:
            raise VideoError(f"'{res.input}': no frame could be decoded")
        for p in vout.encode():
            o.mux(p)
        if aout is not None and recode:
            for p in aout.encode():
                o.mux(p)
    if stopped and not any(w.startswith("decoding stopped") for w in res.warnings):  # not said twice
        res.warnings.append(f"decoding stopped after {n_out} frames ({stopped}); what was decoded is written")
    res.frames, res.frames_covered = n_out, n_cov


def _put_audio(o, packet, aout, recode: bool) -> None:
    import av

    if not recode:
        if packet.dts is not None:
            packet.stream = aout
            o.mux(packet)
        return
    try:
        frames = packet.decode()
    except av.error.FFmpegError:
        return
    for fr in frames:
        fr.pts = None
        for p in aout.encode(fr):
            o.mux(p)


def _muxer(dst: Path) -> str:
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm",
            ".avi": "avi"}[dst.suffix.lower()]
