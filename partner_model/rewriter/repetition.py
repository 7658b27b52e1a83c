"""How much a sampled sentence repeats, in meaning, the ones recently sampled for other posts.

Two RL runs collapsed onto one stock question the classifier likes ("Have you experienced any
similar issues?", "Do you have a job?") for nearly every dev reply; a penalty to the warm start
only delayed it. A sentence that would fit any post is what the rewriter must not write, yet
within its group the classifier prefers it to the specific ones, so RL penalises it directly: each
sample loses a weight times its highest cosine similarity (sentence embeddings, floored at 0) with
the sentences of the last few steps that were written for other posts. A word-overlap version of
this was evaded by paraphrase (session 16: "Do you know anyone who has been through this?" in
other words for 44 of 80 dev replies), so the measure is semantic. It steers the policy while
its samples still differ; it cannot undo a finished collapse (then every sample of a group pays
alike and the group baseline cancels it).
Charged on all of the similarity (session 17: weight 1.5), it taxed ordinary sentences as much as stock
ones and the policy collapsed all the same (median similarity 0.39 in the first 32 steps, 0.68 by step
150); a floor leaves the warm start's ordinary range free and charges only what lies above it.
Above that floor the policy still settled on one form of sentence in varied words (session 17: "Did you
know ...?" for 71 of 80 dev replies; session 19: "Do you have ...?" for 51), a form the judge credits less
than the reward's classifier does; so a sentence can also pay for the share of recent sentences for other
posts that open with its first words.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Hashable

import torch


def penalty(measure: torch.Tensor, weight: float, floor: float) -> torch.Tensor:
    """Reward lost by each sample: weight per unit of its measure (similarity, share) above floor.

    >>> penalty(torch.tensor([0.3, 0.5, 0.8]), 10.0, 0.5).tolist()
    [0.0, 0.0, 3.0]
    """
    return weight * (measure - floor).clamp(min=0.0)


class RecentSentences:
    """Unit embeddings of the sentences of the last `window` steps, each with the post it was written for."""

    def __init__(self, window: int, per_step: int) -> None:
        self._items: deque[tuple[Hashable, torch.Tensor]] = deque(maxlen=max(0, window * per_step))

    def repetition(self, posts: list[Hashable], vectors: torch.Tensor) -> list[float]:
        """Each sentence's highest similarity with a recent one, or one of this step's, written for
        another post; then this step's sentences join the recent ones. An empty sentence embeds as
        the zero vector and so repeats nothing."""
        vectors = vectors.detach().cpu()
        step = list(zip(posts, vectors, strict=True))
        pool = [*self._items, *step]
        similar = vectors @ torch.stack([v for _, v in pool]).T
        same_post = torch.tensor([[p == q for q, _ in pool] for p in posts])
        scores = similar.masked_fill(same_post, 0.0).clamp(min=0.0).max(dim=1).values
        self._items.extend(step)
        return scores.tolist()


def opening(sentence: str, words: int) -> str:
    """The sentence's first words, lower-cased, without punctuation: its form.

    >>> opening("Do you have any... questions?", 3)
    'do you have'
    """
    return " ".join(re.findall(r"[a-z0-9']+", sentence.lower())[:words])


class RecentOpenings:
    """The openings of the sentences of the last `window` steps, each with the post it was written for."""

    def __init__(self, window: int, per_step: int, words: int) -> None:
        self._words = words
        self._items: deque[tuple[Hashable, str]] = deque(maxlen=max(0, window * per_step))

    def shares(self, posts: list[Hashable], sentences: list[str]) -> list[float]:
        """Each sentence's share of the recent sentences and this step's, written for other posts, that
        open as it does; then this step's join the recent ones. An empty sentence has no opening."""
        step = [(post, opening(s, self._words)) for post, s in zip(posts, sentences, strict=True)]
        pool = [*self._items, *step]
        result = []
        for post, form in step:
            others = [other for p, other in pool if p != post]
            result.append(sum(o == form for o in others) / len(others) if form and others else 0.0)
        self._items.extend(step)
        return result
