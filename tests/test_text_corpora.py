"""MELD, DailyDialog and SemEval-2007 loaders, on tiny copies of each corpus's public layout."""
import gzip
import json
import zipfile
from collections import Counter

import pytest

from affekt.core.errors import DataError, LabelError
from affekt.core.labels import get_mapping
from affekt.datasets import TEXT_DATASETS, concat, load_dataset
from affekt.datasets.meld import repair_text

from conftest import write_carer

# ---------------------------------------------------------------- MELD

MELD_HEADER = "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime"
MELD_ROWS = {
    "train": [("also I was the point person on my company\u2019s transition.", "Chandler", "neutral", "neutral", 0),
              # a pre-2020 copy: cp1252's 0x92 as U+0092, and UTF-8 read as cp1252
              ("You must\u0092ve had your hands full.", "The Interviewer", "neutral", "neutral", 0),
              ("Oh my God, I\u00e2\u20ac\u2122m so happy!", "Monica", "joy", "positive", 1),
              ("Get out!", "Ross", "anger", "negative", 1)],
    "dev": [("Ew, that\u2019s gross.", "Rachel", "disgust", "negative", 0),
            ("Really?!", "Joey", "surprise", "positive", 0)],
    "test": [("I\u2019m scared.", "Phoebe", "fear", "negative", 0),
             ("That\u2019s so sad.", "Monica", "sadness", "negative", 0)],
}


