"""Retention: message texts go when their guild's retention period ends; scores and trends stay."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.models import ScoredReply
from storage.replies import clear_texts


def purge_expired_texts(session: Session, now: datetime) -> int:
    """Clear the texts of every reply whose retention period is over; how many replies were purged."""
    due = list(
        session.scalars(
            select(ScoredReply.id).where(
                ScoredReply.text_purge_at <= now,
                or_(ScoredReply.response_text.is_not(None), ScoredReply.seeker_text.is_not(None)),
            )
        )
    )
    clear_texts(session, due, now)
    return len(due)
