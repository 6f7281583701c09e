"""Speech corpus loaders: each corpus's public file naming, rebuilt in miniature with tiny wavs."""

import numpy as np
import pandas as pd
import pytest

from conftest import touch

from affekt.core.errors import DataError, LabelError
from affekt.core.labels import get_mapping
from affekt.datasets import concat, load_dataset




def rows_by_file(ds):
    df = ds.split("all")
    return {p.split("/")[-1].rsplit(".", 1)[0]: r for p, r in zip(df["path"], df.to_dict("records"))}


COLUMNS = {"path", "labels", "speaker", "gender", "fold"}


def check_common(ds, n, space):
    df = ds.split("all")
    assert len(df) == n and COLUMNS <= set(df.columns)
    assert ds.task == "classification" and ds.label_space.name == space
    assert ds.input_column == "path" and ds.group == "speaker"
    assert all(isinstance(v, list) and len(v) == 1 for v in df["labels"])
    assert set(ds.splits) == {"all"}
    X, y = ds.xy("all")
    assert len(X) == n and all(str(x).endswith((".wav", ".flac")) for x in X)
    return df


# -------------------------------------------------------------------------------------- RAVDESS
def test_ravdess(tmp_path, wav_bytes):
    files = []
    for actor in range(1, 10):
        for emo in ("01", "02", "05"):
            files.append(f"Actor_{actor:02d}/03-01-{emo}-0{1 + actor % 2}-01-01-{actor:02d}.wav")
    extra = ["Actor_01/03-02-05-01-01-01-01.wav",   # song: skipped
             "Actor_02/02-01-05-01-01-01-02.wav",   # video-only: skipped
             "Actor_02/03-01-09-01-01-01-02.wav",   # no emotion 09: skipped
             "Actor_03/readme.wav",                 # not the naming: skipped
             "Actor_03/03-01-05-01-01-01-03.mp4"]   # not audio: not even looked at
    ds = load_dataset("ravdess", touch(tmp_path, files + extra, wav_bytes))
    df = check_common(ds, len(files), "ravdess")
    assert ds.folds == "fold" and ds.info["skipped_files"] == 4
    rows = rows_by_file(ds)
    r = rows["03-01-02-02-01-01-01"]
    assert r["labels"] == ["calm"] and r["speaker"] == "actor01" and r["gender"] == "male" and r["fold"] == 0
    assert r["intensity"] == "strong"
    r = rows["03-01-05-01-01-01-04"]
    assert r["labels"] == ["anger"] and r["gender"] == "female" and r["fold"] == 0 and r["intensity"] == "normal"
    assert rows["03-01-01-02-01-01-05"]["fold"] == 1 and rows["03-01-01-01-01-01-08"]["fold"] == 1
    assert rows["03-01-01-02-01-01-09"]["fold"] == 2
    # actors 1-4 -> fold 0, 5-8 -> 1, ...; odd actors male
    for spk, fold, gender in zip(df["speaker"], df["fold"], df["gender"]):
        a = int(spk[-2:])
        assert fold == (a - 1) // 4 and gender == ("male" if a % 2 else "female")
    assert sorted({lab for labs in df["labels"] for lab in labs}) == ["anger", "calm", "neutral"]


# ----------------------------------------------------------------------------------------- TESS
def test_tess(tmp_path, wav_bytes):
    files = ["OAF_angry/OAF_back_angry.wav", "OAF_Pleasant_surprise/OAF_bite_ps.wav",
             "YAF_happy/YAF_dog_happy.wav", "YAF_sad/YAF_dog_sad.wav", "YAF_neutral/YAF_chair_neutral.wav",
             "misc/OA_bite_neutral.wav",          # one original file is named OA_
             "YAF_fear/YAF_dog_fear.wav", "YAF_disgust/YAF_book_disgust.wav"]
    ds = load_dataset("tess", touch(tmp_path, files + ["YAF_fear/YAF_dog_bored.wav", "misc/XY_dog_sad.wav"],
                                    wav_bytes))
    df = check_common(ds, len(files), "ekman")
    assert ds.info["skipped_files"] == 2
    rows = rows_by_file(ds)
    assert rows["OAF_bite_ps"]["labels"] == ["surprise"] and rows["OAF_bite_ps"]["speaker"] == "OAF"
    assert rows["YAF_dog_happy"]["labels"] == ["happiness"] and rows["YAF_dog_happy"]["fold"] == 1
    assert rows["OA_bite_neutral"]["speaker"] == "OAF" and rows["OA_bite_neutral"]["fold"] == 0
    assert rows["YAF_book_disgust"]["word"] == "book"
    assert set(df["gender"]) == {"female"} and set(df["age"]) == {64, 26}


