"""Clicks on suggestion DMs, and sentences flagged out of future suggestions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import BlockedSentence, Feedback, FeedbackAction, GuildSettings, ScoredReply, Suggestion
from storage.trends import add_to_rollup


@dataclass(frozen=True)
class SuggestedReply:
    """The reply a DM was about, and (for per-suggestion buttons) one of its suggestions."""

    scored_reply_id: int
    recipient_id: int
    guild_id: int
    channel_id: int
    suggestion_id: int | None = None
    rank: int | None = None
    sentence: str | None = None
    new_response: str | None = None


def suggested_reply(session: Session, scored_reply_id: int) -> SuggestedReply | None:
    reply = session.get(ScoredReply, scored_reply_id)
    if reply is None:
        return None
    return SuggestedReply(reply.id, reply.responder_id, reply.guild_id, reply.channel_id)


def suggestion(session: Session, suggestion_id: int) -> SuggestedReply | None:
    row = session.execute(
        select(Suggestion, ScoredReply).join(ScoredReply).where(Suggestion.id == suggestion_id)
    ).first()
    if row is None:
        return None
    s, reply = row
    return SuggestedReply(
        reply.id, reply.responder_id, reply.guild_id, reply.channel_id, s.id, s.rank, s.sentence, s.new_response
    )


def record_feedback(
    session: Session,
    target: SuggestedReply,
    user_id: int,
    action: FeedbackAction,
    now: datetime,
    time_zone: str,
    edited_text: str | None = None,
    flag_reason: str | None = None,
) -> int:
    """One row per click; the first acceptance of a reply's suggestions counts in the trends."""
    first_accept = action in (FeedbackAction.ACCEPT, FeedbackAction.EDIT) and not session.scalar(
        select(Feedback.id).where(
            Feedback.scored_reply_id == target.scored_reply_id,
            Feedback.action.in_([FeedbackAction.ACCEPT, FeedbackAction.EDIT]),
        )
    )
    row = Feedback(
        scored_reply_id=target.scored_reply_id,
        suggestion_id=target.suggestion_id,
        guild_id=target.guild_id,
        user_id=user_id,
        action=action,
        edited_text=edited_text,
        flag_reason=flag_reason,
        created_at=now,
    )
    session.add(row)
    if first_accept:
        add_to_rollup(session, target.guild_id, target.channel_id, now, time_zone, accepted=1)
    session.flush()
    return row.id


def block_sentence(session: Session, key: str, sentence: str, guild_id: int | None, reason: str, now: datetime) -> bool:
    """Never suggest this sentence again; False when it was already blocked."""
    if session.scalar(select(BlockedSentence.id).where(BlockedSentence.sentence_key == key)):
        return False
    session.add(
        BlockedSentence(sentence_key=key, sentence=sentence, guild_id=guild_id, reason=reason[:300], created_at=now)
    )
    return True


@dataclass(frozen=True)
class ShownEdit:
    """A suggestion the member saw beside the one they clicked."""

    edit_kind: str
    position: int
    sentence: str


@dataclass(frozen=True)
class TrainingFeedback:
    """One click usable for retraining: the conversation, the suggestion, what the member did, and the
    reply's other suggestions, which they passed over (their choice among them is a preference)."""

    feedback_id: int
    action: str
    seeker_text: str
    response_text: str
    edit_kind: str
    position: int
    sentence: str
    edited_text: str | None
    passed_over: tuple[ShownEdit, ...] = ()


def training_feedback(session: Session, since: datetime | None) -> tuple[list[TrainingFeedback], dict[str, int]]:
    """Feedback since a time, only from guilds that opted in to training and only while the texts are
    still held (retention, deletion and forget-me remove them). Also counts of what was left out."""
    query = (
        select(Feedback, Suggestion, ScoredReply, GuildSettings.training_opt_in)
        .join(Suggestion, Feedback.suggestion_id == Suggestion.id)
        .join(ScoredReply, Feedback.scored_reply_id == ScoredReply.id)
        .outerjoin(GuildSettings, GuildSettings.guild_id == ScoredReply.guild_id)
        .where(Feedback.action.in_([FeedbackAction.ACCEPT, FeedbackAction.EDIT, FeedbackAction.FLAG]))
        .order_by(Feedback.id)
    )
    if since is not None:
        query = query.where(Feedback.created_at > since)
    rows, skipped = [], {"not_opted_in": 0, "texts_gone": 0}
    usable = []
    for feedback, suggestion, reply, opted_in in session.execute(query):
        if not opted_in:
            skipped["not_opted_in"] += 1
            continue
        if reply.seeker_text is None or reply.response_text is None:
            skipped["texts_gone"] += 1
            continue
        usable.append((feedback, suggestion, reply))
    shown = _suggestions_of(session, {reply.id for _, _, reply in usable})
    for feedback, suggestion, reply in usable:
        others = tuple(
            ShownEdit(s.edit_kind, s.position, s.sentence)
            for s in shown.get(reply.id, [])
            if s.id != suggestion.id or feedback.action == FeedbackAction.EDIT
        )
        rows.append(
            TrainingFeedback(
                feedback.id,
                feedback.action,
                reply.seeker_text,
                reply.response_text,
                suggestion.edit_kind,
                suggestion.position,
                suggestion.sentence,
                feedback.edited_text,
                others,
            )
        )
    return rows, skipped


def _suggestions_of(session: Session, reply_ids: set[int]) -> dict[int, list[Suggestion]]:
    """Each reply's suggestions in the order they were shown."""
    found: dict[int, list[Suggestion]] = {}
    query = select(Suggestion).where(Suggestion.scored_reply_id.in_(reply_ids)).order_by(Suggestion.rank)
    for row in session.scalars(query) if reply_ids else ():
        found.setdefault(row.scored_reply_id, []).append(row)
    return found
