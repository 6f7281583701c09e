"""EMOTIC's data side: the loaders (official .mat, CSV exports, COCO JSON), their checks, the item
strings, the writers and the synthetic EMOTIC (issue 16). Needs no data: everything is generated."""
from __future__ import annotations

import io
import json
import math
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from affekt.core.errors import DataError, InputError, LabelError
from affekt.core.labels import EMOTIC, get_label_space
from affekt.datasets.emotic import (
    check_images,
    load_emotic,
    normalize_category,
    parse_scene_item,
    read_emotic_mat,
    scene_item,
)
from affekt.scene.synthetic import (
    CONTEXT_CATEGORIES,
    OTHER_CATEGORIES,
    PERSON_CATEGORIES,
    make_synthetic_emotic,
    render_image,
    write_annotations_mat,
    write_coco_json,
    write_csv_export,
)

CORE = ["path", "box", "labels", "valence", "arousal", "dominance", "gender", "age", "image_id", "person_id",
        "folder", "filename", "width", "height", "source_db", "item"]


def same_rows(a: pd.DataFrame, b: pd.DataFrame, cols=CORE) -> None:
    assert len(a) == len(b)
    for c in cols:
        for i, (x, y) in enumerate(zip(a[c], b[c])):
            if isinstance(x, float) and math.isnan(x):
                assert isinstance(y, float) and math.isnan(y), (c, i, x, y)
            else:
                assert x == y, (c, i, x, y)


@pytest.fixture(scope="module")
def syn(tmp_path_factory):
    root = tmp_path_factory.mktemp("emotic")
    desc = make_synthetic_emotic(root, n_images=24, seed=3, image_size=(160, 120),
                                 formats=("mat", "csv", "coco", "tandon"))
    return root, desc


# ----------------------------------------------------------------------------- label space and items
def test_emotic_label_space():
    s = get_label_space("emotic")
    assert s is EMOTIC and len(s) == 26 and s.multi_label
    assert s.labels[9] == "Doubt/Confusion" and s.labels[0] == "Affection" and s.labels[-1] == "Yearning"
    assert normalize_category("Doubt_Confusion") == "Doubt/Confusion"
    assert normalize_category("doubt confusion") == "Doubt/Confusion"
    assert normalize_category("PEACE") == "Peace" and normalize_category("Joy") is None


def test_scene_item_round_trip_and_errors():
    it = scene_item("/data/a b.jpg", [10, 20, 110, 220.4])
    assert it == "/data/a b.jpg#xywh=10,20,100,200"
    assert parse_scene_item(it) == ("/data/a b.jpg", (10, 20, 100, 200))
    assert parse_scene_item("x.jpg#xywh=pixel:1,2,3,4") == ("x.jpg", (1, 2, 3, 4))
    assert parse_scene_item("x.jpg") == ("x.jpg", None)
    with pytest.raises(InputError, match="percent"):
        parse_scene_item("x.jpg#xywh=percent:1,2,3,4")
    with pytest.raises(InputError, match="not '#xywh=x,y,w,h'"):
        parse_scene_item("x.jpg#t=1,2")
    with pytest.raises(InputError, match="whole pixels"):
        parse_scene_item("x.jpg#xywh=1,2,3")
    with pytest.raises(InputError, match="w, h > 0"):
        parse_scene_item("x.jpg#xywh=1,2,0,4")
    with pytest.raises(InputError, match="no area"):
        scene_item("x.jpg", [5, 5, 5, 9])
    with pytest.raises(InputError, match="contains '#'"):
        scene_item("x#1.jpg", [0, 0, 5, 9])