# -------------------------------------------------------------------------------------- CREMA-D
def test_cremad(tmp_path, wav_bytes):
    files = ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1002_IEO_HAP_HI.wav", "AudioWAV/1006_TIE_SAD_LO.wav",
             "AudioWAV/1091_MTI_NEU_XX.wav", "AudioWAV/1007_DFA_FEA_MD.wav"]
    touch(tmp_path, files + ["AudioWAV/1001_DFA_XXX_XX.wav", "AudioWAV/1001-DFA-ANG-XX.wav"], wav_bytes)
    (tmp_path / "VideoDemographics.csv").write_text(
        "ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1002,21,Female,Caucasian,Not Hispanic\n"
        "1006,58,Female,Caucasian,Not Hispanic\n1091,29,Female,Asian,Not Hispanic\n")
    ds = load_dataset("cremad", tmp_path)
    check_common(ds, len(files), "cremad")
    assert ds.info["skipped_files"] == 2
    rows = rows_by_file(ds)
    assert rows["1001_DFA_ANG_XX"]["labels"] == ["anger"] and rows["1001_DFA_ANG_XX"]["gender"] == "male"
    assert rows["1002_IEO_HAP_HI"]["gender"] == "female" and rows["1002_IEO_HAP_HI"]["level"] == "HI"
    assert rows["1007_DFA_FEA_MD"]["gender"] == "unknown"  # not in the demographics table
    assert [rows[f.split("/")[1][:-4]]["fold"] for f in files] == [0, 1, 0, 0, 1]  # (actor - 1001) % 5
    assert rows["1091_MTI_NEU_XX"]["speaker"] == "1091" and rows["1006_TIE_SAD_LO"]["sentence"] == "TIE"
    assert load_dataset("crema-d", tmp_path).label_space.name == "cremad"


