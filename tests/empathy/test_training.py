"""Training plumbing on a tiny random-weight encoder: the loss is logged, every trainable weight moves,
a saved model loads back to the same predictions, and distillation follows the teachers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.inference import EmpathyScorer
from partner_model.empathy.model import ClassifierConfig, build_for_training, save
from partner_model.empathy.train import (
    TrainConfig,
    class_weights,
    encode_examples,
    predict_levels,
    teacher_probabilities,
    train,
)


def _examples() -> list[EpitomeExample]:
    rows = [
        ("I lost my job.", "I'm so sorry, that must be scary. What happened?", {"ER": 2, "IP": 1, "EX": 2}),
        ("I can't sleep.", "Try melatonin.", {"ER": 0, "IP": 0, "EX": 0}),
        (
            "My dog died.",
            "I understand, I lost mine last year. How are you holding up?",
            {"ER": 1, "IP": 2, "EX": 2},
        ),
        ("Nobody likes me.", "That's not true.", {"ER": 0, "IP": 0, "EX": 0}),
    ]
    examples = []
    for seeker, response, levels in rows * 4:
        spans = {m: ([(0, len(response) // 2)] if level else []) for m, level in levels.items()}
        examples.append(EpitomeExample(seeker, response, levels, spans))
    return examples


def test_class_weights_favour_rare_levels() -> None:
    weights = class_weights(_examples(), power=0.5)
    # IP level 1 appears in a quarter of the rows, level 0 in half: the rarer level weighs more.
    assert weights[1, 1] > weights[1, 0]


def test_a_few_steps_log_the_loss_and_move_every_trainable_weight(tiny_encoder_dir: Path) -> None:
    config = ClassifierConfig(seed=3, max_length=64, max_seeker_tokens=16, lora_r=4, lora_alpha=8)
    before = {
        n: p.detach().clone()
        for n, p in build_for_training(tiny_encoder_dir, config).named_parameters()
        if p.requires_grad
    }
    losses: list[float] = []
    epochs: list[dict] = []
    model, info = train(
        tiny_encoder_dir,
        config,
        TrainConfig(epochs=1, batch_size=4, max_steps=4, lr_lora=1e-2, lr_heads=1e-2),
        _examples(),
        _examples()[:4],
        on_step=lambda e, s, n, loss: losses.append(loss),
        on_epoch=lambda e, f: epochs.append(f),
    )
    assert len(losses) == 4 and all(torch.isfinite(torch.tensor(losses)))
    assert epochs and {"ER", "IP", "EX"} <= set(epochs[0])
    after = dict(model.named_parameters())
    unchanged = [n for n, old in before.items() if torch.equal(old, after[n].detach())]
    assert unchanged == []
    assert info["best"]["epoch"] == 1


def test_a_saved_classifier_loads_to_the_same_scores(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    config = ClassifierConfig(seed=5, max_length=64, max_seeker_tokens=16, lora_r=4, lora_alpha=8)
    model, _ = train(
        tiny_encoder_dir,
        config,
        TrainConfig(epochs=1, batch_size=4, max_steps=2),
        _examples(),
        _examples()[:4],
    )
    save(model, tmp_path / "clf")
    from transformers import AutoTokenizer

    pairs = [("I lost my job.", "That is hard. What happened?"), ("Hi", "ok")]
    direct = EmpathyScorer(model, AutoTokenizer.from_pretrained(tiny_encoder_dir), "direct").score(pairs)
    loaded = EmpathyScorer.load(tmp_path / "clf", tiny_encoder_dir).score(pairs)
    for a, b in zip(direct, loaded, strict=True):
        assert a.levels == b.levels
        for mech in a.probabilities:
            assert torch.allclose(torch.tensor(a.probabilities[mech]), torch.tensor(b.probabilities[mech]), atol=1e-3)


def test_teacher_probabilities_average_the_teachers(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    examples = _examples()[:4]
    folders = []
    for seed in (5, 6):
        config = ClassifierConfig(seed=seed, max_length=64, max_seeker_tokens=16, lora_r=4, lora_alpha=8)
        model, _ = train(tiny_encoder_dir, config, TrainConfig(epochs=1, batch_size=4, max_steps=2), examples, examples)
        save(model, tmp_path / f"teacher{seed}")
        folders.append(tmp_path / f"teacher{seed}")
    each = [
        np.array([[s.probabilities[m] for m in MECHANISMS] for s in _scores(folder, tiny_encoder_dir, examples)])
        for folder in folders
    ]
    averaged = teacher_probabilities(folders, tiny_encoder_dir, examples)
    assert averaged.shape == (4, len(MECHANISMS), 3)
    assert np.allclose(averaged, (each[0] + each[1]) / 2, atol=1e-3)


def test_a_student_follows_its_teachers_rather_than_the_labels(tiny_encoder_dir: Path) -> None:
    examples = _examples()
    # Teachers that put every row at level 2 of every mechanism, against labels that are mostly 0.
    soft = np.zeros((len(examples), len(MECHANISMS), 3), dtype=np.float32)
    soft[:, :, 2] = 1.0
    config = ClassifierConfig(seed=3, max_length=64, max_seeker_tokens=16, lora_r=4, lora_alpha=8)
    settings = TrainConfig(epochs=3, batch_size=4, lr_lora=1e-2, lr_heads=1e-2, patience=3, distill_weight=1.0)
    student, _ = train(tiny_encoder_dir, config, settings, examples, examples[:4], soft_targets=soft)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder_dir)
    predicted = predict_levels(student, encode_examples(tokenizer, examples, config), tokenizer.pad_token_id)
    assert (predicted == 2).mean() > 0.9


def _scores(folder: Path, encoder_dir: Path, examples: list[EpitomeExample]) -> list:
    return EmpathyScorer.load(folder, encoder_dir).score([(e.seeker, e.response) for e in examples])
