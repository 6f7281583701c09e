"""Evaluate a fitted recognizer on labelled items (any modality)."""
from __future__ import annotations

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.labels import LabelSpace, get_label_space, get_mapping
from affekt.core.recognizer import DimensionalRegressor, EmotionClassifier
from affekt.evaluation.metrics import bootstrap_ci, classification_metrics, macro_f1_fn, regression_metrics


def _parts(model):
    cat = getattr(model, "categorical_part", lambda: model)()
    dim = getattr(model, "dimensional_part", lambda: model)()
    return (cat if isinstance(cat, EmotionClassifier) else None,
            dim if isinstance(dim, DimensionalRegressor) else None)


def evaluate_classification(model, X, y, *, true_space: LabelSpace | str | None = None,
                            label_space: LabelSpace | str | None = None, n_boot: int = 1000) -> dict:
    """Metrics of ``model`` on (X, y). ``y`` is in ``true_space`` (default: the model's);
    ``label_space`` views both predictions and truth in that space (e.g. ekman)."""
    cat, _ = _parts(model)
    if cat is None:
        raise InputError(f"model '{model.model_id_}' has no categorical output to evaluate")
    X = list(X)
    cat._validate_all(X)
    P, D, space = cat._proba_and_decisions(X, label_space)  # the same view predict() gives
    tspace = get_label_space(true_space) if true_space is not None else cat.labels_
    Y = cat._to_matrix(y, tspace, "evaluation labels")
    if tspace.name != space.name:
        Y = get_mapping(tspace, space).map_decisions(Y)
    if Y.shape[1] != P.shape[1]:
        raise DataError(f"truth has {Y.shape[1]} labels, predictions {P.shape[1]}")
    # single-label truth (CARER, Ekman data): the model's top label is its answer
    multi = bool(tspace.multi_label)
    if not multi:
        D = np.zeros_like(D)
        D[np.arange(len(P)), P.argmax(1)] = 1
        keep = Y.sum(1) > 0
        Y, D, P = Y[keep], D[keep], P[keep]
    res = classification_metrics(Y, D, P, space.labels, multi)
    if n_boot:
        res["macro_f1_ci"] = bootstrap_ci(macro_f1_fn(multi), Y, D, n_boot=n_boot)
    res["label_space"] = space.name
    res["model"] = model.model_id_
    return res


def evaluate_regression(model, X, Y, n_boot: int = 1000) -> dict:
    _, dim = _parts(model)
    if dim is None:
        raise InputError(f"model '{model.model_id_}' has no valence/arousal/dominance output")
    P = dim.predict_dimensions(list(X))
    res = regression_metrics(Y, P)
    if n_boot and "valence" in res:
        from affekt.evaluation.metrics import pearson

        res["valence"]["pearson_r_ci"] = bootstrap_ci(pearson, np.asarray(Y)[:, 0], P[:, 0], n_boot=n_boot)
    res["model"] = model.model_id_
    return res


def evaluate(model, dataset, split: str = "test", *, label_space=None, n_boot: int = 1000,
             shared_only: bool = False) -> dict:
    """Evaluate on a :class:`~affekt.datasets.base.Dataset` split.

    ``shared_only``: with ``label_space``, keep only items whose true label exists in the
    model's view, and score only the labels both sides have (cross-domain evaluation).
    """
    X, y = dataset.xy(split)
    if dataset.task == "regression":
        return evaluate_regression(model, X, y, n_boot=n_boot)
    return evaluate_classification(model, X, y, true_space=dataset.label_space,
                                   label_space=label_space, n_boot=n_boot)
