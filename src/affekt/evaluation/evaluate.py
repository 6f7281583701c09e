"""Evaluate a fitted recognizer on labelled items (any modality).

Every result carries ``n`` (the items scored), the headline figures with their 95% bootstrap CIs
(``macro_f1_ci``, ``balanced_accuracy_ci``... see :mod:`affekt.evaluation.metrics`) and a list of
``warnings`` (one line each) when the data are too few to mean much. :func:`evaluate` picks the
honest split by default: a corpus's own test split, or every row of a table whose splits were
made up.
"""
from __future__ import annotations

import numpy as np

from affekt.core.errors import DataError, InputError, LabelError
from affekt.core.labels import LabelMapping, LabelSpace, get_label_space, get_mapping, viewable_spaces
from affekt.core.recognizer import DimensionalRegressor, EmotionClassifier
from affekt.evaluation.metrics import classification_cis, classification_metrics, regression_cis, regression_metrics

MIN_ITEMS = 30  # a test or dev split with fewer items gives figures too rough to quote alone
MIN_PER_CLASS = 5  # ... and so does one with fewer items of some class


def _parts(model, label_space=None):
    """The categorical part answering in ``label_space`` (a composite may hold one trained in it)
    and the dimensional part; None where the model has none."""
    cat = model.categorical_part(label_space)
    dim = getattr(model, "dimensional_part", lambda: model)()
    return (cat if isinstance(cat, EmotionClassifier) else None,
            dim if isinstance(dim, DimensionalRegressor) else None)


def default_split(dataset) -> str:
    """The split :func:`evaluate` scores when none is asked for: the dataset's test split when its
    splits came with the data, else ``"all"`` (a table without a split column is scored whole)."""
    return dataset.default_eval_split()


def small_data_warnings(where: str, n: int, class_counts: dict | None = None) -> list[str]:
    """One-line warnings when ``n`` items (``class_counts``: label -> items) are too few to trust."""
    out = []
    if n < MIN_ITEMS:
        out.append(f"{where} has only {n} items (under {MIN_ITEMS}): its figures are rough, read them "
                   f"with their 95% CI")
    low = {lab: c for lab, c in (class_counts or {}).items() if c < MIN_PER_CLASS}
    if low:
        shown = ", ".join(f"{lab} ({c})" for lab, c in list(low.items())[:8]) + (" ..." if len(low) > 8 else "")
        out.append(f"{where} has under {MIN_PER_CLASS} items of {len(low)} label(s): {shown}; "
                   f"per-class figures for them mean little")
    return out


def _view(cat, label_space) -> tuple[LabelSpace, set]:
    """The space predictions come in (the model's own, or its view in ``label_space``) and the
    labels of it the model can actually output."""
    own = cat.labels_
    if label_space is None or get_label_space(label_space).name == own.name:
        return own, set(own.labels)
    m = get_mapping(own, label_space)
    return m.view_space(), {t for t in m.mapping.values() if t is not None}


def _unknown_labels_error(unknown: list, present: list, tspace: LabelSpace, cat, view: LabelSpace,
                          label_space) -> LabelError:
    """A message that names the labels, the model's labels, and what the user can do."""
    seen = f" viewed in '{view.name}'" if label_space is not None else ""
    msg = (f"{len(unknown)} label(s) in the data are not among the labels of model "
           f"'{getattr(cat, 'model_id_', cat.family)}'{seen}: {', '.join(map(repr, unknown[:10]))}"
           f"{' ...' if len(unknown) > 10 else ''}. The model predicts: {', '.join(view.labels)}.")
    data_views = set(viewable_spaces(tspace))
    fits = [name for name in viewable_spaces(cat.labels_) if name != view.name and name in data_views
            and all(get_mapping(tspace, name).mapping.get(lab) for lab in present)]
    if fits:
        msg += f" Evaluate in a label space both can be viewed in: --label-space {' or '.join(fits)}."
    shared = [lab for lab in present if lab in view.labels]
    if shared:
        msg += (f" Or score only the items whose label the model knows ({', '.join(shared[:10])}): "
                f"--shared-only (shared_only=True).")
    msg += " Otherwise train a model on data with these labels (affekt train)."
    return LabelError(msg)


