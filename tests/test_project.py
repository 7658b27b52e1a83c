"""Project hygiene that keeps CI honest: lint clean, and CI runs the README's own test command."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command() -> None:
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert first_block is not None
    commands = [line.strip() for line in first_block.group(1).splitlines() if line.strip() and not line.startswith("#")]
    assert len(commands) == 2
    assert commands[1] == ci_command


def test_ruff_finds_nothing() -> None:
    lint = subprocess.run(["ruff", "check", str(ROOT)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(["ruff", "format", "--check", str(ROOT)], capture_output=True, text=True, check=False)
    assert fmt.returncode == 0, fmt.stdout
