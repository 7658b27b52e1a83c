"""Cross-fitting: folds keep seeker posts apart, offsets fitted on out-of-fold probabilities recover a
rare level, the offsets change what a saved classifier predicts, and a cross-fitted run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from partner_model.empathy import MECHANISMS
from partner_model.empathy.cross_fit import fit_level_offsets, held_out_level_offsets, offset_levels, seeker_folds
from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.inference import EmpathyScorer
from partner_model.empathy.metrics import macro_f1
from partner_model.empathy.model import ClassifierConfig, build_for_training, save
from partner_model.empathy.train import TrainConfig
from partner_model.empathy.training_run import run_training
from tests.factories import csv_subset

TINY = {"max_length": 64, "max_seeker_tokens": 16, "lora_r": 4, "lora_alpha": 8}


def _example(seeker: str, response: str) -> EpitomeExample:
    return EpitomeExample(seeker, response, {m: 0 for m in MECHANISMS}, seeker_id=seeker)


def test_folds_cover_every_row_once_and_never_split_a_seeker_post() -> None:
    examples = [_example(f"post {i % 7}", f"reply {i}") for i in range(30)]
    folds = seeker_folds(examples, 3, seed=1)
    assert sorted(i for fold in folds for i in fold) == list(range(30))
    seekers = [{examples[i].seeker for i in fold} for fold in folds]
    assert all(seekers) and not (seekers[0] & seekers[1] or seekers[0] & seekers[2] or seekers[1] & seekers[2])
    with pytest.raises(ValueError, match="at least 2 folds"):
        seeker_folds(examples, 1, seed=1)


def _under_predicted_level_one(rows: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A model that ranks level 1 rows right but never lets level 1 win the argmax."""
    rng = np.random.default_rng(seed)
    gold = rng.choice(3, size=(rows, len(MECHANISMS)), p=[0.6, 0.1, 0.3])
    probabilities = np.full((rows, len(MECHANISMS), 3), 0.05)
    for r in range(rows):
        for m in range(len(MECHANISMS)):
            if gold[r, m] == 1:
                probabilities[r, m] = [0.5, 0.4, 0.1]
            else:
                probabilities[r, m, gold[r, m]] = 0.8
    probabilities /= probabilities.sum(-1, keepdims=True)
    return probabilities, gold


def test_offsets_fitted_on_held_out_probabilities_recover_a_rare_level() -> None:
    probabilities, gold = _under_predicted_level_one()
    offsets, report = fit_level_offsets(probabilities, gold)
    for m, mech in enumerate(MECHANISMS):
        assert 1 not in probabilities[:, m].argmax(-1)
        assert offsets[m, 1] > 0
        assert report[mech]["macro_f1_after"] > report[mech]["macro_f1_before"] + 0.2
    # The same shift helps on fresh rows of the same kind: it is not fitted to these rows alone.
    fresh, fresh_gold = _under_predicted_level_one(seed=1)
    shifted = offset_levels(np.log(fresh), offsets)
    assert macro_f1(fresh_gold[:, 0], shifted[:, 0]) > macro_f1(fresh_gold[:, 0], fresh[:, 0].argmax(-1)) + 0.2


def test_a_model_that_is_already_right_keeps_zero_offsets() -> None:
    gold = np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]] * 5)
    probabilities = np.full((15, 3, 3), 0.1)
    for r in range(15):
        for m in range(3):
            probabilities[r, m, gold[r, m]] = 0.8
    offsets, _ = fit_level_offsets(probabilities, gold)
    assert np.array_equal(offsets, np.zeros((3, 3)))


def test_offsets_that_also_help_on_a_left_out_fold_are_kept() -> None:
    probabilities, gold = _under_predicted_level_one()
    folds = [list(range(0, 100)), list(range(100, 200)), list(range(200, 300))]
    offsets, report = held_out_level_offsets(probabilities, gold, folds)
    for m, mech in enumerate(MECHANISMS):
        assert report[mech]["kept"] and offsets[m, 1] > 0
        assert report[mech]["held_out_after"] > report[mech]["held_out_before"] + 0.2


