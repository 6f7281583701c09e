"""A synthetic EMOTIC, and writers of EMOTIC's annotation forms (the inverse of
:mod:`affekt.datasets.emotic`'s readers).

:func:`make_synthetic_emotic` writes JPEG scenes with people in them and their annotations (the
official ``Annotations.mat`` structure, the flat and Tandon-A CSV exports, the COCO-style JSON), so
that every scene model and loader can be tested without EMOTIC's images. It is seeded: the same
arguments give byte-identical files.

The rule (what decides each person's categories)
-------------------------------------------------
Each category holds with probability 0.4 (``category_rate``), independently of the others.

*Context categories* are properties of the **image**, shared by everyone in it, and drawn only
**outside** the body boxes (the scene):

- Peace: the background gradient's hues are blue-green (otherwise orange-magenta);
- Excitement: diagonal stripes across the background;
- Fear: the whole scene is dark (drawn at 40% brightness);
- Fatigue: round blobs scattered over the background;
- Engagement: a fine checkerboard texture over the background;
- Anticipation: a green ground band along the bottom fifth of the image.

*Person categories* are properties of each **person**, drawn only **inside** their body box: the box
is filled with the person's own grey backdrop and a stick figure is drawn on it:

- Happiness: the figure's head is yellow (otherwise pale pink);
- Sadness: its arms hang down (otherwise they are raised);
- Anger: its torso is red (otherwise blue);
- Affection: a white disc on the torso;
- Confidence: thick limbs (otherwise thin);
- Surprise: horizontal white stripes across the torso.

The other 14 categories are noise: each is given to a person with probability ``other_rate``
(0.05), independently of the image (no model can find them: their AP is their prevalence).

So the person crop shows nothing of the context categories (the box is painted over the scene),
and the scene with the person's box masked out shows nothing of that person's categories (other
people in the image are independent of them). Boxes start and end on an 8-pixel grid and the JPEGs
are written without chroma subsampling (4:4:4), so no JPEG block or chroma filter mixes pixels
across a box edge: the decoded crop is exactly a function of the person, and the decoded scene
outside the boxes exactly a function of the context.

Body boxes are tall rectangles (width 0.3-0.55 of the height, height 0.45-0.9 of the image's) at
random places; people in one image do not overlap. Valence, arousal and dominance (1-10) are a
linear function of the categories (:data:`VAD_RULE`: a base plus the weights of the categories
present, clipped to 1-10); each annotator gives that value plus Gaussian noise (sd 0.75), rounded
to an integer and clipped to 1-10. train has one annotator per person; val and test have 2-4 (each
names a random part of the person's categories, together all of them); their ``combined_categories``
are the union, their ``combined_continuous`` the mean. Gender and age are drawn independently of
everything (Male 0.6; Adult 0.8, Teenager 0.1, Kid 0.1).
"""
from __future__ import annotations

import csv
import gzip
import io
import json
import math
import string
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError
from affekt.core.labels import DIMENSIONS, EMOTIC

CATEGORIES = EMOTIC.labels
CONTEXT_CATEGORIES: tuple[str, ...] = ("Peace", "Excitement", "Fear", "Fatigue", "Engagement", "Anticipation")
PERSON_CATEGORIES: tuple[str, ...] = ("Happiness", "Sadness", "Anger", "Affection", "Confidence", "Surprise")
OTHER_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES
                                          if c not in CONTEXT_CATEGORIES + PERSON_CATEGORIES)
