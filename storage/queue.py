"""The durable job queue on the SQL database itself (the pattern procrastinate uses).

At-least-once with leases: claiming flips a job to running with a lease in one statement
(`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)` on PostgreSQL; SQLite serialises
writers, so the same single statement is atomic there); a worker that dies leaves its lease to
expire and the job is claimed again; a job that keeps failing goes dead with its last error.
A job's results and its change to done are committed in one transaction by the caller, and
`complete` refuses a job whose lease was lost, so results are never written twice.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, select, text, update
from sqlalchemy.orm import Session

from storage.clock import Clock
from storage.models import Job, JobStatus
from storage.retry import RetryPolicy

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "partner_jobs"
MAX_ERROR_CHARS = 4000


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    task: str
    payload: dict[str, Any]
    attempts: int
    unique_key: str | None


@dataclass(frozen=True)
class QueueStats:
    queued: int
    running: int
    dead: int
    oldest_queued_age_s: float


class LeaseLost(RuntimeError):
    """The job is no longer this worker's: its lease expired and another worker may have it."""


class JobQueue:
    def __init__(
        self, engine: Engine, clock: Clock, retry: RetryPolicy | None = None, lease: timedelta = timedelta(minutes=5)
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.retry = retry or RetryPolicy()
        self.lease = lease
        self.is_postgres = engine.dialect.name == "postgresql"

    def _insert(self) -> Any:
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        return dialect_insert(Job)

    def enqueue(
        self,
        task: str,
        payload: dict[str, Any],
        unique_key: str | None = None,
        run_after: datetime | None = None,
        session: Session | None = None,
    ) -> int:
        """Queue a job; with a unique_key already taken, the existing job's id is returned instead."""
        now = self.clock.now()
        values = dict(
            task=task,
            payload=payload,
            status=JobStatus.QUEUED,
            attempts=0,
            max_attempts=self.retry.max_attempts,
            run_after=run_after or now,
            unique_key=unique_key,
            created_at=now,
            updated_at=now,
        )
        statement = self._insert().values(**values).on_conflict_do_nothing(index_elements=["unique_key"])
        statement = statement.returning(Job.id)

        def run(s: Session) -> int:
            job_id = s.execute(statement).scalar()
            if job_id is None:
                job_id = s.execute(select(Job.id).where(Job.unique_key == unique_key)).scalar_one()
            elif self.is_postgres:
                s.execute(text("SELECT pg_notify(:channel, :task)"), {"channel": NOTIFY_CHANNEL, "task": task})
            return int(job_id)

        if session is not None:
            return run(session)
        with Session(self.engine) as s, s.begin():
            return run(s)

    def claim(self, worker_id: str, limit: int, tasks: list[str] | None = None) -> list[ClaimedJob]:
        """Up to `limit` due jobs, now running under this worker's lease."""
        self.reap_expired()
        now = self.clock.now()
        due = select(Job.id).where(Job.status == JobStatus.QUEUED, Job.run_after <= now)
        if tasks:
            due = due.where(Job.task.in_(tasks))
        due = due.order_by(Job.run_after, Job.id).limit(limit)
        if self.is_postgres:
            due = due.with_for_update(skip_locked=True)
        statement = (
            update(Job)
            .where(Job.id.in_(due.scalar_subquery()))
            .values(
                status=JobStatus.RUNNING,
                attempts=Job.attempts + 1,
                worker_id=worker_id,
                lease_expires_at=now + self.lease,
                heartbeat_at=now,
                updated_at=now,
            )
            .returning(Job.id, Job.task, Job.payload, Job.attempts, Job.unique_key)
            .execution_options(synchronize_session=False)
        )
        with Session(self.engine) as s, s.begin():
            rows = s.execute(statement).all()
        return sorted((ClaimedJob(*row) for row in rows), key=lambda job: job.id)

    def _update_held(self, worker_id: str, job_ids: list[int], values: dict[str, Any]) -> int:
        """Update the jobs this worker still holds (running, its id); returns how many it held."""
        if not job_ids:
            return 0
        statement = (
            update(Job)
            .where(Job.id.in_(job_ids), Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
            .values(values)
            .execution_options(synchronize_session=False)
        )
        with Session(self.engine) as s, s.begin():
            return s.execute(statement).rowcount

    def heartbeat(self, worker_id: str, job_ids: list[int]) -> int:
        """Extend the leases this worker still holds; returns how many it still holds."""
        now = self.clock.now()
        return self._update_held(worker_id, job_ids, {"lease_expires_at": now + self.lease, "heartbeat_at": now})

    def complete(self, session: Session, job_id: int, worker_id: str) -> None:
        """Mark done inside the caller's transaction (beside the job's results); raises LeaseLost."""
        now = self.clock.now()
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == JobStatus.RUNNING)
            .values(status=JobStatus.DONE, finished_at=now, updated_at=now, lease_expires_at=None, last_error=None)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise LeaseLost(f"job {job_id} is no longer held by {worker_id}")

    def fail(self, job_id: int, worker_id: str, error: str) -> str:
        """Record a failure: queued again after the retry policy's delay, or dead. Returns the new status."""
        now = self.clock.now()
        with Session(self.engine) as s, s.begin():
            job = s.get(Job, job_id, with_for_update=self.is_postgres)
            if job is None or job.worker_id != worker_id or job.status != JobStatus.RUNNING:
                return job.status if job else "missing"
            delay = replace(self.retry, max_attempts=job.max_attempts).next_delay(job.attempts)
            job.last_error = error[-MAX_ERROR_CHARS:]
            job.worker_id = None
            job.lease_expires_at = None
            job.updated_at = now
            if delay is None:
                job.status = JobStatus.DEAD
                job.finished_at = now
                log.error("job %s (%s) is dead after %s attempts: %s", job_id, job.task, job.attempts, error[-300:])
            else:
                job.status = JobStatus.QUEUED
                job.run_after = now + delay
            return job.status

    def release(self, worker_id: str, job_ids: list[int]) -> int:
        """Give jobs back untouched (shutdown): queued again, the attempt not counted."""
        values = {
            "status": JobStatus.QUEUED,
            "attempts": Job.attempts - 1,
            "worker_id": None,
            "lease_expires_at": None,
            "updated_at": self.clock.now(),
        }
        return self._update_held(worker_id, job_ids, values)

    def reap_expired(self) -> int:
        """Jobs whose worker stopped renewing its lease: queued again, or dead when out of attempts."""
        now = self.clock.now()
        expired = and_(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
        note = "lease expired: the worker stopped (killed, crashed or hung) before finishing"
        with Session(self.engine) as s, s.begin():
            dead = s.execute(
                update(Job)
                .where(expired, Job.attempts >= Job.max_attempts)
                .values(
                    status=JobStatus.DEAD,
                    worker_id=None,
                    lease_expires_at=None,
                    last_error=note,
                    finished_at=now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            again = s.execute(
                update(Job)
                .where(expired, Job.attempts < Job.max_attempts)
                .values(status=JobStatus.QUEUED, worker_id=None, lease_expires_at=None, last_error=note, updated_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
        if dead or again:
            log.warning("reaped %s expired leases (%s queued again, %s dead)", dead + again, again, dead)
        return dead + again

    def cancel(self, unique_key: str, session: Session | None = None) -> bool:
        """Cancel a job that has not started (e.g. its reply was deleted); True if one was cancelled."""
        now = self.clock.now()
        statement = (
            update(Job)
            .where(Job.unique_key == unique_key, Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if session is not None:
            return session.execute(statement).rowcount > 0
        with Session(self.engine) as s, s.begin():
            return s.execute(statement).rowcount > 0

    def stats(self) -> QueueStats:
        now = self.clock.now()
        with Session(self.engine) as s:
            counts = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
            oldest = s.execute(select(func.min(Job.created_at)).where(Job.status == JobStatus.QUEUED)).scalar()
        return QueueStats(
            queued=counts.get(JobStatus.QUEUED, 0),
            running=counts.get(JobStatus.RUNNING, 0),
            dead=counts.get(JobStatus.DEAD, 0),
            oldest_queued_age_s=(now - oldest).total_seconds() if oldest else 0.0,
        )


class JobWaiter:
    """Sleeps until a job may be due: LISTEN/NOTIFY on PostgreSQL, plain polling on SQLite."""

    def __init__(self, engine: Engine, poll_interval_s: float) -> None:
        self.poll_interval_s = poll_interval_s
        self._connection: Any = None
        if engine.dialect.name == "postgresql":
            import psycopg

            url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._connection = psycopg.connect(url, autocommit=True)
            self._connection.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, timeout_s: float | None = None) -> bool:
        """True when woken by a notification, False after the timeout (poll anyway)."""
        timeout = self.poll_interval_s if timeout_s is None else timeout_s
        if self._connection is None:
            time.sleep(timeout)
            return False
        for _ in self._connection.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
