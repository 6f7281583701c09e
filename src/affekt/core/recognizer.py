"""The one recognizer interface every modality shares.

``fit`` returns ``self``; fitted state ends in ``_``; ``predict`` gives one
:class:`~affekt.core.types.EmotionPrediction` per item; ``save``/``load`` use a folder with an
``affekt.json`` manifest beside the weights. Recognizers are scikit-learn estimators, so
``sklearn.base.clone`` and ``get_params`` work for cross-validation and tuning.
"""
from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator

import affekt
from affekt.core.errors import AffektError, DataError, InputError, LabelError, NotFittedError
from affekt.core.labels import DIMENSIONS, LabelSpace, get_label_space, get_mapping
from affekt.core.types import EmotionPrediction, Predictions

MANIFEST = "affekt.json"


def _jsonable(v: Any) -> Any:
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    raise TypeError(f"parameter value {v!r} cannot be saved in {MANIFEST}")


class Recognizer(BaseEstimator):
    """Base class: subclasses implement ``_fit``, ``_scores`` and the ``_get_state``/``_set_state`` pair."""

    modality: str = "any"
    family: str = "base"

    def categorical_part(self, label_space=None):
        """The recognizer that answers in ``label_space``: this one (a composite may hold another)."""
        return self

    # ------------------------------------------------------------------ items
    def check_item(self, x) -> str | None:
        """Why ``x`` cannot be processed, or None. Modalities override this."""
        return None

    def _split_valid(self, X: Sequence) -> tuple[list[int], list[str | None]]:
        errors = [self.check_item(x) for x in X]
        return [i for i, e in enumerate(errors) if e is None], errors

    def _validate_all(self, X: Sequence) -> None:
        if isinstance(X, (str, bytes)):
            raise InputError("expected a list of items, got a single string; wrap it in a list")
        if len(X) == 0:
            raise InputError("no items to process (empty input)")
        for i, x in enumerate(X):
            err = self.check_item(x)
            if err:
                raise InputError(f"item {i}: {err}")

    def _normalise(self, X: list) -> list:
        """What every model of a modality does to its inputs before reading them, in fit and
        predict alike (text: emoji-only texts said in words). Default: nothing."""
        return X

    def _item_warnings(self, X: list) -> list[list[str]] | None:
        """Per valid item, reasons to trust its prediction less (text: a language the model was
        not trained on); None when there are none to give."""
        return None

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_id_"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit() or load()")

    # -------------------------------------------------------------- save/load
    def _manifest_params(self) -> dict:
        return _jsonable(self.get_params(deep=False))

    def _get_state(self, folder: Path) -> dict:
        """Write weights into ``folder``; return extra manifest entries."""
        return {}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        """Read back what ``_get_state`` wrote."""

    def save(self, path) -> Path:
        """Save into folder ``path`` (created; an existing affekt model there is replaced)."""
        self._check_fitted()
        folder = Path(path)
        if folder.exists() and any(folder.iterdir()) and not (folder / MANIFEST).exists():
            raise InputError(f"'{folder}' exists and is not an affekt model folder; choose another --output")
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        manifest = {
            "affekt_version": affekt.__version__,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "modality": self.modality,
            "family": self.family,
            "model_id": self.model_id_,
            "params": self._manifest_params(),
            "card": getattr(self, "card_", {}),
        }
        manifest.update(self._get_state(folder))
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        return folder

    @classmethod
    def load(cls, path_or_name) -> "Recognizer":
        """Load a bundled model by name or a folder written by :meth:`save`."""
        from affekt.core.registry import load_model

        model = load_model(path_or_name)
        if not isinstance(model, cls):
            raise InputError(f"'{path_or_name}' holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    @staticmethod
    def _from_folder(folder: Path) -> "Recognizer":
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            module, _, name = manifest["class"].rpartition(".")
            klass = getattr(importlib.import_module(module), name)
        except (OSError, ValueError, KeyError, ImportError, AttributeError) as exc:
            raise DataError(f"'{folder / MANIFEST}' is not a readable affekt model manifest: {exc}") from exc
        obj = klass._from_params(manifest.get("params", {}), folder)
        obj.model_id_ = manifest.get("model_id", folder.name)
        obj.card_ = manifest.get("card", {})
        obj._set_state(folder, manifest)
        return obj

    @classmethod
    def _from_params(cls, params: dict, folder: Path) -> "Recognizer":
        return cls(**params)

    # ------------------------------------------------------------------- info
    def describe(self) -> dict:
        self._check_fitted()
        d = {"model_id": self.model_id_, "modality": self.modality, "family": self.family}
        if hasattr(self, "labels_"):
            d["label_space"] = self.labels_.name
            d["labels"] = list(self.labels_.labels)
        if getattr(self, "dimensions_", None):
            d["dimensions"] = list(self.dimensions_)
        return d


class MembersState:
    """Mixin for ensembles: saves the fitted ``members_`` in ``member_<k>/`` sub-folders and their
    ``weights_`` in the manifest, and loads them back (put it before the modality's base class)."""

    def _get_state(self, folder: Path) -> dict:
        for k, m in enumerate(self.members_):
            m.model_id_ = getattr(m, "model_id_", None) or f"{self.model_id_}-member{k}"
            m.save(folder / f"member_{k}")
        return {**super()._get_state(folder), "n_members": len(self.members_), "weights": self.weights_}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        self.members_ = [Recognizer._from_folder(folder / f"member_{k}") for k in range(manifest["n_members"])]
        self.weights_ = manifest["weights"]


class EmotionClassifier(Recognizer):
    """Categorical recognizer: single-label (softmax) or multi-label (per-label sigmoid + thresholds).

    Subclasses implement ``_fit(X, Y, X_dev, Y_dev)`` with ``Y`` a (n, n_labels) 0/1 matrix and
    ``_scores(X) -> (n, n_labels)`` probabilities.
    """

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, X_dev=None, y_dev=None, label_space: LabelSpace | str | None = None):
        self._validate_all(X)
        space = self._infer_space(y, label_space)
        Y = self._to_matrix(y, space, "training labels")
        if Y.dtype.kind == "f" and not getattr(self, "soft_targets", False):
            import warnings

            warnings.warn(f"family '{self.family}' learns one label per item: each item's soft target becomes its most "
                          "voted label (the face networks learn the distributions)", stacklevel=2)
            Y = np.eye(len(space), dtype=np.int8)[Y.argmax(1)]
        if len(Y) != len(X):
            raise DataError(f"{len(X)} items but {len(Y)} label rows")
        if Y.sum(axis=0).min() == 0:
            missing = [lab for lab, c in zip(space.labels, Y.sum(axis=0)) if c == 0]
            if not space.multi_label or len(missing) == len(space):
                raise DataError(f"no training example for label(s): {', '.join(missing)}")
        self.labels_ = space
        Y_dev = None
        if X_dev is not None and y_dev is not None and len(X_dev):
            self._validate_all(X_dev)
            Y_dev = self._to_matrix(y_dev, space, "dev labels")
        X_dev = None if Y_dev is None else self._normalise(list(X_dev))
        self._fit(self._normalise(list(X)), Y, X_dev, Y_dev)
        self.model_id_ = getattr(self, "model_id_", None) or f"{self.modality}-{self.family}"
        self.thresholds_ = np.full(len(space), 0.5, dtype=np.float32)
        if space.multi_label and Y_dev is not None:
            from affekt.training.thresholds import tune_thresholds

            self.thresholds_ = tune_thresholds(Y_dev, self._scores(X_dev))
        return self

    @staticmethod
    def _infer_space(y, label_space) -> LabelSpace:
        if label_space is not None:
            return get_label_space(label_space)
        if isinstance(y, np.ndarray) and y.ndim == 2:
            raise LabelError("a 0/1 label matrix needs label_space= to name its columns")
        flat, multi = [], False
        for item in y:
            if isinstance(item, str):
                flat.append(item)
            else:
                item = list(item)
                multi = multi or len(item) != 1
                flat.extend(item)
        return LabelSpace("custom", tuple(sorted(set(flat))), multi_label=multi)

    @staticmethod
    def _to_matrix(y, space: LabelSpace, where: str) -> np.ndarray:
        if isinstance(y, np.ndarray) and y.ndim == 2:
            if y.shape[1] != len(space):
                raise LabelError(f"{where}: {y.shape[1]} columns for {len(space)} labels")
            if y.dtype.kind == "f" and not space.multi_label and len(y) and np.allclose(y.sum(1), 1, atol=1e-4):
                if not np.isfinite(y).all() or (y < 0).any():
                    raise LabelError(f"{where}: label distributions must be finite and >= 0")
                return y.astype(np.float32)  # soft targets: one distribution per item (vote shares)
            return (y > 0).astype(np.int8)
        flat = [lab for item in y for lab in ([item] if isinstance(item, str) else item)]
        space.validate(flat, where=where)
        Y = space.binarize(y)
        if not space.multi_label and (Y.sum(axis=1) != 1).any():
            bad = int(np.flatnonzero(Y.sum(axis=1) != 1)[0])
            raise LabelError(f"{where}: item {bad} has {int(Y[bad].sum())} labels in single-label space '{space.name}'")
        return Y

    # --------------------------------------------------------------- predict
    def predict_proba(self, X) -> np.ndarray:
        """(n_items, n_labels) probabilities in the model's own label space."""
        self._check_fitted()
        self._validate_all(X)
        return np.asarray(self._scores(self._normalise(list(X))), dtype=np.float32)

    def decide(self, P: np.ndarray) -> np.ndarray:
        """Scores -> 0/1 decisions: per-label thresholds (multi-label) or argmax."""
        D = np.zeros(P.shape, dtype=np.int8)
        if self.labels_.multi_label:
            D[:] = P >= self.thresholds_[None, :]
            empty = D.sum(axis=1) == 0  # every item gets at least its best label
            D[empty, np.argmax(P[empty] / self.thresholds_[None, :], axis=1)] = 1
        else:
            D[np.arange(len(P)), P.argmax(axis=1)] = 1
        return D

    def predict_labels(self, X) -> np.ndarray:
        return self.decide(self.predict_proba(X))

    def predict(self, X, *, label_space: str | LabelSpace | None = None, errors: str = "raise") -> Predictions:
        """One :class:`EmotionPrediction` per item, optionally viewed in another label space.

        ``errors="record"`` turns a bad item into a prediction with ``error`` set (the others
        go on); ``errors="raise"`` raises :class:`InputError` naming it.
        """
        self._check_fitted()
        return _predict_items(self, X, label_space, errors)

    def _proba_and_decisions(self, X: list, label_space) -> tuple[np.ndarray, np.ndarray, LabelSpace]:
        return self._view(self._scores(self._normalise(list(X))), label_space)

    def _view(self, P: np.ndarray, label_space) -> tuple[np.ndarray, np.ndarray, LabelSpace]:
        """Own-space scores -> (scores, decisions, space), in ``label_space`` when one is given."""
        P = np.asarray(P, dtype=np.float32)
        D = self.decide(P)
        space = self.labels_
        if label_space is not None and get_label_space(label_space).name != space.name:
            m = get_mapping(space, label_space)
            P, D, space = m.map_scores(P), m.map_decisions(D), m.view_space()
            if not space.multi_label:
                D = np.zeros_like(D)
                D[np.arange(len(P)), P.argmax(axis=1)] = 1
        return P, D, space

    def _get_state(self, folder: Path) -> dict:
        return {"label_space": self.labels_.to_dict(),
                "thresholds": [round(float(t), 4) for t in self.thresholds_]}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        self.labels_ = LabelSpace.from_dict(manifest["label_space"])
        self.thresholds_ = np.asarray(manifest.get("thresholds", [0.5] * len(self.labels_)), dtype=np.float32)


