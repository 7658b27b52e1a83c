"""Handlers for the scheduled housekeeping jobs the worker runs: retention purge, the reaper, weekly
digests and retraining."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from storage.clock import Clock
from storage.digests import queue_weekly_digests
from storage.queue import ClaimedJob, JobQueue
from storage.retention import purge_expired_texts
from storage.worker import JobResult

log = logging.getLogger(__name__)


class RetentionPurge:
    """Clears texts past their guild's retention (scores and trends stay), in the job's transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        def purge(session: Session) -> None:
            purged = purge_expired_texts(session, self.clock.now())
            log.info("retention purge: texts of %s replies removed", purged)

        # One purge covers every due job of the batch; the others only complete.
        return [purge] + [lambda _session: None for _ in jobs[1:]]


class WeeklyDigests:
    """Queues last week's digest for every guild with an alert channel; the bot posts them."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        def queue(session: Session) -> None:
            log.info("weekly digests: %s queued", queue_weekly_digests(session, self.clock.now()))

        return [queue] + [lambda _session: None for _ in jobs[1:]]


class StalledJobReaper:
    """Queues again (or marks dead) the jobs whose worker stopped renewing its lease."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        reaped = self.queue.reap_expired()
        log.info("reaper: %s stalled jobs handled", reaped)
        return [lambda _session: None for _ in jobs]


class RetrainInChild:
    """The scheduled retraining: `partner-bot retrain` in a child process at low priority, so neither the
    worker's rewriting nor the bot ever shares a process with training."""

    def __init__(self, config_file: Path | None, niceness: int, timeout_s: float) -> None:
        self.config_file = config_file
        self.niceness = niceness
        self.timeout_s = timeout_s

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        command = [sys.executable, "-m", "bot.cli"]
        if self.config_file is not None:
            command += ["--config", str(self.config_file)]
        command.append("retrain")
        niceness = self.niceness
        finished = subprocess.run(command, preexec_fn=lambda: os.nice(niceness), timeout=self.timeout_s, check=False)
        if finished.returncode != 0:
            error = RuntimeError(f"partner-bot retrain exited with {finished.returncode}")
            return [error for _ in jobs]
        # One round covers every retrain job of the batch.
        return [lambda _session: None for _ in jobs]
