"""EMOTIC (Emotions in Context; Kosti et al., CVPR 2017 / TPAMI 2019): people in scenes.

Each annotated person has a body box, a set of the 26 EMOTIC categories (multi-label), valence,
arousal and dominance on 1-10, a gender and an age group. :func:`load_emotic` reads the forms the
annotations come in and returns one row per **person**:

- the official ``Annotations.mat`` (variables ``train``, ``val``, ``test``: arrays of image structs
  ``filename, folder, image_size{n_col, n_row}, original_database{name, info}, person``; a person
  ``body_bbox [x1 y1 x2 y2], annotations_categories{categories}, annotations_continuous{valence,
  arousal, dominance}, gender, age``; in val/test one ``annotations_*`` struct per annotator plus
  ``combined_categories`` / ``combined_continuous``);
- CSV exports: Tandon-A's ``emotic_pre/{train,val,test}.csv`` (``Index, Folder, Filename, Image Size,
  BBox, Categorical_Labels, Continuous_Labels, Gender, Age``; lists as Python literals, ``Image Size``
  ``[n_col, n_row]``) and flat one-row-per-person tables (``folder, filename``, ``bbox_x1..bbox_y2``
  or ``x1..y2``, a ``categories`` column joined by ``|`` or 26 one-hot ``cat_*`` columns, ``valence,
  arousal, dominance, gender, age``), like ``emotic_{val,test}_persons.csv``;
- the COCO-style JSON ``EMOTIC_{train,val,test}_x1y1x2y2.json[.gz]`` (Jalalbaim/Emotic_Correction's
  conversion of the .mat: ``images[]`` and ``annotations[]`` with ``bbox`` [x1, y1, x2, y2]).

A person's item is ``"<image path>#xywh=<x>,<y>,<w>,<h>"`` (the W3C Media Fragments spatial syntax,
integer pixels): :func:`scene_item` writes it and :func:`parse_scene_item` reads it. Images are not
needed to load the annotations; :func:`check_images` lists the items whose image is missing or cannot
be read. The writers (the inverse of each reader) and a synthetic EMOTIC are in
:mod:`affekt.scene.synthetic`.

Which labels: in val/test the official file has several annotators per person and the authors'
``combined_categories`` / ``combined_continuous``; ``labels_from="combined"`` (the default) takes those
when present (what the CSV/COCO exports and published results use), else the union of the annotators'
categories and the mean of their V/A/D. ``labels_from="union"`` always takes the union and the mean.
"""
from __future__ import annotations

import ast
import gzip
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from affekt.core.errors import DataError, InputError, LabelError
from affekt.core.labels import DIMENSIONS, EMOTIC
from affekt.datasets.base import Dataset

CATEGORIES: tuple[str, ...] = EMOTIC.labels
SPLITS = ("train", "val", "test")
SPLIT_NAME = {"train": "train", "val": "dev", "dev": "dev", "validation": "dev", "test": "test", "all": "all"}
BOX_TOLERANCE = 2  # px a box may overshoot the image before it is an error (it is clipped)
FORMATS = ("mat", "coco", "csv")
SOURCE_DBS = ("mscoco", "framesdb", "emodb_small", "ade20k")

COLUMNS = ("item", "path", "box", "labels", "valence", "arousal", "dominance", "gender", "age", "image_id",
           "person_id", "folder", "filename", "width", "height", "source_db", "n_annotators")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


_CATEGORY_KEYS = {_key(c): c for c in CATEGORIES}
_CATEGORY_KEYS["disquitement"] = "Disquietment"  # the spelling of the authors' mean-image README
_ORDER = {c: i for i, c in enumerate(CATEGORIES)}


def normalize_category(name) -> str | None:
    """An EMOTIC category in its official spelling ('Doubt/Confusion'), from any case and with
    '_', ' ' or '/' between words ('doubt_confusion', 'Doubt Confusion'); None when it is not one."""
    if name in _ORDER:
        return name
    return _CATEGORY_KEYS.get(_key(name))


def _categories(raw, where: str) -> list[str]:
    out = set()
    for c in raw:
        if c is None or (isinstance(c, float) and math.isnan(c)) or str(c).strip() == "":
            continue
        name = normalize_category(c)
        if name is None:
            raise LabelError(f"emotic: {where}: category {str(c)!r} is not one of EMOTIC's 26 "
                             f"({', '.join(CATEGORIES)})")
        out.add(name)
    return sorted(out, key=_ORDER.__getitem__)


# ----------------------------------------------------------------------------- items
_XYWH = re.compile(r"^(?:pixel:)?(-?\d+),(-?\d+),(\d+),(\d+)$")


