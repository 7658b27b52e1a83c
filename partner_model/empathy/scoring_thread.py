"""The classifier in one thread of its own, for a caller (the bot's event loop) that would otherwise score
from whichever of asyncio's pool threads is free."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from partner_model.empathy.inference import EmpathyScore, EmpathyScorer


class ScoringThread:
    """Loads the classifier in its thread and only ever runs it there. On a CPU, torch scored a pair more
    slowly from any thread other than the one that loaded the model, a thread that had only ever scored
    included: through asyncio's pool 24-27 ms against 15-17 ms on an AVX2 CPU, 12.7-13.8 ms against
    8.7-11.3 ms on an AVX-512 one."""

    def __init__(self, load: Callable[[], EmpathyScorer]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier")
        try:
            self._scorer = self._executor.submit(load).result()
        except BaseException:
            self._executor.shutdown()
            raise
        self.version = self._scorer.version

    def submit(self, pairs: list[tuple[str, str]]) -> Future[list[EmpathyScore]]:
        """Queue pairs for scoring; the future fails with EmptyTextError as score() would raise it."""
        return self._executor.submit(self._scorer.score, pairs)

    def score(self, pairs: list[tuple[str, str]]) -> list[EmpathyScore]:
        return self.submit(pairs).result()

    def close(self) -> None:
        self._executor.shutdown()
