"""Speech input side: decoding, bad files, loudness, streaming, input collection, VAD,
utterances and features. All audio is generated here (numpy + soundfile)."""
from pathlib import Path

import numpy as np
import pytest

from conftest import SR, class_clip, speech_like, write_audio, write_bad_audio

from affekt.core.errors import InputError
from affekt.io.audio import (AudioError, audio_info, check_array, collect_audio, dbfs, load_audio,
                             normalize_loudness, stream_audio)


def tone(dur, sr, ch=1, f=220.0, amp=0.3):
    t = np.arange(int(round(dur * sr))) / sr
    y = amp * np.sin(2 * np.pi * f * t)
    return np.stack([y * (0.4 + 0.1 * c) for c in range(ch)], axis=1) if ch > 1 else y


# ------------------------------------------------------------------------------------ decoding
@pytest.mark.parametrize("ext", ["wav", "flac", "ogg"])
@pytest.mark.parametrize("sr", [8000, 44100, 48000])
@pytest.mark.parametrize("ch", [1, 2, 6])
def test_any_format_rate_channels_decodes_to_16k_mono(tmp_path, ext, sr, ch):
    dur = 1.3
    p = write_audio(tmp_path / f"a.{ext}", tone(dur, sr, ch), sr)
    info = audio_info(p)
    assert (info.samplerate, info.channels) == (sr, ch)
    assert info.duration == pytest.approx(dur, abs=0.005)
    y = load_audio(p)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / SR - dur) < 0.005
    # mono is the mean of the channels: the steady-state amplitude says so
    expected = 0.3 * (np.mean([0.4 + 0.1 * c for c in range(ch)]) if ch > 1 else 1.0)
    rms = np.sqrt(np.mean(np.square(y[SR // 10:-SR // 10])))
    assert rms * np.sqrt(2) == pytest.approx(expected, rel=0.1 if ext == "ogg" else 0.01)  # vorbis is lossy
    # the content survives resampling: the spectrum peaks at 220 Hz
    spec = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spec) * SR / len(y) - 220) < 3


@pytest.mark.skipif("MP3" not in __import__("soundfile").available_formats(),
                    reason="this libsndfile has no MP3 support")
@pytest.mark.parametrize("sr", [16000, 44100])
def test_mp3_decodes_where_libsndfile_can(tmp_path, sr):
    p = write_audio(tmp_path / "a.mp3", tone(1.3, sr, 2), sr)
    y = load_audio(p)
    assert audio_info(p).format == "MP3" and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / SR - 1.3) < 0.06  # mp3 frames pad the end a little
    assert abs(np.argmax(np.abs(np.fft.rfft(y))) * SR / len(y) - 220) < 3


@pytest.mark.parametrize("sr,block", [(16000, 0.25), (44100, 0.3), (8000, 1.0)])
def test_stream_blocks_concatenate_to_load_audio(tmp_path, sr, block):
    p = write_audio(tmp_path / "s.flac", tone(2.05, sr, 2), sr)
    blocks = list(stream_audio(p, block_seconds=block))
    assert len(blocks) > 1 and all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    streamed, whole = np.concatenate(blocks), load_audio(p)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-4)


def test_load_audio_time_range(tmp_path):
    p = write_audio(tmp_path / "r.wav", tone(2.0, 44100), 44100)
    y = load_audio(p, start=0.5, end=1.25)
    assert abs(len(y) / SR - 0.75) < 0.002
    assert len(load_audio(p, start=1.5)) / SR == pytest.approx(0.5, abs=0.002)


def test_loudness_normalisation_levels_quiet_and_loud_alike():
    s = speech_like(1.5, 150, 4, amp=1.0, seed=3, noise=0)
    quiet, loud = normalize_loudness(0.005 * s), normalize_loudness(0.9 * s)
    assert abs(dbfs(0.005 * s) - dbfs(0.9 * s)) > 40  # 45 dB apart before
    assert abs(dbfs(quiet) - dbfs(loud)) < 0.5  # the same level after
    np.testing.assert_allclose(quiet / np.abs(quiet).max(), loud / np.abs(loud).max(), atol=1e-4)  # shape kept
    assert -30 < dbfs(loud) < -18


