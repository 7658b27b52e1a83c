"""Reward-weighted retraining on a tiny policy: weights matter, losses are logged, weights move."""

from __future__ import annotations

from pathlib import Path

import torch

from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.feedback_training import FeedbackExample, FeedbackTrainConfig, edit_from_text, retrain
from partner_model.rewriter.policy import build
from tests.rewriter.test_training_plumbing import TINY, _trainable


def _examples(weight: float) -> list[FeedbackExample]:
    return [
        FeedbackExample(
            "I lost my job.", ["Get another one."], Edit(EditKind.INSERT, 0, "Losing it must hurt."), weight
        ),
        FeedbackExample("My dog died.", ["Get a new one."], Edit(EditKind.REPLACE, 0, "I'm sorry about him."), weight),
    ] * 2


def test_retraining_moves_every_trainable_weight_and_logs_the_loss(tiny_lm_dir: Path) -> None:
    policy = build(tiny_lm_dir, TINY)
    before = _trainable(policy)
    losses: list[float] = []
    info = retrain(
        policy, _examples(2.0), FeedbackTrainConfig(epochs=1, lr_lora=1e-2), lambda e, s, n, loss: losses.append(loss)
    )
    assert info["examples_used"] == 4 and info["steps"] == 1 and len(losses) == 1
    assert all(torch.isfinite(torch.tensor(losses)))
    after = _trainable(policy)
    assert [n for n in before if torch.equal(before[n], after[n])] == []


def test_zero_weight_feedback_trains_nothing(tiny_lm_dir: Path) -> None:
    policy = build(tiny_lm_dir, TINY)
    before = _trainable(policy)
    info = retrain(policy, _examples(0.0), FeedbackTrainConfig(epochs=1))
    assert info["examples_used"] == 0 and info["steps"] == 0
    after = _trainable(policy)
    assert all(torch.equal(before[n], after[n]) for n in before)


def test_edits_recovered_from_a_members_text() -> None:
    original = ["Join a club.", "It helps."]
    assert edit_from_text(original, "Join a club. That must be lonely. It helps.") == Edit(
        EditKind.INSERT, 1, "That must be lonely."
    )
    assert edit_from_text(original, "That sounds lonely. It helps.") == Edit(EditKind.REPLACE, 0, "That sounds lonely.")
    assert edit_from_text(original, "Totally different. Words here. And more.") is None
