"""Worker processes for the queue tests: a cheap task whose result is one row per execution."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from bot.settings import normalise_database_url
from storage.clock import SystemClock
from storage.engine import make_engine
from storage.queue import ClaimedJob, JobQueue, JobWaiter
from storage.retry import RetryPolicy
from storage.worker import Handler, JobResult, JobWriter, Worker

EFFECTS_DDL = "CREATE TABLE IF NOT EXISTS effects (job_id INTEGER NOT NULL, worker TEXT NOT NULL)"


def record_effect(worker_id: str, delay_s: float) -> Handler:
    def handler(jobs: list[ClaimedJob]) -> list[JobResult]:
        time.sleep(delay_s)

        def writer_for(job: ClaimedJob) -> JobWriter:
            def write(session: Session) -> None:
                session.execute(
                    text("INSERT INTO effects (job_id, worker) VALUES (:j, :w)"), {"j": job.id, "w": worker_id}
                )

            return write

        return [writer_for(job) for job in jobs]

    return handler


def run_worker(url: str, worker_id: str, lease_s: float, delay_s: float, batch: int, idle_timeout_s: float) -> None:
    engine = make_engine(normalise_database_url(url))
    queue = JobQueue(engine, SystemClock(), RetryPolicy(max_attempts=5, base_delay_s=0.1), timedelta(seconds=lease_s))
    worker = Worker(queue, {"effect": record_effect(worker_id, delay_s)}, worker_id, batch_size=batch)
    waiter = JobWaiter(engine, poll_interval_s=0.2)
    try:
        worker.run(waiter, idle_timeout_s=idle_timeout_s)
    finally:
        waiter.close()
        engine.dispose()