CONTEXT_RULE = {
    "Peace": "the background gradient's hues are blue-green (otherwise orange-magenta)",
    "Excitement": "diagonal stripes across the background",
    "Fear": "the whole scene is dark (drawn at 40% brightness)",
    "Fatigue": "round blobs scattered over the background",
    "Engagement": "a fine checkerboard texture over the background",
    "Anticipation": "a green ground band along the bottom fifth of the image",
}
PERSON_RULE = {
    "Happiness": "the figure's head is yellow (otherwise pale pink)",
    "Sadness": "the figure's arms hang down (otherwise raised)",
    "Anger": "the figure's torso is red (otherwise blue)",
    "Affection": "a white disc on the figure's torso",
    "Confidence": "thick limbs (otherwise thin)",
    "Surprise": "horizontal white stripes across the torso",
}
#: valence / arousal / dominance = base + the weights of the categories present (then annotator
#: noise sd 0.75, rounded, clipped to 1-10)
VAD_RULE = {
    "valence": (5.5, {"Happiness": 1.5, "Peace": 1.0, "Affection": 1.0, "Excitement": 0.5,
                      "Sadness": -1.5, "Fear": -1.5, "Anger": -1.0, "Fatigue": -0.5}),
    "arousal": (4.5, {"Excitement": 1.5, "Fear": 1.0, "Anger": 1.0, "Surprise": 1.0, "Engagement": 0.5,
                      "Fatigue": -1.5, "Peace": -1.0}),
    "dominance": (5.5, {"Confidence": 1.5, "Anger": 1.0, "Engagement": 0.5,
                        "Fear": -1.5, "Sadness": -1.0, "Fatigue": -0.5}),
}
ANNOTATOR_SD = 0.75
GRID = 8  # box corners are multiples of this: JPEG blocks (4:4:4) never straddle a box edge
DARK = 0.4
SOURCES = (("mscoco", 0.7), ("framesdb", 0.15), ("emodb_small", 0.1), ("ade20k", 0.05))
#: EMOTIC's commonest image sizes (width, height) and their shares, for ``image_size="emotic"``
EMOTIC_SIZES = (((640, 480), 0.3), ((640, 427), 0.3), ((500, 375), 0.1), ((480, 640), 0.1), ((612, 612), 0.05),
                ((640, 360), 0.05), ((380, 317), 0.05), ((1024, 683), 0.05))
_SPLIT_FILE = {"train": "train", "dev": "val", "val": "val", "test": "test", "all": "all"}


# ============================================================================ writers
def _struct(**fields) -> np.ndarray:
    return _struct_array([fields])


def _struct_array(items: list[dict]) -> np.ndarray:
    """A MATLAB 1xN struct array (savemat writes a structured ndarray of objects as one)."""
    keys = list(items[0])
    a = np.empty((1, len(items)), dtype=[(k, "O") for k in keys])
    for i, d in enumerate(items):
        for k in keys:
            a[0, i][k] = d[k]
    return a


def _cell(strings) -> np.ndarray:
    a = np.empty((1, len(strings)), dtype=object)
    for i, s in enumerate(strings):
        a[0, i] = str(s)
    return a


def write_annotations_mat(path, splits: dict[str, list[dict]]) -> Path:
    """Write EMOTIC's official ``Annotations.mat`` structure: a variable per split (train, val, test;
    ``dev`` is written as val), each a 1xN struct array of images ``filename, folder, image_size{n_col,
    n_row}, original_database{name, info}, person``; a person ``body_bbox, annotations_categories
    {categories}, [combined_categories], annotations_continuous{valence, arousal, dominance},
    [combined_continuous], gender, age`` (one annotations struct for one annotator, an array for
    several). ``splits``: ``{split: [image, ...]}`` in the form
    :func:`affekt.datasets.emotic.read_emotic_mat` returns. The file is the same bytes for the same
    input (the header's creation time is fixed)."""
    import scipy.io

    out = {}
    for split, images in splits.items():
        name = _SPLIT_FILE.get(split)
        if name not in ("train", "val", "test"):
            raise DataError(f"write_annotations_mat: split is train, val or test, not {split!r}")
        combined = any(p.get("combined_categories") is not None or p.get("combined_continuous") is not None
                       for im in images for p in im["persons"])
        structs = []
        for im in images:
            if not im["persons"]:
                raise DataError(f"write_annotations_mat: image {im['folder']}/{im['filename']} has no person")
            persons = []
            for p in im["persons"]:
                cats = [_struct_array([{"categories": _cell(a)}])[0, 0] for a in p["categories"]]
                cont = [_struct_array([dict(zip(DIMENSIONS, map(float, v)))])[0, 0] for v in p["continuous"]]
                d = {"body_bbox": np.asarray(p["box"], dtype=float).reshape(1, 4),
                     "annotations_categories": _from_records(cats, ("categories",))}
                if combined:
                    d["combined_categories"] = _cell(p.get("combined_categories") or [])
                d["annotations_continuous"] = _from_records(cont, DIMENSIONS)
                if combined:
                    cc = p.get("combined_continuous")
                    d["combined_continuous"] = _struct(**dict(zip(DIMENSIONS, (float("nan"),) * 3 if cc is None
                                                                  else map(float, cc))))
                d["gender"] = p.get("gender") or ""
                d["age"] = p.get("age") or ""
                persons.append(d)
            structs.append({"filename": im["filename"], "folder": im["folder"],
                            "image_size": _struct(n_col=float(im["width"]), n_row=float(im["height"])),
                            "original_database": _struct(name=im.get("source_db") or "", info=np.zeros((0, 0))),
                            "person": _struct_array(persons)})
        out[name] = _struct_array(structs) if structs else np.zeros((0, 0))
    buf = io.BytesIO()
    scipy.io.savemat(buf, out, do_compression=False, oned_as="row")
    raw = bytearray(buf.getvalue())
    head = b"MATLAB 5.0 MAT-file, written by affekt.scene.synthetic"
    raw[:116] = head + b" " * (116 - len(head))  # the header's text, without savemat's creation time
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(bytes(raw))
    return p


