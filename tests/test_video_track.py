"""The face tracker (affekt.video.track) on synthetic box sequences, and the identity-switch count."""
from __future__ import annotations

import numpy as np
import pytest

from affekt.core.errors import InputError
from affekt.video.track import FaceTracker, identity_switches, match_to_truth

FEAT_A, FEAT_B = np.array([1.0, 0.0, 0.2]), np.array([0.0, 1.0, 0.2])


def two_faces(tracker, *, bounce=False, features=False, fps=5.0):
    """Face A starts at the left moving right at 100 px/s, face B at the right moving left; they
    meet at t = 2 s. With ``bounce`` each turns back there, which motion alone cannot tell from
    crossing. Returns the ids given to (A, B) on each frame."""
    out = []
    for i in range(int(4 * fps) + 1):
        t = i / fps
        s = t if not bounce or t <= 2 else 4 - t
        boxes = [(100 * s, 100, 60, 60), (400 - 100 * s, 110, 60, 60)]
        out.append(tuple(tracker.update(t, boxes, np.stack([FEAT_A, FEAT_B]) if features else None)))
    return out


@pytest.mark.parametrize("features", [False, True])
def test_crossing_paths_keep_their_ids(features):
    # the constant-velocity prediction carries each face through the overlap, features or not
    assert set(two_faces(FaceTracker(), features=features)) == {(0, 1)}


def test_turning_back_at_the_meeting_point():
    # without features the tracker bets on the motion going on: the ids swap when both turn back
    ids = two_faces(FaceTracker(), bounce=True)
    assert ids[10] == (0, 1) and ids[-1] == (1, 0)
    # distinct features keep them apart once appearance weighs enough against the IoU of the
    # (now wrong) predictions; at the default 0.3 the motion still wins here
    ids = two_faces(FaceTracker(appearance_weight=0.5), bounce=True, features=True)
    assert set(ids) == {(0, 1)}


@pytest.mark.parametrize("gap, reid_age, back, same", [
    (0.5, 0.0, (200, 150, 80, 80), True),     # a short miss: the live track takes it
    (2.0, 0.0, (200, 150, 80, 80), False),    # gone longer than max_age, no re-identification
    (3.0, 5.0, (210, 140, 120, 120), True),   # missed for 3 s, back where it was (bigger box)
    (7.0, 5.0, (200, 150, 80, 80), False),    # gone longer than max_age + reid_age
    (3.0, 5.0, (420, 150, 80, 80), False),    # a face elsewhere is someone else
])
def test_a_face_that_leaves_and_comes_back(gap, reid_age, back, same):
    tr = FaceTracker(max_age=1.0, reid_age=reid_age)
    box = (200, 150, 80, 80)
    for t in (0.0, 0.2, 0.4):
        assert tr.update(t, [box]) == [0]
    for t in np.arange(0.6, 0.4 + gap - 0.1, 0.2):  # frames with nobody on them
        assert tr.update(t, []) == []
    assert tr.update(0.4 + gap, [back]) == [0 if same else 1]
    assert (tr.tracks[0].id, tr.tracks[0].hits) == (0, 4 if same else 3)
    assert tr.update(0.6 + gap, [back]) == [0 if same else 1]  # and it is live again


def test_a_last_box_too_small_does_not_stop_the_face_coming_back():
    tr = FaceTracker(max_age=1.0, reid_age=5.0)
    for t in (0.0, 0.2, 0.4):
        assert tr.update(t, [(400, 200, 160, 160)]) == [0]
    assert tr.update(0.6, [(430, 230, 100, 100)]) == [0]  # the face fading: a partial, small detection
    assert tr.update(3.6, [(330, 130, 250, 250)]) == [0]  # back, bigger: 250/160 of its usual size


@pytest.mark.parametrize("scale, same", [(2.4, True), (3.5, False), (1 / 3.5, False)])
def test_a_face_comes_back_within_reid_scale_of_its_size(scale, same):
    # the generated pair videos: a face lost for 3 s came back 2.4x its size at the same place
    tr = FaceTracker(max_age=1.0, reid_age=5.0)
    for t in (0.0, 0.2, 0.4):
        assert tr.update(t, [(400, 200, 100, 100)]) == [0]
    w = 100 * scale
    assert tr.update(3.4, [(450 - w / 2, 250 - w / 2, w, w)]) == [0 if same else 1]


