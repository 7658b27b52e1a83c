"""Trained model versions: which one is active, so workers can switch without a restart."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from storage.models import ModelStatus, ModelVersion


@dataclass(frozen=True)
class ActiveVersion:
    version: str
    path: str


def active_version(engine: Engine, kind: str) -> ActiveVersion | None:
    """The active version of a kind of model, or None (then the shipped artefact is used)."""
    with Session(engine) as session:
        row = session.execute(
            select(ModelVersion.version, ModelVersion.path)
            .where(ModelVersion.kind == kind, ModelVersion.status == ModelStatus.ACTIVE)
            .order_by(ModelVersion.promoted_at.desc(), ModelVersion.id.desc())
            .limit(1)
        ).first()
    return ActiveVersion(row.version, row.path) if row else None
