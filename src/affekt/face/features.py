"""Hand-made face features for the classical baselines.

- :func:`geometric_features`: distances, angles and ratios between facial landmarks
  (:mod:`affekt.face.landmarks`), invariant to translation, scale and in-plane rotation: the
  points are moved so the eyes' midpoint is the origin, turned so the eye line is horizontal,
  and divided by the inter-ocular distance (between the two eye centres). Works on MediaPipe
  FaceMesh's 468 (or 478, with irises) points and on dlib's 68, through one table of named
  points per scheme, so both give the same features (:data:`GEOMETRIC_NAMES`).
- :func:`hog_features`: histograms of oriented gradients (Dalal & Triggs, 2005) of grey faces,
  through ``skimage.feature.hog``.

Conventions: "r" / "l" are the subject's right / left (the subject's right eye is on the
viewer's left). After normalisation x grows towards the subject's left eye and y grows
**upwards** (a raised brow or mouth corner has a larger y).
"""
from __future__ import annotations

import numpy as np

from affekt.core.errors import InputError, MissingDependencyError

# Named points: each is the mean of the listed landmark indices.
#
# MediaPipe FaceMesh (468 / 478 points; indices from MediaPipe's face_mesh canonical model and
# its FACEMESH_* connection sets):
#   region      point         indices                  what
#   eyes        eye_r_outer   33                       right eye, outer corner
#               eye_r_inner   133                      right eye, inner corner
#               eye_r_upper   159, 158, 160            right upper lid (middle)
#               eye_r_lower   145, 144, 153            right lower lid (middle)
#               eye_l_outer   263                      left eye, outer corner
#               eye_l_inner   362                      left eye, inner corner
#               eye_l_upper   386, 385, 387            left upper lid
#               eye_l_lower   374, 373, 380            left lower lid
#   brows       brow_r_outer  70                       right brow, outer end (upper edge)
#               brow_r_mid    105                      right brow, middle
#               brow_r_inner  107                      right brow, inner end
#               brow_l_outer  300, brow_l_mid 334, brow_l_inner 336
#   nose        nose_bridge   168                      between the eyes
#               nose_tip      1
#               nose_base     2                        subnasale
#               nostril_r     98, nostril_l 327        alae
#   lips        mouth_r       61                       right mouth corner
#               mouth_l       291                      left mouth corner
#               lip_top       0                        upper lip, outer edge (middle)
#               lip_upper_in  13                       upper lip, inner edge
#               lip_lower_in  14                       lower lip, inner edge
#               lip_bottom    17                       lower lip, outer edge
#               lip_top_r 37, lip_top_l 267            upper lip outer edge beside the middle
#               lip_bottom_r 84, lip_bottom_l 314      lower lip outer edge beside the middle
#   jaw         chin          152
#               jaw_r         234, jaw_l 454           face sides at eye height
#               jaw_angle_r   172, jaw_angle_l 397     jaw angles
FACEMESH_POINTS_TABLE: dict[str, tuple[int, ...]] = {
    "eye_r_outer": (33,), "eye_r_inner": (133,), "eye_r_upper": (159, 158, 160), "eye_r_lower": (145, 144, 153),
    "eye_l_outer": (263,), "eye_l_inner": (362,), "eye_l_upper": (386, 385, 387), "eye_l_lower": (374, 373, 380),
    "brow_r_outer": (70,), "brow_r_mid": (105,), "brow_r_inner": (107,),
    "brow_l_outer": (300,), "brow_l_mid": (334,), "brow_l_inner": (336,),
    "nose_bridge": (168,), "nose_tip": (1,), "nose_base": (2,), "nostril_r": (98,), "nostril_l": (327,),
    "mouth_r": (61,), "mouth_l": (291,), "lip_top": (0,), "lip_upper_in": (13,), "lip_lower_in": (14,),
    "lip_bottom": (17,), "lip_top_r": (37,), "lip_top_l": (267,), "lip_bottom_r": (84,), "lip_bottom_l": (314,),
    "chin": (152,), "jaw_r": (234,), "jaw_l": (454,), "jaw_angle_r": (172,), "jaw_angle_l": (397,),
}

