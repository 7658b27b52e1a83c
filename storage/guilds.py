"""Per-guild configuration: thresholds, watched channels, exempt roles; and purging a guild."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.models import ExemptRole, GuildSettings, ScoredReply, TrendRollup, WatchedChannel, WeeklyDigest
from storage.replies import cancel_rewrite_jobs


@dataclass(frozen=True)
class GuildDefaults:
    """What a guild starts with before a moderator changes anything (settings' guild_defaults)."""

    low_empathy_threshold: int
    shadow_mode: bool
    retention_days: int
    training_opt_in: bool
    time_zone: str
    dm_daily_cap: int
    dm_cooldown_minutes: int
    weekly_digest: bool


@dataclass(frozen=True)
class Watched:
    channel_id: int
    kind: str
    threshold_override: int | None = None


@dataclass(frozen=True)
class GuildConfig(GuildDefaults):
    """A guild's settings: the defaults' fields with its own values, plus what setup adds."""

    guild_id: int
    moderator_role_id: int | None = None
    alert_channel_id: int | None = None
    configured: bool = False  # False: nobody ran setup, nothing is watched
    watched: dict[int, Watched] = field(default_factory=dict)
    exempt_roles: frozenset[int] = frozenset()

    def threshold_for(self, channel_id: int) -> int:
        watched = self.watched.get(channel_id)
        if watched is not None and watched.threshold_override is not None:
            return watched.threshold_override
        return self.low_empathy_threshold


_SETTING_NAMES = [f.name for f in fields(GuildDefaults)] + ["moderator_role_id", "alert_channel_id"]


def guild_config(session: Session, guild_id: int, defaults: GuildDefaults) -> GuildConfig:
    """The guild's configuration; the defaults (and nothing watched) when it was never set up."""
    row = session.get(GuildSettings, guild_id)
    if row is None:
        return GuildConfig(guild_id=guild_id, **{f.name: getattr(defaults, f.name) for f in fields(GuildDefaults)})
    watched = {
        w.channel_id: Watched(w.channel_id, w.kind, w.threshold_override)
        for w in session.scalars(select(WatchedChannel).where(WatchedChannel.guild_id == guild_id))
    }
    exempt = frozenset(session.scalars(select(ExemptRole.role_id).where(ExemptRole.guild_id == guild_id)))
    values = {name: getattr(row, name) for name in _SETTING_NAMES}
    return GuildConfig(guild_id=guild_id, configured=True, watched=watched, exempt_roles=exempt, **values)


def update_guild(
    session: Session,
    guild_id: int,
    defaults: GuildDefaults,
    now: datetime,
    changes: dict[str, Any],
    watched: list[Watched] | None = None,
    exempt_roles: list[int] | None = None,
) -> None:
    """Create the guild's row from the defaults if needed, then apply the given changes only."""
    unknown = set(changes) - set(_SETTING_NAMES)
    if unknown:
        raise ValueError(f"unknown guild settings: {sorted(unknown)}")
    row = session.get(GuildSettings, guild_id)
    if row is None:
        row = GuildSettings(
            guild_id=guild_id,
            created_at=now,
            updated_at=now,
            **{f.name: getattr(defaults, f.name) for f in fields(GuildDefaults)},
        )
        session.add(row)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = now
    session.flush()
    if watched is not None:
        session.execute(delete(WatchedChannel).where(WatchedChannel.guild_id == guild_id))
        session.add_all(
            WatchedChannel(
                guild_id=guild_id,
                channel_id=w.channel_id,
                kind=w.kind,
                threshold_override=w.threshold_override,
                created_at=now,
            )
            for w in watched
        )
    if exempt_roles is not None:
        session.execute(delete(ExemptRole).where(ExemptRole.guild_id == guild_id))
        session.add_all(ExemptRole(guild_id=guild_id, role_id=role) for role in set(exempt_roles))
    session.flush()


def purge_guild(session: Session, guild_id: int, now: datetime) -> dict[str, int]:
    """Everything the bot holds about a guild it left: replies (with their suggestions, deliveries and
    feedback, by cascade), trends, digests, configuration; its queued rewrite jobs are cancelled."""
    reply_ids = list(session.scalars(select(ScoredReply.id).where(ScoredReply.guild_id == guild_id)))
    cancelled = cancel_rewrite_jobs(session, reply_ids, now)
    counts = {
        "replies": session.execute(delete(ScoredReply).where(ScoredReply.guild_id == guild_id)).rowcount,
        "trend_weeks": session.execute(delete(TrendRollup).where(TrendRollup.guild_id == guild_id)).rowcount,
        "digests": session.execute(delete(WeeklyDigest).where(WeeklyDigest.guild_id == guild_id)).rowcount,
        "settings": session.execute(delete(GuildSettings).where(GuildSettings.guild_id == guild_id)).rowcount,
        "jobs_cancelled": cancelled,
    }
    return counts
