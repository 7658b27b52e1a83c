"""Typed SQLAlchemy models: the whole schema of partner-bot in one place.

Labels (job status, decision, feedback action, ...) are StrEnums stored as short VARCHARs, so a
new value needs no ALTER TYPE. Trend rollups carry no member ids: aggregates must survive a
member's deletion request.
"""

from __future__ import annotations

import enum
from datetime import date
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import OptionalSnowflake, OptionalTimestamp, Snowflake, Timestamp

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}


class ChannelKind(enum.StrEnum):
    TEXT = "text"
    FORUM = "forum"


class Decision(enum.StrEnum):
    """What happened to a reply after scoring; the reason column says why in words."""

    SKIPPED = "skipped"  # not judged: not English, too short, non-text, ...
    ABOVE_THRESHOLD = "above_threshold"  # empathic enough, nothing to suggest
    QUEUED = "queued"  # a rewrite job was queued
    SHADOW = "shadow"  # low, but the guild is in shadow mode
    EXEMPT = "exempt"  # low, but the responder has an exempt role
    CAPPED = "capped"  # low, but the member reached the daily DM cap or cooldown
    SAFETY = "safety"  # crisis seeker post or harmful response: moderators, not coaching
    CANCELLED = "cancelled"  # the reply or seeker post was deleted before delivery


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"
    CANCELLED = "cancelled"


class EditKind(enum.StrEnum):
    INSERT = "insert"
    REPLACE = "replace"


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed for sending: never sent again, even if the bot dies mid-send
    SENT = "sent"
    DM_CLOSED = "dm_closed"  # Discord 50007: recorded, never retried
    FAILED = "failed"
    CANCELLED = "cancelled"


class FeedbackAction(enum.StrEnum):
    ACCEPT = "accept"
    EDIT = "edit"
    REJECT = "reject"
    FLAG = "flag"
    STOP = "stop"


class ModelKind(enum.StrEnum):
    CLASSIFIER = "classifier"
    JUDGE = "judge"
    REWRITER = "rewriter"


class ModelStatus(enum.StrEnum):
    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"
    REJECTED = "rejected"


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class GuildSettings(Base):
    """Per-guild configuration, created from the settings' guild_defaults on first use."""

    __tablename__ = "guild_settings"

    guild_id: Mapped[Snowflake] = mapped_column(primary_key=True, autoincrement=False)
    low_empathy_threshold: Mapped[int] = mapped_column(SmallInteger)
    shadow_mode: Mapped[bool] = mapped_column(Boolean)
    retention_days: Mapped[int] = mapped_column(Integer)
    moderator_role_id: Mapped[OptionalSnowflake]
    alert_channel_id: Mapped[OptionalSnowflake]
    training_opt_in: Mapped[bool] = mapped_column(Boolean)
    time_zone: Mapped[str] = mapped_column(String(64))
    dm_daily_cap: Mapped[int] = mapped_column(SmallInteger)
    dm_cooldown_minutes: Mapped[int] = mapped_column(Integer)
    weekly_digest: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class WatchedChannel(Base):
    __tablename__ = "watched_channels"
    __table_args__ = (UniqueConstraint("guild_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild_settings.guild_id", ondelete="CASCADE"), index=True
    )
    channel_id: Mapped[Snowflake]
    kind: Mapped[str] = mapped_column(String(16))
    # None: the guild's threshold applies.
    threshold_override: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    created_at: Mapped[Timestamp]


class ExemptRole(Base):
    """Members with these roles (e.g. trained listeners) are scored but never coached."""

    __tablename__ = "exempt_roles"

    guild_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("guild_settings.guild_id", ondelete="CASCADE"), primary_key=True
    )
    role_id: Mapped[Snowflake] = mapped_column(primary_key=True, autoincrement=False)


class MemberPreference(Base):
    """Per-user choices and DM cap state; global across guilds so an opt-out is never partial."""

    __tablename__ = "member_preferences"

    user_id: Mapped[Snowflake] = mapped_column(primary_key=True, autoincrement=False)
    opted_out: Mapped[bool] = mapped_column(Boolean)
    opted_out_at: Mapped[OptionalTimestamp]
    introduced_at: Mapped[OptionalTimestamp]  # when the first DM (with the intro) went out
    dm_window_start: Mapped[OptionalTimestamp]  # start of the current daily cap window
    dm_count_in_window: Mapped[int] = mapped_column(SmallInteger)
    last_dm_at: Mapped[OptionalTimestamp]
    updated_at: Mapped[Timestamp]


