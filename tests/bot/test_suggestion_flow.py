"""The main flow on SimCord: a low-empathy reply leads to exactly one private DM with buttons."""

from __future__ import annotations

import pytest
from simcord.env import Env

from bot.app import BotServices
from storage.clock import ManualClock
from storage.models import Decision, DeliveryStatus
from tests.bot.world import (
    EMPATHIC_REPLY,
    LOW_REPLY,
    SEEKER_POST,
    advance,
    build_world,
    deliveries,
    dms,
    forum_post,
    replies,
    run_worker,
)

pytestmark = pytest.mark.simcord(settle_timeout=60)


async def test_low_empathy_forum_reply_gets_one_dm_with_buttons(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)

    [reply] = replies(services)
    assert reply.decision == Decision.QUEUED and reply.total <= 1
    assert reply.thread_id == thread.id and reply.channel_id == world.forum.id
    assert run_worker(services) == 1
    await advance(simcord_env, clock, 2)

    [dm] = dms(world, world.responder)
    assert "partner-bot" in dm.content  # the first DM introduces the bot and how to stop it
    assert "Stop suggestions" in dm.content
    embed = dm.embeds[0]
    assert "Emotional reactions" in embed.description
    assert [f.name for f in embed.fields] == ["1 · Insert as sentence 1", "2 · Insert as sentence 2"]
    labels = [c.label for row in dm.components for c in row.children]
    assert labels == ["Use 1", "Use 2", "Edit 1", "Edit 2", "Flag 1", "Flag 2", "Not helpful", "Stop suggestions"]
    assert [d.status for d in deliveries(services)] == [DeliveryStatus.SENT]
    # Nothing is posted in the channel; the reply stays the member's own.
    assert [m.content for m in thread.history()] == [SEEKER_POST, LOW_REPLY]

    await advance(simcord_env, clock, 30)
    assert len(dms(world, world.responder)) == 1


async def test_empathic_reply_gets_no_dm(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, EMPATHIC_REPLY)

    [reply] = replies(services)
    assert reply.decision == Decision.ABOVE_THRESHOLD and reply.total > 1
    assert run_worker(services) == 0
    await advance(simcord_env, clock, 5)
    assert dms(world, world.responder) == []
