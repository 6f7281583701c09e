"""Issue 10 item 14: non-English and emoji-only texts are not silently 'neutral'."""
import json

import pytest

from affekt.text.language import demojize, detect_language, emoji_only_as_words, language_warnings, training_languages


@pytest.mark.parametrize("text,lang", [
    ("Ich bin so glücklich, dass du gekommen bist!", "de"),
    ("No puedo creer que hayan cancelado el concierto.", "es"),
    ("Je suis tellement triste aujourd'hui.", "fr"),
    ("Я очень рад тебя видеть.", "ru"),
    ("とても悲しいです。", "ja"),
])
def test_non_english_is_told(text, lang):
    assert detect_language(text)[0] == lang
    (w,) = language_warnings([text], ["en"])
    assert len(w) == 1 and f"'{lang}'" in w[0] and "trained on en" in w[0]


@pytest.mark.parametrize("text", ["I can't believe they cancelled it again.", "Thank you so much, this made my day!",
                                  "hello", "ok", "😂😂", "12345", "Bahaha what a day"])
def test_english_or_untellable_gets_no_warning(text):
    assert language_warnings([text], ["en"]) == [[]]


def test_no_languages_no_check_and_training_languages():
    assert language_warnings(["Ich bin so glücklich, dass du gekommen bist!"], None) == [[]]
    texts = ["I feel so happy about this"] * 30 + ["Ich bin so glücklich, dass du gekommen bist!"] * 10
    assert training_languages(texts) == ["de", "en"]
    assert training_languages(["I feel so happy about this"] * 30) == ["en"]


def test_emoji_only_texts_are_said_in_words_others_kept():
    assert emoji_only_as_words("😢😢") == "crying face crying face"
    assert emoji_only_as_words(" 😂 !") == demojize(" 😂 !") == "face with tears of joy !"
    assert emoji_only_as_words("I love it 😍") == "I love it 😍"
    assert emoji_only_as_words("no emoji here") == "no emoji here"


@pytest.mark.slow
def test_bundled_model_reads_emoji_only_and_warns_on_german():
    from typer.testing import CliRunner

    from affekt.cli.app import app

    r = CliRunner().invoke(app, ["analyze", "😢😢", "😱", "Ich bin so glücklich, dass du gekommen bist!",
                                 "I am so happy you came!", "-l", "ekman", "--json"])
    assert r.exit_code == 0, r.output
    sad, scared, de, en = json.loads(r.stdout)
    assert sad["input"] == "😢😢" and sad["label"] == "sadness"  # before: neutral 0.79
    assert scared["label"] == "fear"                              # before: neutral 0.87
    assert "warnings" not in sad and "warnings" not in en and en["label"] == "happiness"
    assert "'de'" in de["warnings"][0]
    r = CliRunner().invoke(app, ["analyze", "Ich bin so glücklich, dass du gekommen bist!"])
    assert "notes" in r.stdout and "'de'" in r.stdout  # the table's notes column


def test_trained_text_model_records_its_language(tmp_path):
    from typer.testing import CliRunner

    from affekt.cli.app import app
    from conftest import write_carer

    (tmp_path / "carer").mkdir()
    data = write_carer(tmp_path / "carer")
    r = CliRunner().invoke(app, ["train", "--dataset", "carer", "--data-dir", str(data), "--model", "tfidf",
                                 "--output", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "m" / "affekt.json").read_text())["card"]["languages"] == ["en"]
    r = CliRunner().invoke(app, ["analyze", "Ich habe wirklich große Angst vor der Prüfung morgen.", "-m",
                                 str(tmp_path / "m"), "--json"])
    assert "'de'" in json.loads(r.stdout)[0]["warnings"][0]
