"""int8 with input ranges measured on training pairs (tiny random-weight encoder): the ranges count real
tokens only and say where they came from, a calibrated folder loads with fixed-range int8 layers whose
scores for a pair do not depend on the pairs beside it, and ranges of another model are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from partner_model.empathy.calibration import RANGES_FILE, calibrate_folder, input_ranges
from partner_model.empathy.inference import EmpathyScorer
from partner_model.empathy.model import ClassifierConfig, build_for_training, save
from partner_model.quantization import StaticInt8Linear, quantize_linear_layers
from tests.factories import csv_subset

TINY = {"max_length": 64, "max_seeker_tokens": 16, "lora_r": 4, "lora_alpha": 8}
SHORT = ("I lost my job.", "That is hard.")
LONG = ("Nobody writes back to me, not even my sister, and I am tired.", "What happened with your sister? " * 6)
ODD = ("😭😭😭", "```python\nwhile True:\n    print('x' * 10**6)\n```")


@pytest.fixture
def folder(tiny_encoder_dir: Path, tmp_path: Path) -> Path:
    save(build_for_training(tiny_encoder_dir, ClassifierConfig(seed=2, **TINY)), tmp_path / "clf")
    return tmp_path / "clf"


def test_ranges_count_real_tokens_only(folder: Path, tiny_encoder_dir: Path) -> None:
    scorer = EmpathyScorer.load(folder, tiny_encoder_dir)
    short, long = input_ranges(scorer, [SHORT]), input_ranges(scorer, [LONG])
    together = input_ranges(scorer, [SHORT, LONG])  # SHORT is padded to LONG's length here
    assert set(together) == set(short) and len(together) == 10  # 2 blocks x q, k, v, attention out, intermediate
    for name, seen in together.items():
        expected = torch.stack(
            [torch.minimum(short[name][0], long[name][0]), torch.maximum(short[name][1], long[name][1])]
        )
        assert torch.allclose(seen, expected, atol=1e-4), name


def test_a_calibrated_folder_scores_a_pair_the_same_whatever_is_beside_it(
    folder: Path, tiny_encoder_dir: Path, dev_csv: Path, tmp_path: Path
) -> None:
    train = csv_subset(dev_csv, tmp_path / "train.csv", 20)
    float_scorer = EmpathyScorer.load(folder, tiny_encoder_dir)
    assert calibrate_folder(float_scorer, folder, train, "partner-bot train calibration --classifier clf") == 20
    with safe_open(folder / RANGES_FILE, "pt") as stored:
        assert stored.metadata()["command"].startswith("partner-bot train calibration")
        assert stored.metadata()["data"].startswith("train.csv (sha256 ")
    scorer = EmpathyScorer.load(folder, tiny_encoder_dir, quantize=True)
    assert sum(isinstance(m, StaticInt8Linear) for m in scorer.model.encoder.modules()) == 10
    alone = scorer.score([SHORT])[0]
    beside = scorer.score([SHORT, LONG, ODD])[0]
    assert alone.levels == beside.levels
    for mech, probabilities in alone.probabilities.items():
        assert probabilities == pytest.approx(beside.probabilities[mech], abs=1e-4)


def test_ranges_of_another_model_are_refused(folder: Path, tiny_encoder_dir: Path) -> None:
    scorer = EmpathyScorer.load(folder, tiny_encoder_dir)
    ranges = input_ranges(scorer, [SHORT])
    ranges.pop(next(iter(ranges)))
    with pytest.raises(ValueError, match="another model"):
        quantize_linear_layers(scorer.model.encoder, input_ranges=ranges)
