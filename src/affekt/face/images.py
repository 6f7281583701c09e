"""Reading images for the face modality: anything Pillow decodes -> RGB uint8 (H, W, 3).

:func:`load_image_checked` takes a path, bytes, a file object, a PIL image or a numpy array and
returns a C-contiguous RGB uint8 array with the EXIF orientation applied, plus a list of
per-item warnings (an animated GIF of which only the first frame was used...).
:func:`load_image` is the same without the warnings.

What it converts, and how:

- grey, 1-bit, palette, CMYK, YCbCr... -> RGB through Pillow;
- 16-bit grey (``I;16``, ``I`` with values in 0..65535) and uint16 arrays are *scaled* to
  8 bit (``v * 255 / 65535``, rounded), never clipped as ``Image.convert("L")`` does;
  32-bit integer and float images outside those ranges are min-max scaled, with a warning;
- transparency (``RGBA``, ``LA``, ``PA``, a palette or grey image with a transparent colour) is
  composited on **white**: a transparent pixel is shown the way web pages and viewers show it,
  and a cut-out face keeps its edges against a plain background;
- animated GIF / WebP / APNG and multi-page TIFF: the first frame, with a warning naming the count.

What it refuses (:class:`ImageError`, an :class:`~affekt.core.errors.InputError` whose message
names the item and the problem in plain words): a missing path, a folder, an empty file, a file
Pillow cannot identify ("not an image PIL can read"), a truncated or corrupt file, an image whose
smaller side is under ``min_side`` (default :data:`MIN_SIDE` = 8 px), and an image of more than
``max_pixels`` (default :data:`MAX_PIXELS`, 64 megapixels; never more than Pillow's own
``Image.MAX_IMAGE_PIXELS``) that cannot be reduced while decoding.

Memory: the size is read from the header and checked **before** any pixel is decoded. A JPEG
over the limit (or larger than ``max_side``) is decoded at 1/2, 1/4 or 1/8 scale through Pillow's
``draft()`` (the DCT scaling of libjpeg), so a 20000 x 20000 JPEG never exists in memory at full
size; other formats over the limit are refused. Pillow's global decompression-bomb limit is not
changed: a DecompressionBombWarning is turned into an error only around this module's header-only
``Image.open`` (under a lock, as ``warnings.catch_warnings`` is process-wide), and an image Pillow
calls a bomb is reopened header-only, to be drafted or refused by the checks above.

Truncated files are detected by forcing ``load()``; that relies on
``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` being False, Pillow's default, which affekt never changes.
"""
from __future__ import annotations

import io
import os
import struct
import threading
import warnings
import zlib
from pathlib import Path

import numpy as np

from affekt.core.errors import InputError
from affekt.datasets.faces import IMAGE_SUFFIXES

__all__ = ["IMAGE_SUFFIXES", "MAX_PIXELS", "MIN_SIDE", "ImageError", "load_image", "load_image_checked", "to_grey"]

MAX_PIXELS = 64_000_000  # an image with more pixels than this is reduced while decoding (JPEG) or refused
MIN_SIDE = 8  # an image whose smaller side is below this many pixels is refused
WHITE = (255, 255, 255)  # what transparent pixels are composited on
_WARNINGS_LOCK = threading.Lock()
_ANIMATED = {"GIF": "animated GIF", "WEBP": "animated WebP", "PNG": "animated PNG (APNG)",
             "TIFF": "multi-page TIFF"}


class ImageError(InputError):
    """An image file or array cannot be used; the message says which and why."""


# ----------------------------------------------------------------------------- helpers
def _pil():
    from affekt.core.errors import require

    return require("PIL.Image", "face")


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.0f} megapixels" if pixels >= 1e6 else f"{pixels} pixels"


def _limit(pixels: int) -> str:
    return f"{pixels / 1e6:g}-megapixel" if pixels >= 1e6 else f"{pixels}-pixel"


def _size_text(w: int, h: int) -> str:
    return f"{w}x{h} pixels ({_mp(w * h)})" if w * h >= 1e6 else f"{w}x{h} pixels"


