"""Text model families; each is an :class:`~affekt.core.recognizer.EmotionClassifier` or
:class:`~affekt.core.recognizer.DimensionalRegressor` and trainable with ``affekt train``.

=============  ===============================================================
family         what it is
=============  ===============================================================
tfidf          word + char n-gram TF-IDF -> logistic regression or linear SVM
lexicon        VADER + NRC lexicon features -> logistic regression (baseline)
encoder        frozen sentence encoder (MiniLM or USE) -> trained linear head
finetune       MiniLM with its top layers fine-tuned (torch), early stopping
rnn            GloVe 50d embeddings -> BiLSTM/GRU (torch)
vad            valence/arousal/dominance ridge regressor (EmoBank)
ensemble       soft voting or stacking over any of the above
=============  ===============================================================
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from affekt.core.errors import DataError, InputError
from affekt.core.persist import dump_state, load_state, state_exists
from affekt.core.recognizer import DimensionalRegressor, EmotionClassifier
from affekt.core.registry import register_family
from affekt.text import features as F


class TextMixin:
    modality = "text"
    max_chars = F.MAX_CHARS

    def check_item(self, x):
        return F.check_text(x, self.max_chars)

    def _normalise(self, X: list) -> list:
        """An emoji-only text ("😂😂") is read as the emoji's names; emoji among words stay as
        they are (the models learnt them in context; see affekt.text.language)."""
        from affekt.text.language import emoji_only_as_words

        return [emoji_only_as_words(x) for x in X]

    def _item_warnings(self, X: list, languages=None):
        """A warning for each text in a language outside the model's card ``languages``."""
        languages = languages or (getattr(self, "card_", None) or {}).get("languages")
        if not languages:
            return None
        from affekt.text.language import language_warnings

        return language_warnings(X, languages)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _class_weights(Y: np.ndarray) -> np.ndarray:
    """Balanced per-label positive weights (n_neg / n_pos), capped at 20."""
    pos = Y.sum(axis=0).astype(np.float64)
    return np.clip((len(Y) - pos) / np.maximum(pos, 1), 1.0, 20.0)


class _LinearHead:
    """Logistic regression / linear SVM over a feature matrix, one-vs-rest for multi-label."""

    def __init__(self, classifier: str, C: float, class_weight: str | None, multi_label: bool):
        self.classifier, self.C, self.class_weight, self.multi_label = classifier, C, class_weight, multi_label

    def _make(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.svm import LinearSVC

        if self.classifier == "logreg":
            return LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=2000,
                                      solver="liblinear" if self.multi_label else "lbfgs")
        if self.classifier == "linsvm":
            return LinearSVC(C=self.C, class_weight=self.class_weight)
        raise InputError(f"unknown classifier '{self.classifier}' (use logreg or linsvm)")

    def __getstate__(self):  # the stacked copy is rebuilt after loading, not saved
        d = dict(self.__dict__)
        d.pop("_stacked_cache", None)
        return d

    def _stacked(self):
        """(W (d, L), b (L,)) of a multi-label one-vs-rest of binary linear models, or None (a
        label that was constant in training has no linear model)."""
        cached = self.__dict__.get("_stacked_cache")
        if cached is None:
            ests = getattr(self.est_, "estimators_", None)
            ok = self.multi_label and ests and all(getattr(e, "coef_", None) is not None and e.coef_.shape[0] == 1
                                                   for e in ests)
            cached = (np.ascontiguousarray(np.vstack([e.coef_ for e in ests]).T),
                      np.array([float(e.intercept_[0]) for e in ests])) if ok else False
            self.__dict__["_stacked_cache"] = cached
        return cached or None

    def fit(self, Xf, Y: np.ndarray):
        import scipy.sparse as sp
        from sklearn.multiclass import OneVsRestClassifier

        self.__dict__.pop("_stacked_cache", None)

        if sp.issparse(Xf):  # sorted indices: the parallel workers get a read-only memmap
            Xf = Xf.tocsr()
            Xf.sort_indices()
        if self.multi_label:
            self.est_ = OneVsRestClassifier(self._make(), n_jobs=2).fit(Xf, Y)
            for e in self.est_.estimators_:
                if hasattr(e, "coef_"):
                    e.coef_ = e.coef_.astype(np.float32)
        else:
            self.est_ = self._make().fit(Xf, Y.argmax(axis=1))
            self.est_.coef_ = self.est_.coef_.astype(np.float32)
        return self

    def scores(self, Xf) -> np.ndarray:
        if self.classifier == "logreg":
            stacked = self._stacked()
            if stacked is not None:  # one product for all labels: sklearn checks each of 28 estimators' input
                W, b = stacked
                return _sigmoid(np.asarray(Xf @ W, dtype=np.float64) + b)
            return self.est_.predict_proba(Xf)
        z = self.est_.decision_function(Xf)
        return _sigmoid(2 * z) if self.multi_label else _softmax(2 * z)