def write_meld(folder, rows=MELD_ROWS, header=MELD_HEADER):
    folder.mkdir(parents=True, exist_ok=True)
    for split, items in rows.items():
        lines = [header]
        for n, (text, spk, emo, sent, dia) in enumerate(items):
            lines.append(f'{n + 1},"{text}",{spk},{emo},{sent},{dia},{n},8,21,"00:16:16,059","00:16:21,731"')
        (folder / f"{split}_sent_emo.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    return folder


def test_meld_splits_labels_columns_and_repaired_text(tmp_path):
    ds = load_dataset("meld", write_meld(tmp_path / "meld"))
    assert ds.summary()["splits"] == {"train": 4, "dev": 2, "test": 2} and ds.label_space.name == "meld"
    tr = ds.split("train")
    assert tr["labels"].tolist() == [["neutral"], ["neutral"], ["joy"], ["anger"]]
    assert tr["text"][1] == "You must\u2019ve had your hands full."  # U+0092 -> ’
    assert tr["text"][2] == "Oh my God, I\u2019m so happy!"  # â€™ -> ’
    assert ds.info["text_repaired"] == 2 and "GPL-3.0" in ds.info["licence"]
    assert tr["speaker"].tolist() == ["Chandler", "The Interviewer", "Monica", "Ross"]
    # dialogue ids restart in every split: the group keeps them apart
    assert ds.group == "dialogue" and tr["dialogue"][0] == "train:0" and ds.split("dev")["dialogue"][0] == "dev:0"
    assert tr["sentiment"].tolist() == ["neutral", "neutral", "positive", "negative"]


def test_meld_reads_a_windows_1252_file(tmp_path):
    d = write_meld(tmp_path)
    (d / "dev_sent_emo.csv").write_bytes((MELD_HEADER + "\r\n1,\"It\x92s over\x85\",Ross,sadness,negative,0,0,1,1,"
                                          "\"0\",\"0\"\r\n").encode("latin-1"))
    assert load_dataset("meld", d).split("dev")["text"][0] == "It\u2019s over\u2026"


@pytest.mark.parametrize("bad, good", [
    ("company\u0092s", "company\u2019s"), ("company\u00c2\u0092s", "company\u2019s"),
    ("I\u00e2\u0080\u0099m", "I\u2019m"), ("caf\u00c3\u00a9", "caf\u00e9"),
    ("\u00e2\u20ac\u0153quote\u00e2\u20ac\u009d", "\u201cquote\u201d"), ("Wait\u0085", "Wait\u2026")])
def test_repair_text_fixes_mojibake(bad, good):
    assert repair_text(bad) == good


@pytest.mark.parametrize("clean", ["It\u2019s fine \u2014 na\u00efve caf\u00e9\u2026\u201d", "plain", "\u00a3100"])
def test_repair_text_leaves_clean_text_alone(clean):
    assert repair_text(clean) == clean


def test_meld_errors_name_file_column_and_label(tmp_path):
    d = write_meld(tmp_path / "a")
    (d / "test_sent_emo.csv").unlink()
    with pytest.raises(DataError, match="test_sent_emo.csv"):
        load_dataset("meld", d)
    d = write_meld(tmp_path / "b", header=MELD_HEADER.replace("Emotion", "Emo"))
    with pytest.raises(DataError, match=r"train_sent_emo.csv: missing column\(s\) Emotion"):
        load_dataset("meld", d)
    rows = {**MELD_ROWS, "dev": [("Yay!", "Joey", "happy", "positive", 0)]}
    with pytest.raises(LabelError, match=r"dev_sent_emo.csv: column 'Emotion'.*'happy'"):
        load_dataset("meld", write_meld(tmp_path / "c", rows))


# ---------------------------------------------------------------- DailyDialog

DD_HEADER = ["split", "dialogue_id", "utt_idx", "speaker", "topic", "act", "emotion", "utterance"]
DD_DIALOGUES = [
    ("train", "train-0", [("no emotion", "Say, Jim, how about a few beers?"), ("happiness", "Great idea!")]),
    ("train", "train-1", [("anger", "You broke it again!"), ("sadness", "I am so sorry.")]),
    ("validation", "validation-0", [("surprise", "Really? You won?"), ("fear", "I'm afraid of the dark.")]),
    ("test", "test-0", [("disgust", "That smells awful."), ("no emotion", "The bus leaves at six.")]),
]


def dd_rows(dialogues=DD_DIALOGUES):
    for split, did, turns in dialogues:
        for k, (emo, utt) in enumerate(turns):
            yield [split, did, str(k), "user" if k % 2 == 0 else "system", "Ordinary Life", "inform", emo, utt]


def write_dd_tsv(folder, rows=None, header=DD_HEADER):
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(header)] + ["\t".join(r) for r in (rows if rows is not None else dd_rows())]
    with gzip.open(folder / "utterances.tsv.gz", "wt", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    return folder


def write_dd_convlab(folder):
    folder.mkdir(parents=True, exist_ok=True)
    dialogues = [{"dataset": "dailydialog", "data_split": split, "dialogue_id": f"dailydialog-{did}",
                  "original_id": did, "domains": ["Ordinary Life"],
                  "turns": [{"speaker": "user" if k % 2 == 0 else "system", "utterance": utt, "utt_idx": k,
                             "dialogue_acts": {"binary": [{"intent": "inform", "domain": "", "slot": ""}]},
                             "emotion": emo} for k, (emo, utt) in enumerate(turns)]}
                 for split, did, turns in DD_DIALOGUES]
    with zipfile.ZipFile(folder / "data.zip", "w") as z:
        z.writestr("data/dialogues.json", json.dumps(dialogues))
        z.writestr("data/ontology.json", "{}")
    return folder


def write_dd_original(folder):
    ids = {"no emotion": 0, "anger": 1, "disgust": 2, "fear": 3, "happiness": 4, "sadness": 5, "surprise": 6}
    for split in ("train", "validation", "test"):
        sub = folder / "ijcnlp_dailydialog" / split
        sub.mkdir(parents=True)
        dlgs = [turns for s, _, turns in DD_DIALOGUES if s == split]
        (sub / f"dialogues_{split}.txt").write_text(
            "".join("".join(f"{u} __eou__ " for _, u in t) + "\n" for t in dlgs), encoding="utf-8")
        (sub / f"dialogues_emotion_{split}.txt").write_text(
            "".join("".join(f"{ids[e]} " for e, _ in t) + "\n" for t in dlgs), encoding="utf-8")
    return folder


def _labels(ds, split):
    return [labs[0] for labs in ds.split(split)["labels"]]


def test_dailydialog_tsv_gz_split_labels_and_columns(tmp_path):
    ds = load_dataset("dailydialog", write_dd_tsv(tmp_path))
    assert ds.summary()["splits"] == {"train": 4, "dev": 2, "test": 2} and ds.dev_split == "dev"
    assert _labels(ds, "train") == ["neutral", "happiness", "anger", "sadness"]  # "no emotion" -> neutral
    assert _labels(ds, "dev") == ["surprise", "fear"] and _labels(ds, "test") == ["disgust", "neutral"]
    tr = ds.split("train")
    assert ds.group == "dialogue" and tr["dialogue"].tolist() == ["train-0", "train-0", "train-1", "train-1"]
    assert tr["turn"].tolist() == [0, 1, 0, 1] and tr["role"][1] == "system" and tr["act"][0] == "inform"
    assert ds.info["layout"] == "utterances.tsv" and "NC" in ds.info["licence"]


def test_dailydialog_tsv_keeps_quotes_verbatim(tmp_path):
    rows = list(dd_rows())
    rows[0][-1] = '"Hi," she said.'
    assert load_dataset("dailydialog", write_dd_tsv(tmp_path, rows)).split("train")["text"][0] == '"Hi," she said.'


@pytest.mark.parametrize("writer", [write_dd_convlab, write_dd_original])
def test_dailydialog_other_layouts_give_the_same_data(tmp_path, writer):
    ref = load_dataset("dailydialog", write_dd_tsv(tmp_path / "tsv"))
    ds = load_dataset("dailydialog", writer(tmp_path / "other"))
    for s in ("train", "dev", "test"):
        assert ds.split(s)["text"].tolist() == ref.split(s)["text"].tolist()
        assert ds.split(s)["labels"].tolist() == ref.split(s)["labels"].tolist()
        assert ds.split(s)["dialogue"].tolist() == ref.split(s)["dialogue"].tolist()


def test_dailydialog_prefers_the_tsv(tmp_path):
    d = write_dd_convlab(write_dd_tsv(tmp_path))
    assert load_dataset("dailydialog", d).info["layout"] == "utterances.tsv"


def test_dailydialog_errors_name_file_column_and_label(tmp_path):
    with pytest.raises(DataError, match="utterances.tsv.gz' not found.*data.zip"):
        load_dataset("dailydialog", tmp_path)
    d = write_dd_tsv(tmp_path / "a", [r[:6] + r[7:] for r in dd_rows()], DD_HEADER[:6] + DD_HEADER[7:])
    with pytest.raises(DataError, match=r"utterances.tsv.gz: missing column\(s\) emotion"):
        load_dataset("dailydialog", d)
    rows = list(dd_rows())
    rows[3][6] = "joy"
    with pytest.raises(LabelError, match=r"utterances.tsv.gz, line 5, column 'emotion': emotion 'joy'"):
        load_dataset("dailydialog", write_dd_tsv(tmp_path / "b", rows))
    d = write_dd_original(tmp_path / "c")
    (d / "ijcnlp_dailydialog" / "test" / "dialogues_emotion_test.txt").write_text("2 \n")
    with pytest.raises(DataError, match="dialogues_emotion_test.txt, line 1: 1 emotions for the 2 utterances"):
        load_dataset("dailydialog", d)
    (d / "ijcnlp_dailydialog" / "test" / "dialogues_emotion_test.txt").write_text("")
    with pytest.raises(DataError, match="dialogues_emotion_test.txt: 0 lines for the 1 dialogues"):
        load_dataset("dailydialog", d)


# ---------------------------------------------------------------- SemEval-2007

SE_HEADER = '"","origin_ID","news_headlines","anger","disgust","fear","joy","sadness","surprise"'
SE_ROWS = {
    "trial": [(1, "Mortar assault leaves at least 18 dead", 22, 2, 60, 0, 64, 0),
              (2, "Goal delight for Sheva", 0, 0, 0, 93, 0, 38),
              (3, "Sights and sounds\tfrom CES", 0, 0, 0, 17, 0, 4)],  # all low -> neutral; a stray tab
    "test": [(500, "Bombers kill shoppers", 66, 39, 94, 0, 86, 0),
             (501, "Test to predict breast cancer relapse is approved", 0, 0, 15, 38, 9, 11),
             (502, "Outrage at \"rigged\" vote", 70, 70, 0, 0, 0, 0),  # a tie goes to the first
             (503, "Cat rescued from tree, owners amazed", 0, 0, 0, 45, 0, 50)],  # exactly min_score
}


def _q(s):  # R write.csv quoting
    return '"' + str(s).replace('"', '""') + '"'


def write_semeval(folder, rows=SE_ROWS, header=SE_HEADER):
    folder.mkdir(parents=True, exist_ok=True)
    for part, items in rows.items():
        lines = [header] + [",".join([_q(n + 1), _q(i), _q(t), *map(str, sc)]) for n, (i, t, *sc) in enumerate(items)]
        (folder / f"affectivetext_{part}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_semeval_labels_scores_and_splits(tmp_path):
    ds = load_dataset("semeval2007", write_semeval(tmp_path))
    assert set(ds.splits) == {"dev", "test"} and "train" not in ds.splits and ds.default_eval_split() == "test"
    assert "no train split" in ds.info["note"] and ds.info["min_score"] == 50
    assert _labels(ds, "dev") == ["sadness", "joy", "neutral"]
    assert _labels(ds, "test") == ["fear", "neutral", "anger", "surprise"]
    dev = ds.split("dev")
    assert dev["fear"].tolist() == [60, 0, 0] and dev["id"].tolist() == ["1", "2", "3"]
    assert ds.split("test")["text"][2] == 'Outrage at "rigged" vote' and dev["text"][2] == "Sights and sounds from CES"
    X, y = ds.xy("all")  # what concat and cross-validation use: trial + test
    assert len(X) == 7 and y[2] == ["neutral"]


def test_semeval_min_score(tmp_path):
    d = write_semeval(tmp_path)
    ds = load_dataset("semeval2007", d, min_score=15)
    assert _labels(ds, "dev") == ["sadness", "joy", "joy"] and _labels(ds, "test")[1] == "joy"
    assert all(labs == ["neutral"] for labs in load_dataset("semeval2007", d, min_score=100).split("all")["labels"])
    with pytest.raises(DataError, match="min_score"):
        load_dataset("semeval2007", d, min_score=0)


def test_semeval_organisers_xml_layout(tmp_path):
    for part, items in SE_ROWS.items():
        sub = tmp_path / f"AffectiveText.{part}"
        sub.mkdir()
        inst = "".join(f'<instance id="{i}">{t.replace("&", "&amp;").replace(chr(34), "&quot;")}</instance>\n'
                       for i, t, *_ in items)
        (sub / f"affectivetext_{part}.xml").write_text(f'<corpus task="affective text">\n{inst}</corpus>\n')
        # gold in another order than the headlines: matched by id
        (sub / f"affectivetext_{part}.emotions.gold").write_text(
            "".join(" ".join(map(str, (i, *sc))) + "\n" for i, _, *sc in reversed(items)))
    ref = load_dataset("semeval2007", write_semeval(tmp_path / "csv"))
    ds = load_dataset("semeval2007", tmp_path)
    assert ds.info["layout"] == "original"
    for s in ("dev", "test"):
        a = ds.split(s).sort_values("id").reset_index(drop=True)
        b = ref.split(s).sort_values("id").reset_index(drop=True)
        assert a.equals(b)


def test_semeval_errors_name_file_column_and_score(tmp_path):
    d = write_semeval(tmp_path / "a")
    (d / "affectivetext_test.csv").unlink()
    with pytest.raises(DataError, match="affectivetext_test.csv' not found"):
        load_dataset("semeval2007", d)
    d = write_semeval(tmp_path / "b", header=SE_HEADER.replace('"joy"', '"happiness"'))
    with pytest.raises(DataError, match=r"affectivetext_trial.csv: missing column\(s\) joy"):
        load_dataset("semeval2007", d)
    rows = {**SE_ROWS, "test": [(500, "Bombers kill shoppers", 66, 39, "high", 0, 86, 0)]}
    with pytest.raises(DataError, match=r"affectivetext_test.csv: column 'fear' must hold scores from 0 to 100; "
                                        r"data row 1 has 'high'"):
        load_dataset("semeval2007", write_semeval(tmp_path / "c", rows))
    rows = {**SE_ROWS, "trial": [(1, "x", 0, 0, 0, 101, 0, 0)]}
    with pytest.raises(DataError, match="column 'joy' must hold scores from 0 to 100"):
        load_dataset("semeval2007", write_semeval(tmp_path / "d", rows))


# ---------------------------------------------------------------- together, in Ekman's space

def test_registered_and_mapped_to_ekman():
    assert {"meld", "dailydialog", "semeval2007"} <= set(TEXT_DATASETS)
    assert get_mapping("meld", "ekman").map_labels(["joy", "neutral"]) == ["happiness", "neutral"]
    assert get_mapping("semeval2007", "ekman").map_labels(["joy", "neutral"]) == ["happiness", "neutral"]
    assert get_mapping("dailydialog", "ekman").map_labels(["happiness", "neutral"]) == ["happiness", "neutral"]
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("meld2", ".")


def test_concat_five_corpora_in_ekman_space(tmp_path, goemotions_dir):
    parts = [load_dataset("goemotions", goemotions_dir),
             load_dataset("carer", write_carer(_mkdir(tmp_path / "carer"))),
             load_dataset("meld", write_meld(tmp_path / "meld")),
             load_dataset("dailydialog", write_dd_tsv(tmp_path / "dd")),
             load_dataset("semeval2007", write_semeval(tmp_path / "se"))]
    ds = concat(parts, "ekman")
    df = ds.split("all")
    assert ds.label_space.name == "ekman" and set(ds.label_space.labels) == {
        "anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"}
    n = {c: len(df[df["corpus"] == c]) for c in ("meld", "dailydialog", "semeval2007")}
    assert n == {"meld": 8, "dailydialog": 8, "semeval2007": 7}  # nothing of the three is dropped
    by = {c: Counter(lab for labs in df[df["corpus"] == c]["labels"] for lab in labs) for c in n}
    assert by["meld"] == Counter({"neutral": 2, "happiness": 1, "anger": 1, "disgust": 1, "surprise": 1,
                                  "fear": 1, "sadness": 1})
    assert by["semeval2007"] == Counter({"neutral": 2, "sadness": 1, "happiness": 1, "fear": 1, "anger": 1,
                                         "surprise": 1})
    assert by["dailydialog"]["neutral"] == 2 and "joy" not in {lab for labs in df["labels"] for lab in labs}
    assert "meld: GPL-3.0" in ds.info["licence"] and "dailydialog: CC BY-NC-SA" in ds.info["licence"]
    # the three new ones, alone: dialogue groups are prefixed by corpus, so they stay apart
    two = concat(parts[2:4], "ekman")
    assert two.group == "dialogue" and set(two.split("all")["dialogue"]) >= {"meld:train:0", "dailydialog:train-0"}


def _mkdir(p):
    p.mkdir(parents=True, exist_ok=True)
    return p