def _predict_items(model, X, label_space, errors: str) -> Predictions:
    """Shared by classifiers, regressors and composites: validates items, runs the valid ones."""
    if isinstance(X, (str, bytes)):
        raise InputError("expected a list of items, got a single string; wrap it in a list")
    X = list(X)
    ok, errs = model._split_valid(X)
    if errors == "raise" and len(ok) < len(X):
        i = next(i for i, e in enumerate(errs) if e)
        raise InputError(f"item {i}: {errs[i]}")
    out = [EmotionPrediction(input=x, error=e, model_id=model.model_id_) if e else None
           for x, e in zip(X, errs)]
    space_name = None
    if ok:
        valid = [X[i] for i in ok]
        cat = model.categorical_part(label_space)
        dim = getattr(model, "dimensional_part", lambda: model)()
        P = D = space = None
        if isinstance(cat, EmotionClassifier):
            P, D, space = cat._proba_and_decisions(valid, label_space)
            space_name = space.name
        V = dim._dimensions(dim._normalise(valid)) if isinstance(dim, DimensionalRegressor) else None
        notes = model._item_warnings(valid)
        for k, i in enumerate(ok):
            p = EmotionPrediction(input=X[i], model_id=model.model_id_, label_space=space_name)
            if notes:
                p.warnings = list(notes[k])
            if P is not None:
                p.scores = {lab: float(s) for lab, s in zip(space.labels, P[k])}
                p.label = space.labels[int(P[k].argmax())]
                p.labels = [lab for lab, d in zip(space.labels, D[k]) if d]
                p.labels.sort(key=lambda lab: -p.scores[lab])
            if V is not None:
                p.valence, p.arousal, p.dominance = (float(v) for v in V[k])
            out[i] = p
    return Predictions(out, model_id=model.model_id_, label_space=space_name)