class ScoredReply(Base):
    """One response to a seeker post: its scores, the decision taken, and texts until purge time."""

    __tablename__ = "scored_replies"
    __table_args__ = (Index("ix_scored_replies_guild_channel_created", "guild_id", "channel_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake] = mapped_column(index=True)
    channel_id: Mapped[Snowflake]
    thread_id: Mapped[OptionalSnowflake]
    message_id: Mapped[Snowflake] = mapped_column(unique=True)
    seeker_message_id: Mapped[Snowflake] = mapped_column(index=True)
    responder_id: Mapped[Snowflake] = mapped_column(index=True)
    seeker_id: Mapped[Snowflake] = mapped_column(index=True)
    er: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    ip: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    ex: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    total: Mapped[int | None] = mapped_column(SmallInteger, nullable=True)
    # Probabilities per level and rationale spans per mechanism, as the classifier returned them.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decision: Mapped[str] = mapped_column(String(24))
    decision_reason: Mapped[str] = mapped_column(String(300))
    response_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    seeker_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    text_purge_at: Mapped[OptionalTimestamp] = mapped_column(index=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]

    @property
    def levels(self) -> dict[str, int]:
        """Level per mechanism (0 where the reply was not scored)."""
        return {"ER": self.er or 0, "IP": self.ip or 0, "EX": self.ex or 0}


class TrendRollup(Base):
    """Weekly aggregates per channel. No member ids, so deletions leave the trends intact."""

    __tablename__ = "trend_rollups"
    __table_args__ = (UniqueConstraint("guild_id", "channel_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake] = mapped_column(index=True)
    channel_id: Mapped[Snowflake]
    week_start: Mapped[date] = mapped_column(Date)
    replies_scored: Mapped[int] = mapped_column(Integer)
    total_sum: Mapped[int] = mapped_column(Integer)
    er_sum: Mapped[int] = mapped_column(Integer)
    ip_sum: Mapped[int] = mapped_column(Integer)
    ex_sum: Mapped[int] = mapped_column(Integer)
    low_empathy: Mapped[int] = mapped_column(Integer)
    suggestions_sent: Mapped[int] = mapped_column(Integer)
    suggestions_accepted: Mapped[int] = mapped_column(Integer)


class Job(Base):
    """The durable queue: at-least-once with leases, dead after max_attempts."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_run_after", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[Timestamp]
    lease_expires_at: Mapped[OptionalTimestamp]
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    heartbeat_at: Mapped[OptionalTimestamp]
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Idempotency: one rewrite job per scored reply, one scheduled job per (task, time).
    unique_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    finished_at: Mapped[OptionalTimestamp]


class Suggestion(Base):
    """One rewrite offered for a scored reply; the set is all ranks of one reply."""

    __tablename__ = "suggestions"
    __table_args__ = (UniqueConstraint("scored_reply_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scored_reply_id: Mapped[int] = mapped_column(ForeignKey("scored_replies.id", ondelete="CASCADE"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    rank: Mapped[int] = mapped_column(SmallInteger)
    edit_kind: Mapped[str] = mapped_column(String(8))
    position: Mapped[int] = mapped_column(SmallInteger)
    sentence: Mapped[str] = mapped_column(Text)
    new_response: Mapped[str] = mapped_column(Text)
    rewards: Mapped[dict[str, Any]] = mapped_column(JSON)
    model_version: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Timestamp]


class Delivery(Base):
    """The DM for one suggestion set; the unique key makes a second send impossible."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    scored_reply_id: Mapped[int] = mapped_column(ForeignKey("scored_replies.id", ondelete="CASCADE"), unique=True)
    recipient_id: Mapped[Snowflake] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(SmallInteger)
    next_attempt_at: Mapped[OptionalTimestamp]
    dm_channel_id: Mapped[OptionalSnowflake]
    dm_message_id: Mapped[OptionalSnowflake]
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[OptionalTimestamp]
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class Feedback(Base):
    """Every click on a suggestion DM; accept, edit and reject are the retraining signal."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    scored_reply_id: Mapped[int] = mapped_column(ForeignKey("scored_replies.id", ondelete="CASCADE"), index=True)
    suggestion_id: Mapped[int | None] = mapped_column(ForeignKey("suggestions.id", ondelete="SET NULL"), nullable=True)
    guild_id: Mapped[Snowflake] = mapped_column(index=True)
    user_id: Mapped[Snowflake] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))
    edited_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    flag_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Timestamp]


class BlockedSentence(Base):
    """A flagged sentence is never suggested again, in any guild."""

    __tablename__ = "blocked_sentences"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Hash of the normalised sentence, so lookups do not depend on case or spacing.
    sentence_key: Mapped[str] = mapped_column(String(64), unique=True)
    sentence: Mapped[str] = mapped_column(Text)
    guild_id: Mapped[OptionalSnowflake]
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[Timestamp]


class ModelVersion(Base):
    """A trained artefact (rewriter adapter, classifier heads) and how it fared."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64))
    parent_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[Timestamp]
    promoted_at: Mapped[OptionalTimestamp]


class TrainingRun(Base):
    """One training or retraining attempt, including the skipped ones and why."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL"), nullable=True
    )
    parent_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    command: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    data_counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[Timestamp]
    finished_at: Mapped[OptionalTimestamp]


class WeeklyDigest(Base):
    """A guild's weekly summary for its moderators: aggregates only, queued by a worker, posted by the
    bot; the unique key means a week is summarised and posted once however often the job runs."""

    __tablename__ = "weekly_digests"
    __table_args__ = (UniqueConstraint("guild_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    guild_id: Mapped[Snowflake]
    week_start: Mapped[date] = mapped_column(Date)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))  # a DeliveryStatus: pending, sending, sent or failed
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Timestamp]
    sent_at: Mapped[OptionalTimestamp]
