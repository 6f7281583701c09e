"""Who is in a scene: person items, person boxes and where they come from.

A scene item names one person: ``"<image path>#xywh=x,y,w,h"`` (W3C Media Fragments, spatial
dimension, pixels of the image as affekt reads it: upright, EXIF orientation applied), the person's
body box. EMOTIC's boxes are in the pixels as stored; ``affekt.datasets.emotic.check_images`` lists the
images whose EXIF orientation would make the two differ.
A bare image (a path or an array) stands for every person in it; the boxes then come from

1. ``--boxes BOXES.csv`` (columns ``path,x1,y1,x2,y2``: one row per person, corners in pixels;
   a relative path is read from the CSV's folder), else
2. affekt's own detection (:func:`find_people`): each face BlazeFace finds, extended to a body
   box (:func:`body_box_from_face`), else
3. the whole image as one person (no face found: a landscape, a person seen from behind).

Boxes inside this package are ``(x1, y1, x2, y2)`` floats; records give ``[x, y, w, h]`` ints.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from affekt.core.errors import InputError
from affekt.datasets.emotic import scene_item  # noqa: F401  (re-exported: the item syntax is the loader's)

#: the body box made from a face box (x, y, w, h): the face's centre column, WIDTH_FACES face
#: widths wide; from HAIR face heights above the face's top to BODY_FACES face heights below it
WIDTH_FACES = 3.0
HAIR = 0.3
BODY_FACES = 7.0
#: faces smaller than this (longer side, pixels) are not taken for people
MIN_FACE = 16


# ------------------------------------------------------------------------------ items
def is_scene_item(x) -> bool:
    return isinstance(x, str) and "#xywh=" in x


def split_item(x) -> tuple[Any, tuple[float, float, float, float] | None]:
    """``(image, box_xyxy)`` of an item: a scene item -> its path and box
    (:func:`affekt.datasets.emotic.parse_scene_item` reads the syntax); a bare image (a path, an
    array) -> itself and None; ``(image, (x, y, w, h))`` -> the image and that box. Raises
    :class:`InputError` for a malformed fragment or a box without area."""
    if isinstance(x, tuple) and len(x) == 2:
        image, b = x
        try:
            bx, by, bw, bh = (float(v) for v in b)
        except (TypeError, ValueError):
            raise InputError(f"a (image, box) item needs a box (x, y, w, h) of 4 numbers, got {b!r}") from None
        return image, _checked_xywh(bx, by, bw, bh, "box")
    if isinstance(x, os.PathLike):
        x = os.fspath(x)
    if not is_scene_item(x):
        return x, None
    from affekt.datasets.emotic import parse_scene_item

    path, xywh = parse_scene_item(x)
    return path, _checked_xywh(*(float(v) for v in xywh), f"'{x}'")


def _checked_xywh(x: float, y: float, w: float, h: float, where: str) -> tuple[float, float, float, float]:
    if not all(np.isfinite([x, y, w, h])):
        raise InputError(f"{where}: the person box has a value that is not a number")
    if w <= 0 or h <= 0:
        raise InputError(f"{where}: the person box has no area (width {w:g}, height {h:g})")
    return (x, y, x + w, y + h)


def to_xywh(box_xyxy) -> list[int]:
    x1, y1, x2, y2 = box_xyxy
    return [round(x1), round(y1), round(x2 - x1), round(y2 - y1)]


def fit_box(box_xyxy, width: int, height: int, where: str = "") -> tuple[tuple[float, float, float, float], str | None]:
    """The box clipped to a ``width`` x ``height`` image, and a warning when clipping cut more
    than 2 pixels off. Raises :class:`InputError` when it lies outside the image (or keeps
    under a pixel of it)."""
    x1, y1, x2, y2 = (float(v) for v in box_xyxy)
    cx1, cy1, cx2, cy2 = max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)
    shown = to_xywh((x1, y1, x2, y2))
    if cx2 - cx1 < 1 or cy2 - cy1 < 1:
        raise InputError(f"{where + ': ' if where else ''}person box [x, y, w, h] = {shown} lies outside "
                         f"the image ({width}x{height} pixels)")
    note = None
    if max(cx1 - x1, cy1 - y1, x2 - cx2, y2 - cy2) > 2:
        note = f"person box {shown} reaches outside the image ({width}x{height}); clipped to it"
    return (cx1, cy1, cx2, cy2), note


# ------------------------------------------------------------------------------ --boxes CSV
BOXES_COLUMNS = ("path", "x1", "y1", "x2", "y2")


def read_boxes(path) -> dict[str, list[tuple[float, float, float, float]]]:
    """``--boxes BOXES.csv``: resolved image path -> its person boxes (x1, y1, x2, y2), in the
    CSV's order. Columns ``path,x1,y1,x2,y2`` (a header row; other columns are ignored); a
    relative path is read from the CSV's folder. A box without area, or a value that is not a
    number, is an :class:`InputError` naming the line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"--boxes '{p}': no such file")
    out: dict[str, list] = {}
    with open(p, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        cols = [c.strip().lower() for c in (reader.fieldnames or [])]
        missing = [c for c in BOXES_COLUMNS if c not in cols]
        if missing:
            raise InputError(f"--boxes '{p}': missing column(s) {', '.join(missing)} (the header must name "
                             f"{','.join(BOXES_COLUMNS)}: image path, then the box's corners in pixels)")
        names = dict(zip(cols, reader.fieldnames or []))
        for line, row in enumerate(reader, start=2):
            image = (row.get(names["path"]) or "").strip()
            if not image:
                raise InputError(f"--boxes '{p}' line {line}: empty path")
            try:
                x1, y1, x2, y2 = (float(row[names[c]]) for c in BOXES_COLUMNS[1:])
            except (TypeError, ValueError):
                raise InputError(f"--boxes '{p}' line {line}: x1, y1, x2, y2 must be numbers (pixels), got "
                                 f"{[row.get(names[c]) for c in BOXES_COLUMNS[1:]]}") from None
            if not all(np.isfinite([x1, y1, x2, y2])) or x2 <= x1 or y2 <= y1:
                raise InputError(f"--boxes '{p}' line {line}: box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) has no area "
                                 f"(x2 must exceed x1 and y2 exceed y1)")
            q = Path(image)
            key = _key(q if q.is_absolute() else p.parent / q)
            out.setdefault(key, []).append((x1, y1, x2, y2))
    if not out:
        raise InputError(f"--boxes '{p}' holds no box")
    return out


def _key(path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def boxes_for(boxes: dict | None, image) -> list | None:
    """The boxes ``read_boxes`` gave for ``image`` (a path), or None."""
    if not boxes or not isinstance(image, (str, os.PathLike)):
        return None
    return boxes.get(_key(image))


# ------------------------------------------------------------------------------ detection
@dataclass
class PersonBox:
    """A person to score in an image: ``box`` (x1, y1, x2, y2) and where it came from
    (``item``, ``boxes``, ``face``, ``whole-image``); ``face``: the face it was made from."""

    box: tuple[float, float, float, float]
    source: str
    face: dict | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])