def scene_item(path, box_xyxy) -> str:
    """``"<path>#xywh=<x>,<y>,<w>,<h>"`` for a person whose body box is ``[x1, y1, x2, y2]`` (pixels;
    rounded to integers). A box with no area or a negative corner is an :class:`InputError`."""
    try:
        x1, y1, x2, y2 = (round(float(v)) for v in box_xyxy)
    except (TypeError, ValueError):
        raise InputError(f"scene item for '{path}': a box is four numbers [x1, y1, x2, y2], not {box_xyxy!r}") from None
    if x1 < 0 or y1 < 0:
        raise InputError(f"scene item for '{path}': box {[x1, y1, x2, y2]} starts left of or above the image")
    if x2 <= x1 or y2 <= y1:
        raise InputError(f"scene item for '{path}': box {[x1, y1, x2, y2]} has no area (need x2 > x1 and y2 > y1)")
    if "#" in str(path):
        raise InputError(f"scene item: the path '{path}' contains '#', which would be read as its fragment")
    return f"{path}#xywh={x1},{y1},{x2 - x1},{y2 - y1}"


def parse_scene_item(s: str) -> tuple[str, tuple[int, int, int, int] | None]:
    """``"<path>#xywh=x,y,w,h"`` -> ``(path, (x, y, w, h))``; a plain path -> ``(path, None)`` (the
    whole image). ``pixel:`` units are accepted; ``percent:`` and malformed boxes are an
    :class:`InputError` naming the item."""
    s = str(s)
    if "#" not in s:
        return s, None
    path, frag = s.rsplit("#", 1)
    if not frag.startswith("xywh="):
        raise InputError(f"scene item '{s}': the fragment '#{frag}' is not '#xywh=x,y,w,h' (a person's box in pixels)")
    spec = frag[len("xywh="):]
    if spec.startswith("percent:"):
        raise InputError(f"scene item '{s}': percent boxes are not supported; give pixels (#xywh=x,y,w,h)")
    m = _XYWH.match(spec)
    if not m:
        raise InputError(f"scene item '{s}': '#{frag}' is not '#xywh=x,y,w,h' with whole pixels")
    x, y, w, h = (int(v) for v in m.groups())
    if x < 0 or y < 0 or w <= 0 or h <= 0:
        raise InputError(f"scene item '{s}': the box needs x, y >= 0 and w, h > 0")
    if not path:
        raise InputError(f"scene item '{s}': no image path before '#'")
    return path, (x, y, w, h)


# ----------------------------------------------------------------------------- the official .mat
def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, np.ndarray):
        return list(x.ravel())
    return [x]


def _strs(x) -> list[str]:
    return [str(v) for v in _as_list(x) if isinstance(v, str) and v.strip()]


def _num(x) -> float:
    vals = _as_list(x)
    if len(vals) != 1:
        return float("nan")
    try:
        return float(vals[0])
    except (TypeError, ValueError):
        return float("nan")


def _text(x) -> str | None:
    """A string field; from several annotators' structs (the CVPR17 file's annotations_gender
    {worker_id, ..., gender}), the most common answer."""
    if isinstance(x, str):
        return x.strip() or None
    if hasattr(x, "_fieldnames"):
        for f in ("gender", "age", "name"):
            if f in x._fieldnames:
                return _text(getattr(x, f))
        return None
    if isinstance(x, np.ndarray):
        vals = [t for t in (_text(v) for v in x.ravel()) if t]
        return max(sorted(set(vals)), key=vals.count) if vals else None
    return None


def _fields(s) -> list[str]:
    return list(getattr(s, "_fieldnames", []) or [])


