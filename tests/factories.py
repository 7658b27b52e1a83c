"""Rows and files the tests build again and again, with overridable defaults."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Decision, ScoredReply, Suggestion
from storage.replies import NewSuggestion, store_suggestions

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def scored_reply(**overrides: Any) -> ScoredReply:
    """A scored low-empathy reply queued for rewriting; any column can be overridden."""
    values: dict[str, Any] = dict(
        guild_id=1,
        channel_id=2,
        message_id=900_000_000_000_000_001,
        seeker_message_id=3,
        responder_id=4,
        seeker_id=5,
        er=0,
        ip=0,
        ex=1,
        total=1,
        model_version="test",
        decision=Decision.QUEUED,
        decision_reason="total 1 <= threshold 1",
        response_text="ok",
        seeker_text="I feel alone",
        created_at=NOW,
        updated_at=NOW,
    )
    values.update(overrides)
    return ScoredReply(**values)


def reply_with_suggestions(
    session: Session, suggestions: list[NewSuggestion], version: str = "test", **reply: Any
) -> tuple[ScoredReply, list[Suggestion]]:
    """A scored reply and the suggestions a worker stored for it, as the members' buttons find them."""
    row = scored_reply(**reply)
    session.add(row)
    session.flush()
    store_suggestions(session, row.id, None, version, row.created_at, suggestions)
    session.flush()
    stored = session.scalars(select(Suggestion).where(Suggestion.scored_reply_id == row.id).order_by(Suggestion.rank))
    return row, list(stored)


def csv_subset(
    source: Path, target: Path, rows: int, keep: Callable[[dict[str, str]], bool] = lambda _row: True
) -> Path:
    """The first `rows` rows of an EPITOME CSV that `keep` accepts, written to target (a temp copy)."""
    with source.open(newline="") as src, target.open("w", newline="") as dst:
        reader = csv.DictReader(src)
        writer = csv.DictWriter(dst, fieldnames=reader.fieldnames or [])
        writer.writeheader()
        kept = (row for row in reader if keep(row))
        for _, row in zip(range(rows), kept, strict=False):
            writer.writerow(row)
    return target
