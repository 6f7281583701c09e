"""Labelled test videos built from real faces (FER2013 PublicTest) and real voices (RAVDESS).

No labelled face video can be had here, so this script builds some, seeded, with exact truth:

* ``single_XX.mp4``: one person. A sequence of FER2013 **PublicTest** faces (48x48 grey, upscaled
  bicubic with PIL to one side of 150-220 px per person, grey -> 3 channels), each held for a
  random 2-5 s stretch and pasted on a smooth, seeded, muted background. The face drifts slowly
  along one smooth path for the whole video (a sum of slow sines, at most ~100 px over a
  stretch), always fully inside the frame. Between consecutive faces: a 0.5 s cross-fade (alpha
  blend) in half of the transitions (seeded), a hard cut in the others. Labels change from one
  stretch to the next, and a shuffled deck of the 7 classes spreads them evenly over the set.
* ``pair_XX.mp4``: two people at once, one in the left half and one in the right, each with its
  own sequence as above; their squares never come closer than 40 px.
* Soundtrack: RAVDESS speech clips (16 kHz mono FLAC) of one emotion per video (a shuffled deck
  of the 8 emotions over the set), each preceded by 0.5 s of silence, as many whole clips as fit
  in the video. AAC, 16 kHz mono. The clips keep RAVDESS's level (quiet, about -40 dBFS RMS)
  and their own leading/trailing near-silence.
* Video: H.264 (libx264 through PyAV, yuv420p, ``preset=veryfast``, one thread), constant
  ``--fps``, in .mp4.
* ``edge/``: inputs for bad-input and edge tests: ``no_audio.mp4`` (video stream only, one
  person), ``audio_only.mp4`` (an AAC stream only), ``no_faces.mp4`` (background only, with
  audio), ``vfr.mp4`` (one person; frame gaps alternate 1/30 s and 1/10 s, pts in a 1/90000
  time base), ``truncated.mp4`` (a good mp4 cut to 60% of its bytes; its index, the moov
  atom, is at the end, so it is lost), ``truncated_faststart.mp4`` (the same with the moov atom
  at the front, so the first part still decodes), ``empty.mp4`` (0 bytes), ``text.mp4`` (a
  text file). ``edge/truth.json`` has truth for the files that have content.
* ``--long-minutes N`` writes ``long_{N}min.mp4`` (one person, audio, the content of a
  ``--seconds`` plan looping; ``preset=ultrafast``, frames streamed: memory stays flat) and
  ``long_{N}min.json`` (its truth, same shape as one truth.json entry).

Truth (``truth.json``): one entry per video::

    {"video": "single_00.mp4", "duration": s, "fps": 25, "size": [640, 480], "n_frames": 750,
     "people": [{"person": 0, "side": "left"|"centre"|"right", "face_side": px,
                 "stretches": [{"start": s, "end": s, "label": "happiness", "fer_row": i,
                                "fer2013_row": j, "path": "test/happy/PublicTest_....jpg",
                                "fade_in": bool}],
                 "boundaries": [{"t": s, "kind": "fade"|"cut"}],
                 "boxes": [[t, x, y, w, h], ...]}],           # 5 per second: t = 0, 0.2, ...
     "voice": {"label": "angry", "ekman": "anger",
               "clips": [{"file": "Actor_05/03-01-05-....flac", "start": s, "end": s}]}}

``fer_row`` is the row of the table (and of the pixel array) that
``affekt.datasets.faces.fer2013_arrays`` returns; ``fer2013_row`` the canonical fer2013.csv row
(the FER+ join key). A stretch covers frames with ``start <= t < end`` (t = frame index / fps).
At a cut the new face shows from the first frame at or after the boundary; a cross-fade runs
from boundary - 0.25 s to boundary + 0.25 s (the new face's weight rises linearly from 0 to 1,
0.5 at the boundary), and the truth boundary is the middle of the fade. A scorer should leave
out ``boundary_margin`` (0.25 s) on both sides of every boundary. Boxes are the pasted square
(the whole 48x48 crop scaled up: forehead to chin and cheek to cheek, tighter than a head),
integer pixels, top-left origin.

Voice ``ekman``: neutral, happy -> happiness, sad -> sadness, angry -> anger, fearful -> fear,
disgust, surprised -> surprise; calm -> null (no Ekman class). Outside the clips the track is
silent (digital zero).

Same seed and arguments -> the same truth.json (``--truth-only`` writes truth and manifest
without encoding, to check that cheaply). ``manifest.json`` has the command, seed, counts,
per-class stretch counts, timings and file sizes.

    python benchmarks/make_face_videos.py --fer2013 ../shared/data/images/fer2013 \
        --ravdess ../shared/data/audio/ravdess --out /work/cache/videos \
        [--seed 0] [--n-single 8] [--n-pair 4] [--seconds 30] [--fps 25] [--size 640x480] \
        [--cache /work/cache/fer2013.npz] [--long-minutes 1] [--no-edge] [--truth-only]
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import platform
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

FER_LABELS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry",
                    "06": "fearful", "07": "disgust", "08": "surprised"}
EKMAN_OF = {"neutral": "neutral", "calm": None, "happy": "happiness", "sad": "sadness", "angry": "anger",
            "fearful": "fear", "disgust": "disgust", "surprised": "surprise"}
RAVDESS_NAME = re.compile(r"^03-01-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.flac$")

FADE = 0.5              # cross-fade length, s
STRETCH = (2.0, 5.0)    # a face's stretch, s
MIN_LAST = 1.5          # a last stretch shorter than this is merged into the one before
FACE_SIDE = (150, 220)  # px, per person
DRIFT = (20.0, 50.0)    # amplitude of each sine of the path, px (peak to peak <= 100 px)
PERIOD = (10.0, 20.0)   # period of those sines, s
PAIR_GAP = 40           # px between the two people's squares, at least
EDGE_MARGIN = 8         # px kept free at the frame's border
BOX_RATE = 5            # truth boxes per second
SR = 16000              # audio sample rate
VOICE_GAP = 0.5         # silence before each clip, s
AUDIO_FRAME = 1024      # AAC frame size
EDGE_SECONDS = 10.0


class GenerationError(Exception):
    """A problem with this script's inputs, said in one line."""