# ----------------------------------------------------------------------------- round trips
def test_every_format_gives_the_same_rows(syn):
    root, desc = syn
    mat = load_emotic(root)  # several forms there: the .mat first
    assert mat.info["format"] == "mat" and mat.name == "emotic" and mat.label_space is EMOTIC
    assert mat.input_column == "item" and mat.split_source == "given"
    assert set(mat.splits) == {"train", "dev", "test"}
    assert {s: len(mat.split(s)) for s in ("train", "dev", "test")} == {
        "train": desc["splits"]["train"]["persons"], "dev": desc["splits"]["val"]["persons"],
        "test": desc["splits"]["test"]["persons"]}
    coco = load_emotic(root, format="coco")
    flat = load_emotic(root, format="csv")
    tandon = load_emotic(root / "emotic_pre")  # a folder of train/val/test.csv
    assert flat.info["csv_kind"] == "flat" and tandon.info["csv_kind"] == "tandon"
    for other in (coco, flat, tandon):
        for s in ("train", "dev", "test"):
            same_rows(mat.split(s), other.split(s))
    df = mat.split("dev")
    assert (df["n_annotators"] >= 2).all() and (mat.split("train")["n_annotators"] == 1).all()
    for item, path, box in zip(df["item"], df["path"], df["box"]):
        p, (x, y, w, h) = parse_scene_item(item)
        assert p == path and [x, y, x + w, y + h] == box and (root / df["folder"][0]).is_dir()
    # one file given directly: images found from its folder's parent
    one = load_emotic(root / "Annotations" / "EMOTIC_val_x1y1x2y2.json")
    assert set(one.splits) == {"dev"} and one.split("dev")["path"].tolist() == df["path"].tolist()
    moved = load_emotic(root / "Annotations" / "Annotations.mat", image_root="/elsewhere")
    assert moved.split("test")["path"].str.startswith("/elsewhere/").all()


def test_writers_invert_the_loaders(syn, tmp_path):
    root, _ = syn
    ds = load_emotic(root)
    for s, name in (("train", "train"), ("dev", "val"), ("test", "test")):
        rows = ds.split(s)
        write_csv_export(tmp_path / "flat" / f"emotic_{name}_persons.csv", rows, kind="flat")
        write_csv_export(tmp_path / "tandon" / f"{name}.csv", rows, kind="tandon")
        write_coco_json(tmp_path / "coco" / f"EMOTIC_{name}_x1y1x2y2.json.gz", rows)
    for sub in ("flat", "tandon", "coco"):
        back = load_emotic(tmp_path / sub, image_root=ds.info["image_root"])
        for s in ("train", "dev", "test"):
            same_rows(ds.split(s), back.split(s))
    # the .mat round trip keeps every annotator
    images = read_emotic_mat(root / "Annotations" / "Annotations.mat")
    write_annotations_mat(tmp_path / "again.mat", images)
    assert read_emotic_mat(tmp_path / "again.mat") == images
    assert (tmp_path / "again.mat").read_bytes() == (root / "Annotations" / "Annotations.mat").read_bytes()


def _person(box, cats, vad, gender="Female", age="Adult", combined=None, combined_vad=None):
    return {"box": box, "categories": cats, "continuous": vad, "combined_categories": combined,
            "combined_continuous": combined_vad, "gender": gender, "age": age}


