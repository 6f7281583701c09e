"""Who speaks: speakers of folder and CSV speech datasets (a folder level, a regex on the file
name, a CSV column), and speaker-independent cross-validation through the whole training
wiring; without speakers, training says plainly that its CV is not speaker-independent."""

import numpy as np
import pandas as pd
import pytest

from conftest import class_clip, touch, write_audio

from affekt.core.errors import DataError, InputError
from affekt.datasets import concat, load_dataset
from affekt.datasets.speakers import NO_SPEAKERS, speaker_independence, speakers_of

LABELS = ("anger", "neutral", "sadness")


# ------------------------------------------------------------------------------ the one rule
def test_speakers_of_folder_and_regex():
    paths = ["calls/anna/anna_01.wav", "calls/bo/bo-2.wav", "x/03-01-05-01-02-01-12.wav"]
    assert speakers_of(paths, "folder") == ["anna", "bo", "x"]
    assert speakers_of(paths[:2], r"^([a-z]+)[_-]") == ["anna", "bo"]
    assert speakers_of(paths[2:], r"-(\d+)\.wav$") == ["12"]  # the file name, not the folders
    with pytest.raises(InputError, match="neither 'folder' nor a valid regex"):
        speakers_of(paths, "([0-9]+$")
    with pytest.raises(InputError, match="needs a group naming the speaker"):
        speakers_of(paths, r"\d+")
    with pytest.raises(DataError, match="finds no speaker in the file name 'anna_01.wav'"):
        speakers_of(paths, r"zzz(\d)", error=DataError)
    with pytest.raises(InputError, match="give 'folder' or a regex"):
        speakers_of(paths, " ")


# ---------------------------------------------------------------------------------- folders
def test_folder_speakers_by_folder_level(tmp_path, wav_bytes):
    touch(tmp_path, ["anger/anna/1.wav", "anger/bo/2.wav", "sadness/anna/3.wav", "sadness/bo/deep/4.flac"],
          wav_bytes)
    ds = load_dataset("folder", tmp_path, modality="speech", speaker_by="folder")
    df = ds.split("all")
    got = dict(zip([p.rsplit("/", 1)[1] for p in df["path"]], df["speaker"]))
    assert got == {"1.wav": "anna", "2.wav": "bo", "3.wav": "anna", "4.flac": "deep"}  # the folder a file lies in
    assert ds.group == "speaker" and ds.info["speakers_known"] and ds.info["speaker_by"] == "folder"
    assert [lab[0] for lab in df["labels"]] == ["anger", "anger", "sadness", "sadness"]
    touch(tmp_path, ["sadness/loose.wav"], wav_bytes)  # directly in its label folder: no speaker folder
    with pytest.raises(DataError, match=r"lies directly in its label folder 'sadness'.*<root>/<label>/<speaker>/"):
        load_dataset("folder", tmp_path, modality="speech", speaker_by="folder")


def test_folder_without_speakers_says_so(tmp_path, wav_bytes):
    touch(tmp_path, ["anger/a1.wav", "anger/a2.wav", "sadness/b1.wav"], wav_bytes)
    ds = load_dataset("folder", tmp_path, modality="speech")
    assert ds.group is None and not ds.info["speakers_known"]
    assert "speaker" not in ds.split("all").columns  # not one invented speaker per file
    with pytest.warns(UserWarning, match="not speaker-independent"):
        verdict = speaker_independence(ds, "kfold")
    assert verdict == {"speaker_independent": False, "note": NO_SPEAKERS}
    assert "give --speaker-by or a speaker column" in NO_SPEAKERS
    spk = load_dataset("folder", tmp_path, modality="speech", speaker_by=r"^([a-z])\d")
    assert spk.split("all")["speaker"].tolist() == ["a", "a", "b"]
    assert speaker_independence(spk, "group-kfold") == {"speaker_independent": True}
    assert speaker_independence(spk, "logo") == {"speaker_independent": True}
    with pytest.warns(UserWarning, match="protocol 'kfold' does not group the clips by speaker"):
        assert speaker_independence(spk, "kfold")["speaker_independent"] is False
    # a combination is grouped by speaker only if every part knows its speakers
    both = concat([spk, ds], "ekman")
    assert both.group is None and not both.info["speakers_known"] and "speaker" not in both.split("all")
    assert concat([spk, spk], "ekman").info["speakers_known"]


def test_named_corpora_know_their_speakers(tmp_path, wav_bytes):
    ds = load_dataset("savee", touch(tmp_path, ["AudioData/DC/a01.wav", "AudioData/JE/n02.wav"], wav_bytes))
    assert ds.info["speakers_known"] and ds.group == "speaker"
    assert speaker_independence(ds, "folds") == {"speaker_independent": True}
    with pytest.raises(DataError, match="speaker_by .--speaker-by. is for the folder and csv datasets"):
        load_dataset("savee", tmp_path, speaker_by="folder")
    text = load_dataset("csv", _text_table(tmp_path))
    assert speaker_independence(text, "kfold") == {}  # text tables: no notion of speakers


