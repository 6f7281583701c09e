"""Speech model families; each is an :class:`~affekt.core.recognizer.EmotionClassifier` over
audio inputs (file paths or ``(samples, sample_rate)`` tuples) and trainable with
``affekt train --modality speech``.

=========  ===================================================================================
svm        utterance functionals (:mod:`affekt.speech.features`) -> standardised -> RBF SVM
rf         functionals -> random forest
lgbm       functionals -> gradient boosting (LightGBM)
logreg     functionals -> logistic regression (a fast linear baseline)
cnn        log-mel CNN (SpecAugment; noise, speed and pitch-like augmentation) (torch)
crnn       log-mel CNN front-end + BiLSTM + attention pooling over frames (torch)
ensemble   soft voting over any of the above (default members: svm + cnn)
=========  ===================================================================================

Every input passes through :func:`affekt.speech.utterances.utterances`: decoding to 16 kHz
mono, loudness normalisation, Silero VAD trimming; long recordings become a timeline of
utterance windows, each scored on its own (``segments`` in the prediction).
"""
from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import joblib
import numpy as np

from affekt.core.cache import cache_root, file_digest, read_entry, write_entry
from affekt.core.errors import AffektError, InputError
from affekt.core.recognizer import EmotionClassifier, MembersState
from affekt.core.registry import register_family
from affekt.core.types import EmotionPrediction, Predictions
from affekt.speech import features as F
from affekt.speech.utterances import check_input, input_name, utterances


def _n_jobs() -> int:
    """Threads for per-file work: $AFFEKT_JOBS, else the CPU count (at most 4)."""
    env = os.environ.get("AFFEKT_JOBS")
    if not env:
        return min(4, os.cpu_count() or 1)
    try:
        return max(1, int(env))
    except ValueError:
        raise InputError(f"AFFEKT_JOBS must be a whole number of threads, got '{env}'") from None


# --------------------------------------------------------------------------- caching
#: representations computed in this process, by file key (see _cache_key): every fold of a
#: cross-validation and every member of an ensemble reads each file's features once
_MEMORY: "OrderedDict[str, object]" = OrderedDict()
_MEMORY_MAX = 50_000
_MEMORY_LOCK = threading.Lock()
_NONE = object()  # no cache entry on disk
def _cache_key(x, kind: str) -> str | None:
    """A key for file ``x``'s representations of ``kind``: a digest of its bytes, so an edited
    file is read again while a copied, moved or re-downloaded one is not; None for what is not a
    readable file (arrays, missing paths)."""
    if not isinstance(x, (str, os.PathLike)):
        return None
    p = Path(x)
    try:
        digest = file_digest(p)
    except OSError:
        return None
    # the cache folder is part of the key: a run that swaps a part of the pipeline (a test's stand-in
    # VAD) points AFFEKT_CACHE elsewhere, and must not be served from memory either
    return hashlib.sha1(f"{digest}|{kind}|{cache_root()}".encode()).hexdigest()


def _cache_file(x, kind: str) -> Path | None:
    """Where the representations of file ``x`` are kept on disk (see :func:`cache_root`), or None."""
    root = cache_root()
    key = _cache_key(x, kind) if root is not None else None
    if key is None:
        return None
    return root / "speech" / kind.replace("/", "_")[:80] / f"{key}.pkl"


def _remember(key: str | None, value) -> None:
    if key is None:
        return
    with _MEMORY_LOCK:
        _MEMORY[key] = value
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > _MEMORY_MAX:
            _MEMORY.popitem(last=False)


def _cached(x, kind: str, compute):
    """``compute()``'s result for file ``x`` and ``kind``: from memory, else from the disk cache,
    else computed and kept in both (arrays and missing paths: computed every time)."""
    key = _cache_key(x, kind)
    if key is not None and key in _MEMORY:
        return _MEMORY[key]
    f = _cache_file(x, kind)
    out = read_entry(f, _NONE)  # a damaged file (a killed run): computed again below
    if out is not _NONE:
        _remember(key, out)
        return out
    out = compute()
    _remember(key, out)
    write_entry(f, out)
    return out



