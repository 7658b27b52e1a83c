"""`partner-bot db ...`: Alembic migrations without an alembic.ini."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.common import engine, err, safe_url, settings

db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from storage import migrate

    eng = engine(settings())
    before = migrate.current_revision(eng)
    migrate.upgrade(eng, revision)
    err.print(f"upgraded {before or 'base'} -> {migrate.current_revision(eng) or 'base'}", highlight=False)


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="target revision: 'base' drops every table, -1 one step")] = "-1",
) -> None:
    """Revert migrations down to REVISION (default: one step back). Data in dropped tables is lost."""
    from storage import migrate

    eng = engine(settings())
    before = migrate.current_revision(eng)
    if before is None:
        err.print("nothing to downgrade: the database is at base")
        return
    migrate.downgrade(eng, revision)
    err.print(f"downgraded {before} -> {migrate.current_revision(eng) or 'base'}", highlight=False)


@db_app.command("current")
def db_current() -> None:
    """Print the database's revision and whether it is up to date."""
    from storage import migrate

    config = settings()
    eng = engine(config)
    current, head = migrate.current_revision(eng), migrate.head_revision(eng)
    state_text = "up to date" if current == head else f"behind (head is {head}): run `partner-bot db upgrade`"
    typer.echo(f"{current or 'base'} ({state_text})")
    err.print(f"database: {safe_url(config.resolved_database_url)}", highlight=False)
