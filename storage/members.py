"""What members choose (opt-out) and what they may see or delete about themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from storage.models import Decision, Feedback, MemberPreference, ScoredReply
from storage.replies import cancel_rewrite_jobs


def _preference(session: Session, user_id: int, now: datetime) -> MemberPreference:
    row = session.get(MemberPreference, user_id)
    if row is None:
        row = MemberPreference(user_id=user_id, opted_out=False, dm_count_in_window=0, updated_at=now)
        session.add(row)
    return row


def is_opted_out(session: Session, user_id: int) -> bool:
    return bool(session.scalar(select(MemberPreference.opted_out).where(MemberPreference.user_id == user_id)))


def set_opted_out(session: Session, user_id: int, opted_out: bool, now: datetime) -> None:
    row = _preference(session, user_id, now)
    row.opted_out = opted_out
    row.opted_out_at = now if opted_out else None
    row.updated_at = now


def needs_introduction(session: Session, user_id: int) -> bool:
    """True until the member has received a first DM, which explains what the bot is."""
    return session.scalar(select(MemberPreference.introduced_at).where(MemberPreference.user_id == user_id)) is None


def mark_dm_sent(session: Session, user_id: int, now: datetime) -> None:
    row = _preference(session, user_id, now)
    row.introduced_at = row.introduced_at or now
    row.last_dm_at = now
    row.updated_at = now


@dataclass(frozen=True)
class MemberData:
    opted_out: bool
    replies_scored: int
    replies_with_text: int
    replies_as_seeker: int
    suggestions_received: int
    feedback_given: int
    recent: list[tuple[datetime, int | None, str]]  # (when, total, decision) of the latest replies


def member_data(session: Session, user_id: int, recent: int = 5) -> MemberData:
    """Everything stored about a member, counted, with their latest scored replies."""
    as_responder = ScoredReply.responder_id == user_id

    def count(*where: object) -> int:
        return int(session.scalar(select(func.count()).select_from(ScoredReply).where(*where)) or 0)

    latest = session.execute(
        select(ScoredReply.created_at, ScoredReply.total, ScoredReply.decision)
        .where(as_responder)
        .order_by(ScoredReply.created_at.desc())
        .limit(recent)
    ).all()
    return MemberData(
        opted_out=is_opted_out(session, user_id),
        replies_scored=count(as_responder),
        replies_with_text=count(as_responder, ScoredReply.response_text.is_not(None)),
        replies_as_seeker=count(ScoredReply.seeker_id == user_id),
        suggestions_received=count(as_responder, ScoredReply.decision == Decision.QUEUED),
        feedback_given=int(session.scalar(select(func.count()).where(Feedback.user_id == user_id)) or 0),
        recent=[(row.created_at, row.total, row.decision) for row in latest],
    )


def forget_member(session: Session, user_id: int, now: datetime) -> dict[str, int]:
    """Delete every row about the member, as responder and as seeker (suggestions, deliveries and
    feedback of those replies go by cascade). An opt-out is kept, without anything else, so the
    member stays unscored."""
    replies = select(ScoredReply.id).where(or_(ScoredReply.responder_id == user_id, ScoredReply.seeker_id == user_id))
    ids = list(session.scalars(replies))
    jobs = cancel_rewrite_jobs(session, ids, now)
    feedback = session.execute(delete(Feedback).where(Feedback.user_id == user_id)).rowcount
    deleted = session.execute(delete(ScoredReply).where(ScoredReply.id.in_(ids))).rowcount if ids else 0
    preference = session.get(MemberPreference, user_id)
    kept_opt_out = bool(preference and preference.opted_out)
    if preference is not None and not kept_opt_out:
        session.delete(preference)
    elif preference is not None:
        preference.introduced_at = preference.last_dm_at = preference.dm_window_start = None
        preference.dm_count_in_window = 0
        preference.updated_at = now
    return {"replies": deleted, "feedback": feedback, "jobs_cancelled": jobs, "opt_out_kept": int(kept_opt_out)}
