"""Reward-weighted retraining on a tiny policy: weights matter, losses are logged, weights move, and the
preference term lifts the taken suggestion over the one passed over beside it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from partner_model.rewriter.batching import right_padded, sentence_log_probs
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.feedback_training import (
    FeedbackExample,
    FeedbackTrainConfig,
    click_likelihoods,
    edit_from_text,
    edit_log_likelihoods,
    encode_examples,
    retrain,
)
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


def test_a_suggestion_after_a_last_sentence_without_a_full_stop_reads_as_its_own_sentence_and_its_edit_is_learned() -> (
    None
):
    """A quarter of low-empathy replies end mid-word; the suggestion put after them used to run on from it."""
    original = ["Join a club", "People there would be willing to help"]
    shown = Edit(EditKind.INSERT, 2, "Sorry you feel alone, who have you asked?").apply(original)
    assert shown == "Join a club. People there would be willing to help. Sorry you feel alone, who have you asked?"
    edited = shown.replace("Sorry you feel alone", "I am sorry about your club")
    assert edit_from_text(original, edited) == Edit(
        EditKind.INSERT, 2, "I am sorry about your club, who have you asked?"
    )


def _margin(policy, example: FeedbackExample) -> float:
    """How much likelier the taken edit is than the passed-over one."""
    [row] = encode_examples(policy, [example])
    with torch.no_grad():
        taken, passed = edit_log_likelihoods(policy, [row.chosen, *row.passed_over]).tolist()
    return taken - passed


def test_the_preference_term_lifts_the_taken_suggestion_over_the_one_passed_over(tiny_lm_dir: Path) -> None:
    passed = Edit(EditKind.INSERT, 0, "That is hard.")
    example = FeedbackExample(
        "I lost my job.", ["Get another one."], Edit(EditKind.INSERT, 0, "Losing your job is hard."), 1.0, (passed,)
    )
    gains = []
    for weight in (0.0, 5.0):
        torch.manual_seed(0)
        policy = build(tiny_lm_dir, TINY)
        before = _margin(policy, example)
        retrain(
            policy,
            [example] * 4,
            FeedbackTrainConfig(epochs=2, lr_lora=1e-2, preference_weight=weight, preference_beta=1.0),
        )
        gains.append(_margin(policy, example) - before)
    likelihood_only, with_preference = gains
    # Measured: 0.60 from likelihood alone, 1.25 with the preference term.
    assert with_preference > 1.5 * likelihood_only > 0, gains


def test_a_clicks_suggestions_scored_on_one_shared_prompt_match_each_scored_in_full(tiny_lm_dir: Path) -> None:
    """The shared prompt pass is a speed-up only: the same log-likelihoods and gradients as encoding every
    suggestion with its prompt (kept out of dropout so the two passes see the same weights)."""
    policy = build(tiny_lm_dir, TINY).eval()
    example = FeedbackExample(
        "I lost my job and I feel useless.",
        ["Get another one.", "Apply online."],
        Edit(EditKind.INSERT, 1, "Losing your job is hard."),
        1.0,
        (Edit(EditKind.REPLACE, 0, "That is hard."), Edit(EditKind.INSERT, 2, "Have you told anyone how you feel?")),
    )
    [encoded] = encode_examples(policy, [example])
    rows = [encoded.chosen, *encoded.passed_over]
    ids, mask = right_padded(rows, policy.end_id)
    hidden = policy.hidden_states(ids, mask)
    sentence, _ = sentence_log_probs(hidden, rows, policy.token_logits)
    position = torch.stack(
        [
            policy.action_logits(hidden[i], row.prompt).log_softmax(-1)[
                policy.action_index(row.prompt, row.kind, row.position)
            ]
            for i, row in enumerate(rows)
        ]
    )
    full = sentence + position
    full.sum().backward()
    full_grads = {n: p.grad.clone() for n, p in policy.lm.named_parameters() if p.requires_grad}
    policy.zero_grad()
    shared = click_likelihoods(policy, rows)
    shared.edit.sum().backward()
    assert torch.allclose(shared.edit, full, atol=1e-4), (shared.edit, full)
    for name, grad in full_grads.items():
        found = dict(policy.lm.named_parameters())[name].grad
        assert torch.allclose(found, grad, atol=1e-4, rtol=1e-3), name


def test_a_round_on_the_shipped_adapter_repeats_bit_for_bit_and_leaves_torch_as_it_was(real_lm_dir: Path) -> None:
    """Without deterministic kernels two such rounds agreed in every logged loss and still ended with
    different weights, so the feedback loop's rounds came out differently from run to run."""
    from bot.settings import load_settings
    from partner_model.rewriter.policy import load

    def weights_after_a_round() -> list[torch.Tensor]:
        policy = load(load_settings().rewriter.adapter_dir, real_lm_dir, trainable=True, device=torch.device("cpu"))
        examples = [replace(e, passed_over=(Edit(EditKind.INSERT, 1, "You will be fine."),)) for e in _examples(1.0)]
        retrain(policy, examples, FeedbackTrainConfig(epochs=2, batch_size=2, lr_lora=3e-4))
        return [p.detach().clone() for p in policy.parameters() if p.requires_grad]

    first, second = weights_after_a_round(), weights_after_a_round()
    assert len(first) > 0 and all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not torch.are_deterministic_algorithms_enabled()
