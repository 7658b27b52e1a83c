"""Reading rationale spans from per-token probabilities, and fitting the reading by cross-validation."""

from __future__ import annotations

import re

import numpy as np
import pytest

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.rationales import TaggedResponse, fit_readings, read_rationales

RESPONSE = "That sounds really painful. What happened at work?"


def _tagged(response: str, probabilities: list[float]) -> TaggedResponse:
    """One token per word, the same probability for every mechanism."""
    offsets = [(m.start(), m.end()) for m in re.finditer(r"\S+", response)]
    assert len(offsets) == len(probabilities)
    return TaggedResponse(response, offsets, np.repeat(np.array(probabilities)[:, None], len(MECHANISMS), 1))


def _texts(tagged: TaggedResponse, unit: str, threshold: float) -> list[str]:
    return [tagged.response[s:e] for s, e in read_rationales(tagged, [unit], [threshold], [0])[0]]


def test_the_token_reading_keeps_runs_of_words_that_pass_the_threshold() -> None:
    tagged = _tagged(RESPONSE, [0.6, 0.2, 0.3, 0.7, 0.9, 0.8, 0.4, 0.9])
    assert _texts(tagged, "token", 0.5) == ["That", "painful. What happened", "work?"]
    assert _texts(tagged, "token", 0.95) == []


def test_the_sentence_reading_shows_whole_sentences_near_the_likeliest_one() -> None:
    tagged = _tagged(RESPONSE, [0.6, 0.2, 0.3, 0.7, 0.9, 0.8, 0.4, 0.9])  # sentence means 0.45 and 0.75
    assert _texts(tagged, "sentence", 0.7) == ["What happened at work?"]
    assert _texts(tagged, "sentence", 0.5) == ["That sounds really painful.", "What happened at work?"]
    # The likeliest sentence is shown however unsure the tagger is of the whole reply.
    unsure = _tagged(RESPONSE, [0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.2, 0.2])
    assert _texts(unsure, "sentence", 0.9) == ["What happened at work?"]
    # Each mechanism is read its own way in one call.
    by_token, by_sentence = read_rationales(tagged, ["token", "sentence"], [0.5, 0.7], [0, 2])
    assert len(by_token) == 3 and [tagged.response[s:e] for s, e in by_sentence] == ["What happened at work?"]


def test_tokens_cut_by_truncation_leave_their_sentence_out() -> None:
    tagged = TaggedResponse(RESPONSE, [(0, 4), (5, 11)], np.full((2, len(MECHANISMS)), 0.9))
    assert _texts(tagged, "sentence", 0.5) == ["That sounds really painful."]


def test_an_unknown_unit_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="rationale unit"):
        read_rationales(_tagged("Hi there.", [0.9, 0.9]), ["sentence", "paragraph"], [0.5, 0.5], [0, 1])


def _rows(count: int, seed: int) -> tuple[list[EpitomeExample], list[TaggedResponse]]:
    """Replies of an empathic sentence and a plain one, annotated by whole sentence, whose tagger is
    sure of the empathic sentence's first words only and as unsure of its last words as of the plain
    sentence: no token threshold recovers the rationale, the sentences' means do."""
    rng = np.random.default_rng(seed)
    examples, tagged = [], []
    for i in range(count):
        response = f"I am so sorry you are going through this number {i}. Try going for a walk tomorrow."
        plain_words = len(response.split()) - 10
        probabilities = [*rng.uniform(0.7, 0.95, 5), *rng.uniform(0.1, 0.3, 5), *rng.uniform(0.1, 0.3, plain_words)]
        end = response.index(".") + 1
        levels = {"ER": 2, "IP": 0, "EX": 0}
        rationales = {"ER": [(0, end)], "IP": [], "EX": []}
        examples.append(EpitomeExample(f"post {i}", response, levels, rationales, seeker_id=f"post {i}"))
        tagged.append(_tagged(response, probabilities))
    return examples, tagged


def test_a_sentence_reading_that_wins_on_every_left_out_fold_is_kept() -> None:
    examples, tagged = _rows(30, seed=0)
    levels = np.array([[e.levels[m] for m in MECHANISMS] for e in examples])
    fitted = fit_readings(examples, tagged, levels, [list(range(0, 15)), list(range(15, 30))])
    report = fitted.report["ER"]
    assert fitted.units[0] == "sentence" and report["kept"]
    assert report["held_out_fitted"] > 0.95 and report["held_out_default"] < report["held_out_fitted"] - 0.2
    # No IP or EX rationale to fit on: those keep the untuned reading.
    assert fitted.units[1:] == ["token", "token"] and fitted.thresholds[1:] == [0.5, 0.5]


def test_a_reply_predicted_without_the_mechanism_shows_no_rationale_and_scores_zero() -> None:
    examples, tagged = _rows(30, seed=1)
    levels = np.zeros((30, len(MECHANISMS)), dtype=int)
    fitted = fit_readings(examples, tagged, levels, [list(range(0, 15)), list(range(15, 30))])
    assert fitted.report["ER"]["fitted_f1"] == 0.0 and not fitted.report["ER"]["kept"]
    assert (fitted.units[0], fitted.thresholds[0]) == ("token", 0.5)