def _pixel_limit(max_pixels: int | None) -> int:
    Image = _pil()
    limit = MAX_PIXELS if max_pixels is None else int(max_pixels)
    if Image.MAX_IMAGE_PIXELS:  # never allow more than Pillow's own global protection
        limit = min(limit, int(Image.MAX_IMAGE_PIXELS))
    return limit


def _sniff(head: bytes) -> str:
    """A hint about what a file Pillow cannot identify really is."""
    if not head:
        return ""
    if head[4:8] == b"ftyp":
        return "an HEIF/AVIF/MP4 container, which Pillow does not read without a plugin (pillow-heif)"
    if head[:5] in (b"%PDF-",):
        return "it is a PDF document"
    try:
        head.decode("utf-8")
        return "it looks like a text file"
    except UnicodeDecodeError:
        return "the content is not a known image format"


def _open_header_only(fp, filename: str):
    """Open ``fp`` as Pillow's ``Image.open`` does, but without its decompression-bomb check:
    used only for files Pillow refused as bombs, to read their size (and draft a JPEG). Nothing
    is decoded here; the caller checks the size before ``load()``."""
    Image = _pil()
    Image.init()
    fp.seek(0)
    prefix = fp.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        ok = not accept or accept(prefix)
        if not ok or isinstance(ok, str):
            continue
        fp.seek(0)
        try:
            return factory(fp, filename)
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue
    return None


def _bomb_size(exc: Exception) -> str:
    import re

    m = re.search(r"\((\d+) pixels\)", str(exc))
    return _mp(int(m.group(1))) if m else "too many pixels"


# ----------------------------------------------------------------------------- public
def load_image(x, *, max_side: int | None = None, name: str | None = None, min_side: int = MIN_SIDE,
               max_pixels: int | None = None) -> np.ndarray:
    """``x`` (a path, bytes, a file object, a PIL image or a numpy array) as an RGB uint8 array
    (H, W, 3), C-contiguous, EXIF orientation applied; see :func:`load_image_checked`."""
    return load_image_checked(x, max_side=max_side, name=name, min_side=min_side, max_pixels=max_pixels)[0]