def read_emotic_mat(path) -> dict[str, list[dict]]:
    """The official ``Annotations.mat`` as plain data: ``{split: [image, ...]}`` with ``split`` in
    train/val/test and each image ``{"filename", "folder", "width", "height", "source_db", "persons":
    [{"box": [x1, y1, x2, y2], "categories": [[...] per annotator], "continuous": [(v, a, d) per
    annotator], "combined_categories": [...] or None, "combined_continuous": (v, a, d) or None,
    "gender", "age"}]}``: the form :func:`affekt.scene.synthetic.write_annotations_mat` writes."""
    import scipy.io

    p = Path(path)
    if not p.is_file():
        raise DataError(f"emotic: '{p}' not found")
    try:
        mat = scipy.io.loadmat(str(p), squeeze_me=True, struct_as_record=False)
    except NotImplementedError:
        raise DataError(f"emotic: '{p}' is a MATLAB v7.3 (HDF5) file; save it in MATLAB with "
                        "save(..., '-v7') to read it here") from None
    except Exception as exc:  # noqa: BLE001 - scipy raises many kinds for a file that is not MAT
        raise DataError(f"emotic: '{p}' is not a readable MATLAB file ({type(exc).__name__}: {exc})") from None
    found = sorted(k for k in mat if not k.startswith("__"))
    expected = "variables train, val, test, each an array of image structs (filename, folder, image_size, person)"
    present = [s for s in SPLITS if s in mat]
    if not present:
        raise DataError(f"emotic: '{p}' is not EMOTIC's Annotations.mat: expected {expected}; "
                        f"found variable(s) {', '.join(found) or 'none'}")
    out = {}
    for split in present:
        imgs = [im for im in _as_list(mat[split])]
        out[split] = []
        for i, im in enumerate(imgs):
            where = f"'{p}' {split} image {i}"
            have = _fields(im)
            need = ("filename", "folder", "image_size", "person")
            if not have or any(f not in have for f in need):
                raise DataError(f"emotic: {where} is not an EMOTIC image struct: expected fields "
                                f"{', '.join(need)}; found {', '.join(have) or type(im).__name__}")
            size = im.image_size
            width = _num(getattr(size, "n_col", None)) if hasattr(size, "_fieldnames") else float("nan")
            height = _num(getattr(size, "n_row", None)) if hasattr(size, "_fieldnames") else float("nan")
            db = getattr(im, "original_database", None)
            source = _text(getattr(db, "name", None)) if db is not None and hasattr(db, "_fieldnames") else None
            persons = []
            for j, per in enumerate(_as_list(im.person)):
                pw = f"{where} ({im.folder}/{im.filename}) person {j}"
                pf = _fields(per)
                pneed = ("body_bbox", "annotations_categories")
                if not pf or any(f not in pf for f in pneed):
                    raise DataError(f"emotic: {pw} is not an EMOTIC person struct: expected fields "
                                    f"body_bbox, annotations_categories, annotations_continuous, gender, age; "
                                    f"found {', '.join(pf) or type(per).__name__}")
                box = [float(v) for v in np.asarray(per.body_bbox, dtype=float).ravel()]
                if len(box) != 4:
                    raise DataError(f"emotic: {pw}: body_bbox has {len(box)} numbers, not 4 ([x1 y1 x2 y2])")
                cats = []
                for ann in _as_list(per.annotations_categories):
                    if hasattr(ann, "_fieldnames"):
                        cats.append(_strs(getattr(ann, "categories", None)))
                    elif isinstance(ann, str):  # a bare list of names (not the official form, but unambiguous)
                        cats.append([ann])
                cont = []
                for ann in _as_list(getattr(per, "annotations_continuous", None)):
                    if hasattr(ann, "_fieldnames"):
                        cont.append(tuple(_num(getattr(ann, d, None)) for d in DIMENSIONS))
                comb_c = _strs(per.combined_categories) if "combined_categories" in pf else None
                cc = getattr(per, "combined_continuous", None)
                comb_v = (tuple(_num(getattr(cc, d, None)) for d in DIMENSIONS)
                          if "combined_continuous" in pf and hasattr(cc, "_fieldnames") else None)
                persons.append({"box": box, "categories": cats, "continuous": cont,
                                "combined_categories": comb_c, "combined_continuous": comb_v,
                                "gender": _text(getattr(per, "gender", getattr(per, "annotations_gender", None))),
                                "age": _text(getattr(per, "age", getattr(per, "annotations_age", None)))})
            out[split].append({"filename": str(im.filename), "folder": str(im.folder), "width": width,
                               "height": height, "source_db": source, "persons": persons})
    return out


def mat_records(images: list[dict], *, labels_from: str = "combined") -> list[dict]:
    """Person records (the loader's columns, before checks) of one split of :func:`read_emotic_mat`'s
    images; image ids are the image's index in the split, person ids a running index (as the COCO
    conversion numbers them)."""
    if labels_from not in ("combined", "union"):
        raise DataError(f"emotic: labels_from is 'combined' or 'union', not {labels_from!r}")
    recs, pid = [], 0
    for i, im in enumerate(images):
        for per in im["persons"]:
            union = sorted({c for ann in per["categories"] for c in ann})
            vad = np.array(per["continuous"], dtype=float).reshape(-1, 3)
            seen = ~np.isnan(vad)
            mean = np.where(seen.any(0), np.nansum(vad, 0) / np.maximum(seen.sum(0), 1), np.nan)
            comb = labels_from == "combined"
            labels = per["combined_categories"] if comb and per.get("combined_categories") is not None else union
            values = per["combined_continuous"] if comb and per.get("combined_continuous") is not None else mean
            recs.append({"folder": im["folder"], "filename": im["filename"], "width": im["width"],
                         "height": im["height"], "source_db": im.get("source_db"), "image_id": i, "person_id": pid,
                         "box": list(per["box"]), "labels": list(labels),
                         **{d: float(v) for d, v in zip(DIMENSIONS, values)},
                         "gender": per.get("gender"), "age": per.get("age"),
                         "n_annotators": max(len(per["categories"]), len(per["continuous"])),
                         "labels_union": union, "annotator_labels": [list(a) for a in per["categories"]],
                         "annotator_vad": [list(map(float, v)) for v in per["continuous"]]})
            pid += 1
    return recs


