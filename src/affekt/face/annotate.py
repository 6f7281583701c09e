"""``affekt analyze photo.jpg --annotate out.png``: the image with each face's box and top
emotion drawn on it."""
from __future__ import annotations

from pathlib import Path

from affekt.core.errors import InputError

ANNOTATE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
_COLOURS = {"anger": (220, 40, 40), "disgust": (120, 160, 30), "fear": (150, 60, 200), "happiness": (250, 190, 0),
            "sadness": (40, 110, 230), "surprise": (0, 190, 190), "neutral": (200, 200, 200)}


class Canvas:
    """An image to draw boxes and labels on, with a line width and font scaled to its size; a label
    sits above its point when there is room (else just below it) and stays inside the picture."""

    def __init__(self, rgb, *, font_min: int = 12, font_div: int = 40):
        from PIL import Image, ImageDraw, ImageFont

        self.im = Image.fromarray(rgb, "RGB")
        self.draw = ImageDraw.Draw(self.im)
        side = max(self.im.size)
        self.width = max(2, side // 300)
        try:
            self.font = ImageFont.load_default(size=max(font_min, side // font_div))
        except TypeError:  # Pillow < 10.1
            self.font = ImageFont.load_default()

    def box(self, x, y, w, h, colour) -> None:
        self.draw.rectangle((x, y, x + w, y + h), outline=colour, width=self.width)

    def label(self, x, y, text: str, colour, *, below: int = 0) -> None:
        d, wd = self.draw, self.width
        l, t, r, b = d.multiline_textbbox((x, y), text, font=self.font)
        y = y - (b - t) - 2 * wd if y - (b - t) - 2 * wd >= 0 else y + below
        x = max(0, min(x, self.im.width - (r - l) - 2 * wd))  # keep the label inside the image
        l, t, r, b = d.multiline_textbbox((x, y), text, font=self.font)
        d.rectangle((l - wd, t - wd, r + wd, b + wd), fill=colour)
        d.multiline_text((x, y), text, fill=(0, 0, 0), font=self.font)

    def save(self, out: Path) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.im.save(out)
        return out


def annotate(image, pred, out) -> Path:
    """Draw ``pred`` (a face record: ``faces``, or a whole-image ``label``) on ``image`` (a path
    or an array) and save it to ``out``."""
    from affekt.face.images import load_image
    from affekt.face.models import MAX_SIDE

    out = Path(out)
    if out.suffix.lower() not in ANNOTATE_SUFFIXES:
        raise InputError(f"--annotate '{out}': use a {', '.join(ANNOTATE_SUFFIXES)} file")
    c = Canvas(load_image(image, max_side=MAX_SIDE))
    if pred.faces is None:
        if pred.label:
            c.label(c.width, c.width * 2 + max(c.im.size) // 40, f"{pred.label} {pred.scores.get(pred.label, 0):.2f}",
                    _COLOURS.get(pred.label, (255, 255, 255)))
    else:
        for k, f in enumerate(pred.faces):
            x, y, w, h = f["box"]
            colour = _COLOURS.get(f.get("label"), (255, 255, 255))
            c.box(x, y, w, h, colour)
            for px, py in (f.get("keypoints") or []):
                r = c.width
                c.draw.ellipse((px - r, py - r, px + r, py + r), fill=colour)
            if f.get("label"):
                c.label(x, y, f"{k + 1}: {f['label']} {f['scores'][f['label']]:.2f}", colour)
    return c.save(out)
