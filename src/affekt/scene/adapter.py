"""The scene modality's adapter (see :mod:`affekt.core.modality`): people in images.

Inputs: an image, a folder of images (recursive, sorted), a .txt list whose lines are image
paths or people (``PATH#xywh=x,y,w,h``, pixels; relative to the list's folder), or one person
``PATH#xywh=x,y,w,h``. Person boxes of bare images come from ``--boxes BOXES.csv`` (columns
``path,x1,y1,x2,y2``) or from affekt's detection (:mod:`affekt.scene.people`).

The modality reads no file suffix of its own: an image is a face input unless a scene model is
given (``affekt analyze photo.jpg --model MY-EMOTIC``: the model's modality adopts face inputs)
or ``--modality scene`` is. There is no bundled scene model (EMOTIC's images are only released
on request), so ``--model`` is required.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from affekt.core.errors import InputError, ModelNotFoundError
from affekt.core.modality import Modality
from affekt.io.items import LIST_SUFFIXES, Item

TRAIN_HINT = ("affekt train --modality scene --dataset emotic --data-dir EMOTIC/ --output my-emotic "
              "(see docs/emotic.md)")


class SceneModality(Modality):
    name = "scene"
    #: no suffix of its own: images are face inputs unless a scene model or --modality scene says so
    suffixes = ()
    datasets = ("emotic",)
    #: the modalities whose items a scene model reads as its own (``affekt analyze photo.jpg --model DIR``)
    adopts = ("face",)
    #: what ``--annotate`` writes for scene inputs
    annotate_suffixes = (".png", ".jpg", ".jpeg", ".webp", ".bmp")

    @property
    def default_model(self) -> str:  # type: ignore[override]
        raise ModelNotFoundError("there is no bundled scene model (EMOTIC's images are only released on request): "
                                 f"give --model DIR, a model you trained with: {TRAIN_HINT}")

    # ------------------------------------------------------------------ inputs
    def items_from_input(self, path: Path, **opts) -> list[Item]:
        """An image; a folder (every image under it, recursive, sorted); a .txt list of images
        or people (``PATH#xywh=x,y,w,h``); or one person ``PATH#xywh=x,y,w,h``."""
        from affekt.datasets.faces import IMAGE_SUFFIXES

        s = str(path)
        if "#xywh=" in s and not Path(s).exists():
            return [Item(s, given=s, modality=self.name)]
        p = Path(path)
        if not p.exists():
            raise InputError(f"input '{p}' does not exist")
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            return self._items_from_list(p)
        if p.is_dir():
            files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise InputError(f"folder '{p}' holds no images ({' '.join(IMAGE_SUFFIXES)}; searched recursively)")
            return [Item(str(f), given=str(f), modality=self.name) for f in files]
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"'{p}': not an image, a folder, a .txt list of images or people (PATH#xywh=x,y,w,h) "
                             f"or a person PATH#xywh=x,y,w,h (images: {' '.join(IMAGE_SUFFIXES)})")
        return [Item(str(p), given=str(p), modality=self.name)]

    def items_from_file(self, path: Path, given: str, **opts) -> list[Item]:
        return [Item(str(path), given=given, modality=self.name)]

    def _items_from_list(self, path: Path) -> list[Item]:
        items = self.items_from_list(path, "images or people")
        for it in items:  # a person line: the fragment stays on the resolved path
            if "#xywh=" in it.given:
                rel, frag = it.given.rsplit("#xywh=", 1)
                q = Path(rel)
                it.value = f"{q if q.is_absolute() else path.parent / q}#xywh={frag}"
        return items

    def check_options(self, *, boxes=None, **opts) -> None:
        super().check_options(**opts)

    # ------------------------------------------------------------------ running
    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 64, progress: bool = False,
                boxes=None, **opts) -> Iterator[list]:
        """Images in chunks (every person of a chunk scored in one batch); ``boxes``: a
        ``--boxes`` CSV (path,x1,y1,x2,y2)."""
        self.check_options(**opts)
        from affekt.core.modality import predict_chunks

        if boxes is not None and not isinstance(boxes, dict):
            from affekt.scene.people import read_boxes

            boxes = read_boxes(boxes)
        yield from predict_chunks(model, items, step=max(1, min(batch_size, 64)), label_space=label_space,
                                  progress=progress, min_progress=20, boxes=boxes)

    def print_predictions(self, preds: list, top: int, model_id: str) -> None:
        from affekt.scene.annotate import print_people

        print_people(preds, top, model_id)

    def annotate(self, pred, image, out) -> Path:
        from affekt.scene.annotate import annotate

        return annotate(image, pred, out)

    # ------------------------------------------------------------------ datasets
    def load_dataset(self, name: str, data_dir, **opts):
        """``emotic``: the official Annotations.mat, the CSV exports or the COCO-style JSON (see
        :func:`affekt.datasets.emotic.load_emotic`); images under the same folder."""
        for key in ("text_column", "label_sep", "group_column", "speaker_by", "label_column", "label_votes"):
            opts.pop(key, None)
        self.check_options(**opts)
        if name.lower() != "emotic":
            raise InputError(f"unknown scene dataset '{name}' (known: {', '.join(self.datasets)})")
        import warnings

        from affekt.datasets.emotic import load_emotic

        # the official boxes include some that overshoot their image (public converters clip them): clip
        # them too, say so, and drop a box without area, rather than refuse the whole dataset
        ds = load_emotic(data_dir, on_bad_box="clip")
        problems = ds.info.get("problems") or []
        if problems:
            warnings.warn(f"emotic: {len(problems)} person box(es) clipped to their image or left out (no area); "
                          f"the first: {problems[0]}", stacklevel=2)
        return ds


ADAPTER = SceneModality()
