"""Cross-fitting on the training set: K teachers, each trained without one fold of seeker posts, give
every training row the probabilities of a model that never saw it.

Those out-of-fold probabilities serve twice. They are the soft targets a student distils: a teacher's
view of rows it was trained on is nearly the hard label and teaches little. And they are where the
per-level logit offsets are chosen, so that the rare level 1 of IP and EX is predicted about as often
as macro-F1 wants, by cross-validation on train and without looking at dev. A model's probabilities
on rows it never saw are what the student's are on new replies, so offsets fitted on them should carry
over; whether they do is checked on train too: offsets fitted on all folds but one must raise macro-F1
on the one left out (on average over folds), or that mechanism keeps none. The first full run
(2026-12-01) fitted offsets that lowered held-out macro-F1 for all three mechanisms, and every dev figure.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from partner_model.empathy import LEVELS, MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.metrics import macro_f1
from partner_model.empathy.model import ClassifierConfig, save
from partner_model.empathy.rationales import TaggedResponse
from partner_model.empathy.train import (
    EpochCallback,
    StepCallback,
    TrainConfig,
    encode_examples,
    predict_probabilities,
    train,
)

# Log-probability offsets tried for levels 1 and 2 (level 0 stays at 0): coarse, so ~80 rare rows
# cannot be fitted to the last one.
OFFSET_GRID = np.round(np.arange(-1.0, 3.01, 0.25), 2)
FOLD_FILE = "out_of_fold.npz"

StageCallback = Callable[[str], None]  # "teacher 1/3", ..., for progress display


def seeker_folds(examples: list[EpitomeExample], k: int, seed: int) -> list[list[int]]:
    """Row indices of k folds; all replies to one seeker post fall in the same fold."""
    if k < 2:
        raise ValueError(f"cross-fitting needs at least 2 folds, not {k}")
    seekers = sorted({e.seeker_key for e in examples})
    if len(seekers) < k:
        raise ValueError(f"{len(seekers)} seeker posts cannot fill {k} folds")
    random.Random(seed).shuffle(seekers)
    fold_of = {seeker: i % k for i, seeker in enumerate(seekers)}
    folds: list[list[int]] = [[] for _ in range(k)]
    for index, example in enumerate(examples):
        folds[fold_of[example.seeker_key]].append(index)
    return folds


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """Logs of probabilities floored at 1e-9, so a level a model rules out still gets a finite offset score."""
    return np.log(np.clip(probabilities, 1e-9, 1.0))


def offset_levels(logs: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Levels after adding per-level offsets to log-probabilities (level on the last axis of both)."""
    return (logs + offsets).argmax(-1)


def fit_level_offsets(
    probabilities: np.ndarray, gold: np.ndarray, grid: np.ndarray = OFFSET_GRID
) -> tuple[np.ndarray, dict[str, dict[str, float]]]:
    """Per mechanism, the offsets of levels 1 and 2 that maximise macro-F1 on these rows (ties go to
    the smallest shift), and macro-F1 before and after."""
    offsets = np.zeros((len(MECHANISMS), LEVELS))
    report: dict[str, dict[str, float]] = {}
    logs = log_probabilities(probabilities)
    for m, mech in enumerate(MECHANISMS):
        best = (-1.0, 0.0, (0.0, 0.0))
        for b1 in grid:
            for b2 in grid:
                f1 = macro_f1(gold[:, m], offset_levels(logs[:, m], np.array([0.0, b1, b2])))
                candidate = (f1, -(abs(b1) + abs(b2)), (float(b1), float(b2)))
                if candidate[:2] > best[:2]:
                    best = candidate
        offsets[m, 1:] = best[2]
        report[mech] = {
            "macro_f1_before": macro_f1(gold[:, m], logs[:, m].argmax(-1)),
            "macro_f1_after": best[0],
            "offset_1": best[2][0],
            "offset_2": best[2][1],
        }
    return offsets, report


