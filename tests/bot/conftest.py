"""Bot tests: the real bot (create_bot) on SimCord, the real shipped classifier, a fresh migrated
database per test, and a ManualClock the tests move for caps, cooldowns and retries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.app import BotServices, PartnerBot, create_bot
from bot.settings import Settings, load_settings
from partner_model.empathy.scoring_thread import ScoringThread
from storage.clock import ManualClock
from storage.queue import JobQueue
from tests.conftest import migrated_database

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(scope="session")
def shipped_scorer(real_encoder_dir: Path) -> Iterator[ScoringThread]:
    """The shipped classifier in its own thread, as load_services gives it to the bot."""
    from bot.commands.score import load_scorer

    scorer = ScoringThread(load_scorer)
    yield scorer
    scorer.close()


@pytest.fixture
def bot_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """SQLite by default; modules whose flows are storage-heavy also run on PostgreSQL with
    `pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True)`."""
    yield from migrated_database(getattr(request, "param", "sqlite"), tmp_path)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# /empathy check waits this long for a worker; tests without one should not wait the default 30 s.
CHECK_WAIT_SECONDS = 3.0


@pytest.fixture
def bot_settings() -> Settings:
    settings = load_settings()
    return settings.model_copy(
        update={"bot": settings.bot.model_copy(update={"check_wait_seconds": CHECK_WAIT_SECONDS})}
    )


@pytest.fixture
def services(bot_engine: Engine, clock: ManualClock, shipped_scorer, bot_settings: Settings) -> BotServices:
    queue = JobQueue(bot_engine, clock, bot_settings.queue.retry_policy(), bot_settings.queue.lease())
    return BotServices(engine=bot_engine, clock=clock, scorer=shipped_scorer, queue=queue)


@pytest.fixture
def simcord_bot(bot_settings: Settings, services: BotServices) -> PartnerBot:
    return create_bot(bot_settings, services)
