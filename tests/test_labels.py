import numpy as np
import pytest

from affekt.core.errors import LabelError
from affekt.core.labels import CARER, EKMAN, GOEMOTIONS, LabelSpace, get_mapping


def test_spaces_have_expected_sizes():
    assert len(GOEMOTIONS) == 28 and GOEMOTIONS.multi_label
    assert EKMAN.labels == ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
    assert len(CARER) == 6


def test_goemotions_to_ekman_uses_authors_mapping():
    m = get_mapping("goemotions", "ekman")
    assert m.mapping["admiration"] == "happiness"
    assert m.mapping["nervousness"] == "fear"
    assert m.mapping["neutral"] == "neutral"
    assert set(m.mapping) == set(GOEMOTIONS.labels)  # every GoEmotions label has a place


def test_map_scores_max_for_multilabel_and_sum_for_single():
    P = np.zeros((1, 28), np.float32)
    P[0, GOEMOTIONS.index("joy")] = 0.6
    P[0, GOEMOTIONS.index("amusement")] = 0.7
    out = get_mapping("goemotions", "ekman").map_scores(P)
    assert out[0, EKMAN.index("happiness")] == pytest.approx(0.7)
    Q = np.array([[0.1, 0.3, 0.4, 0.1, 0.05, 0.05]], np.float32)  # carer order
    out = get_mapping("carer", "ekman").map_scores(Q)
    assert out[0, EKMAN.index("happiness")] == pytest.approx(0.7)  # joy + love
    assert out.sum() == pytest.approx(1.0)


def test_unknown_label_is_named():
    with pytest.raises(LabelError, match="'joyy'"):
        CARER.validate(["joy", "joyy"])


def test_binarize_and_repeat_check():
    assert CARER.binarize(["joy", ["love"]]).tolist() == [[0, 1, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]]
    with pytest.raises(LabelError):
        LabelSpace("x", ("a", "a"))
