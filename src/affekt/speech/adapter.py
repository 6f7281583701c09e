"""The speech modality's adapter (see :mod:`affekt.core.modality`): audio files, folders of
them, and .txt lists of paths."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

from affekt.core.errors import InputError
from affekt.core.modality import Modality
from affekt.datasets.speakers import speakers_of
from affekt.io.audio import AUDIO_SUFFIXES, collect_audio_named
from affekt.io.items import Item


class SpeechModality(Modality):
    name = "speech"
    default_model = "speech-default"
    suffixes = AUDIO_SUFFIXES
    datasets = ("ravdess", "tess", "cremad", "emodb", "savee", "urdu", "ased", "folder", "csv")
    timelines = True

    def items_from_file(self, path: Path, given: str, **_) -> list[Item]:
        return [Item(str(path), given=given, modality=self.name)]

    def items_from_input(self, path: Path, **_) -> list[Item]:
        """An audio file; a folder (every audio file under it, sorted); or a .txt list of paths
        (relative to the list; each record names the file as the list's line wrote it)."""
        return [Item(read, given=given, modality=self.name) for given, read in collect_audio_named(path)]

    def predict(self, model, items: list[Item], *, label_space=None, batch_size: int = 16,
                progress: bool = False, speaker_by: str | None = None, adapt: bool = False,
                **opts) -> Iterator[list]:
        """Files in chunks of ``batch_size`` (each chunk's files are worked on by a few threads);
        a speaker-normalised model, or ``adapt``, sees every file at once (each speaker's clips, or
        the whole set of recordings, are needed together). ``speaker_by``: 'folder' or a regex
        naming each file's speaker. ``adapt``: standardise the files by their own statistics (models
        trained with ``corpus_norm``; see :meth:`SpeechClassifier._corpus_norm`)."""
        self.check_options(**opts)
        if adapt and not getattr(model, "corpus_norm", False):
            raise InputError(f"--adapt: model '{model.model_id_}' was not trained with corpus normalisation "
                             "(train one with -p corpus_norm=true)")
        norm = bool(getattr(model, "speaker_norm", False)) or adapt
        if speaker_by and not norm:
            raise InputError(f"--speaker-by: model '{model.model_id_}' does not normalise per speaker "
                             "(train one with -p speaker_norm=true)")
        paths = [it.value for it in items]
        speakers = speakers_of(paths, speaker_by) if speaker_by else None
        step = max(len(items), 1) if norm else max(1, min(batch_size, 16))
        from tqdm import tqdm

        with tqdm(total=len(items), unit="file", file=sys.stderr, desc="predict",
                  disable=not progress or len(items) < 2 or norm) as bar:
            for s in range(0, len(items), step):
                kw = {"speakers": speakers[s:s + step]} if speakers else {}
                if adapt:
                    kw["adapt"] = True
                preds = model.predict(paths[s:s + step], label_space=label_space, errors="record", **kw)
                for it, p in zip(items[s:s + step], preds):
                    p.input = it.name  # the path as the user gave it (a list's line as written)
                yield list(preds)
                bar.update(len(preds))

    def write_timeline(self, pred, path):
        from affekt.speech.timeline import write_timeline

        return write_timeline(pred, path)

    def load_dataset(self, name: str, data_dir, *, label_column=None, group_column: str | None = None,
                     speaker_by: str | None = None, **opts):
        from affekt.datasets import load_dataset

        kw: dict = {}
        if name.lower() in ("csv", "tsv", "table"):
            kw = dict(label_column=(label_column or ["label"])[0], speaker_column=group_column or "speaker")
        if speaker_by:
            kw["speaker_by"] = speaker_by
        opts.pop("text_column", None)
        opts.pop("label_sep", None)
        self.check_options(**opts)
        return load_dataset(name, data_dir, modality=self.name, **kw)


ADAPTER = SpeechModality()
