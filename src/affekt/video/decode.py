"""Video decoding with PyAV, which bundles FFmpeg's codecs (mp4/mkv/webm/avi/mov; H.264, HEVC,
VP8/9, AV1, MPEG-4...): no system FFmpeg is needed.

* :func:`probe` opens a file and says what it holds, or raises a :class:`VideoError` naming the
  file and the problem (empty, not a video, truncated, no video stream).
* :func:`frames` streams RGB frames sampled at a rate. Frames are chosen by their timestamps, so
  a variable-frame-rate phone video is sampled evenly in time. Rotation metadata is applied, and
  frames larger than ``max_side`` are decoded reduced. Only the sampled frames are converted to
  RGB, and nothing is kept, so memory stays flat however long the video is.
* :func:`audio_to_wav` streams the audio track into a 16 kHz mono WAV file for the speech
  pipeline, which streams long files itself.

OpenCV's VideoCapture was the other candidate: it has no audio, reports timestamps poorly for
variable frame rates and ignores rotation in many builds (docs/results/video.md).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from affekt.core.errors import InputError, MissingDependencyError

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mkv", ".webm", ".avi", ".mov")
#: frames with a longer side are decoded reduced to it (faces stay far above the detector's input)
MAX_SIDE = 1280
MAX_HOURS = 12.0


class VideoError(InputError):
    """A video that cannot be used; the message names the file and the problem."""


@dataclass
class VideoInfo:
    path: str
    duration: float
    width: int
    height: int
    fps: float  # average frame rate as the container states it
    has_audio: bool
    rotation: int = 0
    codec: str = ""
    warnings: list[str] = field(default_factory=list)


def _av():
    try:
        import av
    except ImportError:
        raise MissingDependencyError("reading video needs PyAV: pip install av") from None
    av.logging.set_level(av.logging.PANIC)  # FFmpeg's own chatter; errors reach us as exceptions
    return av


def _open(path: Path):
    av = _av()
    if not path.exists():
        raise VideoError(f"'{path}': no such file")
    if path.is_dir():
        raise VideoError(f"'{path}': is a folder, not a video")
    size = path.stat().st_size
    if size == 0:
        raise VideoError(f"'{path}': empty file (0 bytes)")
    try:
        return av.open(str(path), metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        head = path.read_bytes()[:64]
        if head[4:8] == b"ftyp" or head[:4] == b"\x1aE\xdf\xa3" or head[:4] == b"RIFF":
            why = "a video container whose index cannot be read: truncated or damaged"
        elif _looks_like_text(head):
            why = "a text file, not a video"
        else:
            why = "not a video FFmpeg can read"
        raise VideoError(f"'{path}': {why} ({_msg(exc)})") from None


def _looks_like_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _msg(exc) -> str:
    return (getattr(exc, "strerror", None) or str(exc)).strip()[:120]


#: frames per second of a clip given as a folder of images (CK+ and most frame-sequence corpora
#: were filmed at 30)
FRAME_FOLDER_FPS = 30.0


def frame_files(folder: Path) -> list[Path]:
    """The images of a clip given as a folder of frames, in name order."""
    from affekt.datasets.faces import IMAGE_SUFFIXES

    return sorted(f for f in Path(folder).iterdir() if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)


def _probe_folder(path: Path) -> VideoInfo:
    files = frame_files(path)
    if not files:
        raise VideoError(f"'{path}': a folder holding no image frames (a clip as a folder needs *.jpg/*.png frames)")
    from affekt.face.images import ImageError, load_image_checked

    try:
        rgb, _ = load_image_checked(files[0])
    except ImageError as exc:
        raise VideoError(f"'{path}': its first frame cannot be read ({exc})") from None
    return VideoInfo(str(path), round(len(files) / FRAME_FOLDER_FPS, 3), rgb.shape[1], rgb.shape[0],
                     FRAME_FOLDER_FPS, has_audio=False, codec="image frames")


def _folder_frames(path: Path, fps: float, start: float, end: float | None, warnings):
    from affekt.face.images import ImageError, load_image_checked

    step, next_t = 1.0 / fps, start
    for i, f in enumerate(frame_files(path)):
        t = i / FRAME_FOLDER_FPS
        if end is not None and t >= end:
            break
        if t + 1e-6 < next_t:
            continue
        next_t = (math.floor(t / step + 1e-6) + 1) * step
        try:
            rgb, _ = load_image_checked(f)
        except ImageError as exc:
            if warnings is not None:
                warnings.append(f"frame '{f.name}' skipped: {exc}")
            continue
        yield round(t, 4), rgb


def probe(path) -> VideoInfo:
    """What ``path`` holds (a video file, or a folder of image frames at ``FRAME_FOLDER_FPS``).
    Raises :class:`VideoError` for an empty, unreadable or truncated file, and for one with no
    video stream (audio only)."""
    path = Path(path)
    if path.is_dir():
        return _probe_folder(path)
    with _open(path) as c:
        if not c.streams.video:
            kinds = sorted({s.type for s in c.streams}) or ["nothing"]
            raise VideoError(f"'{path}': no video stream (it holds {', '.join(kinds)}); "
                             "for the voice alone, analyse it as audio (convert to .wav or .flac)")
        s = c.streams.video[0]
        if s.codec_context is None or not s.codec_context.name:
            raise VideoError(f"'{path}': the video stream's codec is not supported by this FFmpeg")
        duration = None
        if c.duration:
            duration = c.duration / 1_000_000
        elif s.duration and s.time_base:
            duration = float(s.duration * s.time_base)
        warns = []
        if not duration or not math.isfinite(duration):
            duration = 0.0
            warns.append("the container does not state its duration")
        if duration > MAX_HOURS * 3600:
            raise VideoError(f"'{path}': {duration / 3600:.1f} h long; affekt reads videos up to {MAX_HOURS:.0f} h")
        fps = float(s.average_rate) if s.average_rate else float(s.guessed_rate or 0)
        w, h = s.codec_context.width, s.codec_context.height
        if not w or not h:
            raise VideoError(f"'{path}': the video stream has no picture size (damaged header)")
        return VideoInfo(str(path), round(duration, 3), int(w), int(h), round(fps, 3),
                         has_audio=bool(c.streams.audio), codec=s.codec_context.name, warnings=warns)


_FRAGMENT = re.compile(r"^(?P<path>.+)#t=(?P<start>[0-9.]*)(?:,(?P<end>[0-9.]+))?$")


def split_fragment(x) -> tuple[str, float, float | None]:
    """``'clip.mp4#t=10,20'`` (a W3C Media Fragment: seconds 10 to 20 of clip.mp4) ->
    ``('clip.mp4', 10.0, 20.0)``; a plain path -> ``(path, 0.0, None)``. A file whose own name
    holds ``#t=`` is taken as it is."""
    s = str(x)
    m = _FRAGMENT.match(s)
    if Path(s).exists():
        return s, 0.0, None
    if not m:
        if "#t=" in s and Path(s.rsplit("#t=", 1)[0]).exists():
            raise VideoError(f"'{s}': a time range is written #t=START,END in seconds")
        return s, 0.0, None
    try:
        start = float(m["start"] or 0.0)
        end = float(m["end"]) if m["end"] else None
    except ValueError:
        raise VideoError(f"'{s}': a time range is written #t=START,END in seconds") from None
    if end is not None and end <= start:
        raise VideoError(f"'{s}': the time range ends before it starts")
    return m["path"], start, end


