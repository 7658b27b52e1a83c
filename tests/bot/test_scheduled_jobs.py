"""Scheduled work: several schedulers queue each due job once; the retention purge leaves no text of a
member behind; the weekly digest reaches the moderators once; the trends export."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger
from simcord.env import Env
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import BotServices
from bot.demo import open_forum_post
from bot.maintenance_tasks import RetentionPurge, WeeklyDigests
from bot.scheduler import DIGEST_TASK, REAPER_TASK, RETENTION_TASK, Scheduler, scheduled_time
from storage.clock import ManualClock, SystemClock
from storage.models import Feedback, Job, ScoredReply, Suggestion
from storage.queue import JobQueue
from storage.worker import Worker
from tests.bot.world import EMPATHIC_REPLY, SEEKER_POST, advance, build_world, replies, suggestion_dm
from tests.conftest import BACKENDS


@pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True)
def test_two_schedulers_queue_each_due_job_once(bot_engine: Engine) -> None:
    every_second = {REAPER_TASK: CronTrigger(second="*", timezone=UTC)}
    schedulers = [Scheduler(JobQueue(bot_engine, SystemClock()), SystemClock(), every_second) for _ in range(2)]
    started = time.monotonic()
    for scheduler in schedulers:
        scheduler.start()
    time.sleep(3.5)
    for scheduler in schedulers:
        scheduler.shutdown()
    elapsed = time.monotonic() - started
    with Session(bot_engine) as session:
        keys = list(session.scalars(select(Job.unique_key).where(Job.task == REAPER_TASK)))
    assert 2 <= len(keys) <= elapsed + 1  # one job per second fired, not one per scheduler
    assert len(set(keys)) == len(keys)


def test_a_late_trigger_maps_back_to_its_scheduled_time() -> None:
    daily = CronTrigger.from_crontab("30 3 * * *", timezone=UTC)
    on_time = scheduled_time(daily, datetime(2026, 3, 2, 3, 30, 0, 200_000, tzinfo=UTC))
    late = scheduled_time(daily, datetime(2026, 3, 2, 3, 30, 40, tzinfo=UTC))
    assert on_time == late == datetime(2026, 3, 2, 3, 30, tzinfo=UTC)


@pytest.mark.simcord(settle_timeout=60)
@pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True)
async def test_retention_purge_leaves_no_text_of_the_member(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    dm = await suggestion_dm(world, services, clock)
    shown = await world.responder.user.click(dm, label="Edit 1")
    await world.responder.user.submit_modal(shown, {"partner:edit:text": "My own kinder words."})

    scheduler = Scheduler(services.queue, clock, {RETENTION_TASK: CronTrigger.from_crontab("30 3 * * *")})
    clock.advance(timedelta(days=29))
    scheduler.enqueue_due(RETENTION_TASK)
    worker = Worker(services.queue, {RETENTION_TASK: RetentionPurge(clock)}, "w", batch_size=4)
    assert worker.run_once() == 1
    with Session(services.engine) as session:
        assert session.scalar(select(ScoredReply.response_text)) is not None  # 29 days: kept

    clock.advance(timedelta(days=2))
    scheduler.enqueue_due(RETENTION_TASK)
    assert worker.run_once() == 1
    with Session(services.engine) as session:
        reply = session.scalars(select(ScoredReply)).one()
        assert (reply.response_text, reply.seeker_text) == (None, None)
        assert reply.total is not None  # scores stay for the trends
        assert {s.new_response for s in session.scalars(select(Suggestion))} == {""}
        assert [f.edited_text for f in session.scalars(select(Feedback))] == [None]


def _digests(world) -> list:
    return [m for m in world.alerts.history() if m.embeds and m.embeds[0].title.startswith("Weekly empathy digest")]


@pytest.mark.simcord(settle_timeout=60)
@pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True)
async def test_the_weekly_digest_reaches_the_alert_channel_once_and_names_nobody(
    simcord_env: Env, services: BotServices, clock: ManualClock
) -> None:
    world = await build_world(simcord_env)
    await suggestion_dm(world, services, clock)
    thread = await open_forum_post(world.env, world.forum, world.seeker, "weekends", SEEKER_POST)
    await world.listener.send(thread, EMPATHIC_REPLY)
    await advance(world.env, clock, 2)
    scored = [r for r in replies(services) if r.total is not None]
    weekly = {DIGEST_TASK: CronTrigger.from_crontab("0 9 * * mon", timezone=UTC)}
    workers = Worker(services.queue, {DIGEST_TASK: WeeklyDigests(clock)}, "w", batch_size=4)

    clock.advance(timedelta(days=7))
    for scheduler in (Scheduler(services.queue, clock, weekly), Scheduler(services.queue, clock, weekly)):
        scheduler.enqueue_due(DIGEST_TASK)
    assert workers.run_once() == 1  # two schedulers, one job
    clock.advance(timedelta(hours=2))
    Scheduler(services.queue, clock, weekly).enqueue_due(DIGEST_TASK)  # run again by hand the same week
    assert workers.run_once() == 1
    await advance(world.env, clock, 2)

    posted = _digests(world)
    assert len(posted) == 1
    embed = posted[0].embeds[0]
    text = " ".join([embed.title, embed.description] + [f.value for f in embed.fields])
    mean = sum(r.total for r in scored) / len(scored)
    assert f"Replies scored: {len(scored)}" in embed.description and f"Mean empathy (0-6): {mean:.1f}" in text
    assert "Suggestions sent: 1" in text and f"<#{world.forum.id}>" in text
    for member in (world.seeker, world.responder, world.listener):
        assert str(member.user.id) not in text and member.user.name not in text
    assert "club" not in text and "lonely" not in text

    await world.moderator.slash(world.text, "empathy setup", weekly_digest=False)
    await suggestion_dm(world, services, clock)
    clock.advance(timedelta(days=7))
    Scheduler(services.queue, clock, weekly).enqueue_due(DIGEST_TASK)
    assert workers.run_once() == 1
    await advance(world.env, clock, 2)
    assert len(_digests(world)) == 1  # switched off: nothing new


def test_trends_export_writes_csv_and_png(tmp_path: Path) -> None:
    from storage import migrate
    from storage.engine import make_engine
    from storage.trends import add_to_rollup

    url = f"sqlite:///{tmp_path / 'trends.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        for week in range(3):
            moment = datetime(2026, 3, 2, tzinfo=UTC) + timedelta(weeks=week)
            add_to_rollup(session, 7, 70, moment, "UTC", scored=10, levels={"ER": 5 + week, "IP": 2, "EX": 3}, low=4)
            add_to_rollup(session, 7, 70, moment, "UTC", sent=3, accepted=week)
    engine.dispose()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "trends",
            "--guild",
            "7",
            "--since",
            "2026-03-09",
            "--csv",
            str(tmp_path / "t.csv"),
            "--png",
            str(tmp_path / "t.png"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PARTNER_DATABASE_URL": url},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "t.csv").open()))
    assert [r["week_start"] for r in rows] == ["2026-03-09", "2026-03-16"]
    assert float(rows[0]["mean_er"]) == pytest.approx(0.6) and float(rows[0]["low_share"]) == pytest.approx(0.4)
    assert "user_id" not in rows[0] and "responder_id" not in rows[0]
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
