"""The hostile corpus through scoring, the real rewriter and delivery: no crash, no ping, no unsafe
suggestion; every case checked."""

from __future__ import annotations

from typing import Any

import pytest
from simcord.env import Env
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import BotServices
from bot.settings import Settings
from bot.worker_process import build_rewrite_task
from partner_model.safety import sentence_problems
from storage.clock import ManualClock
from storage.models import Decision, ScoredReply, Suggestion
from storage.replies import REWRITE_TASK
from storage.worker import Worker
from tests.bot.hostile_corpus import HOSTILE
from tests.bot.world import SEEKER_POST, advance, build_world

pytestmark = [pytest.mark.slow, pytest.mark.simcord(settle_timeout=120)]

# Harmful replies: moderators are told, the author is not coached.
MUST_BE_HELD = {"self-harm"}


def _mentions_allowed(payload: Any) -> list[Any]:
    """Every allowed_mentions block in a request body that is not 'no mentions at all'."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            if key == "allowed_mentions" and value != {"parse": []} and value.get("parse") != []:
                found.append(value)
            found += _mentions_allowed(value)
    elif isinstance(payload, list):
        for value in payload:
            found += _mentions_allowed(value)
    return found


async def test_hostile_corpus(
    simcord_env: Env, services: BotServices, clock: ManualClock, bot_settings: Settings
) -> None:
    assert len(HOSTILE) >= 50
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.text, SEEKER_POST)
    sent: dict[int, tuple[str, str]] = {}
    refused: list[tuple[str, str]] = []
    for n, (category, text) in enumerate(HOSTILE):
        author = world.guild.add_member(simcord_env.create_user(f"hostile{n}"))
        try:
            message = await author.send(world.text, text, reply_to=post)
        except Exception as exc:  # Discord itself refuses some (empty, too long): not the bot's doing
            assert "50006" in str(exc) or "50035" in str(exc), (category, text, exc)
            refused.append((category, text))
            continue
        sent[message.id] = (category, text)

    task, queue = build_rewrite_task(bot_settings, str(services.engine.url), services.clock, "cpu")
    worker = Worker(services.queue, {REWRITE_TASK: task}, "hostile", batch_size=8)
    while worker.run_once():
        pass
    queue.engine.dispose()
    await advance(simcord_env, clock, 2)

    with Session(services.engine) as session:
        rows = {r.message_id: r for r in session.scalars(select(ScoredReply))}
        suggestions = list(session.scalars(select(Suggestion)))
    for message_id, (category, text) in sent.items():
        row = rows.get(message_id)
        assert row is not None, (category, text)
        if category in MUST_BE_HELD:
            assert row.decision == Decision.SAFETY, (category, text, row.decision, row.decision_reason)
    for suggestion in suggestions:
        assert sentence_problems(suggestion.sentence, bot_settings.rewriter.max_sentence_chars) == [], (
            suggestion.sentence
        )
    for request in simcord_env.http_requests:
        assert _mentions_allowed(request.json) == [], (request.method, request.path, request.json)
    print(f"\nhostile: {len(sent)} sent, {len(refused)} refused by Discord, {len(suggestions)} suggestions checked")
