"""affekt anonymize: faces blurred or pixelated in images and videos, metadata stripped, outputs
only where told, bad inputs named. Real faces: the bundled example photo and the tiny videos of
tests/video_helpers.py."""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import pytest

pytest.importorskip("av")
pytest.importorskip("ai_edge_litert")

from cli_helpers import invoke
from PIL import Image
from video_helpers import EXAMPLE, make_video

from affekt.core.errors import InputError
from affekt.face.images import load_image
from affekt.privacy import anonymize_image, anonymize_path, cover_faces, find_faces
from affekt.privacy.anonymize import link_tracks, plan, regions_at
from affekt.privacy.cover import region
from affekt.video import decode

ITEMS_FAILED = 2


def detail(a: np.ndarray) -> float:
    """Variance of the Laplacian of the grey image: how much fine detail (edges) it holds."""
    return float(_laplacian(a).var())


def kept(a: np.ndarray, b: np.ndarray) -> float:
    """How much of ``a``'s fine detail is still in ``b``: the correlation of their Laplacians (about
    1 for a re-encoded copy, about 0 when the detail is gone, whatever replaced it)."""
    la, lb = (_laplacian(x) for x in (a, b))
    return float(np.corrcoef(la.ravel(), lb.ravel())[0, 1]) if lb.std() > 0 else 0.0


def _laplacian(a: np.ndarray) -> np.ndarray:
    g = a.astype(np.float64).mean(axis=2)
    return g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]


@pytest.fixture(scope="module")
def face():
    rgb = load_image(EXAMPLE)
    faces = find_faces(rgb)
    assert len(faces) == 1
    return rgb, faces[0].box


