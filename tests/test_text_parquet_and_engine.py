"""Parquet tables of texts (read as .csv is), and the Ray engine's refusals that need no cluster."""
from __future__ import annotations

import json

import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

from affekt.core.errors import InputError
from affekt.io.text import read_text_items


def test_parquet_texts_ids_and_nulls(tmp_path):
    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"review": ["great", None, "awful"], "id": [7, 8, 9]}), p)
    items = read_text_items(p, "review")
    assert [it.value for it in items] == ["great", None, "awful"] and [it.id for it in items] == [7, 8, 9]
    assert items[1].error == "row 2: no text (null)" and items[0].error is None


@pytest.mark.parametrize("case,msg", [("no-column", "has no column 'text'"), ("numbers", "holds int64, not text"),
                                      ("not-parquet", "not a readable Parquet file"), ("no-id", "no id column")])
def test_parquet_problems_are_named(tmp_path, case, msg):
    p = tmp_path / "t.parquet"
    if case == "not-parquet":
        p.write_text("text\nhello\n")
    else:
        pq.write_table(pa.table({"body": ["a"]} if case == "no-column" else {"text": [1, 2]} if case == "numbers"
                                else {"text": ["a"]}), p)
    with pytest.raises(InputError, match=msg):
        read_text_items(p, id_column="key" if case == "no-id" else None)


def test_cli_predicts_a_parquet_file(tmp_path):
    from typer.testing import CliRunner

    from affekt.cli.app import app

    p = tmp_path / "t.parquet"
    pq.write_table(pa.table({"text": ["I love this", None], "id": ["a", "b"]}), p)
    res = CliRunner().invoke(app, ["predict", "-i", str(p), "-o", str(tmp_path / "o.jsonl"), "--model", "text-default"])
    recs = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert res.exit_code == 2 and [r["id"] for r in recs] == ["a", "b"] and "error" in recs[1]


def test_ray_engine_refuses_what_cannot_be_sharded(tmp_path):
    from affekt.core.modality import get_modality
    from affekt.engine.ray_engine import predict_ray
    from affekt.io.items import Item

    items = [Item("a"), Item("b")]
    with pytest.raises(InputError, match="need every file at once"):
        predict_ray(get_modality("speech"), "speech-default", items, tmp_path / "o.jsonl", opts={"adapt": True})
    with pytest.raises(InputError, match="multiple of the batch size"):
        predict_ray(get_modality("text"), "text-default", items, tmp_path / "o.jsonl", batch_size=64, shard_size=100)


def test_ray_engine_will_not_resume_another_job(tmp_path):
    from affekt.core.modality import get_modality
    from affekt.engine.ray_engine import predict_ray
    from affekt.io.items import Item

    parts = tmp_path / "o.jsonl.parts"
    parts.mkdir()
    (parts / "job.json").write_text(json.dumps({"input": "something else"}))
    with pytest.raises(InputError, match="unfinished job with another input"):
        predict_ray(get_modality("text"), "text-default", [Item("a")], tmp_path / "o.jsonl")


def test_engine_options_are_checked(tmp_path):
    from typer.testing import CliRunner

    from affekt.cli.app import app

    (tmp_path / "t.txt").write_text("hello\n")
    r = CliRunner().invoke(app, ["predict", "-i", str(tmp_path / "t.txt"), "-o", str(tmp_path / "o.jsonl"),
                                 "--engine", "spark"])
    assert r.exit_code == 1 and "--engine 'spark'" in r.output
    r = CliRunner().invoke(app, ["predict", "-i", str(tmp_path / "t.txt"), "-o", str(tmp_path / "o.jsonl"),
                                 "--num-workers", "2"])
    assert r.exit_code == 1 and "are for --engine ray" in r.output