def test_official_mat_structure(tmp_path):
    train = [
        {"filename": "one.jpg", "folder": "mscoco/images", "width": 640, "height": 480, "source_db": "mscoco",
         "persons": [_person([10, 20, 110, 400], [["Peace"]], [(6, 3, 5)])]},  # one category: a bare string
        {"filename": "two.jpg", "folder": "framesdb/images", "width": 320, "height": 240, "source_db": "framesdb",
         "persons": [_person([0, 0, 100, 240], [["Happiness", "Doubt/Confusion"]], [(7, 6, 6)], "Male", "Kid"),
                     _person([150, 10, 318, 240], [[]], [(float("nan"),) * 3])]},  # no category, no V/A/D
    ]
    val = [{"filename": "three.jpg", "folder": "ade20k/images", "width": 500, "height": 375, "source_db": "ade20k",
            "persons": [_person([5, 5, 200, 370], [["Anger", "Pain"], ["Anger"], ["Sadness"]],
                                [(2, 7, 4), (3, 8, 4), (4, 9, 7)], combined=["Anger", "Sadness"],
                                combined_vad=(3.0, 8.0, 5.0)),
                        _person([300, 5, 480, 370], [["Esteem"], ["Esteem"]], [(5, 5, 5), (6, 6, 6)],
                                combined=["Esteem"], combined_vad=(5.5, 5.5, 5.5))]}]
    p = write_annotations_mat(tmp_path / "Annotations" / "Annotations.mat", {"train": train, "val": val})
    ds = load_emotic(tmp_path)
    tr, dev = ds.split("train"), ds.split("dev")
    assert tr["labels"].tolist() == [["Peace"], ["Doubt/Confusion", "Happiness"], []]
    assert tr["image_id"].tolist() == [0, 1, 1] and tr["person_id"].tolist() == [0, 1, 2]
    assert tr["gender"].tolist() == ["Female", "Male", "Female"] and tr["age"][1] == "Kid"
    assert math.isnan(tr["valence"][2]) and tr["valence"][0] == 6.0
    assert tr["box"][2] == [150, 10, 318, 240] and tr["source_db"][1] == "framesdb"
    # val/test: several annotators; the authors' combined annotations by default, the union on request
    assert dev["labels"].tolist() == [["Anger", "Sadness"], ["Esteem"]]
    assert dev["labels_union"][0] == ["Anger", "Pain", "Sadness"] and dev["n_annotators"].tolist() == [3, 2]
    assert dev["annotator_labels"][0] == [["Anger", "Pain"], ["Anger"], ["Sadness"]]
    assert (dev["valence"][0], dev["arousal"][0], dev["dominance"][0]) == (3.0, 8.0, 5.0)
    union = load_emotic(p, labels_from="union").split("dev")
    assert union["labels"][0] == ["Anger", "Pain", "Sadness"]
    assert union["dominance"][0] == pytest.approx(5.0) and union["valence"][1] == 5.5

    # the layout public code reads by position (Tandon-A's mat2py.py: scipy's default loadmat)
    import scipy.io

    raw = scipy.io.loadmat(p)
    ex = raw["train"][0][1]
    assert ex[0][0] == "two.jpg" and ex[1][0] == "framesdb/images" and len(ex[4][0]) == 2
    assert list(raw["train"].dtype.names) == ["filename", "folder", "image_size", "original_database", "person"]
    assert list(ex[4].dtype.names) == ["body_bbox", "annotations_categories", "annotations_continuous", "gender", "age"]
    assert ex[4][0][0][3][0] == "Male"
    vp = raw["val"][0][0][4]
    assert list(vp.dtype.names) == ["body_bbox", "annotations_categories", "combined_categories",
                                    "annotations_continuous", "combined_continuous", "gender", "age"]
    assert len(vp[0][0][1][0]) == 3  # one categories struct per annotator
    assert list(raw["train"][0][0][2].dtype.names) == ["n_col", "n_row"]


def test_mat_with_another_structure_is_refused(tmp_path):
    import scipy.io

    scipy.io.savemat(tmp_path / "other.mat", {"annotations": np.zeros((2, 2))})
    with pytest.raises(DataError, match=r"expected variables train, val, test.*found variable\(s\) annotations"):
        load_emotic(tmp_path / "other.mat")
    scipy.io.savemat(tmp_path / "noperson.mat", {"train": {"filename": "a.jpg", "folder": "x"}})
    with pytest.raises(DataError, match="train image 0 is not an EMOTIC image struct: expected fields filename, "
                                        "folder, image_size, person; found filename, folder"):
        load_emotic(tmp_path / "noperson.mat")
    (tmp_path / "junk.mat").write_bytes(b"this is not a MAT file at all" * 10)
    with pytest.raises(DataError, match="not a readable MATLAB file"):
        load_emotic(tmp_path / "junk.mat")


# ----------------------------------------------------------------------------- checks
def _flat(tmp_path, rows, name="emotic_test_persons.csv"):
    base = {"folder": "mscoco/images", "filename": "a.jpg", "width": 160, "height": 120, "labels": ["Peace"],
            "valence": 5, "arousal": 5, "dominance": 5, "gender": "Male", "age": "Adult"}
    return write_csv_export(tmp_path / name, [{**base, **r} for r in rows])


