import json

import pytest
from typer.testing import CliRunner

from affekt.cli.app import app

runner = CliRunner()




def test_train_writes_model_card_and_report(model_dir):
    manifest = json.loads((model_dir / "affekt.json").read_text())
    assert manifest["family"] == "tfidf" and manifest["card"]["metrics"]["macro_f1"] > 0.8
    assert manifest["card"]["command"].startswith("affekt train --dataset carer")
    for f in ("metrics.json", "report.md", "confusion_matrix.png", "per_class_f1.png"):
        assert (model_dir / "report" / f).exists()


@pytest.mark.slow
def test_train_default_family_is_the_ensemble(carer_dir, tmp_path):
    r = runner.invoke(app, ["train", "--dataset", "carer", "--data-dir", str(carer_dir), "--output", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "m" / "affekt.json").read_text())
    assert manifest["family"] == "ensemble" and len(manifest["members"]) == 2
    assert manifest["card"]["metrics"]["macro_f1"] > 0.8


def test_analyze_table_and_json(model_dir):
    r = runner.invoke(app, ["analyze", "I feel furious at work", "--model", str(model_dir)])
    assert r.exit_code == 0 and "anger" in r.output
    # piped (not a terminal): decisions get a visible marker, not invisible bold
    assert "*anger" in r.output and "* = the model's decision" in r.output and "bold =" not in r.output
    r = runner.invoke(app, ["analyze", "I feel scared today", "--model", str(model_dir), "--json"])
    rec = json.loads(r.output)[0]
    assert rec["label"] == "fear" and abs(sum(rec["scores"].values()) - 1) < 1e-3
    r = runner.invoke(app, ["analyze", "I feel scared", "--model", str(model_dir), "-l", "ekman", "--json"])
    assert json.loads(r.output)[0]["label"] == "fear" and "happiness" in json.loads(r.output)[0]["scores"]


def test_predict_keeps_order_and_bad_items(model_dir, tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"text": "I feel sad"}\n{"text": ""}\n{broken\n{"text": null}\n{"text": "I feel happy"}\n')
    out = tmp_path / "out.jsonl"
    r = runner.invoke(app, ["predict", "--modality", "text", "--input", str(inp), "--output", str(out),
                            "--model", str(model_dir)])
    assert r.exit_code == 2, r.output  # some items failed: written, and said on stderr
    assert "3 of 5 items failed" in r.stderr and "line 3 is not valid JSON" in r.stderr
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(recs) == 5
    assert recs[0]["label"] == "sadness" and recs[4]["label"] == "joy"
    assert all("error" in recs[i] for i in (1, 2, 3)) and "error" not in recs[0]
    assert set(recs[0]) >= {"input", "label", "labels", "scores"}


def test_predict_csv_text_column(model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text('id,comment\n1,"I feel angry, really"\n2,I feel scared\n')
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir)])
    assert r.exit_code == 1 and "no column 'text'" in r.output and "Traceback" not in r.output
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir), "--text-column", "comment"])
    assert r.exit_code == 0 and len(out.read_text().splitlines()) == 2


