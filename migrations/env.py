"""Alembic environment: one metadata (storage.models), batch mode so SQLite can alter tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from storage.migrate import render_item
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: run migrations through `partner-bot db upgrade`")
    return create_engine(url)


def run_migrations() -> None:
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
