"""Scene models: the emotions of people in context (EMOTIC's 26 categories and V/A/D).

Family ``emotic``: Kosti et al.'s two-stream network (CVPR 2017, TPAMI 2019) on frozen ImageNet
backbones. A person is read through up to four streams (:mod:`affekt.scene.features`): their
``body`` (the box cut out), the ``context`` (the whole image, their box greyed out), their
``face`` (the face model's scores) and their ``pose`` (MoveNet key points); the streams are
fused into a 26-way multi-label head and a V/A/D head (:class:`affekt.scene._nets.FusionNet`).

Items (the contract's ``X``):

* ``"<image path>#xywh=x,y,w,h"`` - one person, their body box in pixels (what
  :func:`affekt.datasets.emotic.load_emotic` gives);
* an image path or an RGB array - every person in it (:mod:`affekt.scene.people`);
  ``predict_proba`` / ``predict_dimensions`` read its largest person;
* ``(image, (x, y, w, h))`` - that person of that image.

``predict`` gives one record per item with ``people`` (largest first), each ``box`` [x, y, w,
h], ``categories`` (the decisions: per-category thresholds tuned on the dev split), ``scores``
(26), ``valence`` / ``arousal`` / ``dominance`` on EMOTIC's 1-10 scale and ``source`` (where
the box came from).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.labels import DIMENSIONS
from affekt.core.recognizer import DimensionalRegressor, EmotionClassifier
from affekt.core.registry import register_family
from affekt.core.types import EmotionPrediction, Predictions


@dataclass
class ScenePrediction(EmotionPrediction):
    """An :class:`EmotionPrediction` of an image: ``people``, one dict per person (largest
    first): ``box`` [x, y, w, h], ``source``, ``categories``, ``scores``, ``valence``,
    ``arousal``, ``dominance`` (1-10), and ``face`` when the box was made from one."""

    people: list[dict] | None = None

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.error is None and self.people is not None:
            out = {}
            for k, v in d.items():
                out[k] = v
                if k == "input":
                    out["people"] = self.people
            return out
        return d


def item_name(x) -> Any:
    if isinstance(x, tuple) and len(x) == 2:
        return f"{item_name(x[0])}#xywh={','.join(f'{float(v):g}' for v in x[1])}"
    if isinstance(x, (str, os.PathLike)):
        return str(x)
    if isinstance(x, np.ndarray):
        return f"<array {'x'.join(map(str, x.shape))} {x.dtype}>"
    return f"<{type(x).__name__}>"


class SceneClassifier(EmotionClassifier, DimensionalRegressor):
    """Family ``emotic``: categories and V/A/D of people in context.

    Parameters (``affekt train -p key=value``):

    * ``streams`` - ``body``, ``context``, ``face``, ``pose``, comma-separated (default
      ``body,context``; the ablations: ``body``, ``context``, ``body,context,face``,
      ``body,context,pose``, ``body,context,face,pose``);
    * ``backbone`` - ``mobilenetv2`` (default) or ``efficientnet-lite0``, ImageNet weights;
    * ``mask_person`` - grey the person's box out of the context stream (default true);
    * ``finetune`` - also train the backbone's last ``finetune_blocks`` blocks (default false:
      frozen, the features computed once and cached; fine-tuning caches the maps before them);
    * ``body_size`` / ``context_size`` - the backbone's input sides (128 / 224);
    * ``hidden``, ``dropout``, ``epochs``, ``batch``, ``lr``, ``weight_decay``, ``patience``
      (early stopping on the dev split's mAP);
    * ``loss`` - ``kosti`` (EMOTIC's weighted squared error, the default) or ``bce`` (the same
      weights on binary cross-entropy); ``c`` - the weights' constant (1.2); ``vad_weight`` - the
      V/A/D smooth-L1 term's weight;
    * ``face_model`` - the face stream's model (``face-default``).
    """

    modality = "scene"
    family = "emotic"
    #: ``affekt train`` passes the dataset's valence/arousal/dominance columns as ``dims=``
    dimensional_targets = True

    def __init__(self, streams: str = "body,context", backbone: str = "mobilenetv2", mask_person: bool = True,
                 finetune: bool = False, finetune_blocks: int = 3, body_size: int = 128, context_size: int = 224,
                 hidden: int = 256, dropout: float = 0.3, epochs: int = 40, batch: int = 64, lr: float = 1e-3,
                 weight_decay: float = 1e-4, patience: int = 6, loss: str = "kosti", c: float = 1.2,
                 vad_weight: float = 1.0, face_model: str = "face-default", seed: int = 0):
        self.streams = streams
        self.backbone = backbone
        self.mask_person = mask_person
        self.finetune = finetune
        self.finetune_blocks = finetune_blocks
        self.body_size = body_size
        self.context_size = context_size
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch = batch
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.loss = loss
        self.c = c
        self.vad_weight = vad_weight
        self.face_model = face_model
        self.seed = seed

    # ------------------------------------------------------------------ settings
    def _streams(self) -> tuple[str, ...]:
        from affekt.scene.features import parse_streams

        return parse_streams(self.streams)

    def _check_params(self) -> None:
        from affekt.scene._nets import BACKBONES

        self._streams()
        if self.backbone not in BACKBONES:
            raise InputError(f"backbone={self.backbone!r}: use {' or '.join(BACKBONES)}")
        if self.loss not in ("kosti", "bce"):
            raise InputError(f"loss={self.loss!r}: use kosti (EMOTIC's weighted squared error) or bce")
        for name in ("body_size", "context_size"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or not 32 <= v <= 1024:
                raise InputError(f"{name}={v!r}: a side in pixels from 32 to 1024")
        if not isinstance(self.mask_person, (bool, np.bool_)) or not isinstance(self.finetune, (bool, np.bool_)):
            raise InputError("mask_person and finetune are true or false")

    def _tail_blocks(self) -> int:
        return int(self.finetune_blocks) if self.finetune else 0

    def _extractor(self):
        from affekt.scene.features import SceneFeatures

        if getattr(self, "_fx", None) is None:
            self._fx = SceneFeatures(self.backbone, self.body_size, self.context_size, bool(self.mask_person),
                                     self._tail_blocks(), self.face_model)
        return self._fx

    @property
    def dimensions_(self):  # type: ignore[override]
        return DIMENSIONS if getattr(self, "has_vad_", False) else ()

    # ------------------------------------------------------------------ items
    def check_item(self, x):
        from affekt.scene.people import split_item

        if isinstance(x, tuple):
            if len(x) != 2:
                return "a (image, box) item is a pair: the image and its person box (x, y, w, h)"
            img = x[0]
        else:
            img = x
        if isinstance(img, (str, os.PathLike)):
            if isinstance(img, str) and not img.strip():
                return "empty path"
        elif isinstance(img, np.ndarray):
            if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3, 4))):
                return f"an image array must be (h, w), (h, w, 3) or (h, w, 4), not {img.shape}"
        else:
            return f"expected an image path, a person item PATH#xywh=x,y,w,h or an array, got {type(img).__name__}"
        try:
            split_item(x)
        except InputError as exc:
            return str(exc)
        return None

    def _normalise(self, X: list) -> list:
        """Items -> (image, box or None) pairs."""
        from affekt.scene.people import split_item

        if X and isinstance(X[0], _Person):
            return X
        return [_Person(*split_item(x)) for x in X]

    # ------------------------------------------------------------------ features
    def _features(self, persons: list, *, pictures=None, progress: bool = False) -> dict[str, np.ndarray]:
        return self._extractor()([(p.image, p.box) for p in persons], self._streams(), pictures=pictures,
                                 progress=progress)

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, *, X_dev=None, y_dev=None, label_space=None, dims=None, dims_dev=None):
        """``dims`` / ``dims_dev``: (n, 3) valence, arousal, dominance on 1-10 (NaN where
        unknown) for the V/A/D head; without them the model gives categories only."""
        self._check_params()
        self._dims = None if dims is None else self._check_dims(dims, len(X), "dims")
        self._dims_dev = None if dims_dev is None or X_dev is None else self._check_dims(dims_dev, len(X_dev), "dims_dev")
        try:
            return super().fit(X, y, X_dev=X_dev, y_dev=y_dev, label_space=label_space)
        finally:
            self._dims = self._dims_dev = None

    @staticmethod
    def _check_dims(D, n: int, name: str) -> np.ndarray:
        D = np.asarray(D, dtype=np.float32)
        if D.shape != (n, 3):
            raise DataError(f"{name}: expected ({n}, 3) valence/arousal/dominance values, got shape {D.shape}")
        bad = np.isfinite(D) & ((D < 1) | (D > 10))
        if bad.any():
            raise DataError(f"{name}: valence/arousal/dominance are on EMOTIC's 1-10 scale; found "
                            f"{float(D[bad][0]):g}")
        return D

    def _fit(self, X, Y, X_dev, Y_dev):
        import torch

        from affekt.scene import _nets
        from affekt.training.trainer import fit_torch

        torch.manual_seed(int(self.seed))
        rng = np.random.default_rng(int(self.seed))
        streams = self._streams()
        progress = len(X) > 2000
        _check_files(X + list(X_dev or []))
        F = self._features(X, progress=progress)
        Fd = self._features(X_dev, progress=progress) if X_dev is not None else None
        dims = {s: (_nets.Trunk.dim if s in ("body", "context") else F[s].shape[1]) for s in streams}
        tails = None
        if self._tail_blocks():
            trunk = self._extractor()._trunk_for_tails()
            tails = {s: _copy_tail(trunk) for s in streams if s in ("body", "context")}
        net = _nets.FusionNet(dims, Y.shape[1], hidden=int(self.hidden), dropout=float(self.dropout), tails=tails)
        V = self._dims if self._dims is not None else np.full((len(X), 3), np.nan, np.float32)
        self.has_vad_ = bool(np.isfinite(V).any())
        Vt = torch.from_numpy((V - 1.0) / 9.0)
        Yt = torch.from_numpy(Y.astype(np.float32))
        w = torch.from_numpy(_nets.kosti_weights(Y, float(self.c)))
        Ft = {s: torch.from_numpy(F[s]) for s in streams}
        n, batch = len(X), max(2, min(int(self.batch), len(X)))

        def batches(epoch):
            order = rng.permutation(n)
            for s in range(0, n, batch):
                idx = torch.from_numpy(np.sort(order[s:s + batch]))
                if len(idx) < 2:
                    continue
                yield ({k: v[idx] for k, v in Ft.items()},), (Yt[idx], Vt[idx])

        def loss_fn(out, target):
            logits, vad = out
            Yb, Vb = target
            total = _nets.category_loss(logits, Yb, w, self.loss)
            if self.has_vad_ and self.vad_weight:
                total = total + float(self.vad_weight) * _nets.vad_loss(vad, Vb)
            return total

        score = None
        if Fd is not None and Y_dev is not None and Y_dev.any(axis=0).any():
            from affekt.scene.metrics import mean_ap

            Vd = self._dims_dev if self.has_vad_ and self._dims_dev is not None else None

            def score():
                # the dev split's mAP; its V/A/D mean absolute error (1-10) breaks ties, 1 point of
                # it weighing as 0.011 of mAP (so V/A/D go on improving once the categories plateau)
                P, Vp = _run(net, Fd)
                s = mean_ap(Y_dev, P)
                if Vd is not None and np.isfinite(Vd).any():
                    err = np.abs(1.0 + 9.0 * Vp - Vd)
                    s -= float(np.nanmean(err)) / 90.0
                return s

        params = None
        if tails:
            tail_params = [p for m in net.tails.values() for p in m.parameters()]
            ids = {id(p) for p in tail_params}
            params = [{"params": [p for p in net.parameters() if id(p) not in ids], "lr": float(self.lr)},
                      {"params": tail_params, "lr": float(self.lr) * 0.1}]
        threads = torch.get_num_threads()
        if not tails:  # a small MLP on cached features: one thread is fastest (and spares a busy machine)
            torch.set_num_threads(1)
        try:
            hist = fit_torch(net, batches, loss_fn, score, epochs=int(self.epochs), lr=float(self.lr),
                             weight_decay=float(self.weight_decay),
                             patience=int(self.patience) if score is not None else int(self.epochs),
                             progress=progress, param_groups=params)
        finally:
            torch.set_num_threads(threads)
        self.net_ = net.eval()
        self.stream_dims_ = dims
        self.history_ = hist["history"]
        self.dev_map_ = None
        if score is not None:
            from affekt.scene.metrics import mean_ap

            self.dev_map_ = mean_ap(Y_dev, _run(net, Fd)[0])

    # ------------------------------------------------------------------ scoring
    def _outputs(self, persons: list, *, pictures=None, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(category probabilities (n, L), V/A/D on 1-10 (n, 3))."""
        if not len(persons):
            return np.zeros((0, len(self.labels_)), np.float32), np.zeros((0, 3), np.float32)
        F = self._features(persons, pictures=pictures, progress=progress)
        P, V = _run(self.torch_net(), F)
        return P, 1.0 + 9.0 * V

    def _scores(self, X) -> np.ndarray:
        return self._outputs(self._normalise(list(X)))[0]

    def _dimensions(self, X) -> np.ndarray:
        _, V = self._outputs(self._normalise(list(X)))
        if not getattr(self, "has_vad_", False):
            V = np.full_like(V, np.nan)
        return V

    def predict_dimensions(self, X) -> np.ndarray:
        """(n_items, 3) valence, arousal, dominance (1-10) of each item's person."""
        if not getattr(self, "has_vad_", False):
            from affekt.core.errors import AffektError

            raise AffektError(f"model '{getattr(self, 'model_id_', self.family)}' was trained without "
                              "valence/arousal/dominance targets")
        return super().predict_dimensions(X)

    # ------------------------------------------------------------------ predict
    def predict(self, X, *, label_space=None, errors: str = "raise", boxes=None, progress: bool = False,
                batch_size: int = 64) -> Predictions:
        """One :class:`ScenePrediction` per item: its ``people``, largest first.

        ``boxes``: person boxes for bare images, a ``--boxes`` CSV path or what
        :func:`affekt.scene.people.read_boxes` gives (resolved path -> (x1, y1, x2, y2) boxes);
        images without boxes there get affekt's own (:func:`affekt.scene.people.find_people`).
        An image that cannot be decoded, or a box outside its image, is an error record
        (``errors="record"``) or an :class:`InputError` (``errors="raise"``)."""
        self._check_fitted()
        if isinstance(X, (str, bytes, os.PathLike)) or (isinstance(X, np.ndarray) and X.ndim in (2, 3)
                                                        and X.dtype == np.uint8 and X.shape[-1] in (3, 4)):
            raise InputError("expected a list of items (images or PATH#xywh=x,y,w,h people), got a single one; "
                             "wrap it in a list")
        if boxes is not None and not isinstance(boxes, dict):
            from affekt.scene.people import read_boxes

            boxes = read_boxes(boxes)
        X = list(X)
        out: list[EmotionPrediction] = []
        space_name = self.labels_.name
        for s in range(0, len(X), max(1, int(batch_size))):
            recs, space_name = self._predict_chunk(X[s:s + batch_size], label_space, errors, boxes, progress)
            out.extend(recs)
        return Predictions(out, model_id=self.model_id_, label_space=space_name)

    def _predict_chunk(self, X: list, label_space, errors: str, boxes, progress: bool):
        from affekt.face.images import ImageError
        from affekt.scene.features import image_key, read_picture
        from affekt.scene.people import (
            PersonBox,
            boxes_for,
            find_people,
            fit_box,
            split_item,
            to_xywh,
        )

        pictures: dict = {}

        def people_of(x):
            """(image, [PersonBox]) of one item, boxes in the image's own pixels; raises."""
            image, box = split_item(x)
            key = image_key(image)
            if key is None:
                raise ImageError(f"'{image}': no such file" if isinstance(image, (str, os.PathLike))
                                 else f"{item_name(image)}: not an image")
            pic = pictures.get(key) or read_picture(image)
            pictures[key] = pic
            w, h = pic.size
            name = item_name(x)
            given = [(box, "item")] if box is not None else [(b, "boxes") for b in (boxes_for(boxes, image) or [])]
            found: list[PersonBox] = []
            for b, source in given:
                fb, note = fit_box(b, w, h, where=f"'{name}'" if source == "item" else f"'{name}' (--boxes)")
                found.append(PersonBox(fb, source, warnings=[note] if note else []))
            warns = list(pic.warnings)
            if not given:
                if boxes:
                    warns.append("no box for this image in --boxes: its people were found by face detection")
                for p in find_people(pic.rgb):
                    b = (p.box[0] / pic.sx, p.box[1] / pic.sy, p.box[2] / pic.sx, p.box[3] / pic.sy)
                    face = p.face
                    if face is not None and (pic.sx != 1 or pic.sy != 1):
                        fx, fy, fw, fh = face["box"]
                        face = {**face, "box": [round(fx / pic.sx), round(fy / pic.sy), round(fw / pic.sx),
                                                round(fh / pic.sy)], "keypoints": None}
                    found.append(PersonBox(b, p.source, face=face, warnings=p.warnings))
            found.sort(key=lambda p: -p.area)
            return image, key, found, warns

        got = []
        for x in X:
            err = self.check_item(x)
            if err:
                got.append((None, None, [], [], err))
                continue
            try:
                image, key, found, warns = people_of(x)
                got.append((image, key, found, warns, None))
            except (ImageError, InputError) as exc:
                got.append((None, None, [], [], str(exc)))
        if errors == "raise":
            for i, g in enumerate(got):
                if g[4]:
                    name = str(item_name(X[i]))
                    raise InputError(g[4] if name in g[4] else f"item {i} ({name}): {g[4]}")
        persons = [_Person(image, p.box) for image, key, found, _, err in got if err is None for p in found]
        by_key = {key: pictures[key] for _, key, _, _, err in got if err is None}
        P, V = self._outputs(persons, pictures=by_key, progress=progress)
        space = self.labels_
        D = np.zeros(P.shape, np.int8)
        if len(P):
            P, D, space = self._view(P, label_space)
        recs, k = [], 0
        for x, (image, key, found, warns, err) in zip(X, got):
            name = item_name(x)
            if err:
                recs.append(ScenePrediction(input=name, error=err, model_id=self.model_id_))
                continue
            rec = ScenePrediction(input=name, model_id=self.model_id_, label_space=space.name, warnings=list(warns),
                                  people=[])
            for p in found:
                scores = {lab: round(float(v), 6) for lab, v in zip(space.labels, P[k])}
                person = {"box": to_xywh(p.box), "source": p.source,
                          "categories": sorted((lab for lab, d in zip(space.labels, D[k]) if d),
                                               key=lambda lab: -scores[lab]),
                          "scores": scores}
                if getattr(self, "has_vad_", False):
                    person.update({d: round(float(v), 3) for d, v in zip(DIMENSIONS, V[k])})
                if p.face is not None:
                    person["face"] = {"box": p.face["box"], "score": p.face["score"]}
                if p.warnings:
                    person["warnings"] = list(p.warnings)
                rec.people.append(person)
                k += 1
            recs.append(rec)
        return recs, space.name

    # ------------------------------------------------------------------ save / load
    def torch_net(self):
        if getattr(self, "net_", None) is None:
            from safetensors.torch import load_file

            from affekt.scene import _nets

            tails = None
            if self._tail_blocks():
                trunk = self._extractor()._trunk_for_tails()
                tails = {s: _copy_tail(trunk) for s in self._streams() if s in ("body", "context")}
            net = _nets.FusionNet(dict(self.stream_dims_), len(self.labels_), hidden=int(self.hidden),
                                  dropout=float(self.dropout), tails=tails)
            net.load_state_dict(load_file(str(Path(self.folder_) / "net.safetensors")))
            self.net_ = net.eval()
        return self.net_

    def _get_state(self, folder: Path) -> dict:
        import json

        from safetensors.torch import save_file

        sd = {k: v.detach().cpu().contiguous() for k, v in self.torch_net().state_dict().items()}
        save_file(sd, str(folder / "net.safetensors"))
        (folder / "history.json").write_text(json.dumps(getattr(self, "history_", [])))
        return {**super()._get_state(folder), "stream_dims": dict(self.stream_dims_),
                "has_vad": bool(getattr(self, "has_vad_", False)), "dev_map": getattr(self, "dev_map_", None)}

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        self.stream_dims_ = dict(manifest["stream_dims"])
        self.has_vad_ = bool(manifest.get("has_vad", False))
        self.dev_map_ = manifest.get("dev_map")
        self.folder_ = Path(folder)
        self.net_ = None

    def __getstate__(self):  # the extractor (backbones, caches) is rebuilt on use, never pickled
        d = dict(self.__dict__)
        d.pop("_fx", None)
        return d


@dataclass
class _Person:
    image: Any
    box: tuple | None


def _check_files(persons: list) -> None:
    """Every image file named by the training people exists (before hours of features)."""
    paths = {p.image for p in persons if isinstance(p.image, (str, os.PathLike))}
    missing = sorted(str(p) for p in paths if not os.path.isfile(p))
    if missing:
        shown = ", ".join(f"'{m}'" for m in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DataError(f"{len(missing)} image file(s) of the training data are missing: {shown} (list every problem "
                        "with affekt.datasets.emotic.check_images(dataset); give the images' folder as --data-dir)")


def _run(net, F: dict[str, np.ndarray], batch: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """(sigmoid category scores, V/A/D in [0, 1]) of a network over features."""
    import torch

    n = len(next(iter(F.values())))
    Ps, Vs = [], []
    net.eval()
    with torch.inference_mode():
        for s in range(0, n, batch):
            logits, vad = net({k: torch.from_numpy(np.ascontiguousarray(v[s:s + batch])) for k, v in F.items()})
            Ps.append(torch.sigmoid(logits).numpy())
            Vs.append(vad.numpy())
    return np.concatenate(Ps).astype(np.float32), np.concatenate(Vs).astype(np.float32)


def _copy_tail(trunk):
    import copy

    t = copy.deepcopy(trunk.tail)
    for p in t.parameters():
        p.requires_grad_(True)
    return t


register_family("scene", "emotic", SceneClassifier, "classification")
