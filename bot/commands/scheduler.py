"""`partner-bot scheduler`: the scheduler alone, for split deployments (bot, workers, scheduler apart)."""

from __future__ import annotations

import signal
import threading

from bot.commands.common import err, settings


def scheduler() -> None:
    """Queue the scheduled jobs (retraining, retention purge, stalled-job reaper, weekly digest) until stopped.
    Safe to run beside other schedulers: each due job is queued once."""
    from bot.scheduler import Scheduler, triggers
    from storage.clock import SystemClock
    from storage.engine import make_engine
    from storage.queue import JobQueue

    config = settings()
    engine = make_engine(config.resolved_database_url)
    clock = SystemClock()
    queue = JobQueue(engine, clock, config.queue.retry_policy(), config.queue.lease())
    runner = Scheduler(queue, clock, triggers(config.schedule))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    runner.start()
    for task, when in runner.next_runs().items():
        err.print(f"{task}: next at {when:%Y-%m-%d %H:%M %Z}", highlight=False)
    stopped.wait()
    runner.shutdown()
    engine.dispose()