# dlib / iBUG 300-W 68 points (0-based): jaw 0-16, right brow 17-21, left brow 22-26, nose
# bridge 27-30, nostrils 31-35, right eye 36-41, left eye 42-47, outer lips 48-59, inner 60-67.
DLIB68_POINTS_TABLE: dict[str, tuple[int, ...]] = {
    "eye_r_outer": (36,), "eye_r_inner": (39,), "eye_r_upper": (37, 38), "eye_r_lower": (41, 40),
    "eye_l_outer": (45,), "eye_l_inner": (42,), "eye_l_upper": (43, 44), "eye_l_lower": (47, 46),
    "brow_r_outer": (17,), "brow_r_mid": (19,), "brow_r_inner": (21,),
    "brow_l_outer": (26,), "brow_l_mid": (24,), "brow_l_inner": (22,),
    "nose_bridge": (27,), "nose_tip": (30,), "nose_base": (33,), "nostril_r": (31,), "nostril_l": (35,),
    "mouth_r": (48,), "mouth_l": (54,), "lip_top": (51,), "lip_upper_in": (62,), "lip_lower_in": (66,),
    "lip_bottom": (57,), "lip_top_r": (50,), "lip_top_l": (52,), "lip_bottom_r": (58,), "lip_bottom_l": (56,),
    "chin": (8,), "jaw_r": (1,), "jaw_l": (15,), "jaw_angle_r": (4,), "jaw_angle_l": (12,),
}
assert FACEMESH_POINTS_TABLE.keys() == DLIB68_POINTS_TABLE.keys()
_POINTS = tuple(FACEMESH_POINTS_TABLE)

# key points whose normalised (x, y) are features themselves
_COORD_POINTS = ("brow_r_outer", "brow_r_mid", "brow_r_inner", "brow_l_inner", "brow_l_mid", "brow_l_outer",
                 "eye_r_outer", "eye_r_inner", "eye_l_inner", "eye_l_outer", "eye_r_upper", "eye_r_lower",
                 "eye_l_upper", "eye_l_lower", "nose_tip", "nose_base", "nostril_r", "nostril_l",
                 "mouth_r", "mouth_l", "lip_top", "lip_top_r", "lip_top_l", "lip_upper_in", "lip_lower_in",
                 "lip_bottom", "lip_bottom_r", "lip_bottom_l", "chin", "jaw_r", "jaw_l", "jaw_angle_r",
                 "jaw_angle_l")


def _table_for(n_points: int) -> dict[str, tuple[int, ...]]:
    if n_points in (468, 478):
        return FACEMESH_POINTS_TABLE
    if n_points == 68:
        return DLIB68_POINTS_TABLE
    raise InputError(f"geometric features: landmarks must be FaceMesh's 468/478 or dlib's 68 points, got {n_points}")


def _dist(a, b):
    return np.hypot(a[:, 0] - b[:, 0], a[:, 1] - b[:, 1])


def _angle(v):
    """Angle of vectors (n, 2) against the +x axis, in radians."""
    return np.arctan2(v[:, 1], v[:, 0])


