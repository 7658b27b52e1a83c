"""Model cards: a trained artefact carries the data, command, date and figures that made it,
so it can be audited without the code that trained it."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"
DATA_NOTE = (
    "The EPITOME data (Sharma et al., EMNLP 2020) is used under its research licence and is not part of "
    "this repository; only the trained adapter and heads are."
)


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def provenance(command: str, data_csv: Path, **details: str) -> dict[str, str]:
    """Where a measured file came from (command, data digest, date, details), for its metadata."""
    return {
        "command": command,
        "data": f"{data_csv.name} (sha256 {file_digest(data_csv)})",
        **details,
        "created": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    }


def write_card(folder: Path, title: str, command: str, sections: dict[str, str], metrics: dict[str, Any]) -> None:
    """MODEL_CARD.md (for people) and metrics.json (for programs) beside the weights."""
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    (folder / METRICS_FILE).write_text(json.dumps({"created": created, "command": command, **metrics}, indent=2))
    body = "\n\n".join(f"## {name}\n{text.strip()}" for name, text in sections.items())
    (folder / CARD_FILE).write_text(f"# {title}\n\nCreated {created} with:\n\n    {command}\n\n{body}\n\n{DATA_NOTE}\n")
