"""Model cards: a trained artefact carries the data, command, date and figures that made it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from partner_model.empathy import MECHANISMS

CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def write_card(
    folder: Path,
    title: str,
    command: str,
    data: dict[str, Any],
    report: dict[str, Any],
    training: dict[str, Any],
    notes: str = "",
) -> None:
    """Write MODEL_CARD.md and metrics.json beside the weights."""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (folder / METRICS_FILE).write_text(
        json.dumps(
            {"created": created, "command": command, "data": data, "report": report, "training": training},
            indent=2,
        )
    )
    rows = []
    for mech in MECHANISMS:
        r = report[mech]
        rows.append(
            f"| {mech} | {r['accuracy']:.3f} [{r['accuracy_ci95'][0]:.3f}, {r['accuracy_ci95'][1]:.3f}] "
            f"| {r['macro_f1']:.3f} [{r['macro_f1_ci95'][0]:.3f}, {r['macro_f1_ci95'][1]:.3f}] "
            f"| {r['rationale_f1']:.3f} |"
        )
    data_lines = "\n".join(f"- {name}: {info}" for name, info in data.items())
    card = f"""# {title}

Created {created} with:

    {command}

## Data
{data_lines}

The EPITOME data (Sharma et al., EMNLP 2020) is used under its research licence and is not part
of this repository; only the trained adapter and heads are.

## Figures on {report.get("name", "the report set")} (n = {report["n"]}), 95% bootstrap intervals

| mechanism | accuracy | macro-F1 | rationale F1 |
| --- | --- | --- | --- |
{chr(10).join(rows)}

Rationale F1 (mean over mechanisms): {report["rationale_f1"]:.3f}

## Training
Best epoch {training.get("best_epoch")} of {training.get("epochs_run")}; configuration in
classifier.json and metrics.json.

{notes}
"""
    (folder / CARD_FILE).write_text(card)