def _text_table(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("text,label\nhello there,joy\nso sad,sadness\n")
    return p


# --------------------------------------------------------------------------------------- csv
def test_csv_speakers(tmp_path, wav_bytes):
    touch(tmp_path, ["clips/anna_1.wav", "clips/bo_2.wav", "clips/anna_3.wav"], wav_bytes)
    paths = ["clips/anna_1.wav", "clips/bo_2.wav", "clips/anna_3.wav"]
    pd.DataFrame({"path": paths, "label": ["anger", "sadness", "anger"], "speaker": ["A", "B", "A"]}).to_csv(
        tmp_path / "with.csv", index=False)
    ds = load_dataset("csv", tmp_path / "with.csv", modality="speech")
    assert ds.split("all")["speaker"].tolist() == ["A", "B", "A"] and ds.group == "speaker"
    by = load_dataset("csv", tmp_path / "with.csv", modality="speech", speaker_by=r"^([a-z]+)_")
    assert by.split("all")["speaker"].tolist() == ["anna", "bo", "anna"]  # speaker_by wins over the column
    assert load_dataset("csv", tmp_path / "with.csv", modality="speech",
                        speaker_by="folder").split("all")["speaker"].tolist() == ["clips"] * 3
    pd.DataFrame({"path": paths, "label": ["anger", "sadness", "anger"]}).to_csv(tmp_path / "none.csv", index=False)
    none = load_dataset("csv", tmp_path / "none.csv", modality="speech")
    assert none.group is None and not none.info["speakers_known"] and "speaker" not in none.split("all")
    pd.DataFrame({"path": paths, "label": ["anger", "sadness", "anger"], "speaker": ["A", None, "A"]}).to_csv(
        tmp_path / "gap.csv", index=False)
    with pytest.raises(DataError, match="row 3: empty speaker"):
        load_dataset("csv", tmp_path / "gap.csv", modality="speech")
    with pytest.raises(DataError, match="no speaker column 'actor'"):
        load_dataset("csv", tmp_path / "none.csv", modality="speech", speaker_column="actor")


# ------------------------------------------------------------------ the whole training wiring
@pytest.fixture()
def recorded_splits(monkeypatch):
    """Every (train, test) index pair the cross-validation really used."""
    from affekt.evaluation import cv

    seen, real = [], cv.make_splitter

    class Spy:
        def __init__(self, splitter):
            self.splitter = splitter

        def split(self, *args):
            for tr, te in self.splitter.split(*args):
                seen.append((np.asarray(tr), np.asarray(te)))
                yield tr, te

    monkeypatch.setattr(cv, "make_splitter", lambda *a, **k: Spy(real(*a, **k)))
    return seen


@pytest.fixture(scope="module")
def by_speaker_folder(tmp_path_factory):
    """``<root>/<label>/<speaker>/*.wav``: 6 speakers x 3 labels x 2 clips."""
    root = tmp_path_factory.mktemp("by_speaker")
    for c, label in enumerate(LABELS):
        for s in range(6):
            for i in range(2):
                write_audio(root / label / f"spk{s}" / f"take{i}.wav", class_clip(label, 100 * s + 10 * c + i, dur=0.8))
    return root


def test_train_cv_folds_are_speaker_disjoint(by_speaker_folder, recorded_splits, speech_env, tmp_path):
    from affekt.training.pipeline import train

    ds = load_dataset("folder", by_speaker_folder, modality="speech", speaker_by="folder")
    speakers = np.asarray(ds.split("all")["speaker"].tolist())
    assert len(set(speakers)) == 6
    res = train("speech", ds, tmp_path / "m", family="logreg")
    assert not [w for w in res["warnings"] if "speaker-independent" in w]
    cv = res["cv"]
    assert cv["protocol"] == "group-kfold" and cv["k"] == 5 and cv["speaker_independent"] is True
    assert "note" not in cv
    assert len(recorded_splits) == 5
    tested = []
    for tr, te in recorded_splits:
        assert set(speakers[tr]).isdisjoint(speakers[te]), (set(speakers[tr]), set(speakers[te]))
        tested += list(speakers[te])
    assert sorted(set(tested)) == sorted(set(speakers))  # every speaker tested once, on one side only
    assert sorted(np.concatenate([te for _, te in recorded_splits])) == list(range(len(speakers)))


def test_train_without_speakers_says_cv_is_not_speaker_independent(by_speaker_folder, recorded_splits,
                                                                     speech_env, tmp_path):
    from affekt.training.pipeline import train

    ds = load_dataset("folder", by_speaker_folder, modality="speech")  # speakers not given
    res = train("speech", ds, tmp_path / "m", family="logreg")
    cv = res["cv"]
    assert cv["protocol"] == "kfold" and cv["speaker_independent"] is False and cv["note"] == NO_SPEAKERS
    assert NO_SPEAKERS in res["warnings"]  # the one-line warnings affekt train prints
    assert "not speaker-independent (no speakers known: give --speaker-by" in NO_SPEAKERS
    # and it is not: the plain k-fold puts clips of one speaker on both sides
    speakers = np.asarray(load_dataset("folder", by_speaker_folder, speaker_by="folder").split("all")["speaker"])
    assert any(set(speakers[tr]) & set(speakers[te]) for tr, te in recorded_splits)