def load_image_checked(x, *, max_side: int | None = None, name: str | None = None, min_side: int = MIN_SIDE,
                       max_pixels: int | None = None) -> tuple[np.ndarray, list[str]]:
    """Read one image; return ``(rgb, warnings)``.

    ``x``: a path (str / PathLike), ``bytes``, a binary file object, a PIL image, or a numpy
    array (H, W) grey, (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA, of uint8, uint16, bool, another
    integer type holding 0..255, or float in [0, 1].
    ``max_side``: when given and the image is larger, it is reduced (aspect kept) so its longer side
    is ``max_side`` (a JPEG is decoded at reduced scale first). ``name``: how messages name the item
    (default: the path, or "image array" / "image bytes"...). ``min_side``: the smallest side
    accepted, in pixels. ``max_pixels``: the most pixels decoded (default :data:`MAX_PIXELS`).
    Numpy arrays are already in memory, so the pixel limit does not apply to them.

    Raises :class:`ImageError` naming the item and the problem.
    """
    if max_side is not None and (not isinstance(max_side, (int, np.integer)) or max_side < 1):
        raise ImageError(f"max_side must be a positive number of pixels, not {max_side!r}")
    Image = _pil()
    if isinstance(x, np.ndarray):
        label = name or "image array"
        return _from_array(x, label, max_side=max_side, min_side=min_side)
    if isinstance(x, Image.Image):
        return _from_pil(x, name or "PIL image", max_side=max_side, min_side=min_side,
                         limit=_pixel_limit(max_pixels))
    if isinstance(x, (bytes, bytearray, memoryview)):
        label = name or f"image bytes ({len(x)} bytes)"
        if len(x) == 0:
            raise ImageError(f"{label}: empty (0 bytes)")
        return _from_stream(io.BytesIO(bytes(x)), label, "", max_side=max_side, min_side=min_side,
                            limit=_pixel_limit(max_pixels))
    if isinstance(x, (str, os.PathLike)):
        p = Path(x)
        label = f"'{name if name is not None else x}'"
        if isinstance(x, str) and not x.strip():
            raise ImageError(f"{label}: empty path")
        try:
            st = p.stat()
        except FileNotFoundError:
            raise ImageError(f"{label}: no such file") from None
        except OSError as exc:
            raise ImageError(f"{label}: cannot be read ({exc.strerror or exc})") from None
        if p.is_dir():
            raise ImageError(f"{label} is a folder, not an image")
        if st.st_size == 0:
            raise ImageError(f"{label}: empty file (0 bytes)")
        try:
            fh = open(p, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise ImageError(f"{label}: cannot be read ({exc.strerror or exc})") from None
        with fh:
            return _from_stream(fh, label, str(p), max_side=max_side, min_side=min_side,
                                limit=_pixel_limit(max_pixels))
    if hasattr(x, "read"):
        return _from_stream(x, name or "image stream", getattr(x, "name", "") or "", max_side=max_side,
                            min_side=min_side, limit=_pixel_limit(max_pixels))
    raise ImageError(f"{name or 'item'}: expected an image path, bytes, a PIL image or a numpy array, "
                     f"got {type(x).__name__}")


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) -> luma uint8 (H, W), ITU-R 601-2 (L = 0.299 R + 0.587 G + 0.114 B),
    bit-identical to Pillow's ``convert("L")``. A 2-D uint8 array is returned as it is."""
    a = np.asarray(rgb)
    if a.dtype != np.uint8:
        raise ImageError(f"to_grey expects uint8 pixels, got {a.dtype} (use load_image first)")
    if a.ndim == 2:
        return a
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise ImageError(f"to_grey expects an (h, w, 3) RGB array, got shape {a.shape}")
    # Pillow's fixed-point weights: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16
    r, g, b = (a[..., i].astype(np.uint32) for i in range(3))
    return ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16).astype(np.uint8)


# ----------------------------------------------------------------------------- files
def _from_stream(fp, label: str, filename: str, *, max_side, min_side, limit) -> tuple[np.ndarray, list[str]]:
    Image = _pil()
    try:
        # Only around this (header-only) open: a "bomb" warning becomes an error answered below.
        # catch_warnings swaps process-wide state, so calls from several threads are serialised;
        # the lock is never held while pixels are decoded.
        with _WARNINGS_LOCK, warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                im = Image.open(fp)
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                im = _open_header_only(fp, filename)
                if im is None:
                    raise ImageError(f"{label}: {_bomb_size(exc)} is over the "
                                     f"{_limit(limit)} limit") from None
    except ImageError:
        raise
    except Image.UnidentifiedImageError:
        try:
            fp.seek(0)
            hint = _sniff(fp.read(512))
        except (OSError, AttributeError):
            hint = ""
        raise ImageError(f"{label}: not an image PIL can read" + (f" ({hint})" if hint else "")) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error) as exc:
        raise ImageError(f"{label}: truncated or corrupt image ({_short(exc)})") from None
    with im:
        return _from_pil(im, label, max_side=max_side, min_side=min_side, limit=limit)


def _short(exc: BaseException) -> str:
    s = str(exc).strip() or type(exc).__name__
    return s if len(s) <= 120 else s[:117] + "..."


