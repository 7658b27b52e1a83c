"""The schema's guarantees that later features rely on, checked on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from storage.models import (
    Delivery,
    DeliveryStatus,
    EditKind,
    Feedback,
    FeedbackAction,
    GuildSettings,
    Job,
    JobStatus,
    ScoredReply,
    Suggestion,
    TrendRollup,
    WatchedChannel,
)
from tests.factories import NOW, scored_reply


def _guild(session: Session, guild_id: int = 1) -> GuildSettings:
    guild = GuildSettings(
        guild_id=guild_id,
        low_empathy_threshold=1,
        shadow_mode=False,
        retention_days=30,
        training_opt_in=False,
        time_zone="UTC",
        dm_daily_cap=3,
        dm_cooldown_minutes=60,
        weekly_digest=True,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(guild)
    session.flush()
    return guild


def _reply(session: Session, message_id: int = 900_000_000_000_000_001) -> ScoredReply:
    reply = scored_reply(message_id=message_id, text_purge_at=NOW + timedelta(days=30))
    session.add(reply)
    session.flush()
    return reply


def _job(key: str | None) -> Job:
    return Job(
        task="rewrite",
        payload={"scored_reply_id": 1},
        status=JobStatus.QUEUED,
        attempts=0,
        max_attempts=5,
        run_after=NOW,
        unique_key=key,
        created_at=NOW,
        updated_at=NOW,
    )


def test_times_come_back_timezone_aware_in_utc(db: Session) -> None:
    berlin = timezone(timedelta(hours=1))
    job = _job("times")
    job.run_after = datetime(2026, 3, 2, 13, 0, tzinfo=berlin)
    db.add(job)
    db.flush()
    db.expire_all()
    stored = db.scalars(select(Job).where(Job.unique_key == "times")).one()
    assert stored.run_after == datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    assert stored.run_after.utcoffset() == timedelta(0)


def test_naive_times_are_refused(db: Session) -> None:
    job = _job("naive")
    job.run_after = datetime(2026, 3, 2, 12, 0)
    db.add(job)
    with pytest.raises(StatementError, match="naive datetime"):
        db.flush()


def test_snowflakes_beyond_32_bits_round_trip(db: Session) -> None:
    reply = _reply(db, message_id=1_234_567_890_123_456_789)
    db.expire_all()
    assert db.get(ScoredReply, reply.id).message_id == 1_234_567_890_123_456_789


def test_a_job_unique_key_admits_one_job(db: Session) -> None:
    db.add(_job("rewrite:reply:1"))
    db.flush()
    db.add(_job("rewrite:reply:1"))
    with pytest.raises(IntegrityError):
        db.flush()


def test_jobs_without_a_key_do_not_collide(db: Session) -> None:
    db.add_all([_job(None), _job(None)])
    db.flush()
    assert db.scalar(select(Job).where(Job.unique_key.is_(None)).limit(1)) is not None


def test_a_suggestion_set_has_at_most_one_delivery(db: Session) -> None:
    reply = _reply(db)
    delivery = dict(recipient_id=4, status=DeliveryStatus.PENDING, attempts=0, created_at=NOW, updated_at=NOW)
    db.add(Delivery(scored_reply_id=reply.id, **delivery))
    db.flush()
    db.add(Delivery(scored_reply_id=reply.id, **delivery))
    with pytest.raises(IntegrityError):
        db.flush()


def test_deleting_a_reply_removes_its_suggestions_feedback_and_delivery(db: Session) -> None:
    reply = _reply(db)
    suggestion = Suggestion(
        scored_reply_id=reply.id,
        rank=1,
        edit_kind=EditKind.INSERT,
        position=0,
        sentence="That sounds really lonely.",
        new_response="That sounds really lonely. ok",
        rewards={"empathy": 2.0},
        model_version="test",
        created_at=NOW,
    )
    db.add(suggestion)
    db.flush()
    db.add_all(
        [
            Feedback(
                scored_reply_id=reply.id,
                suggestion_id=suggestion.id,
                guild_id=1,
                user_id=4,
                action=FeedbackAction.ACCEPT,
                created_at=NOW,
            ),
            Delivery(
                scored_reply_id=reply.id,
                recipient_id=4,
                status=DeliveryStatus.SENT,
                attempts=1,
                created_at=NOW,
                updated_at=NOW,
            ),
        ]
    )
    db.flush()
    db.delete(reply)
    db.flush()
    db.expire_all()
    for model in (Suggestion, Feedback, Delivery):
        assert db.scalars(select(model).where(model.scored_reply_id == reply.id)).all() == []


def test_removing_a_guild_removes_its_watched_channels(db: Session) -> None:
    guild = _guild(db, guild_id=77)
    db.add(WatchedChannel(guild_id=77, channel_id=5, kind="forum", threshold_override=2, created_at=NOW))
    db.flush()
    db.delete(guild)
    db.flush()
    db.expire_all()
    assert db.scalars(select(WatchedChannel).where(WatchedChannel.guild_id == 77)).all() == []


def test_trend_rollups_hold_no_member_ids(migrated_engine) -> None:
    columns = {c["name"] for c in inspect(migrated_engine).get_columns("trend_rollups")}
    assert not {c for c in columns if c.endswith(("user_id", "responder_id", "seeker_id", "member_id"))}
    assert columns == set(TrendRollup.__table__.c.keys())