def held_out_level_offsets(
    probabilities: np.ndarray, gold: np.ndarray, folds: list[list[int]]
) -> tuple[np.ndarray, dict[str, dict[str, float]]]:
    """fit_level_offsets on every row, kept per mechanism only where offsets fitted without each fold raise
    macro-F1 on that fold, averaged over folds; the report adds those held-out figures and what was kept."""
    offsets, report = fit_level_offsets(probabilities, gold)
    logs = log_probabilities(probabilities)
    without = np.zeros(len(MECHANISMS))
    with_offsets = np.zeros(len(MECHANISMS))
    for held in folds:
        rest = np.setdiff1d(np.arange(len(gold)), held)
        fold_offsets, _ = fit_level_offsets(probabilities[rest], gold[rest])
        for m in range(len(MECHANISMS)):
            shifted = offset_levels(logs[held, m], fold_offsets[m])
            without[m] += macro_f1(gold[held, m], logs[held, m].argmax(-1)) / len(folds)
            with_offsets[m] += macro_f1(gold[held, m], shifted) / len(folds)
    for m, mech in enumerate(MECHANISMS):
        kept = bool(with_offsets[m] > without[m])
        if not kept:
            offsets[m] = 0.0
        report[mech] |= {
            "held_out_before": float(without[m]),
            "held_out_after": float(with_offsets[m]),
            "kept": kept,
            "offset_1": float(offsets[m, 1]),
            "offset_2": float(offsets[m, 2]),
        }
    return offsets, report


def gold_levels(examples: list[EpitomeExample]) -> np.ndarray:
    return np.array([[e.levels[m] for m in MECHANISMS] for e in examples])


def out_of_fold_probabilities(
    encoder_dir: Path,
    model_config: ClassifierConfig,
    train_config: TrainConfig,
    examples: list[EpitomeExample],
    selection: list[EpitomeExample],
    folds: list[list[int]],
    folds_dir: Path,
    on_stage: StageCallback | None = None,
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
) -> np.ndarray:
    """(row, mechanism, level) probabilities of each training row by the teacher that left its fold out
    (folds: seeker_folds, the same ones held_out_level_offsets checks the offsets on).

    Each finished fold is kept in folds_dir (teacher and probabilities), so a stopped run resumes
    after its last finished fold; a fold saved for other rows is trained again.
    """
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    out = np.zeros((len(examples), len(MECHANISMS), LEVELS), dtype=np.float32)
    for fold, held in enumerate(folds):
        if on_stage:
            on_stage(f"teacher {fold + 1}/{len(folds)}")
        folder = folds_dir / f"fold-{fold + 1}"
        saved = folder / FOLD_FILE
        if saved.is_file():
            with np.load(saved) as kept:
                if np.array_equal(kept["index"], held):
                    out[held] = kept["probabilities"]
                    continue
        held_set = set(held)
        rest = [e for i, e in enumerate(examples) if i not in held_set]
        teacher_config = replace(model_config, seed=model_config.seed + fold + 1)
        teacher, _ = train(encoder_dir, teacher_config, train_config, rest, selection, on_step, on_epoch)
        save(teacher, folder)
        pairs = encode_examples(tokenizer, [examples[i] for i in held], teacher_config)
        probabilities = predict_probabilities(teacher, pairs, tokenizer.pad_token_id)
        np.savez(saved, index=np.array(held), probabilities=probabilities)
        out[held] = probabilities
    return out


def out_of_fold_tagging(
    encoder_dir: Path, examples: list[EpitomeExample], folds: list[list[int]], folds_dir: Path
) -> list[TaggedResponse]:
    """Each training row's response tagged with rationale probabilities by the teacher that left its fold
    out (the teachers out_of_fold_probabilities saved in folds_dir): where the reading of rationales is
    fitted (rationales.fit_readings)."""
    from partner_model.empathy.inference import EmpathyScorer

    tagged: list[TaggedResponse | None] = [None] * len(examples)
    for fold, held in enumerate(folds):
        teacher = EmpathyScorer.load(folds_dir / f"fold-{fold + 1}", encoder_dir)
        predictions = teacher.predict([(examples[i].seeker, examples[i].response) for i in held])
        for i, (_, row, _) in zip(held, predictions, strict=True):
            tagged[i] = row
    return [t for t in tagged if t is not None]