def test_loudness_normalisation_limits_peaks_and_gain():
    spikes = np.zeros(SR, np.float32)
    spikes[::4000] = 0.01  # huge crest factor: the -23 dBFS gain would clip
    assert np.abs(normalize_loudness(spikes)).max() <= 0.999 + 1e-6
    faint = 1e-6 * speech_like(1.0, seed=1, noise=0)
    assert np.abs(normalize_loudness(faint)).max() <= np.abs(faint).max() * 10 ** (50 / 20) * 1.001
    assert len(normalize_loudness(np.zeros(0, np.float32))) == 0


def test_check_array_variants():
    y = tone(1.0, 8000).astype(np.float32)
    out = check_array(y, 8000)
    assert out.dtype == np.float32 and len(out) == SR
    st = np.stack([y, 0.5 * y])
    np.testing.assert_allclose(check_array(st, 8000), check_array(st.T, 8000), atol=1e-6)  # channels first or last
    pcm = (y * 32767).astype(np.int16)
    np.testing.assert_allclose(check_array(pcm, 8000), out, atol=1e-3)  # integer PCM scaled to [-1, 1]
    for bad, sr, msg in [(np.zeros((2, 2, 2)), SR, "shape"), (np.zeros(0), SR, "zero-length"),
                         (y, 100, "sample rate"), (np.array(["a", "b"]), SR, "dtype"),
                         (np.array([0.1, np.nan]), SR, "NaN")]:
        with pytest.raises(AudioError, match=msg) as e:
            check_array(bad, sr, name="clip7")
        assert "clip7" in str(e.value)


# -------------------------------------------------------------------------------- bad inputs
@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    return write_bad_audio(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", ["empty", "noframes", "silent", "truncated_wav", "truncated_flac", "truncated_aiff",
                                  "corrupt",
                                  "text", "xyz", "missing", "folder"])
def test_bad_file_errors_name_the_file_and_the_problem(bad_files, kind):
    from affekt.speech.utterances import utterances

    path, word = bad_files[kind]
    with pytest.raises(AudioError) as e:
        list(utterances(path))
    msg = str(e.value)
    assert str(path) in msg and word in msg, msg
    assert "\n" not in msg
    assert isinstance(e.value, InputError) and isinstance(e.value, ValueError)


def test_truncated_files_fail_when_streamed_too(bad_files):
    for kind in ("truncated_wav", "truncated_flac", "truncated_aiff"):
        path, _ = bad_files[kind]
        with pytest.raises(AudioError, match="truncated|corrupt"):
            for _ in stream_audio(path, block_seconds=0.1):
                pass


def test_collect_audio_folder_list_and_single(tmp_path):
    for rel in ("b/z.wav", "a.flac", "b/a/y.ogg", "c.WAV", "notes.txt", "b/readme.md"):
        p = tmp_path / "in" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    files = collect_audio(tmp_path / "in")
    names = [str(Path(f).relative_to(tmp_path / "in")) for f in files]
    assert names == ["a.flac", "b/a/y.ogg", "b/z.wav", "c.WAV"]  # recursive, sorted, audio only
    lst = tmp_path / "in" / "list.txt"
    lst.write_text(f"# my clips\nb/z.wav\n\n  a.flac  \n{tmp_path / 'elsewhere.wav'}\nmissing.wav\n")
    assert collect_audio(lst) == [str(tmp_path / "in" / "b/z.wav"), str(tmp_path / "in" / "a.flac"),
                                  str(tmp_path / "elsewhere.wav"), str(tmp_path / "in" / "missing.wav")]
    assert collect_audio(tmp_path / "in" / "a.flac") == [str(tmp_path / "in" / "a.flac")]
    from affekt.io.audio import collect_audio_named

    assert [g for g, _ in collect_audio_named(lst)] == ["b/z.wav", "a.flac", str(tmp_path / "elsewhere.wav"),
                                                        "missing.wav"]  # each line as written
    (tmp_path / "empty").mkdir()
    (tmp_path / "blank.txt").write_text("# nothing\n\n")
    (tmp_path / "x.xyz").write_bytes(b"1")
    for arg, msg in [(tmp_path / "empty", "holds no audio files"), (tmp_path / "blank.txt", "names no files"),
                     (tmp_path / "x.xyz", "not an audio file"), (tmp_path / "nope", "does not exist")]:
        with pytest.raises(InputError, match=msg):
            collect_audio(arg)