def _mean_repr(R: list):
    """Mean of utterance representations: of 1-D vectors (functionals), component-wise for
    tuples (an ensemble's); None where a representation is not a vector (spectrograms)."""
    def vector_mean(V):
        if isinstance(V[0], np.ndarray) and V[0].ndim == 1:
            return np.mean(np.vstack(V), axis=0).astype(V[0].dtype)
        return None

    if isinstance(R[0], tuple):
        return tuple(vector_mean([r[k] for r in R]) for k in range(len(R[0])))
    return vector_mean(R)


def _minus(r, mu):
    if mu is None:
        return r
    if isinstance(r, tuple):
        return tuple(a if b is None else a - b for a, b in zip(r, mu))
    return r - mu


def _vector_stats(R: list):
    """(mean, std) over utterance representations: of 1-D vectors, component-wise for tuples (an
    ensemble's); None where a representation is not a vector (spectrograms)."""
    def one(V):
        if isinstance(V[0], np.ndarray) and V[0].ndim == 1:
            A = np.vstack(V).astype(np.float64)
            return A.mean(axis=0), A.std(axis=0)
        return None

    if isinstance(R[0], tuple):
        return tuple(one([r[k] for r in R]) for k in range(len(R[0])))
    return one(R)


def _typical(stats: list):
    """The typical set of recordings: the mean of the sets' (mean, std) pairs."""
    return np.mean([m for m, _ in stats], axis=0), np.mean([sd for _, sd in stats], axis=0)


def _zscore(r, st, typical):
    """``r`` standardised by ``st`` = (mean, std); a std is floored at a tenth of the typical one,
    so that a feature nearly constant in a small set does not blow up. Component-wise for an
    ensemble's tuples; a component without typical statistics (a member that does not normalise,
    a spectrogram) passes unchanged."""
    if typical is None:
        return r
    if isinstance(r, tuple):
        return tuple(_zscore(a, s, t) for a, s, t in zip(r, st, typical))
    mu, sd = st
    return ((r - mu) / np.maximum(sd, 0.1 * typical[1] + 1e-9)).astype(r.dtype)


