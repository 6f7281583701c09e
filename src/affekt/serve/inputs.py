"""What a request carries, read in memory: uploads from a multipart form or a raw body, their
kind sniffed from the content (never from the file name or the declared type), and the checks
the service applies before a model sees them (size, duration, pixels)."""
from __future__ import annotations

from dataclasses import dataclass

from affekt.core.errors import InputError

IMAGE_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"), (b"GIF87a", "GIF"), (b"GIF89a", "GIF"),
               (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"), (b"P5", "PGM"), (b"P6", "PPM"))


class RequestError(InputError):
    """A request the service refuses as a whole: ``status`` is the HTTP code it answers with."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Upload:
    name: str           # the file name the client gave (or "upload"); records name the input so
    data: bytes


def sniff_image(head: bytes) -> str | None:
    """The image format ``head`` starts with, or None."""
    for magic, kind in IMAGE_MAGIC:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def sniff_video(head: bytes) -> str | None:
    """The video container ``head`` starts with, or None (MP4/MOV, Matroska/WebM, AVI)."""
    if head[4:8] == b"ftyp" or head[4:8] in (b"moov", b"mdat", b"wide", b"free"):
        return "MP4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "Matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "AVI"
    return None


def describe(head: bytes) -> str:
    """What some bytes are, for a message saying they are not what an endpoint takes."""
    from affekt.io.audio import sniff_audio

    for kind, sniff in (("audio", sniff_audio), ("an image", sniff_image), ("a video", sniff_video)):
        fmt = sniff(head)
        if fmt:
            return f"{kind} ({fmt})"
    if head[:5] == b"%PDF-":
        return "a PDF document"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "of no known format"


def check_kind(up: Upload, kind: str) -> None:
    """Refuse (415) an upload whose content is not ``kind`` ('audio', 'image' or 'video')."""
    from affekt.io.audio import sniff_audio

    if not up.data:
        raise RequestError(f"'{up.name}': empty upload (0 bytes)", 400)
    head = up.data[:32]
    sniff = {"audio": sniff_audio, "image": sniff_image, "video": sniff_video}[kind]
    if sniff(head) is None:
        raise RequestError(f"'{up.name}': this endpoint takes {kind}; the content is {describe(head)}", 415)


def image_pixels(data: bytes) -> int | None:
    """Width x height from an image's header (nothing decoded), or None when it cannot be told."""
    from affekt.face.images import oriented_size

    size = oriented_size(data)
    return None if size is None else size[0] * size[1]
