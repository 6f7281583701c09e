"""Reading audio: any file libsndfile decodes (wav, flac, ogg/opus, mp3 with libsndfile >= 1.1,
aiff) at any sample rate and channel count -> 16 kHz mono float32.

Every failure is an :class:`AudioError` whose message names the file and the problem
(missing, empty, not audio, truncated, unsupported format...). Long files are never read
whole: :func:`stream_audio` yields resampled blocks, and :func:`load_audio` reads a time range.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from affekt.core.errors import InputError
from affekt.io.items import LIST_SUFFIXES

SR = 16000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".w64", ".au")
MAX_HOURS = 12.0  # beyond this a file is refused (timelines of days are a different job)


class AudioError(InputError):
    """An audio file or array cannot be used; the message says which and why."""


@dataclass(frozen=True)
class AudioInfo:
    path: str
    samplerate: int
    channels: int
    frames: int
    format: str

    @property
    def duration(self) -> float:
        return self.frames / self.samplerate if self.samplerate else 0.0


def _sf():
    from affekt.core.errors import require

    return require("soundfile", "speech")


def _sniff(path: Path) -> str:
    """A hint about what a file that libsndfile refuses really is."""
    try:
        head = path.read_bytes()[:512] if path.stat().st_size < 1 << 20 else open(path, "rb").read(512)
    except OSError:
        return ""
    return _hint(head)


def _hint(head: bytes) -> str:
    """What a file's first bytes say it is, for a message about audio that cannot be decoded."""
    if head[:4] in (b"RIFF", b"fLaC", b"OggS", b"FORM") or head[:3] == b"ID3":
        return "the header is an audio header, so the file is probably corrupt or truncated"
    try:
        head.decode("utf-8")
        return "it looks like a text file, not audio"
    except UnicodeDecodeError:
        return "the content is not a known audio format"


def audio_info(path) -> AudioInfo:
    """Header facts of an audio file, or an :class:`AudioError` saying why it cannot be read."""
    p = Path(path)
    if not p.exists():
        raise AudioError(f"'{p}': file not found")
    if p.is_dir():
        raise AudioError(f"'{p}' is a folder, not an audio file")
    if p.suffix.lower() not in AUDIO_SUFFIXES:
        raise AudioError(f"'{p}': unsupported audio format '{p.suffix or '(no extension)'}' "
                         f"(supported: {', '.join(AUDIO_SUFFIXES)})")
    if p.stat().st_size == 0:
        raise AudioError(f"'{p}': empty file (0 bytes)")
    sf = _sf()
    try:
        i = sf.info(str(p))
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError with libsndfile's text
        raise AudioError(f"'{p}': cannot decode audio ({_sniff(p)}; libsndfile: {str(exc).strip()[:120]})") from None
    if i.frames <= 0 or i.samplerate <= 0:
        raise AudioError(f"'{p}': no audio samples (zero-length recording)")
    _check_not_cut(p, i)
    info = AudioInfo(str(p), int(i.samplerate), int(i.channels), int(i.frames), str(i.format))
    if info.duration > MAX_HOURS * 3600:
        raise AudioError(f"'{p}': {info.duration / 3600:.1f} h is longer than the {MAX_HOURS:g} h affekt accepts; split it")
    return info


# libsndfile quietly shortens a WAV/AIFF whose data chunk runs past the end of the file, and
# only says so in its log: "data : 64000 (should be 31978)"
_CUT_CHUNK = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def _check_not_cut(p, i) -> None:
    """A truncated file (its header promises more audio than the file holds) is an error."""
    m = _CUT_CHUNK.search(getattr(i, "extra_info", "") or "")
    if not m:
        return
    declared, present = int(m.group(1)), int(m.group(2))
    if declared >= 0xFFFFFFF0 or present >= declared:  # "length unknown" (streamed writers) is fine
        return
    promised = i.frames * declared / max(present, 1)
    if promised - i.frames > max(16, 0.001 * i.samplerate):
        raise AudioError(f"'{p}': truncated file: the header promises {promised / i.samplerate:.2f} s "
                         f"but only {i.frames / i.samplerate:.2f} s are in the file")


def _to_mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1, dtype=np.float32) if block.ndim == 2 else block.astype(np.float32)


def _resample(y: np.ndarray, sr_in: int, sr: int) -> np.ndarray:
    if sr_in == sr:
        return y
    import soxr

    return soxr.resample(y, sr_in, sr, quality="HQ").astype(np.float32, copy=False)


