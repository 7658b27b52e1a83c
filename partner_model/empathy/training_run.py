"""One classifier training run end to end: data, training, saving, report evaluation, model card."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from partner_model.cards import file_digest
from partner_model.empathy.calibration import calibrate_folder
from partner_model.empathy.card import write_classifier_card
from partner_model.empathy.cross_fit import (
    StageCallback,
    gold_levels,
    held_out_level_offsets,
    log_probabilities,
    offset_levels,
    out_of_fold_probabilities,
    out_of_fold_tagging,
    seeker_folds,
)
from partner_model.empathy.data import EpitomeExample, read_epitome_csv
from partner_model.empathy.evaluate import figures, score_examples
from partner_model.empathy.inference import EmpathyScorer
from partner_model.empathy.model import HEADS_FILE, ClassifierConfig, save
from partner_model.empathy.rationales import fit_readings
from partner_model.empathy.train import EpochCallback, StepCallback, TrainConfig, teacher_probabilities, train


def split_by_seeker(examples: list[EpitomeExample], fraction: float, seed: int) -> tuple[list, list]:
    """Hold out whole seeker posts, so no seeker post is on both sides (as the shipped splits do)."""
    seekers = sorted({e.seeker_key for e in examples})
    random.Random(seed).shuffle(seekers)
    held = set(seekers[: max(1, int(len(seekers) * fraction))])
    keep = [e for e in examples if e.seeker_key not in held]
    out = [e for e in examples if e.seeker_key in held]
    return keep, out


def run_training(
    encoder_dir: Path,
    train_csv: Path,
    out_dir: Path,
    command: str,
    model_config: ClassifierConfig,
    train_config: TrainConfig,
    dev_csv: Path | None = None,
    holdout_fraction: float = 0.1,
    report_csv: Path | None = None,
    title: str = "EPITOME empathy classifier",
    on_step: StepCallback | None = None,
    on_epoch: EpochCallback | None = None,
    on_report: Callable[[int], None] | None = None,
    teachers: list[Path] | None = None,
    cross_fit: int = 0,
    folds_dir: Path | None = None,
    on_stage: StageCallback | None = None,
) -> dict[str, Any]:
    """Train (distilling teachers' folders, or cross_fit fold teachers of train, if given), save to
    out_dir, evaluate on the report set, write the card.

    With cross_fit=K the student distils K teachers' out-of-fold probabilities and predicts with the
    level offsets fitted on them where they hold on a left-out fold (cross_fit.py); the teachers stay in
    folds_dir, not in out_dir.
    """
    if teachers and cross_fit:
        raise ValueError("distil either given teachers or cross-fitted ones, not both")
    train_examples = read_epitome_csv(train_csv)
    data: dict[str, Any] = {"train": f"{train_csv.name} ({len(train_examples)} rows, sha256 {file_digest(train_csv)})"}
    if dev_csv is not None:
        selection = read_epitome_csv(dev_csv)
        data["early stopping"] = f"{dev_csv.name} ({len(selection)} rows)"
    else:
        train_examples, selection = split_by_seeker(train_examples, holdout_fraction, model_config.seed)
        data["early stopping"] = (
            f"{len(selection)} rows of {train_csv.name} held out by seeker post (seed {model_config.seed}); "
            f"trained on the other {len(train_examples)}"
        )
    soft_targets, offsets, readings, cross_fit_report = None, None, None, None
    if cross_fit:
        teachers_dir = folds_dir or out_dir.with_name(out_dir.name + "-folds")
        folds = seeker_folds(train_examples, cross_fit, model_config.seed)
        soft_targets = out_of_fold_probabilities(
            encoder_dir,
            model_config,
            train_config,
            train_examples,
            selection,
            folds,
            teachers_dir,
            on_stage,
            on_step,
            on_epoch,
        )
        offsets, fitted = held_out_level_offsets(soft_targets, gold_levels(train_examples), folds)
        if on_stage:
            on_stage("rationale readings")
        readings = fit_readings(
            train_examples,
            out_of_fold_tagging(encoder_dir, train_examples, folds, teachers_dir),
            offset_levels(log_probabilities(soft_targets), offsets),
            folds,
        )
        cross_fit_report = {
            "folds": cross_fit,
            "teachers": str(teachers_dir),
            "out_of_fold": fitted,
            "rationales": readings.report,
        }
        data["teachers"] = f"{cross_fit} cross-fitted on {train_csv.name}, each without one fold of seeker posts"
    elif teachers:
        soft_targets = teacher_probabilities(teachers, encoder_dir, train_examples)
        data["teachers"] = ", ".join(f"{t.name} (heads sha256 {file_digest(t / HEADS_FILE)})" for t in teachers)
    if cross_fit and on_stage:
        on_stage("student")
    model, info = train(
        encoder_dir, model_config, train_config, train_examples, selection, on_step, on_epoch, soft_targets
    )
    if offsets is not None:
        model.set_level_offsets(offsets.tolist())
    if readings is not None:
        model.set_rationale_readings(readings)
    save(model, out_dir)
    if on_stage:
        on_stage("int8 calibration")
    scorer = EmpathyScorer.load(out_dir, encoder_dir)  # float, as saved: calibrated, then reported
    calibrated = calibrate_folder(scorer, out_dir, train_csv, command)
    data["int8 input ranges"] = f"{calibrated} pairs of {train_csv.name} (seeded sample)"

    report_path = report_csv or dev_csv
    report: dict[str, Any] = {}
    if report_path is not None:
        report_examples = read_epitome_csv(report_path)
        report = figures(report_examples, score_examples(scorer, report_examples, on_report))
        report["name"] = report_path.name
        data["report"] = f"{report_path.name} ({len(report_examples)} rows, sha256 {file_digest(report_path)})"
    training = {
        "best_epoch": info["best"].get("epoch"),
        "epochs_run": len(info["history"]),
        "history": info["history"],
        "train_config": info["train_config"],
        "model_config": asdict(model.config),
    }
    if cross_fit_report:
        training["cross_fit"] = cross_fit_report
    if report:
        write_classifier_card(out_dir, title, command, data, report, training)
    return {"report": report, "training": training}
