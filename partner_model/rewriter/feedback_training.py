"""Retraining from supporters' feedback: reward-weighted regression (RWR) on the active adapter.

Each accepted or edited suggestion becomes a supervised example (the edited sentence is the target
when the member rewrote it) weighted by the feedback's weight times a bonus for its empathy gain.
RWR rather than another policy-gradient pass: feedback is a small, off-policy, fixed dataset (the
clicks were on samples of an older policy), so maximising weighted likelihood is stable where
REINFORCE would need fresh on-policy samples and many more steps. Rejections and flags get zero
weight by default: a rejected sentence says little about what would have been better, and pushing
likelihood down on it (unlikelihood) easily damages fluency on a few examples.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any

import torch

from partner_model.empathy.train import StepCallback, seed_everything
from partner_model.rewriter.batching import Sequence
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import encode_continuation, encode_prompt
from partner_model.rewriter.warmstart import batch_loss, optimiser_step
from partner_model.text import split_sentences


@dataclass(frozen=True)
class FeedbackExample:
    seeker: str
    sentences: list[str]  # the original reply
    edit: Edit  # what the member took (or wrote)
    weight: float


@dataclass
class FeedbackTrainConfig:
    epochs: int = 3  # passes over the (small) feedback set
    batch_size: int = 4
    lr_lora: float = 1e-4  # lower than the warm start's: nudge the active policy, do not replace it
    lr_head: float = 3e-4
    position_weight: float = 0.5
    max_steps: int | None = None
    seed: int = 11


def _norm(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def edit_from_text(original: list[str], edited_text: str) -> Edit | None:
    """The one-sentence edit that turns the original reply into the member's edited text, when there
    is one: one sentence added (insert) or one changed (replace). None when the member rewrote more.

    >>> edit_from_text(["Go out more.", "Join a club."], "Go out more. That sounds lonely. Join a club.")
    Edit(kind=<EditKind.INSERT: 'insert'>, position=1, sentence='That sounds lonely.')
    """
    edited = split_sentences(edited_text)
    before = [_norm(s) for s in original]
    after = [_norm(s) for s in edited]
    if len(after) == len(before) + 1:
        for i in range(len(after)):
            if after[:i] + after[i + 1 :] == before:
                return Edit(EditKind.INSERT, i, edited[i])
    if len(after) == len(before):
        changed = [i for i, (a, b) in enumerate(zip(after, before, strict=True)) if a != b]
        if len(changed) == 1:
            return Edit(EditKind.REPLACE, changed[0], edited[changed[0]])
    return None


def encode_examples(policy: RewriterPolicy, examples: list[FeedbackExample]) -> list[tuple[Sequence, float]]:
    """Encoded rows with their weights; examples whose edit does not fit the prompt are left out."""
    rows = []
    for example in examples:
        prompt = encode_prompt(policy.tokenizer, example.seeker, example.sentences, policy.config.prompt)
        edit = example.edit
        limit = prompt.shown + (1 if edit.kind is EditKind.INSERT else 0)
        if edit.position >= limit or example.weight <= 0:
            continue
        prefix, sentence = encode_continuation(policy.tokenizer, edit.kind, edit.position, edit.sentence)
        if len(sentence) > policy.config.prompt.max_new_tokens:
            sentence = sentence[: policy.config.prompt.max_new_tokens]
        rows.append((Sequence(prompt, edit.kind, edit.position, prefix, sentence), example.weight))
    return rows


def retrain(
    policy: RewriterPolicy,
    examples: list[FeedbackExample],
    config: FeedbackTrainConfig,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    """Fine-tune the (trainable) policy in place on weighted feedback; returns what happened."""
    seed_everything(config.seed)
    rows = encode_examples(policy, examples)
    if not rows:
        return {"examples_used": 0, "steps": 0, "history": [], "config": asdict(config)}
    trainable = [p for p in policy.lm.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(
        [
            {"params": trainable, "lr": config.lr_lora},
            {"params": policy.position_head.parameters(), "lr": config.lr_head},
        ]
    )
    steps_per_epoch = math.ceil(len(rows) / config.batch_size)
    total = steps_per_epoch * config.epochs if config.max_steps is None else config.max_steps
    rng = random.Random(config.seed)
    history, step = [], 0
    policy.train()
    while step < total:
        order = list(range(len(rows)))
        rng.shuffle(order)
        for start in range(0, len(order), config.batch_size):
            if step >= total:
                break
            batch = [rows[i] for i in order[start : start + config.batch_size]]
            loss, parts = batch_loss(policy, [r for r, _ in batch], config.position_weight, [w for _, w in batch])
            optimiser_step(optimiser, loss, trainable + list(policy.position_head.parameters()))
            step += 1
            history.append({"step": step, "loss": loss.item(), **parts})
            if on_step:
                on_step(1 + (step - 1) // steps_per_epoch, step, total, loss.item())
    policy.eval()
    return {"examples_used": len(rows), "steps": step, "history": history, "config": asdict(config)}