class SpeechClassifier(EmotionClassifier):
    """Base of the speech families: subclasses turn one utterance into a representation
    (``_repr``), score a list of them (``_score_reprs``) and fit on them (``_fit_reprs``).

    Speaker normalisation (``speaker_norm=True``, families on functionals and their ensembles):
    every utterance's functionals are taken relative to the mean over all utterances of the same
    speaker, in training and in prediction. It is unsupervised adaptation to the speaker: no
    label of the test speaker is used, but their unlabelled clips are. At prediction the speaker
    of each input comes from ``speakers=``; without it, a long recording (at least
    ``min_speaker_clips`` windows) is its own speaker and the other inputs of the call are taken
    as one. A speaker with fewer than ``min_speaker_clips`` utterances is referred to the
    training population's mean instead, with a warning (its scores are then less reliable).
    """

    modality = "speech"
    max_window_s = 8.0
    batch_size = 32
    speaker_norm = False
    min_speaker_clips = 10
    corpus_norm = False
    min_adapt_clips = 20
    augment = None
    corpus_balance = False

    # -------------------------------------------------------------- speakers
    def fit(self, X, y, *, speakers=None, corpora=None, **kw):
        """``speakers``: the speaker of each training input (needed with ``speaker_norm``).
        ``corpora``: the corpus (set of recordings) of each training input, for ``corpus_norm``
        (without it, the training data is one corpus)."""
        for name, v in (("speakers", speakers), ("corpora", corpora)):
            if v is not None and len(v) != len(X):
                raise InputError(f"{len(v)} {name} for {len(X)} training inputs")
        if self.speaker_norm and self.corpus_norm:
            raise InputError("speaker_norm and corpus_norm cannot be combined: choose one normalisation")
        self._fit_speakers = None if speakers is None else list(speakers)
        self._fit_corpora = None if corpora is None else list(corpora)
        try:
            return super().fit(X, y, **kw)
        finally:
            self._fit_speakers = self._fit_corpora = None

    def _corpus_norm(self, W: list, corpora=None, fit: bool = False, adapt: bool = False) -> list:
        """Corpus normalisation of windows ``W`` (one list per input; a str for a failed input).

        In training, each corpus's features are standardised by that corpus's own mean and
        standard deviation, so that no feature's scale carries a corpus's recording set-up, and
        the model keeps the typical corpus's statistics (the mean of the corpora's means and
        standard deviations). In prediction, each input is standardised by those typical
        statistics: its answer depends on nothing but itself. With ``adapt=True`` the inputs of
        the call are taken as one new set of recordings and standardised by their own statistics
        (unsupervised adaptation: it needs at least ``min_adapt_clips`` inputs with a mix of
        emotions; with fewer it falls back to the typical statistics, with a warning)."""
        if not self.corpus_norm:
            if adapt:
                raise InputError(f"adapt: model '{getattr(self, 'model_id_', None) or self.family}' was not trained "
                                 "with corpus normalisation (train one with -p corpus_norm=true)")
            return W
        import warnings

        ok = [i for i, ws in enumerate(W) if not isinstance(ws, str) and ws]
        if not ok:
            return W
        if fit:
            groups: dict = {}
            for i in ok:
                groups.setdefault("all" if corpora is None else str(corpora[i]), []).append(i)
            stats = {g: _vector_stats([w[3] for i in idx for w in W[i]]) for g, idx in groups.items()}
            self.corpus_stats_ = _typical(list(stats.values()))
            self.n_corpora_ = len(groups)
            plan = {g: (idx, stats[g]) for g, idx in groups.items()}
        else:
            st = self.corpus_stats_
            if adapt:
                if len(ok) >= self.min_adapt_clips:
                    st = _vector_stats([w[3] for i in ok for w in W[i]])
                else:
                    warnings.warn(f"adapt: {len(ok)} recording(s) with speech, fewer than the {self.min_adapt_clips} "
                                  "that adaptation needs; each is scored on its own instead (the typical "
                                  "corpus's statistics)", stacklevel=3)
            plan = {"call": (ok, st)}
        out = list(W)
        for idx, st in plan.values():
            for i in idx:
                out[i] = [(a, b, sp, _zscore(r, st, self.corpus_stats_)) for a, b, sp, r in W[i]]
        return out

    def _adapt(self, W: list, speakers, fit: bool = False) -> list:
        """Speaker normalisation of windows ``W`` (one list per input; a str for a failed input)."""
        if not self.speaker_norm:
            return W
        import warnings
        from collections import defaultdict

        ok = [i for i, ws in enumerate(W) if not isinstance(ws, str) and ws]
        if speakers is not None:
            if len(speakers) != len(W):
                raise InputError(f"{len(speakers)} speakers for {len(W)} inputs")
            key = {i: ("speaker", str(speakers[i])) for i in ok}
        elif fit:
            raise InputError("speaker_norm needs the speaker of every training clip (fit(..., speakers=...); "
                             "`affekt train` passes the dataset's speaker column)")
        else:
            key = {i: ("input", i) if len(W[i]) >= self.min_speaker_clips else ("call",) for i in ok}
        groups: dict = defaultdict(list)
        for i in ok:
            groups[key[i]].append(i)
        if fit:
            self.population_mean_ = _mean_repr([w[3] for i in ok for w in W[i]])
        out, few = list(W), []
        for k, idx in groups.items():
            R = [w[3] for i in idx for w in W[i]]
            if len(R) >= self.min_speaker_clips:
                mu = _mean_repr(R)
            else:
                mu = self.population_mean_
                few.append(k[1] if k[0] == "speaker" else "the inputs of this call")
            for i in idx:
                out[i] = [(a, b, s, _minus(r, mu)) for a, b, s, r in W[i]]
        if few:
            warnings.warn(f"speaker normalisation: fewer than {self.min_speaker_clips} utterances for "
                          f"{', '.join(map(str, few[:5]))}{' ...' if len(few) > 5 else ''}; referred to the "
                          "training population instead (less reliable; give more clips per speaker)",
                          stacklevel=3)
        return out

    def check_item(self, x):
        return check_input(x)

    # -------------------------------------------------------------- subclass API
    def _repr_kind(self) -> str:
        raise NotImplementedError

    def _repr(self, samples: np.ndarray):
        raise NotImplementedError

    def _score_reprs(self, R: list) -> np.ndarray:
        raise NotImplementedError

    def _fit_reprs(self, R: list, Y: np.ndarray, R_dev: list | None, Y_dev: np.ndarray | None) -> None:
        raise NotImplementedError

    # -------------------------------------------------------------- utterances
    def _windows(self, x) -> list[tuple[float, float, bool, object]]:
        """[(start, end, speech_found, representation)] of one input (cached for files)."""
        return _cached(x, self._repr_kind(), lambda: [(u.start, u.end, u.speech, self._repr(u.samples))
                                                      for u in utterances(x, max_window_s=self.max_window_s)])

    def _all_windows(self, X: list, progress: bool = False, errors: bool = False) -> list:
        """Windows of every input, in order, computed by a few threads (decoding, VAD and the
        feature maths release the GIL). ``errors=True``: a failing input gives its message
        (a str) instead of raising."""
        def one(x):
            if not errors:
                return self._windows(x)
            err = check_input(x)
            if err is not None:
                return err
            try:
                return self._windows(x)
            except AffektError as exc:
                return str(exc)

        bar = None
        if progress and len(X) > 50:
            from tqdm import tqdm

            bar = tqdm(total=len(X), desc=f"{self.family}: features", unit="file", leave=False)
        jobs = _n_jobs()
        out: list = []
        if jobs > 1 and len(X) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(jobs) as ex:
                for w in ex.map(one, X):
                    out.append(w)
                    if bar is not None:
                        bar.update()
        else:
            for x in X:
                out.append(one(x))
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
        return out

    def _augmented_windows(self, X: list) -> tuple[list, list]:
        """Windows of one degraded copy of each training file per augmentation kind
        (:mod:`affekt.speech.augment`), cached like the originals'; and the index of each copy's
        original. A copy in which no speech is found any more is left out."""
        from affekt.speech import augment as A
        from affekt.io.audio import load_audio

        kinds = A.parse_kinds(self.augment)
        files = [i for i, x in enumerate(X) if isinstance(x, (str, os.PathLike))]
        if not kinds or not files:
            return [], []

        def pool_for(i):
            def pool(n):
                rng = np.random.default_rng(i)
                picks = [files[j] for j in rng.choice(len(files), min(n + 1, len(files)), replace=False) if files[j] != i]
                return [load_audio(X[j]) for j in picks[:n]]
            return pool

        def one(job):
            i, k = job

            def compute():
                seed = int(hashlib.sha1(f"{Path(X[i]).name}|{kind_names[k]}".encode()).hexdigest()[:8], 16)
                try:
                    y = A.degrade(load_audio(X[i]), kind_names[k], np.random.default_rng(seed), pool_for(i))
                    out = [(u.start, u.end, u.speech, self._repr(u.samples))
                           for u in utterances((y, A.SR), max_window_s=self.max_window_s)]
                except AffektError:
                    out = []
                return [w for w in out if w[2]]

            return _cached(X[i], f"{self._repr_kind()}|{A.VERSION}-{kind_names[k]}", compute)

        kind_names = list(kinds)
        jobs = [(i, k) for k in range(len(kinds)) for i in files]
        from concurrent.futures import ThreadPoolExecutor

        from tqdm import tqdm

        with ThreadPoolExecutor(_n_jobs()) as ex:
            W = list(tqdm(ex.map(one, jobs), total=len(jobs), desc=f"{self.family}: augmented copies", unit="file",
                          leave=False, disable=len(jobs) < 50))
        keep = [n for n, w in enumerate(W) if w]
        return [W[n] for n in keep], [jobs[n][0] for n in keep]

    def _fit(self, X, Y, X_dev, Y_dev):
        W = self._all_windows(X, progress=True)
        spk, cor = getattr(self, "_fit_speakers", None), getattr(self, "_fit_corpora", None)
        if self.augment:  # degraded copies join the training set, with their original's label, speaker, corpus
            Wa, src = self._augmented_windows(list(X))
            W = W + Wa
            Y = np.vstack([Y, Y[src]]) if src else Y
            spk = None if spk is None else list(spk) + [spk[i] for i in src]
            cor = None if cor is None else list(cor) + [cor[i] for i in src]
        W = self._adapt(W, spk, fit=True)
        W = self._corpus_norm(W, cor, fit=True)
        R = [w[3] for ws in W for w in ws]
        idx = [i for i, ws in enumerate(W) for _ in ws]
        self._row_weights = None
        if self.corpus_balance:  # every training corpus weighs the same, however many clips it has
            if cor is None:
                raise InputError("corpus_balance needs the corpus of each training input: train on several "
                                 "--dataset corpora")
            from collections import Counter

            rows = [str(cor[i]) for i in idx]
            counts = Counter(rows)
            w = np.array([1.0 / counts[c] for c in rows])
            self._row_weights = w * (len(w) / w.sum())
        R_dev = Yd = None
        if X_dev is not None:
            Wd = self._corpus_norm(self._all_windows(X_dev, progress=True))
            R_dev = [w[3] for ws in Wd for w in ws]
            Yd = Y_dev[[i for i, ws in enumerate(Wd) for _ in ws]]
        try:
            self._fit_reprs(R, Y[idx], R_dev, Yd)
        finally:
            self._row_weights = None

    def _scores(self, X, speakers=None, adapt: bool = False) -> np.ndarray:
        W = self._corpus_norm(self._adapt(self._all_windows(list(X)), speakers), adapt=adapt)
        return np.vstack([p for p, _ in self._items_scores(W)])

    def predict_proba(self, X, *, speakers=None, adapt: bool = False) -> np.ndarray:
        self._check_fitted()
        self._validate_all(X)
        return np.asarray(self._scores(list(X), speakers, adapt), dtype=np.float32)

    def _proba_and_decisions(self, X: list, label_space, speakers=None, adapt: bool = False):
        return self._view(self._scores(X, speakers, adapt), label_space)

    def _items_scores(self, W: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per item of ``W`` (each a list of windows): (duration-weighted mean scores, per-window
        scores). All windows are scored together, in batches."""
        flat = [w[3] for ws in W for w in ws]
        S = np.vstack([self._score_reprs(flat[s:s + self.batch_size]) for s in range(0, len(flat), self.batch_size)]) \
            if flat else np.zeros((0, len(self.labels_)), np.float32)
        out, k = [], 0
        for ws in W:
            Si = S[k:k + len(ws)]
            k += len(ws)
            d = np.array([max(w[1] - w[0], 1e-3) for w in ws])
            out.append(((d[:, None] * Si).sum(axis=0) / d.sum(), Si))
        return out

    # -------------------------------------------------------------- predict
    def predict(self, X, *, label_space=None, errors: str = "raise", speakers=None, adapt: bool = False) -> Predictions:
        """One prediction per input; long inputs also get ``segments`` (a timeline of windows).
        A file that cannot be decoded, or holds no speech, raises :class:`InputError`
        (``errors="raise"``) or gets an error record (``errors="record"``; a clip without speech
        keeps its ``span`` with ``speech_detected: false``). ``speakers``: the speaker of each input, for models
        with ``speaker_norm`` (see the class notes). ``adapt``: for models with ``corpus_norm``, take the
        inputs as one set of recordings and standardise them by their own statistics (see
        :meth:`_corpus_norm`); without it each input's answer depends on that input alone."""
        self._check_fitted()
        if isinstance(X, (str, bytes, os.PathLike)):
            raise InputError("expected a list of inputs, got a single path; wrap it in a list")
        X = list(X)
        W = self._all_windows(X, progress=self.speaker_norm, errors=True)
        if errors == "raise":
            bad = next((w for w in W if isinstance(w, str)), None)
            if bad is not None:
                raise InputError(bad)
        W = self._corpus_norm(self._adapt(W, speakers), adapt=adapt)
        scored = iter(self._items_scores([ws for ws in W if not isinstance(ws, str)]))
        out = []
        space_name = None
        for x, ws in zip(X, W):
            name = input_name(x)
            if isinstance(ws, str):
                out.append(EmotionPrediction(input=name, error=ws, model_id=self.model_id_))
                continue
            item_p, S = next(scored)
            if not any(w[2] for w in ws):  # no speech: no emotion to report
                span = {"start": ws[0][0], "end": ws[-1][1], "speech_detected": False}
                out.append(EmotionPrediction(input=name, model_id=self.model_id_, span=span,
                                             error=f"no speech detected in {span['end'] - span['start']:.2f} s of audio"))
                continue
            P, D, space = self._view(np.vstack([item_p, S]), label_space)
            space_name = space.name
            p = self._record(name, P[0], D[0], space)
            p.span = {"start": ws[0][0], "end": ws[-1][1]}
            if len(ws) > 1 or (ws and ws[-1][1] > 20):
                p.segments = []
                for (a, b, _, _), pk, dk in zip(ws, P[1:], D[1:]):
                    r = self._record(None, pk, dk, space)
                    p.segments.append({"start": a, "end": b, "label": r.label,
                                       "scores": {k: round(v, 4) for k, v in r.scores.items()}})
            out.append(p)
        if errors == "raise" and any(p.error for p in out):
            bad = next(p for p in out if p.error)
            raise InputError(f"'{bad.input}': {bad.error}")
        return Predictions(out, model_id=self.model_id_, label_space=space_name)

    def _record(self, name, P, D, space) -> EmotionPrediction:
        p = EmotionPrediction(input=name, model_id=self.model_id_, label_space=space.name)
        p.scores = {lab: float(s) for lab, s in zip(space.labels, P)}
        p.label = space.labels[int(P.argmax())]
        p.labels = sorted((lab for lab, d in zip(space.labels, D) if d), key=lambda lab: -p.scores[lab])
        return p


# --------------------------------------------------------------------------- functionals
class FunctionalsClassifier(SpeechClassifier):
    """Utterance functionals -> standardisation -> SVM (RBF) / random forest / LightGBM / logistic
    regression, with balanced class weights (``corpus_balance``: and each training corpus weighing
    the same, whatever its size). ``temperature``: the probabilities are scaled as
    p^(1/T) and renormalised (T > 1 makes them less confident; the ranking is unchanged), e.g. a
    temperature fitted under leave-one-corpus-out (``benchmarks/speech_loco.py``)."""

    family = "svm"

    def __init__(self, classifier: str = "svm", features: str = "functionals", C: float = 10.0,
                 gamma: str | float = "scale", n_estimators: int = 500, learning_rate: float = 0.05,
                 num_leaves: int = 15, seed: int = 0, speaker_norm: bool = False, corpus_norm: bool = False,
                 augment: str | None = None, temperature: float = 1.0, corpus_balance: bool = False):
        self.classifier = classifier
        self.corpus_balance = corpus_balance
        self.speaker_norm = speaker_norm
        self.corpus_norm = corpus_norm
        self.augment = augment
        self.temperature = temperature
        self.features = features
        self.C = C
        self.gamma = gamma
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.seed = seed

    @property
    def family(self):  # type: ignore[override]  # noqa: F811
        return self.classifier

    def _repr_kind(self) -> str:
        return f"fx-{self.features}-v1"

    def _repr(self, samples):
        return F.feature_vector(samples, self.features)

    def _make(self):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        c = self.classifier
        if c == "svm":
            from sklearn.calibration import CalibratedClassifierCV
            from sklearn.svm import SVC

            est = CalibratedClassifierCV(SVC(C=self.C, gamma=self.gamma, kernel="rbf", class_weight="balanced",
                                             random_state=self.seed), ensemble=False, cv=5)
        elif c == "rf":
            from sklearn.ensemble import RandomForestClassifier

            est = RandomForestClassifier(n_estimators=self.n_estimators, class_weight="balanced_subsample",
                                         n_jobs=-1, random_state=self.seed, min_samples_leaf=1)
        elif c == "lgbm":
            from affekt.core.errors import require

            lgb = require("lightgbm", "speech")
            est = lgb.LGBMClassifier(n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                     num_leaves=self.num_leaves, subsample=0.8, subsample_freq=1,
                                     colsample_bytree=0.5, class_weight="balanced", random_state=self.seed,
                                     verbose=-1, n_jobs=2)
        elif c == "logreg":
            from sklearn.linear_model import LogisticRegression

            est = LogisticRegression(C=self.C / 100, max_iter=3000, class_weight="balanced")
        else:
            raise InputError(f"unknown classifier '{c}' (svm, rf, lgbm, logreg)")
        return make_pipeline(StandardScaler(), est)

    def _fit_reprs(self, R, Y, R_dev, Y_dev):
        if not self.temperature > 0:
            raise InputError(f"temperature must be a positive number, got {self.temperature}")
        Xf = np.vstack(R)
        y = Y.argmax(axis=1)
        pipe = self._make()
        w = getattr(self, "_row_weights", None)
        fit_kw = {} if w is None else {f"{pipe.steps[-1][0]}__sample_weight": w}
        self.pipe_ = pipe.fit(Xf, y, **fit_kw)
        self.classes_ = self.pipe_.classes_

    def _score_reprs(self, R) -> np.ndarray:
        P = self.pipe_.predict_proba(np.vstack(R))
        if self.temperature != 1.0:  # temperature scaling: p^(1/T), renormalised (T > 1 softens)
            from affekt.evaluation.metrics import scale_temperature

            P = scale_temperature(P, self.temperature)
        out = np.zeros((len(R), len(self.labels_)), np.float32)
        out[:, self.classes_] = P
        return out

    def _get_state(self, folder: Path) -> dict:
        joblib.dump({"pipe": self.pipe_, "classes": self.classes_,
                     "population_mean": getattr(self, "population_mean_", None),
                     "corpus_stats": getattr(self, "corpus_stats_", None),
                     "n_corpora": getattr(self, "n_corpora_", None)}, folder / "model.joblib", compress=3)
        return super()._get_state(folder)

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)
        d = joblib.load(folder / "model.joblib")
        self.pipe_, self.classes_ = d["pipe"], d["classes"]
        if d.get("population_mean") is not None:
            self.population_mean_ = d["population_mean"]
        if d.get("corpus_stats") is not None:
            self.corpus_stats_, self.n_corpora_ = d["corpus_stats"], d.get("n_corpora")


