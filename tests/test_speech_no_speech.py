"""Long inputs (over 20 s: the streamed path, VAD then windows) with no voice in them, through
the real detector (Silero): an error record saying so, never a label, and the other inputs of the
same call still predicted. The voice between them is the bundled example clip."""
import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from conftest import SPEECH_CLASSES, SR, example_speech_path, write_audio

from affekt.cli.app import app
from affekt.core.errors import InputError

pytestmark = pytest.mark.usefixtures("speech_env")
LABELS = sorted(SPEECH_CLASSES)


@pytest.fixture(scope="module")
def model(speech_corpus, tmp_path_factory):
    """A tiny functionals model (the classifier does not matter here), fitted and saved."""
    from affekt.core.registry import make_family

    m = make_family("speech", "logreg").fit(speech_corpus["X"], speech_corpus["y"])
    return m, m.save(tmp_path_factory.mktemp("nospeech-model") / "m")


@pytest.fixture(scope="module")
def long_no_speech(tmp_path_factory):
    d = tmp_path_factory.mktemp("nospeech")
    rng = np.random.default_rng(4)
    t = np.arange(25 * SR) / SR
    noise = rng.normal(0, 0.1, len(t)).astype(np.float32)
    return {"noise": write_audio(d / "noise.wav", noise),
            "tone": write_audio(d / "tone.flac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)),
            "silence": write_audio(d / "silence.wav", np.zeros(len(t), np.float32)),
            "noise_array": (noise, SR)}


def test_long_input_without_speech_is_an_error_record(model, long_no_speech):
    """25 s of noise, of a tone, or of silence, as files or as an array: no label, no scores, an
    error record that says why; the voice given with them is still predicted."""
    m, _ = model
    voice = example_speech_path()
    ns = long_no_speech
    X = [ns["noise"], voice, ns["tone"], ns["silence"], ns["noise_array"]]
    preds = m.predict(X, errors="record")
    assert [p.input for p in preds] == [ns["noise"], voice, ns["tone"], ns["silence"], "<array>"]
    assert preds[1].error is None and preds[1].label in LABELS
    assert sum(preds[1].scores.values()) == pytest.approx(1, abs=1e-4)
    for i, msg in ((0, "no speech found in 25 s of audio"), (2, "no speech found in 25 s of audio"),
                   (3, "silent recording"), (4, "no speech found in 25 s of audio")):
        p = preds[i]
        assert p.error.startswith(f"'{p.input}': {msg}"), p.error
        assert p.label is None and not p.scores and p.to_dict() == {"input": p.input, "error": p.error}
    with pytest.raises(InputError, match="no speech found in 25 s of audio"):
        m.predict([voice, ns["noise"]])


def test_cli_predict_long_input_without_speech(model, long_no_speech, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(long_no_speech["noise"], folder / "a_noise.wav")
    shutil.copy(example_speech_path(), folder / "b_voice.wav")
    out = tmp_path / "o.jsonl"
    r = CliRunner().invoke(app, ["predict", "--modality", "speech", "-i", str(folder), "-o", str(out),
                                 "-m", str(model[1])])
    # (exit code: the rule for runs where some items failed; this test is about the records)
    assert "Traceback" not in r.output and (r.exception is None or isinstance(r.exception, SystemExit)), r.output
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert recs[0] == {"input": str(folder / "a_noise.wav"),
                       "error": f"'{folder / 'a_noise.wav'}': no speech found in 25 s of audio"}
    assert recs[1]["input"] == str(folder / "b_voice.wav") and recs[1]["label"] in LABELS


def test_a_voice_heard_too_briefly_for_a_segment_is_still_speech():
    """Shouted or clipped speech can reach the VAD threshold in a frame or two only (10 of
    RAVDESS's 1440 clips): the clip is kept whole, as speech; noise never reaches it."""
    import numpy as np

    from affekt.speech.utterances import _trim
    from affekt.speech.vad import VADParams

    class FakeVAD:
        def __init__(self, peak):
            self.peak = peak

        def probs(self, y):
            p = np.full(len(y) // 512, 0.05, np.float32)
            p[10] = self.peak  # one frame: far shorter than min_speech_s
            return p

    y = np.zeros(16000 * 2, np.float32)
    heard, unheard = _trim(y, FakeVAD(0.6), VADParams()), _trim(y, FakeVAD(0.3), VADParams())
    assert heard.speech and (heard.start, heard.end) == (0.0, 2.0)
    assert not unheard.speech and (unheard.start, unheard.end) == (0.0, 2.0)
