"""Clicks on the suggestion DM: every click is a row; buttons survive a restart and only work for
the member the DM was for."""

from __future__ import annotations

import pytest
from simcord.backend.errors import SetupError
from simcord.env import Env
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import BotServices, create_bot
from bot.settings import Settings
from partner_model.safety import sentence_key
from storage.clock import ManualClock
from storage.members import is_opted_out
from storage.models import BlockedSentence, FeedbackAction
from tests.bot.world import build_world, dms, feedback_rows, suggestion_dm
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True),
]


async def test_use_records_acceptance_and_returns_the_text(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    result = await world.responder.user.click(dm, label="Use 2")

    assert "How are you holding up?" in result.response.content
    [row] = feedback_rows(services)
    assert row.action == FeedbackAction.ACCEPT and row.user_id == world.responder.id


async def test_edit_modal_is_prefilled_and_stores_the_edited_text(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    shown = await world.responder.user.click(dm, label="Edit 1")
    [row] = shown.modal["components"]
    assert row["components"][0]["value"].startswith("That sounds so lonely.")

    await world.responder.user.submit_modal(
        shown, {"partner:edit:text": "That sounds lonely, I'm sorry. Clubs helped me."}
    )
    [feedback] = feedback_rows(services)
    assert feedback.action == FeedbackAction.EDIT
    assert feedback.edited_text == "That sounds lonely, I'm sorry. Clubs helped me."


async def test_not_helpful_and_stop(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    await world.responder.user.click(dm, label="Not helpful")
    result = await world.responder.user.click(dm, label="Stop suggestions")

    assert "no more suggestions" in result.response.content
    assert [f.action for f in feedback_rows(services)] == [FeedbackAction.REJECT, FeedbackAction.STOP]
    with Session(services.engine) as session:
        assert is_opted_out(session, world.responder.id)


async def test_flag_reaches_the_alert_channel_and_blocks_the_sentence(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    shown = await world.responder.user.click(dm, label="Flag 1")
    await world.responder.user.submit_modal(shown, {"partner:flag:reason": "sounds fake"})

    alert = world.alerts.last_message
    assert alert.embeds[0].title == "A suggestion was flagged"
    assert "That sounds so lonely." in alert.embeds[0].description and "sounds fake" in alert.embeds[0].description
    with Session(services.engine) as session:
        keys = set(session.scalars(select(BlockedSentence.sentence_key)))
    assert sentence_key("That sounds so lonely.") in keys
    assert feedback_rows(services)[0].flag_reason == "sounds fake"


async def test_buttons_work_after_a_restart(
    simcord_env: Env, services: BotServices, clock: ManualClock, bot_settings: Settings
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    await simcord_env.restart_bot(create_bot(bot_settings, services))

    result = await world.responder.user.click(dm, label="Use 1")
    assert "That sounds so lonely." in result.response.content
    assert [f.action for f in feedback_rows(services)] == [FeedbackAction.ACCEPT]
    assert len(dms(world, world.responder)) == 1  # the restart sent nothing again


async def test_another_member_cannot_use_the_buttons(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    # The DM is private: no other member can even reach its buttons (the bot checks the clicker too).
    with pytest.raises(SetupError, match="restricted to this user's DM channel"):
        await world.seeker.user.click(dm, label="Use 1")
    assert feedback_rows(services) == []
