"""`partner-bot run` without a token and `partner-bot demo` end to end with the real models."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=900,
    )


def test_run_without_a_token_names_the_variable_and_the_demo() -> None:
    environment = {k: v for k, v in os.environ.items() if k != "PARTNER_DISCORD_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], capture_output=True, text=True, env=environment, timeout=120
    )
    assert result.returncode == 2
    assert "PARTNER_DISCORD_TOKEN" in result.stderr and "partner-bot demo" in result.stderr


@pytest.mark.slow
def test_demo_replays_exchanges_through_the_whole_pipeline() -> None:
    result = _cli("demo", "--limit", "4")
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert out.count("Seeker:") == 4
    # An exchange the classifier finds low in empathy gets a DM with suggestions, and its supporter clicks;
    # one whose sampled sentences all fail the filters gets none, and the demo says so.
    assert "--- DM to the supporter" in out and "1 · " in out and "[Use 1]" in out
    assert "--- the supporter clicks 'Use 1' -> Thank you!" in out
    summary = out.strip().splitlines()[-1]
    counts = re.match(r"demo: 4 replies; (\d+) low in empathy -> (\d+) DMs sent, (\d+) suggestions used", summary)
    assert counts and 1 <= int(counts[2]) <= int(counts[1]) and counts[2] == counts[3], summary
    assert out.count("--- no DM: no suggestion passed") == int(counts[1]) - int(counts[2])
