"""Migrations and models agree, and the schema goes up, down to base and up again on both backends."""

from __future__ import annotations

from sqlalchemy import inspect

from bot.settings import normalise_database_url
from storage import migrate
from storage.engine import make_engine
from storage.models import Base


def test_autogenerate_finds_no_difference_after_upgrade(empty_database_url: str) -> None:
    engine = make_engine(normalise_database_url(empty_database_url))
    migrate.upgrade(engine)
    differences = migrate.differences_from_models(engine)
    engine.dispose()
    assert differences == []


def test_upgrade_downgrade_to_base_and_upgrade_again(empty_database_url: str) -> None:
    engine = make_engine(normalise_database_url(empty_database_url))
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())

    migrate.downgrade(engine, "base")
    assert migrate.current_revision(engine) is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision(engine)
    engine.dispose()
