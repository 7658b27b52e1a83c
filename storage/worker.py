"""The worker loop: claim a batch, let the task's handler compute results for all of it at once,
then write each job's results and mark it done in one transaction.

Handlers map a task name to `(jobs) -> list[JobResult]`: the heavy work (a batched model call)
happens once for the batch, outside any transaction; each result is either a writer that stores
that job's rows in a session, or the exception that job failed with. Leases are renewed by a
heartbeat thread while the handler runs, so long batches are not mistaken for dead workers.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from storage.queue import ClaimedJob, JobQueue, JobWaiter, LeaseLost

log = logging.getLogger(__name__)

JobWriter = Callable[[Session], None]
JobResult = JobWriter | Exception
Handler = Callable[[list[ClaimedJob]], list[JobResult]]


@dataclass(frozen=True)
class BatchReport:
    task: str
    jobs: int
    done: int
    failed: int
    seconds: float


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        handlers: dict[str, Handler],
        worker_id: str,
        batch_size: int = 8,
        on_batch: Callable[[BatchReport], None] | None = None,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.worker_id = worker_id
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Claim and process one batch; returns how many jobs it claimed."""
        jobs = self.queue.claim(self.worker_id, self.batch_size, list(self.handlers))
        by_task: dict[str, list[ClaimedJob]] = defaultdict(list)
        for job in jobs:
            by_task[job.task].append(job)
        for task, group in by_task.items():
            self._process(task, group)
        return len(jobs)

    def _process(self, task: str, jobs: list[ClaimedJob]) -> None:
        started = time.monotonic()
        beat = threading.Event()
        ids = [j.id for j in jobs]
        interval = max(0.5, self.queue.lease.total_seconds() / 3)
        pulse = threading.Thread(target=self._heartbeat, args=(ids, beat, interval), daemon=True)
        pulse.start()
        try:
            try:
                results = self.handlers[task](jobs)
                if len(results) != len(jobs):
                    raise RuntimeError(f"handler for {task} returned {len(results)} results for {len(jobs)} jobs")
            except Exception as exc:
                log.exception("handler for %s failed on a batch of %s", task, len(jobs))
                results = [exc] * len(jobs)
            done = failed = 0
            for job, result in zip(jobs, results, strict=True):
                if self._finish(job, result):
                    done += 1
                else:
                    failed += 1
        finally:
            beat.set()
            pulse.join()
        report = BatchReport(task, len(jobs), done, failed, time.monotonic() - started)
        log.info("%s: batch of %s, %s done, %s failed, %.2f s", task, report.jobs, done, failed, report.seconds)
        if self.on_batch:
            self.on_batch(report)

    def _finish(self, job: ClaimedJob, result: JobResult) -> bool:
        if isinstance(result, Exception):
            detail = "".join(traceback.format_exception_only(type(result), result)).strip()
            self.queue.fail(job.id, self.worker_id, detail)
            return False
        try:
            with Session(self.queue.engine) as session, session.begin():
                result(session)
                self.queue.complete(session, job.id, self.worker_id)
        except LeaseLost:
            log.warning("job %s: lease lost before its results were stored; another worker will redo it", job.id)
            return False
        except Exception as exc:
            log.exception("job %s: storing results failed", job.id)
            self.queue.fail(job.id, self.worker_id, f"{type(exc).__name__}: {exc}")
            return False
        return True

    def _heartbeat(self, ids: list[int], stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            held = self.queue.heartbeat(self.worker_id, ids)
            if held < len(ids):
                log.warning("heartbeat: %s of %s leases still held", held, len(ids))

    def run(self, waiter: JobWaiter, idle_timeout_s: float | None = None) -> None:
        """Process batches until stop() (or until idle for idle_timeout_s, for tests and benchmarks)."""
        idle_since = time.monotonic()
        while not self.stopping.is_set():
            if self.run_once():
                idle_since = time.monotonic()
                continue
            if idle_timeout_s is not None and time.monotonic() - idle_since >= idle_timeout_s:
                return
            waiter.wait()

    def stop(self) -> None:
        """Finish the batch in hand, then return from run()."""
        self.stopping.set()
