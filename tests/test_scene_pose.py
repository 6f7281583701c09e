"""MoveNet SinglePose Lightning keypoints and pose features (affekt.scene.pose).

The reference keypoints are libcoral's for the same model file and image (packaged in
affekt/scene/data/, so the test needs nothing outside the package)."""
from __future__ import annotations

import threading

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert")
pytest.importorskip("PIL")

from PIL import features

from affekt.core.errors import InputError
from affekt.scene.pose import (
    KEYPOINT_NAMES,
    POSE_FEATURE_NAMES,
    Keypoints,
    MoveNet,
    keypoints_batch,
    pose_features,
    reference_case,
)

TOLERANCE = 0.02  # normalised coordinates, the target of issue 16


@pytest.fixture(scope="module")
def ref():
    if not features.check("webp"):
        pytest.skip("this Pillow cannot read WebP")
    return reference_case()


@pytest.fixture(scope="module")
def stretch():
    return MoveNet(fit="stretch")


@pytest.fixture(scope="module")
def pad():
    return MoveNet()


def _max_dev(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.asarray(a)[:, :2] - np.asarray(b)[:, :2]).max())


# ----------------------------------------------------------------------------- reference
def test_reference_keypoints_within_tolerance(ref, stretch):
    """libcoral made the reference by resizing the whole image to 192x192 (bilinear, half-pixel
    centres, aspect not kept): the same pre-processing must land every keypoint within 0.02."""
    rgb, expected = ref
    assert rgb.shape == (610, 500, 3)
    kps = stretch.keypoints(rgb)
    assert isinstance(kps, Keypoints)
    assert kps.array.shape == (17, 3) and kps.array.dtype == np.float32
    dev = _max_dev(kps.array, expected)
    print(f"max keypoint deviation from the reference (fit=stretch): {dev:.4f}")
    assert dev <= TOLERANCE, (dev, np.abs(kps.array[:, :2] - expected[:, :2]).max(axis=1))


def test_reference_keypoints_aspect_kept(ref, pad):
    """The default (the image padded to a square, as the official MoveNet code does) sees the
    image differently from the reference, so only the same body is checked (0.04: the spread of
    this int8 model under small input changes)."""
    rgb, expected = ref
    dev = _max_dev(pad.keypoints(rgb).array, expected)
    print(f"max keypoint deviation from the reference (fit=pad): {dev:.4f}")
    assert dev <= 0.04


def test_same_pixels_give_same_keypoints(ref, stretch, pad):
    rgb, _ = ref
    a = pad.keypoints(rgb).array
    np.testing.assert_array_equal(a, pad.keypoints(rgb.copy()).array)
    # a PIL image is read as affekt reads images
    from PIL import Image

    np.testing.assert_array_equal(a, pad.keypoints(Image.fromarray(rgb)).array)


# ----------------------------------------------------------------------------- boxes
def _canvas(rgb: np.ndarray, ox: int, oy: int, size=(900, 1300)) -> np.ndarray:
    h, w = rgb.shape[:2]
    out = np.zeros((size[0], size[1], 3), np.uint8)
    out[oy:oy + h, ox:ox + w] = rgb
    return out


@pytest.mark.parametrize("fit", ["stretch", "pad"])
def test_box_maps_back_to_image_and_box(ref, fit):
    """The image pasted into a larger black one, with its box and no margin: the model sees the
    same pixels, so the keypoints relative to the box equal those of the image alone, and the
    image-normalised ones are the same points in the larger image."""
    rgb, _ = ref
    h, w = rgb.shape[:2]
    ox, oy = 301, 117
    big = _canvas(rgb, ox, oy)
    model = MoveNet(fit=fit, expand=1.0)
    alone = model.keypoints(rgb)
    boxed = model.keypoints(big, [ox, oy, ox + w, oy + h])
    assert boxed.box == (ox, oy, ox + w, oy + h)
    assert boxed.image_size == (big.shape[1], big.shape[0])
    np.testing.assert_allclose(boxed.in_box(), alone.array, atol=1e-5)
    px = boxed.pixels()
    np.testing.assert_allclose(px[:, 0], ox + alone.array[:, 1] * w, atol=1e-2)
    np.testing.assert_allclose(px[:, 1], oy + alone.array[:, 0] * h, atol=1e-2)
    assert (boxed.array[:, :2] >= 0).all() and (boxed.array[:, :2] <= 1).all()


def test_box_of_whole_image_is_the_whole_image(ref, pad):
    rgb, _ = ref
    h, w = rgb.shape[:2]
    np.testing.assert_array_equal(pad.keypoints(rgb, [0, 0, w, h]).array, pad.keypoints(rgb).array)


