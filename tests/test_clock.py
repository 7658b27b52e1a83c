from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.clock import ManualClock, SystemClock


def test_the_system_clock_is_utc_and_aware() -> None:
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_a_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    assert clock.now() == clock.now() == datetime(2026, 1, 1, tzinfo=UTC)
    clock.advance(timedelta(hours=25))
    assert clock.now() == datetime(2026, 1, 2, 1, tzinfo=UTC)


def test_a_manual_clock_refuses_naive_times_and_going_back() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))
    clock = ManualClock()
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2026, 1, 1))
