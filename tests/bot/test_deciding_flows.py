"""Who gets a DM and who does not: safety, shadow mode, exempt roles, opt-out, caps and cooldowns."""

from __future__ import annotations

import pytest
from simcord.env import Env

from bot.app import BotServices
from storage.clock import ManualClock
from storage.models import Decision
from tests.bot.world import (
    CRISIS_POST,
    LOW_REPLY,
    OTHER_LOW_REPLY,
    SEEKER_POST,
    advance,
    build_world,
    dms,
    forum_post,
    replies,
    run_worker,
)
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True),
]


async def test_crisis_post_gets_no_dm_and_alerts_moderators_once(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "can't go on", CRISIS_POST)
    await world.responder.send(thread, LOW_REPLY)
    await world.listener.send(thread, OTHER_LOW_REPLY)

    assert [r.decision for r in replies(services)] == [Decision.SAFETY, Decision.SAFETY]
    assert run_worker(services) == 0
    await advance(simcord_env, clock, 5)
    assert dms(world, world.responder) == []
    alerts = [m for m in world.alerts.history() if m.embeds]
    assert [m.embeds[0].title for m in alerts] == ["Crisis signals in a seeker post"]
    assert str(thread.id) in alerts[0].embeds[0].description  # a link to the post, not its text
    assert "pills" not in alerts[0].embeds[0].description


async def test_harmful_reply_is_a_moderation_matter(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, "Nobody cares about you, just go kill yourself already.")

    [reply] = replies(services)
    assert reply.decision == Decision.SAFETY and reply.decision_reason.startswith("harmful")
    assert world.alerts.last_message.embeds[0].title == "A reply needs a moderator"


async def test_shadow_mode_scores_without_dms(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    world = await build_world(simcord_env, shadow=True)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)

    [reply] = replies(services)
    assert reply.decision == Decision.SHADOW and reply.total is not None
    assert run_worker(services) == 0
    await advance(simcord_env, clock, 5)
    assert dms(world, world.responder) == []


async def test_exempt_role_gets_no_dm(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.listener.send(thread, LOW_REPLY)
    assert [r.decision for r in replies(services)] == [Decision.EXEMPT]


async def test_opted_out_member_is_neither_scored_nor_stored(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    result = await world.responder.slash(world.text, "empathy optout")
    assert result.ephemeral and "opted out" in result.response.content
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)
    assert replies(services) == []

    await world.responder.slash(world.text, "empathy optin")
    await world.responder.send(thread, OTHER_LOW_REPLY)
    assert [r.decision for r in replies(services)] == [Decision.QUEUED]


async def test_one_dm_per_conversation_a_day_then_cooldown_then_daily_cap(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    threads = [await forum_post(simcord_env, world.forum, world.seeker, f"post {i}", SEEKER_POST) for i in range(5)]
    await world.responder.send(threads[0], LOW_REPLY)
    await world.responder.send(threads[0], OTHER_LOW_REPLY)  # same conversation, same day
    await world.responder.send(threads[1], LOW_REPLY)  # another conversation, inside the 60 min cooldown
    decisions = [(r.decision, r.decision_reason) for r in replies(services)]
    assert decisions[0][0] == Decision.QUEUED
    assert decisions[1][0] == Decision.CAPPED and "conversation" in decisions[1][1]
    assert decisions[2][0] == Decision.CAPPED and "cooldown" in decisions[2][1]

    for thread in threads[2:5]:
        await advance(simcord_env, clock, 61 * 60)
        await world.responder.send(thread, LOW_REPLY)
    latest = [(r.decision, r.decision_reason) for r in replies(services)][3:]
    assert [d for d, _ in latest] == [Decision.QUEUED, Decision.QUEUED, Decision.CAPPED]
    assert "daily cap of 3" in latest[2][1]

    await advance(simcord_env, clock, 24 * 3600)
    await world.responder.send(threads[4], OTHER_LOW_REPLY)  # a new day
    assert replies(services)[-1].decision == Decision.QUEUED
    run_worker(services)
    await advance(simcord_env, clock, 2)
    assert len(dms(world, world.responder)) == 4
