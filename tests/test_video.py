"""Video: decoding, sampling, tracking real faces, the voice, fusion, outputs and bad input, on tiny
videos made in the test (tests/video_helpers.py)."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("av")

from cli_helpers import ITEMS_FAILED, invoke  # noqa: E402
from video_helpers import EXAMPLE, audio_only, make_video  # noqa: E402

from affekt.core.errors import InputError  # noqa: E402
from affekt.fusion import LearnedFusion, confidence, late_fuse  # noqa: E402
from affekt.video import decode  # noqa: E402
from affekt.video.models import runs, smooth  # noqa: E402

SPEECH = EXAMPLE.with_name("speech.wav")


@pytest.fixture(scope="module")
def vids(tmp_path_factory):
    import soundfile as sf

    d = tmp_path_factory.mktemp("videos")
    y, sr = sf.read(SPEECH, dtype="float32")
    v = {"pair": make_video(d / "pair.mp4", people=(0, 1), seconds=len(y) / sr, audio=y, sr=sr, size=(480, 240)),
         "silent": make_video(d / "silent.mp4", seconds=2.0),
         "vfr": make_video(d / "vfr.mkv", seconds=2.0, vfr=True),
         "rot": make_video(d / "rot.mp4", seconds=1.0, rotation=90),
         "noface": make_video(d / "noface.webm", seconds=1.5, people=(), codec="libvpx"),
         "audio_only": audio_only(d / "audio_only.mp4")}
    (d / "empty.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("not a video at all\n")
    good = v["silent"].read_bytes()
    (d / "truncated.mp4").write_bytes(good[: len(good) * 6 // 10])
    fs = make_video(d / "fs.mp4", seconds=3.0, faststart=True).read_bytes()
    (d / "cut_midway.mp4").write_bytes(fs[: len(fs) * 6 // 10])
    v.update(empty=d / "empty.mp4", text=d / "text.mp4", truncated=d / "truncated.mp4", cut=d / "cut_midway.mp4", dir=d)
    return v


def test_frames_are_sampled_by_time_even_at_a_variable_rate(vids):
    info = decode.probe(vids["vfr"])
    assert info.has_audio is False and info.width == 320
    times = [t for t, _ in decode.frames(vids["vfr"], fps=5)]
    assert times[0] == 0.0 and len(times) == 10
    assert np.allclose(np.diff(times), 0.2, atol=0.051)  # gaps of 0.05 / 0.15 s: nearest frame at or after
    assert len(list(decode.frames(vids["silent"], fps=2))) == 4


def test_rotation_metadata_is_applied(vids):
    _, rgb = next(decode.frames(vids["rot"], fps=1))
    assert rgb.shape == (320, 240, 3)  # stored 320x240, shown turned by 90 degrees


@pytest.mark.parametrize("name, words", [("empty", "empty file"), ("text", "text file"),
                                          ("truncated", "truncated"), ("audio_only", "no video stream")])
def test_unusable_files_say_why(vids, name, words):
    with pytest.raises(InputError, match=words) as e:
        decode.probe(vids[name])
    assert str(vids[name]) in str(e.value)


def test_a_file_cut_midway_gives_what_it_holds_with_a_warning(vids):
    from affekt.core.registry import load_model

    rec = load_model("video-default").predict([str(vids["cut"])])[0]
    assert rec.ok and rec.tracks and any("truncated" in w or "stopped" in w for w in rec.warnings), rec.warnings
    assert rec.tracks[0]["segments"][-1]["end"] < 2.5


def test_audio_track_is_extracted_at_16k(vids, tmp_path):
    import soundfile as sf

    dur = decode.audio_to_wav(vids["pair"], tmp_path / "a.wav")
    assert dur == pytest.approx(4.56, abs=0.1)
    assert sf.info(tmp_path / "a.wav").samplerate == 16000
    assert decode.audio_to_wav(vids["silent"], tmp_path / "b.wav") is None


def test_smoothing_and_segments():
    t = np.arange(10) * 0.2
    P = np.tile([0.8, 0.2], (10, 1))
    P[4] = [0.1, 0.9]  # a one-frame blip
    S = smooth(t, P, "median", 1.0)
    assert (S.argmax(1) == 0).all() and np.allclose(S.sum(1), 1)
    assert smooth(t, P, "ema", 0.5)[4, 1] < 0.9
    segs = runs(t, P, ["a", "b"], 0.2, 2.0)
    assert [s["label"] for s in segs] == ["a", "b", "a"] and segs[-1]["end"] == 2.0
    with pytest.raises(InputError, match="smoothing"):
        smooth(t, P, "gaussian")


def test_late_fusion_weights_by_confidence_and_survives_a_missing_side():
    sure, unsure = np.array([0.9, 0.05, 0.05]), np.array([0.3, 0.4, 0.3])
    f = late_fuse([sure, unsure], [1.0, 1.0])
    assert f.argmax() == 0 and f[0] > (sure[0] + unsure[0]) / 2  # the hesitant side counts less
    assert np.allclose(late_fuse([None, unsure]), unsure)
    assert late_fuse([None, None]) is None
    assert confidence(np.full((1, 4), 0.25)).item() == 0
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    A = np.eye(3)[y] * 0.6 + 0.4 / 3
    B = np.full((300, 3), np.nan)
    B[::2] = np.eye(3)[(y[::2] + 1) % 3]  # a second modality that is present half the time and misleading
    fus = LearnedFusion().fit([A, B], y)
    assert (fus.predict_proba([A, B]).argmax(1) == y).mean() > 0.95


def test_predict_video_records_tracks_voice_and_fusion(vids, tmp_path):
    out = tmp_path / "out.jsonl"
    lst = tmp_path / "list.txt"
    names = ["pair.mp4", "silent.mp4", "noface.webm", "empty.mp4", "text.mp4", "truncated.mp4", "audio_only.mp4"]
    lst.write_text("\n".join(str(vids["dir"] / n) for n in names) + "\n")
    r = invoke(["predict", "--modality", "video", "--input", lst, "--output", out, "--fps", "4"], code=2)
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [rec["input"] for rec in recs] == [str(vids["dir"] / n) for n in names]
    pair, silent, noface = recs[:3]
    assert [tr["id"] for tr in pair["tracks"]] == [0, 1]
    for tr in pair["tracks"]:  # one track per person, the whole clip, no identity switch
        assert tr["segments"][0]["start"] == 0.0 and tr["segments"][-1]["end"] == pytest.approx(pair["duration"], abs=0.3)
        assert tr["time_on_screen"] == pytest.approx(pair["duration"], abs=0.5)
    assert pair["voice"]["segments"] and pair["voice"]["model"] == "speech-default"
    assert {s["from"] for s in pair["fused"]["segments"]} >= {"face+voice"}
    assert pair["label"] in pair["scores"] and abs(sum(pair["scores"].values()) - 1) < 1e-3
    assert silent["voice"] == {"segments": [], "note": "no audio stream"} and len(silent["tracks"]) == 1
    assert noface["tracks"] == [] and "no face" in " ".join(noface["warnings"])
    errors = {rec["input"].rsplit("/", 1)[-1]: rec["error"] for rec in recs[3:]}
    assert "empty file" in errors["empty.mp4"] and "text file" in errors["text.mp4"]
    assert "truncated" in errors["truncated.mp4"] and "no video stream" in errors["audio_only.mp4"]
    assert "4 of 7 items failed" in r.output


def test_analyze_video_prints_a_summary_and_writes_timelines(vids, tmp_path):
    r = invoke(["analyze", vids["pair"], "--timeline", tmp_path / "t.csv", "--timeline", tmp_path / "t.png",
                "--timeline", tmp_path / "t.jsonl"])
    assert "2 people tracked" in r.output and "person 0" in r.output and "person 1" in r.output
    assert "voice:" in r.output and "face + voice:" in r.output
    rows = (tmp_path / "t.csv").read_text().splitlines()
    assert rows[0].startswith("time,track,x,y,w,h,face_label") and len(rows) > 2 * 4 * 4
    first = json.loads((tmp_path / "t.jsonl").read_text().splitlines()[0])
    assert set(first) >= {"time", "track", "box", "face_scores", "voice_scores", "fused_label"}
    assert (tmp_path / "t.png").stat().st_size > 10_000
    invoke(["analyze", vids["pair"], "--fps", "0"], code=1)
    invoke(["analyze", str(EXAMPLE), "--fps", "2"], code=1)


def test_annotated_and_blurred_copies(vids, tmp_path):
    invoke(["analyze", vids["silent"], "--annotate", tmp_path / "a.mp4"])
    invoke(["analyze", vids["silent"], "--annotate", tmp_path / "b.mp4", "--blur-faces"])
    src = [f for _, f in decode.frames(vids["silent"], fps=2)]
    drawn = [f for _, f in decode.frames(tmp_path / "a.mp4", fps=2)]
    blurred = [f for _, f in decode.frames(tmp_path / "b.mp4", fps=2)]
    assert len(src) == len(drawn) == len(blurred) and decode.probe(tmp_path / "b.mp4").width == 320
    face = (slice(80, 160), slice(None))  # the band the face drifts along
    detail = [float(np.abs(np.diff(f[face].astype(float), axis=1)).mean()) for f in (src[1], blurred[1])]
    assert detail[1] < 0.6 * detail[0]  # the face is blurred
    assert np.abs(drawn[1].astype(int) - src[1].astype(int)).max() > 100  # a box was drawn
    invoke(["analyze", vids["silent"], "--blur-faces"], code=1)
    invoke(["analyze", vids["silent"], "--annotate", tmp_path / "a.png"], code=1)


def test_gru_family_trains_on_parts_of_videos_and_predicts(vids, tmp_path):
    csv = tmp_path / "parts.csv"
    rows = ["path,start,end,label,split"]
    for k, (a, b) in enumerate([(0, 1.5), (1.5, 3.0), (3.0, 4.5), (0.5, 2.5)]):
        rows.append(f"{vids['pair']},{a},{b},{'happiness' if k % 2 else 'neutral'},{'dev' if k == 3 else 'train'}")
    rows.append(f"{vids['silent']},0,2,neutral,train")
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "gru"
    invoke(["train", "--modality", "video", "--dataset", "csv", "--data-dir", csv, "--model", "gru",
            "-p", "epochs=3", "--output", out])
    lst = tmp_path / "in.txt"
    lst.write_text(f"{vids['silent']}\n{vids['noface']}\n")
    invoke(["predict", "--modality", "video", "--model", out, "--input", lst, "--output", tmp_path / "p.jsonl"], code=2)
    recs = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert recs[0]["label"] in ("happiness", "neutral") and set(recs[0]["scores"]) == {"happiness", "neutral"}
    assert "no face" in recs[1]["error"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"path,start,end,label\n{vids['pair']},2,1,neutral\n")
    r = invoke(["train", "--modality", "video", "--dataset", "csv", "--data-dir", bad, "--output", tmp_path / "x"], code=1)
    assert "start < end" in r.output


def test_a_time_range_on_the_command_line(vids, tmp_path):
    part = f"{vids['silent']}#t=0.5,1.5"
    r = invoke(["analyze", part, "--annotate", tmp_path / "part.mp4"])
    assert "0.5-1.5 s" in r.output
    assert decode.probe(tmp_path / "part.mp4").duration == pytest.approx(decode.probe(vids["silent"]).duration, abs=0.1)
    invoke(["predict", "--modality", "video", "--input", part, "--output", tmp_path / "o.jsonl"])
    rec = json.loads((tmp_path / "o.jsonl").read_text())
    assert rec["input"] == part and "error" not in rec
    segs = [s for tr in rec["tracks"] for s in tr["segments"]]
    assert segs and min(s["start"] for s in segs) >= 0.5 and max(s["end"] for s in segs) <= 1.5 + 1e-6
    r = invoke(["analyze", f"{vids['silent']}#t=1.5,0.5"], code=ITEMS_FAILED)
    assert "ends before it starts" in r.output
    r = invoke(["analyze", f"{vids['silent']}#t=abc"], code=ITEMS_FAILED)
    assert "written #t=START,END" in r.output
    r = invoke(["analyze", f"{vids['silent']}#t=9,12"], code=ITEMS_FAILED)
    assert "after the video's end" in r.output
    r = invoke(["analyze", f"{vids['dir']}/nothere.mp4#t=0,1"], code=1)
    assert "no such file" in r.output
    r = invoke(["analyze", f"{SPEECH}#t=0,1"], code=1)  # time ranges are for videos
    assert "no such file" in r.output


def test_time_ranges_and_prefetch(vids, tmp_path):
    assert decode.split_fragment("a.mp4#t=1.5,3") == ("a.mp4", 1.5, 3.0)
    assert decode.split_fragment("a.mp4") == ("a.mp4", 0.0, None)
    odd = tmp_path / "odd#t=1,2.mp4"
    odd.write_bytes(b"x")
    assert decode.split_fragment(str(odd)) == (str(odd), 0.0, None)  # a real file named so is taken as it is
    with pytest.raises(InputError, match="ends before it starts"):
        decode.split_fragment("a.mp4#t=3,1")
    times = [t for t, _ in decode.frames(vids["silent"], fps=5, start=0.5, end=1.2)]
    assert times == [0.5, 0.6, 0.8, 1.0]  # the range's first frame, then the 1/fps grid
    it = decode.prefetch(decode.frames(vids["silent"], fps=5), depth=2)
    first = next(it)
    it.close()  # stopping early stops the decoding thread
    assert first[0] == 0.0
    with pytest.raises(InputError):
        list(decode.prefetch(decode.frames(vids["text"], fps=5)))


@pytest.mark.parametrize("name,start,end", [("pair", 2.3, 3.4), ("vfr", 0.9, 1.9), ("noface", 0.7, 1.5)])
def test_a_late_start_seeks_and_reads_what_decoding_from_zero_reads(vids, tmp_path, monkeypatch, name, start, end):
    def read(seek_after):
        monkeypatch.setattr(decode, "SEEK_AFTER", seek_after)
        return [(t, rgb) for t, rgb in decode.frames(vids[name], fps=5, start=start, end=end)]

    seeked, whole = read(0.0), read(float("inf"))
    assert [t for t, _ in seeked] == [t for t, _ in whole] and seeked
    assert all(np.abs(a.astype(int) - b.astype(int)).mean() < 1.0 for (_, a), (_, b) in zip(seeked, whole))
    if name == "pair":  # the voice: the same samples either way
        import soundfile as sf

        out = {}
        for k, after in (("seek", 0.0), ("whole", float("inf"))):
            monkeypatch.setattr(decode, "SEEK_AFTER", after)
            decode.audio_to_wav(vids[name], tmp_path / f"{k}.wav", start=start, end=end)
            out[k] = sf.read(tmp_path / f"{k}.wav", dtype="float32")[0]
        n = min(len(out["seek"]), len(out["whole"]))
        assert abs(len(out["seek"]) - len(out["whole"])) <= 160 and n > 16000
        lag = [np.abs(out["seek"][:n - 400] - out["whole"][d:n - 400 + d]).mean() for d in range(0, 200, 1)]
        assert min(lag) < 0.01 and int(np.argmin(lag)) <= 40  # aligned within 2.5 ms


def test_a_video_without_faces_is_read_from_its_voice(tmp_path):
    import soundfile as sf

    from affekt.core.registry import load_model

    y, sr = sf.read(SPEECH, dtype="float32")
    v = make_video(tmp_path / "voice.mp4", people=(), seconds=len(y) / sr, audio=y, sr=sr)
    rec = load_model("video-default").predict([str(v)])[0]
    assert rec.tracks == [] and rec.voice["segments"] and rec.label
    assert {s["from"] for s in rec.fused["segments"]} == {"voice"}


def test_fusion_family_learns_from_labelled_clips(vids, tmp_path):
    csv = tmp_path / "av.csv"
    rows = ["path,start,end,label"] + [f"{vids['pair']},{a},{a + 1.5},{lab}" for a, lab in
                                       ((0, "happiness"), (1.5, "neutral"), (3.0, "happiness"))]
    rows += [f"{vids['silent']},0,2,neutral"]
    csv.write_text("\n".join(rows) + "\n")
    out = tmp_path / "fus"
    invoke(["train", "--modality", "video", "--dataset", "csv", "--data-dir", csv, "--model", "fusion", "--output", out])
    from affekt.core.registry import load_model

    m = load_model(out)
    F, V = m.parts([f"{vids['pair']}#t=0,1.5", str(vids["silent"])])
    assert not np.isnan(F).any() and not np.isnan(V[0]).any() and np.isnan(V[1]).all()  # silent: no voice
    recs = m.predict([str(vids["silent"]), str(vids["text"])], errors="record")
    assert recs[0].label in ("happiness", "neutral") and "text file" in recs[1].error


def test_clips_as_folders_of_frames(vids, tmp_path):
    from PIL import Image

    for k, (lab, src) in enumerate([("neutral", "silent"), ("neutral", "silent"), ("happiness", "pair"),
                                    ("happiness", "pair")]):
        d = tmp_path / "clips" / lab / f"c{k}"
        d.mkdir(parents=True)
        for i, (_, rgb) in enumerate(decode.frames(vids[src], fps=10, end=1.5)):
            Image.fromarray(rgb).save(d / f"{i:03d}.jpg")
    info = decode.probe(tmp_path / "clips" / "neutral" / "c0")
    assert info.fps == decode.FRAME_FOLDER_FPS and not info.has_audio
    invoke(["train", "--modality", "video", "--dataset", "folder", "--data-dir", tmp_path / "clips", "--model", "gru",
            "-p", "epochs=2", "--output", tmp_path / "m"])
    invoke(["predict", "--modality", "video", "--model", tmp_path / "m", "--input", tmp_path / "clips" / "neutral" / "c0",
            "--output", tmp_path / "o.jsonl"])
    rec = json.loads((tmp_path / "o.jsonl").read_text())
    assert rec["label"] in ("neutral", "happiness")