class _SklearnTextClassifier(TextMixin, EmotionClassifier):
    """Shared by families whose state is scikit-learn objects saved with pickle (see affekt.core.persist)."""

    _state_attrs: tuple[str, ...] = ()

    def _get_state(self, folder: Path) -> dict:
        if getattr(self, "vectorizer_", None) is not None:
            F.slim_tfidf(self.vectorizer_)
        dump_state({a: getattr(self, a) for a in self._state_attrs}, folder)
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        for a, v in load_state(folder).items():
            setattr(self, a, v)


class TfidfClassifier(_SklearnTextClassifier):
    """Word + character n-gram TF-IDF with logistic regression or a linear SVM.

    ``lexicon=True`` appends the VADER/NRC lexicon features.
    """

    family = "tfidf"
    _state_attrs = ("vectorizer_", "head_", "scaler_")

    def __init__(self, classifier: str = "logreg", C: float = 4.0, word_ngrams=(1, 2),
                 char_ngrams=(2, 5), max_features: int = 60_000, min_df: int = 2,
                 class_weight: str | None = "balanced", lexicon: bool = False,
                 preprocess: dict | None = None):
        self.classifier = classifier
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_features = max_features
        self.min_df = min_df
        self.class_weight = class_weight
        self.lexicon = lexicon
        self.preprocess = preprocess

    def _features(self, X, fit: bool = False):
        import scipy.sparse as sp

        pre = F.Preprocessing.from_any(self.preprocess)
        T = pre.apply(X)
        M = self.vectorizer_.fit_transform(T) if fit else self.vectorizer_.transform(T)
        if self.lexicon:
            L = F.lexicon_features(X)
            if fit:
                from sklearn.preprocessing import StandardScaler

                self.scaler_ = StandardScaler().fit(L)
            M = sp.hstack([M, sp.csr_matrix(self.scaler_.transform(L) * 0.1)], format="csr")
        return M

    def _fit(self, X, Y, X_dev, Y_dev):
        self.vectorizer_ = F.make_tfidf(self.word_ngrams, self.char_ngrams, self.max_features, self.min_df)
        self.scaler_ = None
        Xf = self._features(X, fit=True)
        self.head_ = _LinearHead(self.classifier, self.C, self.class_weight, self.labels_.multi_label).fit(Xf, Y)

    def _scores(self, X):
        return self.head_.scores(self._features(X))


class LexiconClassifier(_SklearnTextClassifier):
    """VADER sentiment + NRC emotion-word rates -> logistic regression: the lexicon baseline."""

    family = "lexicon"
    _state_attrs = ("scaler_", "head_")

    def __init__(self, C: float = 1.0, class_weight: str | None = "balanced"):
        self.C = C
        self.class_weight = class_weight

    def _fit(self, X, Y, X_dev, Y_dev):
        from sklearn.preprocessing import StandardScaler

        L = F.lexicon_features(X)
        self.scaler_ = StandardScaler().fit(L)
        self.head_ = _LinearHead("logreg", self.C, self.class_weight, self.labels_.multi_label).fit(
            self.scaler_.transform(L), Y)

    def _scores(self, X):
        return self.head_.scores(self.scaler_.transform(F.lexicon_features(X)))


_MEMO: dict = {}


def _text_hash(texts: list[str]) -> str:
    return hashlib.sha1("\x00".join(texts).encode("utf-8", "surrogatepass")).hexdigest()


def _memo(key, texts: list[str], compute):
    """Remember the last few results of ``compute()`` for (key, texts): a composite model's
    parts that need the same embeddings or network outputs compute them once per batch."""
    k = (key, _text_hash(texts), len(texts))
    if k not in _MEMO:
        if len(_MEMO) >= 4:
            _MEMO.pop(next(iter(_MEMO)))
        _MEMO[k] = compute()
    return _MEMO[k]


#: sentence embeddings computed in this process, per encoder and text: every fold of a
#: cross-validation (and every member of an ensemble) encodes each distinct text once
_EMB: dict = {}
_EMB_MAX = 400_000


