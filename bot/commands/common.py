"""Helpers every command shares: the stderr console, readable failures, settings and the engine."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.settings import Settings

# Everything for people goes to stderr; stdout is kept for results (and --json).
err = Console(stderr=True, soft_wrap=True)
# What `rewrite` and the demo say when every sampled sentence failed the filters.
NO_SUGGESTION = "no suggestion passed the safety filter and the voice check"


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


def safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