class DimensionalRegressor(Recognizer):
    """Dimensional recognizer: valence, arousal, dominance (subclasses implement ``_fit``/``_dimensions``)."""

    dimensions_ = DIMENSIONS

    def fit(self, X, y, *, X_dev=None, y_dev=None, **kw):
        self._validate_all(X)
        Y = np.asarray(y, dtype=np.float32)
        if Y.ndim != 2 or Y.shape[1] != len(DIMENSIONS) or len(Y) != len(X):
            raise DataError(f"expected a ({len(X)}, 3) valence/arousal/dominance target, got shape {Y.shape}")
        if not np.isfinite(Y).all():
            raise DataError("valence/arousal/dominance targets contain NaN or infinite values")
        self._fit(self._normalise(list(X)), Y, None if X_dev is None else self._normalise(list(X_dev)),
                  None if y_dev is None else np.asarray(y_dev, dtype=np.float32))
        self.model_id_ = getattr(self, "model_id_", None) or f"{self.modality}-{self.family}"
        return self

    def predict_dimensions(self, X) -> np.ndarray:
        """(n_items, 3) valence, arousal, dominance."""
        self._check_fitted()
        self._validate_all(X)
        return np.asarray(self._dimensions(self._normalise(list(X))), dtype=np.float32)

    def predict_proba(self, X) -> np.ndarray:
        raise AffektError(f"{type(self).__name__} is dimensional: use predict_dimensions() or predict()")

    def predict(self, X, *, label_space=None, errors: str = "raise") -> Predictions:
        self._check_fitted()
        return _predict_items(self, X, None, errors)


