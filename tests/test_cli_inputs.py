"""What the CLI reads and how it answers: paths vs texts, folders, exit codes, error records,
ids, label spaces, --version, families, examples (issue 10, items 1, 2, 6, 8, 9, 11, 12, 13)."""
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from affekt.cli.app import app

runner = CliRunner()




# ------------------------------------------------------------------ item 1: path or text?
@pytest.mark.parametrize("arg", ["missing.txt", "missing.csv", "some/folder/", "clips/missing.wav", "Missing.WAV",
                                 "data\\x"])
def test_missing_path_is_an_error_not_a_text(arg, model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["analyze", arg, "--model", str(model_dir)])
    assert r.exit_code == 1, r.output
    assert "no such file or folder" in r.output and "--as-text" in r.output and "Traceback" not in r.output


@pytest.mark.parametrize("arg", ["I love it. Really.", "hello.world", "Meet me at 5.30 please", "and/or maybe",
                                 "I feel sad :/ today", "v2.0 is great"])
def test_text_with_dots_or_slashes_stays_text(arg, model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["analyze", arg, "--model", str(model_dir), "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output)[0]
    assert rec["input"] == arg and rec["label"]


def test_as_text_forces_text_and_unknown_existing_file_is_an_error(model_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["analyze", "missing.txt", "--as-text", "--model", str(model_dir), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)[0]["input"] == "missing.txt"
    (tmp_path / "notes.md").write_text("I feel sad\n")
    r = runner.invoke(app, ["analyze", "notes.md", "--model", str(model_dir)])
    assert r.exit_code == 1 and "does not read '.md' files" in r.output


def test_existing_folder_is_read_as_inputs_by_modality(model_dir, tmp_path):
    d = tmp_path / "inbox"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("I feel furious at work\n")
    (d / "sub" / "b.csv").write_text("id,text\nx1,I feel scared today\n")
    (d / "ignored.md").write_text("I feel happy\n")
    r = runner.invoke(app, ["analyze", str(d), "--model", str(model_dir), "--json"])
    assert r.exit_code == 0, r.output
    recs = json.loads(r.output)
    assert [(rec.get("id"), rec["label"]) for rec in recs] == [(None, "anger"), ("x1", "fear")]
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["analyze", str(tmp_path / "empty"), "--model", str(model_dir)])
    assert r.exit_code == 1 and "holds no file affekt reads" in r.output


def test_folder_of_audio_and_texts_goes_to_each_modality(tmp_path):
    """A folder with a text file and a clip: each is read by its own modality's default model."""
    import shutil
    from importlib import resources

    d = tmp_path / "mixed"
    d.mkdir()
    shutil.copy(str(resources.files("affekt.examples") / "speech.wav"), d / "clip.wav")
    (d / "notes.txt").write_text("Thank you so much, this made my day!\n")
    r = runner.invoke(app, ["analyze", str(d), "--json"])
    assert r.exit_code == 0, r.output
    recs = json.loads(r.output)
    assert [rec["model"] for rec in recs] == ["speech-default", "text-default"]
    assert recs[0]["input"].endswith("clip.wav") and recs[1]["label"] == "gratitude"


# ------------------------------------------------------------------ item 6: exit codes
def test_exit_codes_one_rule(model_dir):
    ok = runner.invoke(app, ["analyze", "I feel sad", "--model", str(model_dir)])
    one_bad = runner.invoke(app, ["analyze", "", "--model", str(model_dir)])
    some_bad = runner.invoke(app, ["analyze", "I love it", "", "--model", str(model_dir)])
    usage = runner.invoke(app, ["analyze", "I love it", "--model", str(model_dir), "-l", "klingon"])
    assert (ok.exit_code, one_bad.exit_code, some_bad.exit_code, usage.exit_code) == (0, 2, 2, 1)
    assert "item 2 (''): text is empty" in some_bad.stderr and "1 of 2 items failed" in some_bad.stderr
    assert "error: text is empty" in some_bad.stdout  # and in the table, in its row
    strict = runner.invoke(app, ["analyze", "I love it", "", "--model", str(model_dir), "--strict"])
    assert strict.exit_code == 1 and "--strict" in strict.stderr and "I love it" not in strict.stdout


def test_predict_strict_writes_nothing(model_dir, tmp_path):
    inp = tmp_path / "in.txt"
    inp.write_text("I feel sad\n\nI feel happy\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir), "--strict"])
    assert r.exit_code == 1 and "item 2" in r.output
    assert not out.exists() and not (tmp_path / "o.jsonl.part").exists()


# ------------------------------------------------------------------ item 2: no speech, no label
def test_clips_without_speech_get_no_label(tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(0)
    sf.write(tmp_path / "blip.wav", (0.1 * rng.standard_normal(800)).astype(np.float32), 16000)  # 0.05 s
    sf.write(tmp_path / "noise.wav", (0.1 * rng.standard_normal(48000)).astype(np.float32), 16000)  # 3 s
    r = runner.invoke(app, ["analyze", str(tmp_path / "blip.wav"), str(tmp_path / "noise.wav"), "--json"])
    assert r.exit_code == 2, r.output
    recs = json.loads(r.stdout)
    for rec in recs:
        assert "label" not in rec and "scores" not in rec
        assert rec["error"].startswith("no speech detected") and rec["span"]["speech_detected"] is False
    r = runner.invoke(app, ["analyze", str(tmp_path / "noise.wav")])
    assert r.exit_code == 2 and "no speech detected" in r.stdout and "fear" not in r.stdout


# ------------------------------------------------------------------ item 8: echoed inputs are cut
def test_error_records_echo_a_long_input_in_part(model_dir, tmp_path):
    inp = tmp_path / "big.txt"
    inp.write_text("I feel sad\n" + "x" * 200_001 + "\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir)])
    assert r.exit_code == 2
    bad = json.loads(out.read_text().splitlines()[1])
    assert bad["input_length"] == 200_001 and len(bad["input"]) < 300 and "truncated" in bad["input"]
    assert "200,001 characters" in bad["error"]
    assert out.stat().st_size < 2_000 and len(r.stderr) < 2_000


# ------------------------------------------------------------------ item 12: ids pass through
def test_predict_passes_ids_through(model_dir, tmp_path):
    inp = tmp_path / "in.csv"
    inp.write_text("id,ref,text\n7,a,I feel sad\n8,b,\n9,c,I feel happy\n")
    out = tmp_path / "o.jsonl"
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir)])
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert r.exit_code == 2 and [rec["id"] for rec in recs] == ["7", "8", "9"] and "error" in recs[1]
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir), "--id-column", "ref"])
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["a", "b", "c"]
    r = runner.invoke(app, ["predict", "-i", str(inp), "-o", str(out), "-m", str(model_dir), "--id-column", "nope"])
    assert r.exit_code == 1 and "no id column 'nope'" in r.output
    jl = tmp_path / "in.jsonl"
    jl.write_text('{"id": 1, "text": "I feel sad"}\n{"key": "k2", "text": "I feel happy"}\n')
    runner.invoke(app, ["predict", "-i", str(jl), "-o", str(out), "-m", str(model_dir)])
    assert [json.loads(line).get("id") for line in out.read_text().splitlines()] == [1, None]


