"""Cross-validation protocols, all from scikit-learn splitters.

``given`` (the dataset's own split), ``kfold`` (stratified for single-label data),
``group-kfold`` (by speaker/subject/any column), ``logo`` (leave-one-group-out, e.g.
leave-one-speaker-out), ``folds`` (the dataset's predefined folds, e.g. RAVDESS's six groups of
four actors), ``loo`` (leave-one-out, for small sets), ``loco`` (leave-one-corpus-out: train on
all corpora but one, test on the one left out, for each in turn; each held-out corpus is scored
on its own labels, see :func:`loco_checks`).

Classification results also pool every fold's out-of-fold predictions (one confusion matrix
over the whole corpus) and, given ``attributes`` (gender, age group...), split every metric by
attribute value: per fold (mean, std) and pooled.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn import model_selection as ms

from affekt.core.errors import DataError
from affekt.evaluation.evaluate import evaluate_regression

PROTOCOLS = ("kfold", "group-kfold", "logo", "folds", "loo", "loco")


def make_splitter(protocol: str = "kfold", k: int = 5, *, stratify: bool = True, seed: int = 0):
    if protocol == "kfold":
        return ms.StratifiedKFold(k, shuffle=True, random_state=seed) if stratify else ms.KFold(k, shuffle=True, random_state=seed)
    if protocol == "group-kfold":
        return ms.StratifiedGroupKFold(k, shuffle=True, random_state=seed) if stratify else ms.GroupKFold(k)
    if protocol in ("logo", "loco"):  # loco: the corpus names are passed as groups
        return ms.LeaveOneGroupOut()
    if protocol == "loo":
        return ms.LeaveOneOut()
    if protocol == "folds":
        return ms.LeaveOneGroupOut()  # the fold ids are passed as groups
    raise DataError(f"unknown protocol '{protocol}' (known: {', '.join(PROTOCOLS)})")


def _mean_std(folds: list[dict], key: str) -> dict | None:
    vals = [f[key] for f in folds if isinstance(f.get(key), float)]
    if not vals:
        return None
    return {"mean": float(np.mean(vals)), "std": float(np.std(vals)), "folds": vals}


def cross_validate(estimator, X, y, *, protocol: str = "kfold", k: int = 5, groups=None,
                   label_space=None, task: str = "classification", seed: int = 0,
                   progress: bool = True, folds=None, attributes: dict | None = None,
                   keep_predictions: bool = False, speakers=None, corpora=None, adapt: bool = False) -> dict:
    """Fit a clone of ``estimator`` per fold; per-fold metrics and their mean/std.

    ``folds``: predefined fold id per item (protocol ``folds``). ``attributes``: name -> one
    value per item (e.g. ``{"gender": [...]}``) to split the metrics by. ``speakers``: speaker
    per item, handed to estimators that normalise per speaker (``speaker_norm``), for their
    training folds and, unlabelled, their test fold. ``corpora``: corpus per item, handed to
    estimators that normalise per corpus (``corpus_norm``; under ``loco`` the groups are the
    corpora). ``adapt``: such estimators take each test fold as one new set of recordings
    (unsupervised adaptation to it; without it each test item is scored on its own). For ``loo``
    only the pooled predictions are scored.
    """
    X = list(X)
    y_arr = np.asarray(y, dtype=object) if task == "classification" else np.asarray(y, dtype=np.float32)
    if protocol == "loco":
        loco_checks(groups, y)
    if protocol in ("group-kfold", "logo") and groups is None:
        raise DataError(f"protocol '{protocol}' needs a group column (speaker, subject...)")
    if protocol == "folds":
        if folds is None:
            raise DataError("protocol 'folds' needs predefined folds (this dataset has none; use group-kfold or logo)")
        groups = list(folds)
    if protocol == "group-kfold" and len(set(groups)) < k:
        raise DataError(f"group-kfold with {k} folds needs at least {k} groups (speakers, subjects...); "
                        f"the data has {len(set(groups))}: ask for fewer folds or use protocol logo")
    single = task == "classification" and all(isinstance(v, str) or len(v) == 1 for v in y)
    strat_y = [v if isinstance(v, str) else v[0] for v in y] if single else None
    splitter = make_splitter(protocol, k, stratify=single, seed=seed)
    splits = list(splitter.split(X, strat_y if strat_y is not None else np.zeros(len(X)), groups))
    if progress:
        from tqdm import tqdm

        splits = tqdm(splits, desc=f"{protocol} CV", unit="fold")
    folds_m, pooled = [], []
    for tr, te in splits:
        m = clone(estimator)
        Xtr = [X[i] for i in tr]
        Xte = [X[i] for i in te]
        if task == "classification":
            fold_space = label_space
            if protocol == "loco" and label_space is not None:  # the labels the training corpora have
                from affekt.core.labels import get_label_space
                from affekt.datasets import present_labels

                fold_space = present_labels(get_label_space(label_space), y_arr[tr])
            if speakers is not None and getattr(m, "speaker_norm", False):
                m.fit(Xtr, list(y_arr[tr]), label_space=fold_space, speakers=[speakers[i] for i in tr])
                P, D, space = m._proba_and_decisions(Xte, None, speakers=[speakers[i] for i in te])
            elif getattr(m, "corpus_norm", False):
                cor = corpora if corpora is not None else (groups if protocol == "loco" else None)
                m.fit(Xtr, list(y_arr[tr]), label_space=fold_space,
                      corpora=None if cor is None else [cor[i] for i in tr])
                P, D, space = m._proba_and_decisions(Xte, None, adapt=adapt)
            else:
                m.fit(Xtr, list(y_arr[tr]), label_space=fold_space)
                P, D, space = m._proba_and_decisions(Xte, None)
            if fold_space is not label_space:  # back to the whole space (a label unseen in training: 0)
                P, D, space = _widen(P, D, space, get_label_space(label_space))
            pooled.append((D, P, te, space))
            if protocol == "loco":
                folds_m.append({"corpus": str(groups[te[0]]),
                                **_score_own_labels(P, D, space, list(y_arr[te]), attributes, te)})
            elif protocol != "loo":
                folds_m.append(_score(m, P, D, space, list(y_arr[te]), attributes, te))
        else:
            m.fit(Xtr, y_arr[tr])
            folds_m.append(evaluate_regression(m, Xte, y_arr[te], n_boot=0))
    summary: dict = {"protocol": protocol, "k": len(splits), "n": len(X)}
    if task == "classification":
        space = pooled[0][3]
        if any(p[3].labels != space.labels for p in pooled):
            raise DataError("the folds saw different label sets; give label_space=")
        order = np.concatenate([p[2] for p in pooled])
        D = np.vstack([p[0] for p in pooled])
        P = np.vstack([p[1] for p in pooled])
        summary["pooled"] = _score(None, P, D, space, list(y_arr[order]), attributes, order)
        if keep_predictions:
            summary["predictions"] = {"index": order.tolist(), "scores": P.round(5).tolist(),
                                      "labels": list(space.labels)}
        if protocol == "loo":
            src = summary["pooled"]
            summary.update({key: {"mean": src[key], "std": 0.0} for key in ("macro_f1", "accuracy", "balanced_accuracy")
                            if isinstance(src.get(key), float)})
            return summary
        summary["folds"] = folds_m
        if protocol == "loco":  # the matrix: one row per held-out corpus, on its own labels
            keep = ("balanced_accuracy", "macro_f1", "accuracy", "ece", "n", "per_class", "labels_own", "by_attribute")
            summary["by_corpus"] = {f["corpus"]: {key: f[key] for key in keep if key in f} for f in folds_m}
        for key in ("macro_f1", "accuracy", "balanced_accuracy", "micro_f1", "weighted_f1", "mAP", "ece"):
            s = _mean_std(folds_m, key)
            if s:
                summary[key] = s
        if attributes:
            summary["by_attribute"] = {}
            for name in attributes:
                per = {}
                for v in summary["pooled"].get("by_attribute", {}).get(name, {}):
                    fm = [f["by_attribute"][name][v] for f in folds_m if v in f.get("by_attribute", {}).get(name, {})]
                    per[v] = {key: s for key in ("balanced_accuracy", "accuracy", "macro_f1")
                              if (s := _mean_std(fm, key))}
                summary["by_attribute"][name] = per
    else:
        summary["folds"] = folds_m
        for dim in ("valence", "arousal", "dominance"):
            vals = [f[dim]["pearson_r"] for f in folds_m if dim in f]
            if vals:
                summary[f"{dim}_pearson_r"] = {"mean": float(np.mean(vals)), "std": float(np.std(vals))}
    return summary


def _widen(P, D, space, full):
    """Scores over ``space`` (a subset of ``full``) as scores over ``full``, zero for the rest."""
    idx = [full.index(lab) for lab in space.labels]
    P2 = np.zeros((len(P), len(full)), dtype=np.asarray(P).dtype)
    D2 = np.zeros((len(D), len(full)), dtype=np.asarray(D).dtype)
    P2[:, idx], D2[:, idx] = P, D
    return P2, D2, full


def loco_checks(groups, y) -> None:
    """Refuse a leave-one-corpus-out run that cannot mean anything: no corpus names, a single
    corpus, a corpus of a single class, or a corpus whose labels no other corpus has."""
    if groups is None:
        raise DataError("leave-one-corpus-out (--protocol loco) needs several corpora: repeat --dataset/--data-dir "
                        "and give --label-space (e.g. ekman) to put their labels in one space")
    groups = [str(g) for g in groups]
    corpora = sorted(set(groups))
    if len(corpora) < 2:
        raise DataError(f"leave-one-corpus-out needs at least 2 corpora; got only '{corpora[0]}': add another "
                        f"--dataset/--data-dir, or use --protocol group-kfold within one corpus")
    labs: dict = {c: set() for c in corpora}
    for g, v in zip(groups, y):
        labs[g].update([v] if isinstance(v, str) else v)
    for c in corpora:
        if len(labs[c]) < 2:
            raise DataError(f"corpus '{c}' has a single class ({', '.join(sorted(labs[c])) or 'none'}) in this label "
                            f"space: a held-out corpus needs at least 2 classes to be scored")
    for c in corpora:
        others = set().union(*(labs[o] for o in corpora if o != c))
        shared = labs[c] & others
        if len(shared) < 2:
            raise DataError(f"corpus '{c}' shares {'no label' if not shared else 'only ' + next(iter(shared))} with the "
                            f"other corpora ({', '.join(sorted(labs[c]))} vs {', '.join(sorted(others))}): a model "
                            f"trained on them cannot be scored on it; map the labels into a common --label-space")


def _score_own_labels(P, D, space, y_true: list, attributes: dict | None, idx) -> dict:
    """A held-out corpus scored on its own labels: the answer is the top score among the labels
    the corpus has (a corpus without "surprise" is not marked wrong for a "surprise" its
    annotators could not give), and the macro averages run over those labels."""
    from affekt.evaluation.metrics import classification_metrics

    own = [i for i, lab in enumerate(space.labels)
           if any(lab == v or (not isinstance(v, str) and lab in v) for v in y_true)]
    Y = space.binarize(y_true)[:, own]
    Ps = P[:, own] / np.clip(P[:, own].sum(1, keepdims=True), 1e-12, None)
    Ds = np.eye(len(own), dtype=np.int8)[Ps.argmax(1)] if not space.multi_label else np.asarray(D)[:, own]
    labels = [space.labels[i] for i in own]
    res = classification_metrics(Y, Ds, Ps, labels, space.multi_label)
    res["labels_own"] = labels
    if attributes:
        res["by_attribute"] = {}
        for name, values in attributes.items():
            vals = np.asarray(values, dtype=object)[idx]
            res["by_attribute"][name] = {
                str(v): classification_metrics(Y[vals == v], Ds[vals == v], Ps[vals == v], labels, space.multi_label)
                for v in sorted(set(vals.tolist()), key=str)}
    return res


def _score(model, P, D, space, y_true: list, attributes: dict | None, idx) -> dict:
    """Metrics of out-of-fold predictions (single-label truth: the top label is the answer),
    and the same metrics for each value of each attribute."""
    from affekt.evaluation.metrics import classification_metrics

    Y = space.binarize(y_true)
    if not space.multi_label:
        D = np.eye(len(space), dtype=np.int8)[P.argmax(1)]
    res = classification_metrics(Y, D, P, space.labels, space.multi_label)
    if attributes:
        res["by_attribute"] = {}
        for name, values in attributes.items():
            vals = np.asarray(values, dtype=object)[idx]
            res["by_attribute"][name] = {
                str(v): classification_metrics(Y[vals == v], D[vals == v], P[vals == v], space.labels,
                                               space.multi_label)
                for v in sorted(set(vals.tolist()), key=str)}
    return res