def _from_records(records: list, fields) -> np.ndarray:
    """A list of mat-struct records -> one struct (one record) or a 1xN struct array."""
    if not records:
        return np.zeros((0, 0))
    a = np.empty((1, len(records)), dtype=[(f, "O") for f in fields])
    for i, r in enumerate(records):
        a[0, i] = r
    return a


def _rows(rows) -> list[dict]:
    if isinstance(rows, pd.DataFrame):
        return rows.to_dict("records")
    return [dict(r) for r in rows]


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _num(v) -> str:
    if _missing(v):
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() else repr(f)


def _key(c: str) -> str:
    return c.replace("/", "_").replace(" ", "_")


def write_csv_export(path, rows, kind: str = "flat") -> Path:
    """Write persons (a DataFrame of :func:`~affekt.datasets.emotic.load_emotic`'s columns, or dicts
    with ``folder, filename, width, height, box, labels, valence, arousal, dominance, gender, age``,
    optionally ``split, image_id, person_id, source_db, n_annotators``) as a CSV export.

    ``kind="flat"``: one row per person, ``split, image_id, person_id, folder, filename, source_db,
    width, height, bbox_x1..bbox_y2, categories ('|'-joined), valence, arousal, dominance, gender, age,
    [n_annotators], cat_*`` (as ``emotic_{val,test}_persons.csv``). ``kind="tandon"``: Tandon-A's
    ``emotic_pre/<split>.csv`` (``Index, Folder, Filename, Image Size, BBox, Categorical_Labels,
    Continuous_Labels, Gender, Age``; one file per split, the split read from its name)."""
    rows = _rows(rows)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if kind == "tandon":
        with open(p, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["Index", "Folder", "Filename", "Image Size", "BBox", "Categorical_Labels",
                        "Continuous_Labels", "Gender", "Age"])
            for i, r in enumerate(rows):
                size = [int(r["width"]), int(r["height"])]
                box = [round(v) for v in r["box"]]
                vad = [float("nan") if _missing(r[d]) else float(r[d]) for d in DIMENSIONS]
                w.writerow([i, r["folder"], r["filename"], str(size), str(box), str(list(r["labels"])),
                            str(vad), r.get("gender") or "", r.get("age") or ""])
        return p
    if kind != "flat":
        raise DataError(f"write_csv_export: kind is 'flat' or 'tandon', not {kind!r}")
    has_split = any("split" in r for r in rows)
    has_n = any(not _missing(r.get("n_annotators")) for r in rows)
    head = (["split"] if has_split else []) + ["image_id", "person_id", "folder", "filename", "source_db", "width",
                                               "height", "bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "categories",
                                               "valence", "arousal", "dominance", "gender", "age"]
    head += (["n_annotators"] if has_n else []) + ["cat_" + _key(c) for c in CATEGORIES]
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        for i, r in enumerate(rows):
            labs = set(r["labels"])
            line = ([_SPLIT_FILE.get(r.get("split"), r.get("split") or "")] if has_split else [])
            line += [_num(r.get("image_id", i)), _num(r.get("person_id", i)), r["folder"], r["filename"],
                     r.get("source_db") or "", _num(r["width"]), _num(r["height"]),
                     *(_num(v) for v in r["box"]), "|".join(r["labels"]),
                     *(_num(r[d]) for d in DIMENSIONS), r.get("gender") or "", r.get("age") or ""]
            line += ([_num(r.get("n_annotators"))] if has_n else []) + [int(c in labs) for c in CATEGORIES]
            w.writerow(line)
    return p