# ---------------------------------------------------------------------------------------- VAD
def test_speech_segments_hysteresis_gaps_and_padding():
    from affekt.speech.vad import FRAME_S, VADParams, speech_segments

    p = np.zeros(100, np.float32)
    p[10:40] = 0.9
    p[20:25] = 0.4          # between the thresholds: speech goes on
    p[43:60] = 0.9          # a 3-frame (96 ms) pause: shorter than min_silence_s, joined
    p[80:83] = 0.9          # a 96 ms blip: shorter than min_speech_s, dropped
    segs = speech_segments(p, 100 * FRAME_S, VADParams())
    assert len(segs) == 1
    a, b = segs[0]
    assert a == pytest.approx(10 * FRAME_S - 0.1) and b == pytest.approx(60 * FRAME_S + 0.1)
    assert speech_segments(np.full(50, 0.1), 50 * FRAME_S) == []
    # speech to the very end: the segment stays inside the recording
    q = np.zeros(40)
    q[5:] = 0.9
    (a, b), = speech_segments(q, 40 * FRAME_S)
    assert b == pytest.approx(40 * FRAME_S) and a == pytest.approx(5 * FRAME_S - 0.1)


def test_windows_split_join_and_drop():
    from affekt.speech.vad import windows

    w = windows([(1.0, 21.0)], max_s=8.0)
    assert len(w) == 3 and w[0][0] == 1.0 and w[-1][1] == 21.0
    assert all(b - a <= 8.0 + 1e-9 for a, b in w)
    assert all(w[i][1] == pytest.approx(w[i + 1][0]) for i in range(len(w) - 1))  # contiguous
    assert windows([(0.0, 1.0), (1.3, 2.5)]) == [(0.0, 2.5)]                     # a short pause is joined
    assert windows([(0.0, 1.0), (2.0, 3.0)]) == [(0.0, 1.0), (2.0, 3.0)]         # a long one is not
    assert windows([(0.0, 5.0), (5.2, 9.0)], max_s=8.0) == [(0.0, 5.0), (5.2, 9.0)]  # joining stays <= max_s
    assert windows([(0.0, 0.2), (5.0, 5.3)]) == []                               # tiny ones dropped
    assert windows([]) == []
    many = windows([(k * 3.0, k * 3.0 + 2.0) for k in range(10)] + [(31.0, 31.2)], max_s=4.0, min_s=0.5)
    starts = [a for a, _ in many]
    assert starts == sorted(starts) and all(0.5 <= b - a <= 4.0 for a, b in many) and len(many) == 10


def test_utterance_trim_with_a_detector_that_fires(energy_vad):
    from affekt.speech.utterances import utterances

    y = np.concatenate([np.zeros(8000, np.float32), speech_like(1.5, 110, 2.5, seed=0),
                        np.zeros(8000, np.float32)])
    (u,) = list(utterances((y, SR)))
    assert u.speech and u.start == pytest.approx(0.4, abs=0.05) and u.end == pytest.approx(2.1, abs=0.05)
    (w,) = list(utterances((y, SR), vad=False))
    assert (w.start, w.end, w.speech) == (0.0, 2.5, True) and len(w.samples) == len(y)
    # a 44.1 kHz stereo array is resampled first
    st = np.stack([y, y]).astype(np.float32)
    from affekt.io.audio import _resample
    (v,) = list(utterances((_resample(st.T.copy(), SR, 44100).T, 44100)))
    assert v.speech and v.start == pytest.approx(u.start, abs=0.05)


def test_long_array_becomes_windows(energy_vad):
    from affekt.speech.utterances import utterances

    from conftest import LONG_BURSTS, long_recording

    us = list(utterances((long_recording(), SR), max_window_s=8.0))
    assert len(us) >= len(LONG_BURSTS)
    assert all(b.start >= a.end - 1e-6 for a, b in zip(us, us[1:]))  # in time order, no overlap
    for u in us:
        assert u.end - u.start <= 8.0 + 1e-6
        mid = (u.start + u.end) / 2
        assert any(a - 0.2 <= mid <= b + 0.2 for a, b, _ in LONG_BURSTS)
        assert abs(len(u.samples) - (u.end - u.start) * SR) <= 2
    for a, b, _ in LONG_BURSTS:  # every burst is covered
        assert any(u.start <= (a + b) / 2 <= u.end for u in us)


