"""weekly digests for moderators, and each guild's switch for them

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 14:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weekly_digest", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table(
        "weekly_digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_digests")),
        sa.UniqueConstraint("guild_id", "week_start", name=op.f("uq_weekly_digests_guild_id_week_start")),
    )


def downgrade() -> None:
    op.drop_table("weekly_digests")
    with op.batch_alter_table("guild_settings", schema=None) as batch_op:
        batch_op.drop_column("weekly_digest")
