"""What to do with a scored reply (DESIGN.md 3.3), as one pure function so every rule and its order
is testable without Discord or a database. Safety comes first: a crisis seeker post or a harmful
response is a matter for moderators, never for automated coaching."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from storage.models import Decision


@dataclass(frozen=True)
class DecisionFacts:
    total: int
    threshold: int
    crisis_signals: list[str]
    harmful_reasons: list[str]
    exempt: bool
    shadow_mode: bool
    dms_today: int  # replies of this member queued for suggestions since the start of the guild's day
    daily_cap: int
    minutes_since_last_dm: float | None
    cooldown_minutes: int
    dm_in_conversation_today: bool  # already queued once in this thread (or channel) today


def decide(facts: DecisionFacts) -> tuple[Decision, str]:
    """The decision and its reason in words (stored with every reply).

    >>> base = DecisionFacts(1, 1, [], [], False, False, 0, 3, None, 60, False)
    >>> decide(base)
    (<Decision.QUEUED: 'queued'>, 'total 1 <= threshold 1')
    >>> decide(DecisionFacts(4, 1, [], [], False, False, 0, 3, None, 60, False))[0]
    <Decision.ABOVE_THRESHOLD: 'above_threshold'>
    """
    if facts.crisis_signals:
        return Decision.SAFETY, f"crisis signals in the seeker post: {', '.join(facts.crisis_signals)}"
    if facts.harmful_reasons:
        return Decision.SAFETY, f"harmful response: {', '.join(facts.harmful_reasons)}"
    if facts.total > facts.threshold:
        return Decision.ABOVE_THRESHOLD, f"total {facts.total} > threshold {facts.threshold}"
    low = f"total {facts.total} <= threshold {facts.threshold}"
    if facts.exempt:
        return Decision.EXEMPT, f"{low}; the responder has an exempt role"
    if facts.shadow_mode:
        return Decision.SHADOW, f"{low}; shadow mode: scored only"
    if facts.dms_today >= facts.daily_cap:
        return Decision.CAPPED, f"{low}; daily cap of {facts.daily_cap} suggestion DMs reached"
    if facts.dm_in_conversation_today:
        return Decision.CAPPED, f"{low}; already one suggestion DM for this conversation today"
    if facts.minutes_since_last_dm is not None and facts.minutes_since_last_dm < facts.cooldown_minutes:
        return Decision.CAPPED, f"{low}; cooldown: last suggestion {facts.minutes_since_last_dm:.0f} min ago"
    return Decision.QUEUED, low


def start_of_day(now: datetime, time_zone: str) -> datetime:
    """Midnight of the current day in the guild's time zone, as an aware UTC time.

    >>> from datetime import UTC
    >>> start_of_day(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/New_York").isoformat()
    '2026-03-01T05:00:00+00:00'
    """
    local = now.astimezone(ZoneInfo(time_zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(now.tzinfo)


def minutes_between(earlier: datetime | None, later: datetime) -> float | None:
    return None if earlier is None else (later - earlier) / timedelta(minutes=1)
