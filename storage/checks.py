"""Draft checks (/empathy check): the draft travels to a worker in a job's payload and the suggestions
come back in its place; the bot deletes the job when it reads them, so nothing of the draft stays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage.models import Job, JobStatus

CHECK_TASK = "check"


@dataclass(frozen=True)
class CheckResult:
    finished: bool
    suggestions: list[dict[str, Any]]
    error: str | None = None


def store_check_result(session: Session, job_id: int, suggestions: list[dict[str, Any]]) -> None:
    """Replace the payload (which held the draft) by the suggestions."""
    session.execute(update(Job).where(Job.id == job_id).values(payload={"suggestions": suggestions}))


def take_check_result(session: Session, job_id: int) -> CheckResult:
    """The suggestions once the job is done (the job row is then deleted), or not finished yet."""
    row = session.execute(select(Job.status, Job.payload, Job.last_error).where(Job.id == job_id)).first()
    if row is None:
        return CheckResult(True, [], "the check was lost")
    if row.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return CheckResult(False, [])
    session.execute(delete(Job).where(Job.id == job_id))
    if row.status != JobStatus.DONE:
        return CheckResult(True, [], row.last_error or row.status)
    return CheckResult(True, list(row.payload.get("suggestions", [])))


def drop_check(session: Session, job_id: int) -> None:
    """Give up on a check (the member is no longer waiting): the draft goes with the job."""
    session.execute(delete(Job).where(Job.id == job_id))
