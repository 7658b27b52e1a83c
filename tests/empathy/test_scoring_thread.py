"""The bot's classifier thread: the model is loaded and run in one thread, never the caller's, and scores and
errors come back as the classifier gives them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from bot.settings import load_settings
from partner_model.empathy.inference import EmpathyScorer, EmptyTextError
from partner_model.empathy.scoring_thread import ScoringThread

SEEKER = "My dog died last night and the house feels so empty."
PAIRS = [(SEEKER, "I'm so sorry, losing him must hurt so much."), (SEEKER, "ok"), (SEEKER, "How old was he?")]


class Recording:
    """A stand-in classifier that notes which thread loaded it and which scored."""

    version = "recording"

    def __init__(self) -> None:
        self.loaded_in = threading.get_ident()
        self.scored_in: set[int] = set()

    def score(self, pairs: list[tuple[str, str]]) -> list[int]:
        self.scored_in.add(threading.get_ident())
        return [len(response) for _, response in pairs]


def test_the_classifier_is_loaded_and_run_in_one_thread_that_is_not_the_callers() -> None:
    made: list[Recording] = []

    def load() -> Recording:
        made.append(Recording())
        return made[-1]

    scoring = ScoringThread(load)
    callers = [threading.Thread(target=scoring.score, args=([(SEEKER, "hello " * n)],)) for n in range(1, 5)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    scoring.close()
    (recording,) = made
    assert recording.scored_in == {recording.loaded_in}
    assert recording.loaded_in != threading.get_ident()
    assert scoring.version == "recording"


def test_a_failed_load_is_raised_to_whoever_asked_for_the_classifier() -> None:
    def missing() -> EmpathyScorer:
        raise FileNotFoundError("no classifier.json")

    before = threading.active_count()
    with pytest.raises(FileNotFoundError, match="no classifier"):
        ScoringThread(missing)
    assert threading.active_count() == before


@pytest.mark.slow
def test_the_shipped_classifier_scores_in_its_thread_as_it_does_directly(real_encoder_dir: Path) -> None:
    models = load_settings().models

    def load() -> EmpathyScorer:
        return EmpathyScorer.load(models.classifier_dir, real_encoder_dir)

    direct = load().score(PAIRS)
    scoring = ScoringThread(load)
    try:
        threaded = scoring.submit(PAIRS).result()
        assert [s.to_dict() for s in threaded] == [s.to_dict() for s in direct]
        with pytest.raises(EmptyTextError):
            scoring.submit([(SEEKER, "   ")]).result()
        assert scoring.score(PAIRS[:1])[0].to_dict() == direct[0].to_dict()
    finally:
        scoring.close()