class CompositeRecognizer(Recognizer):
    """A categorical and a dimensional recognizer answering together (e.g. GoEmotions + EmoBank V/A/D).

    ``views`` (optional) maps a label-space name to a categorical recognizer trained natively in
    that space (text-default: an Ekman model trained on five corpora beside its GoEmotions-28 one).
    A prediction asked for in such a space comes from that recognizer, blended with the main part's
    mapped scores when ``view_weights`` gives the view a weight under 1 (:class:`BlendedView`);
    every other space is the main part's, mapped as usual. A saved view is loaded the first time it
    is asked for."""

    family = "composite"

    def __init__(self, categorical: EmotionClassifier | None = None,
                 dimensional: DimensionalRegressor | None = None,
                 views: dict | None = None, view_weights: dict | None = None):
        self.categorical = categorical
        self.dimensional = dimensional
        self.views = dict(views or {})  # space name -> EmotionClassifier, or the Path it loads from
        self.view_weights = {k: float(v) for k, v in (view_weights or {}).items()}

    @property
    def modality(self) -> str:  # type: ignore[override]
        return self.categorical.modality if self.categorical is not None else "any"

    def categorical_part(self, label_space=None):
        """The recognizer that answers in ``label_space`` (a name or LabelSpace; None: the main part)."""
        name = getattr(label_space, "name", label_space)
        if name in self.views:
            view = self._view_model(name)
            w = self.view_weights.get(name, 1.0)
            return view if w >= 1.0 else BlendedView(self.categorical, view, name, w)
        return self.categorical

    def _view_model(self, name: str) -> EmotionClassifier:
        """The view trained in ``name`` (read from its folder the first time)."""
        if isinstance(self.views[name], Path):
            self.views[name] = Recognizer._from_folder(self.views[name])
        return self.views[name]

    def dimensional_part(self):
        return self.dimensional

    def check_item(self, x):
        return self.categorical.check_item(x)

    def _normalise(self, X: list) -> list:
        return self.categorical._normalise(X)

    def _item_warnings(self, X: list):
        """The categorical part's warnings, with the languages this composite's card names."""
        langs = (getattr(self, "card_", None) or {}).get("languages")
        return self.categorical._item_warnings(X, languages=langs) if langs else self.categorical._item_warnings(X)

    @property
    def labels_(self) -> LabelSpace:
        return self.categorical.labels_

    @property
    def dimensions_(self):
        return DIMENSIONS if self.dimensional is not None else ()

    def fit(self, X, y, **kw):
        raise AffektError("fit the categorical and dimensional parts separately, then combine them")

    def predict_proba(self, X) -> np.ndarray:
        return self.categorical.predict_proba(X)

    def predict_dimensions(self, X) -> np.ndarray:
        return self.dimensional.predict_dimensions(X)

    def predict(self, X, *, label_space=None, errors: str = "raise") -> Predictions:
        self._check_fitted()
        return _predict_items(self, X, label_space, errors)

    def _manifest_params(self) -> dict:
        return {}

    def _get_state(self, folder: Path) -> dict:
        parts = {}
        for name in ("categorical", "dimensional"):
            part = getattr(self, name)
            if part is not None:
                if name == "dimensional":
                    self._link_shared_network(folder)
                part.save(folder / name)
                parts[name] = name
        views = {}
        for space in sorted(self.views):
            views[space] = f"view_{space}"
            self._view_model(space).save(folder / views[space])
        if views:
            parts["views"] = views
        weights = {k: v for k, v in self.view_weights.items() if k in views}
        return {"parts": parts, "label_space": self.labels_.to_dict(), **({"view_weights": weights} if weights else {})}

    def _link_shared_network(self, folder: Path) -> None:
        """When the dimensional part feeds on a network the categorical part already holds
        (same weights), save a relative link instead of a second copy."""
        dim = self.dimensional
        if "emotions" not in str(getattr(dim, "features", "")).split("+"):
            return
        emo = dim._emotion_model()
        if not hasattr(emo, "_fingerprint"):
            return
        members = getattr(self.categorical, "members_", None) or [self.categorical]
        for k, m in enumerate(members):
            if hasattr(m, "_fingerprint") and m._fingerprint() == emo._fingerprint():
                sub = f"member_{k}" if m is not self.categorical else ""
                dim.emotion_model_link_ = str(Path("..") / "categorical" / sub) if sub else "../categorical"
                return

    @classmethod
    def _from_params(cls, params: dict, folder: Path):
        manifest = json.loads((folder / MANIFEST).read_text())
        parts = dict(manifest["parts"])
        views = {space: folder / sub for space, sub in parts.pop("views", {}).items()}
        return cls(**{k: Recognizer._from_folder(folder / v) for k, v in parts.items()}, views=views,
                   view_weights=manifest.get("view_weights"))


