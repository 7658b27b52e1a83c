"""Suggestion DMs: which are due, and their at-most-once state changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.members import mark_dm_sent, needs_introduction
from storage.models import Delivery, DeliveryStatus, ScoredReply, Suggestion
from storage.trends import add_to_rollup


@dataclass(frozen=True)
class SuggestionView:
    id: int
    rank: int
    edit_kind: str
    position: int
    sentence: str
    new_response: str


@dataclass(frozen=True)
class DueDelivery:
    id: int
    scored_reply_id: int
    recipient_id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    message_id: int
    response_text: str
    levels: dict[str, int]
    details: dict[str, Any]
    attempts: int
    introduce: bool
    suggestions: list[SuggestionView]


def _due(now: datetime) -> Any:
    return (Delivery.status == DeliveryStatus.PENDING) & (
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)
    )


def due_deliveries(session: Session, now: datetime, limit: int) -> list[DueDelivery]:
    rows = session.execute(
        select(Delivery, ScoredReply).join(ScoredReply).where(_due(now)).order_by(Delivery.id).limit(limit)
    ).all()
    due = []
    for delivery, reply in rows:
        suggestions = session.scalars(
            select(Suggestion).where(Suggestion.scored_reply_id == reply.id).order_by(Suggestion.rank)
        )
        due.append(
            DueDelivery(
                id=delivery.id,
                scored_reply_id=reply.id,
                recipient_id=delivery.recipient_id,
                guild_id=reply.guild_id,
                channel_id=reply.channel_id,
                thread_id=reply.thread_id,
                message_id=reply.message_id,
                response_text=reply.response_text or "",
                levels=reply.levels,
                details=reply.details or {},
                attempts=delivery.attempts,
                introduce=needs_introduction(session, delivery.recipient_id),
                suggestions=[
                    SuggestionView(s.id, s.rank, s.edit_kind, s.position, s.sentence, s.new_response)
                    for s in suggestions
                ],
            )
        )
    return due


def claim_delivery(session: Session, delivery_id: int, now: datetime) -> bool:
    """Pending -> sending, only if still pending: whoever wins sends, nobody sends twice."""
    return (
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.SENDING, attempts=Delivery.attempts + 1, updated_at=now)
        ).rowcount
        == 1
    )


def _finish(session: Session, delivery_id: int, now: datetime, **values: Any) -> None:
    session.execute(update(Delivery).where(Delivery.id == delivery_id).values(updated_at=now, **values))


def mark_sent(
    session: Session, delivery: DueDelivery, dm_channel_id: int, dm_message_id: int, now: datetime, time_zone: str
) -> None:
    _finish(
        session,
        delivery.id,
        now,
        status=DeliveryStatus.SENT,
        dm_channel_id=dm_channel_id,
        dm_message_id=dm_message_id,
        sent_at=now,
        last_error=None,
    )
    mark_dm_sent(session, delivery.recipient_id, now)
    add_to_rollup(session, delivery.guild_id, delivery.channel_id, now, time_zone, sent=1)


def mark_dm_closed(session: Session, delivery_id: int, error: str, now: datetime) -> None:
    """Discord 50007: the member does not accept DMs. Recorded once, never retried."""
    _finish(session, delivery_id, now, status=DeliveryStatus.DM_CLOSED, last_error=error[:2000])


def mark_retry(session: Session, delivery_id: int, error: str, retry_at: datetime, now: datetime) -> None:
    _finish(session, delivery_id, now, status=DeliveryStatus.PENDING, next_attempt_at=retry_at, last_error=error[:2000])


def mark_failed(session: Session, delivery_id: int, error: str, now: datetime) -> None:
    _finish(session, delivery_id, now, status=DeliveryStatus.FAILED, last_error=error[:2000])


def cancel_delivery(session: Session, delivery_id: int, reason: str, now: datetime) -> None:
    _finish(session, delivery_id, now, status=DeliveryStatus.CANCELLED, last_error=reason)
