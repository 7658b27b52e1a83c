"""Read EPITOME-format CSV files into typed examples with rationale character spans."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from partner_model.empathy import MECHANISMS

REQUIRED_COLUMNS = ("seeker_post", "response_post", *MECHANISMS, *(f"{m}_rationales" for m in MECHANISMS))


class DataFormatError(ValueError):
    """The file is not in the format of ../shared/data/epitome/*.csv."""


@dataclass(frozen=True)
class EpitomeExample:
    seeker: str
    response: str
    levels: dict[str, int]
    # Character spans of the response that carry each mechanism, from the annotators.
    rationales: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    seeker_id: str = ""
    response_id: str = ""

    @property
    def total(self) -> int:
        return sum(self.levels.values())

    @property
    def seeker_key(self) -> str:
        """What groups replies to one seeker post, so splits never put it on both sides."""
        return self.seeker_id or self.seeker


def locate_spans(text: str, fragments: list[str]) -> list[tuple[int, int]]:
    """Character spans of each fragment in text; fragments not found (rare annotation noise) are dropped.

    >>> locate_spans("I hear you. Do you want to talk?", ["Do you want to talk?"])
    [(12, 32)]
    """
    spans: list[tuple[int, int]] = []
    for fragment in fragments:
        fragment = fragment.strip()
        if not fragment:
            continue
        start = text.find(fragment)
        if start >= 0:
            spans.append((start, start + len(fragment)))
    return sorted(spans)


def read_epitome_csv(path: Path) -> list[EpitomeExample]:
    """Examples from an EPITOME CSV; raises DataFormatError naming missing columns or bad levels."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DataFormatError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DataFormatError(f"{path} lacks the columns {', '.join(missing)} (expected EPITOME's format)")
        examples = []
        for line, row in enumerate(reader, start=2):
            try:
                levels = {m: int(row[m]) for m in MECHANISMS}
            except ValueError as exc:
                raise DataFormatError(f"{path}:{line}: a level is not 0, 1 or 2") from exc
            if any(level not in (0, 1, 2) for level in levels.values()):
                raise DataFormatError(f"{path}:{line}: a level is not 0, 1 or 2")
            response = row["response_post"]
            rationales = {m: locate_spans(response, row[f"{m}_rationales"].split("|")) for m in MECHANISMS}
            examples.append(
                EpitomeExample(
                    seeker=row["seeker_post"],
                    response=response,
                    levels=levels,
                    rationales=rationales,
                    seeker_id=row.get("sp_id", ""),
                    response_id=row.get("rp_id", ""),
                )
            )
    return examples