# The real detector (Silero) on a real voice: the bundled example clip (a synthetic English voice
# Silero detects as speech), padded with silence or low noise, and on signals that are not speech.
PAD_S = 3.0
TOL_S = 0.25  # the detector pads its segments by 0.1 s, and works in 32 ms frames


def padded_example(noise: float = 0.0, seed: int = 0):
    """3 s + the example voice + 3 s; returns (samples, (voice_start, voice_end) in seconds)."""
    from conftest import example_speech, voiced_extent

    v = example_speech()
    a, b = voiced_extent(v)
    pad = np.random.default_rng(seed).normal(0, noise, int(PAD_S * SR)).astype(np.float32) if noise \
        else np.zeros(int(PAD_S * SR), np.float32)
    return np.concatenate([pad, v, pad]), (PAD_S + a, PAD_S + b)


def not_speech(kind: str, dur: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(1)
    t = np.arange(int(dur * SR)) / SR
    if kind == "white noise":
        return rng.normal(0, 0.1, len(t)).astype(np.float32)
    if kind == "brown noise":
        y = np.cumsum(rng.normal(0, 1, len(t)))
        y -= np.convolve(y, np.ones(801) / 801, mode="same")  # remove the drift, keep the rumble
        return (0.2 * y / np.abs(y).max()).astype(np.float32)
    if kind == "tone":
        return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    if kind == "chord":
        return (0.1 * sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))).astype(np.float32)
    raise ValueError(kind)


NOT_SPEECH = ["white noise", "brown noise", "tone", "chord"]


def test_silero_probabilities_are_high_on_the_voice_low_around_it_and_stream():
    from affekt.speech.vad import FRAME, FRAME_S, SileroVAD

    y, (a, b) = padded_example()
    y = normalize_loudness(y)
    whole = SileroVAD().probs(y)
    assert len(whole) == int(np.ceil(len(y) / FRAME))
    t = (np.arange(len(whole)) + 0.5) * FRAME_S  # frame centres
    inside = whole[(t > a + 0.3) & (t < b - 0.3)]
    outside = whole[(t < a - 0.5) | (t > b + 0.5)]
    assert np.mean(inside > 0.5) > 0.8, np.round(inside, 2)  # words, with short pauses between them
    assert outside.max() < 0.35, np.round(outside, 2)        # below the detector's off threshold
    v = SileroVAD(block_frames=7)
    n1, n2 = int(3.2 * SR) + 1, int(5.9 * SR)  # block edges inside the voice, not on frame edges
    parts = [v.probs(y[:n1], last=False), v.probs(y[n1:n2], last=False), v.probs(y[n2:], last=True)]
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-4)
    np.testing.assert_allclose(SileroVAD().probs(y), whole, atol=1e-6)  # state is reset after last=True


@pytest.mark.parametrize("noise", [0.0, 0.003])
def test_utterance_is_trimmed_to_the_voice(noise):
    """3 s of silence (or low noise) + the example voice + 3 s: one utterance, speech found, whose
    span is the voice's to within the detector's padding, and whose samples are that span."""
    from affekt.speech.utterances import utterances

    y, (a, b) = padded_example(noise)
    (u,) = list(utterances((y, SR)))
    assert u.speech
    assert a - TOL_S <= u.start <= a + 0.1, (u.start, a)
    assert b - 0.1 <= u.end <= b + TOL_S, (u.end, b)
    assert abs(len(u.samples) - (u.end - u.start) * SR) <= 2
    assert -30 < dbfs(u.samples) < -18  # loudness-normalised


