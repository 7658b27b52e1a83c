"""The Discord bot: `create_bot(settings, services)` builds it (SimCord and `partner-bot run` both do),
`load_services(settings)` owns the outside resources it is given (database, clock, classifier)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import discord
from discord.ext import commands
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.settings import Settings
from storage.clock import Clock, SystemClock
from storage.guilds import GuildConfig, GuildDefaults, guild_config
from storage.queue import JobQueue

log = logging.getLogger(__name__)

T = TypeVar("T")


class Score(Protocol):
    levels: dict[str, int]
    rationales: dict[str, list[tuple[int, int]]]

    @property
    def total(self) -> int: ...

    def to_dict(self) -> dict: ...


class ReplyScorer(Protocol):
    """The classifier as the bot sees it: a version, and batched scoring in a thread of its own
    (partner_model's ScoringThread): submit() for the event loop, score() to wait in place."""

    version: str

    def submit(self, pairs: list[tuple[str, str]]) -> Future[list[Score]]: ...

    def score(self, pairs: list[tuple[str, str]]) -> list[Score]: ...

    def close(self) -> None: ...


@dataclass
class BotServices:
    engine: Engine
    clock: Clock
    scorer: ReplyScorer
    queue: JobQueue

    def close(self) -> None:
        self.scorer.close()
        self.engine.dispose()


def load_services(settings: Settings, clock: Clock | None = None) -> BotServices:
    """Open the database and load the classifier once, for the bot's whole life."""
    from bot.commands.score import load_scorer
    from partner_model.empathy.scoring_thread import ScoringThread
    from storage.engine import make_engine

    clock = clock or SystemClock()
    engine = make_engine(settings.resolved_database_url)
    queue = JobQueue(engine, clock, settings.queue.retry_policy(), settings.queue.lease())
    return BotServices(engine=engine, clock=clock, scorer=ScoringThread(load_scorer), queue=queue)


def storage_defaults(settings: Settings) -> GuildDefaults:
    return GuildDefaults(**settings.guild_defaults.model_dump())


def bot_intents() -> discord.Intents:
    """Message content to read replies, members to know responders' roles (privileged: enable both in
    the developer portal, see the README)."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return intents


class PartnerBot(commands.AutoShardedBot):
    def __init__(self, settings: Settings, services: BotServices) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            activity=discord.CustomActivity(name=settings.bot.status_activity),
            shard_count=settings.bot.shard_count,
            shard_ids=settings.bot.shard_ids,
        )
        self.settings = settings
        self.services = services
        self.guild_defaults = storage_defaults(settings)

    async def setup_hook(self) -> None:
        from bot.cogs import delivery, empathy_commands, watch

        for module in (watch, delivery, empathy_commands):
            await module.setup(self)
        if self.settings.bot.sync_commands:
            await self.tree.sync()

    def now(self) -> datetime:
        return self.services.clock.now()

    async def db(self, work: Callable[..., T], *args: object) -> T:
        """Run `work(session, *args)` in one transaction on a worker thread: the event loop never
        waits on the database."""

        def run() -> T:
            with Session(self.services.engine, expire_on_commit=False) as session, session.begin():
                return work(session, *args)

        return await asyncio.to_thread(run)

    async def score(self, pairs: list[tuple[str, str]]) -> list[Score]:
        """The classifier off the event loop, in its own thread."""
        return await asyncio.wrap_future(self.services.scorer.submit(pairs))

    async def guild_config(self, guild_id: int) -> GuildConfig:
        return await self.db(guild_config, guild_id, self.guild_defaults)

    async def alert(self, guild_id: int, embed: discord.Embed) -> bool:
        """Tell the guild's moderators (alert channel); False when none is set or it is unreachable."""
        config = await self.guild_config(guild_id)
        if config.alert_channel_id is None:
            return False
        channel = self.get_channel(config.alert_channel_id)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("alert channel %s of guild %s is not reachable", config.alert_channel_id, guild_id)
            return False
        try:
            await channel.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            log.warning("could not alert guild %s: %s", guild_id, exc)
            return False
        return True


def create_bot(settings: Settings, services: BotServices) -> PartnerBot:
    return PartnerBot(settings, services)