def write_coco_json(path, rows) -> Path:
    """Write persons (as :func:`write_csv_export` takes them, one split) as the COCO-style EMOTIC JSON
    (``images[]``, ``annotations[]`` with ``bbox`` [x1, y1, x2, y2], ``categories``). A path ending in
    ``.gz`` is gzip-compressed (no time stamp: same bytes for the same rows)."""
    rows = _rows(rows)
    images, index = [], {}
    anns = []
    for i, r in enumerate(rows):
        key = r.get("image_id", (r["folder"], r["filename"]))
        if key not in index:
            index[key] = len(images) if _missing(r.get("image_id")) else int(r["image_id"])
            images.append({"database": "EMOTIC", "file_name": r["filename"], "folder": r["folder"],
                           "name": r.get("source_db") or str(r["folder"]).split("/")[0],
                           "height": int(r["height"]), "width": int(r["width"]), "id": index[key], "coco_ids": []})
        a = {"image_id": index[key], "id": int(r.get("person_id", i)), "category_id": 1,
             "bbox": [round(v) for v in r["box"]], "coco_ids": [],
             "annotations_categories": list(r["labels"]),
             "annotations_continuous": {d: None if _missing(r[d]) else _plain(r[d]) for d in DIMENSIONS},
             "gender": r.get("gender"), "age": r.get("age")}
        if not _missing(r.get("n_annotators")):
            a["n_annotators"] = int(r["n_annotators"])
        anns.append(a)
    d = {"images": images, "annotations": anns,
         "categories": [{"supercategory": "person", "id": 1, "name": "person"}]}
    raw = json.dumps(d).encode()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.name.endswith(".gz"):
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
            gz.write(raw)
        raw = buf.getvalue()
    p.write_bytes(raw)
    return p


def _plain(v):
    f = float(v)
    return int(f) if f.is_integer() else f


# ============================================================================ drawing
def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((h / 360.0) % 1.0, s, v)
    return int(r * 255), int(g * 255), int(b * 255)


def _jitter(rgb, rng, amount: int = 12) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)


