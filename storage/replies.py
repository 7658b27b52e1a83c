"""Scored replies and their suggestions: what the rewrite task reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BlockedSentence, Delivery, DeliveryStatus, EditKind, ScoredReply, Suggestion


@dataclass(frozen=True)
class RewriteInput:
    scored_reply_id: int
    seeker_text: str
    response_text: str


@dataclass(frozen=True)
class NewSuggestion:
    rank: int
    edit_kind: EditKind
    position: int
    sentence: str
    new_response: str
    rewards: dict[str, Any]


def rewrite_inputs(session: Session, ids: list[int]) -> dict[int, RewriteInput]:
    """Texts of the replies still held; a purged or deleted reply is simply absent."""
    rows = session.execute(
        select(ScoredReply.id, ScoredReply.seeker_text, ScoredReply.response_text).where(ScoredReply.id.in_(ids))
    ).all()
    return {
        row.id: RewriteInput(row.id, row.seeker_text or "", row.response_text)
        for row in rows
        if row.response_text is not None
    }


def store_suggestions(
    session: Session,
    scored_reply_id: int,
    job_id: int | None,
    model_version: str,
    now: datetime,
    suggestions: list[NewSuggestion],
) -> None:
    session.add_all(
        Suggestion(
            scored_reply_id=scored_reply_id,
            job_id=job_id,
            rank=s.rank,
            edit_kind=s.edit_kind,
            position=s.position,
            sentence=s.sentence,
            new_response=s.new_response,
            rewards=s.rewards,
            model_version=model_version,
            created_at=now,
        )
        for s in suggestions
    )


def blocked_keys(session: Session) -> set[str]:
    return set(session.scalars(select(BlockedSentence.sentence_key)))


def queue_delivery(session: Session, scored_reply_id: int, now: datetime) -> None:
    """A pending DM for the reply's suggestion set; the unique key makes a second one impossible."""
    recipient = session.scalar(select(ScoredReply.responder_id).where(ScoredReply.id == scored_reply_id))
    session.add(
        Delivery(
            scored_reply_id=scored_reply_id,
            recipient_id=recipient,
            status=DeliveryStatus.PENDING,
            attempts=0,
            created_at=now,
            updated_at=now,
        )
    )