# --------------------------------------------------------------------------- ensemble
class SpeechEnsemble(MembersState, SpeechClassifier):
    """Soft voting: the weighted mean of the members' probabilities (equal weights by default).
    The audio is decoded, normalised and VAD-trimmed once for all members. ``features``: the
    feature set of every member on functionals (e.g. ``functionals-cms``)."""

    family = "ensemble"

    def __init__(self, members: list | None = None, weights: list | None = None, speaker_norm: bool = False,
                 features: str | None = None, corpus_norm: bool = False, augment: str | None = None):
        self.members = members
        self.weights = weights
        self.speaker_norm = speaker_norm
        self.corpus_norm = corpus_norm
        self.augment = augment
        self.features = features

    def _members(self) -> list:
        """Fresh members: the given estimators, family names (``["logreg", "svm", "lgbm"]``, as
        ``affekt train -p members=...`` passes them) or families with parameters
        (``{"family": "logreg", "C": 3}``); default svm + cnn."""
        if self.members:
            from sklearn.base import clone

            from affekt.core.registry import make_family

            def member(m):
                if isinstance(m, str):
                    return make_family("speech", m)
                if isinstance(m, dict):  # {"family": "logreg", "C": 0.03, ...}: a member with its own parameters
                    if "family" not in m:
                        raise InputError(f"ensemble member {m}: name its family, e.g. {{\"family\": \"logreg\", ...}}")
                    return make_family("speech", m["family"], **{k: v for k, v in m.items() if k != "family"})
                return clone(m)

            ms = [member(m) for m in self.members]
        else:
            from affekt.speech._nets import SpectrogramNet

            ms = [FunctionalsClassifier(), SpectrogramNet()]
        if self.features:  # e.g. functionals-cms for every member on functionals
            for m in ms:
                if "features" in m.get_params(deep=False):
                    m.set_params(features=self.features)
        if self.speaker_norm:  # members on functionals normalise too (spectrogram nets have no such option)
            for m in ms:
                if "speaker_norm" in m.get_params(deep=False):
                    m.set_params(speaker_norm=True)
        elif any(m.speaker_norm for m in ms):
            raise InputError("an ensemble member normalises per speaker: give speaker_norm=True to the ensemble "
                             "(it prepares the shared features for its members)")
        if self.augment:  # every member on functionals trains on the same degraded copies
            for m in ms:
                if "augment" in m.get_params(deep=False):
                    m.set_params(augment=self.augment)
        if self.corpus_norm:
            for m in ms:
                if "corpus_norm" in m.get_params(deep=False):
                    m.set_params(corpus_norm=True)
        elif any(m.corpus_norm for m in ms):
            raise InputError("an ensemble member normalises per corpus: give corpus_norm=True to the ensemble")
        return ms

    def _repr_kind(self) -> str:
        ms = getattr(self, "members_", None) or self._members()
        return "ens-" + "+".join(m._repr_kind() for m in ms)

    def _repr(self, samples):
        """Each member's representation; members that read the same one share it (computed once)."""
        done: dict = {}
        for m in self.members_:
            k = m._repr_kind()
            if k not in done:
                done[k] = m._repr(samples)
        return tuple(done[m._repr_kind()] for m in self.members_)

    def _fit(self, X, Y, X_dev, Y_dev):
        self.members_ = self._members()
        for m in self.members_:
            m.fit(X, Y, X_dev=X_dev, y_dev=Y_dev, label_space=self.labels_, speakers=getattr(self, "_fit_speakers", None),
                  corpora=getattr(self, "_fit_corpora", None))
        self._set_population_mean()
        w = np.asarray(self.weights or [1.0] * len(self.members_), np.float64)
        if len(w) != len(self.members_):
            raise InputError(f"{len(w)} weights for {len(self.members_)} ensemble members")
        self.weights_ = (w / w.sum()).tolist()

    def _set_population_mean(self) -> None:
        """The training population's mean per member representation (from the members that
        normalise; None for the others), for speakers with too few clips."""
        self.population_mean_ = tuple(getattr(m, "population_mean_", None) if m.speaker_norm else None
                                      for m in self.members_)
        if self.corpus_norm:  # each member's typical corpus statistics (None for members that do not normalise)
            self.corpus_stats_ = tuple(getattr(m, "corpus_stats_", None) if m.corpus_norm else None
                                       for m in self.members_)
            self.n_corpora_ = next((m.n_corpora_ for m in self.members_ if m.corpus_norm), None)

    def _score_reprs(self, R) -> np.ndarray:
        return sum(w * m._score_reprs([r[k] for r in R])
                   for k, (m, w) in enumerate(zip(self.members_, self.weights_)))

    def _set_state(self, folder: Path, manifest: dict) -> None:
        super()._set_state(folder, manifest)  # MembersState: members and weights
        self._set_population_mean()

    def _manifest_params(self) -> dict:
        return {"weights": self.weights, "speaker_norm": self.speaker_norm, "features": self.features,
                "corpus_norm": self.corpus_norm, "augment": self.augment}


def _net(arch: str):
    def make(**kw):
        from affekt.speech._nets import SpectrogramNet

        return SpectrogramNet(arch=arch, **kw)
    return make


register_family("speech", "svm", lambda **kw: FunctionalsClassifier(classifier="svm", **kw), "classification")
register_family("speech", "rf", lambda **kw: FunctionalsClassifier(classifier="rf", **kw), "classification")
register_family("speech", "lgbm", lambda **kw: FunctionalsClassifier(classifier="lgbm", **kw), "classification")
register_family("speech", "logreg", lambda **kw: FunctionalsClassifier(classifier="logreg", **kw), "classification")
register_family("speech", "cnn", _net("cnn"), "classification")
register_family("speech", "crnn", _net("crnn"), "classification")
register_family("speech", "ensemble", SpeechEnsemble, "classification")
