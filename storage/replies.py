"""Scored replies and their suggestions: what the rewrite task reads and writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import (
    BlockedSentence,
    Decision,
    Delivery,
    DeliveryStatus,
    EditKind,
    Feedback,
    Job,
    JobStatus,
    ScoredReply,
    Suggestion,
)
from storage.trends import add_to_rollup

REWRITE_TASK = "rewrite"


def rewrite_job_key(scored_reply_id: int) -> str:
    """One rewrite job per scored reply."""
    return f"{REWRITE_TASK}:{scored_reply_id}"


def cancel_rewrite_jobs(session: Session, reply_ids: list[int], now: datetime) -> int:
    """Cancel the rewrite jobs of these replies that no worker has started; how many were."""
    if not reply_ids:
        return 0
    return session.execute(
        update(Job)
        .where(Job.unique_key.in_([rewrite_job_key(i) for i in reply_ids]), Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now)
    ).rowcount


def clear_texts(session: Session, reply_ids: list[int], now: datetime) -> None:
    """Remove every text derived from these replies' messages: the reply and seeker post, the suggested
    full replies (they contain the member's words) and edited replies from feedback."""
    if not reply_ids:
        return
    session.execute(
        update(ScoredReply)
        .where(ScoredReply.id.in_(reply_ids))
        .values(response_text=None, seeker_text=None, updated_at=now)
    )
    session.execute(update(Suggestion).where(Suggestion.scored_reply_id.in_(reply_ids)).values(new_response=""))
    session.execute(update(Feedback).where(Feedback.scored_reply_id.in_(reply_ids)).values(edited_text=None))


@dataclass(frozen=True)
class ReplyRecord:
    """A response to a seeker post as the bot saw it, with its scores (None when skipped)."""

    guild_id: int
    channel_id: int
    thread_id: int | None
    message_id: int
    seeker_message_id: int
    responder_id: int
    seeker_id: int
    decision: Decision
    reason: str
    levels: dict[str, int] | None = None
    details: dict[str, Any] | None = None
    model_version: str | None = None
    response_text: str | None = None
    seeker_text: str | None = None
    text_purge_at: datetime | None = None
    low_empathy: bool = False  # at or below the channel's threshold, whatever was decided


def record_reply(session: Session, record: ReplyRecord, now: datetime, time_zone: str) -> int:
    """Store the reply and, when it was scored, count it in its channel's weekly trend."""
    levels = record.levels or {}
    row = ScoredReply(
        guild_id=record.guild_id,
        channel_id=record.channel_id,
        thread_id=record.thread_id,
        message_id=record.message_id,
        seeker_message_id=record.seeker_message_id,
        responder_id=record.responder_id,
        seeker_id=record.seeker_id,
        er=levels.get("ER"),
        ip=levels.get("IP"),
        ex=levels.get("EX"),
        total=sum(levels.values()) if record.levels else None,
        details=record.details,
        model_version=record.model_version,
        decision=record.decision,
        decision_reason=record.reason[:300],
        response_text=record.response_text,
        seeker_text=record.seeker_text,
        text_purge_at=record.text_purge_at,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    if record.levels:
        add_to_rollup(
            session,
            record.guild_id,
            record.channel_id,
            now,
            time_zone,
            scored=1,
            levels=levels,
            low=int(record.low_empathy),
        )
    return row.id


def reply_by_message(session: Session, message_id: int) -> ScoredReply | None:
    return session.scalar(select(ScoredReply).where(ScoredReply.message_id == message_id))


def rescore_reply(
    session: Session,
    reply: ScoredReply,
    levels: dict[str, int],
    details: dict[str, Any],
    response_text: str | None,
    now: datetime,
    time_zone: str,
) -> None:
    """An edited reply gets its new scores (the trend moves by the difference); its decision stands,
    so an edit never causes a second DM."""
    if reply.total is not None:
        delta = {m: levels[m] - old for m, old in reply.levels.items()}
        add_to_rollup(session, reply.guild_id, reply.channel_id, reply.created_at, time_zone, scored=0, levels=delta)
    reply.er, reply.ip, reply.ex = levels["ER"], levels["IP"], levels["EX"]
    reply.total = sum(levels.values())
    reply.details = details
    if reply.response_text is not None:
        reply.response_text = response_text
    reply.updated_at = now


def purge_message(session: Session, message_id: int, now: datetime) -> tuple[int, int]:
    """A deleted reply or seeker post: purge the texts of every reply it belongs to, cancel their
    rewrite jobs and undelivered DMs. Returns (replies purged, DMs cancelled)."""
    ids = list(
        session.scalars(
            select(ScoredReply.id).where(
                or_(ScoredReply.message_id == message_id, ScoredReply.seeker_message_id == message_id)
            )
        )
    )
    if not ids:
        return 0, 0
    clear_texts(session, ids, now)
    cancel_rewrite_jobs(session, ids, now)
    cancelled = session.execute(
        update(Delivery)
        .where(Delivery.scored_reply_id.in_(ids), Delivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED, updated_at=now)
    ).rowcount
    session.execute(
        update(ScoredReply)
        .where(ScoredReply.id.in_(ids), ScoredReply.decision == Decision.QUEUED)
        .values(
            decision=Decision.CANCELLED,
            decision_reason="the reply or its seeker post was deleted before the suggestions went out",
        )
    )
    return len(ids), cancelled


def queued_since(
    session: Session, responder_id: int, since: datetime, conversation: tuple[int, int | None] | None = None
) -> int:
    """How many of the member's replies were queued for suggestions since then; with a conversation
    (channel id, thread id or None), only those in that thread, or in the channel outside threads."""
    query = select(func.count()).where(
        ScoredReply.responder_id == responder_id,
        ScoredReply.decision == Decision.QUEUED,
        ScoredReply.created_at >= since,
    )
    if conversation is not None:
        channel_id, thread_id = conversation
        in_thread = ScoredReply.thread_id.is_(None) if thread_id is None else ScoredReply.thread_id == thread_id
        query = query.where(ScoredReply.channel_id == channel_id, in_thread)
    return int(session.scalar(query) or 0)


def last_queued_at(session: Session, responder_id: int) -> datetime | None:
    return session.scalar(
        select(func.max(ScoredReply.created_at)).where(
            ScoredReply.responder_id == responder_id, ScoredReply.decision == Decision.QUEUED
        )
    )


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


def seeker_already_flagged(session: Session, seeker_message_id: int) -> bool:
    """A reply to this seeker post was already held back for safety (its moderators were told once)."""
    return (
        session.scalar(
            select(ScoredReply.id).where(
                ScoredReply.seeker_message_id == seeker_message_id,
                ScoredReply.decision == Decision.SAFETY,
                ScoredReply.decision_reason.like("crisis%"),
            )
        )
        is not None
    )
