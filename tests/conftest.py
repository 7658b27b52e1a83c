"""Shared fixtures: a database per backend (SQLite file and a throwaway PostgreSQL database)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage import migrate
from storage.engine import make_engine

# The local server every session and CI have (trust auth); override for another server.
POSTGRES_ADMIN_URL = os.environ.get("PARTNER_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgresql"]


def _admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({exc}); start it "
            "(`.ci/run` does) or point PARTNER_TEST_POSTGRES at a server"
        )


def _server_base() -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0]


def _create_postgres_database() -> tuple[str, str]:
    name = f"partner_test_{uuid.uuid4().hex[:12]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, f"{_server_base()}/{name}"


def _drop_postgres_database(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A plain URL to a database with no tables, thrown away after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'partner.db'}"
        return
    name, url = _create_postgres_database()
    try:
        yield url
    finally:
        _drop_postgres_database(name)


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    from bot.settings import normalise_database_url

    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'partner.db'}"
    else:
        name, url = _create_postgres_database()
    engine = make_engine(normalise_database_url(url))
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        if name:
            _drop_postgres_database(name)


@pytest.fixture
def db(migrated_engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back, so tests never see each other's rows."""
    with migrated_engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()