def test_csv_without_box_columns(tmp_path):
    f = tmp_path / "emotic_val_persons.csv"
    pd.DataFrame({"folder": ["a"], "filename": ["b.jpg"], "categories": ["Peace"]}).to_csv(f, index=False)
    with pytest.raises(DataError, match=r"no body box columns: a person CSV needs bbox_x1, bbox_y1, bbox_x2, "
                                        r"bbox_y2 \(or x1, y1, x2, y2"):
        load_emotic(f)
    pd.DataFrame({"folder": ["a"], "filename": ["b.jpg"], "x1": [0], "y1": [0], "x2": [5], "y2": [9],
                  "categories": ["Peace|Doubt_Confusion"]}).to_csv(f, index=False)
    assert load_emotic(f).split("dev")["labels"][0] == ["Doubt/Confusion", "Peace"]
    g = _flat(tmp_path, [{"box": [1, 1, 9, 9], "labels": ["Peace"]}])
    text = g.read_text().splitlines()
    cols = text[0].split(",")
    cells = text[1].split(",")
    cells[cols.index("cat_Fear")] = "1"  # the one-hot columns now disagree with 'categories'
    g.write_text("\n".join([text[0], ",".join(cells)]) + "\n")
    with pytest.raises(DataError, match=re.escape("column 'categories' says Peace but the one-hot cat_* columns say Fear|Peace")):
        load_emotic(g)
    with pytest.raises(DataError, match="labels_from is 'combined' or 'union'"):
        load_emotic(g, labels_from="majority")


def test_box_outside_the_image(tmp_path):
    f = _flat(tmp_path, [{"box": [100, 10, 170, 110]}, {"box": [0, 0, 161, 122]}])  # 10 px over; 2 px over
    with pytest.raises(DataError, match=r"row 2 \(mscoco/images/a.jpg\) person 0: body box \[100, 10, 170, 110\] "
                                        r"lies outside the 160x120 image by 10 px \(more than the 2 px tolerance\); "
                                        "load with on_bad_box='clip' or 'drop'"):
        load_emotic(f)
    clipped = load_emotic(f, on_bad_box="clip")
    assert clipped.split("test")["box"].tolist() == [[100, 10, 160, 110], [0, 0, 160, 120]]
    assert len(clipped.info["problems"]) == 1 and "clipped" in clipped.info["problems"][0]
    dropped = load_emotic(f, on_bad_box="drop")
    assert dropped.split("test")["box"].tolist() == [[0, 0, 160, 120]] and "dropped" in dropped.info["problems"][0]


def test_zero_area_and_inverted_boxes(tmp_path):
    with pytest.raises(DataError, match=r"body box \[10, 10, 10, 50\] has zero area"):
        load_emotic(_flat(tmp_path, [{"box": [10, 10, 10, 50]}]))
    with pytest.raises(DataError, match=r"body box \[50, 10, 20, 50\] has x2 <= x1"):
        load_emotic(_flat(tmp_path, [{"box": [50, 10, 20, 50]}]))
    ok = load_emotic(_flat(tmp_path, [{"box": [50, 10, 20, 50]}, {"box": [1, 1, 9, 9]}]), on_bad_box="clip")
    assert len(ok.split("test")) == 1 and "dropped" in ok.info["problems"][0]


def test_unknown_category_and_bad_values(tmp_path):
    with pytest.raises(LabelError, match=r"row 2 \(mscoco/images/a.jpg\).*category 'Joy' is not one of EMOTIC's 26 \(Affection, "):
        load_emotic(_flat(tmp_path, [{"box": [1, 1, 9, 9], "labels": ["Peace", "Joy"]}]))
    with pytest.raises(DataError, match="valence 12 is outside EMOTIC's 1-10 scale"):
        load_emotic(_flat(tmp_path, [{"box": [1, 1, 9, 9], "valence": 12}]))
    # the COCO form: an unknown category, and a file that is not the COCO form
    rows = [{"folder": "f", "filename": "a.jpg", "width": 50, "height": 50, "box": [1, 1, 9, 9],
             "labels": ["Peace", "Happy"], "valence": 5, "arousal": 5, "dominance": 5}]
    write_coco_json(tmp_path / "EMOTIC_val_x1y1x2y2.json", rows)
    with pytest.raises(LabelError, match="category 'Happy'"):
        load_emotic(tmp_path / "EMOTIC_val_x1y1x2y2.json")
    (tmp_path / "EMOTIC_test_x1y1x2y2.json").write_text(json.dumps({"persons": []}))
    with pytest.raises(DataError, match="expected 'images' and 'annotations' lists.*found persons"):
        load_emotic(tmp_path / "EMOTIC_test_x1y1x2y2.json")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no EMOTIC annotations"):
        load_emotic(tmp_path / "empty")
    with pytest.raises(DataError, match="no mat annotations"):
        load_emotic(tmp_path, format="mat")


