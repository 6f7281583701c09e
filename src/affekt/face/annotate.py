"""``affekt analyze photo.jpg --annotate out.png``: the image with each face's box and top
emotion drawn on it."""
from __future__ import annotations

from pathlib import Path

from affekt.core.errors import InputError

ANNOTATE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_COLOURS = {"anger": (220, 40, 40), "disgust": (120, 160, 30), "fear": (150, 60, 200), "happiness": (250, 190, 0),
            "sadness": (40, 110, 230), "surprise": (0, 190, 190), "neutral": (200, 200, 200)}


def annotate(image, pred, out) -> Path:
    """Draw ``pred`` (a face record: ``faces``, or a whole-image ``label``) on ``image`` (a path
    or an array) and save it to ``out``."""
    from PIL import Image, ImageDraw, ImageFont

    from affekt.face.images import load_image

    out = Path(out)
    if out.suffix.lower() not in ANNOTATE_SUFFIXES:
        raise InputError(f"--annotate '{out}': use a {', '.join(ANNOTATE_SUFFIXES)} file")
    from affekt.face.models import MAX_SIDE

    rgb = load_image(image, max_side=MAX_SIDE)
    im = Image.fromarray(rgb, "RGB")
    draw = ImageDraw.Draw(im)
    side = max(im.size)
    width = max(2, side // 300)
    try:
        font = ImageFont.load_default(size=max(12, side // 40))
    except TypeError:  # Pillow < 10.1
        font = ImageFont.load_default()

    def label_at(x, y, text, colour):
        l, t, r, b = draw.textbbox((x, y), text, font=font)
        y = y - (b - t) - 2 * width if y - (b - t) - 2 * width >= 0 else y
        x = max(0, min(x, im.width - (r - l) - 2 * width))  # keep the label inside the image
        l, t, r, b = draw.textbbox((x, y), text, font=font)
        draw.rectangle((l - width, t - width, r + width, b + width), fill=colour)
        draw.text((x, y), text, fill=(0, 0, 0), font=font)

    if pred.faces is None:
        if pred.label:
            label_at(width, width * 2 + side // 40, f"{pred.label} {pred.scores.get(pred.label, 0):.2f}",
                     _COLOURS.get(pred.label, (255, 255, 255)))
    else:
        for k, f in enumerate(pred.faces):
            x, y, w, h = f["box"]
            colour = _COLOURS.get(f.get("label"), (255, 255, 255))
            draw.rectangle((x, y, x + w, y + h), outline=colour, width=width)
            for px, py in (f.get("keypoints") or []):
                r = width
                draw.ellipse((px - r, py - r, px + r, py + r), fill=colour)
            if f.get("label"):
                label_at(x, y, f"{k + 1}: {f['label']} {f['scores'][f['label']]:.2f}", colour)
    out.parent.mkdir(parents=True, exist_ok=True)
    im.save(out)
    return out
