"""Tiny test videos made on the spot with PyAV: real faces (the bundled example photo and
scikit-image's astronaut) moving over a plain background, optionally with a tone or speech-like
audio track, rotation metadata or a variable frame rate."""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "src" / "affekt" / "examples" / "face.jpg"


@lru_cache(maxsize=None)
def face_crops(side: int = 150) -> list[np.ndarray]:
    """Two real faces with some margin, ``side`` px square RGB."""
    from PIL import Image
    from skimage import data

    ex = Image.open(EXAMPLE).convert("RGB").crop((144, 40, 309, 205))  # the example's face + margin
    astro = Image.fromarray(data.astronaut()).crop((150, 20, 290, 160))
    return [np.asarray(im.resize((side, side), Image.BICUBIC)) for im in (ex, astro)]


def make_video(path, *, seconds: float = 2.0, fps: int = 10, size=(320, 240), people=(0,),
               audio: np.ndarray | None = None, sr: int = 16000, rotation: int = 0, vfr: bool = False,
               codec: str = "libx264", side: int = 110, faststart: bool = False) -> Path:
    """A video of ``people`` (indices into :func:`face_crops`) drifting left to right, one per
    horizontal slot. ``audio``: mono float32 samples at ``sr`` for an AAC track. ``vfr``: frame
    gaps alternate 1/(2 fps) and 3/(2 fps). ``faststart``: the index first (a cut file then opens
    and breaks part-way)."""
    import av

    path = Path(path)
    w, h = size
    crops = face_crops(side)
    n = int(seconds * fps)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as c:
        vs = c.add_stream(codec, rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            vs.options = {"preset": "ultrafast", "threads": "1"}
        if rotation:
            vs.set_display_rotation(rotation)
        tb = Fraction(1, fps * 2)
        vs.codec_context.time_base = tb
        ast = None
        if audio is not None:
            ast = c.add_stream("aac", rate=sr)
            ast.layout = "mono"
        pts = 0
        for i in range(n):
            img = np.full((h, w, 3), (90, 110, 100), np.uint8)
            slot = w // max(1, len(people))
            for k, p in enumerate(people):
                x = k * slot + int((slot - side) * (0.2 + 0.6 * i / max(1, n - 1)))
                y = (h - side) // 2
                img[y:y + side, x:x + side] = crops[p]
            f = av.VideoFrame.from_ndarray(img, format="rgb24")
            f.pts, f.time_base = pts, tb
            pts += (1 if i % 2 == 0 else 3) if vfr else 2
            for pk in vs.encode(f):
                c.mux(pk)
        for pk in vs.encode():
            c.mux(pk)
        if ast is not None:
            x = np.asarray(audio, np.float32).reshape(1, -1)
            for s in range(0, x.shape[1], 1024):
                fr = av.AudioFrame.from_ndarray(x[:, s:s + 1024], format="flt", layout="mono")
                fr.sample_rate = sr
                fr.pts = s
                for pk in ast.encode(fr):
                    c.mux(pk)
            for pk in ast.encode():
                c.mux(pk)
    return path


def audio_only(path, seconds: float = 1.0, sr: int = 16000) -> Path:
    import av

    with av.open(str(path), "w") as c:
        ast = c.add_stream("aac", rate=sr)
        ast.layout = "mono"
        x = (0.1 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)[None]
        for s in range(0, x.shape[1], 1024):
            fr = av.AudioFrame.from_ndarray(x[:, s:s + 1024], format="flt", layout="mono")
            fr.sample_rate, fr.pts = sr, s
            for pk in ast.encode(fr):
                c.mux(pk)
        for pk in ast.encode():
            c.mux(pk)
    return Path(path)
