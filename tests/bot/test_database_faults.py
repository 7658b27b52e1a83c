"""The database connection dropped and restored (PostgreSQL kills every session of the database):
the bot and the worker carry on with fresh connections, nothing is lost."""

from __future__ import annotations

import psycopg
import pytest
from simcord.env import Env
from sqlalchemy import Engine

from bot.app import BotServices
from storage.clock import ManualClock
from storage.models import Decision, DeliveryStatus
from tests.bot.world import (
    LOW_REPLY,
    OTHER_LOW_REPLY,
    SEEKER_POST,
    advance,
    build_world,
    deliveries,
    dms,
    replies,
    run_worker,
)
from tests.conftest import POSTGRES_ADMIN_URL

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", ["postgresql"], indirect=True),
]


def drop_connections(engine: Engine) -> int:
    """What a database restart or a network cut does to every open session."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (engine.url.database,),
        ).fetchall()
    return len(rows)


async def test_bot_and_worker_survive_a_dropped_database_connection(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.text, SEEKER_POST)
    await world.responder.send(world.text, LOW_REPLY, reply_to=post)
    assert drop_connections(services.engine) >= 1  # the pooled connections of bot and queue

    other = world.guild.add_member(simcord_env.create_user("other"))
    await other.send(world.text, OTHER_LOW_REPLY, reply_to=post)
    assert [r.decision for r in replies(services)] == [Decision.QUEUED, Decision.QUEUED]

    drop_connections(services.engine)
    assert run_worker(services) == 2
    drop_connections(services.engine)
    await advance(simcord_env, clock, 3)
    assert [d.status for d in deliveries(services)] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert len(dms(world, world.responder)) == 1 and len(dms(world, other)) == 1
