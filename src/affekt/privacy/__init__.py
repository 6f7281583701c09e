"""Privacy: faces blurred or pixelated in images and videos (``affekt anonymize``).

* :func:`anonymize_image` — an image (path, bytes, array) -> RGB array with its faces covered;
* :func:`anonymize_path` — one image or video file -> its anonymized copy (a :class:`Result`);
* :func:`anonymize_many` — a file, folder or .txt list -> anonymized copies under an output;
* :func:`cover_faces` — the blur / pixelate primitive (also ``analyze --blur-faces``).

What is found, how videos are covered between the frames looked at, and what is written:
:mod:`affekt.privacy.anonymize`; how strong the covering is: :mod:`affekt.privacy.cover`.
"""
from __future__ import annotations

from affekt.privacy.anonymize import (
    NoFaceError,
    Result,
    anonymize_image,
    anonymize_many,
    anonymize_path,
    find_faces,
)
from affekt.privacy.cover import METHODS, cover_faces

__all__ = ["METHODS", "NoFaceError", "Result", "anonymize_image", "anonymize_many", "anonymize_path", "cover_faces",
           "find_faces"]
