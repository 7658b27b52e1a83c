"""Weekly trend rollups per channel. They hold counts and sums only, never member ids, so a member's
deletion request leaves the guild's trends intact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import TrendRollup

_COUNTERS = ("replies_scored", "total_sum", "er_sum", "ip_sum", "ex_sum", "low_empathy")


def week_start(moment: datetime, time_zone: str) -> date:
    """Monday of the moment's week in the guild's time zone.

    >>> from datetime import UTC
    >>> week_start(datetime(2026, 3, 4, 23, 30, tzinfo=UTC), "UTC")
    datetime.date(2026, 3, 2)
    """
    local = moment.astimezone(ZoneInfo(time_zone)).date()
    return local - timedelta(days=local.weekday())


def _rollup(session: Session, guild_id: int, channel_id: int, week: date) -> TrendRollup:
    row = session.scalar(
        select(TrendRollup).where(
            TrendRollup.guild_id == guild_id, TrendRollup.channel_id == channel_id, TrendRollup.week_start == week
        )
    )
    if row is None:
        row = TrendRollup(
            guild_id=guild_id,
            channel_id=channel_id,
            week_start=week,
            suggestions_sent=0,
            suggestions_accepted=0,
            **dict.fromkeys(_COUNTERS, 0),
        )
        session.add(row)
        session.flush()
    return row


def add_to_rollup(
    session: Session,
    guild_id: int,
    channel_id: int,
    moment: datetime,
    time_zone: str,
    scored: int = 0,
    levels: dict[str, int] | None = None,
    low: int = 0,
    sent: int = 0,
    accepted: int = 0,
) -> None:
    """Add to the week's counters of one channel (negative level deltas correct a re-scored reply)."""
    row = _rollup(session, guild_id, channel_id, week_start(moment, time_zone))
    levels = levels or {}
    row.replies_scored += scored
    row.er_sum += levels.get("ER", 0)
    row.ip_sum += levels.get("IP", 0)
    row.ex_sum += levels.get("EX", 0)
    row.total_sum += sum(levels.values())
    row.low_empathy += low
    row.suggestions_sent += sent
    row.suggestions_accepted += accepted


@dataclass(frozen=True)
class TrendWeek:
    channel_id: int
    week_start: date
    replies: int
    mean_total: float
    mean_er: float
    mean_ip: float
    mean_ex: float
    low_share: float
    suggestions_sent: int
    suggestions_accepted: int


def weekly_trends(session: Session, guild_id: int, since: date | None = None) -> list[TrendWeek]:
    """Per channel and week, oldest first: means per mechanism, share of low-empathy replies, DMs."""
    query = select(TrendRollup).where(TrendRollup.guild_id == guild_id)
    if since is not None:
        query = query.where(TrendRollup.week_start >= since)
    weeks = []
    for row in session.scalars(query.order_by(TrendRollup.week_start, TrendRollup.channel_id)):
        n = max(1, row.replies_scored)
        weeks.append(
            TrendWeek(
                channel_id=row.channel_id,
                week_start=row.week_start,
                replies=row.replies_scored,
                mean_total=row.total_sum / n,
                mean_er=row.er_sum / n,
                mean_ip=row.ip_sum / n,
                mean_ex=row.ex_sum / n,
                low_share=row.low_empathy / n,
                suggestions_sent=row.suggestions_sent,
                suggestions_accepted=row.suggestions_accepted,
            )
        )
    return weeks
