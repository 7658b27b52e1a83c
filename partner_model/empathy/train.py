"""Joint training of the level heads and rationale taggers, with class weights and early stopping.

Steps are small and named (batches, loss, schedule, evaluation) and every hyperparameter is in
TrainConfig with a one-line reason. Rare levels (1 of IP and EX) get more weight so macro-F1
does not ignore them. Given teachers' probabilities, the level loss also follows their average:
several seeds distilled into one model, which keeps one model's speed.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from partner_model.empathy import LEVELS, MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.encoding import EncodedPair, collate, encode_pair, rationale_targets
from partner_model.empathy.metrics import accuracy, macro_f1
from partner_model.empathy.model import ClassifierConfig, EmpathyModel, build_for_training
from partner_model.reproducible import repeatable


@dataclass
class TrainConfig:
    epochs: int = 8  # upper bound; early stopping usually ends sooner
    batch_size: int = 16  # small batches: 2 CPU cores, many updates per epoch
    lr_lora: float = 5e-4  # LoRA adapters tolerate a larger rate than full fine-tuning
    lr_heads: float = 1e-3  # freshly initialised heads learn fastest
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06  # linear warm-up share of all steps, then linear decay
    rationale_weight: float = 0.5  # the token rationale loss beside the level loss (EPITOME's joint task)
    class_weight_power: float = 0.5  # weight of class c = (n / n_c) ** power: softened inverse frequency
    patience: int = 2  # epochs without dev improvement before stopping
    distill_weight: float = 0.5  # with teachers: share of the level loss that follows their averaged probabilities
    max_steps: int | None = None  # cap on optimiser steps, for smoke tests
    threads: int = 0  # torch threads; 0 keeps torch's default


StepCallback = Callable[[int, int, int, float], None]  # epoch, step, steps per epoch, running loss
EpochCallback = Callable[[int, dict[str, Any]], None]


def encode_examples(tokenizer: Any, examples: list[EpitomeExample], config: ClassifierConfig) -> list[EncodedPair]:
    return [encode_pair(tokenizer, e.seeker, e.response, config.max_length, config.max_seeker_tokens) for e in examples]


def class_weights(examples: list[EpitomeExample], power: float) -> torch.Tensor:
    """(mechanism, level) weights, normalised so the mean weight of a training row is 1."""
    weights = torch.ones(len(MECHANISMS), LEVELS)
    for m_index, mech in enumerate(MECHANISMS):
        counts = np.bincount([e.levels[mech] for e in examples], minlength=LEVELS).astype(float)
        raw = (len(examples) / np.maximum(counts, 1.0)) ** power
        mean_row = float((raw * counts).sum() / max(counts.sum(), 1.0))
        weights[m_index] = torch.tensor(raw / mean_row, dtype=torch.float32)
    return weights


def length_bucketed_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length: less padding, so fewer wasted FLOPs on CPU."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 20
    batches = []
    for start in range(0, len(order), chunk):
        block = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [block[i : i + batch_size] for i in range(0, len(block), batch_size)]
    rng.shuffle(batches)
    return batches


def sequential_batches(lengths: list[int], batch_size: int) -> Iterator[list[int]]:
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    for start in range(0, len(order), batch_size):
        yield order[start : start + batch_size]


def loss_for_batch(
    model: EmpathyModel,
    pairs: list[EncodedPair],
    examples: list[EpitomeExample],
    weights: torch.Tensor,
    rationale_weight: float,
    pad_id: int,
    soft_targets: torch.Tensor | None = None,
    distill_weight: float = 0.0,
) -> torch.Tensor:
    """Weighted level cross-entropy (blended with the teachers' soft targets if given) plus the tagger loss."""
    batch = collate(pairs, pad_id)
    level_logits, rationale_logits = model(batch)
    gold = torch.tensor([[e.levels[m] for m in MECHANISMS] for e in examples])
    level_loss = sum(
        nn.functional.cross_entropy(level_logits[:, m], gold[:, m], weight=weights[m]) for m in range(len(MECHANISMS))
    )
    if soft_targets is not None:
        soft_loss = -(soft_targets * level_logits.log_softmax(-1)).sum(-1).mean(0).sum()
        level_loss = (1.0 - distill_weight) * level_loss + distill_weight * soft_loss
    targets = rationale_targets(pairs, [e.rationales for e in examples], MECHANISMS, batch["input_ids"].shape[1])
    token_mask = batch["response_mask"].unsqueeze(-1).expand_as(targets)
    token_loss = nn.functional.binary_cross_entropy_with_logits(rationale_logits, targets, reduction="none")
    rationale_loss = (token_loss * token_mask).sum() / token_mask.sum().clamp(min=1.0)
    return level_loss + rationale_weight * rationale_loss


@torch.inference_mode()
def predict_probabilities(
    model: EmpathyModel, pairs: list[EncodedPair], pad_id: int, batch_size: int = 64
) -> np.ndarray:
    """(example, mechanism, level) probabilities, in the order of pairs."""
    model.eval()
    probabilities = np.zeros((len(pairs), len(MECHANISMS), LEVELS), dtype=np.float32)
    for index in sequential_batches([len(p.input_ids) for p in pairs], batch_size):
        level_logits, _ = model(collate([pairs[i] for i in index], pad_id))
        probabilities[index] = level_logits.softmax(-1).numpy()
    return probabilities


def predict_levels(model: EmpathyModel, pairs: list[EncodedPair], pad_id: int) -> np.ndarray:
    """(example, mechanism) predicted levels, in the order of pairs."""
    return predict_probabilities(model, pairs, pad_id).argmax(-1)


def teacher_probabilities(teachers: list[Path], encoder_dir: Path, examples: list[EpitomeExample]) -> np.ndarray:
    """The teachers' level probabilities on examples, averaged: the soft targets of distillation."""
    from transformers import AutoTokenizer

    from partner_model.empathy.model import load

    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    total = np.zeros((len(examples), len(MECHANISMS), LEVELS), dtype=np.float32)
    for folder in teachers:
        teacher = load(folder, encoder_dir)
        pairs = encode_examples(tokenizer, examples, teacher.config)
        total += predict_probabilities(teacher, pairs, tokenizer.pad_token_id)
    return total / len(teachers)


def dev_figures(predicted: np.ndarray, examples: list[EpitomeExample]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for m_index, mech in enumerate(MECHANISMS):
        gold = [e.levels[mech] for e in examples]
        figures[mech] = {
            "accuracy": accuracy(gold, predicted[:, m_index]),
            "macro_f1": macro_f1(gold, predicted[:, m_index]),
        }
    # Selection score: macro-F1 first (the rare levels), accuracy as the tie-breaker it rarely needs to be.
    figures["selection"] = float(np.mean([figures[m]["macro_f1"] + 0.5 * figures[m]["accuracy"] for m in MECHANISMS]))
    return figures


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def train(
    encoder_dir: Path,
    model_config: ClassifierConfig,
    train_config: TrainConfig,
    train_examples: list[EpitomeExample],
    dev_examples: list[EpitomeExample],
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    soft_targets: np.ndarray | None = None,
) -> tuple[EmpathyModel, dict[str, Any]]:
    """Train and return the best model by dev selection score, with its figures and the history.

    soft_targets: (train example, mechanism, level) probabilities of teachers to distil, or None.
    """
    if train_config.threads:
        torch.set_num_threads(train_config.threads)
    with repeatable(model_config.seed):
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        model = build_for_training(encoder_dir, model_config)
        train_pairs = encode_examples(tokenizer, train_examples, model_config)
        dev_pairs = encode_examples(tokenizer, dev_examples, model_config)
        weights = class_weights(train_examples, train_config.class_weight_power)
        lora_params = [p for n, p in model.encoder.named_parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [
                {"params": lora_params, "lr": train_config.lr_lora},
                {"params": list(model.heads.parameters()), "lr": train_config.lr_heads},
            ],
            weight_decay=train_config.weight_decay,
        )
        base_lrs = [group["lr"] for group in optimiser.param_groups]
        steps_per_epoch = math.ceil(len(train_pairs) / train_config.batch_size)
        total_steps = steps_per_epoch * train_config.epochs
        if train_config.max_steps:
            total_steps = min(total_steps, train_config.max_steps)
        warmup = max(1, int(total_steps * train_config.warmup_fraction))
        rng = random.Random(model_config.seed)
        lengths = [len(p.input_ids) for p in train_pairs]

        best_score, best_state, best_figures, stale, step = -1.0, None, {}, 0, 0
        history: list[dict[str, Any]] = []
        for epoch in range(1, train_config.epochs + 1):
            model.train()
            running = 0.0
            for batch_step, index in enumerate(length_bucketed_batches(lengths, train_config.batch_size, rng), start=1):
                if step >= total_steps:
                    break
                factor = _lr_factor(step, total_steps, warmup)
                for group, base in zip(optimiser.param_groups, base_lrs, strict=True):
                    group["lr"] = base * factor
                loss = loss_for_batch(
                    model,
                    [train_pairs[i] for i in index],
                    [train_examples[i] for i in index],
                    weights,
                    train_config.rationale_weight,
                    tokenizer.pad_token_id,
                    None if soft_targets is None else torch.from_numpy(soft_targets[index]),
                    train_config.distill_weight,
                )
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(lora_params + list(model.heads.parameters()), 1.0)
                optimiser.step()
                step += 1
                running = loss.item() if batch_step == 1 else 0.9 * running + 0.1 * loss.item()
                if on_step:
                    on_step(epoch, batch_step, steps_per_epoch, running)
            figures = dev_figures(predict_levels(model, dev_pairs, tokenizer.pad_token_id), dev_examples)
            figures.update({"epoch": epoch, "train_loss": running, "steps": step})
            history.append(figures)
            if on_epoch:
                on_epoch(epoch, figures)
            if figures["selection"] > best_score:
                best_score, best_figures, stale = figures["selection"], figures, 0
                best_state = copy.deepcopy({k: v.detach().clone() for k, v in model.state_dict().items()})
            else:
                stale += 1
            if stale >= train_config.patience or step >= total_steps:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
        return model, {"best": best_figures, "history": history, "train_config": asdict(train_config)}
