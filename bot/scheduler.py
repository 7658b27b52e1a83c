"""Scheduled work. A trigger does not do the work: it queues a job whose unique key is the task and
its scheduled time, so any number of schedulers (one per `partner-bot run`, or `partner-bot
scheduler` processes) queue each due job once, and workers do it (the pattern procrastinate uses)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from bot.settings import ScheduleSettings
from storage.clock import Clock
from storage.queue import JobQueue

log = logging.getLogger(__name__)

RETRAIN_TASK = "retrain"
RETENTION_TASK = "retention_purge"
REAPER_TASK = "reap_stalled"
DIGEST_TASK = "weekly_digest"

# A trigger fires at its scheduled time or up to this much later (busy process, clock skew between
# hosts); every scheduler maps such a late call back to the same scheduled time.
LATENESS = timedelta(seconds=59)


def triggers(settings: ScheduleSettings) -> dict[str, BaseTrigger]:
    found: dict[str, BaseTrigger] = {
        RETRAIN_TASK: CronTrigger.from_crontab(settings.retrain_cron, timezone=UTC),
        RETENTION_TASK: CronTrigger.from_crontab(settings.retention_cron, timezone=UTC),
        REAPER_TASK: CronTrigger(minute=f"*/{settings.reaper_minutes}", timezone=UTC),
    }
    if settings.digest_cron is not None:
        found[DIGEST_TASK] = CronTrigger.from_crontab(settings.digest_cron, timezone=UTC)
    return found


def scheduled_time(trigger: BaseTrigger, now: datetime) -> datetime:
    """The scheduled time a call at `now` belongs to: the trigger's first time after now - LATENESS.

    >>> t = CronTrigger(minute="*/5", timezone=UTC)
    >>> scheduled_time(t, datetime(2026, 3, 2, 9, 10, 30, tzinfo=UTC)).isoformat()
    '2026-03-02T09:10:00+00:00'
    """
    start = now - LATENESS
    fire = trigger.get_next_fire_time(None, start)
    if fire is None or fire > now:
        fire = now.replace(second=0, microsecond=0)
    return fire.astimezone(UTC)


class Scheduler:
    """Owns the triggers; `enqueue_due(task)` is what each trigger runs."""

    def __init__(self, queue: JobQueue, clock: Clock, task_triggers: dict[str, BaseTrigger]) -> None:
        self.queue = queue
        self.clock = clock
        self.triggers = task_triggers
        self._scheduler: BaseScheduler | None = None

    def enqueue_due(self, task: str) -> int:
        at = scheduled_time(self.triggers[task], self.clock.now())
        job_id = self.queue.enqueue(task, {"scheduled_for": at.isoformat()}, unique_key=f"{task}:{at.isoformat()}")
        log.info("scheduled %s for %s: job %s", task, at.isoformat(), job_id)
        return job_id

    def start(self) -> None:
        scheduler = BackgroundScheduler(timezone=UTC)
        for task, trigger in self.triggers.items():
            scheduler.add_job(
                self.enqueue_due,
                trigger,
                args=[task],
                id=task,
                coalesce=True,
                misfire_grace_time=int(LATENESS.total_seconds()),
                max_instances=1,
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info("scheduler started: %s", ", ".join(f"{t} ({tr})" for t, tr in self.triggers.items()))

    def next_runs(self) -> dict[str, Any]:
        if self._scheduler is None:
            return {}
        return {job.id: job.next_run_time for job in self._scheduler.get_jobs()}

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