class BlendedView(EmotionClassifier):
    """A composite's answer in a view's space when the view does not answer alone: ``weight`` x the
    view's scores + (1 - weight) x the main part's scores mapped into that space. The label is the
    top blended score; the decisions are that label plus any the main part's own thresholds give
    (a GoEmotions comment with two Ekman emotions keeps both). Made on the fly; never saved."""

    def __init__(self, main: EmotionClassifier, view: EmotionClassifier, space: str, weight: float):
        self.main, self.view, self.space, self.weight = main, view, space, weight
        self.labels_ = main._view(np.zeros((1, len(main.labels_)), np.float32), space)[2]
        self.thresholds_ = np.full(len(self.labels_), 0.5, np.float32)
        self.model_id_ = getattr(view, "model_id_", "view")
        self.family = f"blend({main.family}, {view.family})"

    @property
    def modality(self) -> str:  # type: ignore[override]
        return self.main.modality

    def check_item(self, x):
        return self.main.check_item(x)

    def _normalise(self, X: list) -> list:
        return self.main._normalise(X)

    def _item_warnings(self, X: list, **kw):
        return self.main._item_warnings(X, **kw)

    def _proba_and_decisions(self, X: list, label_space) -> tuple[np.ndarray, np.ndarray, LabelSpace]:
        Pm, Dm, space = self.main._proba_and_decisions(X, self.space)
        Pv, _, sv = self.view._proba_and_decisions(X, self.space)
        Pv = Pv[:, [sv.labels.index(lab) for lab in space.labels]]
        P = (self.weight * Pv + (1.0 - self.weight) * Pm).astype(np.float32)
        D = np.asarray(Dm).copy()
        D[np.arange(len(P)), P.argmax(axis=1)] = 1
        if not space.multi_label:
            D = np.zeros_like(D)
            D[np.arange(len(P)), P.argmax(axis=1)] = 1
        return P, D, space
