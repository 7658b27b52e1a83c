"""Rationale spans from the tagger's per-token probabilities, and the choice of how to read them.

EPITOME's annotators marked whole sentences far more often than loose words: snapping train's gold
spans to the sentences they cover keeps word-level F1 at 0.89 for ER and 0.96 for IP and EX. A
per-token threshold instead leaves fragments a supporter cannot make sense of ("⟦That⟧ sounds really
⟦painful. What happened at work?⟧" for explorations). So each mechanism's rationale is read either
token by token (tokens whose probability passes the threshold) or sentence by sentence: the sentence
whose tokens have the highest mean probability, and every other sentence whose mean reaches the
threshold times that highest mean (relative, because the tagger's confidence varies from reply to
reply more than its ranking of a reply's sentences; on train's out-of-fold tagging this beat an
absolute cut for all three mechanisms). Which unit, and the threshold, are fitted per mechanism on the
cross-fitted teachers' out-of-fold predictions and kept only where they also win on a fold left out
of the fit: cross-validation on train, as the level offsets are chosen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.metrics import token_f1
from partner_model.text import sentence_spans

UNITS = ("token", "sentence")
# The reading of a tagger that was never fitted: a token is in a rationale when its probability passes 0.5.
DEFAULT_UNIT = "token"
DEFAULT_THRESHOLD = 0.5
# Thresholds tried when fitting: coarse, so a few hundred rows cannot be fitted to the last one.
THRESHOLD_GRID = tuple(round(float(t), 2) for t in np.arange(0.1, 0.91, 0.05))

Span = tuple[int, int]


@dataclass(frozen=True)
class TaggedResponse:
    """A response with its tokens' character offsets and each token's rationale probability per
    mechanism (token, mechanism); tokens cut by truncation are absent."""

    response: str
    offsets: Sequence[Span]
    probabilities: np.ndarray


def _extend_to_words(text: str, start: int, end: int) -> Span:
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def token_spans(tagged: TaggedResponse, mechanism: int, threshold: float) -> list[Span]:
    """Runs of tokens at or above threshold, widened to whole words; runs a space apart merge."""
    runs: list[Span] = []
    current: Span | None = None
    for (start, end), p in zip(tagged.offsets, tagged.probabilities[:, mechanism], strict=True):
        if float(p) >= threshold:
            current = (current[0], end) if current else (start, end)
        elif current:
            runs.append(current)
            current = None
    if current:
        runs.append(current)
    merged: list[Span] = []
    for start, end in (_extend_to_words(tagged.response, s, e) for s, e in runs):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def sentence_means(tagged: TaggedResponse) -> list[tuple[Span, np.ndarray]]:
    """Each sentence that kept tokens, with the mean probability of its tokens per mechanism."""
    starts = np.array([s for s, _ in tagged.offsets])
    ends = np.array([e for _, e in tagged.offsets])
    means = []
    for start, end in sentence_spans(tagged.response):
        inside = (starts < end) & (ends > start)
        if inside.any():
            means.append(((start, end), tagged.probabilities[inside].mean(0)))
    return means


def sentence_units(means: list[tuple[Span, np.ndarray]], mechanism: int, threshold: float) -> list[Span]:
    """The top sentence and those whose mean reaches threshold times the top sentence's."""
    if not means:
        return []
    top = max(float(mean[mechanism]) for _, mean in means)
    return [span for span, mean in means if float(mean[mechanism]) >= threshold * top]


def read_rationales(
    tagged: TaggedResponse, units: Sequence[str], thresholds: Sequence[float], mechanisms: Sequence[int]
) -> list[list[Span]]:
    """The spans of each of these mechanisms, read with its unit and threshold (splitting the response
    into sentences once)."""
    unknown = set(units) - set(UNITS)
    if unknown:
        raise ValueError(f"rationale unit must be one of {UNITS}, not {sorted(unknown)[0]!r}")
    means = sentence_means(tagged) if "sentence" in units else []
    return [
        sentence_units(means, m, threshold) if unit == "sentence" else token_spans(tagged, m, threshold)
        for unit, threshold, m in zip(units, thresholds, mechanisms, strict=True)
    ]


