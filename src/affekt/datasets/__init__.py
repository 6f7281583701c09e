"""Dataset loaders: one module per corpus, each reading that corpus's own public layout."""
from __future__ import annotations

from affekt.core.errors import DataError
from affekt.datasets.base import Dataset

TEXT_DATASETS = ("goemotions", "carer", "emobank", "meld", "dailydialog", "semeval2007", "csv")
SPEECH_DATASETS = ("ravdess", "tess", "cremad", "emodb", "savee", "urdu", "ased", "folder", "csv")


def load_dataset(name: str, data_dir, modality: str = "text", **kw) -> Dataset:
    """Text: goemotions, carer, emobank, meld, dailydialog, semeval2007 (``min_score=``, see
    :mod:`affekt.datasets.semeval2007`) or csv (any CSV/TSV/JSONL table; see table.load).
    Speech: ravdess, tess, cremad, emodb, savee, urdu, ased, folder (one sub-folder per label) or csv
    (path, label, speaker columns); see :mod:`affekt.datasets.speech`."""
    name = name.lower()
    if modality == "speech" or name in ("ravdess", "tess", "cremad", "crema-d", "emodb", "savee", "urdu", "ased",
                                        "folder"):
        from affekt.datasets import speech

        if name == "folder":
            return speech.load_folder(data_dir, **kw)
        if name in ("csv", "tsv", "table"):
            return speech.load_csv(data_dir, **kw)
        if name not in speech.LOADERS:
            raise DataError(f"unknown speech dataset '{name}' (known: {', '.join(SPEECH_DATASETS)})")
        if kw.get("speaker_by") is not None:
            raise DataError(f"speaker_by (--speaker-by) is for the folder and csv datasets; '{name}' names its "
                            "speakers in its own file naming")
        return speech.LOADERS[name](data_dir)
    if name == "goemotions":
        from affekt.datasets import goemotions as mod
    elif name == "carer":
        from affekt.datasets import carer as mod
    elif name == "emobank":
        from affekt.datasets import emobank as mod
    elif name == "meld":
        from affekt.datasets import meld as mod
    elif name == "dailydialog":
        from affekt.datasets import dailydialog as mod
    elif name == "semeval2007":
        from affekt.datasets import semeval2007

        return semeval2007.load(data_dir, **kw)
    elif name in ("csv", "tsv", "jsonl", "table"):
        from affekt.datasets import table

        return table.load(data_dir, **kw)
    else:
        raise DataError(f"unknown dataset '{name}' (known: {', '.join(TEXT_DATASETS)})")
    return mod.load(data_dir)


def single_label_union(sources, label_space: str = "ekman", per_corpus: int = 8000, seed: int = 0,
                       without_test: bool = False):
    """Several categorical corpora as one training set for cross-corpus work: each corpus's items
    (all splits; ``without_test``: all but its test split) mapped into ``label_space``, only those
    with exactly one label there (a comment with two Ekman emotions has no single right answer), and
    at most ``per_corpus`` of them per corpus, a seeded sample stratified by label, so that every
    corpus weighs about the same. ``sources``: (dataset name, folder) pairs.
    Returns (texts, labels, corpus names)."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    from affekt.core.labels import get_label_space, get_mapping

    space = get_label_space(label_space)
    X, y, corpus = [], [], []
    for name, folder in sources:
        ds = load_dataset(name, folder)
        df = ds.split(ds.non_test_splits() if without_test else "all")
        m = get_mapping(ds.label_space, space)
        y1 = [labs[0] if len(labs) == 1 else None for labs in (m.map_labels(v) for v in df["labels"])]
        texts = df[ds.input_column].tolist()
        keep = np.array([i for i, v in enumerate(y1) if v is not None])
        if len(keep) > per_corpus:
            keep, _ = train_test_split(keep, train_size=per_corpus, stratify=[y1[i] for i in keep],
                                       random_state=seed)
            keep = np.sort(keep)
        X += [texts[i] for i in keep]
        y += [y1[i] for i in keep]
        corpus += [name] * len(keep)
    return X, y, corpus


def present_labels(space, labels):
    """``space`` cut down to the labels that occur in ``labels`` (one label or a list per item), in
    its order, named ``<space>-subset`` when some are missing: corpora mapped into Ekman's seven
    rarely have all seven, and a model cannot learn a label it never sees. Such a space still maps
    to ``space`` by name (``--label-space``)."""
    from affekt.core.labels import LabelSpace

    seen = set()
    for v in labels:
        seen.update([v] if isinstance(v, str) else v)
    keep = tuple(lab for lab in space.labels if lab in seen)
    if len(keep) == len(space.labels) or not keep:
        return space
    return LabelSpace(f"{space.name}-subset", keep, space.multi_label, space.description)


def concat(datasets: list[Dataset], label_space) -> Dataset:
    """Several corpora as one (labels mapped into ``label_space``; speakers prefixed by corpus)."""
    import pandas as pd

    from affekt.core.labels import get_label_space, get_mapping

    space = get_label_space(label_space)
    frames = []
    seen: dict[str, int] = {}
    for d in datasets:
        seen[d.name] = seen.get(d.name, 0) + 1  # two corpora of one name (two train.csv) stay two corpora
        name = d.name if seen[d.name] == 1 else f"{d.name}-{seen[d.name]}"
        df = d.split("all").copy()
        m = get_mapping(d.label_space, space)
        df["labels"] = [m.map_labels(labs) for labs in df["labels"]]
        df = df[[len(labs) > 0 for labs in df["labels"]]]
        if d.group:
            df[d.group] = [f"{d.name}:{g}" for g in df[d.group]]
        df["corpus"] = name
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    space = present_labels(space, out["labels"])
    first = datasets[0]
    info = {"licence": "; ".join(f"{d.name}: {d.info.get('licence', '?')}" for d in datasets)}
    known = [d.info.get("speakers_known") for d in datasets]
    if any(k is not None for k in known):  # speech: grouped by speaker only if every part knows its speakers
        info["speakers_known"] = all(known)
        if not all(known):  # a part's unknown speakers would read as one speaker "nan"
            out = out.drop(columns="speaker", errors="ignore")
    group = first.group if all(d.group == first.group for d in datasets) else None
    return Dataset("+".join(d.name for d in datasets), {"all": out}, first.task, space,
                   input_column=first.input_column, group=group, folds=None, info=info)


__all__ = ["Dataset", "load_dataset", "concat", "TEXT_DATASETS", "SPEECH_DATASETS"]
