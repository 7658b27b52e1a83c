"""Run a batched check on only the items an earlier, cheaper check kept, keeping each answer in place."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

Item = TypeVar("Item")
Answer = TypeVar("Answer")


def on_kept(
    keep: Sequence[bool], items: Sequence[Item], batch: Callable[[list[Item]], Iterable[Answer]], default: Answer
) -> list[Answer]:
    """batch's answer for each kept item, default for the rest. The costly models (profanity, the filters)
    take one call for the whole batch, and the items the regexes already rejected never reach them.

    >>> on_kept([True, False, True], ["a", "b", "c"], lambda kept: [s.upper() for s in kept], "-")
    ['A', '-', 'C']
    """
    answers = iter(batch([item for item, kept in zip(items, keep, strict=True) if kept]))
    return [next(answers) if kept else default for kept in keep]
