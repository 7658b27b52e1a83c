"""Pairing in text channels, skip rules, edits, deletions, hostile messages, leaving a guild."""

from __future__ import annotations

import pytest
from simcord.env import Env
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import BotServices
from storage.clock import ManualClock
from storage.models import Decision, DeliveryStatus, GuildSettings, Job, JobStatus, ScoredReply
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
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True),
]


async def test_text_channel_reply_pairs_with_the_message_it_answers(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.text, SEEKER_POST)
    await world.responder.send(world.text, LOW_REPLY)  # not a reply: ignored
    await world.responder.send(world.text, LOW_REPLY, reply_to=post)
    await world.seeker.send(world.text, "Thanks, I will think about it.", reply_to=post)  # self reply

    first, second = replies(services)
    assert (first.seeker_message_id, first.decision, first.thread_id) == (post.id, Decision.QUEUED, None)
    assert second.decision == Decision.SKIPPED and second.decision_reason == "self reply"
    assert second.response_text is None  # skipped replies keep no text
    run_worker(services)
    await advance(simcord_env, clock, 2)
    assert len(dms(world, world.responder)) == 1


async def test_unjudgeable_replies_are_skipped_with_a_reason(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, "ok")
    await world.responder.send(thread, "Je suis vraiment désolé, c'est très difficile pour toi.")
    await world.responder.send(thread, "", attachments=[("hug.png", b"\x89PNG fake image")])
    reasons = [r.decision_reason for r in replies(services)]
    assert reasons == ["fewer than 3 words (1)", "not English (fr)", "no text (attachments or embeds only)"]
    assert {r.decision for r in replies(services)} == {Decision.SKIPPED}


async def test_edited_reply_is_rescored_without_a_second_dm(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    reply_message = await world.responder.send(thread, LOW_REPLY)
    run_worker(services)
    await advance(simcord_env, clock, 2)
    before = replies(services)[0].total

    await world.responder.edit(reply_message, EMPATHIC_REPLY)
    [reply] = replies(services)
    assert reply.total > before and reply.response_text == EMPATHIC_REPLY
    assert reply.decision == Decision.QUEUED  # the decision stands
    assert run_worker(services) == 0
    await advance(simcord_env, clock, 60)
    assert len(dms(world, world.responder)) == 1


async def test_deleted_seeker_post_purges_texts_and_cancels_the_pending_dm(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.text, SEEKER_POST)
    await world.responder.send(world.text, LOW_REPLY, reply_to=post)
    run_worker(services)  # suggestions ready, DM pending
    await world.seeker.delete(post)

    [reply] = replies(services)
    assert reply.seeker_text is None and reply.response_text is None
    assert reply.decision == Decision.CANCELLED
    await advance(simcord_env, clock, 5)
    assert [d.status for d in deliveries(services)] == [DeliveryStatus.CANCELLED]
    assert dms(world, world.responder) == []


async def test_deleted_reply_before_the_worker_cancels_its_job(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.text, SEEKER_POST)
    reply_message = await world.responder.send(world.text, LOW_REPLY, reply_to=post)
    await world.responder.delete(reply_message)
    with Session(services.engine) as session:
        assert session.scalars(select(Job.status)).all() == [JobStatus.CANCELLED]
    assert run_worker(services) == 0


@pytest.mark.parametrize(
    "content",
    [
        "@everyone @here " + LOW_REPLY,
        ("Just go out more. " * 120)[:2000],  # the longest SimCord accepts (Discord: 2,000; 4,000 with Nitro)
        "```python\nwhile True: print('go out more')\n```",
        "\u202eJust go out more and join a club.\u202c",
        "J\u0336u\u0336s\u0336t\u0336 go out more and join a club " + "\u0301" * 50,
    ],
)
async def test_hostile_messages_cause_no_crash_and_no_ping(
    simcord_env: Env, services: BotServices, clock: ManualClock, content: str
) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, content)
    run_worker(services)
    await advance(simcord_env, clock, 2)

    [reply] = replies(services)
    assert reply.decision in {Decision.QUEUED, Decision.SKIPPED, Decision.ABOVE_THRESHOLD}
    for request in simcord_env.http_requests:
        if request.method == "POST" and isinstance(request.json, dict) and "content" in request.json:
            assert request.json.get("allowed_mentions", {}).get("parse") == [], request.json


async def test_leaving_a_guild_purges_its_data(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)
    await simcord_env.bot.get_guild(world.guild.id).leave()
    await simcord_env.settle()
    with Session(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(ScoredReply)) == 0
        assert session.scalar(select(func.count()).select_from(GuildSettings)) == 0
