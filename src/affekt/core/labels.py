"""Label spaces as data, the mappings between them, and the dimensional (V/A/D) space.

A :class:`LabelSpace` is an ordered tuple of label names plus whether several labels may hold
at once. :class:`LabelMapping` turns scores and decisions of one space into another, e.g. any
GoEmotions or CARER model viewed in Ekman space (``--label-space ekman``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Iterable, Sequence

import numpy as np

from affekt.core.errors import LabelError

DIMENSIONS: tuple[str, ...] = ("valence", "arousal", "dominance")


@dataclass(frozen=True)
class LabelSpace:
    """An ordered set of emotion labels.

    ``multi_label`` says whether an item may carry several labels at once (GoEmotions) or
    exactly one (CARER, Ekman).
    """

    name: str
    labels: tuple[str, ...]
    multi_label: bool = False
    description: str = ""

    def __post_init__(self):
        if len(set(self.labels)) != len(self.labels):
            raise LabelError(f"label space '{self.name}' repeats a label: {self.labels}")

    def __len__(self) -> int:
        return len(self.labels)

    def __iter__(self):
        return iter(self.labels)

    def __contains__(self, label: object) -> bool:
        return label in self.labels

    def index(self, label: str) -> int:
        try:
            return self.labels.index(label)
        except ValueError:
            raise LabelError(
                f"label '{label}' is not in label space '{self.name}' ({', '.join(self.labels)})"
            ) from None

    def validate(self, labels: Iterable[str], *, where: str = "") -> None:
        unknown = sorted({lab for lab in labels if lab not in self.labels})
        if unknown:
            at = f" in {where}" if where else ""
            raise LabelError(
                f"{len(unknown)} label(s){at} are not in label space '{self.name}': "
                f"{', '.join(map(repr, unknown[:10]))}{' ...' if len(unknown) > 10 else ''}; "
                f"allowed: {', '.join(self.labels)}"
            )

    def binarize(self, y: Sequence) -> np.ndarray:
        """Labels per item (a label, or a list of labels) -> (n_items, n_labels) 0/1 matrix."""
        out = np.zeros((len(y), len(self)), dtype=np.int8)
        for i, item in enumerate(y):
            items = [item] if isinstance(item, str) else list(item)
            for lab in items:
                out[i, self.index(lab)] = 1
        return out

    def to_dict(self) -> dict:
        return {"name": self.name, "labels": list(self.labels), "multi_label": self.multi_label,
                "description": self.description}

    @classmethod
    def from_dict(cls, d: dict) -> "LabelSpace":
        return cls(d["name"], tuple(d["labels"]), bool(d.get("multi_label", False)),
                   d.get("description", ""))


GOEMOTIONS = LabelSpace(
    "goemotions",
    ("admiration", "amusement", "anger", "annoyance", "approval", "caring", "confusion",
     "curiosity", "desire", "disappointment", "disapproval", "disgust", "embarrassment",
     "excitement", "fear", "gratitude", "grief", "joy", "love", "nervousness", "optimism",
     "pride", "realization", "relief", "remorse", "sadness", "surprise", "neutral"),
    multi_label=True,
    description="GoEmotions: 27 emotions + neutral (Demszky et al., 2020), multi-label",
)
EKMAN = LabelSpace(
    "ekman",
    ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral"),
    multi_label=False,
    description="Ekman's six basic emotions + neutral",
)
CARER = LabelSpace(
    "carer",
    ("sadness", "joy", "love", "anger", "fear", "surprise"),
    multi_label=False,
    description="CARER / dair-ai emotion: six Twitter emotions (Saravia et al., 2018)",
)

# the other categorical text corpora (loaders in affekt.datasets.meld / dailydialog / semeval2007)
MELD = LabelSpace(
    "meld", ("anger", "disgust", "fear", "joy", "neutral", "sadness", "surprise"),
    multi_label=False, description="MELD: 7 utterance emotions in Friends dialogue (Poria et al., 2019)")
DAILYDIALOG = LabelSpace(
    "dailydialog", ("neutral", "anger", "disgust", "fear", "happiness", "sadness", "surprise"),
    multi_label=False,
    description="DailyDialog: 6 utterance emotions + 'no emotion' (named neutral here) (Li et al., 2017)")
SEMEVAL2007 = LabelSpace(
    "semeval2007", ("anger", "disgust", "fear", "joy", "sadness", "surprise", "neutral"),
    multi_label=False,
    description="SemEval-2007 Affective Text headlines: the top-scoring of 6 emotions, neutral when none "
                "scores >= min_score (Strapparava & Mihalcea, 2007)")

# the speech corpora's own label sets (their loaders are in affekt.datasets.speech); here so that a
# model trained on one of them can be viewed in Ekman's space without importing its loader
RAVDESS = LabelSpace(
    "ravdess", ("neutral", "calm", "happiness", "sadness", "anger", "fear", "disgust", "surprise"),
    multi_label=False, description="RAVDESS speech: 8 acted emotions (Livingstone & Russo, 2018)")
CREMAD = LabelSpace(
    "cremad", ("anger", "disgust", "fear", "happiness", "neutral", "sadness"),
    multi_label=False, description="CREMA-D: 6 acted emotions (Cao et al., 2014)")
EMODB = LabelSpace(
    "emodb", ("anger", "boredom", "disgust", "fear", "happiness", "sadness", "neutral"),
    multi_label=False, description="Berlin EmoDB: 7 acted emotions in German (Burkhardt et al., 2005)")

# FER+ (faces): the majority of 10 crowd votes per FER2013 image (affekt.datasets.faces)
FERPLUS = LabelSpace(
    "ferplus", ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt"),
    multi_label=False, description="FER+: 8 facial expressions by majority of 10 crowd votes (Barsoum et al., 2016)")

# EMOTIC (people in scenes): 26 categories, several per person (affekt.datasets.emotic)
EMOTIC = LabelSpace(
    "emotic",
    ("Affection", "Anger", "Annoyance", "Anticipation", "Aversion", "Confidence", "Disapproval",
     "Disconnection", "Disquietment", "Doubt/Confusion", "Embarrassment", "Engagement", "Esteem",
     "Excitement", "Fatigue", "Fear", "Happiness", "Pain", "Peace", "Pleasure", "Sadness", "Sensitivity",
     "Suffering", "Surprise", "Sympathy", "Yearning"),
    multi_label=True,
    description="EMOTIC: 26 emotion categories of people in context, multi-label (Kosti et al., 2017/2019)")

_SPACES: dict[str, LabelSpace] = {s.name: s for s in (GOEMOTIONS, EKMAN, CARER, MELD, DAILYDIALOG, SEMEVAL2007,
                                                       RAVDESS, CREMAD, EMODB, FERPLUS, EMOTIC)}


def register_label_space(space: LabelSpace) -> LabelSpace:
    _SPACES[space.name] = space
    return space


def get_label_space(name: str | LabelSpace) -> LabelSpace:
    if isinstance(name, LabelSpace):
        return name
    try:
        return _SPACES[name.lower()]
    except KeyError:
        raise LabelError(
            f"unknown label space '{name}'; known: {', '.join(sorted(_SPACES))}"
        ) from None


@dataclass(frozen=True)
class LabelMapping:
    """Maps each label of ``source`` to one label of ``target`` (or to nothing).

    Scores are combined with ``"sum"`` (right for a softmax over exclusive labels) or
    ``"max"`` (right for independent per-label probabilities, i.e. multi-label models).
    """

    source: LabelSpace
    target: LabelSpace
    mapping: dict = field(hash=False)

    def __post_init__(self):
        self.source.validate(self.mapping.keys(), where=f"mapping {self.source.name}->{self.target.name}")
        self.target.validate([v for v in self.mapping.values() if v is not None],
                             where=f"mapping {self.source.name}->{self.target.name}")

    def matrix(self) -> np.ndarray:
        m = np.zeros((len(self.source), len(self.target)), dtype=np.float32)
        for s, t in self.mapping.items():
            if t is not None:
                m[self.source.index(s), self.target.index(t)] = 1.0
        return m

    def map_scores(self, scores: np.ndarray, how: str | None = None) -> np.ndarray:
        """(n, n_source) scores -> (n, n_target) scores."""
        how = how or ("max" if self.source.multi_label else "sum")
        m = self.matrix()
        scores = np.asarray(scores, dtype=np.float32)
        if how == "sum":
            return np.clip(scores @ m, 0.0, 1.0)
        out = np.zeros((scores.shape[0], len(self.target)), dtype=np.float32)
        for j in range(len(self.target)):
            cols = np.flatnonzero(m[:, j])
            if cols.size:
                out[:, j] = scores[:, cols].max(axis=1)
        return out

    def view_space(self) -> LabelSpace:
        """The target space as this mapping's output: multi-label when the source is."""
        if self.source.multi_label and not self.target.multi_label:
            return LabelSpace(self.target.name, self.target.labels, True, self.target.description)
        return self.target

    def map_decisions(self, decisions: np.ndarray) -> np.ndarray:
        """(n, n_source) 0/1 decisions -> (n, n_target): a target label holds if any source does."""
        return ((np.asarray(decisions) @ self.matrix()) > 0).astype(np.int8)

    def map_labels(self, labels: Iterable[str]) -> list[str]:
        out: list[str] = []
        for lab in labels:
            t = self.mapping.get(lab)
            if t is not None and t not in out:
                out.append(t)
        return out


