"""Weekly digests for moderators: last week's aggregates beside the week before, one row per guild and
week, claimed before posting so none goes out twice. Built from the trend rollups only, so a digest
never holds a member id or a message text."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import DeliveryStatus, GuildSettings, WeeklyDigest
from storage.trends import TrendWeek, week_start, weekly_trends


@dataclass(frozen=True)
class WeekFigures:
    replies: int
    mean_total: float
    low_share: float
    suggestions_sent: int
    suggestions_accepted: int


@dataclass(frozen=True)
class DueDigest:
    id: int
    guild_id: int
    week_start: date
    summary: dict[str, Any]


def combine(weeks: list[TrendWeek]) -> WeekFigures:
    """Several channels' figures of one week as one, each mean weighted by its channel's replies.

    >>> a = TrendWeek(1, date(2026, 3, 2), 10, 2.0, 1.0, 0.5, 0.5, 0.5, 2, 1)
    >>> b = TrendWeek(2, date(2026, 3, 2), 30, 4.0, 2.0, 1.0, 1.0, 0.1, 1, 1)
    >>> combine([a, b])
    WeekFigures(replies=40, mean_total=3.5, low_share=0.2, suggestions_sent=3, suggestions_accepted=2)
    """
    replies = sum(w.replies for w in weeks)
    n = max(1, replies)
    return WeekFigures(
        replies=replies,
        mean_total=sum(w.mean_total * w.replies for w in weeks) / n,
        low_share=sum(w.low_share * w.replies for w in weeks) / n,
        suggestions_sent=sum(w.suggestions_sent for w in weeks),
        suggestions_accepted=sum(w.suggestions_accepted for w in weeks),
    )


def digest_summary(weeks: list[TrendWeek], week: date) -> dict[str, Any] | None:
    """The week's figures, the week before's, and each channel's; None when nothing was scored."""
    this_week = [w for w in weeks if w.week_start == week]
    if not any(w.replies for w in this_week):
        return None
    before = [w for w in weeks if w.week_start == week - timedelta(days=7)]
    return {
        "week": asdict(combine(this_week)),
        "previous": asdict(combine(before)) if any(w.replies for w in before) else None,
        "channels": [
            {"channel_id": w.channel_id, "replies": w.replies, "mean_total": w.mean_total, "low_share": w.low_share}
            for w in sorted(this_week, key=lambda w: -w.replies)
            if w.replies
        ],
    }


def queue_weekly_digests(session: Session, now: datetime) -> int:
    """A digest of the last complete week for every guild that wants one, has an alert channel and
    scored replies that week; weeks already queued are left alone. How many were queued."""
    queued = 0
    wanted = GuildSettings.alert_channel_id.is_not(None) & GuildSettings.weekly_digest.is_(True)
    for guild in session.scalars(select(GuildSettings).where(wanted)):
        week = week_start(now, guild.time_zone) - timedelta(days=7)
        exists = session.scalar(
            select(WeeklyDigest.id).where(WeeklyDigest.guild_id == guild.guild_id, WeeklyDigest.week_start == week)
        )
        if exists is not None:
            continue
        summary = digest_summary(weekly_trends(session, guild.guild_id, since=week - timedelta(days=7)), week)
        if summary is None:
            continue
        session.add(
            WeeklyDigest(
                guild_id=guild.guild_id,
                week_start=week,
                summary=summary,
                status=DeliveryStatus.PENDING,
                created_at=now,
            )
        )
        queued += 1
    session.flush()
    return queued


def due_digests(session: Session, limit: int) -> list[DueDigest]:
    rows = session.scalars(
        select(WeeklyDigest).where(WeeklyDigest.status == DeliveryStatus.PENDING).order_by(WeeklyDigest.id).limit(limit)
    )
    return [DueDigest(r.id, r.guild_id, r.week_start, r.summary) for r in rows]


def claim_digest(session: Session, digest_id: int) -> bool:
    """Pending -> sending, only if still pending: whoever wins posts it, nobody posts it twice."""
    claimed = session.execute(
        update(WeeklyDigest)
        .where(WeeklyDigest.id == digest_id, WeeklyDigest.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SENDING)
    )
    return claimed.rowcount == 1


def finish_digest(session: Session, digest_id: int, now: datetime, error: str | None = None) -> None:
    """Sent, or failed with the reason (a digest is not retried: next week's replaces it)."""
    values: dict[str, Any] = (
        {"status": DeliveryStatus.SENT, "sent_at": now}
        if error is None
        else {"status": DeliveryStatus.FAILED, "last_error": error}
    )
    session.execute(update(WeeklyDigest).where(WeeklyDigest.id == digest_id).values(**values))
