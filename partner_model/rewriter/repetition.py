"""How much a sampled sentence repeats the ones recently sampled for other posts.

Two RL runs collapsed onto one stock question the classifier likes ("Have you experienced any
similar issues?", "Do you have a job?") for nearly every dev reply; a penalty to the warm start
only delayed it. A sentence that would fit any post is what the rewriter must not write, yet
within its group the classifier prefers it to the specific ones, so RL penalises it directly: each
sample loses a weight times its highest word-bigram overlap with the sentences of the last few
steps that were written for other posts. It steers the policy while its samples still differ; it
cannot undo a finished collapse (then every sample of a group pays alike and the baseline cancels it).
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Hashable

_WORD = re.compile(r"[a-z0-9']+")


def word_bigrams(sentence: str) -> frozenset[tuple[str, str]]:
    """Lower-cased word bigrams, the first word paired with a start mark so one-word sentences count."""
    words = ["<s>", *_WORD.findall(sentence.lower())]
    return frozenset(itertools.pairwise(words))


def overlap(a: frozenset[tuple[str, str]], b: frozenset[tuple[str, str]]) -> float:
    """Jaccard overlap: 1 for the same sentence, ~0.3 for "Do you have a job?" against "... any job?"."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


class RecentSentences:
    """The sentences of the last `window` steps, each with the post it was written for."""

    def __init__(self, window: int, per_step: int) -> None:
        self._items: deque[tuple[Hashable, frozenset[tuple[str, str]]]] = deque(maxlen=max(0, window * per_step))

    def repetition(self, posts: list[Hashable], sentences: list[str]) -> list[float]:
        """Each sentence's highest overlap with a recent one or one of this step's, written for another
        post; then this step's sentences join the recent ones."""
        step = [(post, word_bigrams(s)) for post, s in zip(posts, sentences, strict=True)]
        pool = [*self._items, *step]
        scores = [max((overlap(grams, g) for p, g in pool if p != post), default=0.0) for post, grams in step]
        self._items.extend(step)
        return scores
