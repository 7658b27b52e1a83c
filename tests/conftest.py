"""Shared fixtures: a database per backend (SQLite file and a throwaway PostgreSQL database), and
models: the real base models from the setup cache, and tiny random-weight models with the real
tokenizers for fast plumbing tests."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.settings import load_settings
from partner_model.base_models import encoder_path, lm_path, quiet_transformers
from storage import migrate
from storage.engine import make_engine

# The EPITOME data lives in ../shared beside the checkout (as in CI); PARTNER_TEST_EPITOME points elsewhere.
DATA_DIR = Path(
    os.environ.get("PARTNER_TEST_EPITOME", Path(__file__).resolve().parents[2] / "shared" / "data" / "epitome")
)

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
def migrated_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One migrated database per backend for the whole run."""
    yield from migrated_database(request.param, tmp_path_factory.mktemp("db"))


def migrated_database(backend: str, folder: Path) -> Iterator[Engine]:
    """A migrated engine on a new SQLite file in folder or a throwaway PostgreSQL database."""
    from bot.settings import normalise_database_url

    name = None
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'partner.db'}"
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


@pytest.fixture(scope="session")
def real_encoder_dir() -> Path:
    quiet_transformers()
    return encoder_path(load_settings().models.encoder_dir)


@pytest.fixture(scope="session")
def tiny_encoder_dir(real_encoder_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MiniLM's real tokenizer on a 2-layer, 32-wide random BERT: seconds to train, same code paths."""
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny-encoder")
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    )
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (real_encoder_dir / name).is_file():
            shutil.copy(real_encoder_dir / name, folder / name)
    return folder


@pytest.fixture(scope="session")
def dev_csv() -> Path:
    path = DATA_DIR / "dev.csv"
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: the EPITOME data lives in ../shared/data/epitome beside the checkout "
            "(or set PARTNER_TEST_EPITOME)"
        )
    return path


@pytest.fixture(scope="session")
def real_lm_dir() -> Path:
    quiet_transformers()
    return lm_path(load_settings().models.lm_dir)


@pytest.fixture(scope="session")
def tiny_lm_dir(real_lm_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2's architecture and tokenizer at 2 layers and width 64, random weights."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-lm")
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=49152,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        tie_word_embeddings=True,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"):
        if (real_lm_dir / name).is_file():
            shutil.copy(real_lm_dir / name, folder / name)
    return folder
