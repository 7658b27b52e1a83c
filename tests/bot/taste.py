"""A simulated supporter's taste that the empathy classifier does not encode: they take a
suggestion only when its new sentence picks up a concrete detail of the seeker's post (a content
word of the post that their own reply did not already use), and find generic ones not helpful.

>>> takes_up_detail("My dog died last night.", "Get another one.", "Losing your dog must hurt.")
True
>>> takes_up_detail("My dog died last night.", "Get another one.", "I'm so sorry to hear that.")
False
"""

from __future__ import annotations

import re
from itertools import pairwise

STEM = 5  # words agreeing on their first letters count as one ("lonely", "loneliness")
MIN_LETTERS = 3  # "dog", "job" and "mum" are details too
_STOPWORD_TEXT = """
    the and you but for was are not all can get got one how why who its has had her him his she our out any
    too now did does yes off way lot let say see use
    about after again also always anymore anything because been before being cannot could didn doesn
    don't even every everyone everything feel feeling feels from have just know last like make many more
    most much need never nothing only other really same should since some something still such than that
    their them then there these they thing things think this those through time very want were what when
    where which while will with would your yours it's i'm i've can't going getting people today
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z']+", text.lower())


def details(seeker: str, response: str) -> set[str]:
    """Stems of the post's content words that the reply has not taken up yet."""
    used = {w[:STEM] for w in _words(response)}
    return {w[:STEM] for w in _words(seeker) if len(w) >= MIN_LETTERS and w not in STOPWORDS and w[:STEM] not in used}


def takes_up_detail(seeker: str, response: str, sentence: str) -> bool:
    return bool(details(seeker, response) & {w[:STEM] for w in _words(sentence)})


# How the simulated supporter rewrites a generic suggestion: in their own words, naming a thing the post
# talks about ("my parents" -> "your parents"), with feeling and a question, as a kind supporter would. The
# judge counts what these add (+2.3 to +3.1 on 60 low-empathy dev replies); the quoted statements used
# before ('You mentioned "dog", and that sounds really hard.') added nothing, so a round that learned them
# lost empathy and was rightly held back. Until session 32 the supporter named the post's first unused
# content word whatever it was ("I am so sorry you are dealing with done", "the anyone sounds so hard"):
# no member writes that, and a round that imitated it learned to fill the same frame with words that are
# not the post's details.
OWN_WORDS = (
    "I am so sorry about {detail}, how are you feeling about it?",
    "I am sorry, {detail} sounds so hard, how are you feeling now?",
    "I am so sorry to hear about {detail}, how are you coping?",
)
# A detail a person would name is a thing the seeker calls theirs or points at: the word after these,
# seen from the supporter's side.
_POINTERS = {"my": "your", "our": "your", "the": "the"}
# Words that follow a pointer without being a thing ("my own room", "the only one", "the supposed ...").
_NOT_THING_TEXT = "own best only first whole new old little big current entire biggest worst supposed primary rest same"
_NOT_THINGS = frozenset(_NOT_THING_TEXT.split())


def _thing(seeker: str, response: str) -> str | None:
    """The first pointed-at detail of the post, as the supporter would say it ("your parents")."""
    stems = details(seeker, response)
    words = _words(seeker)
    for pointer, word in pairwise(words):
        if pointer in _POINTERS and word not in _NOT_THINGS and word[:STEM] in stems and len(word) >= MIN_LETTERS:
            return f"{_POINTERS[pointer]} {word}"
    return None


def naming_a_detail(seeker: str, response: str) -> str | None:
    """The sentence the supporter writes instead of a generic suggestion; None when the post points at
    nothing they could name.

    >>> naming_a_detail("My dog died last night.", "Get another one.")
    'I am so sorry to hear about your dog, how are you coping?'
    >>> naming_a_detail("I feel so alone. And it hurts so much", "Go out more.") is None
    True

    Each of their sentences is one the product could show; retraining on one it never shows (the voice
    check keeps out sentences about the supporter, such as "... really stayed with me") could not be seen:

    >>> from partner_model.rewriter.inference import may_be_suggested
    >>> [may_be_suggested(own.format(detail="your dog"), 300) for own in OWN_WORDS]
    [True, True, True]
    """
    thing = _thing(seeker, response)
    return OWN_WORDS[len(seeker) % len(OWN_WORDS)].format(detail=thing) if thing else None