@pytest.mark.parametrize("kind", NOT_SPEECH)
def test_no_speech_in_noise_or_tones(kind):
    """Noise and musical tones are not speech: no frame reaches the speech threshold, and the
    utterance is the whole clip marked speech=False (the model then reports no emotion)."""
    from affekt.speech.utterances import utterances
    from affekt.speech.vad import SileroVAD

    y = not_speech(kind)
    assert SileroVAD().probs(normalize_loudness(y)).max() < 0.35
    (u,) = list(utterances((y, SR)))
    assert u.speech is False and (u.start, u.end) == (0.0, 3.0) and len(u.samples) == len(y)


def test_silence_is_an_error_not_an_utterance():
    from affekt.speech.utterances import utterances

    with pytest.raises(AudioError, match="'<array>': silent recording"):
        list(utterances((np.zeros(3 * SR, np.float32), SR)))


def test_long_file_with_silero_finds_each_voice(tmp_path):
    """30 s of low noise with the example voice at 5 s and at 20 s: the windows the real VAD
    gives lie on the voices and cover both."""
    from affekt.speech.utterances import utterances

    from conftest import example_speech, voiced_extent

    v = example_speech()
    a, b = voiced_extent(v)
    y = np.random.default_rng(2).normal(0, 0.003, 30 * SR).astype(np.float32)
    voices = []
    for s in (5.0, 20.0):
        y[int(s * SR): int(s * SR) + len(v)] += v
        voices.append((s + a, s + b))
    path = write_audio(tmp_path / "two_voices.flac", y)
    us = list(utterances(path))
    assert us and all(u.speech for u in us)
    for u in us:
        assert any(va - TOL_S <= u.start and u.end <= vb + TOL_S for va, vb in voices), (u.start, u.end)
    for va, vb in voices:  # each voice is covered, all but its edges
        covered = sum(max(0.0, min(u.end, vb) - max(u.start, va)) for u in us)
        assert covered >= 0.9 * (vb - va)
    # the same samples given as an array: the same windows
    assert [(w.start, w.end) for w in utterances((y, SR))] == [(u.start, u.end) for u in us]


@pytest.mark.parametrize("kind", NOT_SPEECH)
def test_long_input_without_speech_is_an_error(kind, tmp_path):
    """Over 20 s of noise or tone: an error saying no speech was found, for a file and for an
    array alike (an array used to give no utterance at all, and predict() an IndexError)."""
    from affekt.speech.utterances import utterances

    y = not_speech(kind, 25.0)
    path = write_audio(tmp_path / "noise.wav", y)
    with pytest.raises(AudioError, match="no speech found in 25 s of audio") as e:
        list(utterances(path))
    assert str(path) in str(e.value)
    with pytest.raises(AudioError, match="'<array>': no speech found in 25 s of audio"):
        list(utterances((y, SR)))


def test_long_silence_and_blips_are_errors(energy_vad):
    """A long silent array is 'silent', like a file; a long input whose only speech is a blip too
    short to make a window is 'no speech found' (it used to give no utterance at all)."""
    from affekt.speech.utterances import utterances
    from affekt.speech.vad import SileroVAD, speech_segments, windows

    with pytest.raises(AudioError, match="silent recording"):
        list(utterances((np.zeros(25 * SR, np.float32), SR)))
    y = np.random.default_rng(3).normal(0, 3e-4, 25 * SR).astype(np.float32)
    y[10 * SR: 10 * SR + int(0.27 * SR)] = speech_like(0.27, seed=5)
    segs = speech_segments(SileroVAD().probs(normalize_loudness(y)), 25.0)  # (the energy detector)
    assert len(segs) == 1 and windows(segs) == []  # a segment, too short for a window
    with pytest.raises(AudioError, match="no speech found in 25 s"):
        list(utterances((y, SR)))


def test_check_input():
    from affekt.speech.utterances import check_input

    assert check_input("/no/such/clip.wav") == "'/no/such/clip.wav': file not found"
    assert check_input((np.zeros(10), SR)) is None
    assert "got int" in check_input(5)
    assert "got list" in check_input([0.1, 0.2])