def _goemotions_to_ekman() -> dict:
    text = resources.files("affekt.core").joinpath("data/goemotions_ekman_mapping.json").read_text()
    groups = json.loads(text)  # the GoEmotions authors' file: ekman -> [goemotions labels]
    rename = {"joy": "happiness"}
    mapping: dict[str, str | None] = {"neutral": "neutral"}
    for ekman, members in groups.items():
        for m in members:
            mapping[m] = rename.get(ekman, ekman)
    return mapping


_CARER_TO_EKMAN = {"sadness": "sadness", "joy": "happiness", "love": "happiness",
                   "anger": "anger", "fear": "fear", "surprise": "surprise"}

_MAPPINGS: dict[tuple[str, str], dict] = {
    ("carer", "ekman"): dict(_CARER_TO_EKMAN),
    ("meld", "ekman"): {**{lab: lab for lab in MELD.labels}, "joy": "happiness"},
    ("dailydialog", "ekman"): {lab: lab for lab in DAILYDIALOG.labels},
    ("semeval2007", "ekman"): {**{lab: lab for lab in SEMEVAL2007.labels}, "joy": "happiness"},
    ("ravdess", "ekman"): {**{lab: lab for lab in RAVDESS.labels}, "calm": "neutral"},
    ("cremad", "ekman"): {lab: lab for lab in CREMAD.labels},
    ("emodb", "ekman"): {**{lab: lab for lab in EMODB.labels}, "boredom": None},
    ("ferplus", "ekman"): {**{lab: lab for lab in FERPLUS.labels}, "contempt": None},
}