@pytest.mark.parametrize("method", ["blur", "pixelate"])
def test_the_face_loses_its_detail_and_nothing_else_changes(face, method):
    rgb, (x, y, w, h) = face
    out = anonymize_image(EXAMPLE, method=method)
    assert out.shape == rgb.shape and out.dtype == np.uint8
    inner = (slice(y, y + h), slice(x, x + w))
    assert kept(rgb[inner], out[inner]) < 0.2
    if method == "blur":
        assert detail(out[inner]) < detail(rgb[inner]) / 10  # eyes, nose and mouth are gone
    else:  # a few blocks of one colour each: no detail finer than a block
        colours = len(np.unique(out[inner].reshape(-1, 3), axis=0))
        assert colours <= 12 * 12 < len(np.unique(rgb[inner].reshape(-1, 3), axis=0)) / 20
    x0, y0, x1, y1 = region((x, y, w, h), rgb.shape[1], rgb.shape[0], 0.25)
    outside = np.ones(rgb.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert np.array_equal(out[outside], rgb[outside])  # not one pixel outside the enlarged box
    assert np.abs(out[inner].astype(int) - rgb[inner].astype(int)).mean() > 10
    if method == "pixelate":  # blocks of one colour, about 8 across the face
        row = out[y + h // 2, x0:x1]
        runs = 1 + np.count_nonzero(np.any(row[1:] != row[:-1], axis=1))
        assert 8 <= runs <= 16
    # the primitive on its own: a copy, the same result
    assert np.array_equal(cover_faces(rgb, [(x, y, w, h)], method=method), out)


def _exif_jpeg(path):
    """The example, cropped to a landscape picture, stored on its side with EXIF orientation 6
    (shown turned 90 degrees clockwise), a camera, a GPS position and a comment."""
    from PIL.ExifTags import IFD

    im = Image.open(EXAMPLE).convert("RGB").crop((40, 0, 472, 320))  # 432 x 320, the face inside
    stored = im.transpose(Image.Transpose.ROTATE_90)  # what a camera on its side stores
    ex = Image.Exif()
    ex[0x0112] = 6
    ex[0x010F], ex[0x0110] = "Canon", "EOS 5D"
    ex.get_ifd(IFD.GPSInfo).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    stored.save(path, exif=ex.tobytes(), comment=b"Alice, 12 Rue X", quality=95)
    return path


def test_an_image_keeps_its_format_loses_its_metadata_and_is_shown_upright(tmp_path):
    src = _exif_jpeg(tmp_path / "photo.jpg")
    shown = load_image(src)  # EXIF orientation applied
    out = tmp_path / "out" / "photo.jpg"
    r = invoke(["anonymize", src, "--output", out])
    assert "1 face blurred" in r.output
    with Image.open(out) as im:
        assert im.format == "JPEG" and im.size == (shown.shape[1], shown.shape[0])
        assert len(im.getexif()) == 0 and "exif" not in im.info and "comment" not in im.info
        assert not any(k.startswith(("xmp", "XML", "photoshop")) for k in im.info)
        got = np.asarray(im.convert("RGB"))
    assert Image.open(src).getexif()[0x0112] == 6  # the input is untouched
    faces = find_faces(shown)
    x, y, w, h = faces[0].box
    assert detail(got[y:y + h, x:x + w]) < detail(shown[y:y + h, x:x + w]) / 10
    x0, y0, x1, y1 = region((x, y, w, h), got.shape[1], got.shape[0], 0.25)
    keep = np.ones(got.shape[:2], bool)
    keep[max(0, y0 - 8):y1 + 8, max(0, x0 - 8):x1 + 8] = False  # JPEG blocks at the border may shift
    assert np.abs(got[keep].astype(int) - shown[keep].astype(int)).mean() < 2.0  # re-encoding noise only
    # a PNG written as PNG, pixel-exact outside the face; a folder output for a single file
    png = tmp_path / "face.png"
    Image.open(EXAMPLE).save(png)
    invoke(["anonymize", png, "--output", tmp_path / "pngs", "--method", "pixelate"])
    with Image.open(tmp_path / "pngs" / "face.png") as im:
        assert im.format == "PNG"


def test_transparency_and_grey_are_kept_and_animations_refused(tmp_path):
    im = Image.open(EXAMPLE).convert("RGBA")
    alpha = np.full((im.height, im.width), 255, np.uint8)
    alpha[:, :40] = 0  # a transparent strip
    im.putalpha(Image.fromarray(alpha))
    d = tmp_path / "in"
    d.mkdir()
    im.save(d / "cut.png")
    Image.open(EXAMPLE).convert("L").save(d / "grey.jpg")
    frames = [Image.open(EXAMPLE).convert("RGB"), Image.open(EXAMPLE).convert("RGB").rotate(10)]
    frames[0].save(d / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    r = invoke(["anonymize", d, "-o", tmp_path / "out"], code=ITEMS_FAILED)
    assert "anim.gif': 2 frames or pages; anonymize writes still images only" in r.output
    with Image.open(tmp_path / "out" / "cut.png") as out:
        assert out.mode == "RGBA" and np.array_equal(np.asarray(out.getchannel("A")), alpha)
    with Image.open(tmp_path / "out" / "grey.jpg") as out:
        assert out.mode == "L"
    assert not (tmp_path / "out" / "anim.gif").exists()


def _folder(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    Image.open(EXAMPLE).save(d / "face.jpg")
    Image.fromarray(np.full((120, 160, 3), (90, 140, 200), np.uint8)).save(d / "sub" / "sky.png")
    return d


def test_a_folder_without_and_with_strict(tmp_path):
    d = _folder(tmp_path)
    out = tmp_path / "out"
    r = invoke(["anonymize", d, "-o", out, "--report", tmp_path / "r.jsonl"])
    assert "no face found" in r.output and "1 without a face found" in r.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["face.jpg", "sub/sky.png"]
    assert np.array_equal(np.asarray(Image.open(out / "sub" / "sky.png")), np.asarray(Image.open(d / "sub" / "sky.png")))
    recs = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert [(x["faces"], x["written"]) for x in recs] == [(1, True), (0, True)] and "warnings" in recs[1]

    strict = tmp_path / "strict"
    r = invoke(["anonymize", d, "-o", strict, "--strict"], code=ITEMS_FAILED)
    assert "sky.png': no face found (--strict: not written)" in r.output
    assert "1 failed and not written, 1 of them for no face (--strict)" in r.output
    assert [p.name for p in strict.rglob("*") if p.is_file()] == ["face.jpg"]


def test_bad_inputs_are_named_and_the_rest_goes_on(tmp_path):
    d = _folder(tmp_path)
    (d / "notes.jpg").write_text("meeting notes, not a picture\n")
    good = (d / "face.jpg").read_bytes()
    (d / "cut.jpg").write_bytes(good[: len(good) // 2])
    (d / "clip.mp4").write_text("not a video either\n")
    lst = tmp_path / "list.txt"
    lst.write_text(f"in/face.jpg\nin/missing.png\n{d / 'notes.jpg'}\nin/cut.jpg\nin/clip.mp4\n")
    out = tmp_path / "out"
    r = invoke(["anonymize", lst, "-o", out], code=ITEMS_FAILED)
    lines = r.output.splitlines()
    assert any("missing.png': no such file" in x for x in lines)
    assert any("notes.jpg': not an image PIL can read" in x and "text file" in x for x in lines)
    assert any("cut.jpg': truncated or corrupt image" in x for x in lines)
    assert any("clip.mp4': a text file, not a video" in x for x in lines)
    assert "anonymized 1 of 5 inputs" in r.output and "4 failed" in r.output
    assert [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()] == ["in/face.jpg"]
    r = invoke(["anonymize", tmp_path / "nowhere.jpg", "-o", out], code=1)
    assert "input '" in r.output and "does not exist" in r.output
    r = invoke(["anonymize", d / "notes.jpg", "-o", tmp_path / "n.jpg"], code=ITEMS_FAILED)
    assert "not an image PIL can read" in r.output and not (tmp_path / "n.jpg").exists()
    invoke(["anonymize", d, "-o", tmp_path / "x", "--method", "smudge"], code=1)
    invoke(["anonymize", d, "-o", tmp_path / "x", "--fps", "5", "--every-frame"], code=1)
    invoke(["anonymize", d / "face.jpg", "-o", tmp_path / "face.mp4"], code=1)  # an image is not written as a video


def test_an_output_that_is_an_input_is_refused(tmp_path):
    d = _folder(tmp_path)
    before = (d / "face.jpg").read_bytes()
    r = invoke(["anonymize", d / "face.jpg", "-o", d / "face.jpg"], code=1)
    assert "never overwrites its inputs" in r.output
    r = invoke(["anonymize", d / "face.jpg", "-o", d], code=1)  # a folder output: the same file again
    assert "never overwrites its inputs" in r.output
    r = invoke(["anonymize", d, "-o", d], code=1)
    assert "outside the input" in r.output
    invoke(["anonymize", d, "-o", d / "sub" / "anon"], code=1)
    lst = d / "list.txt"
    lst.write_text("face.jpg\n")
    invoke(["anonymize", lst, "-o", d], code=1)
    assert (d / "face.jpg").read_bytes() == before
    with pytest.raises(InputError):
        plan(d / "face.jpg", (d / "sub" / ".." / "face.jpg"))


def test_lists_never_write_outside_the_output(tmp_path):
    d = _folder(tmp_path)
    other = tmp_path / "elsewhere"
    other.mkdir()
    Image.open(EXAMPLE).save(other / "face.jpg")
    lst = d / "list.txt"
    lst.write_text(f"face.jpg\n../elsewhere/face.jpg\n{other / 'face.jpg'}\n")
    jobs = plan(lst, tmp_path / "out")
    assert [j.dst.relative_to(tmp_path / "out").as_posix() for j in jobs] == ["face.jpg", "face-2.jpg", "face-3.jpg"]


def test_interpolation_and_hold_between_the_frames_looked_at():
    # a face moving 40 px per 0.2 s, seen at 0, 0.2 and 0.6 (missed at 0.4)
    samples = [(t, np.array([[100 + 200 * t, 50, 60, 60]])) for t in (0.0, 0.2, 0.6)]
    tracks = link_tracks(samples)
    assert len(tracks) == 1 and len(tracks[0]) == 3
    for t in np.arange(-0.4, 1.2, 0.04):
        truth = (100 + 200 * t, 50, 60, 60)
        regs = regions_at(tracks, float(t), hold=0.5)
        if -0.5 < t < 1.1:
            (box, pad, _side), = regs
            x0, y0, x1, y1 = region(box, 10_000, 10_000, 0.25, pad)
            assert x0 <= truth[0] and truth[0] + 60 <= x1 and y0 <= 50 and 110 <= y1, t
        else:
            assert not regs
    # two people far apart stay two tracks
    two = [(t, np.array([[10, 10, 50, 50], [400, 10, 50, 50]])) for t in (0.0, 0.1, 0.2)]
    assert len(link_tracks(two)) == 2


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    """A 2-s video of the example face drifting, with speech, and a location and title in its
    container metadata."""
    import av
    import soundfile as sf

    d = tmp_path_factory.mktemp("anon_video")
    y, sr = sf.read(EXAMPLE.with_name("speech.wav"), dtype="float32")
    src = make_video(d / "plain.mp4", seconds=2.0, audio=y[: 2 * sr], sr=sr)
    out = d / "talk.mp4"
    with av.open(str(src)) as i, av.open(str(out), "w") as o:
        o.metadata["location"] = "+48.8584+002.2945/"
        o.metadata["title"] = "Alice at home"
        streams = {s.index: o.add_stream_from_template(s) for s in i.streams}
        for p in i.demux():
            if p.dts is not None:
                p.stream = streams[p.stream.index]
                o.mux(p)
    return out


def _face_band(i: int, n: int = 20, w: int = 320, h: int = 240, side: int = 110):
    """Where make_video put the face on frame i (the crop's inner part: the face itself)."""
    x = int((w - side) * (0.2 + 0.6 * i / (n - 1)))
    y = (h - side) // 2
    m = side // 5
    return slice(y + m, y + side - m), slice(x + m, x + side - m)


@pytest.mark.parametrize("opts", [[], ["--fps", "3", "--method", "pixelate"]])
def test_a_video_has_the_face_covered_on_every_frame_and_keeps_its_sound(talk, tmp_path, opts):
    import av

    out = tmp_path / "anon.mp4"
    r = invoke(["anonymize", talk, "-o", out, *opts])
    assert "1 face" in r.output and "on 20 of 20 frames" in r.output
    src = [f for _, f in decode.frames(talk, fps=1000)]
    got = [f for _, f in decode.frames(out, fps=1000)]
    assert len(src) == len(got) == 20
    for i, (a, b) in enumerate(zip(src, got)):
        band = _face_band(i)
        assert kept(a[band], b[band]) < 0.2, (i, kept(a[band], b[band]))
        bg = np.ones(a.shape[:2], bool)
        bg[20:220, :] = False  # the rows the face and its enlarged box can reach
        assert np.abs(b[bg].astype(int) - a[bg].astype(int)).mean() < 3  # the background: re-encoding only
    with av.open(str(out)) as c:
        assert "location" not in c.metadata and "title" not in c.metadata
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert c.streams.audio[0].codec_context.name == "aac"
    info = decode.probe(out)
    assert info.has_audio and abs(info.duration - decode.probe(talk).duration) < 0.15
    invoke(["anonymize", talk, "-o", tmp_path / "mute.mkv", "--no-audio"])
    assert not decode.probe(tmp_path / "mute.mkv").has_audio


def test_a_video_without_a_face(tmp_path):
    src = make_video(tmp_path / "empty_room.mp4", seconds=1.0, people=())
    r = invoke(["anonymize", src, "-o", tmp_path / "a.mp4", "--strict"], code=ITEMS_FAILED)
    assert "no face found on 10 frames looked at (--strict: not written)" in r.output
    assert not (tmp_path / "a.mp4").exists() and not list(tmp_path.glob(".*part*"))
    r = anonymize_path(src, tmp_path / "b.mp4")
    assert r.written and r.faces == 0 and r.frames == 10 and "written uncovered" in r.warnings[0]


def test_nothing_is_written_anywhere_but_the_output(tmp_path, monkeypatch, talk):
    d = _folder(tmp_path)
    (d / "talk.mp4").write_bytes(talk.read_bytes())
    spots = {name: tmp_path / name for name in ("tmp", "cache", "home", "affekt_home")}
    for p in spots.values():
        p.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spots["tmp"]))
    for var, p in (("TMPDIR", "tmp"), ("XDG_CACHE_HOME", "cache"), ("HOME", "home"), ("AFFEKT_HOME", "affekt_home")):
        monkeypatch.setenv(var, str(spots[p]))
    monkeypatch.delenv("AFFEKT_CACHE", raising=False)
    before = {p: p.stat().st_mtime_ns for p in d.rglob("*")}
    out = tmp_path / "out"
    invoke(["anonymize", d, "-o", out, "--report", tmp_path / "r.jsonl"])
    for name, p in spots.items():
        assert not any(p.rglob("*")), name
    assert {p: p.stat().st_mtime_ns for p in d.rglob("*")} == before
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["face.jpg", "sub", "sub/sky.png",
                                                                            "talk.mp4"]
    assert set(os.listdir(tmp_path)) == {"in", "out", "r.jsonl", *spots}
