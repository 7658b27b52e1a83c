"""Whether a sentence that ends in a question mark asks anything, and the full stop it gets when it does not.

Questions earn explorations, and both classifiers credit a bare "?" with some ("I hope you feel better soon?"
+1.17 EX by the reward classifier); RL's policy learnt to end sentences with "?" whether or not they ask:
README line 1's demo suggested "I'm sorry for your pain?" (session 48). A supporter would not send a
statement of feeling punctuated as a question, so every sampled sentence that is one gets a full stop
before it is scored or shown: the "?" earns nothing in RL or in the ranking. Refusing such sentences
instead dropped ones that take up the post ("I am so sorry about your job?"), which the feedback-loop test
measured as fewer suggestions taken. Only sentences that open as a statement (the supporter's own stance,
or "That sounds ...") are judged: chat's elliptical questions ("Want to talk about it?", "Anything I can
do?") and echo questions ("You lost your job?") are left alone.
"""

from __future__ import annotations

import re

# Openings of a statement: the supporter's stance or a comment on what the seeker told.
STATEMENT_OPENING = re.compile(
    r"^\W*(?:i|i'm|im|i've|i'd|i'll|so\s+sorry|sorry|that|that's|thats|it|it's|its|this|thank|thanks|glad|hope)\b",
    re.IGNORECASE,
)
# Anywhere in the sentence, these make it a question, direct or indirect ("I wonder what happened?").
ASKING_WORDS = re.compile(
    r"\b(?:what|how|why|when|where|who|whom|whose|which|wonder|wondering|curious|whether)\b", re.IGNORECASE
)
# A clause opening with an auxiliary asks ("I'm sorry, do you want to talk?", "That's a lot, isn't it?"), and
# so does one opening as chat's elliptical questions do ("I'm sorry, any plans for the weekend?").
ASKING_OPENING = re.compile(
    r"^\W*(?:and\s+|but\s+|so\s+)?(?:any|anything|anyone|anybody|want|wanna|need|care|mind|ever|feeling|do|does|did|don't|doesn't|didn't|are|aren't|is|isn't|was|wasn't|were|"
    r"weren't|have|haven't|has|hasn't|had|hadn't|can|can't|could|couldn't|would|wouldn't|will|won't|should|"
    r"shouldn't|may|might|shall|am)\b",
    re.IGNORECASE,
)
# An auxiliary before its subject asks wherever it stands ("Sorry to hear that can you see a doctor?"), and a
# tag at the end asks for agreement ("It's sad but freeing, y'know?").
INVERSION = re.compile(
    r"\b(?:do|does|did|are|is|was|were|have|has|had|can|could|would|will|should)\s+"
    r"(?:you|u|we|they|he|she|it|i|anyone|anybody|there)\b",
    re.IGNORECASE,
)
TAG = re.compile(r"\b(?:right|you\s+know|y'know|yeah|ok|okay|no)\W*$", re.IGNORECASE)
CLAUSE_BREAK = re.compile(r"[,;:\u2014\u2013]|\s-\s")


def statement_as_question(sentence: str) -> bool:
    """True when a sentence opens as a statement, ends in "?", and no part of it asks anything.

    >>> statement_as_question("I'm sorry for your pain?")
    True
    >>> statement_as_question("I'm sorry, do you want to talk about it?")
    False
    >>> statement_as_question("Want to talk about it?")
    False
    """
    text = sentence.replace("\u2019", "'").strip()
    if not text.endswith("?") or not STATEMENT_OPENING.search(text):
        return False
    if ASKING_WORDS.search(text) or INVERSION.search(text) or TAG.search(text):
        return False
    return not any(ASKING_OPENING.search(clause) for clause in CLAUSE_BREAK.split(text))


def with_a_full_stop(sentence: str) -> str:
    """The sentence, its question marks turned into a full stop when it asks nothing.

    >>> with_a_full_stop("I'm sorry for your pain?"), with_a_full_stop("How are you?")
    ("I'm sorry for your pain.", 'How are you?')
    """
    if not statement_as_question(sentence):
        return sentence
    return sentence.rstrip().rstrip("?") + "."