def _rotated(rgb: np.ndarray, rotation) -> np.ndarray:
    """Apply a display-matrix rotation (degrees counter-clockwise, as PyAV reports it)."""
    k = int(round((rotation or 0) / 90.0)) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


SEEK_AFTER = 2.0  # seconds: a later start seeks to the keyframe before it instead of decoding from 0


def _stream_zero(c, s) -> float:
    """The time (seconds) of a stream's first frame, as the container declares it."""
    if s.start_time is not None and s.time_base is not None:
        return float(s.start_time * s.time_base)
    return (c.start_time or 0) / 1e6


def _seek(c, s, start: float) -> float | None:
    """Seek container ``c`` to the keyframe at or before ``start`` seconds of stream ``s``; the
    stream's time zero, or None where it did not seek (an early start, or a file that cannot
    seek: it is then decoded from its beginning)."""
    if start < SEEK_AFTER or s.time_base is None:
        return None
    zero = _stream_zero(c, s)
    try:
        c.seek(int((zero + start) / s.time_base), stream=s, backward=True, any_frame=False)
    except Exception:  # no index (some avi/webm): decode from the start instead
        try:
            c.seek(0)
        except Exception:
            pass
        return None
    return zero


def frames(path, fps: float = 5.0, *, max_side: int = MAX_SIDE, warnings: list | None = None,
           start: float = 0.0, end: float | None = None) -> Iterator[tuple[float, np.ndarray]]:
    """``(t, rgb)`` for the first frame at or after each multiple of ``1/fps`` seconds (times from
    the video's start, by timestamp), from ``start`` to ``end`` seconds. A decoding error part-way
    (a truncated file) ends the stream with a note in ``warnings``; one before any frame raises
    :class:`VideoError`."""
    if not fps > 0:
        raise InputError(f"--fps must be above 0, got {fps}")
    path = Path(path)
    if path.is_dir():
        yield from _folder_frames(path, fps, start, end, warnings)
        return
    av = _av()
    step = 1.0 / fps
    n = 0
    with _open(path) as c:
        if not c.streams.video:
            raise VideoError(f"'{path}': no video stream")
        s = c.streams.video[0]
        s.thread_type = "SLICE"  # frame threading can hang at exit beside torch (PyAV #1849)
        t0 = _seek(c, s, start)  # the stream's time zero when it seeked, else the first frame's time
        next_t = start
        rate = float(s.average_rate or s.guessed_rate or 25)
        size = None
        try:
            for i, frame in enumerate(c.decode(s)):
                t = frame.time if frame.time is not None else i / rate
                if t0 is None:
                    t0 = t
                t -= t0
                if end is not None and t >= end:
                    break
                if t + 1e-6 < next_t:
                    continue
                next_t = (math.floor(t / step + 1e-6) + 1) * step
                if size is None:
                    w, h = frame.width, frame.height
                    scale = min(1.0, max_side / max(w, h))
                    size = (max(2, round(w * scale)), max(2, round(h * scale)))
                rgb = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                n += 1
                yield round(t, 4), _rotated(rgb, frame.rotation)
        except av.error.FFmpegError as exc:
            if n == 0:
                raise VideoError(f"'{path}': no frame could be decoded ({_msg(exc)})") from None
            if warnings is not None:
                warnings.append(f"decoding stopped after {t if n else 0:.1f} s: the file is truncated "
                                f"or damaged ({_msg(exc)})")
    if n == 0:
        raise VideoError(f"'{path}': the video stream holds no decodable frame")