def draw_scene(size: tuple[int, int], context: dict, rng: np.random.Generator):
    """The background of one image (a PIL RGB image): the context categories drawn as in the module
    docstring, plus label-free variation (gradient direction, hues, stripe angle and period, blob
    places, a few grey shapes)."""
    from PIL import Image, ImageChops, ImageDraw

    W, H = size
    hue = rng.uniform(160, 230) if context.get("Peace") else rng.uniform(300, 390)
    c0 = np.array(_hsv(hue, rng.uniform(0.45, 0.8), rng.uniform(0.75, 0.95)), dtype=np.float32)
    c1 = np.array(_hsv(hue + rng.uniform(-25, 25), rng.uniform(0.45, 0.8), rng.uniform(0.55, 0.8)), dtype=np.float32)
    a = rng.uniform(0, 2 * np.pi)
    t = (np.linspace(0, np.cos(a), W, dtype=np.float32)[None, :]
         + np.linspace(0, np.sin(a), H, dtype=np.float32)[:, None])
    t -= t.min()
    t *= 255 / max(float(t.max()), 1e-6)
    grad = Image.fromarray(t.astype(np.uint8), "L")
    ramp = np.arange(256) / 255
    img = Image.merge("RGB", [grad.point([int(c0[k] + (c1[k] - c0[k]) * v) for v in ramp]) for k in range(3)])
    draw = ImageDraw.Draw(img)
    if context.get("Anticipation"):
        top = int(H * rng.uniform(0.78, 0.82))
        draw.rectangle([0, top, W, H], fill=_hsv(rng.uniform(100, 140), rng.uniform(0.6, 0.8), rng.uniform(0.5, 0.7)))
    if context.get("Engagement"):
        cell = int(rng.integers(3, 6))
        cw, ch = -(-W // cell), -(-H // cell)
        par = (np.arange(cw)[None, :] + np.arange(ch)[:, None]) % 2
        mask = Image.fromarray(np.where(par, 255, 175).astype(np.uint8), "L")
        mask = mask.resize((cw * cell, ch * cell), Image.NEAREST).crop((0, 0, W, H)).convert("RGB")
        img = ImageChops.multiply(img, mask)
        draw = ImageDraw.Draw(img)
    if context.get("Excitement"):
        period = float(rng.uniform(0.04, 0.08) * max(W, H))
        ang = np.deg2rad(rng.uniform(30, 60) + (90 if rng.random() < 0.5 else 0))
        d = np.array([np.cos(ang), np.sin(ang)])  # across the stripes
        n = np.array([-d[1], d[0]])  # along them
        L = W + H
        colour = (240, 240, 240) if rng.random() < 0.5 else (30, 30, 30)
        colour = _jitter(colour, rng, 15)
        for k in np.arange(-L, L, period):
            p0 = d * k - n * L
            p1 = d * k + n * L
            q = d * period * 0.45
            draw.polygon([tuple(p0), tuple(p1), tuple(p1 + q), tuple(p0 + q)], fill=colour)
    if context.get("Fatigue"):
        r0 = min(W, H)
        for _ in range(int(rng.integers(10, 20))):
            r = rng.uniform(0.03, 0.07) * r0
            x, y = rng.uniform(0, W), rng.uniform(0, H)
            g = int(rng.integers(20, 236))
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(g, g, g))
    for _ in range(int(rng.integers(1, 4))):  # label-free clutter
        x, y = rng.uniform(0, W), rng.uniform(0, H)
        w, h = rng.uniform(0.05, 0.2) * W, rng.uniform(0.05, 0.2) * H
        g = int(rng.integers(60, 200))
        draw.rectangle([x, y, x + w, y + h], outline=(g, g, g), width=2)
    if context.get("Fear"):
        lut = [int(v * DARK) for v in range(256)] * 3
        img = img.point(lut)
    return img


def draw_person(img, box, person: dict, rng: np.random.Generator) -> None:
    """Paint one person into ``img`` (PIL RGB) inside ``box`` [x1, y1, x2, y2] only: the person's grey
    backdrop fills the box, then the stick figure whose look the person categories decide."""
    from PIL import Image, ImageDraw

    bx, by, x2, y2 = (int(v) for v in box)
    w, h = x2 - bx, y2 - by
    g = int(rng.integers(95, 166))
    fig = Image.new("RGB", (w, h), (g, g, g))  # drawn apart and pasted: nothing spills out of the box
    draw = ImageDraw.Draw(fig)
    x1 = y1 = 0
    cx = x1 + w / 2 + rng.uniform(-0.04, 0.04) * w
    r = min(0.09 * h, 0.3 * w)
    head_y = y1 + 0.03 * h + r
    top = head_y + r + 0.01 * h
    bottom = y1 + 0.62 * h
    half = 0.22 * w
    limb = max(2, round(0.11 * w)) if person.get("Confidence") else max(1, round(0.035 * w))
    dark = _jitter((45, 40, 40), rng, 10)
    # arms, then legs, from the shoulders and hips
    shoulder = top + 0.04 * h
    hand_y = y1 + 0.58 * h if person.get("Sadness") else y1 + 0.05 * h
    for s in (-1, 1):
        draw.line([(cx + s * half, shoulder), (cx + s * 0.43 * w, hand_y)], fill=dark, width=limb)
        foot = cx + s * rng.uniform(0.18, 0.38) * w
        draw.line([(cx + s * 0.12 * w, bottom), (foot, y1 + 0.97 * h)], fill=dark, width=limb)
    torso = (200, 40, 40) if person.get("Anger") else (50, 70, 190)
    draw.rectangle([cx - half, top, cx + half, bottom], fill=_jitter(torso, rng, 15))
    white = _jitter((240, 240, 240), rng, 10)
    if person.get("Surprise"):
        n = 4
        step = (bottom - top) / (2 * n)
        for k in range(n):
            yk = top + (2 * k + 0.5) * step
            draw.rectangle([cx - half, yk, cx + half, yk + step], fill=white)
    if person.get("Affection"):
        rr = min(0.15 * w, 0.07 * h)
        cy = (top + bottom) / 2
        draw.ellipse([cx - rr, cy - rr, cx + rr, cy + rr], fill=white)
    head = (235, 200, 40) if person.get("Happiness") else (225, 175, 160)
    draw.ellipse([cx - r, head_y - r, cx + r, head_y + r], fill=_jitter(head, rng, 10))
    img.paste(fig, (bx, by))