@pytest.mark.parametrize("args,msg", [
    (["analyze", "hi", "--model", "/no/such/model"], "no model named or saved"),
    (["predict", "-i", "/no/file.txt", "-o", "x.jsonl"], "does not exist"),
    (["analyze", "hi", "-l", "klingon"], "unknown label space"),
    (["train", "--dataset", "carer", "--data-dir", "/nope", "--output", "x"], "does not exist"),
    (["train", "--dataset", "imdb", "--data-dir", ".", "--output", "x"], "unknown dataset"),
])
def test_errors_are_one_line_exit_1(args, msg, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    assert msg in r.output and "Traceback" not in r.output


def test_non_utf8_line_is_one_error_record_the_rest_predicted(model_dir, tmp_path):
    """Issue 10 item 5: one bad byte fails its own line, not the file; --encoding reads others."""
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"I feel sad\nI feel caf\xe9 angry\nI feel happy\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(bad), "-o", str(out), "-m", str(model_dir)])
    assert r.exit_code == 2, r.output
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [rec.get("label") for rec in recs] == ["sadness", None, "joy"]
    assert "line 2 is not valid utf-8" in recs[1]["error"] and "0xe9" in recs[1]["error"]
    assert "--encoding" in recs[1]["error"] and recs[1]["input"] == "I feel caf\ufffd angry"
    r = runner.invoke(app, ["predict", "-i", str(bad), "-o", str(out), "-m", str(model_dir), "--encoding", "latin-1"])
    assert r.exit_code == 0, r.output
    recs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert recs[1]["input"] == "I feel café angry" and recs[1]["label"] == "anger"
    r = runner.invoke(app, ["predict", "-i", str(bad), "-o", str(out), "-m", str(model_dir), "--encoding", "klingon"])
    assert r.exit_code == 1 and "unknown text encoding" in r.output


def test_non_utf8_csv_row_and_empty_files(model_dir, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"id,text\n1,I feel sad\n2,broken \xff\xfe here\n3,I feel happy\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(bad), "-o", str(out), "-m", str(model_dir)])
    assert r.exit_code == 2, r.output
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [rec["id"] for rec in recs] == ["1", "2", "3"] and "line 3 is not valid" in recs[1]["error"]
    assert recs[0]["label"] == "sadness" and recs[2]["label"] == "joy"
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = runner.invoke(app, ["predict", "-i", str(empty), "-o", str(tmp_path / "o.jsonl"), "-m", str(model_dir)])
    assert r.exit_code == 1 and "empty" in r.output


def test_evaluate_writes_report(model_dir, carer_dir, tmp_path):
    rep = tmp_path / "rep"
    r = runner.invoke(app, ["evaluate", "-m", str(model_dir), "--dataset", "carer", "--data-dir", str(carer_dir),
                            "--report", str(rep), "--n-boot", "50"])
    assert r.exit_code == 0, r.output
    m = json.loads((rep / "metrics.json").read_text())
    assert m["macro_f1_ci"]["ci_low"] <= m["macro_f1"] <= m["macro_f1_ci"]["ci_high"]


def test_models_lists_user_models(model_dir, monkeypatch, tmp_path):
    import shutil

    monkeypatch.setenv("AFFEKT_HOME", str(tmp_path / "home"))
    shutil.copytree(model_dir, tmp_path / "home" / "models" / "mine")
    r = runner.invoke(app, ["models", "--json"])
    names = [m["name"] for m in json.loads(r.output)]
    assert "mine" in names


def test_train_csv_with_grouped_cv(tmp_path):
    from conftest import make_corpus

    X, y = make_corpus(20, 5)
    rows = ["speaker,utterance,emotion"] + [f"s{i % 4},{x},{lab}" for i, (x, lab) in enumerate(zip(X, y))]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    r = runner.invoke(app, ["train", "--dataset", "csv", "--data-dir", str(tmp_path / "d.csv"), "--text-column",
                            "utterance", "--label-column", "emotion", "--group-column", "speaker",
                            "--protocol", "logo", "--output", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert "logo 4-fold macro_f1" in r.output
    res = json.loads((tmp_path / "m" / "results.json").read_text())
    assert res["cv"]["protocol"] == "logo" and len(res["cv"]["folds"]) == 4


def test_analyze_reads_files_by_extension(model_dir, tmp_path):
    f = tmp_path / "texts.txt"
    f.write_text("I feel furious at work\nI feel scared today\n")
    r = runner.invoke(app, ["analyze", str(f), "--model", str(model_dir), "--json"])
    assert r.exit_code == 0, r.output
    assert [rec["label"] for rec in json.loads(r.output)] == ["anger", "fear"]


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "affekt", "families"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "text\ttfidf\tclassification" in r.stdout