def _corner_angle(c, a, b):
    """Angle at point ``c`` between rays c->a and c->b, in radians."""
    u, v = a - c, b - c
    cos = (u * v).sum(1) / np.maximum(np.hypot(*u.T) * np.hypot(*v.T), 1e-9)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _features(p: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All features from normalised named points ``p`` (each (n, 2), y up)."""
    f: dict[str, np.ndarray] = {}
    eps = 1e-6
    mouth_c = (p["lip_upper_in"] + p["lip_lower_in"]) / 2
    for s in ("r", "l"):
        eye_c = (p[f"eye_{s}_outer"] + p[f"eye_{s}_inner"]) / 2
        width = _dist(p[f"eye_{s}_outer"], p[f"eye_{s}_inner"])
        opening = p[f"eye_{s}_upper"][:, 1] - p[f"eye_{s}_lower"][:, 1]
        f[f"eye_{s}_width"] = width
        f[f"eye_{s}_open"] = opening
        f[f"eye_{s}_open_ratio"] = opening / np.maximum(width, eps)
        for part in ("outer", "mid", "inner"):
            f[f"brow_{s}_{part}_above_eye"] = p[f"brow_{s}_{part}"][:, 1] - eye_c[:, 1]
        f[f"brow_{s}_mid_above_lid"] = p[f"brow_{s}_mid"][:, 1] - p[f"eye_{s}_upper"][:, 1]
        # slope of the brow, inner end to outer end, mirrored so both sides read alike:
        # positive when the outer end is higher
        v = p[f"brow_{s}_outer"] - p[f"brow_{s}_inner"]
        v = v * np.array([1.0 if s == "l" else -1.0, 1.0])
        f[f"brow_{s}_slope"] = _angle(v)
        # the brow's arch: angle at its middle
        f[f"brow_{s}_arch_angle"] = _corner_angle(p[f"brow_{s}_mid"], p[f"brow_{s}_outer"], p[f"brow_{s}_inner"])
        corner = p[f"mouth_{s}"]
        f[f"mouth_{s}_corner_up"] = corner[:, 1] - mouth_c[:, 1]
        f[f"mouth_{s}_corner_to_eye"] = _dist(corner, eye_c)
        f[f"mouth_{s}_corner_to_nose"] = _dist(corner, p["nose_base"])
        f[f"mouth_{s}_corner_angle"] = _corner_angle(corner, p["lip_top"], p["lip_bottom"])
        # rise of the corner from the mouth centre, mirrored (positive = corner above the centre)
        v = corner - mouth_c
        v = v * np.array([1.0 if s == "l" else -1.0, 1.0])
        f[f"mouth_{s}_corner_slope"] = _angle(v)
        f[f"jaw_{s}_angle_to_mouth"] = _dist(p[f"jaw_angle_{s}"], corner)
    f["brow_inner_gap"] = _dist(p["brow_r_inner"], p["brow_l_inner"])
    f["brow_outer_gap"] = _dist(p["brow_r_outer"], p["brow_l_outer"])
    f["brow_inner_to_bridge"] = (p["brow_r_inner"][:, 1] + p["brow_l_inner"][:, 1]) / 2 - p["nose_bridge"][:, 1]
    width = _dist(p["mouth_r"], p["mouth_l"])
    outer_h = _dist(p["lip_top"], p["lip_bottom"])
    inner_h = p["lip_upper_in"][:, 1] - p["lip_lower_in"][:, 1]
    f["mouth_width"] = width
    f["mouth_height_outer"] = outer_h
    f["mouth_open_inner"] = inner_h
    f["mouth_aspect_outer"] = outer_h / np.maximum(width, eps)
    f["mouth_aspect_inner"] = inner_h / np.maximum(width, eps)
    f["mouth_corners_up"] = (f["mouth_r_corner_up"] + f["mouth_l_corner_up"]) / 2
    f["mouth_corner_asymmetry"] = f["mouth_r_corner_up"] - f["mouth_l_corner_up"]
    f["upper_lip_thickness"] = p["lip_top"][:, 1] - p["lip_upper_in"][:, 1]
    f["lower_lip_thickness"] = p["lip_lower_in"][:, 1] - p["lip_bottom"][:, 1]
    f["upper_lip_curve"] = (p["lip_top_r"][:, 1] + p["lip_top_l"][:, 1]) / 2 - p["lip_top"][:, 1]
    f["lower_lip_curve"] = (p["lip_bottom_r"][:, 1] + p["lip_bottom_l"][:, 1]) / 2 - p["lip_bottom"][:, 1]
    f["nose_to_mouth"] = p["nose_base"][:, 1] - p["lip_top"][:, 1]
    f["nose_tip_to_mouth_centre"] = _dist(p["nose_tip"], mouth_c)
    f["mouth_centre_to_chin"] = _dist(mouth_c, p["chin"])
    f["nose_to_chin"] = _dist(p["nose_base"], p["chin"])
    f["eyes_to_chin"] = -p["chin"][:, 1]
    f["eyes_to_mouth_centre"] = -mouth_c[:, 1]
    f["nostril_width"] = _dist(p["nostril_r"], p["nostril_l"])
    f["face_width"] = _dist(p["jaw_r"], p["jaw_l"])
    f["jaw_width"] = _dist(p["jaw_angle_r"], p["jaw_angle_l"])
    f["mouth_to_face_width"] = width / np.maximum(f["face_width"], eps)
    f["chin_angle"] = _corner_angle(p["chin"], p["jaw_angle_r"], p["jaw_angle_l"])
    # head turn seen in the plane: where the nose tip sits between the face sides (0.5 = frontal)
    f["nose_tip_offset"] = (p["nose_tip"][:, 0] - p["jaw_r"][:, 0]) / np.maximum(
        p["jaw_l"][:, 0] - p["jaw_r"][:, 0], eps)
    for name in _COORD_POINTS:
        f[f"{name}_x"] = p[name][:, 0]
        f[f"{name}_y"] = p[name][:, 1]
    return f


def _named_points(lm: np.ndarray) -> dict[str, np.ndarray]:
    table = _table_for(lm.shape[1])
    return {k: lm[:, list(idx), :2].mean(axis=1) for k, idx in table.items()}


def normalise_landmarks(landmarks) -> np.ndarray:
    """Landmarks ``(n, P, 2|3)`` -> ``(n, P, 2)``: eyes' midpoint at the origin, eye line along +x
    (subject's right eye at (-0.5, 0), left eye at (0.5, 0)), inter-ocular distance 1, y up."""
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 3 or lm.shape[2] not in (2, 3):
        raise InputError(f"geometric features: landmarks must be an array (n, points, 2|3), got shape {lm.shape}")
    if not np.isfinite(lm).all():
        bad = np.flatnonzero(~np.isfinite(lm).all(axis=(1, 2)))
        raise InputError(f"geometric features: landmarks of face(s) {bad[:10].tolist()} are not finite")
    table = _table_for(lm.shape[1])
    xy = lm[:, :, :2]
    eye_r = xy[:, list(table["eye_r_outer"] + table["eye_r_inner"])].mean(axis=1)
    eye_l = xy[:, list(table["eye_l_outer"] + table["eye_l_inner"])].mean(axis=1)
    d = eye_l - eye_r
    iod = np.hypot(d[:, 0], d[:, 1])
    if (iod < 1e-6).any():
        bad = np.flatnonzero(iod < 1e-6)
        raise InputError(f"geometric features: face(s) {bad[:10].tolist()} have both eyes at the same point")
    cos, sin = d[:, 0] / iod, d[:, 1] / iod
    centred = xy - ((eye_r + eye_l) / 2)[:, None, :]
    # rotate by -angle (image coordinates, y down), then flip y so it grows upwards
    x = (cos[:, None] * centred[..., 0] + sin[:, None] * centred[..., 1]) / iod[:, None]
    y = (-sin[:, None] * centred[..., 0] + cos[:, None] * centred[..., 1]) / iod[:, None]
    return np.stack([x, -y], axis=-1)


def _names() -> tuple[str, ...]:
    probe = np.zeros((1, 68, 2))
    probe[0, :, 0] = np.arange(68)
    probe[0, :, 1] = np.arange(68) % 7
    return tuple(_features(_named_points(normalise_landmarks(probe))))


GEOMETRIC_NAMES: tuple[str, ...] = _names()


def geometric_features(landmarks) -> np.ndarray:
    """Geometric features ``(n, len(GEOMETRIC_NAMES))`` float32 of landmarks ``(n, P, 2|3)``
    (P = 468/478 FaceMesh or 68 dlib; z is ignored): distances, angles (radians) and ratios
    after :func:`normalise_landmarks`, plus the normalised (x, y) of key points."""
    p = _named_points(normalise_landmarks(landmarks))
    f = _features(p)
    return np.stack([f[k] for k in GEOMETRIC_NAMES], axis=1).astype(np.float32)


def _grey_faces(faces) -> np.ndarray:
    faces = np.asarray(faces)
    if faces.dtype != np.uint8:
        raise InputError(f"HOG features: faces must be uint8 images, got dtype {faces.dtype}")
    if faces.ndim == 4 and faces.shape[-1] == 3:
        # ITU-R 601-2 luma, as PIL's convert("L")
        faces = np.rint(faces @ np.array([0.299, 0.587, 0.114])).clip(0, 255).astype(np.uint8)
    if faces.ndim != 3 or min(faces.shape[1:]) < 1:
        raise InputError(f"HOG features: expected faces (n, h, w) grey or (n, h, w, 3) RGB, got shape {faces.shape}")
    return faces


def hog_dim(size: int = 48, cell: int | None = None) -> int:
    """Length of a :func:`hog_features` vector at ``size`` (and ``cell``)."""
    cells = size // (cell or _cell(size))
    blocks = max(cells - 1, 0)
    return blocks * blocks * 2 * 2 * 9


def _cell(size: int) -> int:
    return max(2, size // 6)


def hog_features(faces, size: int = 48, cell: int | None = None) -> np.ndarray:
    """HOG of grey faces ``(n, h, w)`` uint8 (RGB ``(n, h, w, 3)`` is turned grey), resized to
    ``size`` x ``size`` when needed: 9 orientations, 2x2-cell blocks, L2-Hys, and square cells of
    ``cell`` pixels (default ``size // 6``: 8x8 at 48 px, a 6x6 grid at any size, 900 values;
    ``cell=4`` at 48 px gives 4,356). Returns ``(n, hog_dim(size, cell))`` float32."""
    try:
        from skimage.feature import hog
    except ImportError as exc:
        raise MissingDependencyError("HOG features need scikit-image: pip install scikit-image") from exc
    if int(size) < 16:
        raise InputError(f"HOG features: size must be at least 16 pixels, got {size}")
    size = int(size)
    cell = int(cell) if cell else _cell(size)
    if not 2 <= cell <= size // 2:
        raise InputError(f"HOG features: cell must be 2..{size // 2} pixels at size {size}, got {cell}")
    faces = _grey_faces(faces)
    out = np.empty((len(faces), hog_dim(size, cell)), np.float32)
    resize = faces.shape[1:] != (size, size)
    if resize:
        from PIL import Image
    for i, face in enumerate(faces):
        if resize:
            face = np.asarray(Image.fromarray(face).resize((size, size), Image.Resampling.BILINEAR))
        out[i] = hog(face, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
                     block_norm="L2-Hys", feature_vector=True)
    return out
