"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 02:12:50.867090
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocked_sentences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sentence_key", sa.String(length=64), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blocked_sentences")),
        sa.UniqueConstraint("sentence_key", name=op.f("uq_blocked_sentences_sentence_key")),
    )
    op.create_table(
        "guild_settings",
        sa.Column("guild_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("low_empathy_threshold", sa.SmallInteger(), nullable=False),
        sa.Column("shadow_mode", sa.Boolean(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("moderator_role_id", sa.BigInteger(), nullable=True),
        sa.Column("alert_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("training_opt_in", sa.Boolean(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("dm_daily_cap", sa.SmallInteger(), nullable=False),
        sa.Column("dm_cooldown_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_guild_settings")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("unique_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_jobs_unique_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_run_after", ["status", "run_after"], unique=False)

    op.create_table(
        "member_preferences",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("introduced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dm_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dm_count_in_window", sa.SmallInteger(), nullable=False),
        sa.Column("last_dm_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_member_preferences")),
    )
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("parent_version", sa.String(length=64), nullable=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("data_counts", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("kind", "version", name=op.f("uq_model_versions_kind_version")),
    )
    op.create_table(
        "scored_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("seeker_message_id", sa.BigInteger(), nullable=False),
        sa.Column("responder_id", sa.BigInteger(), nullable=False),
        sa.Column("seeker_id", sa.BigInteger(), nullable=False),
        sa.Column("er", sa.SmallInteger(), nullable=True),
        sa.Column("ip", sa.SmallInteger(), nullable=True),
        sa.Column("ex", sa.SmallInteger(), nullable=True),
        sa.Column("total", sa.SmallInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("decision_reason", sa.String(length=300), nullable=False),
        sa.Column("response_text", sa.Text(), nullable=True),
        sa.Column("seeker_text", sa.Text(), nullable=True),
        sa.Column("text_purge_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scored_replies")),
        sa.UniqueConstraint("message_id", name=op.f("uq_scored_replies_message_id")),
    )
    with op.batch_alter_table("scored_replies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scored_replies_guild_channel_created", ["guild_id", "channel_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scored_replies_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scored_replies_responder_id"), ["responder_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scored_replies_seeker_id"), ["seeker_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scored_replies_seeker_message_id"), ["seeker_message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_scored_replies_text_purge_at"), ["text_purge_at"], unique=False)

    op.create_table(
        "trend_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("replies_scored", sa.Integer(), nullable=False),
        sa.Column("total_sum", sa.Integer(), nullable=False),
        sa.Column("er_sum", sa.Integer(), nullable=False),
        sa.Column("ip_sum", sa.Integer(), nullable=False),
        sa.Column("ex_sum", sa.Integer(), nullable=False),
        sa.Column("low_empathy", sa.Integer(), nullable=False),
        sa.Column("suggestions_sent", sa.Integer(), nullable=False),
        sa.Column("suggestions_accepted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trend_rollups")),
        sa.UniqueConstraint(
            "guild_id",
            "channel_id",
            "week_start",
            name=op.f("uq_trend_rollups_guild_id_channel_id_week_start"),
        ),
    )
    with op.batch_alter_table("trend_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trend_rollups_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scored_reply_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dm_channel_id", sa.BigInteger(), nullable=True),
        sa.Column("dm_message_id", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scored_reply_id"],
            ["scored_replies.id"],
            name=op.f("fk_deliveries_scored_reply_id_scored_replies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("scored_reply_id", name=op.f("uq_deliveries_scored_reply_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_recipient_id"), ["recipient_id"], unique=False)

    op.create_table(
        "exempt_roles",
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("role_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild_settings.guild_id"],
            name=op.f("fk_exempt_roles_guild_id_guild_settings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guild_id", "role_id", name=op.f("pk_exempt_roles")),
    )
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scored_reply_id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("edit_kind", sa.String(length=8), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("new_response", sa.Text(), nullable=False),
        sa.Column("rewards", sa.JSON(), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_suggestions_job_id_jobs"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(
            ["scored_reply_id"],
            ["scored_replies.id"],
            name=op.f("fk_suggestions_scored_reply_id_scored_replies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sa.UniqueConstraint("scored_reply_id", "rank", name=op.f("uq_suggestions_scored_reply_id_rank")),
    )
    op.create_table(
        "training_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("parent_version", sa.String(length=64), nullable=True),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("data_counts", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["model_versions.id"],
            name=op.f("fk_training_runs_model_version_id_model_versions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_runs")),
    )
    op.create_table(
        "watched_channels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("threshold_override", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guild_id"],
            ["guild_settings.guild_id"],
            name=op.f("fk_watched_channels_guild_id_guild_settings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_channels")),
        sa.UniqueConstraint("guild_id", "channel_id", name=op.f("uq_watched_channels_guild_id_channel_id")),
    )
    with op.batch_alter_table("watched_channels", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watched_channels_guild_id"), ["guild_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scored_reply_id", sa.Integer(), nullable=False),
        sa.Column("suggestion_id", sa.Integer(), nullable=True),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("edited_text", sa.Text(), nullable=True),
        sa.Column("flag_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scored_reply_id"],
            ["scored_replies.id"],
            name=op.f("fk_feedback_scored_reply_id_scored_replies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_feedback_suggestion_id_suggestions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feedback_guild_id"), ["guild_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_scored_reply_id"), ["scored_reply_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_user_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_scored_reply_id"))
        batch_op.drop_index(batch_op.f("ix_feedback_guild_id"))

    op.drop_table("feedback")
    with op.batch_alter_table("watched_channels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watched_channels_guild_id"))

    op.drop_table("watched_channels")
    op.drop_table("training_runs")
    op.drop_table("suggestions")
    op.drop_table("exempt_roles")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_recipient_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("trend_rollups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trend_rollups_guild_id"))

    op.drop_table("trend_rollups")
    with op.batch_alter_table("scored_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scored_replies_text_purge_at"))
        batch_op.drop_index(batch_op.f("ix_scored_replies_seeker_message_id"))
        batch_op.drop_index(batch_op.f("ix_scored_replies_seeker_id"))
        batch_op.drop_index(batch_op.f("ix_scored_replies_responder_id"))
        batch_op.drop_index(batch_op.f("ix_scored_replies_guild_id"))
        batch_op.drop_index("ix_scored_replies_guild_channel_created")

    op.drop_table("scored_replies")
    op.drop_table("model_versions")
    op.drop_table("member_preferences")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_run_after")

    op.drop_table("jobs")
    op.drop_table("guild_settings")
    op.drop_table("blocked_sentences")
