"""Simulated annotators with known confusion matrices: the ground truth that consensus methods are
checked against (tests and ``benchmarks/annotation.py``)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from affekt.annotation.votes import Votes, from_answers


def confusion(n_labels: int, accuracy: float, rng, concentration: float = 1.0) -> np.ndarray:
    """A (true x answered) confusion matrix: ``accuracy`` on the diagonal, the rest of each row
    spread over the other labels by a Dirichlet draw (so errors are label-specific, as people's are)."""
    M = np.zeros((n_labels, n_labels))
    for t in range(n_labels):
        rest = rng.dirichlet(np.full(n_labels - 1, concentration)) * (1 - accuracy)
        M[t] = np.insert(rest, t, accuracy)
    return M


def simulate(n_items: int = 1000, n_annotators: int = 5, n_labels: int = 4, *, accuracy=(0.6, 0.9),
             spammers: int = 0, per_item: int | None = None, prior=None, seed: int = 0):
    """Answers of ``n_annotators`` simulated people on ``n_items`` items.

    Each honest annotator answers through their own confusion matrix (diagonal drawn from
    ``accuracy``); the last ``spammers`` answer uniformly at random whatever the item.
    ``per_item``: answers per item (a random subset of annotators; default: all).
    Returns (Votes with answers, true label index per item, {annotator: confusion matrix})."""
    rng = np.random.default_rng(seed)
    labels = tuple(f"l{j}" for j in range(n_labels))
    prior = np.full(n_labels, 1 / n_labels) if prior is None else np.asarray(prior, float) / np.sum(prior)
    truth = rng.choice(n_labels, n_items, p=prior)
    mats = {}
    for a in range(n_annotators):
        if a >= n_annotators - spammers:
            mats[f"a{a}"] = np.full((n_labels, n_labels), 1 / n_labels)
        else:
            mats[f"a{a}"] = confusion(n_labels, rng.uniform(*accuracy), rng)
    rows = []
    names = list(mats)
    for i, t in enumerate(truth):
        who = names if per_item is None else list(rng.choice(names, per_item, replace=False))
        for w in who:
            rows.append((f"i{i}", w, labels[rng.choice(n_labels, p=mats[w][t])]))
    df = pd.DataFrame(rows, columns=["item", "annotator", "label"])
    votes: Votes = from_answers(df, "item", "annotator", "label", labels=labels, source="simulated")
    return votes, truth, mats
