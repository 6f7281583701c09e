import json

import pytest

from affekt.core.errors import DataError, InputError
from affekt.datasets import load_dataset
from affekt.io.text import ItemError, read_texts


def test_goemotions_layout(goemotions_dir):
    ds = load_dataset("goemotions", goemotions_dir)
    assert set(ds.splits) == {"train", "dev", "test"} and ds.label_space.name == "goemotions"
    assert all(isinstance(v, list) for v in ds.split("train")["labels"])


def test_carer_layout_maps_val_to_dev(carer_dir):
    ds = load_dataset("carer", carer_dir)
    assert ds.dev_split == "dev" and len(ds.split("train")) == 180


def test_carer_bad_label_is_named(tmp_path):
    for s in ("train", "val", "test"):
        (tmp_path / f"{s}.txt").write_text("i feel fine;happyish\n")
    with pytest.raises(DataError, match="happyish"):
        load_dataset("carer", tmp_path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(DataError, match="train.tsv"):
        load_dataset("goemotions", tmp_path)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("carer", tmp_path / "nope")


def test_emobank(emobank_dir):
    ds = load_dataset("emobank", emobank_dir)
    X, Y = ds.xy("train")
    assert Y.shape == (160, 3) and ds.task == "regression"


def test_generic_table_multilabel_and_columns(tmp_path):
    p = tmp_path / "data.csv"
    rows = ["review,emotions"] + [f"text {i},joy|surprise" if i % 2 else f"text {i},anger" for i in range(40)]
    p.write_text("\n".join(rows) + "\n")
    ds = load_dataset("csv", p, text_column="review", label_columns=["emotions"], label_sep="|")
    assert ds.label_space.multi_label and set(ds.label_space.labels) == {"anger", "joy", "surprise"}
    assert set(ds.splits) == {"train", "dev", "test"}
    with pytest.raises(DataError, match="no column.*'?label"):
        load_dataset("csv", p, text_column="review")


def test_generic_jsonl_with_split_and_regression(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps({"text": f"t{i}", "valence": i / 10, "split": "train" if i < 8 else "test"})
                           for i in range(10)))
    ds = load_dataset("csv", p, label_columns=["valence"])
    assert ds.task == "regression" and len(ds.split("test")) == 2


def test_read_texts_formats_and_errors(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    assert read_texts(tmp_path / "a.txt") == ["one", "two"]
    (tmp_path / "a.csv").write_text("id,body\n1,hello\n")
    with pytest.raises(InputError, match="no column 'text'.*body"):
        read_texts(tmp_path / "a.csv")
    assert read_texts(tmp_path / "a.csv", "body") == ["hello"]
    (tmp_path / "a.jsonl").write_text('{"text": "ok"}\nnot json\n{"other": 1}\n')
    out = read_texts(tmp_path / "a.jsonl")
    assert out[0] == "ok" and isinstance(out[1], ItemError) and "line 3" in out[2].error
    # one line that is not UTF-8: that line becomes an error record, the others are read
    (tmp_path / "bad.txt").write_bytes(b"ok\ncaf\xe9 au lait\nfine\n")
    out = read_texts(tmp_path / "bad.txt")
    assert out[0] == "ok" and out[2] == "fine" and isinstance(out[1], ItemError)
    assert "line 2 is not valid utf-8" in out[1].error and "--encoding" in out[1].error
    assert read_texts(tmp_path / "bad.txt", encoding="latin-1") == ["ok", "café au lait", "fine"]
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_texts(tmp_path / "empty.txt")
    with pytest.raises(InputError, match="unsupported"):
        read_texts(tmp_path / "x.docx")


def test_csv_quoted_multiline_text_stays_one_item(tmp_path):
    (tmp_path / "m.csv").write_text('id,text\n1,"line one\nline two"\n2,plain\n')
    assert read_texts(tmp_path / "m.csv") == ["line one\nline two", "plain"]