# ---------------------------------------------------------------- inputs
def load_faces(fer_dir: str, cache: str | None, usage: str = "PublicTest"):
    """FER2013 pixels + table; pools of ``usage`` rows per class (PublicTest for the benchmark
    videos, Training for videos a temporal model may learn from). Rows without a canonical
    fer2013_row (the 10 'unmatched' PublicTest images: FER+ 'not a face' rows) are left out."""
    from affekt.datasets.faces import fer2013_arrays

    X, df = fer2013_arrays(fer_dir, cache=cache)
    use = (df["usage"] == usage).to_numpy()
    if "fer2013_row" in df.columns:
        use = use & df["fer2013_row"].notna().to_numpy()
    pools = {lab: np.flatnonzero(use & (df["label_index"].to_numpy() == k)) for k, lab in enumerate(FER_LABELS)}
    empty = [lab for lab, p in pools.items() if not len(p)]
    if empty:
        raise GenerationError(f"fer2013: no {usage} faces for {', '.join(empty)} in '{fer_dir}'")
    return X, df, pools


def load_voices(rav_dir: str) -> dict[str, list[str]]:
    """RAVDESS files per emotion name, relative paths, sorted (file names: see its README)."""
    root = Path(rav_dir)
    if not root.is_dir():
        raise GenerationError(f"ravdess: '{root}' is not a folder")
    by = {name: [] for name in RAVDESS_EMOTIONS.values()}
    for f in sorted(root.glob("Actor_*/*.flac")):
        m = RAVDESS_NAME.match(f.name)
        if m and m.group(1) in RAVDESS_EMOTIONS:
            by[RAVDESS_EMOTIONS[m.group(1)]].append(f.relative_to(root).as_posix())
    if not any(by.values()):
        raise GenerationError(f"ravdess: no Actor_XX/03-01-EE-II-SS-RR-AA.flac files under '{root}'")
    return {k: v for k, v in by.items() if v}