# ----------------------------------------------------------------------------- COCO JSON
def _split_of_name(name: str) -> str | None:
    parts = set(re.split(r"[^a-z0-9]+", Path(name).name.lower()))
    for s in ("train", "val", "validation", "dev", "test"):
        if s in parts:
            return SPLIT_NAME[s]
    return None


def _read_json(p: Path):
    raw = p.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return json.loads(raw)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"emotic: '{p}' is not readable JSON ({type(exc).__name__}: {exc})") from None


def coco_records(path) -> list[dict]:
    """Person records of one COCO-style EMOTIC JSON (``bbox`` [x1, y1, x2, y2]; a file named
    ``*_xywh*`` holds [x, y, w, h] and is converted)."""
    p = Path(path)
    d = _read_json(p)
    if not isinstance(d, dict) or not isinstance(d.get("images"), list) or not isinstance(d.get("annotations"), list):
        found = ", ".join(map(str, d)) if isinstance(d, dict) else type(d).__name__
        raise DataError(f"emotic: '{p}' is not a COCO-style EMOTIC JSON: expected 'images' and 'annotations' "
                        f"lists (EMOTIC_<split>_x1y1x2y2.json); found {found}")
    xywh = "xywh" in p.name.lower() and "x1y1x2y2" not in p.name.lower()
    images = {}
    for k, im in enumerate(d["images"]):
        missing = [f for f in ("id", "file_name", "folder") if f not in im]
        if missing:
            raise DataError(f"emotic: '{p}' images[{k}] lacks {', '.join(missing)}")
        images[im["id"]] = im
    recs = []
    for k, a in enumerate(d["annotations"]):
        where = f"'{p}' annotations[{k}]"
        missing = [f for f in ("image_id", "bbox", "annotations_categories") if f not in a]
        if missing:
            raise DataError(f"emotic: {where} lacks {', '.join(missing)}")
        if a["image_id"] not in images:
            raise DataError(f"emotic: {where}: image_id {a['image_id']} is not in 'images'")
        im = images[a["image_id"]]
        box = _box4(a["bbox"], where)
        if xywh:
            box = [box[0], box[1], box[0] + box[2], box[1] + box[3]]
        cont = a.get("annotations_continuous") or {}
        cats = a["annotations_categories"]
        recs.append({"folder": im["folder"], "filename": im["file_name"], "width": _float(im.get("width")),
                     "height": _float(im.get("height")), "source_db": im.get("name"), "image_id": a["image_id"],
                     "person_id": a.get("id", k), "box": box, "labels": [cats] if isinstance(cats, str) else list(cats),
                     **{dim: _float(cont.get(dim)) if isinstance(cont, dict) else float("nan") for dim in DIMENSIONS},
                     "gender": a.get("gender"), "age": a.get("age"), "n_annotators": a.get("n_annotators"),
                     "_where": f"{where} ({im['folder']}/{im['file_name']})"})
    return recs


def _float(v) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return float("nan")  # the conversion writes 'None' for a missing value
    return f


def _box4(v, where: str) -> list[float]:
    try:
        box = [float(x) for x in v]
    except (TypeError, ValueError):
        box = []
    if len(box) != 4 or any(math.isnan(x) for x in box):
        raise DataError(f"emotic: {where}: the body box is four numbers [x1, y1, x2, y2], not {v!r}")
    return box


# ----------------------------------------------------------------------------- CSV
_BOX_SETS = (("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2"), ("x1", "y1", "x2", "y2"),
             ("body_bbox_x1", "body_bbox_y1", "body_bbox_x2", "body_bbox_y2"))


def _literal(v, where: str, column: str):
    if isinstance(v, (list, tuple)):
        return list(v)
    s = str(v).strip()
    if s == "":
        return []
    try:
        out = ast.literal_eval(re.sub(r"\bnan\b", "None", s))
    except (ValueError, SyntaxError):
        raise DataError(f"emotic: {where}: column '{column}' holds {s[:60]!r}, not a list like [1, 2, 3]") from None
    return list(out) if isinstance(out, (list, tuple)) else [out]