def render_image(size: tuple[int, int], context: dict, persons: list[tuple], seed):
    """One synthetic image: the scene for ``context`` (a dict category -> bool) drawn from the
    random stream ``(*seed, 0)``, then each ``(box, person)`` (a dict category -> bool) painted into
    its box from the stream ``(*seed, 1, k)``. The scene's stream never sees the persons and the
    persons' streams never see the scene: a person's pixels depend on that person only."""
    seed = [int(s) for s in (seed if isinstance(seed, (list, tuple)) else [seed])]
    img = draw_scene(size, context, np.random.default_rng([*seed, 0]))
    for k, (box, person) in enumerate(persons):
        draw_person(img, box, person, np.random.default_rng([*seed, 1, k]))
    return img


def _boxes(rng: np.random.Generator, W: int, H: int, k: int) -> list[list[int]]:
    out: list[list[int]] = []
    for _ in range(k):
        for _try in range(30):
            h = rng.uniform(0.45, 0.9) * H
            w = rng.uniform(0.3, 0.55) * h
            h = int(max(2 * GRID, min(H // GRID * GRID, round(h / GRID) * GRID)))
            w = int(max(GRID, min(W // GRID * GRID, round(w / GRID) * GRID)))
            x = int(rng.integers(0, (W - w) // GRID + 1)) * GRID
            y = int(rng.integers(0, (H - h) // GRID + 1)) * GRID
            b = [x, y, x + w, y + h]
            if all(b[2] <= o[0] or o[2] <= b[0] or b[3] <= o[1] or o[3] <= b[1] for o in out):
                out.append(b)
                break
    return out


def _vad(cats: set[str]) -> np.ndarray:
    return np.array([base + sum(wt for c, wt in weights.items() if c in cats) for base, weights in VAD_RULE.values()])


def _sizes(image_size, rng, n: int) -> list[tuple[int, int]]:
    if isinstance(image_size, str):
        if image_size != "emotic":
            raise DataError(f"make_synthetic_emotic: image_size is (width, height), a list of them or 'emotic', "
                            f"not {image_size!r}")
        sizes, weights = zip(*EMOTIC_SIZES)
        idx = rng.choice(len(sizes), size=n, p=np.array(weights) / sum(weights))
        return [sizes[i] for i in idx]
    arr = np.asarray(image_size)
    if arr.ndim == 1 and arr.shape == (2,):
        return [(int(arr[0]), int(arr[1]))] * n
    if arr.ndim == 2 and arr.shape[1] == 2:
        idx = rng.integers(0, len(arr), size=n)
        return [(int(arr[i][0]), int(arr[i][1])) for i in idx]
    raise DataError(f"make_synthetic_emotic: image_size is (width, height), a list of them or 'emotic', "
                    f"not {image_size!r}")


# ============================================================================ the generator
def make_synthetic_emotic(root, *, n_images: int = 60, seed: int = 0, image_size=(640, 480),
                          formats=("mat", "csv", "coco"), people_per_image=(1, 2),
                          category_rate: float = 0.4, other_rate: float = 0.05,
                          split_fractions=(0.6, 0.2, 0.2), annotators=(2, 4), jpeg_quality: int = 90) -> dict:
    """Write a synthetic EMOTIC under ``root`` and describe it (the rule: module docstring).

    Images: ``root/<source db>/images/<name>.jpg``. Annotations, for each of ``formats``: "mat" ->
    ``root/Annotations/Annotations.mat``; "csv" -> ``root/Annotations/emotic_<split>_persons.csv``
    (flat); "tandon" -> ``root/emotic_pre/<split>.csv``; "coco" ->
    ``root/Annotations/EMOTIC_<split>_x1y1x2y2.json``. ``load_emotic(root)`` reads them (the .mat
    first when there are several; ``format=`` picks one). ``image_size``: (width, height), a list of
    sizes to draw from, or "emotic" (EMOTIC's commonest sizes). ``people_per_image``: (fewest,
    most) people per image (fewer when they do not fit without overlapping). ``split_fractions``:
    train/val/test shares of ``n_images``. ``annotators``: (fewest, most) annotators per val/test
    person (train has one).

    Returns a dict: ``root``, ``seed``, ``splits`` ({split: {"images", "persons"}}), ``files``
    ({format: [paths]}), ``context_categories``, ``person_categories``, ``other_categories``,
    ``context_rule`` and ``person_rule`` ({category: what draws it}), ``vad_rule`` ({dimension:
    {"base", "weights"}}), ``annotator_sd``, ``category_rate``, ``other_rate``, ``box_grid``, and
    ``rule`` (the rule in words).
    """
    known = {"mat", "csv", "tandon", "coco"}
    formats = (formats,) if isinstance(formats, str) else tuple(formats)
    if not formats or set(formats) - known:
        raise DataError(f"make_synthetic_emotic: formats are among {', '.join(sorted(known))}, not {formats!r}")
    lo, hi = (people_per_image, people_per_image) if isinstance(people_per_image, int) else people_per_image
    if not 1 <= lo <= hi:
        raise DataError(f"make_synthetic_emotic: people_per_image is (fewest, most) with 1 <= fewest <= most, "
                        f"not {people_per_image!r}")
    if n_images < 1:
        raise DataError("make_synthetic_emotic: n_images must be at least 1")
    fr = np.asarray(split_fractions, dtype=float)
    if fr.shape != (3,) or (fr < 0).any() or fr.sum() <= 0:
        raise DataError(f"make_synthetic_emotic: split_fractions is (train, val, test), not {split_fractions!r}")
    counts = np.floor(fr / fr.sum() * n_images).astype(int)
    counts[0] += n_images - counts.sum()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    master = np.random.default_rng([seed, 99])
    all_sizes = _sizes(image_size, master, n_images)
    if min(min(s) for s in all_sizes) < 4 * GRID:
        raise DataError(f"make_synthetic_emotic: images must be at least {4 * GRID} px on each side")
    dbs, db_p = zip(*SOURCES)
    used: set[str] = set()
    letters = np.array(list(string.ascii_lowercase + string.digits))
    splits: dict[str, list[dict]] = {}
    k_img = 0
    for s_idx, split in enumerate(("train", "val", "test")):
        images = []
        for i in range(int(counts[s_idx])):
            W, H = all_sizes[k_img]
            k_img += 1
            rng = np.random.default_rng([seed, s_idx, i])
            context = {c: bool(rng.random() < category_rate) for c in CONTEXT_CATEGORIES}
            boxes = _boxes(rng, W, H, int(rng.integers(lo, hi + 1)))
            db = dbs[int(rng.choice(len(dbs), p=np.array(db_p)))]
            name = "".join(rng.choice(letters, 18)) + ".jpg"
            while name in used:
                name = "".join(rng.choice(letters, 18)) + ".jpg"
            used.add(name)
            persons, drawn = [], []
            for box in boxes:
                look = {c: bool(rng.random() < category_rate) for c in PERSON_CATEGORIES}
                cats = {c for c, on in {**context, **look}.items() if on}
                cats |= {c for c in OTHER_CATEGORIES if rng.random() < other_rate}
                truth = sorted(cats, key=CATEGORIES.index)
                vad = _vad(cats)
                n_ann = 1 if split == "train" else int(rng.integers(annotators[0], annotators[1] + 1))
                ann_cats = [[c for c in truth if rng.random() < 0.7] for _ in range(n_ann)]
                for c in truth:  # together the annotators name every category
                    if not any(c in a for a in ann_cats):
                        ann_cats[int(rng.integers(n_ann))].append(c)
                ann_cats = [sorted(a, key=CATEGORIES.index) for a in ann_cats]
                ann_vad = [tuple(float(v) for v in np.clip(np.rint(vad + rng.normal(0, ANNOTATOR_SD, 3)), 1, 10))
                           for _ in range(n_ann)]
                p = {"box": box, "categories": ann_cats, "continuous": ann_vad,
                     "combined_categories": truth if split != "train" else None,
                     "combined_continuous": tuple(float(v) for v in np.mean(ann_vad, 0)) if split != "train" else None,
                     "gender": "Male" if rng.random() < 0.6 else "Female",
                     "age": str(rng.choice(["Adult", "Teenager", "Kid"], p=[0.8, 0.1, 0.1]))}
                persons.append(p)
                drawn.append((box, look))
            img = render_image((W, H), context, drawn, (seed, s_idx, i))
            folder = f"{db}/images"
            (root / folder).mkdir(parents=True, exist_ok=True)
            img.save(root / folder / name, format="JPEG", quality=jpeg_quality, subsampling=0)
            images.append({"filename": name, "folder": folder, "width": W, "height": H, "source_db": db,
                           "persons": persons, "context": [c for c in CONTEXT_CATEGORIES if context[c]]})
        splits[split] = images

    from affekt.datasets.emotic import mat_records

    files: dict[str, list[str]] = {}
    ann = root / "Annotations"
    if "mat" in formats:
        files["mat"] = [str(write_annotations_mat(ann / "Annotations.mat", splits))]
    for split, images in splits.items():
        if not images:
            continue
        rows = mat_records(images)
        if "csv" in formats:
            files.setdefault("csv", []).append(str(write_csv_export(
                ann / f"emotic_{split}_persons.csv", [{**r, "split": split} for r in rows], kind="flat")))
        if "tandon" in formats:
            files.setdefault("tandon", []).append(str(write_csv_export(root / "emotic_pre" / f"{split}.csv", rows,
                                                                       kind="tandon")))
        if "coco" in formats:
            files.setdefault("coco", []).append(str(write_coco_json(ann / f"EMOTIC_{split}_x1y1x2y2.json", rows)))
    return describe(root=root, seed=seed, splits={s: {"images": len(v), "persons": sum(len(im["persons"]) for im in v)}
                                                  for s, v in splits.items()},
                    files=files, category_rate=category_rate, other_rate=other_rate)


def describe(**extra) -> dict:
    """The generator's rule as data (what :func:`make_synthetic_emotic` returns, less its files)."""
    text = ("Context categories (" + ", ".join(CONTEXT_CATEGORIES) + ") are decided by the scene outside the "
            "body boxes only; person categories (" + ", ".join(PERSON_CATEGORIES) + ") by the figure inside the "
            "person's box only; the other 14 are random noise. V/A/D = base + weights of the categories present, "
            f"annotator noise sd {ANNOTATOR_SD}, rounded, clipped to 1-10.")
    out = {k: (str(v) if isinstance(v, Path) else v) for k, v in extra.items()}
    out.update({"context_categories": list(CONTEXT_CATEGORIES), "person_categories": list(PERSON_CATEGORIES),
                "other_categories": list(OTHER_CATEGORIES), "context_rule": dict(CONTEXT_RULE),
                "person_rule": dict(PERSON_RULE),
                "vad_rule": {d: {"base": b, "weights": dict(w)} for d, (b, w) in VAD_RULE.items()},
                "annotator_sd": ANNOTATOR_SD, "box_grid": GRID, "rule": text})
    return out
