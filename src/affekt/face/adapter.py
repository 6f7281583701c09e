"""The face modality's adapter (see :mod:`affekt.core.modality`): image files, folders of them
(recursive, sorted) and .txt lists of image paths."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from affekt.core.errors import InputError
from affekt.core.modality import Modality
from affekt.datasets.faces import IMAGE_SUFFIXES
from affekt.io.items import LIST_SUFFIXES, Item


class FaceModality(Modality):
    name = "face"
    default_model = "face-default"
    suffixes = IMAGE_SUFFIXES
    datasets = ("fer2013", "ferplus", "folder", "csv")

    def items_from_input(self, path: Path, **opts) -> list[Item]:
        """An image; a folder (every image under it, recursive, sorted); or a .txt list of image
        paths (one per line, relative to the list's folder; records name them as written)."""
        p = Path(path)
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            return self.items_from_list(p, "images")
        if p.is_file() and p.suffix.lower() not in self.suffixes:
            raise InputError(f"'{p}': not an image file, a folder or a .txt list of image paths "
                             f"(images: {' '.join(self.suffixes)})")
        return super().items_from_input(p, **opts)

    def check_options(self, *, whole_image: bool = False, **opts) -> None:
        super().check_options(**opts)

    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 64,
                progress: bool = False, whole_image: bool = False, **opts) -> Iterator[list]:
        """Images in chunks of ``batch_size`` (decoded and detected by a few threads, every
        face of a chunk scored in one batch). ``whole_image``: each image is one face crop."""
        self.check_options(**opts)
        from affekt.core.modality import predict_chunks

        yield from predict_chunks(model, items, step=max(1, min(batch_size, 256)), label_space=label_space,
                                  progress=progress, whole_image=whole_image)

    def load_dataset(self, name: str, data_dir, *, label_column=None, **opts):
        from affekt.datasets import faces

        for key in ("text_column", "label_sep", "group_column", "speaker_by"):
            opts.pop(key, None)
        self.check_options(**opts)
        name = name.lower()
        if name == "fer2013":
            return faces.load_fer2013(data_dir)
        if name == "ferplus":
            return faces.load_ferplus(data_dir)
        if name == "folder":
            return faces.load_folder(data_dir)
        if name in ("csv", "table"):
            return faces.load_csv(data_dir, label_column=list(label_column or ["label"]))
        raise InputError(f"unknown face dataset '{name}' (known: {', '.join(self.datasets)})")


ADAPTER = FaceModality()
