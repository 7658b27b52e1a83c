"""Run the Alembic migrations programmatically, so `partner-bot db ...` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

import migrations
from storage.models import Base
from storage.types import UTCDateTime

SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    # env.py uses this engine rather than building its own from a URL string.
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write project column types in plain SQLAlchemy form, so migration files never import storage."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def differences_from_models(engine: Engine) -> list[Any]:
    """What autogenerate would change: empty when the migrated schema matches the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_item": render_item})
        return list(compare_metadata(context, Base.metadata))
