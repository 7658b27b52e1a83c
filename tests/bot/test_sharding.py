"""A sharded bot (AutoShardedBot with the configured shard count) serves guilds on every shard."""

from __future__ import annotations

import pytest
from simcord.env import Env

from bot.app import BotServices
from bot.settings import Settings, load_settings
from storage.clock import ManualClock
from storage.models import Decision
from tests.bot.world import LOW_REPLY, SEEKER_POST, advance, dms, replies, run_worker

pytestmark = pytest.mark.simcord(settle_timeout=60)


@pytest.fixture
def bot_settings() -> Settings:
    settings = load_settings()
    return settings.model_copy(update={"bot": settings.bot.model_copy(update={"shard_count": 2})})


async def test_guilds_on_both_shards_are_watched(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    import discord

    assert simcord_env.bot.shard_count == 2
    for shard in (0, 1):
        guild = simcord_env.create_guild(name=f"shard {shard}", shard_id=shard)
        channel = guild.create_text_channel("support")
        mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
        moderator = guild.add_member(simcord_env.create_user(f"mod{shard}"), roles=[mods])
        seeker = guild.add_member(simcord_env.create_user(f"seeker{shard}"))
        responder = guild.add_member(simcord_env.create_user(f"responder{shard}"))
        await moderator.slash(channel, "empathy setup", watch=channel)
        post = await seeker.send(channel, SEEKER_POST)
        await responder.send(channel, LOW_REPLY, reply_to=post)
        run_worker(services)
        await advance(simcord_env, clock, 2)
        assert len(dms(None, responder)) == 1
    assert [r.decision for r in replies(services)] == [Decision.QUEUED, Decision.QUEUED]
    assert {simcord_env.bot.get_guild(g.guild_id).shard_id for g in replies(services)} == {0, 1}
