"""Supervised warm start of the policy: the position head learns where the removed empathic sentence
was, the language model learns to write it back. RL starts from here."""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from partner_model.empathy.train import StepCallback
from partner_model.reproducible import repeatable
from partner_model.rewriter.batching import Sequence, right_padded, sentence_log_probs
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.policy import PolicyConfig, RewriterPolicy, best_device, build
from partner_model.rewriter.prompt import encode_continuation, encode_prompt
from partner_model.rewriter.recipe import WARMSTART_COMPOUND_SHARE, WARMSTART_EXAMPLES
from partner_model.rewriter.warmstart_data import WarmStartExample


@dataclass
class WarmStartConfig:
    examples: int = WARMSTART_EXAMPLES
    epochs: int = 1
    batch_size: int = 8
    lr_lora: float = 3e-4
    lr_head: float = 1e-3
    weight_decay: float = 0.0
    position_weight: float = 1.0  # position cross-entropy beside the sentence NLL
    # Share of the sample reserved for sentences carrying emotional reactions or explorations, which
    # the data has far fewer of than interpretations (self-disclosure) but which suit short edits.
    er_ex_share: float = 0.8
    compound_share: float = WARMSTART_COMPOUND_SHARE  # of questions led by a reaction instead (warmstart_data.py)
    max_prompt_tokens: int = 256  # longer examples are skipped: they cost the most and edit the least
    seed: int = 7
    max_steps: int | None = None
    threads: int = 0


def select_examples(built: list[WarmStartExample], policy: RewriterPolicy, config: WarmStartConfig) -> list[Sequence]:
    """Encode, drop what is too long or truncated past the edit, and balance the mechanisms."""
    rng = random.Random(config.seed)
    er_ex, other = [], []
    for example in built:
        prompt = encode_prompt(policy.tokenizer, example.seeker, example.sentences, policy.config.prompt)
        edit = example.edit
        limit = prompt.shown + (1 if edit.kind is EditKind.INSERT else 0)
        if edit.position >= limit or len(prompt.input_ids) > config.max_prompt_tokens:
            continue
        prefix, sentence = encode_continuation(policy.tokenizer, edit.kind, edit.position, edit.sentence)
        if len(sentence) > policy.config.prompt.max_new_tokens:
            continue
        row = Sequence(prompt, edit.kind, edit.position, prefix, sentence)
        (er_ex if {"ER", "EX"} & set(example.mechanisms) else other).append(row)
    rng.shuffle(er_ex)
    rng.shuffle(other)
    wanted_er_ex = min(len(er_ex), int(config.examples * config.er_ex_share))
    chosen = er_ex[:wanted_er_ex] + other[: config.examples - wanted_er_ex]
    # When one pool runs short, the other fills the sample up to the requested size.
    chosen += er_ex[wanted_er_ex : wanted_er_ex + config.examples - len(chosen)]
    rng.shuffle(chosen)
    return chosen


def batch_loss(
    policy: RewriterPolicy, rows: list[Sequence], position_weight: float, weights: list[float] | None = None
) -> tuple[torch.Tensor, dict]:
    """Sentence NLL plus position cross-entropy. Unweighted: NLL per token over the batch; with
    weights (feedback retraining): each row's per-token NLL and position loss weighted by its weight."""
    ids, mask = right_padded(rows, policy.end_id)
    hidden = policy.hidden_states(ids, mask)
    totals, counts = sentence_log_probs(hidden, rows, policy.token_logits)
    position_losses = []
    for i, row in enumerate(rows):
        action_logits = policy.action_logits(hidden[i], row.prompt)
        target = torch.tensor(policy.action_index(row.prompt, row.kind, row.position), device=action_logits.device)
        position_losses.append(nn.functional.cross_entropy(action_logits.unsqueeze(0), target.unsqueeze(0)))
    positions = torch.stack(position_losses)
    if weights is None:
        nll = -(totals.sum() / counts.sum())
        position_loss = positions.mean()
    else:
        w = torch.tensor(weights, dtype=totals.dtype, device=totals.device)
        w = w / w.sum()
        nll = -(w * totals / counts.clamp(min=1)).sum()
        position_loss = (w * positions).sum()
    return nll + position_weight * position_loss, {"nll": nll.item(), "position": position_loss.item()}


# Gradient norm clip for supervised steps on the policy (warm start and feedback retraining).
MAX_GRAD_NORM = 1.0


def optimiser_step(optimiser: torch.optim.Optimizer, loss: torch.Tensor, parameters: list[torch.Tensor]) -> None:
    optimiser.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(parameters, MAX_GRAD_NORM)
    optimiser.step()


def train_warmstart(
    lm_dir: Path,
    built: list[WarmStartExample],
    policy_config: PolicyConfig,
    config: WarmStartConfig,
    on_step: StepCallback | None = None,
) -> tuple[RewriterPolicy, dict[str, Any]]:
    if config.threads:
        torch.set_num_threads(config.threads)
    with repeatable(config.seed):
        policy = build(lm_dir, policy_config, device=best_device())
        rows = select_examples(built, policy, config)
        trainable = [p for p in policy.lm.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [
                {"params": trainable, "lr": config.lr_lora},
                {"params": policy.position_head.parameters(), "lr": config.lr_head},
            ],
            weight_decay=config.weight_decay,
        )
        base_lrs = [g["lr"] for g in optimiser.param_groups]
        steps_per_epoch = math.ceil(len(rows) / config.batch_size)
        total = (
            steps_per_epoch * config.epochs
            if config.max_steps is None
            else min(config.max_steps, steps_per_epoch * config.epochs)
        )
        rng = random.Random(config.seed)
        history: list[dict[str, float]] = []
        step = 0
        policy.train()
        for epoch in range(1, config.epochs + 1):
            order = list(range(len(rows)))
            rng.shuffle(order)
            for batch_step, start in enumerate(range(0, len(order), config.batch_size), start=1):
                if step >= total:
                    break
                factor = max(0.05, 1 - step / total)  # linear decay; the adapter starts from zero, no warm-up needed
                for group, base in zip(optimiser.param_groups, base_lrs, strict=True):
                    group["lr"] = base * factor
                loss, parts = batch_loss(
                    policy, [rows[i] for i in order[start : start + config.batch_size]], config.position_weight
                )
                optimiser_step(optimiser, loss, trainable + list(policy.position_head.parameters()))
                step += 1
                history.append({"step": step, "loss": loss.item(), **parts})
                if on_step:
                    on_step(epoch, batch_step, steps_per_epoch, loss.item())
        policy.eval()
        return policy, {"examples_used": len(rows), "steps": step, "history": history, "config": asdict(config)}