def _from_pil(im, label: str, *, max_side, min_side, limit) -> tuple[np.ndarray, list[str]]:
    Image = _pil()
    warns: list[str] = []
    fmt = (im.format or "").upper()
    w, h = im.size
    if min(w, h) < min_side:
        raise ImageError(f"{label}: the image is {w}x{h} pixels, too small (each side must be at least "
                         f"{min_side} px)")
    try:
        n_frames = int(getattr(im, "n_frames", 1) or 1)
        if n_frames > 1 and fmt in _ANIMATED:
            im.seek(0)
            unit = "pages" if fmt == "TIFF" else "frames"
            warns.append(f"{_ANIMATED[fmt]}: {n_frames} {unit}, the first was used")
        im = _draft(im, label, max_side, limit, warns)
        im.load()  # decode now: a truncated file fails here, not later
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"{label}: {_bomb_size(exc)} is over the {_limit(limit)} limit") from None
    except MemoryError:
        raise ImageError(f"{label}: not enough memory to decode {_size_text(*im.size)}") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error) as exc:
        raise ImageError(f"{label}: truncated or corrupt image ({_short(exc)})") from None

    from PIL import ImageOps

    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception as exc:  # a malformed EXIF block must not lose the image  # noqa: BLE001
        warns.append(f"EXIF orientation could not be read ({_short(exc)}); the image is used as stored")
    rgb = _to_rgb(im, label, warns)
    del im
    return _finish(rgb, max_side, warns)


