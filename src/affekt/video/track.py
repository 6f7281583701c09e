"""Face tracks over sampled frames: a SORT-like tracker, and the CLEAR-MOT identity-switch count.

:class:`FaceTracker` links the face boxes detected on each sampled frame into tracks, one id per
person. For every live track it predicts where the face is at the frame's time (constant velocity
of the box centre and size, fitted to the track's last few observations), scores each detection
against each prediction by IoU and, when the caller passes appearance features (e.g. a face
embedding per box), by cosine similarity to the track's running mean feature, and pairs them with
the Hungarian algorithm (``scipy.optimize.linear_sum_assignment``). A track not seen for more than
``max_age`` *seconds* leaves the live set; for ``reid_age`` seconds more it can still be taken up
again by a detection no live track took that sits where it was last seen (centre within one box
width, size within ``reid_scale``, 3x by default): a face the detector missed for a few seconds
(turned away, looking down) keeps its id. A detection left over after that starts a new track.
Times are seconds, not frame numbers, because frames may be sampled at a variable rate
(variable-frame-rate phone video, frames dropped by the decoder).

:func:`match_to_truth` and :func:`identity_switches` score a tracker against known boxes (the
generated test videos of the benchmarks).
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from affekt.core.errors import InputError

Box = Sequence[float]  # (x, y, w, h) in pixels

#: how many recent observations a track's velocity is fitted to
_HISTORY = 4
#: a cost no real pair reaches: marks a pair the gate refused
_REFUSED = 1e6


@dataclass(frozen=True)
class TrackInfo:
    """What is known of one track: its id, when it was first and last seen (seconds), how many
    detections it was given, and its last observed box (x, y, w, h)."""

    id: int
    first: float
    last: float
    hits: int
    box: tuple[float, float, float, float]


@dataclass
class _Track:
    id: int
    first: float
    # recent observations as (t, cx, cy, w, h): the constant-velocity fit's input
    obs: deque = field(default_factory=lambda: deque(maxlen=_HISTORY))
    hits: int = 0
    feature: np.ndarray | None = None  # unit-length running mean (EMA) of the features seen

    @property
    def last(self) -> float:
        return self.obs[-1][0]

    def predict(self, t: float) -> np.ndarray:
        """The box (cx, cy, w, h) expected at time ``t``: the last observation moved on by the
        least-squares velocity of the recent ones (zero with a single observation)."""
        o = np.asarray(self.obs, dtype=np.float64)
        last = o[-1, 1:]
        dt = o[:, 0] - o[:, 0].mean()
        denom = float(dt @ dt)
        if denom <= 0.0:  # one observation, or all at one instant: no motion known
            return last.copy()
        vel = dt @ (o[:, 1:] - o[:, 1:].mean(axis=0)) / denom
        pred = last + vel * (t - o[-1, 0])
        # a size extrapolated far can shrink to nothing or blow up: keep it within 2x of the last
        pred[2:] = np.clip(pred[2:], last[2:] / 2.0, last[2:] * 2.0)
        return pred

    def add(self, t: float, cxcywh: np.ndarray, feature: np.ndarray | None, momentum: float):
        self.obs.append((t, *map(float, cxcywh)))
        self.hits += 1
        if feature is not None:
            if self.feature is None:
                self.feature = feature
            else:
                mixed = momentum * self.feature + (1.0 - momentum) * feature
                self.feature = mixed / max(float(np.linalg.norm(mixed)), 1e-12)

    def info(self) -> TrackInfo:
        _, cx, cy, w, h = self.obs[-1]
        return TrackInfo(self.id, self.first, self.last, self.hits,
                         (cx - w / 2.0, cy - h / 2.0, w, h))


# ---------------------------------------------------------------------------------------------
# boxes


def _check_boxes(boxes, what: str = "boxes") -> np.ndarray:
    """``boxes`` as a float (n, 4) array of (x, y, w, h), or an InputError naming the problem."""
    try:
        arr = np.asarray(boxes, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} must be a list of (x, y, w, h) numbers: {exc}") from None
    if arr.size == 0:
        return np.zeros((0, 4))
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InputError(f"{what} must be a list of (x, y, w, h) boxes; got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{what} contain a NaN or infinite coordinate")
    bad = np.flatnonzero((arr[:, 2] <= 0) | (arr[:, 3] <= 0))
    if bad.size:
        raise InputError(f"{what}[{bad[0]}] = {tuple(arr[bad[0]])} has a width or height <= 0")
    return arr


def _to_cxcywh(xywh: np.ndarray) -> np.ndarray:
    out = xywh.copy()
    out[:, :2] += out[:, 2:] / 2.0
    return out


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``a`` (n, 4) with every box in ``b`` (m, 4), both (x, y, w, h)."""
    ax0, ay0, aw, ah = (a[:, i:i + 1] for i in range(4))
    bx0, by0, bw, bh = (b[None, :, i] for i in range(4))
    iw = np.clip(np.minimum(ax0 + aw, bx0 + bw) - np.maximum(ax0, bx0), 0.0, None)
    ih = np.clip(np.minimum(ay0 + ah, by0 + bh) - np.maximum(ay0, by0), 0.0, None)
    inter = iw * ih
    return inter / (aw * ah + bw * bh - inter)


