"""Synthetic fixtures: small emotion corpora made here, so the suite needs no ../shared data."""
from __future__ import annotations

import random

import pytest

WORDS = {
    "joy": ["happy", "delighted", "great", "wonderful", "love it", "thrilled", "awesome"],
    "sadness": ["sad", "miserable", "crying", "heartbroken", "lonely", "down"],
    "anger": ["furious", "angry", "hate", "annoyed", "outraged", "mad"],
    "fear": ["scared", "afraid", "terrified", "nervous", "worried", "anxious"],
    "love": ["adore you", "in love", "cherish you", "devoted to you", "so romantic"],
    "surprise": ["shocked", "amazed", "astonished", "stunned", "surprised"],
}
FILLER = ["today", "about the game", "with my friend", "at work", "this morning", "again", "honestly"]


def make_corpus(n_per_label: int = 30, seed: int = 0, labels=("joy", "sadness", "anger", "fear")):
    rng = random.Random(seed)
    texts, ys = [], []
    for lab in labels:
        for _ in range(n_per_label):
            texts.append(f"I feel {rng.choice(WORDS[lab])} {rng.choice(FILLER)} {rng.choice(FILLER)}")
            ys.append(lab)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [ys[i] for i in order]


@pytest.fixture(scope="session")
def corpus():
    return make_corpus(30, 0), make_corpus(10, 1)


@pytest.fixture(scope="session")
def multi_corpus():
    """Multi-label in GoEmotions space: joy/anger/sadness/fear/neutral, some items with two labels."""
    rng = random.Random(3)
    ge = {"joy": "joy", "sadness": "sadness", "anger": "anger", "fear": "fear"}

    def make(n, seed):
        r = random.Random(seed)
        X, Y = [], []
        for _ in range(n):
            a, b = r.sample(list(ge), 2)
            if r.random() < 0.3:
                X.append(f"{r.choice(WORDS[a])} and {r.choice(WORDS[b])} {r.choice(FILLER)}")
                Y.append([ge[a], ge[b]])
            elif r.random() < 0.15:
                X.append(f"the meeting is {r.choice(FILLER)}")
                Y.append(["neutral"])
            else:
                X.append(f"so {r.choice(WORDS[a])} {r.choice(FILLER)}")
                Y.append([ge[a]])
        return X, Y
    _ = rng
    return make(200, 0), make(80, 1), make(80, 2)


@pytest.fixture()
def goemotions_dir(tmp_path, multi_corpus):
    """A tiny folder in the public GoEmotions TSV layout."""
    from affekt.core.labels import GOEMOTIONS

    for name, (X, Y) in zip(("train", "dev", "test"), multi_corpus):
        lines = [f"{x}\t{','.join(str(GOEMOTIONS.index(l)) for l in y)}\tid{i}" for i, (x, y) in enumerate(zip(X, Y))]
        (tmp_path / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "emotions.txt").write_text("\n".join(GOEMOTIONS.labels) + "\n")
    return tmp_path


def write_carer(folder):
    """A tiny folder in the public CARER layout (train/val/test.txt, `text;label`)."""
    for split, (n, seed) in {"train": (30, 0), "val": (10, 1), "test": (10, 2)}.items():
        X, y = make_corpus(n, seed, labels=tuple(WORDS))
        (folder / f"{split}.txt").write_text("\n".join(f"{x.lower()};{lab}" for x, lab in zip(X, y)) + "\n")
    return folder


@pytest.fixture()
def carer_dir(tmp_path):
    return write_carer(tmp_path)


@pytest.fixture()
def emobank_dir(tmp_path):
    rng = random.Random(0)
    rows = ["id,split,V,A,D,text"]
    for i in range(240):
        lab = rng.choice(["joy", "sadness", "anger", "fear"])
        v = {"joy": 4.0, "sadness": 2.0, "anger": 1.8, "fear": 2.2}[lab] + rng.uniform(-0.3, 0.3)
        a = {"joy": 3.5, "sadness": 2.5, "anger": 4.0, "fear": 3.8}[lab] + rng.uniform(-0.3, 0.3)
        split = "train" if i < 160 else ("dev" if i < 200 else "test")
        rows.append(f'id{i},{split},{v:.2f},{a:.2f},3.0,"I am {rng.choice(WORDS[lab])} {rng.choice(FILLER)}"')
    (tmp_path / "emobank.csv").write_text("\n".join(rows) + "\n")
    return tmp_path