def test_box_partly_outside_is_used(ref, pad):
    rgb, expected = ref
    h, w = rgb.shape[:2]
    kps = pad.keypoints(rgb, [-40, 20, w + 10, h - 5])
    assert _max_dev(kps.array, expected) < 0.06


@pytest.mark.parametrize("box, words", [
    ([600, 700, 800, 900], "lies outside the 500x610 image"),
    ([-300, 10, -5, 200], "lies outside"),
    ([10, 10, 10, 50], "zero or negative area"),
    ([50, 60, 40, 100], "zero or negative area"),
    ([1, 2, 3], "four numbers"),
    ([0, 0, float("nan"), 10], "not a finite number"),
    ("box", "four numbers"),
])
def test_bad_box_is_refused_with_its_values(ref, pad, box, words):
    rgb, _ = ref
    with pytest.raises(InputError) as err:
        pad.keypoints(rgb, box)
    assert words in str(err.value)
    if words.startswith(("lies", "zero")):
        assert "[" + ", ".join(f"{v:g}" for v in box) + "]" in str(err.value)


@pytest.mark.parametrize("bad", [None, 5, "no/such/file.png", b"not an image at all",
                                 np.zeros(10, np.uint8), np.zeros((4, 4, 7), np.uint8), [[1, 2], [3, 4]]])
def test_non_image_is_refused(pad, bad):
    with pytest.raises(InputError):
        pad.keypoints(bad)


def test_other_image_arrays_are_converted(ref, pad):
    rgb, _ = ref
    grey = rgb.mean(axis=2).astype(np.uint8)
    kps = pad.keypoints(grey)
    assert kps.array.shape == (17, 3)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(pad.keypoints(rgba).array, pad.keypoints(rgb).array)


def test_bad_options():
    with pytest.raises(InputError):
        MoveNet(threads=0)
    with pytest.raises(InputError):
        MoveNet(fit="crop")
    with pytest.raises(InputError):
        MoveNet(expand=0.5)


def test_wrong_model_file(tmp_path):
    bad = tmp_path / "not_a_model.tflite"
    bad.write_bytes(b"certainly not a flatbuffer" * 10)
    with pytest.raises(InputError, match="not a TFLite model"):
        MoveNet(model_path=bad).keypoints(np.zeros((8, 8, 3), np.uint8))


def test_large_image(ref, pad):
    """A photograph many times the input's side is block-averaged first; the keypoints stay."""
    rgb, expected = ref
    big = np.ascontiguousarray(np.repeat(np.repeat(rgb, 6, axis=0), 6, axis=1))
    assert _max_dev(pad.keypoints(big).array, expected) < 0.06


# ----------------------------------------------------------------------------- batch, threads
def test_keypoints_batch(ref, pad):
    rgb, _ = ref
    h, w = rgb.shape[:2]
    big = _canvas(rgb, 20, 30)
    items = [rgb, (rgb, None), (big, [20, 30, 20 + w, 30 + h])]
    out = keypoints_batch(items, model=pad)
    assert out.shape == (3, 17, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], pad.keypoints(rgb).array)
    np.testing.assert_array_equal(out[1], out[0])
    np.testing.assert_array_equal(out[2], pad.keypoints(big, [20, 30, 20 + w, 30 + h]).array)
    assert keypoints_batch([], model=pad).shape == (0, 17, 3)
    np.testing.assert_array_equal(keypoints_batch([rgb]), out[:1])  # the shared default model
    with pytest.raises(InputError, match="item 1"):
        keypoints_batch([rgb, (rgb, [0, 0, 0, 0])], model=pad)


def test_one_instance_shared_by_threads(ref, pad):
    rgb, _ = ref
    want = pad.keypoints(rgb).array
    got, errors = [], []

    def work():
        try:
            for _ in range(3):
                got.append(pad.keypoints(rgb).array)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 12 and all(np.array_equal(g, want) for g in got)


# ----------------------------------------------------------------------------- features
def test_feature_names():
    assert len(POSE_FEATURE_NAMES) == len(set(POSE_FEATURE_NAMES)) == 111
    assert POSE_FEATURE_NAMES[:2] == ("nose_x", "nose_y")
    assert len(KEYPOINT_NAMES) == 17 and KEYPOINT_NAMES[5] == "left_shoulder"


