"""The `partner-bot` entry point as people and CI call it: a real subprocess each time."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

# The command-line contract of DESIGN.md section 6: every command exists.
EXISTING_COMMANDS = [
    "setup",
    "run",
    "worker",
    "demo",
    "score",
    "rewrite",
    "train",
    "retrain",
    "models",
    "scheduler",
    "evaluate",
    "bench",
    "db",
    "trends",
]


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNER_")}
    full_env.update(env or {})
    return subprocess.run(
        ["partner-bot", *args], capture_output=True, text=True, env=full_env, timeout=timeout, check=False
    )


def test_help_lists_the_commands_and_is_quick() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in EXISTING_COMMANDS:
        assert command in result.stdout
    db_help = run_cli("db", "--help")
    for sub in ("upgrade", "downgrade", "current"):
        assert sub in db_help.stdout
    models_help = run_cli("models", "--help")
    for sub in ("list", "promote", "rollback"):
        assert sub in models_help.stdout


def test_db_upgrade_downgrade_upgrade_and_current(empty_database_url: str) -> None:
    env = {"PARTNER_DATABASE_URL": empty_database_url}
    current = run_cli("db", "current", env=env)
    assert current.returncode == 0, current.stderr
    assert current.stdout.startswith("base (behind")
    head = re.search(r"head is (\w+)", current.stdout)
    assert head is not None, current.stdout
    latest = head.group(1)

    up = run_cli("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert f"upgraded base -> {latest}" in up.stderr
    assert run_cli("db", "current", env=env).stdout.startswith(f"{latest} (up to date)")

    down = run_cli("db", "downgrade", "base", env=env)
    assert down.returncode == 0, down.stderr
    assert "-> base" in down.stderr
    assert run_cli("db", "current", env=env).stdout.startswith("base")

    again = run_cli("db", "upgrade", env=env)
    assert again.returncode == 0, again.stderr
    assert run_cli("db", "current", env=env).stdout.startswith(f"{latest} (up to date)")


def test_a_bad_setting_fails_with_a_message_not_a_traceback() -> None:
    result = run_cli("db", "current", env={"PARTNER_DATABASE_URL": "mysql://nope"})
    assert result.returncode == 2
    assert "PARTNER_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_teacher_folder_without_a_classifier_is_named(tmp_path: Path) -> None:
    train_csv = tmp_path / "train.csv"
    train_csv.write_text("seeker_post,response_post\n")
    result = run_cli(
        "train",
        "classifier",
        "--train",
        str(train_csv),
        "--out",
        str(tmp_path / "out"),
        "--distill-from",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert f"--distill-from {tmp_path}: no trained classifier there" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


def _rl_stage(tmp_path: Path) -> list[str]:
    """`train rewriter --stage rl` on a header-only CSV, started from and written to folders in tmp_path."""
    train_csv = tmp_path / "train.csv"
    train_csv.write_text("seeker_post,response_post\n")
    args = ["--train", str(train_csv), "--init", str(tmp_path), "--out", str(tmp_path / "out")]
    return ["train", "rewriter", "--stage", "rl", *args]


def test_a_reward_classifier_folder_without_a_classifier_is_named(tmp_path: Path) -> None:
    result = run_cli(*_rl_stage(tmp_path), "--reward-classifier", str(tmp_path))
    assert result.returncode == 2
    assert f"--reward-classifier {tmp_path}: no trained classifier there" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


def test_an_opening_of_no_words_is_refused_before_any_training(tmp_path: Path) -> None:
    result = run_cli(*_rl_stage(tmp_path), "--opening", "5", "--opening-words", "0")
    assert result.returncode == 2
    assert "Invalid value for '--opening-words'" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreachable_database_is_named_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://someone:hunter2@127.0.0.1:1/nowhere"
    result = run_cli("setup", env={"PARTNER_DATABASE_URL": url})
    assert result.returncode == 2
    assert "127.0.0.1:1/nowhere" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_the_token_never_reaches_the_output(empty_database_url: str) -> None:
    env = {"PARTNER_DATABASE_URL": empty_database_url, "PARTNER_DISCORD_TOKEN": "tok-very-secret"}
    result = run_cli("-v", "db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert "tok-very-secret" not in result.stdout + result.stderr


@pytest.mark.parametrize("args", [["db", "downgrade"], ["db", "current"]])
def test_db_commands_work_on_a_new_sqlite_file(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*args, env={"PARTNER_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"})
    assert result.returncode == 0, result.stderr


def test_the_score_report_marks_a_sentence_with_every_mechanism_it_carries() -> None:
    from rich.text import Text

    from bot.commands.score import _highlighted
    from partner_model.empathy.inference import EmpathyScore

    reply = "I'm so sorry. What happened? [Call] me."
    levels = {"ER": 1, "IP": 0, "EX": 2}
    result = EmpathyScore(
        levels, {m: [0.0, 1.0, 0.0] for m in levels}, {"ER": [(0, 13)], "IP": [], "EX": [(0, 13), (14, 28)]}
    )
    assert Text.from_markup(_highlighted(reply, result)).plain == "⟦I'm so sorry.⟧ER+EX ⟦What happened?⟧EX [Call] me."