def test_tandon_csv_as_written_by_mat2py(tmp_path):
    text = ("Index,Folder,Filename,Image Size,BBox,Categorical_Labels,Continuous_Labels,Gender,Age\n"
            "0,mscoco/images,COCO_val2014_000000562243.jpg,\"[640, 480]\",\"[86, 58, 564, 628]\","
            "\"['Disconnection', 'Doubt/Confusion']\",\"[5, 3, 9]\",Male,Adult\n")
    f = tmp_path / "emotic_pre" / "train.csv"
    f.parent.mkdir()
    f.write_text(text)
    with pytest.raises(DataError, match="outside the 640x480 image by 148 px"):
        load_emotic(tmp_path / "emotic_pre")
    ds = load_emotic(f, on_bad_box="clip")
    row = ds.split("train").iloc[0]
    assert row["box"] == [86, 58, 564, 480] and row["labels"] == ["Disconnection", "Doubt/Confusion"]
    assert (row["valence"], row["arousal"], row["dominance"]) == (5.0, 3.0, 9.0) and row["gender"] == "Male"


def test_check_images(syn, tmp_path):
    root, _ = syn
    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    ds = load_emotic(copy)
    assert check_images(ds) == [] and check_images(ds, decode=True) == []
    paths = ds.split("test")["path"].unique()
    (copy / paths[0].split(str(copy) + "/")[1]).unlink()
    (copy / paths[1].split(str(copy) + "/")[1]).write_bytes(b"\xff\xd8\xff\xe0 broken")
    from PIL import Image

    Image.new("RGB", (50, 40)).save(paths[2], format="JPEG")
    found = check_images(ds)
    n = {p: int((ds.split("test")["path"] == p).sum()) for p in paths[:3]}
    assert len(found) == sum(n.values())
    assert sum("image file not found" in f for f in found) == n[paths[0]]
    assert sum("cannot be decoded" in f for f in found) == n[paths[1]]
    assert sum("is 50x40 but the annotations say 160x120" in f for f in found) == n[paths[2]]
    assert all(f.startswith("test: ") and "#xywh=" in f for f in found)


# ----------------------------------------------------------------------------- the generator
def test_generator_is_deterministic(tmp_path):
    kw = {"n_images": 10, "image_size": (128, 96), "formats": ("mat", "csv", "coco", "tandon")}
    a = make_synthetic_emotic(tmp_path / "a", seed=5, **kw)
    make_synthetic_emotic(tmp_path / "b", seed=5, **kw)
    make_synthetic_emotic(tmp_path / "c", seed=6, **kw)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == 10 + 1 + 3 + 3 + 3
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a/Annotations/Annotations.mat").read_bytes() != \
        (tmp_path / "c/Annotations/Annotations.mat").read_bytes()
    assert set(a["context_categories"]) == set(CONTEXT_CATEGORIES) and len(a["person_categories"]) == 6
    assert set(a["context_categories"]) | set(a["person_categories"]) | set(a["other_categories"]) == set(EMOTIC)
    assert set(a["context_rule"]) == set(CONTEXT_CATEGORIES) and set(a["person_rule"]) == set(PERSON_CATEGORIES)
    assert a["vad_rule"]["valence"]["weights"]["Happiness"] > 0 and a["box_grid"] == 8
    ds = load_emotic(tmp_path / "a")
    boxes = np.array(ds.split("all" if "all" in ds.splits else ["train", "dev", "test"])["box"].tolist())
    assert (boxes % 8 == 0).all() and ((boxes[:, 3] - boxes[:, 1]) > (boxes[:, 2] - boxes[:, 0])).all()
    with pytest.raises(DataError, match="formats"):
        make_synthetic_emotic(tmp_path / "d", formats=("xml",))