def test_reid_scale_below_one_is_refused():
    with pytest.raises(InputError, match="reid_scale"):
        FaceTracker(reid_scale=0.5)


def test_two_lost_faces_are_taken_up_by_the_nearest_detections():
    tr = FaceTracker(max_age=0.5, reid_age=5.0)
    a, b = (100, 100, 80, 80), (300, 100, 80, 80)
    for t in (0.0, 0.2):
        assert tr.update(t, [a, b]) == [0, 1]
    assert tr.update(3.0, [(310, 105, 80, 80), (95, 100, 80, 80)]) == [1, 0]


def test_variable_time_steps_follow_a_moving_face():
    # uneven sampling (a variable-frame-rate video): 50 px/s, 60 px box, steps 0.05 s to 0.9 s
    tr = FaceTracker()
    times = np.cumsum([0, 0.05, 0.9, 0.1, 0.05, 0.7, 0.3, 0.9])
    ids = [tr.update(t, [(50 * t, 80, 60, 60)])[0] for t in times]
    assert set(ids) == {0}
    info = tr.tracks[0]
    assert (info.first, info.last, info.hits) == (0.0, pytest.approx(times[-1]), len(times))
    assert info.box == pytest.approx((50 * times[-1], 80, 60, 60))


def test_a_far_jump_joins_the_track_only_when_it_looks_the_same():
    # 1 fps and a sudden 50 px sideways move: IoU with the prediction 0.09, under the threshold
    for feats, expected in ((FEAT_A[None], [0, 0, 0]), (None, [0, 0, 1])):
        tr = FaceTracker()
        ids = [tr.update(t, [(x, 100, 60, 60)], feats)[0] for t, x in ((0, 100), (1, 100), (2, 150))]
        assert ids == expected
    # a different-looking face at that spot is someone else
    tr = FaceTracker()
    tr.update(0, [(100, 100, 60, 60)], FEAT_A[None])
    assert tr.update(1, [(150, 100, 60, 60)], FEAT_B[None]) == [1]


def test_a_one_frame_false_detection_is_not_confirmed():
    tr = FaceTracker(min_hits=2)
    for i in range(10):
        boxes = [(100, 100, 60, 60)] + ([(400, 300, 30, 30)] if i == 3 else [])
        tr.update(i * 0.2, boxes)
    assert tr.confirmed() == {0}
    assert [k.hits for k in tr.tracks] == [10, 1]


def test_identity_switches_on_a_hand_made_sequence():
    truth = [["a", "b"], ["a", "b"], ["a", "b"], ["a", "b"], ["a", "b"], ["a"]]
    pred = [[0, 1], [0, None], [0, 1], [1, 0], [1, 0], [2]]
    # a miss is not a switch; frame 3 swaps both (2); frame 5 gives "a" a third id (1)
    assert identity_switches(truth, pred) == 3
    assert identity_switches(truth, [[0, 1]] * 5 + [[0]]) == 0


def test_match_to_truth_pairs_by_iou():
    truth = [[(0, 0, 50, 50), (200, 0, 50, 50)], [(0, 0, 50, 50)], []]
    boxes = [[(205, 2, 50, 50), (3, 1, 50, 50)], [(300, 300, 50, 50)], [(0, 0, 9, 9)]]
    ids = [[7, 4], [9], [5]]
    assert match_to_truth(truth, boxes, ids) == [[4, 7], [None], []]
    with pytest.raises(InputError, match="one entry per frame"):
        match_to_truth(truth, boxes[:2], ids)


@pytest.mark.parametrize("call, message", [
    (lambda tr: tr.update(0, [(0, 0, 0, 10)]), "width or height <= 0"),
    (lambda tr: tr.update(0, [(0, 0, 10, -1)]), "width or height <= 0"),
    (lambda tr: tr.update(0, [(0, 0, 10)]), r"\(x, y, w, h\)"),
    (lambda tr: (tr.update(1.0, []), tr.update(0.5, [])), "must not go backwards"),
    (lambda tr: tr.update(0, [(0, 0, 9, 9)] * 2, np.ones((3, 4))), "one row per box"),
    (lambda tr: tr.update(float("nan"), []), "finite"),
    (lambda tr: identity_switches([[1]], [[1, 2]]), "frame 0"),
])
def test_bad_input_gets_a_clear_error(call, message):
    with pytest.raises(InputError, match=message):
        call(FaceTracker())