def _draft(im, label: str, max_side, limit: int, warns: list[str]):
    """Check the size from the header; reduce a JPEG at decode when it is over the limit or larger
    than ``max_side``; refuse anything else over the limit. Nothing has been decoded yet."""
    from PIL import JpegImagePlugin

    w, h = im.size
    pixels = w * h
    can_draft = isinstance(im, JpegImagePlugin.JpegImageFile) and len(getattr(im, "tile", []) or []) == 1
    need = 1  # the smallest DCT scale that fits the limit
    while need <= 8 and -(-w // need) * -(-h // need) > limit:
        need *= 2
    if pixels > limit and (not can_draft or need > 8):
        how = "" if not can_draft else " even at 1/8 scale"
        raise ImageError(f"{label}: the image is {_size_text(w, h)}, over the {_limit(limit)} limit{how}; "
                         "reduce it first")
    scale = need
    if can_draft and max_side:
        while scale < 8 and -(-max(w, h) // (scale * 2)) >= max_side:
            scale *= 2  # the largest scale that still leaves at least max_side pixels
    if can_draft and scale > 1:
        im.draft(im.mode, (max(1, w // scale), max(1, h // scale)))
        if im.size[0] * im.size[1] > limit:  # pragma: no cover - draft did not reduce as asked
            raise ImageError(f"{label}: the image is {_size_text(w, h)}, over the {_limit(limit)} limit; "
                             "reduce it first")
        if need > 1 and (not max_side or max(im.size) < max_side):
            warns.append(f"the image is {_size_text(w, h)}, over the {_limit(limit)} limit: it was decoded at "
                         f"1/{need} scale ({im.size[0]}x{im.size[1]})")
    return im


def _to_rgb(im, label: str, warns: list[str]) -> np.ndarray:
    """Any Pillow mode -> RGB uint8 array; transparency composited on white."""
    Image = _pil()
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(im)
        grey = _scale_to_uint8(a, label, warns)
        t = im.info.get("transparency")
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            grey = np.where(a == t, np.uint8(255), grey)
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    try:
        if has_alpha:
            rgba = im.convert("RGBA")
            out = Image.new("RGB", im.size, WHITE)
            out.paste(rgba, mask=rgba.getchannel("A"))
            del rgba
        else:
            out = im if mode == "RGB" else im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageError(f"{label}: colour mode {mode} cannot be converted to RGB ({_short(exc)})") from None
    return np.ascontiguousarray(np.asarray(out, dtype=np.uint8))


def _scale_to_uint8(a: np.ndarray, label: str, warns: list[str]) -> np.ndarray:
    """16-bit -> 8-bit by v * 255 / 65535 (rounded); floats in [0, 1] by * 255; anything else
    min-max scaled with a warning."""
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * np.uint8(255)
    if np.issubdtype(a.dtype, np.floating):
        finite = np.isfinite(a)
        if not finite.all():
            raise ImageError(f"{label}: the pixels contain NaN or infinite values")
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
        if lo >= 0.0 and hi <= 1.0:
            return np.rint(a.astype(np.float32) * 255.0).astype(np.uint8)
        return _minmax(a, lo, hi, label, warns, "float")
    if not np.issubdtype(a.dtype, np.integer):
        raise ImageError(f"{label}: pixels of type {a.dtype} are not an image")
    lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
    if lo >= 0 and hi <= 65535:  # 16-bit (uint16 arrays; Pillow's I;16 and I modes of 16-bit files)
        return ((a.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    return _minmax(a, lo, hi, label, warns, "integer")


def _minmax(a, lo, hi, label, warns, kind) -> np.ndarray:
    warns.append(f"{kind} pixel values from {lo:g} to {hi:g} were rescaled to 0..255")
    if hi <= lo:
        return np.zeros(a.shape, np.uint8)
    return np.rint((a.astype(np.float64) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _finish(rgb: np.ndarray, max_side, warns: list[str]) -> tuple[np.ndarray, list[str]]:
    h, w = rgb.shape[:2]
    if max_side and max(h, w) > max_side:
        Image = _pil()
        im = Image.fromarray(rgb, "RGB")
        del rgb
        s = max_side / max(h, w)
        size = (max(1, round(w * s)), max(1, round(h * s)))
        im = im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
        rgb = np.asarray(im)
    if not rgb.flags.c_contiguous or not rgb.flags.writeable:
        rgb = np.array(rgb, dtype=np.uint8, order="C")
    return rgb, warns


# ----------------------------------------------------------------------------- arrays
def _from_array(x: np.ndarray, label: str, *, max_side, min_side) -> tuple[np.ndarray, list[str]]:
    warns: list[str] = []
    a = x
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ImageError(f"{label}: an image array must be (h, w) grey, (h, w, 3) RGB or (h, w, 4) RGBA, "
                         f"not shape {x.shape}")
    h, w = a.shape[:2]
    if min(h, w) < min_side:
        raise ImageError(f"{label}: the image is {w}x{h} pixels, too small (each side must be at least "
                         f"{min_side} px)")
    if a.dtype == np.uint8 or a.dtype == np.bool_ or np.issubdtype(a.dtype, np.floating) or a.dtype == np.uint16:
        a8 = _scale_to_uint8(a, label, warns)
    elif np.issubdtype(a.dtype, np.integer):
        lo, hi = int(a.min()), int(a.max())
        if lo < 0 or hi > 255:
            raise ImageError(f"{label}: integer pixels must lie in 0..255 (or be uint16), found {lo}..{hi}")
        a8 = a.astype(np.uint8)
    else:
        raise ImageError(f"{label}: pixels of type {a.dtype} are not an image")
    if a8.ndim == 2:
        rgb = np.repeat(a8[..., None], 3, axis=2)
    elif a8.shape[2] == 4:
        alpha = a8[..., 3:4].astype(np.uint16)
        rgb = ((a8[..., :3].astype(np.uint16) * alpha + np.uint16(255) * (255 - alpha) + 127) // 255).astype(np.uint8)
    else:
        rgb = a8
    return _finish(np.ascontiguousarray(rgb), max_side, warns)


def oriented_size(x) -> tuple[int, int] | None:
    """(width, height) of an image as :func:`load_image` returns it at full size (EXIF rotation
    applied), read from the header only (a decompression bomb's too); None when it cannot be told."""
    if isinstance(x, np.ndarray):
        return (int(x.shape[1]), int(x.shape[0])) if x.ndim >= 2 else None
    Image = _pil()
    if isinstance(x, Image.Image):
        return _size_of(x)
    if not isinstance(x, (bytes, bytearray, memoryview, str, os.PathLike)):
        return None
    try:
        with (io.BytesIO(bytes(x)) if isinstance(x, (bytes, bytearray, memoryview)) else open(x, "rb")) as fp:
            try:
                im = Image.open(fp)
            except Image.DecompressionBombError:  # its size is still in the header
                im = _open_header_only(fp, "")
            if im is None:
                return None
            with im:
                return _size_of(im)
    except Exception:  # the reader itself reports unreadable images
        return None


def _size_of(im) -> tuple[int, int]:
    w, h = im.size
    orientation = im.getexif().get(0x0112, 1)
    return (h, w) if orientation in (5, 6, 7, 8) else (w, h)
