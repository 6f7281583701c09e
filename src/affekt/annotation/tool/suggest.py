"""A model's view of the items: suggestions shown on the page (``--preannotate``, off by default:
a suggestion anchors people) and the order of the least certain first (``--order uncertain``).

A scorer is any callable ``items -> [ {label: score} | None ]`` (one per item, None where it
cannot read one); :func:`model_scorer` makes one from an affekt model, loaded when first called.
Scores are kept in the project's database, so a restarted server does not score again.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable

from affekt.annotation.tool.scheme import Scheme
from affekt.core.errors import InputError

Scorer = Callable[[list[dict]], list]
MODALITY = {"text": "text", "image": "face", "audio": "speech"}


def _in_scheme(scores: dict, scheme: Scheme) -> dict:
    return {lab: float(scores[lab]) for lab in scheme.labels if lab in scores}


def uncertainty(scores: dict | None, multi: bool = False) -> float:
    """How unsure a model is of an item, 0 (sure) to 1: one label per item, 1 minus the margin
    between its two best scores (normalised); several, the least decided label (a score of
    0.5 is 1)."""
    if not scores:
        return 0.0
    vals = sorted((max(0.0, float(v)) for v in scores.values()), reverse=True)
    if multi:
        return max(1.0 - abs(2.0 * min(v, 1.0) - 1.0) for v in vals)
    total = sum(vals)
    if total <= 0:
        return 1.0
    p = [v / total for v in vals]
    return 1.0 - (p[0] - (p[1] if len(p) > 1 else 0.0))


def suggestion(scores: dict | None, scheme: Scheme) -> list[str]:
    """The labels a model suggests: the best one; with several per item, those scoring >= 0.5
    (else the best)."""
    s = _in_scheme(scores or {}, scheme) if scheme.labels else {}
    if not s:
        return []
    best = max(s, key=s.get)
    if scheme.multi:
        over = [lab for lab in scheme.labels if s.get(lab, 0.0) >= 0.5]
        return over or [best]
    return [best]


def model_scorer(name: str, scheme: Scheme) -> Scorer:
    """An affekt model (a bundled name or a saved folder) as a scorer in ``scheme``'s labels.
    The model loads on the first call; items of a kind it does not read get None."""
    if not scheme.labels:
        raise InputError("a model's suggestions are categories; this project has none (--labels)")
    state: dict = {}

    def load():
        if "model" not in state:
            import affekt

            model = affekt.load(name)
            cat = getattr(model, "categorical_part", lambda: model)()
            space = getattr(cat, "labels_", None)
            own = list(space) if space is not None else []
            view = None
            if scheme.space and space is not None and space.name != scheme.space:
                from affekt.core.labels import viewable_spaces

                if scheme.space in viewable_spaces(space):
                    view = scheme.space
                    own = list(scheme.labels)
            if view is None and not set(own) & set(scheme.labels):
                raise InputError(f"model '{name}' predicts {', '.join(own) or 'no categories'}; none of them is a "
                                 f"label of this project ({', '.join(scheme.labels)})")
            state["model"], state["view"] = model, view
        return state["model"], state["view"]

    def score(items: list[dict]) -> list:
        model, view = load()
        modality = getattr(model, "modality", "text")
        out: list = [None] * len(items)
        wanted = [n for n, it in enumerate(items) if MODALITY[it["kind"]] == modality]
        if len(wanted) < len(items):
            warnings.warn(f"model '{name}' is a {modality} model: {len(items) - len(wanted)} item(s) of another kind "
                          "get no suggestion")
        if not wanted:
            return out
        values = [items[n]["text"] if items[n]["kind"] == "text" else items[n]["path"] for n in wanted]
        preds = model.predict(values, label_space=view, errors="record")
        for n, p in zip(wanted, preds):
            if p.error is None and p.scores:
                out[n] = {k: round(float(v), 6) for k, v in p.scores.items()}
        return out

    return score


def score_items(project, model_key: str, scorer: Scorer, *, batch: int = 256, progress=None) -> dict:
    """Scores of every item of ``project`` under ``model_key``: those kept in its database, the
    others scored now (in batches, each stored as it is done)."""
    have = project.store.scores(model_key)
    todo = [it for it in project.items if it["id"] not in have]
    for start in range(0, len(todo), batch):
        part = todo[start:start + batch]
        got = scorer(part)
        if len(got) != len(part):
            raise InputError(f"the scorer gave {len(got)} scores for {len(part)} items")
        new = {it["id"]: s for it, s in zip(part, got)}
        project.store.put_scores(model_key, new)
        have.update(new)
        if progress:
            progress(min(start + batch, len(todo)), len(todo))
    return have