def prefetch(items, depth: int = 4):
    """Iterate ``items`` in a background thread, ``depth`` ahead: decoding (which releases the GIL)
    overlaps with the caller's work on the frames already decoded. An error in the producer is
    raised in the caller; stopping early stops the producer."""
    import queue
    import threading

    q: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def run():
        try:
            for x in items:
                while not stop.is_set():
                    try:
                        q.put((x, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the caller
            q.put((None, exc))
        finally:
            close = getattr(items, "close", None)
            if stop.is_set() and close:
                close()
            q.put((done, None))

    th = threading.Thread(target=run, name="affekt-video-decode", daemon=True)
    th.start()
    try:
        while True:
            x, exc = q.get()
            if exc is not None:
                raise exc
            if x is done:
                return
            yield x
    finally:
        stop.set()
        while th.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass


def audio_to_wav(path, out, sr: int = 16000, *, warnings: list | None = None, start: float = 0.0,
                 end: float | None = None) -> float | None:
    """Write the first audio stream of ``path`` (from ``start`` to ``end`` seconds) to ``out``
    (16 kHz mono 16-bit WAV), streaming; its duration in seconds, or None when the video has no
    (decodable) audio there."""
    import soundfile as sf

    av = _av()
    path = Path(path)
    n = 0
    with _open(path) as c:
        if not c.streams.audio:
            return None
        a = c.streams.audio[0]
        res = av.AudioResampler(format="s16", layout="mono", rate=sr)
        zero = _seek(c, a, start)
        try:
            with sf.SoundFile(str(out), "w", samplerate=sr, channels=1, subtype="PCM_16") as f:
                a0, a1 = round(start * sr), None if end is None else round(end * sr)
                seen = None  # samples before the next one out (the resampler's output is continuous)

                def put(frames):
                    nonlocal n, seen
                    if seen is None:
                        seen = 0
                    for fr in frames:
                        x = fr.to_ndarray().reshape(-1)
                        lo, hi = max(0, a0 - seen), len(x) if a1 is None else max(0, min(len(x), a1 - seen))
                        seen += len(x)
                        if hi > lo:
                            f.write(x[lo:hi])
                            n += hi - lo
                for frame in c.decode(a):
                    if seen is None and zero is not None and frame.time is not None:
                        seen = max(0, round((frame.time - zero) * sr))  # seeked: where this frame sits
                    put(res.resample(frame))
                put(res.resample(None))
        except av.error.FFmpegError as exc:
            if warnings is not None:
                warnings.append(f"audio decoding stopped after {n / sr:.1f} s ({_msg(exc)})")
    return n / sr if n else None
