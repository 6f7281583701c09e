"""An annotated copy of a video: every frame with each tracked face's box, person id and emotion
drawn on it, or (``blur=True``) the faces blurred for a privacy-safe copy. The audio is copied
as it is. Boxes come from the record's sampled frames: each output frame shows those of the
nearest sampled frame (within one sampling step), so a higher ``--fps`` follows fast motion more
closely; a blurred box is enlarged by a quarter to cover the face between samples, and blurred by
the primitive ``affekt anonymize`` uses (:mod:`affekt.privacy.cover`). For a privacy-safe copy,
``affekt anonymize`` also covers the frames between samples and before and after a track."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.core.types import EmotionPrediction

ANNOTATE_SUFFIXES = (".mp4", ".mkv", ".mov")
#: ``blur=True``: a face box is enlarged by this share of its size on every side (a quarter in all)
BLUR_EXPAND = 0.125


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def annotate_video(pred: EmotionPrediction, src, out, *, blur: bool = False) -> Path:
    """Write ``out`` (.mp4/.mkv/.mov, H.264 + the source's audio) from video ``src`` and its record.
    For a time range (``clip.mp4#t=10,20``) the whole video is written, with boxes on the range."""
    import av
    from PIL import Image, ImageDraw

    from affekt.privacy.cover import cover_faces
    from affekt.video.decode import MAX_SIDE, _open, _rotated, frames, split_fragment

    src = split_fragment(src)[0]

    out = Path(out)
    if out.suffix.lower() not in ANNOTATE_SUFFIXES:
        raise InputError(f"'{out}': write the annotated video as {', '.join(ANNOTATE_SUFFIXES)}")
    if pred.error or pred.frames is None:
        raise InputError(f"no annotated video for '{pred.input}': {pred.error or 'the record holds no frames'}")
    fr = pred.frames
    T, ID, B, S, labels, step = fr["t"], fr["track"], fr["box"], fr["face"], fr["labels"], fr["step"]
    times = np.unique(T)
    colours = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180), (70, 240, 240)]
    out.parent.mkdir(parents=True, exist_ok=True)
    _, first = next(frames(src, fps=1000.0))  # the picture as the record's boxes saw it (rotated, reduced)
    height, width = first.shape[0] // 2 * 2, first.shape[1] // 2 * 2
    with _open(Path(src)) as c, av.open(str(out), "w") as o:
        vin = c.streams.video[0]
        vin.thread_type = "SLICE"  # see decode.frames
        ain = c.streams.audio[0] if c.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or 25
        vout = o.add_stream("libx264", rate=rate)
        vout.pix_fmt = "yuv420p"
        vout.width, vout.height = width, height
        vout.options = {"preset": "veryfast", "crf": "23"}
        aout = o.add_stream_from_template(ain) if ain is not None else None
        size = None
        t0 = None
        for packet in c.demux(*(s for s in (vin, ain) if s is not None)):
            if packet.stream.type == "audio":
                if packet.dts is not None:
                    packet.stream = aout
                    o.mux(packet)
                continue
            try:
                decoded = packet.decode()
            except av.error.FFmpegError:
                break  # a damaged tail: what was decoded is kept
            for frame in decoded:
                t = frame.time or 0.0
                t0 = t if t0 is None else t0
                t -= t0
                if size is None:
                    scale = min(1.0, MAX_SIDE / max(frame.width, frame.height))
                    size = (max(2, round(frame.width * scale)), max(2, round(frame.height * scale)))
                rgb = _rotated(frame.to_ndarray(format="rgb24", width=size[0], height=size[1]), frame.rotation)
                rgb = np.ascontiguousarray(rgb[:height, :width])
                k = np.searchsorted(times, t)
                near = [j for j in (k - 1, k) if 0 <= j < len(times) and abs(times[j] - t) <= step]
                rows = np.where(T == times[min(near, key=lambda j: abs(times[j] - t))])[0] if near else []
                if blur:
                    cover_faces(rgb, [B[r] for r in rows], method="blur", expand=BLUR_EXPAND, inplace=True)
                im = Image.fromarray(rgb)
                if not blur and len(rows):
                    draw = ImageDraw.Draw(im)
                    for r in rows:
                        x, y, w, h = (int(v) for v in B[r])
                        col = colours[int(ID[r]) % len(colours)]
                        lab = labels[int(np.argmax(S[r]))]
                        draw.rectangle((x, y, x + w, y + h), outline=col, width=max(2, w // 40))
                        draw.text((x, max(0, y - 18)), f"{int(ID[r])}: {lab} {float(np.max(S[r])):.2f}", fill=col,
                                  font=_font(max(12, min(24, w // 8))))
                for p in vout.encode(av.VideoFrame.from_image(im)):
                    o.mux(p)
        for p in vout.encode():
            o.mux(p)
    return out