# ------------------------------------------------------------------ item 9: label spaces per model
def test_label_spaces_listed_per_model_and_refused_clearly(model_dir):
    r = runner.invoke(app, ["analyze", "I feel sad", "-m", str(model_dir), "-l", "goemotions", "--json"])
    assert r.exit_code == 0  # carer -> goemotions by name
    r = runner.invoke(app, ["analyze", "I feel sad", "-l", "carer"])  # text-default: goemotions
    assert r.exit_code == 1
    assert "no mapping from label space 'goemotions' to 'carer'" in r.output and "goemotions, ekman" in r.output
    rows = {m["name"]: m for m in json.loads(runner.invoke(app, ["models", "--json"]).output)}
    assert rows["text-default"]["label_spaces"] == ["goemotions", "ekman"]
    assert rows["speech-default"]["label_spaces"][0] == "ekman"


def test_speech_corpus_models_view_in_ekman_without_loader_import():
    """A RAVDESS-trained model maps to Ekman without importing the RAVDESS loader first."""
    import subprocess
    import sys

    code = ("from affekt.core.labels import get_mapping, LabelSpace; "
            "s = LabelSpace.from_dict({'name': 'ravdess', 'labels': ['neutral','calm','happiness','sadness','anger',"
            "'fear','disgust','surprise']}); print(get_mapping(s, 'ekman').mapping['calm'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "neutral", r.stderr


# ------------------------------------------------------------------ item 11: rough edges
def test_version_and_families_by_modality():
    import affekt

    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and r.output.strip() == f"affekt {affekt.__version__}"
    r = runner.invoke(app, ["families"])
    rows = [line.split("\t") for line in r.output.strip().splitlines()[1:]]
    pairs = [(m, f) for m, f, _ in rows]
    assert len(pairs) == len(set(pairs)) and ("text", "ensemble") in pairs and ("speech", "ensemble") in pairs
    r = runner.invoke(app, ["families", "--modality", "speech"])
    assert {line.split("\t")[0] for line in r.output.strip().splitlines()[1:]} == {"speech"}


# ------------------------------------------------------------------ item 13: examples that ship
def test_examples_command_copies_working_inputs(tmp_path):
    out = tmp_path / "ex"
    r = runner.invoke(app, ["examples", "--output", str(out)])
    assert r.exit_code == 0 and (out / "speech.wav").exists() and (out / "comments.csv").exists()
    r = runner.invoke(app, ["analyze", str(out / "speech.wav"), "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)[0]
    assert rec["model"] == "speech-default" and rec["label"] and rec["span"]["end"] > 3.0
    r = runner.invoke(app, ["analyze", str(out / "talk.mp4"), "--json"])  # the example video: one person and a voice
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)[0]
    assert rec["model"] == "video-default" and len(rec["tracks"]) == 1 and rec["voice"]["segments"]


@pytest.mark.parametrize("n", [2, 3, 7, 28])
def test_confusion_matrix_title_fits_its_figure(n):
    """Item 11: the title was cut off ("onfusion matrix") on small label sets."""
    import matplotlib.pyplot as plt

    from affekt.evaluation.report import confusion_figure

    fig = confusion_figure(np.eye(n) * 5 + 1, [f"label{i}" for i in range(n)])
    fig.canvas.draw()
    title = fig.axes[0].title.get_window_extent(fig.canvas.get_renderer())
    assert fig.bbox.x0 <= title.x0 and title.x1 <= fig.bbox.x1 and title.y1 <= fig.bbox.y1
    plt.close(fig)


# ------------------------------------------------------------------ items 3, 4, 7 through the CLI
def test_evaluate_and_train_on_a_small_table_say_n_ci_and_warn(model_dir, tmp_path):
    rows = ["text,label"] + [f"I feel {w} today {i},{lab}" for i, (w, lab) in
                             enumerate([("sad", "sadness"), ("furious", "anger"), ("scared", "fear")] * 8)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    r = runner.invoke(app, ["evaluate", "-m", str(model_dir), "--dataset", "csv", "--data-dir", str(tmp_path / "t.csv"),
                            "--n-boot", "200"])
    assert r.exit_code == 0, r.output
    assert "all rows (n=24)" in r.stdout and "[95% CI" in r.stdout  # the whole table, not a random 10%
    assert "warning: all rows has only 24 items (under 30)" in r.stderr
    r = runner.invoke(app, ["train", "--dataset", "csv", "--data-dir", str(tmp_path / "t.csv"), "--model", "tfidf",
                            "--output", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert "cross-validation over all 24 rows" in r.stdout and "pooled n=24" in r.stdout
    (tmp_path / "two.csv").write_text("text,label\nI feel happy,joy\nI feel so angry,anger\n")
    r = runner.invoke(app, ["evaluate", "-m", str(model_dir), "--dataset", "csv", "--data-dir",
                            str(tmp_path / "two.csv")])
    assert r.exit_code == 0 and "all rows (n=2)" in r.stdout and "unexpected" not in r.output
    (tmp_path / "new.csv").write_text("text,label\nI feel happy,joy\nI feel odd,newlabel\n")
    r = runner.invoke(app, ["evaluate", "-m", str(model_dir), "--dataset", "csv", "--data-dir",
                            str(tmp_path / "new.csv")])
    assert r.exit_code == 1 and "'newlabel'" in r.output and "The model predicts:" in r.output
    assert "--shared-only" in r.output
