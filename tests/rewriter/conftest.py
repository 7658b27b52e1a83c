"""Fixtures of the rewriter's plumbing tests: tiny random-weight ranking models."""

from __future__ import annotations

from pathlib import Path

import pytest

from partner_model.embedding import SentenceEmbedder
from partner_model.empathy.inference import EmpathyScorer
from partner_model.empathy.model import ClassifierConfig, build_for_training
from partner_model.rewriter.lm_scoring import BaseLMScorer
from partner_model.rewriter.policy import build
from partner_model.rewriter.rewards import RewardWeights
from partner_model.rewriter.rl import RewardContext
from tests.rewriter.test_training_plumbing import TINY


@pytest.fixture(scope="module")
def reward_context(tiny_lm_dir: Path, request: pytest.FixtureRequest) -> RewardContext:
    encoder_dir = request.getfixturevalue("tiny_encoder_dir")
    from transformers import AutoModel, AutoTokenizer

    classifier = build_for_training(encoder_dir, ClassifierConfig(lora_r=2, lora_alpha=4)).eval()
    scorer = EmpathyScorer(classifier, AutoTokenizer.from_pretrained(encoder_dir), "tiny")
    embedder = SentenceEmbedder(AutoModel.from_pretrained(encoder_dir), AutoTokenizer.from_pretrained(encoder_dir))
    base = build(tiny_lm_dir, TINY)
    return RewardContext(
        scorer,
        BaseLMScorer(base.lm, base.tokenizer),
        embedder,
        RewardWeights(),
        lambda sentences: [True] * len(sentences),
    )