def _encode_new(texts: list[str], encoder: str, progress: bool) -> np.ndarray:
    """Embeddings of ``texts``, encoding only the texts this process has not encoded yet."""
    memo = _EMB.setdefault(encoder, {})
    new = list(dict.fromkeys(t for t in texts if t not in memo))
    fresh = dict(zip(new, F.encode(new, encoder, progress=progress or len(new) > 2000))) if new else {}
    out = np.vstack([fresh[t] if t in fresh else memo[t] for t in texts]).astype(np.float32) if texts \
        else F.encode([], encoder)
    if sum(len(m) for m in _EMB.values()) + len(fresh) > _EMB_MAX:
        memo.clear()  # bounded memory: start again rather than grow without limit
    memo.update(fresh)
    return out


def cached_encode(texts: list[str], encoder: str, progress: bool = False) -> np.ndarray:
    """Sentence embeddings, memoised in memory per text, and on disk under $AFFEKT_CACHE when it
    is set to a folder (opt-in, for training and benchmarks; ``off`` and the like mean no disk)."""
    def compute():
        from affekt.core.cache import cache_root

        disk = cache_root() if os.environ.get("AFFEKT_CACHE") else None
        f = disk / f"emb-{encoder}-{_text_hash(texts)[:16]}-{len(texts)}.npy" if disk else None
        if f is not None and f.exists():
            return np.load(f)
        E = _encode_new(list(texts), encoder, progress)
        if f is not None:
            f.parent.mkdir(parents=True, exist_ok=True)
            np.save(f, E)
        return E

    return _memo(("encoder", encoder), texts, compute)


class EncoderClassifier(_SklearnTextClassifier):
    """Transfer learning: a frozen sentence encoder (``minilm`` or ``use``) + a trained linear head."""

    family = "encoder"
    _state_attrs = ("head_",)

    def __init__(self, encoder: str = "minilm", C: float = 1.0, class_weight: str | None = "balanced",
                 preprocess: dict | None = None):
        self.encoder = encoder
        self.C = C
        self.class_weight = class_weight
        self.preprocess = preprocess

    def _pre(self, X):
        """The texts as the encoder reads them: as given, or preprocessed (e.g. ``{"web": true}``)."""
        return list(X) if not self.preprocess else F.Preprocessing.from_any(self.preprocess).apply(X)

    def _fit(self, X, Y, X_dev, Y_dev):
        E = cached_encode(self._pre(X), self.encoder)
        self.head_ = _LinearHead("logreg", self.C, self.class_weight, self.labels_.multi_label).fit(E, Y)

    def _scores(self, X):
        return self.head_.scores(cached_encode(self._pre(X), self.encoder))


