"""Classification and rationale metrics, with bootstrap intervals because level 1 of IP and EX is rare."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

WORD = re.compile(r"\S+")


def accuracy(gold: Sequence[int], predicted: Sequence[int]) -> float:
    gold_a, pred_a = np.asarray(gold), np.asarray(predicted)
    return float((gold_a == pred_a).mean()) if len(gold_a) else 0.0


def macro_f1(gold: Sequence[int], predicted: Sequence[int]) -> float:
    """Mean F1 over the classes present in gold or predicted (as scikit-learn's default does).

    >>> round(macro_f1([0, 0, 1, 2], [0, 0, 1, 1]), 3)
    0.556
    """
    gold_a, pred_a = np.asarray(gold), np.asarray(predicted)
    classes = sorted(set(gold_a.tolist()) | set(pred_a.tolist()))
    scores = []
    for c in classes:
        tp = int(((pred_a == c) & (gold_a == c)).sum())
        fp = int(((pred_a == c) & (gold_a != c)).sum())
        fn = int(((pred_a != c) & (gold_a == c)).sum())
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores)) if scores else 0.0


def bootstrap_interval(
    gold: Sequence[int],
    predicted: Sequence[int],
    metric: Callable[[Sequence[int], Sequence[int]], float],
    resamples: int = 1000,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval of a metric over resampled rows."""
    gold_a, pred_a = np.asarray(gold), np.asarray(predicted)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        index = rng.integers(0, len(gold_a), len(gold_a))
        values.append(metric(gold_a[index], pred_a[index]))
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def word_indices(text: str, spans: Sequence[tuple[int, int]]) -> set[int]:
    """Indices of the whitespace-separated words of text that overlap any span."""
    return {
        i
        for i, match in enumerate(WORD.finditer(text))
        if any(match.start() < end and match.end() > start for start, end in spans)
    }


def token_f1(text: str, gold_spans: Sequence[tuple[int, int]], predicted_spans: Sequence[tuple[int, int]]) -> float:
    """Word-level F1 of predicted against annotated rationale spans.

    >>> round(token_f1("I am so sorry. How are you?", [(0, 14)], [(5, 14)]), 3)
    0.667
    """
    gold, pred = word_indices(text, gold_spans), word_indices(text, predicted_spans)
    if not gold and not pred:
        return 1.0
    overlap = len(gold & pred)
    return 2 * overlap / (len(gold) + len(pred))