def _decode(img):
    from PIL import Image

    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=90, subsampling=0)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def test_context_and_person_are_separable_exactly():
    """Changing the context leaves every decoded person crop bit-identical; changing the people
    leaves every decoded pixel outside their boxes bit-identical."""
    boxes = [[16, 8, 80, 112], [104, 16, 152, 120]]
    none_c, all_c = ({c: v for c in CONTEXT_CATEGORIES} for v in (False, True))
    none_p, all_p = ({c: v for c in PERSON_CATEGORIES} for v in (False, True))
    a = _decode(render_image((160, 120), none_c, [(boxes[0], none_p), (boxes[1], all_p)], (1, 2, 3)))
    b = _decode(render_image((160, 120), all_c, [(boxes[0], none_p), (boxes[1], all_p)], (1, 2, 3)))
    c = _decode(render_image((160, 120), none_c, [(boxes[0], all_p), (boxes[1], none_p)], (1, 2, 3)))
    outside = np.ones(a.shape[:2], bool)
    for x1, y1, x2, y2 in boxes:
        assert np.array_equal(a[y1:y2, x1:x2], b[y1:y2, x1:x2])
        assert not np.array_equal(a[y1:y2, x1:x2], c[y1:y2, x1:x2])
        outside[y1:y2, x1:x2] = False
    assert np.array_equal(a[outside], c[outside]) and not np.array_equal(a[outside], b[outside])


def test_generated_categories_are_visible_only_where_they_should_be(tmp_path):
    """On generated files: crop statistics say nothing of the context categories, the scene with the
    person masked out says nothing of that person's categories, and each says much of its own."""
    from PIL import Image

    make_synthetic_emotic(tmp_path, n_images=160, seed=11, image_size=(160, 120), formats=("coco",),
                          split_fractions=(1, 0, 0))
    df = load_emotic(tmp_path).split("train")
    crop_f, ctx_f, Y = [], [], []
    cache = {}
    for path, (x1, y1, x2, y2), labs in zip(df["path"], df["box"], df["labels"]):
        if path not in cache:
            cache[path] = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
        im = cache[path]
        crop = im[y1:y2, x1:x2].reshape(-1, 3)
        keep = np.ones(im.shape[:2], bool)
        keep[y1:y2, x1:x2] = False
        ctx = im[keep]
        crop_f.append([*crop.mean(0), crop.std(), (crop[:, 0] - crop[:, 2]).mean()])
        ctx_f.append([*ctx.mean(0), ctx.std(), (ctx[:, 2] - ctx[:, 0]).mean()])
        Y.append([c in labs for c in CONTEXT_CATEGORIES + PERSON_CATEGORIES])
    crop_f, ctx_f, Y = np.array(crop_f), np.array(ctx_f), np.array(Y, dtype=float)
    assert len(Y) > 150

    def corr(F, cols):
        return np.array([[abs(np.corrcoef(F[:, i], Y[:, j])[0, 1]) for j in cols] for i in range(F.shape[1])])

    ctx_cols, per_cols = range(6), range(6, 12)
    assert corr(crop_f, ctx_cols).max() < 0.3  # the crop does not show the context categories
    assert corr(ctx_f, per_cols).max() < 0.3  # the masked scene does not show the person's categories
    anger, peace, fear = 6 + PERSON_CATEGORIES.index("Anger"), CONTEXT_CATEGORIES.index("Peace"), \
        CONTEXT_CATEGORIES.index("Fear")
    assert np.corrcoef(crop_f[:, 4], Y[:, anger])[0, 1] > 0.6  # red torso: red minus blue
    assert np.corrcoef(ctx_f[:, 4], Y[:, peace])[0, 1] > 0.5  # blue-green background
    assert np.corrcoef(ctx_f[:, :3].mean(1), Y[:, fear])[0, 1] < -0.5  # dark scene
    assert set(OTHER_CATEGORIES).isdisjoint(CONTEXT_CATEGORIES + PERSON_CATEGORIES)
