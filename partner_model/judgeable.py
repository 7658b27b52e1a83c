"""Can the models judge this reply at all? They were trained on English text of some length."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


def word_count(text: str) -> int:
    """Words made of letters; emoji, numbers, punctuation and code symbols do not count.

    >>> word_count("I hear you :) <3 💙")
    3
    """
    return len(_WORD.findall(text))


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)


def other_language(text: str, min_confidence: float) -> str | None:
    """The language code when the text is surely not English, else None. Short or emoji-heavy English
    gets low, spread-out confidences, so only a confident non-English call skips a reply."""
    language, confidence = _identifier().classify(text)
    if language != "en" and confidence >= min_confidence:
        return str(language)
    return None


def skip_reason(text: str, min_words: int, other_language_confidence: float) -> str | None:
    """Why the classifier cannot judge this reply, or None when it can."""
    if not text.strip():
        return "no text"
    words = word_count(text)
    if words < min_words:
        return f"fewer than {min_words} words ({words})"
    language = other_language(text, other_language_confidence)
    if language is not None:
        return f"not English ({language})"
    return None
