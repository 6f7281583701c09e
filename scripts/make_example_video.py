"""Make the bundled example video, affekt-examples/talk.mp4: the example photo's face drifting
across a plain 320x240 frame for the length of the example speech, which is its soundtrack.

    python scripts/make_example_video.py   # -> src/affekt/examples/talk.mp4
"""
from __future__ import annotations

import sys
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from video_helpers import make_video  # noqa: E402  (the same maker the tests use)

y, sr = sf.read(ROOT / "src/affekt/examples/speech.wav", dtype="float32")
out = make_video(ROOT / "src/affekt/examples/talk.mp4", people=(0,), seconds=len(y) / sr, fps=10, audio=y, sr=sr,
                 size=(320, 240))
print(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")
