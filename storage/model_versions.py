"""Trained model versions: which one is active, so workers can switch without a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from storage.models import ModelStatus, ModelVersion, TrainingRun


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


def version_metrics(engine: Engine, kind: str, version: str) -> dict:
    """The figures a version was stored with (its gate evaluation); {} if it has none. Read only by
    retraining, so workers polling active_version do not load them."""
    with Session(engine) as session:
        found = session.scalar(
            select(ModelVersion.metrics).where(ModelVersion.kind == kind, ModelVersion.version == version)
        )
    return found or {}


class VersionError(ValueError):
    """A promote or rollback that cannot be done, said in words."""


def add_version(
    session: Session,
    kind: str,
    version: str,
    path: str,
    parent: str | None,
    metrics: dict,
    data_counts: dict,
    now: datetime,
    status: ModelStatus = ModelStatus.CANDIDATE,
) -> ModelVersion:
    row = ModelVersion(
        kind=kind,
        version=version,
        parent_version=parent,
        path=path,
        status=status,
        metrics=metrics,
        data_counts=data_counts,
        created_at=now,
        promoted_at=now if status == ModelStatus.ACTIVE else None,
    )
    session.add(row)
    session.flush()
    return row


def list_versions(session: Session, kind: str) -> list[ModelVersion]:
    return list(session.scalars(select(ModelVersion).where(ModelVersion.kind == kind).order_by(ModelVersion.id)))


def promote(session: Session, kind: str, version: str, now: datetime) -> ModelVersion:
    """Make this version the active one; the one active before is retired (rollback returns to it)."""
    row = session.scalar(select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == version))
    if row is None:
        raise VersionError(f"no {kind} version {version!r}")
    if row.status == ModelStatus.ACTIVE:
        raise VersionError(f"{version} is already active")
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.kind == kind, ModelVersion.status == ModelStatus.ACTIVE)
        .values(status=ModelStatus.RETIRED)
    )
    row.status = ModelStatus.ACTIVE
    row.promoted_at = now
    return row


def rollback(session: Session, kind: str, now: datetime) -> ModelVersion | None:
    """Retire the active version and reactivate its parent; None when the parent is the shipped model
    (no row): then nothing is active and workers use the shipped adapter."""
    active = session.scalar(
        select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.status == ModelStatus.ACTIVE)
    )
    if active is None:
        raise VersionError(f"no active {kind} version to roll back: the shipped one is in use")
    active.status = ModelStatus.REJECTED
    parent = None
    if active.parent_version is not None:
        parent = session.scalar(
            select(ModelVersion).where(ModelVersion.kind == kind, ModelVersion.version == active.parent_version)
        )
    if parent is not None:
        parent.status = ModelStatus.ACTIVE
        parent.promoted_at = now
    return parent


def record_training_run(session: Session, run: TrainingRun) -> int:
    """Every retraining attempt is kept, the skipped and failed ones with their reason."""
    session.add(run)
    session.flush()
    return run.id


def active_since(session: Session, kind: str) -> datetime | None:
    """When the active version was promoted: feedback after that is new to it."""
    return session.scalar(
        select(ModelVersion.promoted_at).where(ModelVersion.kind == kind, ModelVersion.status == ModelStatus.ACTIVE)
    )
