"""`partner-bot retrain` and `partner-bot models list|promote|rollback`: rewriter versions."""

from __future__ import annotations

import shlex
import sys
from typing import Annotated

import typer

from bot.commands.common import engine, err, fail, settings

models_app = typer.Typer(help="Rewriter versions: list, promote a candidate, roll back.", no_args_is_help=True)


def retrain(
    as_json: Annotated[bool, typer.Option("--json", help="print the round's result as JSON on stdout.")] = False,
) -> None:
    """One feedback retraining round now: fine-tune the active rewriter on feedback since it was promoted
    (opted-in guilds only), evaluate it against the active version, promote it only if it is not worse."""
    import json
    from dataclasses import asdict

    from bot.retraining import run_round
    from storage.clock import SystemClock

    config = settings()
    result = run_round(config, engine(config), SystemClock(), "partner-bot " + shlex.join(sys.argv[1:]))
    if as_json:
        typer.echo(json.dumps(asdict(result), default=str))
    else:
        err.print(f"retrain: {result.status}: {result.reason}", highlight=False)


@models_app.command("list")
def list_command() -> None:
    """Every rewriter version with its status, parent and figures."""
    from sqlalchemy.orm import Session

    from storage.model_versions import list_versions
    from storage.models import ModelKind

    config = settings()
    with Session(engine(config)) as session:
        rows = list_versions(session, ModelKind.REWRITER)
    if not rows:
        typer.echo("no trained versions yet: workers use the shipped adapter")
        return
    for row in rows:
        candidate = row.metrics.get("candidate", {})
        figures = (
            f"empathy change {candidate['empathy_change']:+.3f}, perplexity {candidate['perplexity']:.1f}"
            if candidate
            else ""
        )
        typer.echo(
            f"{row.version:<28} {row.status:<9} parent {row.parent_version or 'shipped':<28} "
            f"{row.data_counts.get('examples', 0):>4} examples  {figures}"
        )


@models_app.command("promote")
def promote_command(version: Annotated[str, typer.Argument(help="the version to make active.")]) -> None:
    """Make a version active (workers switch to it at their next batch, without a restart)."""
    from sqlalchemy.orm import Session

    from storage.clock import SystemClock
    from storage.model_versions import VersionError, promote
    from storage.models import ModelKind

    config = settings()
    try:
        with Session(engine(config)) as session, session.begin():
            promote(session, ModelKind.REWRITER, version, SystemClock().now())
    except VersionError as exc:
        fail(str(exc))
    err.print(f"{version} is active")


@models_app.command("rollback")
def rollback_command() -> None:
    """Retire the active version and return to its parent (or to the shipped adapter)."""
    from sqlalchemy.orm import Session

    from storage.clock import SystemClock
    from storage.model_versions import VersionError, rollback
    from storage.models import ModelKind

    config = settings()
    try:
        with Session(engine(config)) as session, session.begin():
            parent = rollback(session, ModelKind.REWRITER, SystemClock().now())
            name = parent.version if parent else "the shipped adapter"
    except VersionError as exc:
        fail(str(exc))
    err.print(f"rolled back: {name} is in use")