# ---------------------------------------------------------------------------------------------
# the tracker


class FaceTracker:
    """Links face boxes over sampled frames into tracks (one id per person), SORT-like.

    ``iou_threshold``: the least IoU between a detection and a track's predicted box to pair them
    (low: at a few sampled frames per second a moving face overlaps its prediction little;
    benchmarks/video_tracking.py compares settings).
    ``max_age``: seconds a track survives without a detection before it leaves the live set.
    ``reid_age``: seconds after that during which a detection where the track was last seen takes
    it up again (0: never; a new person who sits down where another left within that time takes
    the old id).
    ``reid_scale``: how much bigger or smaller than its usual size a face may come back and still
    be taken up by its lost track (a person leaning in after looking away: the detector's box of
    the same face varies with pose and framing, by 2.4x in the generated pair videos).
    ``min_hits``: detections a track needs to count as a person (:meth:`confirmed`).
    ``appearance_weight``: share of the pairing cost given to appearance when features are passed
    (the rest is 1 - IoU). ``min_similarity``: the cosine similarity that lets a detection join a
    track its predicted box missed (IoU under the threshold) when its centre is within one box
    width of the prediction. ``feature_momentum``: how much of a track's mean feature is kept at
    each new detection (an EMA).
    """

    def __init__(self, *, iou_threshold: float = 0.1, max_age: float = 1.0, min_hits: int = 2,
                 appearance_weight: float = 0.3, min_similarity: float = 0.7,
                 feature_momentum: float = 0.8, reid_age: float = 5.0, reid_scale: float = 3.0):
        if not 0.0 < iou_threshold <= 1.0:
            raise InputError(f"iou_threshold must be in (0, 1]; got {iou_threshold}")
        if not max_age >= 0.0:
            raise InputError(f"max_age must be >= 0 seconds; got {max_age}")
        if not reid_age >= 0.0:
            raise InputError(f"reid_age must be >= 0 seconds; got {reid_age}")
        if not reid_scale >= 1.0:
            raise InputError(f"reid_scale must be >= 1; got {reid_scale}")
        if min_hits < 1:
            raise InputError(f"min_hits must be >= 1; got {min_hits}")
        if not 0.0 <= appearance_weight <= 1.0:
            raise InputError(f"appearance_weight must be in [0, 1]; got {appearance_weight}")
        if not 0.0 <= feature_momentum < 1.0:
            raise InputError(f"feature_momentum must be in [0, 1); got {feature_momentum}")
        self.iou_threshold = float(iou_threshold)
        self.max_age = float(max_age)
        self.min_hits = int(min_hits)
        self.appearance_weight = float(appearance_weight)
        self.min_similarity = float(min_similarity)
        self.feature_momentum = float(feature_momentum)
        self.reid_age = float(reid_age)
        self.reid_scale = float(reid_scale)
        self._live: list[_Track] = []
        self._lost: list[_Track] = []
        self._all: dict[int, _Track] = {}
        self._t: float | None = None

    # -- public ---------------------------------------------------------------------------------

    def update(self, t: float, boxes: Sequence[Box], features: np.ndarray | None = None
               ) -> list[int]:
        """Feed the faces detected on the frame at time ``t`` (seconds); returns a track id per
        box, in the boxes' order. ``features``: optional (n, d) appearance features, one row per
        box (any embedding; compared by cosine similarity)."""
        t = self._check_time(t)
        det = _check_boxes(boxes)
        feats = self._check_features(features, len(det))
        self._t = t
        # tracks not seen for more than max_age seconds leave the live set; lost ones too old retire
        self._lost += [tr for tr in self._live if t - tr.last > self.max_age]
        self._live = [tr for tr in self._live if t - tr.last <= self.max_age]
        self._lost = [tr for tr in self._lost if t - tr.last <= self.max_age + self.reid_age]

        pairs = self._match(t, det, feats)
        ids: list[int] = [-1] * len(det)
        cxcywh = _to_cxcywh(det)
        for d, k in pairs:
            tr = self._live[k]
            tr.add(t, cxcywh[d], None if feats is None else feats[d], self.feature_momentum)
            ids[d] = tr.id
        left = [d for d in range(len(det)) if ids[d] < 0]
        for d, k in self._rejoin(cxcywh[left]) if left and self._lost else []:
            tr = self._lost[k]
            tr.add(t, cxcywh[left[d]], None if feats is None else feats[left[d]], self.feature_momentum)
            ids[left[d]] = tr.id
        back = {ids[d] for d in left if ids[d] >= 0}
        self._live += [tr for tr in self._lost if tr.id in back]
        self._lost = [tr for tr in self._lost if tr.id not in back]
        for d in range(len(det)):
            if ids[d] < 0:  # no track took it: a new one starts here
                tr = _Track(id=len(self._all), first=t)
                tr.add(t, cxcywh[d], None if feats is None else feats[d], self.feature_momentum)
                self._all[tr.id] = tr
                self._live.append(tr)
                ids[d] = tr.id
        return ids

    @property
    def tracks(self) -> list[TrackInfo]:
        """Every track ever made, retired ones included, in id order."""
        return [tr.info() for tr in self._all.values()]

    def confirmed(self) -> set[int]:
        """Ids of the tracks with at least ``min_hits`` detections: a face seen on a single frame is
        more likely a false detection than a person."""
        return {tr.id for tr in self._all.values() if tr.hits >= self.min_hits}

    # -- internals ------------------------------------------------------------------------------

    def _check_time(self, t) -> float:
        try:
            t = float(t)
        except (TypeError, ValueError):
            raise InputError(f"frame time must be a number of seconds; got {t!r}") from None
        if not np.isfinite(t):
            raise InputError(f"frame time must be finite; got {t}")
        if self._t is not None and t < self._t:
            raise InputError(f"frame times must not go backwards: {t} s after {self._t} s")
        return t

    def _check_features(self, features, n: int) -> np.ndarray | None:
        if features is None:
            return None
        f = np.asarray(features, dtype=np.float64)
        if n == 0 and f.size == 0:  # no faces on this frame: nothing to compare
            return None
        if f.ndim != 2 or f.shape[0] != n:
            raise InputError(f"features must have one row per box ({n} boxes); got shape {f.shape}")
        if not np.isfinite(f).all():
            raise InputError("features contain a NaN or infinite value")
        dims = {tr.feature.shape[0] for tr in self._all.values() if tr.feature is not None}
        if n and dims and f.shape[1] not in dims:
            raise InputError(f"features have {f.shape[1]} columns; earlier frames had {dims.pop()}")
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)

    def _rejoin(self, det: np.ndarray) -> list[tuple[int, int]]:
        """Pairs (detection index, lost-track index) of detections (cx, cy, w, h) that sit where a
        lost track was last seen: centre within one box width, size within ``reid_scale`` of the
        track's median recent size (a face fading out of view often leaves a last, too small box);
        nearest first."""
        last = np.stack([np.asarray(tr.obs[-1][1:], dtype=np.float64) for tr in self._lost])
        last[:, 2:] = np.stack([np.median(np.asarray(tr.obs, dtype=np.float64)[:, 3:], axis=0) for tr in self._lost])
        dist = np.linalg.norm(det[:, None, :2] - last[None, :, :2], axis=2)
        ratio = det[:, None, 2] / last[None, :, 2]
        gate = ((dist < np.maximum(det[:, None, 2], last[None, :, 2])) & (ratio >= 1.0 / self.reid_scale)
                & (ratio <= self.reid_scale))
        if not gate.any():
            return []
        rows, cols = linear_sum_assignment(np.where(gate, dist, _REFUSED))
        return [(int(r), int(c)) for r, c in zip(rows, cols) if gate[r, c]]

    def _match(self, t: float, det: np.ndarray, feats: np.ndarray | None) -> list[tuple[int, int]]:
        """Pairs (detection index, live-track index) by Hungarian on the gated cost."""
        if len(det) == 0 or not self._live:
            return []
        pred = np.stack([tr.predict(t) for tr in self._live])  # (m, 4) cx, cy, w, h
        pred_xywh = pred.copy()
        pred_xywh[:, :2] -= pred[:, 2:] / 2.0
        iou = _iou(det, pred_xywh)  # (n, m)
        gate = iou >= self.iou_threshold
        cost = 1.0 - iou

        # appearance: cosine similarity with each track's mean feature (0 where a track has none)
        with_feat = np.array([tr.feature is not None for tr in self._live])
        if feats is not None and with_feat.any() and self.appearance_weight > 0:
            sim = np.zeros_like(iou)
            means = np.stack([tr.feature for tr in self._live if tr.feature is not None])
            sim[:, with_feat] = feats @ means.T
            w = self.appearance_weight
            cost = np.where(with_feat[None, :], (1.0 - w) * cost + w * (1.0 - sim), cost)
            # a prediction that went astray (a sudden turn, a long gap at a low sampling rate):
            # still pair a detection close to it that looks like the track
            centre = det[:, None, :2] + det[:, None, 2:] / 2.0
            dist = np.linalg.norm(centre - pred[None, :, :2], axis=2)
            near = dist < np.maximum(det[:, None, 2], pred[None, :, 2])
            gate |= near & with_feat[None, :] & (sim >= self.min_similarity)

        cost = np.where(gate, cost, _REFUSED)
        rows, cols = linear_sum_assignment(cost)
        return [(int(r), int(c)) for r, c in zip(rows, cols) if gate[r, c]]


