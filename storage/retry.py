"""When a failed job runs again, or whether it is dead: a small pure policy, tested on its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # a job that failed this many times is dead, its last error kept
    base_delay_s: float = 10.0  # wait after the first failure
    factor: float = 3.0  # each further failure waits this many times longer
    max_delay_s: float = 3600.0

    def next_delay(self, attempts: int) -> timedelta | None:
        """The wait before the next attempt after `attempts` failed ones; None once the job is dead.

        >>> policy = RetryPolicy(max_attempts=3, base_delay_s=10, factor=3)
        >>> [policy.next_delay(n) for n in (1, 2, 3)]
        [datetime.timedelta(seconds=10), datetime.timedelta(seconds=30), None]
        """
        if attempts >= self.max_attempts:
            return None
        return timedelta(seconds=min(self.max_delay_s, self.base_delay_s * self.factor ** (attempts - 1)))