def evaluate_classification(model, X, y, *, true_space: LabelSpace | str | None = None,
                            label_space: LabelSpace | str | None = None, n_boot: int = 1000,
                            shared_only: bool = False, seed: int = 0,
                            where: str = "the evaluation data", arrays: dict | None = None) -> dict:
    """Metrics of ``model`` on (X, y). ``y`` is in ``true_space`` (default: the model's);
    ``label_space`` views predictions and truth in that space (e.g. ekman).

    ``shared_only`` (cross-domain evaluation): keep only the items whose true label exists in the
    model's view, and score only the labels both sides have (``shared_labels``); the model still
    answers with any label of its view, and an answer outside the shared labels counts as an
    error. Without it, a true label the model's view lacks is an error that says what to do.
    ``arrays``: a dict to receive what was scored (``Y`` truth, ``D`` decisions, ``P`` scores as
    items x ``labels``, and ``keep``: which of the given items were scored), e.g. for a bias audit.
    """
    cat, _ = _parts(model, label_space)
    if cat is None:
        raise InputError(f"model '{model.model_id_}' has no categorical output to evaluate")
    X, y = list(X), list(y)
    if len(X) != len(y):
        raise DataError(f"{len(X)} items but {len(y)} labels")
    view, outputs = _view(cat, label_space)
    tspace = get_label_space(true_space) if true_space is not None else cat.labels_
    Yt = cat._to_matrix(y, tspace, "evaluation labels")
    present = [lab for lab, c in zip(tspace.labels, Yt.sum(0)) if c]
    if tuple(tspace.labels) == tuple(view.labels):
        mapping = LabelMapping(tspace, view, {lab: lab for lab in tspace.labels})
    else:
        try:
            mapping = get_mapping(tspace, view)
        except LabelError:
            mapping = None
        if mapping is None:
            by_name = {lab: (lab if lab in view.labels else None) for lab in tspace.labels}
            unknown = [lab for lab in present if by_name[lab] is None]
            if unknown and not shared_only:
                raise _unknown_labels_error(unknown, present, tspace, cat, view, label_space)
            mapping = LabelMapping(tspace, view, by_name)
    unmapped = [lab for lab in present if mapping.mapping.get(lab) is None]
    if unmapped and not shared_only:
        raise _unknown_labels_error(unmapped, present, tspace, cat, view, label_space)
    Y = mapping.map_decisions(Yt)
    expected = [lab for lab in view.labels if lab in {mapping.mapping.get(t) for t in tspace.labels}]
    multi = bool(tspace.multi_label)
    shared = None
    if shared_only:
        truth_side = {mapping.mapping.get(t) for t in present}
        shared = [lab for lab in view.labels if lab in truth_side and lab in outputs]
        if not shared:
            raise DataError(f"the data's labels ({', '.join(present)}) and the labels model "
                            f"'{cat.model_id_}' can predict in '{view.name}' ({', '.join(sorted(outputs))}) "
                            f"have none in common: nothing to score")
        cols = [view.labels.index(lab) for lab in shared]
        keep = Y[:, cols].sum(1) > 0
        expected = [lab for lab in expected if lab in shared]
    else:
        keep = Y.sum(1) > 0 if not multi else np.ones(len(Y), dtype=bool)
    if not keep.any():
        raise DataError(f"no item of {where} has a label the model can be scored on")
    Xk = [x for x, k in zip(X, keep) if k]
    cat._validate_all(Xk)
    P, D, space = cat._proba_and_decisions(Xk, label_space)  # the same view predict() gives
    Y = Y[keep]
    if not multi:  # single-label truth (CARER, Ekman data): the model's top label is its answer
        D = np.zeros_like(D)
        D[np.arange(len(P)), P.argmax(1)] = 1
    labels = list(space.labels)
    if shared_only and multi:  # several answers per item: score the shared columns only
        Y, D, P, labels = Y[:, cols], D[:, cols], P[:, cols], list(shared)
    if arrays is not None:
        arrays.update(Y=Y, D=D, P=P, labels=labels, keep=keep, multi_label=multi)
    res = classification_metrics(Y, D, P, labels, multi)
    if multi and P is not None:  # several labels per item: each label's average precision (mAP's parts)
        res["average_precision"] = _per_label_ap(Y, P, labels)
    if n_boot:
        for k, ci in classification_cis(Y, D, multi, n_boot=n_boot, seed=seed).items():
            res[f"{k}_ci"] = ci
    res["label_space"] = space.name
    res["truth_label_space"] = tspace.name
    res["model"] = model.model_id_
    if shared_only:
        res["shared_only"] = True
        res["shared_labels"] = shared
        res["n_dropped"] = int((~keep).sum())
    counts = dict(zip(labels, Y.sum(0).tolist()))
    res["warnings"] = small_data_warnings(where, len(Y), {lab: int(counts.get(lab, 0)) for lab in expected})
    if res.get("labels_predicted_not_in_truth"):
        res["note"] = (f"predicted but absent from the truth (F1 0, not in the macro averages): "
                       f"{', '.join(res['labels_predicted_not_in_truth'])}")
    return res


