"""Fixtures for the classifier: a tiny random-weight encoder for plumbing, the shipped one for behaviour."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.settings import load_settings
from partner_model.base_models import encoder_path, quiet_transformers

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "epitome"


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
            f"{path} is missing: the EPITOME data lives in ../shared/data/epitome beside the checkout"
        )
    return path