def body_box_from_face(face_box, width: int, height: int) -> tuple[float, float, float, float]:
    """A body box from a face box (x, y, w, h): ``WIDTH_FACES`` face widths wide around the
    face's centre, from ``HAIR`` face heights above its top to ``BODY_FACES`` face heights below
    its top, clipped to the image. (A standing adult is 7-8 heads tall; a seated one or a
    close-up is cut by the image's bottom edge.)"""
    fx, fy, fw, fh = (float(v) for v in face_box)
    cx = fx + fw / 2
    x1, x2 = cx - WIDTH_FACES * fw / 2, cx + WIDTH_FACES * fw / 2
    y1, y2 = fy - HAIR * fh, fy + BODY_FACES * fh
    return (max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))


_DETECTOR: dict = {}


def face_detector():
    """BlazeFace (the "full" model: faces up to ~5 m away), shared by the process."""
    if "d" not in _DETECTOR:
        from affekt.face.detect import get_detector

        _DETECTOR["d"] = get_detector("blazeface", min_face=MIN_FACE)
    return _DETECTOR["d"]


def detect_faces(rgb: np.ndarray) -> list:
    """BlazeFace's faces in an RGB image, largest first."""
    return sorted(face_detector().detect(rgb), key=lambda f: -f.area)


def find_people(rgb: np.ndarray, faces: list | None = None) -> list[PersonBox]:
    """The people of an image, largest first: a body box per face found
    (:func:`body_box_from_face`), or the whole image as one person when there is no face."""
    h, w = rgb.shape[:2]
    faces = detect_faces(rgb) if faces is None else faces
    people = [PersonBox(body_box_from_face(f.box, w, h), "face", face=f.to_dict()) for f in faces]
    if not people:
        people = [PersonBox((0.0, 0.0, float(w), float(h)), "whole-image",
                            warnings=["no face found: the whole image is read as one person"])]
    return sorted(people, key=lambda p: -p.area)