def _per_label_ap(Y: np.ndarray, P: np.ndarray, labels: list) -> dict:
    """label -> average precision (scikit-learn), for the labels with a positive item."""
    from sklearn.metrics import average_precision_score

    return {lab: float(average_precision_score(Y[:, j], P[:, j])) for j, lab in enumerate(labels) if Y[:, j].any()}


def dimensions_too(model, dataset, split: str, X, *, n_boot: int = 1000, seed: int = 0) -> dict | None:
    """A categorical model that learnt valence/arousal/dominance from the same kind of data
    (``dimensional_targets``: the scene family): its V/A/D against the split's V/A/D columns
    (Pearson r with its CI, MAE, CCC per dimension, on the data's scale), or None when the model
    or the data has none."""
    from affekt.core.labels import DIMENSIONS

    _, dim = _parts(model)
    df = dataset.split(split)
    if (dim is None or not getattr(dim, "dimensional_targets", False) or not getattr(dim, "dimensions_", None)
            or not set(DIMENSIONS) <= set(df.columns)):
        return None
    T = df[list(DIMENSIONS)].to_numpy(dtype=float)
    keep = np.isfinite(T).all(axis=1)
    if keep.sum() < 2:
        return None
    P = np.asarray(dim.predict_dimensions([x for x, k in zip(X, keep) if k]), dtype=float)
    res = regression_metrics(T[keep], P)
    if n_boot:
        for d, ci in regression_cis(T[keep], P, n_boot=n_boot, seed=seed).items():
            if d in res:
                res[d]["pearson_r_ci"] = ci
    res["mean_mae"] = float(np.mean([res[d]["mae"] for d in DIMENSIONS if d in res]))
    return res


def evaluate_regression(model, X, Y, n_boot: int = 1000, *, seed: int = 0,
                        where: str = "the evaluation data") -> dict:
    _, dim = _parts(model)
    if dim is None:
        raise InputError(f"model '{model.model_id_}' has no valence/arousal/dominance output")
    P = dim.predict_dimensions(list(X))
    res = regression_metrics(Y, P)
    if n_boot:
        for d, ci in regression_cis(Y, P, n_boot=n_boot, seed=seed).items():
            if d in res:
                res[d]["pearson_r_ci"] = ci
    res["model"] = model.model_id_
    res["warnings"] = small_data_warnings(where, len(P))
    return res


def evaluate(model, dataset, split: str | None = None, *, label_space=None, n_boot: int = 1000,
             shared_only: bool = False, seed: int = 0) -> dict:
    """Evaluate on a :class:`~affekt.datasets.base.Dataset` split.

    ``split`` None: :func:`default_split` (the test split when the data came with splits, every
    row when the splits were made up). ``shared_only``: with ``label_space``, keep only items
    whose true label exists in the model's view, and score only the labels both sides have
    (cross-domain evaluation; see :func:`evaluate_classification`). The result records
    ``split``, ``split_source`` and ``n``, and one-line ``warnings`` when the data are too few.
    """
    split = split or default_split(dataset)
    X, y = dataset.xy(split)
    if not len(X):
        raise DataError(f"split '{split}' of dataset '{dataset.name}' has no rows")
    where = "all rows" if split == "all" else f"the {split} split"
    if dataset.task == "regression":
        res = evaluate_regression(model, X, y, n_boot=n_boot, seed=seed, where=where)
    else:
        res = evaluate_classification(model, X, y, true_space=dataset.label_space, label_space=label_space,
                                      n_boot=n_boot, shared_only=shared_only, seed=seed, where=where)
        dims = dimensions_too(model, dataset, split, X, n_boot=n_boot, seed=seed)
        if dims is not None:
            res["dimensions"] = dims
    res.update({"dataset": dataset.name, "split": split, "split_source": dataset.split_source})
    return res
