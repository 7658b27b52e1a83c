"""The shipped classifier: loads offline, orders obvious cases right, survives hostile input,
and its commands print what the contract says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import load_settings
from partner_model.empathy.inference import EmpathyScorer, EmptyTextError
from partner_model.text import split_sentences
from tests.factories import csv_subset

pytestmark = pytest.mark.slow

SEEKER = "I lost my job today and I feel like a complete failure. I don't know what to do anymore."


@pytest.fixture(scope="module")
def scorer(real_encoder_dir: Path) -> EmpathyScorer:
    models = load_settings().models
    return EmpathyScorer.load(models.classifier_dir, real_encoder_dir)


def test_it_loads_offline(scorer: EmpathyScorer) -> None:
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert scorer.version.startswith("classifier-")


def test_naming_the_feeling_scores_higher_emotional_reaction_than_ok(scorer: EmpathyScorer) -> None:
    warm, flat = scorer.score(
        [
            (SEEKER, "I'm so sorry, that must feel awful and I really feel for you."),
            (SEEKER, "ok"),
        ]
    )
    assert warm.levels["ER"] > flat.levels["ER"]
    assert warm.probabilities["ER"][0] < flat.probabilities["ER"][0]


def test_asking_about_their_experience_scores_higher_exploration(scorer: EmpathyScorer) -> None:
    asking, telling = scorer.score(
        [
            (SEEKER, "What happened at work? How are you feeling about it right now?"),
            (SEEKER, "Jobs come and go. Update your resume and apply to new ones."),
        ]
    )
    assert asking.levels["EX"] > telling.levels["EX"]
    assert asking.rationales["EX"], "an exploration should come with the words that carry it"


def test_relating_to_the_experience_scores_higher_interpretation(scorer: EmpathyScorer) -> None:
    relating, flat = scorer.score(
        [
            (
                SEEKER,
                "I understand how you feel, I went through the same thing last year and it took me a while.",
            ),
            (SEEKER, "Get a new job."),
        ]
    )
    assert relating.levels["IP"] > flat.levels["IP"]


def test_rationales_are_whole_sentences_of_the_reply(scorer: EmpathyScorer) -> None:
    """A supporter is shown the sentences that carry each mechanism, not loose words."""
    reply = "That sounds really painful. What happened at work? How are you feeling about it right now?"
    (result,) = scorer.score([(SEEKER, reply)])
    shown = result.rationale_texts(reply)
    assert "What happened at work?" in shown["EX"]
    assert {text for texts in shown.values() for text in texts} <= set(split_sentences(reply))


@pytest.mark.parametrize("response", ["", "   \n\t  "])
def test_empty_responses_are_a_clear_error(scorer: EmpathyScorer, response: str) -> None:
    with pytest.raises(EmptyTextError, match="empty"):
        scorer.score([(SEEKER, response)])


@pytest.mark.parametrize(
    "response",
    [
        "You are not alone. " * 1053,  # 20,000 characters
        "😢😢😢🙏🙏❤️❤️❤️",
        "Lo siento mucho, eso suena muy difícil. ¿Qué pasó?",
        "```python\nprint('hello')\n```",
        "I'm\x00 so\x1b[31m sorry\u200b\u202e for your loss",
        "a",
    ],
    ids=["20k-chars", "emoji", "spanish", "code-block", "control-chars", "one-letter"],
)
def test_hostile_input_gets_a_result(scorer: EmpathyScorer, response: str) -> None:
    (result,) = scorer.score([(SEEKER, response)])
    assert 0 <= result.total <= 6
    for spans in result.rationales.values():
        for start, end in spans:
            assert 0 <= start < end <= len(response)
    if len(response) > 10_000:
        assert result.truncated


def test_an_empty_seeker_post_is_allowed(scorer: EmpathyScorer) -> None:
    (result,) = scorer.score([("", "That sounds hard.")])
    assert 0 <= result.total <= 6


def test_batched_scores_match_single_scores(scorer: EmpathyScorer) -> None:
    pairs = [(SEEKER, "That sounds hard."), (SEEKER, "What happened?"), ("hi", "ok " * 50)]
    batched = scorer.score(pairs)
    singles = [scorer.score([pair])[0] for pair in pairs]
    assert [b.levels for b in batched] == [s.levels for s in singles]


def test_int8_as_deployed_scores_a_pair_the_same_whatever_is_scored_beside_it(real_encoder_dir: Path) -> None:
    models = load_settings().models
    int8 = EmpathyScorer.load(models.classifier_dir, real_encoder_dir, quantize=True)
    pairs = [
        (SEEKER, "That sounds hard. What happened?"),
        (SEEKER, "I'm so sorry, that must feel awful."),
        (SEEKER, "Update your resume."),
    ]
    # Long, odd neighbours widen a batch's activations: with one input scale per batch they moved these
    # pairs' probabilities by up to 0.04.
    neighbours = [
        ("hi", "```python\nfor i in range(10):\n    print(i)\n```" * 30),
        ("😀", "😭😭😭 " * 200),
        (SEEKER, "I know how you feel. " * 100),
    ]
    beside = int8.score(pairs + neighbours)[: len(pairs)]
    for pair, scored in zip(pairs, beside, strict=True):
        (alone,) = int8.score([pair])
        assert alone.levels == scored.levels
        for mech, probabilities in alone.probabilities.items():
            assert probabilities == pytest.approx(scored.probabilities[mech], abs=2e-3)


def test_train_calibration_measures_a_classifier_folder(dev_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "classifier"
    shutil.copytree(load_settings().models.classifier_dir, folder, ignore=shutil.ignore_patterns("input_ranges.*"))
    train = csv_subset(dev_csv, tmp_path / "train.csv", 16)
    clash = _cli("train", "calibration", "--train", str(train), "--classifier", str(folder), "--out", "x.safetensors")
    assert clash.returncode != 0 and "saved in its folder" in clash.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = _cli("train", "calibration", "--train", str(train), "--classifier", str(empty))
    assert missing.returncode != 0 and "no trained classifier there" in missing.stderr
    result = _cli("train", "calibration", "--train", str(train), "--classifier", str(folder))
    assert result.returncode == 0, result.stderr
    assert "int8 input ranges of 16 pairs" in result.stderr
    assert (folder / "input_ranges.safetensors").is_file()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNER_")}
    return subprocess.run(["partner-bot", *args], capture_output=True, text=True, env=env, timeout=600, check=False)


def test_evaluate_classifier_prints_the_contract_json(dev_csv: Path, tmp_path: Path) -> None:
    subset = csv_subset(dev_csv, tmp_path / "subset.csv", 40)
    result = _cli("evaluate", "classifier", "--data", str(subset), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for mech in ("ER", "IP", "EX"):
        assert 0.0 <= data[mech]["accuracy"] <= 1.0
        assert 0.0 <= data[mech]["macro_f1"] <= 1.0
    assert 0.0 <= data["rationale_f1"] <= 1.0
    assert data["n"] == 40


def test_score_command_reads_like_a_report_and_as_json() -> None:
    human = _cli("score", SEEKER, "I'm so sorry. What happened?")
    assert human.returncode == 0, human.stderr
    assert "total empathy" in human.stdout and "emotional reactions" in human.stdout
    assert "⟦What happened?⟧EX" in human.stdout
    machine = _cli("score", SEEKER, "I'm so sorry. What happened?", "--json")
    data = json.loads(machine.stdout)
    assert data["total"] == sum(data["levels"].values())
    empty = _cli("score", SEEKER, "   ")
    assert empty.returncode == 2 and "empty" in empty.stderr and "Traceback" not in empty.stderr