def test_offsets_that_fit_all_rows_but_no_left_out_fold_are_dropped() -> None:
    """One fold never predicts level 1, the other predicts it for every level-0 row: offsets fitted on all
    rows look far better on them, but offsets fitted on either fold do nothing for the other."""
    under, gold_under = _under_predicted_level_one(rows=150)
    over = np.full((150, len(MECHANISMS), 3), 0.05)
    gold_over = np.random.default_rng(2).choice(3, size=(150, len(MECHANISMS)), p=[0.6, 0.1, 0.3])
    for r in range(150):
        for m in range(len(MECHANISMS)):
            over[r, m] = {0: [0.4, 0.5, 0.1], 1: [0.1, 0.8, 0.1], 2: [0.1, 0.1, 0.8]}[int(gold_over[r, m])]
    probabilities, gold = np.concatenate([under, over]), np.concatenate([gold_under, gold_over])
    offsets, report = held_out_level_offsets(probabilities, gold, [list(range(150)), list(range(150, 300))])
    assert np.array_equal(offsets, np.zeros((len(MECHANISMS), 3)))
    for mech in MECHANISMS:
        assert not report[mech]["kept"]
        assert report[mech]["macro_f1_after"] > report[mech]["macro_f1_before"] + 0.2
        assert report[mech]["held_out_after"] <= report[mech]["held_out_before"]


def test_saved_offsets_change_what_the_loaded_classifier_predicts(tiny_encoder_dir: Path, tmp_path: Path) -> None:
    model = build_for_training(tiny_encoder_dir, ClassifierConfig(seed=2, **TINY))
    pairs = [("I lost my job.", "That is hard. What happened?"), ("Hi", "ok"), ("Help", "Try sleeping more.")]
    save(model, tmp_path / "plain")
    model.set_level_offsets([[0.0, 0.0, 50.0], [0.0, 50.0, 0.0], [0.0, 0.0, 0.0]])
    save(model, tmp_path / "shifted")
    plain = EmpathyScorer.load(tmp_path / "plain", tiny_encoder_dir).score(pairs)
    shifted = EmpathyScorer.load(tmp_path / "shifted", tiny_encoder_dir).score(pairs)
    assert [s.levels["ER"] for s in shifted] == [2, 2, 2]
    assert [s.levels["IP"] for s in shifted] == [1, 1, 1]
    assert [s.levels["EX"] for s in shifted] == [s.levels["EX"] for s in plain]
    # The probabilities a caller sees agree with the levels.
    assert all(max(range(3), key=lambda k: s.probabilities["ER"][k]) == 2 for s in shifted)


def test_a_cross_fitted_run_writes_offsets_and_card_and_resumes_its_teachers(
    tiny_encoder_dir: Path, dev_csv: Path, tmp_path: Path
) -> None:
    train_csv = csv_subset(dev_csv, tmp_path / "train.csv", 40)
    held_csv = csv_subset(dev_csv, tmp_path / "held.csv", 8)
    stages: list[str] = []
    kwargs = {
        "encoder_dir": tiny_encoder_dir,
        "train_csv": train_csv,
        "out_dir": tmp_path / "clf",
        "command": "partner-bot train classifier --cross-fit 2",
        "model_config": ClassifierConfig(seed=4, **TINY),
        "train_config": TrainConfig(epochs=1, batch_size=8, max_steps=2),
        "dev_csv": held_csv,
        "cross_fit": 2,
        "on_stage": stages.append,
    }
    run_training(**kwargs)
    assert stages == ["teacher 1/2", "teacher 2/2", "rationale readings", "student", "int8 calibration"]
    folds = tmp_path / "clf-folds"
    teachers = sorted(folds.glob("fold-*/heads.safetensors"))
    assert len(teachers) == 2
    saved = json.loads((tmp_path / "clf" / "classifier.json").read_text())
    assert len(saved["level_offsets"]) == len(MECHANISMS)
    assert len(saved["rationale_units"]) == len(saved["rationale_thresholds"]) == len(MECHANISMS)
    assert set(saved["rationale_units"]) <= {"token", "sentence"}
    card = (tmp_path / "clf" / "MODEL_CARD.md").read_text()
    assert "## Cross-fitting" in card and "out-of-fold macro-F1" in card and "held out, with" in card
    assert "| mechanism | rows with a rationale |" in card
    assert not list((tmp_path / "clf").glob("fold-*"))

    stamps = [t.stat().st_mtime_ns for t in teachers]
    stages.clear()
    run_training(**kwargs)
    assert [t.stat().st_mtime_ns for t in teachers] == stamps  # finished folds are not trained again
    assert stages == ["teacher 1/2", "teacher 2/2", "rationale readings", "student", "int8 calibration"]
