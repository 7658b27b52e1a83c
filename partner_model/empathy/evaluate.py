"""Dev-set figures of a classifier: accuracy and macro-F1 per mechanism with bootstrap intervals,
and word-level rationale F1 over the examples whose gold level is above 0."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.inference import EmpathyScore, EmpathyScorer
from partner_model.empathy.metrics import accuracy, bootstrap_interval, macro_f1, token_f1

# Pairs per scoring call: keeps the progress callback lively without hurting throughput.
EVAL_CHUNK = 64


def score_examples(
    scorer: EmpathyScorer, examples: list[EpitomeExample], progress: Callable[[int], None] | None = None
) -> list[EmpathyScore]:
    scores: list[EmpathyScore] = []
    for start in range(0, len(examples), EVAL_CHUNK):
        chunk = examples[start : start + EVAL_CHUNK]
        scores += scorer.score([(e.seeker, e.response) for e in chunk])
        if progress:
            progress(len(chunk))
    return scores


def figures(examples: list[EpitomeExample], scores: list[EmpathyScore]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    rationale_means = []
    for mech in MECHANISMS:
        gold = [e.levels[mech] for e in examples]
        predicted = [s.levels[mech] for s in scores]
        result[mech] = {
            "accuracy": accuracy(gold, predicted),
            "macro_f1": macro_f1(gold, predicted),
            "accuracy_ci95": list(bootstrap_interval(gold, predicted, accuracy)),
            "macro_f1_ci95": list(bootstrap_interval(gold, predicted, macro_f1)),
        }
        f1s = [
            token_f1(e.response, e.rationales[mech], s.rationales.get(mech, []))
            for e, s in zip(examples, scores, strict=True)
            if e.levels[mech] > 0 and e.rationales[mech]
        ]
        result[mech]["rationale_f1"] = float(np.mean(f1s)) if f1s else 0.0
        rationale_means.append(result[mech]["rationale_f1"])
    result["rationale_f1"] = float(np.mean(rationale_means))
    result["n"] = len(examples)
    return result