@functools.lru_cache(maxsize=64)
def read_clip(path: str) -> np.ndarray:
    import soundfile as sf

    y, sr = sf.read(path, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if sr != SR:
        import soxr

        y = soxr.resample(y, sr, SR).astype(np.float32)
    return y


# ---------------------------------------------------------------- planning (all randomness is here)
class Deck:
    """Draws from a shuffled deck that is reshuffled when it runs out: classes stay balanced."""

    def __init__(self, items, rng):
        self.items, self.rng, self.left = list(items), rng, []

    def draw(self, avoid=None):
        if not self.left:
            self.left = [self.items[i] for i in self.rng.permutation(len(self.items))]
        for i, it in enumerate(self.left):
            if it != avoid:
                return self.left.pop(i)
        extra = [x for x in self.items if x != avoid]   # only `avoid` left in the deck
        return extra[int(self.rng.integers(len(extra)))] if extra else self.left.pop(0)


@dataclass
class Person:
    side: str
    size: int
    cx: float
    cy: float
    path: list  # (ax, wx, phx, ay, wy, phy)
    stretches: list = field(default_factory=list)

    def box(self, t: float) -> tuple[int, int, int, int]:
        ax, wx, px, ay, wy, py = self.path
        x = self.cx + ax * math.sin(wx * t + px) - self.size / 2
        y = self.cy + ay * math.sin(wy * t + py) - self.size / 2
        return round(x), round(y), self.size, self.size

    def layers(self, t: float) -> list[tuple[int, float]]:
        """(fer_row, weight) of the faces shown at time t (two during a cross-fade)."""
        st = self.stretches
        i = next((k for k, s in enumerate(st) if s["start"] <= t < s["end"]), len(st) - 1)
        s = st[i]
        if s["fade_in"] and i > 0 and t < s["start"] + FADE / 2:
            a = (t - (s["start"] - FADE / 2)) / FADE
            return [(st[i - 1]["fer_row"], 1 - a), (s["fer_row"], a)]
        if i + 1 < len(st) and st[i + 1]["fade_in"] and t >= s["end"] - FADE / 2:
            a = (t - (s["end"] - FADE / 2)) / FADE
            return [(s["fer_row"], 1 - a), (st[i + 1]["fer_row"], a)]
        return [(s["fer_row"], 1.0)]


@dataclass
class Plan:
    name: str
    duration: float
    fps: int
    size: tuple[int, int]
    people: list
    voice: dict | None
    bg_seed: int


def _frame_time(t: float, fps: int) -> float:
    return round(t * fps) / fps


def plan_person(rng, side, region, duration, fps, label_deck, face_decks, df, min_side=None):
    """One person's path inside region (x0, y0, x1, y1) and their sequence of stretches."""
    x0, y0, x1, y1 = region
    lo, hi = FACE_SIDE
    hi = min(hi, x1 - x0 - 2 * EDGE_MARGIN - 2 * int(DRIFT[0]), y1 - y0 - 2 * EDGE_MARGIN - 2 * int(DRIFT[0]))
    if hi < (min_side or 48):
        raise GenerationError(f"the frame is too small for a face of at least {min_side or 48} px in region {region}")
    size = int(rng.integers(min(lo, hi), hi + 1))
    path, centre = [], []
    for a0, b0 in ((x0, x1), (y0, y1)):
        room = (b0 - a0 - 2 * EDGE_MARGIN - size) / 2     # how far the centre may move each way
        amp = float(rng.uniform(min(DRIFT[0], room), min(DRIFT[1], room)))
        c = float(rng.uniform(a0 + EDGE_MARGIN + size / 2 + amp, b0 - EDGE_MARGIN - size / 2 - amp))
        w = 2 * math.pi / float(rng.uniform(*PERIOD))
        path += [amp, w, float(rng.uniform(0, 2 * math.pi))]
        centre.append(c)
    p = Person(side, size, centre[0], centre[1], path)

    bounds = [0.0]
    while bounds[-1] < duration:
        bounds.append(_frame_time(bounds[-1] + float(rng.uniform(*STRETCH)), fps))
    bounds[-1] = duration
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < MIN_LAST:
        del bounds[-2]
    n_trans = len(bounds) - 2
    fades = np.zeros(n_trans, bool)
    fades[rng.permutation(n_trans)[: (n_trans + int(rng.integers(2))) // 2]] = True
    prev = None
    for k in range(len(bounds) - 1):
        lab = label_deck.draw(avoid=prev)
        row = int(face_decks[lab].draw())
        prev = lab
        p.stretches.append({"start": round(bounds[k], 4), "end": round(bounds[k + 1], 4), "label": lab,
                            "fer_row": row, "fer2013_row": _int_or_none(df["fer2013_row"].iloc[row])
                            if "fer2013_row" in df.columns else None,
                            "path": str(df["path"].iloc[row]), "fade_in": bool(k > 0 and fades[k - 1])})
    return p


def _int_or_none(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def plan_voice(rng, emotion, voices, duration):
    clips, t = [], 0.0
    files = voices[emotion]
    order = [files[i] for i in rng.permutation(len(files))]
    k = 0
    while True:
        f = order[k % len(order)]
        k += 1
        n = _clip_len(f)
        start = t + VOICE_GAP
        if start + n / SR > duration:
            break
        clips.append({"file": f, "start": round(start, 4), "end": round(start + n / SR, 4), "_n": n})
        t = start + n / SR
    return {"label": emotion, "ekman": EKMAN_OF[emotion], "clips": clips}


def plan_congruent_voice(rng, person, voices):
    """A voice that says what the face shows: for each stretch, a RAVDESS clip of the same
    emotion from 0.25 s after its start, cut 0.25 s before its end (the truth is then one label
    per second for face and voice alike)."""
    ravdess_of = {v: k for k, v in EKMAN_OF.items() if v}
    clips = []
    for st in person.stretches:
        files = voices[ravdess_of[st["label"]]]
        f = files[int(rng.integers(len(files)))]
        start = st["start"] + VOICE_GAP / 2
        end = min(start + _clip_len(f) / SR, st["end"] - VOICE_GAP / 2)
        if end - start > 0.5:
            clips.append({"file": f, "start": round(start, 4), "end": round(end, 4), "label": st["label"]})
    return {"label": "congruent", "ekman": None, "clips": clips}


_RAV_ROOT: Path | None = None


def _clip_len(rel: str) -> int:
    import soundfile as sf

    info = sf.info(str(_RAV_ROOT / rel))
    return round(info.frames * SR / info.samplerate)


def make_plans(args, df, pools, voices):
    """All plans. The main set, the edge files and the long video each draw from their own
    seeded stream, so that e.g. --no-edge or --n-single leave the others unchanged."""
    W, H = args.size
    n_frames = round(args.seconds * args.fps)
    duration = n_frames / args.fps
    half = W // 2
    regions = {"centre": (0, 0, W, H), "left": (0, 0, half - PAIR_GAP // 2, H),
               "right": (half + PAIR_GAP - PAIR_GAP // 2, 0, W, H)}

    def stream(k):
        rng = np.random.default_rng([args.seed, k])
        return (rng, Deck(FER_LABELS, rng), {lab: Deck(pools[lab].tolist(), rng) for lab in FER_LABELS},
                Deck(sorted(voices), rng))

    def one(ctx, name, sides, with_voice=True, dur=duration, congruent=False):
        rng, label_deck, face_decks, voice_deck = ctx
        people = [plan_person(rng, s, regions[s], dur, args.fps, label_deck, face_decks, df) for s in sides]
        if congruent:
            voice = plan_congruent_voice(rng, people[0], voices)
        else:
            voice = plan_voice(rng, voice_deck.draw(), voices, dur) if with_voice else None
        return Plan(name, dur, args.fps, (W, H), people, voice, int(rng.integers(2**31)))

    main = stream(0)
    plans = [one(main, f"single_{i:02d}.mp4", ["centre"]) for i in range(args.n_single)]
    plans += [one(main, f"pair_{i:02d}.mp4", ["left", "right"]) for i in range(args.n_pair)]
    cong = stream(3)  # its own stream: adding these leaves the other videos unchanged
    plans += [one(cong, f"congruent_{i:02d}.mp4", ["centre"], congruent=True) for i in range(args.n_congruent)]
    edge = []
    if args.edge:
        ctx = stream(1)
        e_dur = round(EDGE_SECONDS * args.fps) / args.fps
        edge.append(one(ctx, "edge/no_audio.mp4", ["centre"], with_voice=False, dur=e_dur))
        e = one(ctx, "edge/no_faces.mp4", ["centre"], dur=e_dur)
        e.people = []
        edge.append(e)
        edge.append(one(ctx, "edge/vfr.mp4", ["centre"], dur=e_dur))
        edge.append(one(ctx, "edge/_good.mp4", ["centre"], dur=e_dur))          # the source of truncated*.mp4
    long_plan = one(stream(2), f"long_{args.long_minutes}min.mp4", ["centre"]) if args.long_minutes else None
    return plans, edge, long_plan, duration


def _check_gap(plan: Plan):
    """The two people's squares never come closer than PAIR_GAP px (checked on every frame)."""
    if len(plan.people) < 2:
        return
    a, b = plan.people
    for i in range(round(plan.duration * plan.fps)):
        t = i / plan.fps
        (ax, _, aw, _), (bx, _, _, _) = a.box(t), b.box(t)
        if bx - (ax + aw) < PAIR_GAP:
            raise GenerationError(f"{plan.name}: people {bx - (ax + aw)} px apart at t={t}")


def truth_of(plan: Plan, loop: float | None = None, total: float | None = None) -> dict:
    """Truth entry. With loop/total: the plan repeated every `loop` s up to `total` s."""
    duration = total or plan.duration
    reps = math.ceil(duration / loop) if loop else 1
    people = []
    for k, p in enumerate(plan.people):
        st, bd = [], []
        for r in range(reps):
            off = r * (loop or 0)
            for j, s in enumerate(p.stretches):
                if s["start"] + off >= duration:
                    break
                s2 = {kk: v for kk, v in s.items()}
                s2["start"], s2["end"] = round(s["start"] + off, 4), round(min(s["end"] + off, duration), 4)
                s2["fade_in"] = bool(s["fade_in"]) and j > 0
                st.append(s2)
                if st[:-1]:
                    bd.append({"t": s2["start"], "kind": "fade" if s2["fade_in"] else "cut"})
        n_box = math.floor(duration * BOX_RATE - 1e-9) + 1
        boxes = []
        for i in range(n_box):
            t = i / BOX_RATE
            boxes.append([round(t, 4), *p.box(t % loop if loop else t)])
        people.append({"person": k, "side": p.side, "face_side": p.size, "stretches": st,
                       "boundaries": bd, "boxes": boxes})
    voice = None
    if plan.voice is not None:
        clips = []
        for r in range(reps):
            off = r * (loop or 0)
            for c in plan.voice["clips"]:
                if c["start"] + off < duration:
                    clips.append({"file": c["file"], "start": round(c["start"] + off, 4),
                                  "end": round(min(c["end"] + off, duration), 4),
                                  **({"label": c["label"]} if "label" in c else {})})
        voice = {"label": plan.voice["label"], "ekman": plan.voice["ekman"], "clips": clips}
    return {"video": plan.name.split("/")[-1], "congruent": plan.voice is not None and plan.voice["label"] == "congruent",
            "duration": round(duration, 4), "fps": plan.fps,
            "size": list(plan.size), "n_frames": round(duration * plan.fps),
            "boundary_margin": FADE / 2, "people": people, "voice": voice}


# ---------------------------------------------------------------- rendering
def background(seed: int, size) -> np.ndarray:
    """A smooth, muted, non-uniform background: a coarse grid of low-saturation colours upscaled
    bicubic and blurred, plus a gentle diagonal light gradient."""
    import colorsys

    from PIL import Image, ImageFilter

    W, H = size
    rng = np.random.default_rng(seed)
    gx, gy = 5, 4
    cells = np.empty((gy, gx, 3), np.float32)
    base_h = rng.uniform(0, 1)
    for j in range(gy):
        for i in range(gx):
            h = (base_h + rng.uniform(-0.12, 0.12)) % 1.0
            cells[j, i] = colorsys.hsv_to_rgb(h, rng.uniform(0.12, 0.35), rng.uniform(0.35, 0.7))
    im = Image.fromarray((cells * 255).astype(np.uint8)).resize((W, H), Image.BICUBIC)
    im = im.filter(ImageFilter.GaussianBlur(radius=max(W, H) / 20))
    a = np.asarray(im).astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    grad = (np.cos(ang) * (xx / W - 0.5) + np.sin(ang) * (yy / H - 0.5)) * 40.0
    return np.clip(a + grad[..., None], 0, 255).astype(np.uint8)


class Renderer:
    def __init__(self, X):
        self.X = X
        self._face = functools.lru_cache(maxsize=128)(self._face_uncached)

    def _face_uncached(self, row: int, side: int) -> np.ndarray:
        from PIL import Image

        g = Image.fromarray(self.X[row]).resize((side, side), Image.BICUBIC)
        return np.asarray(g, dtype=np.float32)

    def frame(self, bg: np.ndarray, people, t: float) -> np.ndarray:
        out = bg.copy()
        H, W = bg.shape[:2]
        for p in people:
            x, y, w, h = p.box(t)
            if x < 0 or y < 0 or x + w > W or y + h > H:
                raise GenerationError(f"face box {(x, y, w, h)} leaves the {W}x{H} frame at t={t:.2f}")
            face = sum(wt * self._face(row, w) for row, wt in p.layers(t))
            out[y:y + h, x:x + w] = np.clip(face + 0.5, 0, 255).astype(np.uint8)[..., None]
        return out


def voice_track(plan: Plan, rav_root: Path) -> np.ndarray:
    n = round(plan.duration * SR)
    y = np.zeros(n, np.float32)
    for c in (plan.voice or {}).get("clips", []):
        clip = read_clip(str(rav_root / c["file"]))
        s = round(c["start"] * SR)
        m = min(len(clip), n - s, round((c["end"] - c["start"]) * SR))
        y[s:s + m] = clip[:m]
    return y


def encode(path: Path, *, size, fps, n_frames=0, frame_fn=None, audio_fn=None, n_samples=0,
           preset="veryfast", pts=None, faststart=False):
    """Write an mp4: H.264 video from frame_fn(i) -> RGB uint8 (frame i at pts[i] in a 1/90000
    time base when pts is given, else at i/fps) and/or AAC mono audio from audio_fn(start, n) ->
    float32 samples, interleaved as they are made (memory stays flat)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    W, H = size
    opts = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=opts) as c:
        vs = aus = None
        if frame_fn is not None:
            vs = c.add_stream("libx264", rate=fps, options={"preset": preset})
            vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
            vs.codec_context.thread_count = 1
            if pts is not None:
                vs.time_base = vs.codec_context.time_base = Fraction(1, 90000)
        if audio_fn is not None:
            aus = c.add_stream("aac", rate=SR, layout="mono")
            aus.bit_rate = 48000
        a_pos = 0

        def push_audio(upto):
            nonlocal a_pos
            while aus is not None and a_pos < min(upto, n_samples):
                k = min(AUDIO_FRAME, n_samples - a_pos)
                af = av.AudioFrame.from_ndarray(audio_fn(a_pos, k)[None].astype(np.float32), format="fltp",
                                                layout="mono")
                af.sample_rate, af.pts, af.time_base = SR, a_pos, Fraction(1, SR)
                for pk in aus.encode(af):
                    c.mux(pk)
                a_pos += k

        for i in range(n_frames if vs is not None else 0):
            t = pts[i] / 90000 if pts is not None else i / fps
            push_audio(int((t + 0.2) * SR))
            vf = av.VideoFrame.from_ndarray(frame_fn(i), format="rgb24")
            vf.pts = pts[i] if pts is not None else i
            for pk in vs.encode(vf):
                c.mux(pk)
        push_audio(n_samples)
        if vs is not None:
            for pk in vs.encode():
                c.mux(pk)
        if aus is not None:
            for pk in aus.encode():
                c.mux(pk)


def render(plan: Plan, out: Path, renderer: Renderer, rav_root: Path, *, audio=True, pts=None,
           faststart=False, preset="veryfast", loop_total=None):
    bg = background(plan.bg_seed, plan.size)
    fps = plan.fps
    if loop_total:          # the plan's content looping for loop_total seconds
        n_frames = round(loop_total * fps)
        per = round(plan.duration * fps)
        frame_fn = lambda i: renderer.frame(bg, plan.people, (i % per) / fps)
    elif pts is not None:
        n_frames = len(pts)
        frame_fn = lambda i: renderer.frame(bg, plan.people, pts[i] / 90000)
    else:
        n_frames = round(plan.duration * fps)
        frame_fn = lambda i: renderer.frame(bg, plan.people, i / fps)
    audio_fn, n_samples = None, 0
    if audio and plan.voice is not None:
        track = voice_track(plan, rav_root)
        n_samples = round((loop_total or plan.duration) * SR)
        audio_fn = lambda s, k: track[np.arange(s, s + k) % len(track)]
    encode(out, size=plan.size, fps=fps, n_frames=n_frames, frame_fn=frame_fn, audio_fn=audio_fn,
           n_samples=n_samples, preset=preset, pts=pts, faststart=faststart)


def vfr_pts(duration: float) -> list[int]:
    """Frame times (1/90000 s) whose gaps alternate 1/30 s and 1/10 s."""
    pts, t, k = [], 0, 0
    while t < duration * 90000:
        pts.append(t)
        t += 3000 if k % 2 == 0 else 9000
        k += 1
    return pts


def audio_only(plan: Plan, out: Path, rav_root: Path):
    track = voice_track(plan, rav_root)
    encode(out, size=plan.size, fps=plan.fps, audio_fn=lambda s, k: track[s:s + k], n_samples=len(track))


# ---------------------------------------------------------------- main
def _size(s: str):
    m = re.fullmatch(r"(\d+)x(\d+)", s.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 640x480, got {s!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if w % 2 or h % 2 or w < 160 or h < 120:
        raise argparse.ArgumentTypeError(f"size must be even and at least 160x120 (yuv420p), got {s!r}")
    return w, h


def _sha(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fer2013", required=True, help="FER2013 folder (labels.csv, test/<class>/*.jpg)")
    ap.add_argument("--ravdess", required=True, help="RAVDESS folder (Actor_XX/*.flac)")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-single", type=int, default=8)
    ap.add_argument("--n-pair", type=int, default=4)
    ap.add_argument("--usage", default="PublicTest", choices=["Training", "PublicTest", "PrivateTest"],
                    help="which FER2013 faces to show (Training: videos to train a temporal model on)")
    ap.add_argument("--n-congruent", type=int, default=6,
                    help="one-person videos whose voice says the face's emotion, stretch by stretch (fusion)")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--size", type=_size, default=(640, 480), help="WxH, default 640x480")
    ap.add_argument("--cache", default=None, help=".npz cache of the decoded FER2013 pixels")
    ap.add_argument("--long-minutes", type=int, default=0, help="also write long_{N}min.mp4 (one person, looping)")
    ap.add_argument("--no-edge", dest="edge", action="store_false", help="skip the edge/ files")
    ap.add_argument("--truth-only", action="store_true", help="write truth.json and manifest.json, no videos")
    args = ap.parse_args(argv)
    if args.seconds < 5 or args.fps < 1 or args.n_single < 0 or args.n_pair < 0 or args.long_minutes < 0:
        ap.error("need --seconds >= 5, --fps >= 1 and counts >= 0")

    from affekt.core.errors import AffektError

    global _RAV_ROOT
    t0 = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _RAV_ROOT = Path(args.ravdess)
    try:
        X, df, pools = load_faces(args.fer2013, args.cache, args.usage)
        voices = load_voices(args.ravdess)
        plans, edge, long_plan, duration = make_plans(args, df, pools, voices)
        for p in plans + edge + ([long_plan] if long_plan else []):
            _check_gap(p)
    except (GenerationError, AffektError) as e:
        sys.exit(f"make_face_videos: {e}")
    truth = [truth_of(p) for p in plans]
    (out / "truth.json").write_text(json.dumps(truth, indent=1))
    edge_truth = [truth_of(p) for p in edge if not p.name.endswith("_good.mp4")]
    t_plan = time.perf_counter() - t0

    timings = {}
    if not args.truth_only:
        renderer = Renderer(X)
        for p in plans:
            t = time.perf_counter()
            render(p, out / p.name, renderer, _RAV_ROOT)
            timings[p.name] = round(time.perf_counter() - t, 2)
            print(f"{p.name}: {timings[p.name]} s", flush=True)
        if args.edge:
            e = out / "edge"
            e.mkdir(exist_ok=True)
            by = {p.name.split("/")[-1]: p for p in edge}
            t = time.perf_counter()
            render(by["no_audio.mp4"], e / "no_audio.mp4", renderer, _RAV_ROOT, audio=False)
            render(by["no_faces.mp4"], e / "no_faces.mp4", renderer, _RAV_ROOT)
            audio_only(by["no_faces.mp4"], e / "audio_only.mp4", _RAV_ROOT)
            pts = vfr_pts(by["vfr.mp4"].duration)
            render(by["vfr.mp4"], e / "vfr.mp4", renderer, _RAV_ROOT, pts=pts)
            for name, fs in (("truncated.mp4", False), ("truncated_faststart.mp4", True)):
                good = e / ("_good_fs.mp4" if fs else "_good.mp4")
                render(by["_good.mp4"], good, renderer, _RAV_ROOT, faststart=fs)
                data = good.read_bytes()
                (e / name).write_bytes(data[: int(len(data) * 0.6)])
                good.unlink()
            (e / "empty.mp4").write_bytes(b"")
            (e / "text.mp4").write_text("This is a text file, not a video.\nIt is named .mp4 on purpose.\n")
            timings["edge"] = round(time.perf_counter() - t, 2)
            print(f"edge/: {timings['edge']} s", flush=True)
        if long_plan:
            t = time.perf_counter()
            render(long_plan, out / long_plan.name, renderer, _RAV_ROOT, preset="ultrafast",
                   loop_total=args.long_minutes * 60.0)
            timings[long_plan.name] = round(time.perf_counter() - t, 2)
            print(f"{long_plan.name}: {timings[long_plan.name]} s", flush=True)
    if args.edge:
        ao = dict(next(t for t in edge_truth if t["video"] == "no_faces.mp4"), video="audio_only.mp4",
                  fps=None, size=None, n_frames=0)
        edge_truth.append(ao)
        for t in edge_truth:
            if t["video"] == "vfr.mp4":
                t["frame_times"] = [round(x / 90000, 6) for x in vfr_pts(t["duration"])]
                t["fps"] = None
                t["n_frames"] = len(t["frame_times"])
        (out / "edge").mkdir(exist_ok=True)
        (out / "edge" / "truth.json").write_text(json.dumps(edge_truth, indent=1))
    if long_plan:
        lt = truth_of(long_plan, loop=long_plan.duration, total=args.long_minutes * 60.0)
        lt["loop_seconds"] = long_plan.duration
        (out / f"long_{args.long_minutes}min.json").write_text(json.dumps(lt))

    per_class = {lab: 0 for lab in FER_LABELS}
    seconds_class = {lab: 0.0 for lab in FER_LABELS}
    voice_counts: dict[str, int] = {}
    for t in truth:
        for p in t["people"]:
            for s in p["stretches"]:
                per_class[s["label"]] += 1
                seconds_class[s["label"]] += s["end"] - s["start"]
        voice_counts[t["voice"]["label"]] = voice_counts.get(t["voice"]["label"], 0) + 1
    import av

    files = {}
    for f in sorted(out.rglob("*")):
        if f.is_file() and f.name != "manifest.json":
            files[f.relative_to(out).as_posix()] = {"bytes": f.stat().st_size, "sha256": _sha(f)}
    manifest = {
        "command": " ".join(shlex.quote(a) for a in [sys.executable.split("/")[-1], *sys.argv]),
        "seed": args.seed, "n_single": args.n_single, "n_pair": args.n_pair, "seconds": duration,
        "fps": args.fps, "size": list(args.size), "long_minutes": args.long_minutes, "edge": args.edge,
        "truth_only": args.truth_only,
        "stretches_per_class": per_class, "seconds_per_class": {k: round(v, 2) for k, v in seconds_class.items()},
        "n_stretches": sum(per_class.values()), "distinct_faces": len({s["fer_row"] for t in truth
                                                                       for p in t["people"] for s in p["stretches"]}),
        "voice_emotions": dict(sorted(voice_counts.items())),
        "truth_sha256": _sha(out / "truth.json"),
        "timings_s": {"plan": round(t_plan, 2), **timings, "total": round(time.perf_counter() - t0, 2)},
        "versions": {"python": platform.python_version(), "av": av.__version__, "numpy": np.__version__},
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print(json.dumps({k: v for k, v in manifest.items() if k != "files"}, indent=1))


if __name__ == "__main__":
    main()