class VADRegressor(TextMixin, DimensionalRegressor):
    """Valence / arousal / dominance by ridge regression over a '+'-joined feature list:

    ``minilm`` / ``use`` (frozen sentence embeddings), ``tfidf``, ``lexicon`` (VADER + NRC) and
    ``emotions`` (the pooled embedding and label scores of a fine-tuned emotion classifier, given
    by ``emotion_model``: transfer from categorical to dimensional emotion). The ridge strength
    is chosen on the dev split when there is one.
    """

    family = "vad"

    def __init__(self, features: str = "minilm+tfidf", alpha: float = 1.0, emotion_model: str | None = None):
        self.features = features
        self.alpha = alpha
        self.emotion_model = emotion_model

    def _emotion_model(self):
        if getattr(self, "emotion_model_", None) is None:
            from affekt.core.errors import DataError
            from affekt.core.registry import load_model

            if not self.emotion_model:
                raise DataError("feature 'emotions' needs emotion_model= (a fine-tuned classifier's folder)")
            self.emotion_model_ = load_model(self.emotion_model)  # shared with a sibling that loaded it
        return self.emotion_model_

    def _emotion_features(self, X):
        emb, P = self._emotion_model().embed_and_score(X)
        return np.hstack([emb, P])

    def _feats(self, X, fit=False):
        import scipy.sparse as sp

        parts = []
        for f in self.features.split("+"):
            if f in F.ENCODERS:
                parts.append(sp.csr_matrix(cached_encode(X, f) * 3.0))
            elif f == "tfidf":
                T = [t.lower() for t in X]
                parts.append(self.tfidf_.fit_transform(T) if fit else self.tfidf_.transform(T))
            elif f == "lexicon":
                parts.append(self._scaled("lex_scaler_", F.lexicon_features(X), fit))
            elif f == "emotions":
                parts.append(self._scaled("emo_scaler_", self._emotion_features(X), fit))
            else:
                raise InputError(f"unknown VAD feature '{f}' (use minilm, use, tfidf, lexicon, emotions joined by +)")
        return sp.hstack(parts, format="csr")

    def _scaled(self, attr: str, M: np.ndarray, fit: bool, weight: float = 0.3):
        """Standardised dense features (scaler fitted on training data), down-weighted next to TF-IDF."""
        import scipy.sparse as sp

        if fit:
            from sklearn.preprocessing import StandardScaler

            setattr(self, attr, StandardScaler().fit(M))
        return sp.csr_matrix(getattr(self, attr).transform(M) * weight)

    def _fit(self, X, Y, X_dev, Y_dev):
        from sklearn.linear_model import Ridge

        self.tfidf_ = F.make_tfidf((1, 2), (2, 5), 50_000, 2)
        self.lex_scaler_ = self.emo_scaler_ = None
        Xf = self._feats(X, fit=True)
        Xdf = self._feats(X_dev) if X_dev is not None else None
        alphas = [self.alpha] if X_dev is None else [self.alpha * f for f in (0.3, 1, 3, 10)]
        best = None
        for a in alphas:
            m = Ridge(alpha=a, solver="sparse_cg" if Xf.shape[1] > 5000 else "auto").fit(Xf, Y)
            if X_dev is None:
                best = (0, a, m)
                break
            P = m.predict(Xdf)
            r = np.nanmean([np.corrcoef(P[:, j], Y_dev[:, j])[0, 1] if Y_dev[:, j].std() > 0 else np.nan for j in range(3)])
            if best is None or r > best[0]:
                best = (r, a, m)
        self.alpha_, self.ridge_ = best[1], best[2]
        self.ridge_.coef_ = self.ridge_.coef_.astype(np.float32)

    def _dimensions(self, X):
        return self.ridge_.predict(self._feats(X))

    def _manifest_params(self) -> dict:
        p = super()._manifest_params()
        if self.emotion_model:
            p["emotion_model"] = "emotion_model"  # saved inside this folder
        return p

    def _get_state(self, folder: Path) -> dict:
        F.slim_tfidf(self.tfidf_)
        dump_state({"tfidf_": self.tfidf_, "ridge_": self.ridge_, "alpha_": self.alpha_,
                    "lex_scaler_": self.lex_scaler_, "emo_scaler_": self.emo_scaler_}, folder)
        state = {"dimensions": list(self.dimensions_)}
        if "emotions" in self.features.split("+"):
            link = getattr(self, "emotion_model_link_", None)
            if link:  # the same network is saved elsewhere in the parent model: refer to it
                state["emotion_model_link"] = link
            else:
                self._emotion_model().save(folder / "emotion_model")
        return state

    @classmethod
    def _from_params(cls, params: dict, folder: Path):
        if params.get("emotion_model"):
            manifest = json.loads((folder / "affekt.json").read_text())
            where = manifest.get("emotion_model_link", "emotion_model")
            params = {**params, "emotion_model": str((folder / where).resolve())}
        return cls(**params)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        for a, v in load_state(folder).items():
            setattr(self, a, v)
        self.emotion_model_ = None


