"""affekt.face.images: every kind of image (and of bad input) the face modality reads.

All fixtures are made here with Pillow / numpy (no ../shared data)."""
from __future__ import annotations

import io
import resource
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from affekt.core.errors import InputError
from affekt.face import images as fi
from affekt.face.images import ImageError, load_image, load_image_checked, to_grey


def _noise(h, w, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _save(im: Image.Image, path, **kw):
    im.save(path, **kw)
    return path


# ------------------------------------------------------------------------------ good inputs
def test_rgb_jpeg_every_input_kind(tmp_path):
    rgb = _noise(40, 60)
    p = _save(Image.fromarray(rgb), tmp_path / "a.png")
    a = load_image(p)
    assert a.shape == (40, 60, 3) and a.dtype == np.uint8 and a.flags.c_contiguous
    assert np.array_equal(a, rgb)
    assert np.array_equal(load_image(str(p)), rgb)
    assert np.array_equal(load_image(p.read_bytes()), rgb)
    with open(p, "rb") as fh:
        assert np.array_equal(load_image(fh), rgb)
    with Image.open(p) as im:
        assert np.array_equal(load_image(im), rgb)
    j = _save(Image.fromarray(rgb), tmp_path / "a.jpg", quality=95)
    assert load_image(j).shape == (40, 60, 3)


def test_suffixes_are_the_datasets_ones():
    from affekt.datasets import faces

    assert fi.IMAGE_SUFFIXES == faces.IMAGE_SUFFIXES
    assert {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm"} == set(fi.IMAGE_SUFFIXES)


def test_errors_are_input_errors():
    assert issubclass(ImageError, InputError) and issubclass(ImageError, ValueError)


def test_exif_orientation_6_is_applied(tmp_path):
    rgb = np.zeros((32, 64, 3), np.uint8)  # stored 64 wide, 32 high
    rgb[:8, :8] = (255, 0, 0)  # red mark at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    p = _save(Image.fromarray(rgb), tmp_path / "rot.jpg", exif=exif, quality=95)
    a = load_image(p)
    assert a.shape == (64, 32, 3)  # transposed
    assert a[:6, -6:, 0].mean() > 200 and a[:6, :6, 0].mean() < 50  # the mark is now top-right


def test_cmyk_jpeg(tmp_path):
    p = _save(Image.new("CMYK", (32, 32), (0, 255, 255, 0)), tmp_path / "cmyk.jpg", quality=95)  # red in CMYK
    with Image.open(p) as im:
        assert im.mode == "CMYK"
    a = load_image(p)
    assert a.shape == (32, 32, 3)
    r, g, b = a.reshape(-1, 3).mean(0)
    assert r > 200 and g < 60 and b < 60


def test_16bit_png_is_scaled_not_clipped(tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 256).round().astype(np.uint16), (16, 1))
    p = _save(Image.fromarray(ramp), tmp_path / "g16.png")
    with Image.open(p) as im:
        assert im.mode.startswith("I")
    a = load_image(p)
    assert a.shape == (16, 256, 3)
    expect = ((ramp.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    assert np.array_equal(a[..., 0], expect) and np.array_equal(a[..., 1], expect)
    assert a[0, 0, 0] == 0 and a[0, -1, 0] == 255 and a[0, 128, 0] in (127, 128)
    assert np.all(np.diff(a[0, :, 0].astype(int)) >= 0)  # a ramp, not a step to 255


def test_palette_png_with_transparency(tmp_path):
    im = Image.new("P", (16, 16), 0)
    im.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    im.paste(1, (0, 0, 8, 16))  # left half red (index 1), right half index 0 = transparent
    p = _save(im, tmp_path / "pal.png", transparency=0)
    a = load_image(p)
    assert tuple(a[4, 2]) == (255, 0, 0)
    assert tuple(a[4, 12]) == (255, 255, 255)  # transparent -> white
    q = _save(im, tmp_path / "pal_opaque.png")
    assert tuple(load_image(q)[4, 12]) == (0, 0, 0)


def test_la_and_rgba_png_composited_on_white(tmp_path):
    la = np.zeros((16, 16, 2), np.uint8)
    la[..., 1] = 0
    la[:, :8, 1] = 255  # left opaque black, right fully transparent
    p = _save(Image.fromarray(la, "LA"), tmp_path / "la.png")
    a = load_image(p)
    assert tuple(a[3, 2]) == (0, 0, 0) and tuple(a[3, 12]) == (255, 255, 255)
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 2] = 255
    rgba[..., 3] = 128  # half-transparent blue
    q = _save(Image.fromarray(rgba, "RGBA"), tmp_path / "rgba.png")
    b = load_image(q)
    assert abs(int(b[0, 0, 0]) - 127) <= 2 and b[0, 0, 2] == 255


def test_one_bit_and_grey(tmp_path):
    p = _save(Image.new("1", (16, 16), 1), tmp_path / "bw.png")
    assert load_image(p).min() == 255
    q = _save(Image.new("L", (16, 16), 77), tmp_path / "g.pgm")
    assert np.all(load_image(q) == 77)


def test_animated_gif_first_frame_with_warning(tmp_path):
    frames = [Image.new("RGB", (24, 24), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    p = tmp_path / "anim.gif"
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=50, loop=0)
    a, warns = load_image_checked(p)
    assert warns == ["animated GIF: 3 frames, the first was used"]
    assert a[5, 5, 0] > 200 and a[5, 5, 1] < 50
    assert load_image(p).shape == (24, 24, 3)
    still = _save(frames[1], tmp_path / "still.gif")
    assert load_image_checked(still)[1] == []


def test_apng_warns(tmp_path):
    frames = [Image.new("RGB", (16, 16), c) for c in ((9, 9, 9), (200, 200, 200))]
    p = tmp_path / "anim.png"
    frames[0].save(p, save_all=True, append_images=frames[1:])
    a, warns = load_image_checked(p)
    assert warns and "animated PNG" in warns[0] and "2 frames" in warns[0]
    assert a[0, 0, 0] == 9


def test_max_side_png_and_jpeg_draft(tmp_path):
    p = _save(Image.fromarray(_noise(200, 400)), tmp_path / "w.png")
    assert load_image(p, max_side=100).shape == (50, 100, 3)
    assert load_image(p, max_side=1000).shape == (200, 400, 3)  # never enlarged
    big = Image.new("RGB", (1600, 800), (10, 200, 30))
    j = _save(big, tmp_path / "big.jpg", quality=90)
    a, warns = load_image_checked(j, max_side=150)
    assert a.shape == (75, 150, 3) and warns == []
    assert abs(int(a[30, 70, 1]) - 200) < 8
    with pytest.raises(ImageError, match="max_side"):
        load_image(j, max_side=0)


def test_jpeg_over_the_limit_is_decoded_at_reduced_scale(tmp_path):
    j = _save(Image.new("RGB", (2000, 1000), (120, 60, 30)), tmp_path / "big.jpg")
    a, warns = load_image_checked(j, max_pixels=600_000)
    assert a.shape == (500, 1000, 3)  # 1/2 scale
    assert len(warns) == 1 and "2000x1000" in warns[0] and "1/2 scale" in warns[0]


def test_pil_bomb_limit_is_respected_and_not_changed(tmp_path, monkeypatch):
    j = _save(Image.new("RGB", (2000, 2000), (1, 2, 3)), tmp_path / "bomb.jpg")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400_000)  # Image.open now raises DecompressionBombError
    with pytest.raises(Image.DecompressionBombError):
        Image.open(j)
    a, warns = load_image_checked(j)  # reopened header-only, drafted under PIL's own limit
    assert a.shape[0] * a.shape[1] <= 400_000 and a.shape == (500, 500, 3) and warns
    p = _save(Image.new("L", (1000, 1000)), tmp_path / "bomb.png")
    with pytest.raises(ImageError, match="1000x1000"):
        load_image(p)
    assert Image.MAX_IMAGE_PIXELS == 400_000


def _flat_png(path, w, h):
    """A valid w x h 1-bit grey PNG written without ever holding its pixels (small on disk)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\x00" * ((w + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(h)) + comp.flush()
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 0, 0, 0, 0))
                     + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def test_huge_png_is_refused_fast_without_decoding(tmp_path):
    p = _flat_png(tmp_path / "huge.png", 20000, 20000)
    assert p.stat().st_size < 2_000_000
    with Image.open(io.BytesIO(_flat_png(tmp_path / "small.png", 64, 48).read_bytes())) as im:
        im.load()  # the writer makes valid PNGs
        assert im.size == (64, 48)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    with pytest.raises(ImageError) as err:
        load_image(p)
    assert time.perf_counter() - t0 < 2.0
    assert "20000x20000" in str(err.value) and "limit" in str(err.value) and str(p) in str(err.value)
    with pytest.raises(ImageError, match="20000x20000"):
        load_image(p, max_side=512)  # a PNG cannot be decoded at reduced scale
    grew_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    assert grew_kib < 200_000  # decoding it would take 400 MB at least


def test_pil_bomb_warning_range_is_refused_quietly_and_filters_are_kept(tmp_path):
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    p = _flat_png(tmp_path / "warn.png", 11000, 11000)  # 121 MP: Pillow warns (over 89 MP), we refuse
    ok = _save(Image.fromarray(_noise(20, 20)), tmp_path / "ok.png")
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning leaking out would fail here
        with pytest.raises(ImageError, match="11000x11000"):
            load_image(p)

        def one(x):
            try:
                return load_image(x).shape
            except ImageError as exc:
                return str(exc)

        with ThreadPoolExecutor(4) as ex:
            out = list(ex.map(one, [p, ok] * 8))
    assert all(o == (20, 20, 3) for o in out[1::2]) and all("11000x11000" in o for o in out[::2])
    assert list(warnings.filters) == before


# ------------------------------------------------------------------------------ bad inputs
def test_text_file_named_jpg(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("this is not an image\n")
    with pytest.raises(ImageError, match="not an image PIL can read") as err:
        load_image(p)
    assert "notes.jpg" in str(err.value) and "text" in str(err.value)
    with pytest.raises(ImageError, match="not an image PIL can read"):
        load_image(b"\x00\x01\x02 garbage bytes" * 10)


def test_truncated_jpeg_and_png(tmp_path):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False  # affekt never turns it on
    good = _save(Image.fromarray(_noise(128, 128)), tmp_path / "good.jpg", quality=90)
    data = good.read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with pytest.raises(ImageError, match="truncated or corrupt") as err:
        load_image(cut)
    assert "cut.jpg" in str(err.value)
    png = _save(Image.fromarray(_noise(128, 128)), tmp_path / "good.png").read_bytes()
    cutp = tmp_path / "cut.png"
    cutp.write_bytes(png[: len(png) // 2])
    with pytest.raises(ImageError, match="truncated or corrupt"):
        load_image(cutp)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_tiny_images(tmp_path):
    p = _save(Image.new("RGB", (1, 1)), tmp_path / "dot.png")
    with pytest.raises(ImageError, match="1x1 pixels, too small") as err:
        load_image(p)
    assert "8 px" in str(err.value)
    q = _save(Image.new("RGB", (4, 30)), tmp_path / "thin.png")
    with pytest.raises(ImageError, match="4x30"):
        load_image(q)
    assert load_image(q, min_side=2).shape == (30, 4, 3)
    with pytest.raises(ImageError, match="too small"):
        load_image(np.zeros((1, 1, 3), np.uint8))


def test_missing_empty_and_folder(tmp_path):
    with pytest.raises(ImageError, match="no such file"):
        load_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="is a folder"):
        load_image(tmp_path)
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match="empty file"):
        load_image(tmp_path / "empty.png")
    with pytest.raises(ImageError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageError, match="expected an image"):
        load_image(42)


def test_name_is_used_in_messages(tmp_path):
    with pytest.raises(ImageError, match="'photo 3'"):
        load_image(tmp_path / "x.jpg", name="photo 3")
    with pytest.raises(ImageError, match="item 7"):
        load_image(np.zeros((2, 2)), name="item 7")


# ------------------------------------------------------------------------------ arrays
def test_arrays():
    g = np.full((10, 12), 50, np.uint8)
    a = load_image(g)
    assert a.shape == (10, 12, 3) and np.all(a == 50)
    assert load_image(g[..., None]).shape == (10, 12, 3)
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 3] = 0
    assert np.all(load_image(rgba) == 255)  # fully transparent -> white
    rgba[..., 3] = 255
    assert np.all(load_image(rgba) == 0)
    u16 = np.full((10, 10), 65535, np.uint16)
    assert np.all(load_image(u16) == 255)
    assert np.all(load_image(np.full((10, 10), 0.5, np.float32)) == 128)
    assert np.all(load_image(np.full((10, 10, 3), 200, np.int64)) == 200)
    assert np.all(load_image(np.ones((10, 10), bool)) == 255)
    img, warns = load_image_checked(np.linspace(-1, 1, 100).reshape(10, 10))
    assert img.min() == 0 and img.max() == 255 and warns and "rescaled" in warns[0]
    assert load_image(np.zeros((100, 50), np.uint8), max_side=20).shape == (20, 10, 3)
    f = np.zeros((20, 30, 3), np.uint8)[:, ::-1]  # a non-contiguous view
    assert load_image(f).flags.c_contiguous


@pytest.mark.parametrize("bad, what", [
    (np.zeros((10, 10, 2), np.uint8), "shape"),
    (np.zeros((10,), np.uint8), "shape"),
    (np.full((10, 10), np.nan), "NaN"),
    (np.full((10, 10), 300, np.int32), "0..255"),
    (np.zeros((10, 10), complex), "not an image"),
])
def test_bad_arrays(bad, what):
    with pytest.raises(ImageError, match=what):
        load_image(bad)


def test_to_grey_matches_pillow():
    rgb = _noise(33, 47, seed=3)
    assert np.array_equal(to_grey(rgb), np.asarray(Image.fromarray(rgb).convert("L")))
    g = np.zeros((4, 4), np.uint8)
    assert to_grey(g) is g
    with pytest.raises(ImageError):
        to_grey(rgb.astype(np.float32))