def load_audio(path, sr: int = SR, *, start: float = 0.0, end: float | None = None,
               info: AudioInfo | None = None) -> np.ndarray:
    """Samples ``start``..``end`` seconds of ``path`` as ``sr`` Hz mono float32 in [-1, 1]."""
    info = info or audio_info(path)
    sf = _sf()
    a = int(round(start * info.samplerate))
    b = info.frames if end is None else min(info.frames, int(round(end * info.samplerate)))
    try:
        y = sf.read(str(path), start=a, stop=b, dtype="float32", always_2d=True)[0]
    except Exception as exc:
        raise AudioError(f"'{path}': decoding failed after the header ({_sniff(Path(path))}; "
                         f"libsndfile: {str(exc).strip()[:120]})") from None
    expected = b - a
    if len(y) < expected - max(16, 0.001 * info.samplerate):
        got = len(y) / info.samplerate
        raise AudioError(f"'{path}': truncated file: the header promises {info.duration:.2f} s "
                         f"but only {start + got:.2f} s can be decoded")
    y = _resample(_to_mono(y), info.samplerate, sr)
    if not np.isfinite(y).all():
        raise AudioError(f"'{path}': the decoded samples contain NaN or infinite values")
    return y


def stream_audio(path, sr: int = SR, block_seconds: float = 30.0, *,
                 info: AudioInfo | None = None) -> Iterator[np.ndarray]:
    """The whole file as consecutive ``sr`` Hz mono blocks: memory stays flat for hours of audio."""
    info = info or audio_info(path)
    sf = _sf()
    blocksize = max(1, int(block_seconds * info.samplerate))
    stream = None
    if info.samplerate != sr:
        import soxr

        stream = soxr.ResampleStream(info.samplerate, sr, 1, dtype="float32", quality="HQ")
    n = 0
    try:
        with sf.SoundFile(str(path)) as f:
            while True:
                block = f.read(blocksize, dtype="float32", always_2d=True)
                last = len(block) < blocksize
                n += len(block)
                y = _to_mono(block)
                if stream is not None:
                    y = stream.resample_chunk(y, last=last)
                if len(y):
                    yield y
                if last:
                    break
    except AudioError:
        raise
    except Exception as exc:
        raise AudioError(f"'{path}': decoding failed at {n / info.samplerate:.1f} s ({str(exc).strip()[:120]})") from None
    if n < info.frames - max(16, 0.001 * info.samplerate):
        raise AudioError(f"'{path}': truncated file: the header promises {info.duration:.2f} s "
                         f"but only {n / info.samplerate:.2f} s can be decoded")


AUDIO_MAGIC = ((b"RIFF", "WAV"), (b"RIFX", "WAV"), (b"RF64", "WAV"), (b"fLaC", "FLAC"), (b"OggS", "Ogg"),
               (b"FORM", "AIFF"), (b"ID3", "MP3"), (b".snd", "AU"), (b"riff", "W64"))


def sniff_audio(head: bytes) -> str | None:
    """The audio container ``head`` (a file's first bytes) starts with, or None: what a file is,
    from its content rather than its name or a declared content type."""
    for magic, kind in AUDIO_MAGIC:
        if head.startswith(magic):
            return kind
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # MPEG audio frame sync
        return "MP3"
    return None


def decode_audio_bytes(data: bytes, name: str = "audio bytes", *, max_seconds: float | None = None) -> np.ndarray:
    """A whole audio file held in memory (wav, flac, ogg, mp3...) -> ``SR`` Hz mono float32, never
    written to disk. The format comes from the content; every refusal (not audio, truncated, longer
    than ``max_seconds``) is an :class:`AudioError` naming ``name``."""
    import io

    if not data:
        raise AudioError(f"'{name}': empty (0 bytes)")
    if sniff_audio(bytes(data[:16])) is None:
        raise AudioError(f"'{name}': not audio ({_hint(bytes(data[:512]))}; wav, flac, ogg, mp3, aiff and au are read)")
    sf = _sf()
    try:
        f = sf.SoundFile(io.BytesIO(bytes(data)))
    except Exception as exc:
        raise AudioError(f"'{name}': cannot decode audio (the header is an audio header, so the upload is "
                         f"probably corrupt or truncated; libsndfile: {str(exc).strip()[:120]})") from None
    with f:
        if f.frames <= 0 or f.samplerate <= 0:
            raise AudioError(f"'{name}': no audio samples (zero-length recording)")
        _check_not_cut(name, f)
        seconds = f.frames / f.samplerate
        if max_seconds is not None and seconds > max_seconds:
            raise AudioError(f"'{name}': {seconds:.1f} s of audio is longer than the {max_seconds:g} s accepted here")
        try:
            y = f.read(dtype="float32", always_2d=True)
        except Exception as exc:
            raise AudioError(f"'{name}': decoding failed after the header ({str(exc).strip()[:120]})") from None
        if len(y) < f.frames - max(16, 0.001 * f.samplerate):
            raise AudioError(f"'{name}': truncated file: the header promises {seconds:.2f} s "
                             f"but only {len(y) / f.samplerate:.2f} s can be decoded")
        y = _resample(_to_mono(y), int(f.samplerate), SR)
    if not np.isfinite(y).all():
        raise AudioError(f"'{name}': the decoded samples contain NaN or infinite values")
    return y