class EnsembleClassifier(TextMixin, EmotionClassifier):
    """Soft voting (weighted mean of probabilities) or stacking (a logistic regression per label
    over the members' dev-set probabilities). Members already fitted are kept as they are
    (``refit=False``); thresholds are tuned again on dev for the combination.
    """

    family = "ensemble"

    def __init__(self, members: list | None = None, method: str = "soft", weights: list | None = None,
                 refit: bool = True):
        self.members = members
        self.method = method
        self.weights = weights
        self.refit = refit

    def _members(self) -> list:
        if not self.members:
            from affekt.text._torch_models import FineTunedClassifier

            return [TfidfClassifier(), FineTunedClassifier(train_layers=3, epochs=3, lr=1.5e-4)]
        return self.members

    def _fit(self, X, Y, X_dev, Y_dev):
        if self.method not in ("soft", "stacking"):
            raise InputError(f"unknown ensemble method '{self.method}' (use soft or stacking)")
        self.members_ = []
        for m in self._members():
            if self.refit or not hasattr(m, "model_id_"):
                m.fit(X, Y, X_dev=X_dev, y_dev=Y_dev, label_space=self.labels_)
            if m.labels_.labels != self.labels_.labels:
                raise DataError(f"member {m.family} predicts '{m.labels_.name}', not '{self.labels_.name}'")
            self.members_.append(m)
        self.stack_ = None
        self.weights_ = self.weights
        if self.method == "soft" and self.weights is None and X_dev is not None and len(self.members_) > 1:
            self.weights_ = self._dev_weights(X_dev, Y_dev)
        if self.method == "stacking":
            if X_dev is None:
                raise DataError("stacking needs a dev split to fit the combiner on")
            from sklearn.linear_model import LogisticRegression

            S = self._member_scores(X_dev)
            self.stack_ = []
            for j in range(Y.shape[1]):
                y = Y_dev[:, j] if self.labels_.multi_label else (Y_dev.argmax(1) == j).astype(int)
                if y.min() == y.max():
                    self.stack_.append(None)
                    continue
                self.stack_.append(LogisticRegression(C=1.0, max_iter=1000).fit(S[:, j::Y.shape[1]], y))

    def _dev_weights(self, X_dev, Y_dev) -> list[float]:
        """Soft-voting weights on a grid, chosen by dev macro-F1 (thresholds re-tuned per candidate)."""
        import itertools

        from affekt.evaluation.metrics import macro_f1_fn
        from affekt.training.thresholds import tune_thresholds

        L, k = len(self.labels_), len(self.members_)
        S = self._member_scores(X_dev)
        f1 = macro_f1_fn(self.labels_.multi_label)
        best = None
        for w in itertools.product(np.arange(0, 1.01, 0.1 if k == 2 else 0.25), repeat=k):
            if not np.isclose(sum(w), 1.0):
                continue
            P = sum(w[j] * S[:, j * L:(j + 1) * L] for j in range(k))
            if self.labels_.multi_label:
                D = (P >= tune_thresholds(Y_dev, P)).astype(int)
            else:
                D = np.eye(L, dtype=int)[P.argmax(1)]
            score = f1(Y_dev, D)
            if best is None or score > best[0]:
                best = (score, [round(float(x), 2) for x in w])
        return best[1]

    def _member_scores(self, X) -> np.ndarray:
        return np.hstack([m._scores(X) for m in self.members_])

    def _scores(self, X):
        L = len(self.labels_)
        S = self._member_scores(X)
        if self.stack_ is None:
            w = np.asarray(getattr(self, "weights_", None) or self.weights or [1.0] * len(self.members_),
                           dtype=np.float32)
            w = w / w.sum()
            return sum(w[k] * S[:, k * L:(k + 1) * L] for k in range(len(self.members_)))
        P = np.zeros((len(X), L), dtype=np.float32)
        for j, est in enumerate(self.stack_):
            P[:, j] = 0.0 if est is None else est.predict_proba(S[:, j::L])[:, 1]
        return P if self.labels_.multi_label else P / np.maximum(P.sum(1, keepdims=True), 1e-9)

    def _manifest_params(self) -> dict:
        return {"method": self.method, "weights": self.weights, "refit": self.refit}

    def _get_state(self, folder: Path) -> dict:
        for k, m in enumerate(self.members_):
            m.save(folder / f"member_{k}")
        if self.stack_ is not None:
            dump_state(self.stack_, folder, "stack")
        state = super()._get_state(folder)
        state["members"] = [f"member_{k}" for k in range(len(self.members_))]
        state["weights"] = getattr(self, "weights_", None)
        return state

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        from affekt.core.registry import load_model

        self.members_ = [load_model(folder / d) for d in manifest["members"]]
        self.weights_ = manifest.get("weights")
        self.members = self.members_
        self.stack_ = load_state(folder, "stack") if state_exists(folder, "stack") else None


def _torch_family(name):
    def factory(**kw):
        from affekt.text import _torch_models

        return getattr(_torch_models, name)(**kw)
    return factory


register_family("text", "tfidf", TfidfClassifier, "classification")
register_family("text", "tfidf-svm", lambda **kw: TfidfClassifier(classifier="linsvm", C=kw.pop("C", 0.3), **kw),
                "classification")
register_family("text", "tfidf-lexicon", lambda **kw: TfidfClassifier(lexicon=True, **kw), "classification")
register_family("text", "lexicon", LexiconClassifier, "classification")
register_family("text", "encoder", EncoderClassifier, "classification")
register_family("text", "encoder-use", lambda **kw: EncoderClassifier(encoder="use", **kw), "classification")
register_family("text", "finetune", _torch_family("FineTunedClassifier"), "classification")
register_family("text", "rnn", _torch_family("RNNClassifier"), "classification")
register_family("text", "ensemble", EnsembleClassifier, "classification")
register_family("text", "stacking", lambda **kw: EnsembleClassifier(method="stacking", **kw), "classification")
register_family("text", "vad", VADRegressor, "regression")
