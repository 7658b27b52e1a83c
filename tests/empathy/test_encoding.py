from __future__ import annotations

from pathlib import Path

import pytest

from partner_model.empathy.encoding import clean_text, encode_pair


@pytest.fixture(scope="module")
def tokenizer(real_encoder_dir: Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(real_encoder_dir)
    tok.model_max_length = 1_000_000
    return tok


def test_a_long_response_keeps_priority_but_the_seeker_keeps_its_share(tokenizer) -> None:
    pair = encode_pair(tokenizer, "I feel lost. " * 100, "You are not alone. " * 200, 256, 96)
    assert len(pair.input_ids) == 256
    assert len(pair.seeker_positions) == 96
    assert len(pair.response_positions) == 256 - 3 - 96
    assert pair.response_truncated


def test_a_short_response_leaves_room_for_a_long_seeker_post(tokenizer) -> None:
    pair = encode_pair(tokenizer, "I feel lost. " * 100, "Hugs.", 256, 96)
    assert len(pair.input_ids) == 256
    assert len(pair.seeker_positions) > 96
    assert not pair.response_truncated


def test_offsets_point_into_the_original_response(tokenizer) -> None:
    response = "I'm\x00 so\u200b sorry \x07you lost her."
    pair = encode_pair(tokenizer, "My cat died.", response, 256, 96)
    words = {response[s:e] for s, e in pair.response_offsets}
    assert {"sorry", "lost", "her"} <= words


def test_cleaning_keeps_length_and_newlines() -> None:
    text = "a\x00b\nc\u200bd"
    cleaned = clean_text(text)
    assert len(cleaned) == len(text)
    assert cleaned == "a b\nc d"
