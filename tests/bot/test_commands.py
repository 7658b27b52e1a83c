"""/empathy commands and the "Check empathy" menu, as members and moderators use them."""

from __future__ import annotations

import threading

import pytest
from simcord.env import Env
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.app import BotServices
from bot.check_task import CheckTask
from bot.rewrite_task import RewriteTask
from storage.checks import CHECK_TASK
from storage.clock import ManualClock
from storage.models import Feedback, Job, MemberPreference, ScoredReply, TrendRollup
from storage.queue import JobWaiter
from storage.worker import Worker
from tests.bot.test_rewrite_task import ScriptedRewriter
from tests.bot.world import LOW_REPLY, SEEKER_POST, build_world, forum_post, replies, suggestion_dm
from tests.conftest import BACKENDS

pytestmark = [
    pytest.mark.simcord(settle_timeout=60),
    pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True),
]


async def test_members_cannot_run_moderator_commands(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    for command in ("empathy setup", "empathy trends", "empathy status"):
        result = await world.responder.slash(world.text, command)
        assert result.ephemeral and "Only moderators" in result.response.content, command
    result = await world.responder.slash(world.text, "empathy setup", shadow=True)
    assert "Only moderators" in result.response.content


async def test_the_moderator_role_may_run_setup(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    helpers = world.guild.create_role("Helpers")
    await world.moderator.slash(world.text, "empathy setup", moderator_role=helpers)
    helper = world.guild.add_member(simcord_env.create_user("helper"), roles=[helpers])
    result = await helper.slash(world.text, "empathy setup", threshold=2, watch=world.text, channel_threshold=0)
    description = result.response.embeds[0].description
    assert "total ≤ 2 of 6" in description and "(threshold 0)" in description


async def test_status_and_notice(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    result = await world.moderator.slash(world.text, "empathy setup", post_notice=True)
    assert "Notice posted in 1 channel(s)" in result.response.embeds[0].description
    assert "About partner-bot in this channel" in world.text.last_message.content
    status = await world.moderator.slash(world.text, "empathy status")
    text = status.response.embeds[0].description
    assert "Queue: 0 waiting" in text and "Classifier: classifier-" in text and "shipped adapter" in text


async def test_trends_chart_for_moderators(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    world = await build_world(simcord_env)
    empty = await world.moderator.slash(world.text, "empathy trends")
    assert "No replies scored yet" in empty.response.content
    await suggestion_dm(world, services, clock)
    result = await world.moderator.slash(world.text, "empathy trends")
    assert result.ephemeral
    [attachment] = result.response.attachments
    assert attachment.filename == "empathy-trends.png"
    assert "1 replies scored" in result.response.content


async def test_my_data_and_forget_me(simcord_env: Env, services: BotServices, clock: ManualClock) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    await world.responder.user.click(dm, label="Use 1")
    mine = await world.responder.slash(world.text, "empathy my-data")
    assert mine.ephemeral and "Your replies scored: 1" in mine.response.content

    result = await world.responder.slash(world.text, "empathy forget-me")
    assert "Deleted: 1 scored replies" in result.response.content and "1 button clicks" in result.response.content
    with Session(services.engine) as session:
        assert session.scalar(select(func.count()).select_from(ScoredReply)) == 0
        assert session.scalar(select(func.count()).select_from(Feedback)) == 0
        assert session.get(MemberPreference, world.responder.id) is None
        # Trends hold no member ids and survive the deletion.
        assert session.scalar(select(TrendRollup.replies_scored)) == 1


async def test_seeker_forget_me_removes_replies_to_their_posts(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    thread = await forum_post(simcord_env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, LOW_REPLY)
    await world.seeker.slash(world.text, "empathy forget-me")
    assert replies(services) == []


async def test_check_modal_scores_a_draft_and_suggests_without_storing_it(
    simcord_env: Env, services: BotServices
) -> None:
    world = await build_world(simcord_env)
    task = RewriteTask(services.engine, services.clock, lambda _path: ScriptedRewriter("test"), 3)
    worker = Worker(services.queue, {CHECK_TASK: CheckTask(task)}, "check-worker", batch_size=4)
    waiter = JobWaiter(services.engine, 0.05)
    thread = threading.Thread(target=worker.run, args=(waiter,), daemon=True)
    thread.start()
    try:
        shown = await world.responder.slash(world.text, "empathy check")
        result = await world.responder.submit_modal(
            shown, {"partner:check:seeker": SEEKER_POST, "partner:check:draft": LOW_REPLY}
        )
    finally:
        worker.stop()
        thread.join(timeout=30)
        waiter.close()
    embed = result.response.embeds[0]
    assert result.ephemeral and "Total: 0/6" in embed.description and "Emotional reactions" in embed.description
    assert [f.name for f in embed.fields][:2] == ["1 · Insert as sentence 1", "2 · Insert as sentence 1"]
    assert "That sounds hard (0)." in embed.fields[0].value
    assert replies(services) == []
    with Session(services.engine) as session:  # the draft went to the worker in a job, and is gone
        assert session.scalar(select(func.count()).select_from(Job)) == 0


async def test_check_empathy_menu_on_ones_own_reply(simcord_env: Env, services: BotServices) -> None:
    world = await build_world(simcord_env)
    post = await world.seeker.send(world.alerts, SEEKER_POST)  # an unwatched channel: nothing stored
    mine = await world.responder.send(world.alerts, LOW_REPLY, reply_to=post)
    result = await world.responder.context_menu(world.alerts, "Check empathy", mine)
    assert "Total: 0/6" in result.response.embeds[0].description
    other = await world.seeker.context_menu(world.alerts, "Check empathy", mine)
    assert "your own messages" in other.response.content
