import numpy as np
import pytest

from affekt.evaluation.metrics import bootstrap_ci, ccc, classification_metrics, regression_metrics
from affekt.training.thresholds import tune_thresholds


def test_single_label_metrics_match_hand_counts():
    Y = np.eye(3, dtype=int)[[0, 0, 1, 2]]
    D = np.eye(3, dtype=int)[[0, 1, 1, 2]]
    m = classification_metrics(Y, D, D.astype(float), ["a", "b", "c"], multi_label=False)
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["balanced_accuracy"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert m["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]
    assert m["per_class"]["b"]["precision"] == pytest.approx(0.5)


def test_expected_calibration_error():
    # scores of 0.8 for the top label, right 3 times in 4: |0.75 - 0.8| = 0.05 in the one bin used
    P = np.array([[0.8, 0.2], [0.8, 0.2], [0.2, 0.8], [0.8, 0.2]])
    Y = np.eye(2, dtype=int)[[0, 0, 1, 1]]
    D = np.eye(2, dtype=int)[P.argmax(1)]
    m = classification_metrics(Y, D, P, ["a", "b"], multi_label=False)
    assert m["ece"] == pytest.approx(0.05)
    # two bins: 0.95 right (gap 0.05), 0.55 wrong (gap 0.55), each half of the items
    P = np.array([[0.95, 0.05], [0.55, 0.45]])
    m = classification_metrics(np.eye(2, dtype=int)[[0, 1]], np.eye(2, dtype=int)[[0, 0]], P, ["a", "b"], False)
    assert m["ece"] == pytest.approx((0.05 + 0.55) / 2)


def test_temperature_scaling_recovers_a_known_temperature():
    """Labels drawn from softmax(z) and scores given as softmax(3 z): the fitted temperature is
    about 3, scaling by it keeps every top label and lowers the calibration error."""
    from affekt.evaluation.metrics import expected_calibration_error, fit_temperature, scale_temperature

    rng = np.random.default_rng(0)
    z = rng.normal(0, 1.5, (6000, 5))
    p_true = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    y = np.array([rng.choice(5, p=p) for p in p_true])
    P = np.exp(3 * z) / np.exp(3 * z).sum(1, keepdims=True)  # overconfident
    T = fit_temperature([(P[:3000], y[:3000])])
    assert 2.6 < T < 3.4
    Q = scale_temperature(P[3000:], T)
    np.testing.assert_allclose(Q.sum(1), 1, atol=1e-9)
    assert (Q.argmax(1) == P[3000:].argmax(1)).all()
    ece = lambda R: expected_calibration_error(R.max(1), R.argmax(1) == y[3000:])  # noqa: E731
    assert ece(Q) < 0.03 < ece(P[3000:])
    assert scale_temperature(P, 1.0) is not None and np.allclose(scale_temperature(P, 1.0), P)
    with pytest.raises(ValueError, match="at least one"):
        fit_temperature([(P[:0], y[:0])])


def test_ccc_is_one_for_identity_and_penalises_bias():
    x = np.linspace(1, 5, 50)
    assert ccc(x, x) == pytest.approx(1.0)
    assert ccc(x, x + 1) < 0.8
    r = regression_metrics(np.c_[x, x, x], np.c_[x, x + 1, -x])
    assert r["valence"]["pearson_r"] == pytest.approx(1.0)
    assert r["dominance"]["pearson_r"] == pytest.approx(-1.0)


def test_thresholds_pick_the_separating_value():
    s = np.array([[0.1], [0.2], [0.35], [0.8]])
    y = np.array([[0], [0], [1], [1]])
    t = tune_thresholds(y, s)
    assert 0.2 < t[0] <= 0.35


def test_bootstrap_ci_brackets_point():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 2, 200)
    ci = bootstrap_ci(lambda x: x.mean(), a, n_boot=200)
    assert ci["ci_low"] <= ci["value"] <= ci["ci_high"]


def test_multilabel_report_has_confusion_png(tmp_path):
    from affekt.evaluation.report import write_report

    Y = np.array([[1, 0], [0, 1], [1, 1], [0, 1]])
    D = np.array([[1, 0], [1, 1], [1, 0], [0, 1]])
    m = classification_metrics(Y, D, D.astype(float), ["a", "b"], multi_label=True)
    assert m["multilabel_confusion"][0] == [[1, 1], [0, 2]]  # label a: TN=1 FP=1 FN=0 TP=2
    write_report(m, tmp_path)
    assert (tmp_path / "confusion_matrix.png").exists() and (tmp_path / "per_class_f1.png").exists()
