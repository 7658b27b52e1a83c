"""`partner-bot run` (the bot with its worker child) and `partner-bot demo` (the offline replay)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import NO_SUGGESTION, err, fail, settings

log = logging.getLogger(__name__)

NO_TOKEN = (
    "no Discord token: set PARTNER_DISCORD_TOKEN (or a file partner_discord_token in the secrets directory). "
    "To see the bot work without one, run `partner-bot demo`."
)


def run() -> None:
    """Run the bot, with the rewrite worker as a child process at lower priority (SQLite by default)."""
    import discord

    from bot.app import create_bot, load_services
    from bot.commands.common import state
    from bot.scheduler import Scheduler, triggers
    from bot.worker_process import spawn_worker_child, stop_worker_child
    from partner_model.base_models import BaseModelError, encoder_path, lm_path
    from storage import migrate

    config = settings()
    if config.discord_token is None or not config.discord_token.get_secret_value().strip():
        fail(NO_TOKEN)
    try:
        encoder_path(config.models.encoder_dir)
        lm_path(config.models.lm_dir)
    except BaseModelError as exc:
        fail(str(exc))
    services = load_services(config)
    migrate.upgrade(services.engine)
    child = spawn_worker_child(state.config)
    log.info("worker child started (pid %s)", child.pid)
    scheduler = Scheduler(services.queue, services.clock, triggers(config.schedule))
    scheduler.start()
    bot = create_bot(config, services)
    try:
        bot.run(config.discord_token.get_secret_value(), log_handler=None)
    except discord.LoginFailure:
        fail("Discord refused the token: check PARTNER_DISCORD_TOKEN (Bot tab of the developer portal).")
    finally:
        scheduler.shutdown()
        stop_worker_child(child)
        services.close()


def demo(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="replay this EPITOME-format CSV instead of the demo's own exchanges.", exists=True),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="replay at most this many exchanges.")] = 8,
) -> None:
    """Replay support exchanges through the whole pipeline on a simulated Discord server, offline:
    the real classifier and rewriter, the real bot, a throwaway database."""
    from bot.app import BotServices
    from bot.commands.score import load_scorer
    from bot.demo import DemoLine, replay, summary
    from bot.worker_process import build_rewrite_task
    from partner_model.base_models import BaseModelError
    from partner_model.empathy.scoring_thread import ScoringThread
    from partner_model.samples import SAMPLE_EXCHANGES
    from storage import migrate
    from storage.clock import SystemClock
    from storage.engine import make_engine
    from storage.replies import REWRITE_TASK
    from storage.worker import Worker

    config = settings()
    if data is not None:
        from partner_model.empathy.data import DataFormatError, read_epitome_csv

        try:
            exchanges = [(row.seeker, row.response) for row in read_epitome_csv(data)][:limit]
        except DataFormatError as exc:
            fail(str(exc))
    else:
        exchanges = SAMPLE_EXCHANGES[:limit]
    if not exchanges:
        fail(f"{data} has no rows")
    clock = SystemClock()
    with tempfile.TemporaryDirectory(prefix="partner-demo-") as folder:
        url = f"sqlite:///{Path(folder) / 'demo.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        err.print("loading the classifier and the rewriter ...")
        try:
            task, queue = build_rewrite_task(config, url, clock, config.queue.device)
            services = BotServices(engine=engine, clock=clock, scorer=ScoringThread(load_scorer), queue=queue)
        except BaseModelError as exc:
            fail(str(exc))
        worker = Worker(queue, {REWRITE_TASK: task}, "demo-worker", batch_size=config.queue.batch_size)

        def show(line: DemoLine) -> None:
            typer.echo("=" * 78)
            typer.echo(f"Seeker:    {line.seeker}")
            typer.echo(f"Supporter: {line.response}")
            if line.levels is not None:
                levels = ", ".join(f"{m} {v}" for m, v in line.levels.items())
                typer.echo(f"Scores:    {levels} (total {sum(line.levels.values())}/6)")
            typer.echo(f"Decision:  {line.decision}: {line.reason}")
            if line.dm:
                typer.echo("--- DM to the supporter " + "-" * 54)
                typer.echo(line.dm)
                typer.echo(f"--- the supporter clicks 'Use 1' -> {line.click}")
            elif line.decision == "queued":
                typer.echo(f"--- no DM: {NO_SUGGESTION}")

        counts = asyncio.run(replay(config, services, worker, exchanges, show))
        services.close()
        queue.engine.dispose()
    typer.echo("=" * 78)
    typer.echo(summary(counts, len(exchanges)))