def _find_mapping(src: LabelSpace, tgt: LabelSpace) -> LabelMapping | None:
    if src.name == tgt.name:
        return LabelMapping(src, tgt, {lab: lab for lab in src})
    key = (src.name, tgt.name)
    if key == ("goemotions", "ekman") and key not in _MAPPINGS:
        _MAPPINGS[key] = _goemotions_to_ekman()
    if key in _MAPPINGS:
        return LabelMapping(src, tgt, _MAPPINGS[key])
    if set(src.labels) <= set(tgt.labels):  # e.g. a corpus with some of Ekman's labels: by name
        return LabelMapping(src, tgt, {lab: lab for lab in src})
    return None


def get_mapping(source: str | LabelSpace, target: str | LabelSpace) -> LabelMapping:
    """The mapping between two label spaces (identity when they are the same)."""
    src, tgt = get_label_space(source), get_label_space(target)
    m = _find_mapping(src, tgt)
    if m is None:
        raise LabelError(f"no mapping from label space '{src.name}' to '{tgt.name}': a model with "
                         f"'{src.name}' labels can be viewed in {', '.join(viewable_spaces(src))}")
    return m


def register_mapping(source: str, target: str, mapping: dict) -> None:
    _MAPPINGS[(source, target)] = dict(mapping)


def viewable_spaces(space: LabelSpace | str) -> list[str]:
    """The label spaces a model of ``space`` can be viewed in (``--label-space``): its own, then
    every known space a mapping reaches."""
    src = get_label_space(space)
    out = [src.name]
    out += [name for name in sorted(_SPACES) if name != src.name and _find_mapping(src, _SPACES[name])]
    return out