def _person(**moved) -> np.ndarray:
    """A standing person facing the camera in a 200x400 image, in (y, x, score) normalised; the
    person's left is the image's right."""
    px = {  # x, y pixels
        "nose": (100, 60), "left_eye": (108, 52), "right_eye": (92, 52), "left_ear": (116, 56),
        "right_ear": (84, 56), "left_shoulder": (130, 110), "right_shoulder": (70, 110),
        "left_elbow": (135, 170), "right_elbow": (65, 170), "left_wrist": (138, 225),
        "right_wrist": (62, 225), "left_hip": (120, 230), "right_hip": (80, 230),
        "left_knee": (121, 300), "right_knee": (79, 300), "left_ankle": (122, 370), "right_ankle": (78, 370),
    }
    px.update(moved)
    return np.array([[px[n][1] / 400, px[n][0] / 200, 0.9] for n in KEYPOINT_NAMES], np.float32)


def _f(vec: np.ndarray) -> dict:
    return dict(zip(POSE_FEATURE_NAMES, vec.tolist()))


def test_pose_features_standing():
    box = [40, 30, 160, 390]
    f = _f(pose_features(_person(), box, image_size=(200, 400)))
    assert f["left_elbow_angle"] > 0.95 and f["right_knee_angle"] > 0.95 and f["left_hip_angle"] > 0.95
    assert f["left_shoulder_angle"] < 0.1
    assert f["left_hand_above_head"] == 0 and f["right_hand_above_head_valid"] == 1
    assert f["left_wrist_raise"] < 0 and abs(f["torso_lean"]) < 0.01 and abs(f["head_tilt"]) < 0.01
    assert f["head_height"] == pytest.approx(50 / 360)
    assert f["shoulder_torso_ratio"] == pytest.approx(60 / 120)
    # centred on the hip / shoulder midpoint, scaled by the box's height
    assert f["nose_x"] == pytest.approx(0.0) and f["nose_y"] == pytest.approx((60 - 170) / 360)
    assert f["centre_x_in_box"] == pytest.approx(0.5) and f["centre_from_torso"] == 1
    assert f["visible_fraction"] == 1 and f["mean_score"] == pytest.approx(0.9)


def test_pose_features_hands_up_and_low_scores():
    kps = _person(left_elbow=(150, 70), left_wrist=(155, 20), right_elbow=(50, 70), right_wrist=(45, 20))
    kps[KEYPOINT_NAMES.index("right_knee"), 2] = 0.1  # under 0.2: not visible
    vec = pose_features(kps, [40, 10, 160, 390], image_size=(200, 400))
    f = _f(vec)
    assert f["left_hand_above_head"] == 1 and f["right_hand_above_head"] == 1
    assert f["left_wrist_raise"] > 0.2 and f["left_shoulder_angle"] > 0.8
    assert f["arm_spread"] == pytest.approx(110 / 380)
    assert f["right_knee_x"] == 0 and f["right_knee_y"] == 0 and f["right_knee_visible"] == 0
    assert f["right_knee_score"] == pytest.approx(0.1)
    assert f["right_knee_angle"] == 0 and f["right_knee_angle_valid"] == 0 and f["right_hip_angle_valid"] == 0
    assert f["left_knee_angle_valid"] == 1
    assert vec.dtype == np.float32 and np.isfinite(vec).all()


def test_pose_features_nothing_visible():
    kps = _person()
    kps[:, 2] = 0.05
    f = _f(pose_features(kps, [40, 30, 160, 390], image_size=(200, 400)))
    assert f["centre_from_torso"] == 0 and f["visible_fraction"] == 0
    assert all(v == 0 for k, v in f.items() if k.endswith("_valid"))
    assert f["centre_x_in_box"] == pytest.approx(0.5)


def test_pose_features_from_keypoints_and_batches(ref, pad):
    rgb, _ = ref
    kps = pad.keypoints(rgb, [60, 40, 440, 600])
    one = pose_features(kps)
    assert one.shape == (111,) and np.isfinite(one).all()
    np.testing.assert_array_equal(one, pose_features(kps.array, [60, 40, 440, 600], image_size=(500, 610)))
    many = pose_features(np.stack([kps.array, kps.array]), [[60, 40, 440, 600]] * 2, image_size=(500, 610))
    assert many.shape == (2, 111)
    np.testing.assert_array_equal(many[1], one)
    with pytest.raises(InputError, match="image_size"):
        pose_features(kps.array)
    with pytest.raises(InputError, match="17, 3"):
        pose_features(np.zeros((16, 3)), image_size=(10, 10))
    with pytest.raises(InputError, match="zero or negative area"):
        pose_features(kps, [5, 5, 5, 9])