# ---------------------------------------------------------------------------------------------
# scoring against known boxes


def match_to_truth(truth_boxes: Sequence[Sequence[Box]], pred_boxes: Sequence[Sequence[Box]],
                   pred_ids: Sequence[Sequence[int]], iou_min: float = 0.3
                   ) -> list[list[int | None]]:
    """Pairs, frame by frame, the known boxes with the tracker's boxes (Hungarian on IoU, pairs
    under ``iou_min`` refused) and returns, per frame, each known box's predicted track id, or
    None where no predicted box matched it. The three inputs are lists with one entry per frame;
    ``pred_ids[f]`` is aligned with ``pred_boxes[f]``."""
    if not len(truth_boxes) == len(pred_boxes) == len(pred_ids):
        raise InputError(f"truth_boxes, pred_boxes and pred_ids must have one entry per frame; got "
                         f"{len(truth_boxes)}, {len(pred_boxes)} and {len(pred_ids)} frames")
    out: list[list[int | None]] = []
    for f, (tb, pb, pi) in enumerate(zip(truth_boxes, pred_boxes, pred_ids)):
        tb = _check_boxes(tb, f"truth_boxes[{f}]")
        pb = _check_boxes(pb, f"pred_boxes[{f}]")
        if len(pi) != len(pb):
            raise InputError(f"frame {f}: {len(pb)} predicted boxes but {len(pi)} predicted ids")
        got: list[int | None] = [None] * len(tb)
        if len(tb) and len(pb):
            iou = _iou(tb, pb)
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols):
                if iou[r, c] >= iou_min:
                    got[r] = pi[c]
        out.append(got)
    return out


def identity_switches(truth_ids: Sequence[Sequence], pred_ids: Sequence[Sequence]) -> int:
    """CLEAR-MOT identity switches: per frame, the known objects' ids and the predicted track id
    paired with each (same order; None where the object was missed). A switch is counted each time
    an object is paired with a track id other than the one it was last paired with; frames where
    it is missed do not reset that memory (a miss is not a switch)."""
    if len(truth_ids) != len(pred_ids):
        raise InputError(f"truth_ids has {len(truth_ids)} frames but pred_ids has {len(pred_ids)}")
    last: dict = {}
    switches = 0
    for f, (tf, pf) in enumerate(zip(truth_ids, pred_ids)):
        if len(tf) != len(pf):
            raise InputError(f"frame {f}: {len(tf)} truth ids but {len(pf)} predicted ids")
        for obj, pid in zip(tf, pf):
            if pid is None:
                continue
            if obj in last and last[obj] != pid:
                switches += 1
            last[obj] = pid
    return switches
