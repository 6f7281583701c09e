"""``affekt train --label-mode``: a dataset's vote counts -> the targets a model learns from.

A dataset with votes carries a ``votes`` column (per row, the count of answers for each label of
``info["vote_labels"]``): FER+ (its 10 crowd votes over 8 emotions), or any table whose label
columns hold counts (``--dataset csv --label-column A --label-column B ... --label-mode M``).

Modes (see :mod:`affekt.annotation.consensus` for the methods):

* ``plurality``: the most voted label, ties left out (what FER+'s authors call majority voting);
* ``majority``: only items where more than half of the answers agree;
* ``soft``: the vote distribution is the target (networks that take label distributions, e.g. the
  face CNNs; a family that cannot learns each item's most voted label, with a warning);
* ``multi``: every label chosen by at least ``threshold`` of the answers (a multi-label model);
* ``dawid-skene``: the most probable label under Dawid-Skene with one confusion matrix pooled over
  the (anonymous) answers, fitted on the training split's votes.

Only the splits a model learns from (train, dev) are relabelled: the test split keeps the dataset's
own labels (its plurality), so that models trained in different modes are scored on one test set.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np

from affekt.core.errors import DataError, InputError

LABEL_MODES = ("plurality", "majority", "soft", "multi", "dawid-skene")


def plurality_labels(counts: np.ndarray, labels) -> list:
    """Each row's most voted label as a one-item list, ``None`` on a tie or without votes."""
    from affekt.annotation.consensus import _plurality

    idx = _plurality(np.asarray(counts), "drop", 0)
    return [[labels[i]] if i >= 0 else None for i in idx]


def apply_label_mode(dataset, mode: str, *, threshold: float = 0.3, seed: int = 0):
    """``dataset`` with its train/dev labels replaced by ``mode``'s targets (see the module's docs).
    Rows left without a label are dropped and counted in ``info["label_mode"]``."""
    from affekt.annotation.consensus import pooled_dawid_skene
    from affekt.core.labels import LabelSpace

    if mode not in LABEL_MODES:
        raise InputError(f"--label-mode '{mode}': use one of {', '.join(LABEL_MODES)}")
    vote_labels = dataset.info.get("vote_labels")
    if not vote_labels or any("votes" not in df.columns for df in dataset.splits.values()):
        raise DataError(f"--label-mode needs vote counts, and dataset '{dataset.name}' has none: use ferplus, or a "
                        "csv table whose --label-column options name count columns (one per label)")
    if not 0 < threshold <= 1:
        raise InputError(f"--vote-threshold {threshold}: a share of the answers, in (0, 1]")
    space = dataset.label_space
    if tuple(space.labels) != tuple(vote_labels):
        raise DataError(f"dataset '{dataset.name}': votes over {list(vote_labels)} but labels {list(space.labels)}")
    learn = [s for s in dataset.splits if s != "test"]
    info = {"mode": mode, "relabelled": learn, "dropped": {}}
    conf = prior = None
    if mode == "dawid-skene":
        train_counts = np.array(dataset.split(learn[0] if "train" not in dataset.splits else "train")["votes"].tolist())
        _, conf, prior = pooled_dawid_skene(train_counts)
        info["confusion"] = np.round(conf, 4).tolist()
    splits = {}
    for name, df in dataset.splits.items():
        if name not in learn:
            splits[name] = df
            continue
        C = np.array(df["votes"].tolist(), dtype=np.float64)
        n = C.sum(1)
        shares = C / np.maximum(n, 1)[:, None]
        if mode == "plurality":
            labs = plurality_labels(C, vote_labels)
        elif mode == "majority":
            top = C.argmax(1)
            labs = [[vote_labels[t]] if 2 * c[t] > k else None for t, c, k in zip(top, C, n)]
        elif mode == "soft":
            labs = [[vote_labels[int(s.argmax())]] if k > 0 else None for s, k in zip(shares, n)]
        elif mode == "multi":
            labs = [[vote_labels[j] for j in np.flatnonzero(s >= threshold)] or None if k > 0 else None
                    for s, k in zip(shares, n)]
        else:
            logp = np.log(prior)[None, :] + C @ np.log(conf).T
            labs = [[vote_labels[int(r.argmax())]] if k > 0 else None for r, k in zip(logp, n)]
        keep = np.array([lab is not None for lab in labs])
        out = df.assign(labels=labs)
        if mode == "soft":
            out["targets"] = [list(map(float, s)) for s in shares]
        info["dropped"][name] = int((~keep).sum())
        splits[name] = out[keep].reset_index(drop=True)
        if not len(splits[name]):
            raise DataError(f"--label-mode {mode}: no item of the {name} split is left with a label")
    if mode == "multi":
        info["threshold"] = threshold
        space = LabelSpace(space.name, space.labels, True, space.description)
        splits = {k: v.assign(labels=[labs if isinstance(labs, list) else [labs] for labs in v["labels"]])
                  for k, v in splits.items()}
    dropped = sum(info["dropped"].values())
    if dropped:
        warnings.warn(f"--label-mode {mode}: {dropped} training/dev item(s) without a label under this mode were "
                      "left out" + {"plurality": " (ties or no votes)", "soft": " (no votes)",
                                    "dawid-skene": " (no votes)"}.get(mode, ""),
                      stacklevel=2)
    return replace(dataset, splits=splits, label_space=space, info={**dataset.info, "label_mode": info})