@dataclass(frozen=True)
class Fitted:
    units: list[str]
    thresholds: list[float]
    report: dict[str, dict[str, float | str | bool]]


def _f1_table(
    examples: Sequence[EpitomeExample],
    tagged: Sequence[TaggedResponse],
    means: Sequence[list[tuple[Span, np.ndarray]]],
    levels: np.ndarray,
    mechanism: int,
) -> tuple[np.ndarray, list[int]]:
    """(row, unit, threshold) word F1 against the gold spans, over the rows whose gold level is above 0
    (their indices returned too); a row predicted at level 0 shows no rationale and scores 0."""
    mech = MECHANISMS[mechanism]
    rows = [i for i, e in enumerate(examples) if e.levels[mech] > 0 and e.rationales[mech]]
    table = np.zeros((len(rows), len(UNITS), len(THRESHOLD_GRID)))
    for r, i in enumerate(rows):
        if levels[i, mechanism] == 0:
            continue
        gold = examples[i].rationales[mech]
        for t, threshold in enumerate(THRESHOLD_GRID):
            for u, spans in enumerate(
                (token_spans(tagged[i], mechanism, threshold), sentence_units(means[i], mechanism, threshold))
            ):
                table[r, u, t] = token_f1(examples[i].response, gold, spans)
    return table, rows


def _best(table: np.ndarray) -> tuple[int, int]:
    """(unit, threshold) indices of the best mean F1 over a table's rows (the first on ties)."""
    unit, threshold = np.unravel_index(table.mean(0).argmax(), table.shape[1:]) if len(table) else (0, 0)
    return int(unit), int(threshold)


def fit_readings(
    examples: Sequence[EpitomeExample],
    tagged: Sequence[TaggedResponse],
    levels: np.ndarray,
    folds: Sequence[Sequence[int]],
) -> Fitted:
    """Per mechanism, the unit and threshold with the best mean rationale F1 on these (out-of-fold)
    predictions, kept only where the ones fitted without each fold beat the default reading on that
    fold (mean over folds); levels: the predicted (row, mechanism) levels that gate the rationales."""
    default = (UNITS.index(DEFAULT_UNIT), THRESHOLD_GRID.index(DEFAULT_THRESHOLD))
    units, thresholds = [], []
    report: dict[str, dict[str, float | str | bool]] = {}
    fold_of = np.zeros(len(examples), dtype=int)
    for k, fold in enumerate(folds):
        fold_of[list(fold)] = k
    means = [sentence_means(t) for t in tagged]
    for m, mech in enumerate(MECHANISMS):
        table, rows = _f1_table(examples, tagged, means, levels, m)
        row_folds = fold_of[rows]
        best = _best(table)
        held_default, held_fitted = [], []
        for k in range(len(folds)):
            inside, outside = table[row_folds == k], table[row_folds != k]
            if len(inside) and len(outside):
                choice = _best(outside)
                held_default.append(inside[:, default[0], default[1]].mean())
                held_fitted.append(inside[:, choice[0], choice[1]].mean())
        held_default, held_fitted = float(np.mean(held_default or [0.0])), float(np.mean(held_fitted or [0.0]))
        kept = bool(held_fitted > held_default)
        unit, threshold = (UNITS[best[0]], THRESHOLD_GRID[best[1]]) if kept else (DEFAULT_UNIT, DEFAULT_THRESHOLD)
        units.append(unit)
        thresholds.append(threshold)
        report[mech] = {
            "rows": len(rows),
            "default_f1": float(table[:, default[0], default[1]].mean()) if rows else 0.0,
            "fitted_f1": float(table[:, best[0], best[1]].mean()) if rows else 0.0,
            "held_out_default": held_default,
            "held_out_fitted": held_fitted,
            "kept": kept,
            "unit": unit,
            "threshold": threshold,
        }
    return Fitted(units, thresholds, report)