def check_array(y, sr: int, name: str = "<array>") -> np.ndarray:
    """An in-memory waveform -> ``SR`` Hz mono float32 (channels last or first are both accepted)."""
    y = np.asarray(y)
    if y.dtype.kind not in "fiu":
        raise AudioError(f"{name}: expected numeric samples, got dtype {y.dtype}")
    if y.dtype.kind in "iu":  # integer PCM -> [-1, 1]
        y = y.astype(np.float32) / float(np.iinfo(y.dtype).max)
    if y.ndim == 2:
        y = y.mean(axis=0 if y.shape[0] < y.shape[1] else 1)
    if y.ndim != 1:
        raise AudioError(f"{name}: expected a 1-D (or channels x samples) waveform, got shape {y.shape}")
    if len(y) == 0:
        raise AudioError(f"{name}: zero-length waveform")
    if not isinstance(sr, (int, np.integer)) or sr < 1000:
        raise AudioError(f"{name}: sample rate {sr!r} is not a plausible rate in Hz")
    y = y.astype(np.float32, copy=False)
    if not np.isfinite(y).all():
        raise AudioError(f"{name}: waveform contains NaN or infinite values")
    return _resample(y, int(sr), SR)


def dbfs(y: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-inf for digital silence)."""
    r = float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if len(y) else 0.0
    return 20 * np.log10(r) if r > 0 else float("-inf")


def normalize_loudness(y: np.ndarray, target_dbfs: float = -23.0, max_gain_db: float = 50.0) -> np.ndarray:
    """Scale so the loud half of the 25 ms frames has ``target_dbfs`` RMS (recording level removed,
    the dynamics within the utterance kept); peaks are kept below full scale."""
    if len(y) == 0:
        return y
    n = 400
    m = len(y) // n
    frames = y[: m * n].reshape(m, n) if m else y[None, :]
    e = np.mean(np.square(frames, dtype=np.float64), axis=1)
    active = e[e >= np.median(e)]
    level = 10 * np.log10(max(float(active.mean()), 1e-20))
    gain = 10 ** (min(target_dbfs - level, max_gain_db) / 20)
    out = y * np.float32(gain)
    peak = float(np.abs(out).max())
    if peak > 0.999:
        out *= np.float32(0.999 / peak)
    return out


def is_audio_path(x) -> bool:
    return isinstance(x, (str, os.PathLike)) and Path(x).suffix.lower() in AUDIO_SUFFIXES


def collect_audio(path) -> list[str]:
    """The audio inputs named by one ``--input``: an audio file; a folder (every audio file
    under it, recursively, in sorted order); or a ``.txt`` list (one path per line, relative
    to the list's folder; blank lines and ``#`` comments skipped). Listed files are returned
    even when missing or broken: each then gets its own error record at prediction time."""
    return [p for _, p in collect_audio_named(path)]


def collect_audio_named(path) -> list[tuple[str, str]]:
    """:func:`collect_audio` as (the path as the user gave it, the path to read) pairs: a list's
    lines stay as written even when they are read relative to the list's folder."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"input '{p}' does not exist")
    if p.is_dir():
        files = sorted(str(f) for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_SUFFIXES)
        if not files:
            raise InputError(f"folder '{p}' holds no audio files (looked for {', '.join(AUDIO_SUFFIXES)}, recursively)")
        return [(f, f) for f in files]
    suffix = p.suffix.lower()
    if suffix in LIST_SUFFIXES:
        from affekt.io.text import read_bytes_utf8

        out = []
        for line in read_bytes_utf8(p).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                q = Path(line)
                out.append((line, str(q if q.is_absolute() else p.parent / q)))
        if not out:
            raise InputError(f"list '{p}' names no files")
        return out
    if suffix in AUDIO_SUFFIXES:
        return [(str(path), str(p))]
    raise InputError(f"'{p}': not an audio file, folder or .txt list (audio: {', '.join(AUDIO_SUFFIXES)})")
