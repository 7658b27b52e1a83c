"""The durable queue on SQLite and PostgreSQL: exactly-once results across processes, recovery after
SIGKILL, dead jobs after N attempts, idempotent enqueue, cancellation and figures."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select, text

from bot.settings import normalise_database_url
from storage import migrate
from storage.clock import ManualClock
from storage.engine import make_engine
from storage.models import Job, JobStatus
from storage.queue import ClaimedJob, JobQueue, JobWaiter
from storage.retry import RetryPolicy
from storage.worker import JobResult, Worker
from tests.storage.queue_procs import EFFECTS_DDL, record_effect, run_worker


@pytest.fixture
def queue_engine(empty_database_url: str) -> Iterator[Engine]:
    engine = make_engine(normalise_database_url(empty_database_url))
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text(EFFECTS_DDL))
    yield engine
    engine.dispose()


def _effects(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT job_id, COUNT(*) FROM effects GROUP BY job_id")).all()
    return {int(job_id): int(count) for job_id, count in rows}


def _statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return dict(connection.execute(select(Job.status, func.count()).group_by(Job.status)).all())


def test_enqueue_twice_with_the_same_key_gives_one_job(queue_engine: Engine) -> None:
    queue = JobQueue(queue_engine, ManualClock())
    first = queue.enqueue("rewrite", {"reply": 1}, unique_key="rewrite:1")
    second = queue.enqueue("rewrite", {"reply": 1}, unique_key="rewrite:1")
    assert first == second
    assert queue.stats().queued == 1


def test_a_job_is_not_claimed_before_it_is_due(queue_engine: Engine) -> None:
    clock = ManualClock()
    queue = JobQueue(queue_engine, clock)
    queue.enqueue("effect", {}, run_after=clock.now() + timedelta(minutes=10))
    assert queue.claim("w", 10) == []
    clock.advance(timedelta(minutes=10))
    assert len(queue.claim("w", 10)) == 1


def test_three_worker_processes_do_300_jobs_exactly_once(queue_engine: Engine, empty_database_url: str) -> None:
    queue = JobQueue(queue_engine, ManualClock())
    ids = {queue.enqueue("effect", {"n": n}) for n in range(300)}
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=run_worker, args=(empty_database_url, f"w{i}", 30.0, 0.01, 8, 2.0)) for i in range(3)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=180)
        assert process.exitcode == 0
    effects = _effects(queue_engine)
    assert set(effects) == ids
    assert set(effects.values()) == {1}
    assert _statuses(queue_engine) == {JobStatus.DONE: 300}


def test_a_worker_killed_mid_batch_leaves_its_jobs_to_another_after_the_lease(
    queue_engine: Engine, empty_database_url: str
) -> None:
    queue = JobQueue(queue_engine, ManualClock())
    ids = {queue.enqueue("effect", {"n": n}) for n in range(6)}
    context = multiprocessing.get_context("spawn")
    slow = context.Process(target=run_worker, args=(empty_database_url, "doomed", 2.0, 60.0, 6, 60.0))
    slow.start()
    deadline = time.monotonic() + 60
    while _statuses(queue_engine).get(JobStatus.RUNNING, 0) < 6:
        assert time.monotonic() < deadline, "the first worker never claimed the batch"
        time.sleep(0.1)
    os.kill(slow.pid, signal.SIGKILL)
    slow.join()
    rescuer = context.Process(target=run_worker, args=(empty_database_url, "rescuer", 30.0, 0.0, 6, 4.0))
    rescuer.start()
    rescuer.join(timeout=120)
    assert rescuer.exitcode == 0
    effects = _effects(queue_engine)
    assert set(effects) == ids and set(effects.values()) == {1}
    with queue_engine.connect() as connection:
        rows = connection.execute(select(Job.status, Job.attempts, Job.last_error)).all()
    assert {r.status for r in rows} == {JobStatus.DONE}
    assert {r.attempts for r in rows} == {2}


def test_a_job_that_always_fails_goes_dead_with_its_error_and_spares_the_others(queue_engine: Engine) -> None:
    clock = ManualClock()
    queue = JobQueue(queue_engine, clock, RetryPolicy(max_attempts=3, base_delay_s=5, factor=2))
    bad = queue.enqueue("effect", {"fail": True})
    good = [queue.enqueue("effect", {"fail": False}) for _ in range(3)]
    effect = record_effect("w", 0.0)

    def handler(jobs: list[ClaimedJob]) -> list[JobResult]:
        writers = effect(jobs)
        return [
            ValueError("the model cannot rewrite this") if j.payload["fail"] else w
            for j, w in zip(jobs, writers, strict=True)
        ]

    worker = Worker(queue, {"effect": handler}, "w", batch_size=10)
    for _ in range(5):
        worker.run_once()
        clock.advance(timedelta(minutes=1))
    with queue_engine.connect() as connection:
        job = connection.execute(select(Job).where(Job.id == bad)).one()
    assert job.status == JobStatus.DEAD
    assert job.attempts == 3
    assert "ValueError: the model cannot rewrite this" in job.last_error
    assert _effects(queue_engine) == {g: 1 for g in good}
    assert queue.stats().dead == 1


def test_a_late_result_after_a_lost_lease_is_not_stored(queue_engine: Engine) -> None:
    clock = ManualClock()
    queue = JobQueue(queue_engine, clock, lease=timedelta(seconds=30))
    queue.enqueue("effect", {})
    stale = Worker(queue, {"effect": record_effect("stale", 0.0)}, "stale")
    (job,) = queue.claim("stale", 1)
    clock.advance(timedelta(seconds=31))
    (again,) = queue.claim("fresh", 1)
    assert again.id == job.id
    assert stale._finish(job, record_effect("stale", 0.0)([job])[0]) is False
    assert _effects(queue_engine) == {}


def test_cancel_release_and_figures(queue_engine: Engine) -> None:
    clock = ManualClock()
    queue = JobQueue(queue_engine, clock)
    queue.enqueue("rewrite", {}, unique_key="rewrite:7")
    queue.enqueue("effect", {})
    queue.enqueue("effect", {})
    clock.advance(timedelta(seconds=90))
    assert queue.cancel("rewrite:7") is True
    assert queue.cancel("rewrite:7") is False
    claimed = queue.claim("w", 1, ["effect"])
    stats = queue.stats()
    assert (stats.queued, stats.running, stats.dead) == (1, 1, 0)
    assert stats.oldest_queued_age_s == pytest.approx(90)
    assert queue.release("w", [c.id for c in claimed]) == 1
    assert queue.stats().queued == 2
    with queue_engine.connect() as connection:
        attempts = connection.execute(select(Job.attempts).where(Job.id == claimed[0].id)).scalar()
    assert attempts == 0


def test_a_waiter_wakes_on_a_new_job_on_postgres_and_polls_on_sqlite(queue_engine: Engine) -> None:
    queue = JobQueue(queue_engine, ManualClock())
    waiter = JobWaiter(queue_engine, poll_interval_s=0.2)
    try:
        queue.enqueue("effect", {})
        woke = waiter.wait(timeout_s=5)
    finally:
        waiter.close()
    assert woke is (queue_engine.dialect.name == "postgresql")