def csv_records(path) -> tuple[list[dict], str]:
    """Person records of one EMOTIC CSV (Tandon-A's export or a flat one-row-per-person table) and
    which kind it was ("tandon" or "flat"). Each record has a ``split`` (from a ``split`` column, else
    from the file name, else "all")."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"emotic: '{p}' is not a readable CSV ({exc})") from None
    cols = {_key(c): c for c in df.columns}
    found = ", ".join(df.columns) or "none"
    kind = "tandon" if "bbox" in cols and "categorical_labels" in cols else "flat"

    # where each person is
    box_set = next((s for s in _BOX_SETS if all(c in cols for c in s)), None)
    box_col = next((cols[c] for c in ("bbox", "body_bbox", "box") if c in cols), None)
    if box_set is None and box_col is None:
        raise DataError(f"emotic: '{p}' has no body box columns: a person CSV needs bbox_x1, bbox_y1, bbox_x2, "
                        f"bbox_y2 (or x1, y1, x2, y2, or a BBox column '[x1, y1, x2, y2]'); columns found: {found}")
    if "folder" in cols and "filename" in cols:
        paths = [(str(a), str(b)) for a, b in zip(df[cols["folder"]], df[cols["filename"]])]
    else:
        pc = next((cols[c] for c in ("path", "rel_path", "image", "image_path", "file") if c in cols), None)
        if pc is None:
            raise DataError(f"emotic: '{p}' names no image: it needs folder and filename columns (or path); "
                            f"columns found: {found}")
        paths = [(str(Path(v).parent) if str(Path(v).parent) != "." else "", Path(v).name) for v in df[pc]]

    # what was annotated
    cat_col = next((cols[c] for c in ("categorical_labels", "categories", "labels") if c in cols), None)
    onehot = {}
    for c in CATEGORIES:
        k = _key(c)
        col = cols.get("cat_" + k, cols.get(k))
        if col is not None:
            onehot[c] = col
    if cat_col is None and 0 < len(onehot) < len(CATEGORIES):
        missing = [c for c in CATEGORIES if c not in onehot]
        raise DataError(f"emotic: '{p}' has one-hot category columns for {len(onehot)} of the 26; missing "
                        f"{', '.join('cat_' + _key(c) for c in missing)}")
    if cat_col is None and not onehot:
        raise DataError(f"emotic: '{p}' has no categories: it needs a categories column ('|'-joined), "
                        f"Categorical_Labels (a list), or 26 one-hot cat_* columns; columns found: {found}")
    cont_col = cols.get("continuous_labels")
    size_col = cols.get("image_size")
    split_col = cols.get("split")
    file_split = _split_of_name(p.name) or "all"
    recs = []
    first_seen: dict[tuple, int] = {}
    for i, row in enumerate(df.to_dict("records")):
        where = f"'{p}' row {i + 2}"
        if box_set is not None:
            box = _box4([row[cols[c]] for c in box_set], where)
        else:
            box = _box4(_literal(row[box_col], where, box_col), where)
        folder, filename = paths[i]
        pwhere = f"{where} ({folder}/{filename})"
        if cat_col is not None:
            raw = row[cat_col]
            cats = (_literal(raw, where, cat_col) if str(raw).strip().startswith(("[", "("))
                    else [c for c in str(raw).split("|") if c.strip()])
            if onehot:  # both: they must agree
                hot = [c for c, col in onehot.items() if str(row[col]).strip() not in ("", "0", "0.0", "False")]
                if set(_categories(cats, pwhere)) != set(hot):
                    raise DataError(f"emotic: {pwhere}: column '{cat_col}' says {'|'.join(_categories(cats, pwhere))} "
                                    f"but the one-hot cat_* columns say {'|'.join(hot)}")
        else:
            cats = [c for c, col in onehot.items() if str(row[col]).strip() not in ("", "0", "0.0", "False")]
        if cont_col is not None:
            vad = [_float(v) for v in _literal(row[cont_col], where, cont_col)]
            if len(vad) not in (0, 3):
                raise DataError(f"emotic: {where}: Continuous_Labels has {len(vad)} values, not 3 (valence, "
                                "arousal, dominance)")
            vad = vad or [float("nan")] * 3
        else:
            vad = [_float(row[cols[d]]) if d in cols else float("nan") for d in DIMENSIONS]
        if size_col is not None:
            size = _literal(row[size_col], where, size_col)
            w, h = (_float(size[0]), _float(size[1])) if len(size) == 2 else (float("nan"), float("nan"))
        else:
            w = _float(row[cols["width"]]) if "width" in cols else float("nan")
            h = _float(row[cols["height"]]) if "height" in cols else float("nan")
        if (folder, filename) not in first_seen:
            first_seen[(folder, filename)] = len(first_seen)
        split = SPLIT_NAME.get(str(row[split_col]).strip().lower()) if split_col else file_split
        if split is None:
            raise DataError(f"emotic: {where}: column '{split_col}' holds {row[split_col]!r} (use train, val or test)")
        recs.append({"split": split, "folder": folder, "filename": filename, "width": w, "height": h,
                     "source_db": row[cols["source_db"]] if "source_db" in cols else None,
                     "image_id": _int_or(row[cols["image_id"]], first_seen[(folder, filename)])
                     if "image_id" in cols else first_seen[(folder, filename)],
                     "person_id": _int_or(row[cols["person_id"]], i) if "person_id" in cols
                     else _int_or(row[cols["index"]], i) if "index" in cols else i,
                     "box": box, "labels": cats, **dict(zip(DIMENSIONS, vad)),
                     "gender": row[cols["gender"]] if "gender" in cols else None,
                     "age": row[cols["age"]] if "age" in cols else None,
                     "n_annotators": _int_or(row[cols["n_annotators"]], None) if "n_annotators" in cols else None,
                     "_where": pwhere})
    return recs, kind


def _int_or(v, default):
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return default


# ----------------------------------------------------------------------------- finding the files
def _find(root: Path, fmt: str | None) -> tuple[str, list[Path]]:
    """(format, files) of an EMOTIC folder."""
    cands: dict[str, list[Path]] = {}
    dirs = [root] + [root / d for d in ("Annotations", "annotations", "new_annotations", "emotic_pre")
                     if (root / d).is_dir()]
    mats = [f for d in dirs for f in sorted(d.glob("*.mat"))]
    official = [f for f in mats if f.name.lower() == "annotations.mat"]
    if official or len(mats) == 1:
        cands["mat"] = official[:1] or mats
    cocos = [f for d in dirs for f in sorted(d.iterdir()) if f.is_file() and re.match(
        r"(?i)emotic_(train|val|test)_.*\.json(\.gz)?$", f.name)]
    by_split: dict[str, Path] = {}
    for f in cocos:  # one file per split: x1y1x2y2 before xywh, plain before .gz
        s = _split_of_name(f.name)
        score = ("x1y1x2y2" not in f.name.lower(), f.name.endswith(".gz"))
        if s and (s not in by_split or score < (("x1y1x2y2" not in by_split[s].name.lower(),
                                                 by_split[s].name.endswith(".gz")))):
            by_split[s] = f
    if by_split:
        cands["coco"] = [by_split[s] for s in ("train", "dev", "test") if s in by_split]
    csvs = [f for d in dirs for f in sorted(d.glob("*.csv")) if _split_of_name(f.name)]
    flat = [f for f in csvs if re.match(r"(?i)emotic_.*persons.*\.csv$", f.name)]
    tandon = [f for f in csvs if f.stem.lower() in ("train", "val", "test")]
    if flat or tandon:
        cands["csv"] = flat or tandon
    if fmt is not None:
        if fmt not in FORMATS:
            raise DataError(f"emotic: format is one of {', '.join(FORMATS)}, not {fmt!r}")
        if fmt not in cands:
            raise DataError(f"emotic: no {fmt} annotations in '{root}' (found: {', '.join(cands) or 'none'})")
        return fmt, cands[fmt]
    for f in FORMATS:
        if f in cands:
            return f, cands[f]
    raise DataError(f"emotic: '{root}' holds no EMOTIC annotations: expected Annotations.mat (or "
                    "Annotations/Annotations.mat), EMOTIC_{train,val,test}_x1y1x2y2.json[.gz], "
                    "emotic_{train,val,test}_persons.csv or emotic_pre/{train,val,test}.csv")


def _format_of_file(p: Path) -> str:
    name = p.name.lower()
    if name.endswith(".mat"):
        return "mat"
    if name.endswith((".json", ".json.gz")):
        return "coco"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    raise DataError(f"emotic: '{p}' is not an annotation file this reads (.mat, .json[.gz], .csv)")


def _image_base(anchor: Path, first_folder: str | None) -> Path:
    base = anchor
    if base.name.lower() in ("annotations", "new_annotations", "emotic_pre"):
        base = base.parent
    cands = [base, base / "emotic"]
    top = Path(first_folder).parts[0] if first_folder else None
    for c in cands:
        if top and (c / top).is_dir():
            return c
    return base / "emotic" if (base / "emotic").is_dir() else base


# ----------------------------------------------------------------------------- the loader
def load_emotic(data_dir, *, image_root=None, format: str | None = None, labels_from: str = "combined",
                on_bad_box: str = "error") -> Dataset:
    """EMOTIC as a :class:`Dataset` of persons (splits train/dev/test, those present).

    ``data_dir``: the EMOTIC folder (holding ``Annotations.mat`` or ``Annotations/Annotations.mat``,
    the COCO JSONs, or the CSV exports; images under ``<folder>/<filename>`` there or in an
    ``emotic/`` sub-folder), or one annotation file. ``image_root``: where the images are instead.
    ``format``: "mat", "coco" or "csv" when a folder holds several (default: the first of those
    found, in that order). ``labels_from``: "combined" (the authors' combined val/test annotations
    when the .mat has them) or "union" (see the module docstring). ``on_bad_box``: a box outside the
    image by more than 2 px, with no area or with x2 <= x1 is a :class:`DataError` ("error"), is
    clipped to the image ("clip"; one without area is dropped) or its person dropped ("drop"); either
    way each is listed in ``info["problems"]``. Boxes that overshoot by <= 2 px are clipped silently.
    A category outside the 26 is always a :class:`~affekt.core.errors.LabelError`.

    Columns: ``item`` (``path#xywh=x,y,w,h``), ``path``, ``box`` ([x1, y1, x2, y2] ints), ``labels``,
    ``valence``, ``arousal``, ``dominance`` (NaN where missing), ``gender``, ``age``, ``image_id``,
    ``person_id``, ``folder``, ``filename``, ``width``, ``height``, ``source_db``, ``n_annotators``
    (<NA> where the form does not say); from a .mat also ``labels_union``, ``annotator_labels``,
    ``annotator_vad``.
    """
    if on_bad_box not in ("error", "clip", "drop"):
        raise DataError(f"emotic: on_bad_box is 'error', 'clip' or 'drop', not {on_bad_box!r}")
    if labels_from not in ("combined", "union"):
        raise DataError(f"emotic: labels_from is 'combined' or 'union', not {labels_from!r}")
    src = Path(data_dir)
    if src.is_dir():
        fmt, files = _find(src, format)
        anchor = src
    elif src.is_file():
        fmt, files = _format_of_file(src), [src]
        if format is not None and format != fmt:
            raise DataError(f"emotic: '{src}' is a {fmt} file, not {format}")
        anchor = src.parent
    else:
        raise DataError(f"emotic: '{src}' does not exist")

    by_split: dict[str, list[dict]] = {}
    kinds = set()
    if fmt == "mat":
        for split, images in read_emotic_mat(files[0]).items():
            recs = mat_records(images, labels_from=labels_from)
            for r in recs:
                r["_where"] = f"'{files[0]}' {split} image {r['image_id']} ({r['folder']}/{r['filename']})"
            by_split[SPLIT_NAME[split]] = recs
        kinds.add("mat")
    elif fmt == "coco":
        for f in files:
            split = _split_of_name(f.name) or "all"
            if split in by_split:
                raise DataError(f"emotic: two COCO files for split '{split}' ({f})")
            by_split[split] = coco_records(f)
        kinds.add("coco")
    else:
        for f in files:
            recs, kind = csv_records(f)
            kinds.add(kind)
            for r in recs:
                by_split.setdefault(r.pop("split"), []).append(r)

    first = next((r for recs in by_split.values() for r in recs), None)
    if first is None:
        raise DataError(f"emotic: '{src}' holds no annotated person")
    base = Path(image_root) if image_root is not None else _image_base(anchor, first["folder"])
    problems: list[str] = []
    splits = {}
    for split in ("train", "dev", "test", "all"):
        if by_split.get(split):
            splits[split] = _frame(by_split[split], base, on_bad_box, problems, split)
    info = {"split_source": "given" if set(splits) - {"all"} else "none", "source": str(src), "format": fmt,
            "files": [str(f) for f in files], "image_root": str(base), "labels_from": labels_from,
            "problems": problems, "persons": {k: len(v) for k, v in splits.items()},
            "images": {k: int(v[["folder", "filename"]].drop_duplicates().shape[0]) for k, v in splits.items()}}
    if fmt == "csv":
        info["csv_kind"] = "+".join(sorted(kinds))
    if "train" not in splits:
        info["note"] = "no train split in these annotations"
    return Dataset("emotic", splits, "classification", EMOTIC, input_column="item", info=info)


def _frame(recs: list[dict], base: Path, on_bad_box: str, problems: list[str], split: str) -> pd.DataFrame:
    rows = []
    for r in recs:
        where = r.pop("_where", f"{split} {r['folder']}/{r['filename']}")
        r["labels"] = _categories(r["labels"], where + f" person {r['person_id']}")
        if "labels_union" in r:
            r["labels_union"] = _categories(r["labels_union"], where)
            r["annotator_labels"] = [_categories(a, where) for a in r["annotator_labels"]]
        for d in DIMENSIONS:
            v = r[d]
            if not math.isnan(v) and not 1 <= v <= 10:
                raise DataError(f"emotic: {where} person {r['person_id']}: {d} {v:g} is outside EMOTIC's 1-10 scale")
        box = _check_box(r["box"], r["width"], r["height"], f"{where} person {r['person_id']}", on_bad_box, problems)
        if box is None:
            continue
        r["box"] = box
        r["folder"] = str(r["folder"]).strip("/")
        r["path"] = str(base / r["folder"] / r["filename"]) if r["folder"] else str(base / r["filename"])
        r["item"] = scene_item(r["path"], box)
        r["source_db"] = r.get("source_db") or (Path(r["folder"]).parts[0] if r["folder"] else None)
        for k in ("gender", "age", "source_db"):
            v = r.get(k)
            r[k] = None if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "" \
                else str(v).strip()
        rows.append(r)
    extra = [c for c in ("labels_union", "annotator_labels", "annotator_vad") if rows and c in rows[0]]
    df = pd.DataFrame(rows, columns=list(COLUMNS) + extra)
    for c in ("width", "height", "image_id", "person_id", "n_annotators"):
        df[c] = pd.array([None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)
                          for v in df[c]], dtype="Int64")
    for d in DIMENSIONS:
        df[d] = df[d].astype(float)
    return df


def _check_box(box, width, height, where: str, on_bad_box: str, problems: list[str]) -> list[int] | None:
    x1, y1, x2, y2 = (round(v) for v in box)
    shown = f"[{x1}, {y1}, {x2}, {y2}]"
    known = not (width is None or height is None or pd.isna(width) or pd.isna(height))
    W, H = (int(width), int(height)) if known else (None, None)
    problem = None
    if x2 == x1 or y2 == y1:
        problem = f"body box {shown} has zero area"
    elif x2 < x1 or y2 < y1:
        problem = f"body box {shown} has {'x2 <= x1' if x2 < x1 else 'y2 <= y1'} (a box is [x1, y1, x2, y2])"
    elif known:
        over = max(-x1, -y1, x2 - W, y2 - H)
        if over > BOX_TOLERANCE:
            problem = (f"body box {shown} lies outside the {W}x{H} image by {over} px "
                       f"(more than the {BOX_TOLERANCE} px tolerance)")
    elif x1 < -BOX_TOLERANCE or y1 < -BOX_TOLERANCE:
        problem = f"body box {shown} starts outside the image"
    if problem and on_bad_box == "error":
        raise DataError(f"emotic: {where}: {problem}; load with on_bad_box='clip' or 'drop' to keep going")
    if problem:
        problems.append(f"{where}: {problem}")
        if on_bad_box == "drop" or x2 <= x1 or y2 <= y1:
            problems[-1] += " (person dropped)"
            return None
        problems[-1] += " (clipped to the image)"
    x1, y1 = max(0, x1), max(0, y1)
    if known:
        x2, y2 = min(W, x2), min(H, y2)
    if x2 <= x1 or y2 <= y1:
        problems.append(f"{where}: body box {shown} has no area inside the image (person dropped)")
        return None
    return [x1, y1, x2, y2]


# ----------------------------------------------------------------------------- images
def check_images(dataset: Dataset, *, decode: bool = False, splits=None) -> list[str]:
    """Per-item problems with the images of an EMOTIC dataset, one line each: a missing file, one
    that cannot be read (header and Pillow's ``verify``; ``decode=True``: fully decoded through
    :func:`affekt.face.images.load_image_checked`), one whose size differs from the annotations', or
    one whose EXIF orientation would turn it (the boxes are in the stored orientation). Each image is
    read once; an empty list means every item can be used."""
    from PIL import Image

    from affekt.face.images import ImageError, load_image_checked

    names = list(dataset.splits) if splits is None else list(splits)
    verdict: dict[str, str | None] = {}
    out = []
    for s in names:
        df = dataset.split(s)
        for item, path, w, h in zip(df["item"], df["path"], df["width"], df["height"]):
            if path not in verdict:
                verdict[path] = _image_problem(path, w, h, decode, Image, ImageError, load_image_checked)
            if verdict[path]:
                out.append(f"{s}: {item}: {verdict[path]}")
    return out


def _image_problem(path, w, h, decode, Image, ImageError, load_image_checked) -> str | None:
    p = Path(path)
    if not p.is_file():
        return "image file not found"
    try:
        with Image.open(p) as im:
            size = im.size
            orientation = im.getexif().get(0x0112, 1)
            im.verify()
        if decode:
            load_image_checked(p)
    except ImageError as exc:
        return f"cannot be decoded ({exc})"
    except Exception as exc:  # noqa: BLE001 - PIL raises many kinds for a broken file
        return f"cannot be decoded ({type(exc).__name__}: {exc})"
    if not (pd.isna(w) or pd.isna(h)) and size != (int(w), int(h)):
        return f"the image is {size[0]}x{size[1]} but the annotations say {int(w)}x{int(h)}"
    if orientation not in (None, 1):
        return (f"its EXIF orientation ({orientation}) turns or mirrors it, and affekt reads images upright while "
                "EMOTIC's boxes are in the stored pixels: strip the tag (e.g. exiftool -Orientation=1 -n FILE) or "
                "leave the item out")
    return None