# ------------------------------------------------------------------------------------ features
def test_log_mel_shape_and_agreement_with_librosa():
    """log_mel = librosa's mel filterbank applied to librosa's STFT convention (centred frames,
    zero padding, a periodic 400-sample Hann window centred in the 512-point FFT), in dB.
    The reference STFT is written out here: importing librosa's spectrum module costs a
    ~30 s numba compile on a fresh machine (see the slow test below for the full comparison)."""
    import librosa.filters
    from scipy.signal import get_window

    from affekt.speech import features as F

    y = class_clip("neutral", 3)
    M = F.log_mel(y)
    assert M.shape == (F.N_MELS, 1 + len(y) // F.HOP) and M.dtype == np.float32
    assert F.log_mel(y, n_mels=40).shape == (40, M.shape[1])
    basis = librosa.filters.mel(sr=SR, n_fft=F.N_FFT, n_mels=F.N_MELS, fmin=50, fmax=SR // 2)
    np.testing.assert_allclose(F._mel_basis(), basis, rtol=1e-5, atol=1e-7)  # the shipped filterbank is librosa's
    win = np.zeros(F.N_FFT)
    off = (F.N_FFT - F.WIN) // 2
    win[off:off + F.WIN] = get_window("hann", F.WIN, fftbins=True)
    padded = np.pad(y.astype(np.float64), F.N_FFT // 2)
    frames = np.stack([padded[k * F.HOP: k * F.HOP + F.N_FFT] for k in range(M.shape[1])])
    power = np.abs(np.fft.rfft(frames * win, axis=1)) ** 2
    ref = 10 * np.log10(np.maximum(basis @ power.T, 1e-10))
    loud = ref > ref.max() - 80
    np.testing.assert_allclose(M[loud], ref[loud], atol=0.02)


@pytest.mark.slow
def test_log_mel_and_yin_match_librosa_itself():
    """The full comparison with librosa.feature.melspectrogram and librosa.yin (the first
    librosa.feature import of a fresh machine compiles numba code for ~30 s)."""
    import librosa

    from affekt.speech import features as F

    y = class_clip("anger", 4)
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=F.N_FFT, hop_length=F.HOP, win_length=F.WIN,
                                       window="hann", center=True, pad_mode="constant", power=2.0,
                                       n_mels=F.N_MELS, fmin=50, fmax=SR // 2)
    ref = 10 * np.log10(np.maximum(S, 1e-10))
    M = F.log_mel(y)
    assert ref.shape == M.shape
    loud = ref > ref.max() - 80
    np.testing.assert_allclose(M[loud], ref[loud], atol=0.05)
    v = speech_like(1.0, 180, 3.0, vibrato=0.1, noise=0.0, seed=2)
    ours = F.yin(v)
    theirs = librosa.yin(v, fmin=65.0, fmax=500.0, sr=SR, frame_length=512, hop_length=F.HOP, center=True,
                         trough_threshold=0.1)
    n = min(len(ours), len(theirs))
    assert (np.abs(ours[:n] - theirs[:n]) / theirs[:n] < 0.02).mean() > 0.9


@pytest.mark.parametrize("f0", [90.0, 150.0, 240.0, 400.0])
def test_yin_finds_the_pitch_of_a_harmonic_tone(f0):
    from affekt.speech import features as F

    y = speech_like(1.0, f0, 3.0, vibrato=0.0, noise=0.0, seed=1)
    est = F.yin(y)
    assert len(est) == 1 + len(y) // F.HOP
    assert np.median(est[10:-10]) == pytest.approx(f0, rel=0.01)


@pytest.mark.parametrize("dur", [0.01, 0.3, 1.0, 3.3])
def test_feature_vector_fixed_length_and_finite(dur):
    from affekt.speech import features as F

    v = F.feature_vector(speech_like(dur, seed=3))
    assert v.shape == (len(F.FUNCTIONAL_NAMES),) and v.dtype == np.float32 and np.isfinite(v).all()
    assert len(set(F.FUNCTIONAL_NAMES)) == len(F.FUNCTIONAL_NAMES)
    d = dict(zip(F.FUNCTIONAL_NAMES, v))
    assert d["duration_s"] == pytest.approx(max(dur, F.WIN / SR), abs=1e-4)


def test_feature_vector_of_silence_is_finite_and_unknown_set_named():
    from affekt.speech import features as F

    assert np.isfinite(F.feature_vector(np.zeros(SR, np.float32))).all()
    with pytest.raises(InputError, match="klingon"):
        F.feature_vector(speech_like(0.5), "functionals+klingon")


def _fx(y):
    from affekt.speech import features as F

    return dict(zip(F.FUNCTIONAL_NAMES, F.functionals(y)))


def test_pitch_functionals_follow_f0():
    lo = _fx(speech_like(1.5, 110, 4, vibrato=0.02, seed=5))
    hi = _fx(speech_like(1.5, 220, 4, vibrato=0.02, seed=5))
    # semitones re 100 Hz: 110 Hz -> 1.65, 220 Hz -> 13.65
    assert lo["f0_p50"] == pytest.approx(12 * np.log2(1.1), abs=0.5)
    assert hi["f0_p50"] == pytest.approx(12 * np.log2(2.2), abs=0.5)
    assert hi["f0_mean"] - lo["f0_mean"] == pytest.approx(12, abs=0.7)
    assert lo["voiced_ratio"] > 0.5 and hi["voiced_ratio"] > 0.5
    wide = _fx(speech_like(1.5, 150, 4, vibrato=0.25, seed=5))
    assert wide["f0_range_st"] > _fx(speech_like(1.5, 150, 4, vibrato=0.02, seed=5))["f0_range_st"] + 3
    assert hi["centroid_mean"] > lo["centroid_mean"]


def test_level_moves_energy_features_only():
    """Scaling by 0.1 (-20 dB) lowers every mel band by 20 dB: MFCC 1 (the DCT's constant term)
    drops by 20*sqrt(64) = 160, rms by 20 dB; the spectral shape, pitch and voicing stay put."""
    y = speech_like(1.5, 150, 4, seed=6)
    a, b = _fx(y), _fx(np.float32(0.1) * y)
    assert a["mfcc1_mean"] - b["mfcc1_mean"] == pytest.approx(160, abs=1)
    assert a["rms_db_mean"] - b["rms_db_mean"] == pytest.approx(20, abs=0.2)
    assert a["mel10_mean"] - b["mel10_mean"] == pytest.approx(20, abs=0.2)
    for k in ("mfcc2_mean", "mfcc5_mean", "mfcc13_std", "centroid_mean", "zcr_mean", "f0_mean", "f0_p50",
              "voiced_ratio", "d_mfcc3_std"):
        assert a[k] == pytest.approx(b[k], abs=1e-2), k


def test_noise_is_unvoiced_and_flat():
    noise = _fx(np.random.default_rng(0).normal(0, 0.1, SR).astype(np.float32))
    voice = _fx(speech_like(1.0, 150, 4, seed=7))
    assert noise["voiced_ratio"] < 0.1 < voice["voiced_ratio"]
    assert noise["flatness_mean"] > voice["flatness_mean"]
    assert noise["zcr_mean"] > voice["zcr_mean"]


def test_channel_normalised_functionals_ignore_offset_hum_and_a_microphone_tilt():
    from scipy.signal import lfilter

    from affekt.speech import features as F

    y = speech_like(1.5, seed=3)
    t = np.arange(len(y)) / SR
    other = lfilter([1.0, 0.6], [1.0], y).astype(np.float32)  # another microphone: a tilted spectrum
    other = (other + 0.02 + 0.02 * np.sin(2 * np.pi * 30 * t)).astype(np.float32)  # DC offset and rumble
    names = F.FUNCTIONAL_NAMES
    keep = [i for i, n in enumerate(names) if n.startswith(("mfcc", "mel"))]

    def drift(kind):
        a, b = F.feature_vector(y, kind)[keep], F.feature_vector(other, kind)[keep]
        return float(np.abs(a - b).mean())

    assert drift("functionals-cms") < 0.5 * drift("functionals")
    v = F.feature_vector(y, "functionals-cms")
    assert len(v) == len(names) and np.allclose(v[[names.index(f"mel{i}_mean") for i in range(5)]], 0, atol=1e-4)
    assert np.allclose(F.remove_channel(np.full(400, 0.3, np.float32)), 0, atol=1e-6)


def test_ensemble_features_reach_its_members():
    from affekt.core.registry import make_family

    e = make_family("speech", "ensemble", members=["logreg", "svm"], features="functionals-cms")
    assert {m.features for m in e._members()} == {"functionals-cms"}
    assert "functionals-cms" in e._repr_kind()