def test_cremad_without_demographics_has_unknown_gender(tmp_path, wav_bytes):
    ds = load_dataset("cremad", touch(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav"], wav_bytes))
    assert list(ds.split("all")["gender"]) == ["unknown"]


# ---------------------------------------------------------------------------------------- EmoDB
def test_emodb(tmp_path, wav_bytes):
    files = ["wav/03a01Wa.wav", "wav/03b10Lc.wav", "wav/08a02Fb.wav", "wav/08a04Tb.wav", "wav/16b03Ea.wav",
             "wav/11a05Ac.wav", "wav/15b01Na.wav"]
    ds = load_dataset("emodb", touch(tmp_path, files + ["wav/03a01Xa.wav", "wav/notes.wav"], wav_bytes))
    df = check_common(ds, len(files), "emodb")
    assert ds.info["skipped_files"] == 2
    rows = rows_by_file(ds)
    assert rows["03a01Wa"]["labels"] == ["anger"] and rows["03a01Wa"]["gender"] == "male"
    assert rows["03b10Lc"]["labels"] == ["boredom"] and rows["03b10Lc"]["text"] == "b10"
    assert rows["08a02Fb"]["labels"] == ["happiness"] and rows["08a02Fb"]["gender"] == "female"
    assert rows["08a04Tb"]["labels"] == ["sadness"] and rows["16b03Ea"]["labels"] == ["disgust"]
    assert rows["11a05Ac"]["labels"] == ["fear"] and rows["15b01Na"]["labels"] == ["neutral"]
    # leave-one-speaker-out folds: one fold per speaker, in speaker order
    speakers = sorted(set(df["speaker"]))
    assert all(f == speakers.index(s) for s, f in zip(df["speaker"], df["fold"]))
    assert df.groupby("speaker")["fold"].nunique().max() == 1 and df["fold"].nunique() == len(speakers)


# ---------------------------------------------------------------------------------------- SAVEE
def test_savee(tmp_path, wav_bytes):
    files = ["AudioData/DC/a01.wav", "AudioData/DC/sa02.wav", "AudioData/JE/su03.wav", "AudioData/JK/n04.wav",
             "KL_h05.wav", "KL_d06.wav", "AudioData/JE/f07.wav"]
    ds = load_dataset("savee", touch(tmp_path, files + ["AudioData/XX/a01.wav", "AudioData/DC/zz01.wav"], wav_bytes))
    df = check_common(ds, len(files), "ekman")
    assert ds.info["skipped_files"] == 2
    rows = rows_by_file(ds)
    assert rows["a01"]["labels"] == ["anger"] and rows["a01"]["speaker"] == "DC" and rows["a01"]["fold"] == 0
    assert rows["sa02"]["labels"] == ["sadness"] and rows["su03"]["labels"] == ["surprise"]
    assert rows["su03"]["speaker"] == "JE" and rows["su03"]["fold"] == 1
    kl = rows["KL_h05"]  # the flat <SPK>_<e><nn> naming
    assert kl["speaker"] == "KL" and kl["fold"] == 3 and kl["labels"] == ["happiness"]
    assert set(df["gender"]) == {"male"}


# --------------------------------------------------------------------------------------- folder
def test_folder(tmp_path, wav_bytes):
    files = ["Anger/spk1_a.wav", "anger2/x.wav", "sadness/deeper/spk2_b.flac", "sadness/spk1_c.wav",
             "neutral/spk3_d.wav"]
    touch(tmp_path, files + ["neutral/readme.txt", "loose.wav"], wav_bytes)
    ds = load_dataset("folder", tmp_path, speaker_by=r"^(spk\d|x)")
    df = check_common(ds, len(files), ds.label_space.name)
    assert ds.folds is None
    rows = rows_by_file(ds)
    assert rows["spk1_a"]["labels"] == ["anger"] and rows["spk2_b"]["labels"] == ["sadness"]  # recursive, lowercased
    assert sorted(set(df["speaker"])) == ["spk1", "spk2", "spk3", "x"] and set(df["gender"]) == {"unknown"}
    assert set(ds.label_space.labels) == {"anger", "anger2", "neutral", "sadness"}
    unknown = load_dataset("folder", tmp_path)  # no speaker given: unknown, not one per file
    assert unknown.group is None and "speaker" not in unknown.split("all") and not unknown.info["speakers_known"]
    with pytest.raises(DataError, match="finds no speaker in the file name"):
        load_dataset("folder", tmp_path, speaker_by=r"^(spk\d)_")


def test_folder_with_some_ekman_labels_trains(tmp_path, wav_bytes):
    """A folder holding only some of Ekman's labels has its own label space (a model cannot be fitted
    on a space with labels it never saw) and still maps by name into ekman."""
    from affekt.core.labels import get_mapping

    touch(tmp_path, ["anger/a.wav", "sadness/b.wav", "neutral/c.wav"], wav_bytes)
    ds = load_dataset("folder", tmp_path)
    assert ds.label_space.labels == ("anger", "neutral", "sadness")
    m = get_mapping(ds.label_space, "ekman")
    P = m.map_scores(np.array([[0.2, 0.3, 0.5]], np.float32))
    from affekt.core.labels import EKMAN
    assert dict(zip(EKMAN.labels, P[0])) == pytest.approx(
        {"anger": 0.2, "neutral": 0.3, "sadness": 0.5, "disgust": 0, "fear": 0, "happiness": 0, "surprise": 0})
    all7 = tmp_path / "all7"
    from affekt.core.labels import EKMAN as E
    touch(all7, [f"{lab}/x.wav" for lab in E.labels], wav_bytes)
    assert load_dataset("folder", all7).label_space.name == "ekman"


# ------------------------------------------------------------------------------------------ csv
def test_csv(tmp_path, wav_bytes):
    touch(tmp_path, ["clips/a.wav", "clips/b.wav", "clips/c.flac"], wav_bytes)
    pd.DataFrame({"path": ["clips/a.wav", "clips/b.wav", str(tmp_path / "clips/c.flac")],
                  "label": ["Anger ", "sadness", "anger"], "speaker": ["s1", "s1", "s2"],
                  "gender": ["F", "m", None]}).to_csv(tmp_path / "meta.csv", index=False)
    ds = load_dataset("csv", tmp_path / "meta.csv", modality="speech")
    df = check_common(ds, 3, ds.label_space.name)
    assert [lab[0] for lab in df["labels"]] == ["anger", "sadness", "anger"]
    assert list(df["path"]) == [str(tmp_path / "clips/a.wav"), str(tmp_path / "clips/b.wav"),
                                str(tmp_path / "clips/c.flac")]
    assert list(df["speaker"]) == ["s1", "s1", "s2"]  # an empty speaker is an error (test_speech_speakers.py)
    assert list(df["gender"]) == ["f", "m", "unknown"]
    assert ds.folds is None
    # the folder holding exactly one table is accepted too
    assert len(load_dataset("csv", tmp_path, modality="speech").split("all")) == 3
    # other column names
    (tmp_path / "t2").mkdir()
    touch(tmp_path / "t2", ["x.wav"], wav_bytes)
    (tmp_path / "t2" / "m.tsv").write_text("file\temotion\tactor\nx.wav\tfear\tA\n")
    ds2 = load_dataset("csv", tmp_path / "t2" / "m.tsv", modality="speech", path_column="file",
                       label_column="emotion", speaker_column="actor")
    assert ds2.split("all")["speaker"].tolist() == ["A"] and ds2.xy("all")[1] == [["fear"]]


def test_csv_errors(tmp_path, wav_bytes):
    touch(tmp_path, ["a.wav"], wav_bytes)
    (tmp_path / "nolabel.csv").write_text("path,emotion\na.wav,anger\n")
    with pytest.raises(DataError, match="no column 'label'") as e:
        load_dataset("csv", tmp_path / "nolabel.csv", modality="speech")
    assert "nolabel.csv" in str(e.value) and "emotion" in str(e.value)
    (tmp_path / "nopath.csv").write_text("file,label\na.wav,anger\n")
    with pytest.raises(DataError, match="no column 'path'"):
        load_dataset("csv", tmp_path / "nopath.csv", modality="speech")
    (tmp_path / "missing.csv").write_text("path,label\na.wav,anger\ngone.wav,fear\n")
    with pytest.raises(DataError, match="1 listed audio file.*gone.wav"):
        load_dataset("csv", tmp_path / "missing.csv", modality="speech")
    (tmp_path / "empty_label.csv").write_text("path,label\na.wav,\n")
    with pytest.raises(DataError, match="row 2: empty label"):
        load_dataset("csv", tmp_path / "empty_label.csv", modality="speech")
    with pytest.raises(DataError, match="found 4 tables"):
        load_dataset("csv", tmp_path, modality="speech")
    with pytest.raises(DataError, match="table not found"):
        load_dataset("csv", tmp_path / "nope.csv", modality="speech")


# ---------------------------------------------------------------------------------- URDU, ASED
def test_urdu(tmp_path, wav_bytes):
    files = ["Angry/SM1_F10_A010.wav", "Happy/SM1_F11_H001.wav", "Neutral/SF6_F2_N003.wav", "Sad/SM24_F1_S020.wav",
             "Sad/SM5_F3_S021.wav", "Angry/SM5_F4_A022.wav"]
    ds = load_dataset("urdu", touch(tmp_path, files + ["Angry/notes.wav", "Happy/SX1_F1_H001.wav"], wav_bytes))
    df = check_common(ds, len(files), "ekman")
    assert ds.info["skipped_files"] == 2
    rows = rows_by_file(ds)
    assert rows["SM1_F10_A010"]["labels"] == ["anger"] and rows["SM1_F10_A010"]["speaker"] == "SM1"
    assert rows["SF6_F2_N003"]["gender"] == "female" and rows["SF6_F2_N003"]["labels"] == ["neutral"]
    assert rows["SM24_F1_S020"]["labels"] == ["sadness"] and rows["SM1_F11_H001"]["labels"] == ["happiness"]
    assert df.groupby("speaker")["fold"].nunique().max() == 1  # folds never split a speaker
    assert rows["SM5_F3_S021"]["fold"] != rows["SM24_F1_S020"]["fold"]  # the two largest: different folds


def test_ased(tmp_path, wav_bytes):
    files = ["01Neutral/n1-01-01-01-03.wav", "02Fearful/f2-02-01-02-50.wav", "03Happy/h3-03-02-01-03.wav",
             "04Sad/s4-01-01-02-50.wav", "05Angry/a5-03-01-02-50.wav"]
    ds = load_dataset("ased", touch(tmp_path, files + ["05Angry/x5-03-01-02-50.wav"], wav_bytes))
    df = check_common(ds, len(files), "ekman")
    assert ds.info["skipped_files"] == 1
    rows = rows_by_file(ds)
    assert rows["a5-03-01-02-50"]["labels"] == ["anger"] and rows["a5-03-01-02-50"]["gender"] == "male"
    assert rows["n1-01-01-01-03"]["speaker"] == "03" and rows["n1-01-01-01-03"]["gender"] == "female"
    assert rows["f2-02-01-02-50"]["labels"] == ["fear"] and rows["s4-01-01-02-50"]["labels"] == ["sadness"]
    assert set(df[df["speaker"] == "50"]["fold"]) == {rows["a5-03-01-02-50"]["fold"]}


# ------------------------------------------------------------------------------- layout errors
@pytest.mark.parametrize("name,convention", [
    ("ravdess", "Actor_XX/03-01-EE-II-SS-RR-AA.wav"), ("tess", "<SPK>_<word>_<emo>.wav"),
    ("cremad", "AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav"), ("emodb", "wav/<spk><text><E><version>.wav"),
    ("savee", "AudioData/<SPK>/<e><nn>.wav"), ("urdu", "S<M|F><n>_F<n>_<A|H|N|S><n>.wav"),
    ("ased", "<e><n>-<sentence>-<take>-<01|02>-<speaker>.wav"), ("folder", "<root>/<label>/*.wav")])
def test_empty_or_misnamed_folder_is_a_clear_error(tmp_path, wav_bytes, name, convention):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as e:
        load_dataset(name, tmp_path / "empty")
    assert convention in str(e.value) and str(tmp_path / "empty") in str(e.value)
    touch(tmp_path / "misnamed", ["recording one.wav", "sub/take2.wav" if name != "folder" else "take2.wav"],
          wav_bytes)
    with pytest.raises(DataError, match="no audio files") as e:
        load_dataset(name, tmp_path / "misnamed")
    assert convention in str(e.value)
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(name, tmp_path / "nope")


def test_unknown_speech_dataset(tmp_path):
    with pytest.raises(DataError, match="unknown speech dataset 'iemocap'"):
        load_dataset("iemocap", tmp_path, modality="speech")


# --------------------------------------------------------------------------------------- concat
def test_concat_into_ekman(tmp_path, wav_bytes):
    rav = load_dataset("ravdess", touch(tmp_path / "rav", [
        "Actor_01/03-01-02-01-01-01-01.wav", "Actor_02/03-01-05-01-01-01-02.wav"], wav_bytes))
    tess = load_dataset("tess", touch(tmp_path / "tess", ["YAF_fear/YAF_dog_fear.wav"], wav_bytes))
    emodb = load_dataset("emodb", touch(tmp_path / "emo", ["wav/03a01La.wav", "wav/03a01Wa.wav"], wav_bytes))
    both = concat([rav, tess, emodb], "ekman")
    df = both.split("all")
    # the labels these clips have, in Ekman's order (a model cannot learn the others); viewable as ekman
    assert both.label_space.name == "ekman-subset" and both.label_space.labels == ("anger", "fear", "neutral")
    assert get_mapping(both.label_space, "ekman").target.name == "ekman"
    assert both.name == "ravdess+tess+emodb"
    assert [lab[0] for lab in df["labels"]] == ["neutral", "anger", "fear", "anger"]  # calm -> neutral; boredom dropped
    assert list(df["corpus"]) == ["ravdess", "ravdess", "tess", "emodb"]
    assert list(df["speaker"]) == ["ravdess:actor01", "ravdess:actor02", "tess:YAF", "emodb:03"]
    assert list(df["gender"]) == ["male", "female", "female", "male"]
    assert both.folds is None and "CC BY-NC-SA" in both.info["licence"]
    with pytest.raises(LabelError, match="no mapping"):
        concat([rav], "carer")
