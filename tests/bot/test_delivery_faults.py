"""Delivery when Discord says no: closed DMs are recorded once; 5xx is retried with backoff; a DM is
never sent twice."""

from __future__ import annotations

import pytest
from simcord.env import Env

from bot.app import BotServices, create_bot
from bot.settings import Settings
from storage.clock import ManualClock
from storage.models import DeliveryStatus
from tests.bot.world import LOW_REPLY, SEEKER_POST, advance, build_world, deliveries, dms, forum_post, run_worker
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True),
]


async def _queued_reply(world, services: BotServices) -> None:
    thread = await forum_post(world.env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)
    assert run_worker(services) == 1


async def test_closed_dms_are_recorded_once_and_not_retried(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    await _queued_reply(world, services)
    simcord_env.inject_error(
        "POST", "/channels/*/messages", status=403, code=50007, message="Cannot send messages to this user", times=None
    )
    await advance(simcord_env, clock, 2)
    await advance(simcord_env, clock, 3600)

    [delivery] = deliveries(services)
    assert delivery.status == DeliveryStatus.DM_CLOSED and delivery.attempts == 1
    assert "50007" in delivery.last_error
    sends = [r for r in simcord_env.http_requests if r.method == "POST" and r.path.endswith("/messages")]
    assert len(sends) == 1


async def test_server_error_is_retried_with_backoff_and_sent_once(
    simcord_env: Env, services: BotServices, clock: ManualClock, bot_settings: Settings
) -> None:
    world = await build_world(simcord_env)
    await _queued_reply(world, services)
    simcord_env.inject_error("POST", "/channels/*/messages", status=500, times=1)
    await advance(simcord_env, clock, 2)
    [delivery] = deliveries(services)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert dms(world, world.responder) == []

    await advance(simcord_env, clock, 1)  # before the backoff ends: nothing
    assert deliveries(services)[0].attempts == 1
    await advance(simcord_env, clock, bot_settings.bot.delivery_retry_base_seconds)
    [delivery] = deliveries(services)
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2
    assert len(dms(world, world.responder)) == 1


async def test_pending_dm_goes_out_once_after_a_restart(
    simcord_env: Env, services: BotServices, clock: ManualClock, bot_settings: Settings
) -> None:
    world = await build_world(simcord_env)
    await _queued_reply(world, services)
    await simcord_env.restart_bot(create_bot(bot_settings, services))
    await advance(simcord_env, clock, 2)
    await simcord_env.restart_bot(create_bot(bot_settings, services))
    await advance(simcord_env, clock, 2)
    assert len(dms(world, world.responder)) == 1
    assert [d.status for d in deliveries(services)] == [DeliveryStatus.SENT]


async def test_rate_limited_send_is_retried_and_sent_once(
    simcord_env: Env, services: BotServices, clock: ManualClock, bot_settings: Settings
) -> None:
    world = await build_world(simcord_env)
    await _queued_reply(world, services)
    simcord_env.inject_error("POST", "/channels/*/messages", status=429, message="You are being rate limited.", times=1)
    await advance(simcord_env, clock, 2)
    await advance(simcord_env, clock, bot_settings.bot.delivery_retry_base_seconds + 1)
    [delivery] = deliveries(services)
    assert delivery.status == DeliveryStatus.SENT
    assert len(dms(world, world.responder)) == 1
