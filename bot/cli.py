"""`partner-bot`: the command line. Thin: each command imports what it needs when it runs,
so `partner-bot --help` stays instant."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.bench import bench
from bot.commands.common import state
from bot.commands.db import db_app
from bot.commands.models import models_app, retrain
from bot.commands.rewrite import rewrite
from bot.commands.run import demo, run
from bot.commands.scheduler import scheduler
from bot.commands.score import evaluate_app, score
from bot.commands.setup import setup
from bot.commands.train import train_app
from bot.commands.trends import trends
from bot.commands.worker import worker

app = typer.Typer(
    name="partner-bot",
    help="A Discord bot that helps peer supporters write more empathic replies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command()(setup)
app.command()(run)
app.command()(demo)
app.command()(score)
app.command()(rewrite)
app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.command()(worker)
app.command()(bench)
app.command()(scheduler)
app.command()(trends)
app.command()(retrain)
app.add_typer(models_app, name="models")
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="config file (default: $PARTNER_CONFIG, ./config.toml, the project's)."),
]


@app.callback()
def main_callback(
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging on stderr.")] = False,
) -> None:
    state.config = config
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Alembic announces every plugin and step at INFO; the commands print their own summary.
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
