"""What a text model should know about a text before reading it: its emoji, said in words, and
whether it is in a language the model was trained on.

* :func:`demojize` writes each emoji as its English name ("😂" -> "face with tears of joy"), so
  an emoji-only text reaches the model as words instead of unknown symbols (``emoji`` package).
* :func:`detect_language` names a text's language with py3langid (langid.py's model, offline),
  or says it cannot tell (a text too short, digits, emoji). A text with two English-only
  function words is taken as English without loading that model (it takes a second).
* :func:`language_warnings` is what a prediction carries when its text is in a language the
  model was not trained on: its scores are then little more than noise.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

MIN_LETTERS = 10        # fewer letters than this in a Latin-script text: the language is not told
MIN_CONFIDENCE = 0.5    # py3langid's normalised probability needed to call a Latin-script text non-English
_SPACES = re.compile(r"[ \t]{2,}")


@lru_cache(maxsize=1)
def _emoji():
    from affekt.core.errors import require

    return require("emoji", "text")


def demojize(text: str) -> str:
    """``text`` with every emoji replaced by its English name, spaced as a word."""
    e = _emoji()
    if not isinstance(text, str) or e.emoji_count(text) == 0:
        return text
    out = e.replace_emoji(text, replace=lambda chars, data: " " + data["en"].strip(":").replace("_", " ") + " ")
    return _SPACES.sub(" ", out).strip()


def emoji_only_as_words(text: str) -> str:
    """A text made of emoji only (and spaces or punctuation) said in words; any other text as it is.

    Emoji among words stay: the bundled model learnt them in context, and replacing them lowered
    its GoEmotions macro-F1 on the 107 test texts with emoji from 0.509 to 0.453."""
    if not isinstance(text, str) or _emoji().emoji_count(text) == 0:
        return text
    rest = _emoji().replace_emoji(text, replace="")
    return demojize(text) if not any(c.isalpha() or c.isdigit() for c in rest) else text


@lru_cache(maxsize=1)
def _identifier():
    from affekt.core.errors import require

    langid = require("py3langid.langid", "text")
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)


# Words of English that are not words of the other languages py3langid knows well (no "in",
# "so", "is", "me", "to", "of", "die"...): a Latin-script text with two of them reads as English
# without loading the identifier (whose model takes a second to load).
_ENGLISH = frozenset("""the and you your with this that have has had was were what when where which who
why just but they them their there not for are it's i'm don't can't didn't doesn't isn't wasn't won't
my it be would could should will about from been because very really think know like
thank thanks please love hate feel feeling happy sad angry good bad great""".split())
_WORD = re.compile(r"[a-z']+")


def _reads_as_english(text: str) -> bool:
    return len(set(_WORD.findall(text.lower())) & _ENGLISH) >= 2


def _latin_share(letters: list[str]) -> float:
    return sum(unicodedata.name(c, "").startswith("LATIN") for c in letters) / len(letters)


def detect_language(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, confidence) of ``text``, or None when it cannot be told: fewer than
    :data:`MIN_LETTERS` letters of Latin script, or a guess below :data:`MIN_CONFIDENCE`.
    A text mostly in another script (Cyrillic, Arabic, CJK...) is told from two letters on."""
    if not isinstance(text, str):
        return None
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 2:
        return None
    latin = _latin_share(letters) >= 0.5
    if latin and len(letters) < MIN_LETTERS:
        return None
    if latin and _reads_as_english(text):
        return "en", 1.0
    lang, p = _identifier().classify(text)
    if not latin:  # the script alone rules English out
        return str(lang), float(p)
    return (str(lang), float(p)) if p >= MIN_CONFIDENCE and lang != "zxx" else None  # zxx: "no language"


def language_warnings(texts: list[str], languages) -> list[list[str]]:
    """Per text, a warning when it is in a language outside ``languages`` (ISO codes the model
    was trained on; nothing is checked when the model does not say)."""
    if not languages:
        return [[] for _ in texts]
    allowed = set(languages)
    out = []
    for t in texts:
        found = detect_language(t)
        if found is None or found[0] in allowed:
            out.append([])
        else:
            out.append([f"language: this text looks like '{found[0]}' ({found[1]:.2f}); the model was trained "
                        f"on {', '.join(sorted(allowed))} text, so its scores are unreliable here"])
    return out


def training_languages(texts: list[str], *, sample: int = 2000, min_share: float = 0.05) -> list[str]:
    """The languages of a training set: those of at least ``min_share`` of the texts whose
    language can be told (a sample of ``sample`` texts, evenly spaced)."""
    from collections import Counter

    step = max(1, len(texts) // sample)
    found = [d[0] for d in (detect_language(t) for t in texts[::step]) if d is not None]
    if not found:
        return []
    counts = Counter(found)
    return sorted(lang for lang, c in counts.items() if c / len(found) >= min_share)
