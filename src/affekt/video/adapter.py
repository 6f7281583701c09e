"""The video modality's adapter (see :mod:`affekt.core.modality`): video files, folders of them
(recursive, sorted) and .txt lists of video paths."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

from affekt.core.errors import InputError
from affekt.core.modality import Modality
from affekt.io.items import LIST_SUFFIXES, Item
from affekt.video.decode import VIDEO_SUFFIXES


class VideoModality(Modality):
    name = "video"
    default_model = "video-default"
    suffixes = VIDEO_SUFFIXES
    datasets = ("folder", "csv")
    timelines = True
    fragments = True

    def items_from_input(self, path: Path, **opts) -> list[Item]:
        """A video; a folder (every video under it, recursive, sorted; a folder of image frames
        and no video is one clip); or a .txt list of video paths or frame folders (one per line,
        relative to the list's folder; records name them as written)."""
        p = Path(path)
        if p.is_file() and p.suffix.lower() in LIST_SUFFIXES:
            return self.items_from_list(p, "videos")
        if p.is_dir() and not any(f.suffix.lower() in self.suffixes for f in p.rglob("*") if f.is_file()):
            from affekt.video.decode import frame_files

            if frame_files(p):  # no video files, but image frames: the folder is one clip
                return [Item(str(p), modality=self.name)]
        if p.is_file() and p.suffix.lower() not in self.suffixes:
            raise InputError(f"'{p}': not a video file, a folder or a .txt list of video paths "
                             f"(videos: {' '.join(self.suffixes)})")
        return super().items_from_input(p, **opts)

    def check_options(self, *, fps: float | None = None, **opts) -> None:
        super().check_options(**opts)
        if fps is not None and not fps > 0:
            raise InputError(f"--fps must be above 0, got {fps}")

    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 1,
                progress: bool = False, fps: float | None = None, **opts) -> Iterator[list]:
        """One video at a time (each is streamed); a record is yielded as soon as it is done."""
        self.check_options(fps=fps, **opts)
        from tqdm import tqdm

        from affekt.core.modality import error_record

        with tqdm(total=len(items), unit="video", file=sys.stderr, desc="predict",
                  disable=not progress or len(items) < 2) as bar:
            for it in items:
                if it.error:
                    p = error_record(it, model.model_id_)
                else:
                    p = model.predict([it.value], label_space=label_space, errors="record", fps=fps,
                                      progress=progress)[0]
                p.input = it.name
                p.id = it.id
                yield [p]
                bar.update(1)

    def write_timeline(self, pred, path):
        from affekt.video.timeline import write_timeline

        return write_timeline(pred, path)

    def load_dataset(self, name: str, data_dir, *, label_column=None, **opts):
        """``folder``: DIR/<label>/*.mp4 (or DIR/<label>/<clip>/*.jpg, a clip as a folder of frames),
        a label per clip; ``csv``: path,label[,start,end][,split],
        a label per clip or per part of a video (start/end in seconds)."""
        from affekt.datasets import faces

        for key in ("text_column", "label_sep", "group_column", "speaker_by"):
            opts.pop(key, None)
        self.check_options(**opts)
        name = name.lower()
        if name == "folder":
            return faces.load_folder(data_dir, suffixes=VIDEO_SUFFIXES, kind="videos", frame_folders=True)
        if name in ("csv", "table"):
            return faces.load_csv(data_dir, label_column=(label_column or ["label"])[0], time_range=True)
        raise InputError(f"unknown video dataset '{name}' (known: {', '.join(self.datasets)})")


ADAPTER = VideoModality()
