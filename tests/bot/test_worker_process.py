"""The embedded worker: a child process at lower priority that drains the queue and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.worker_process import spawn_worker_child
from storage import migrate
from storage.clock import SystemClock
from storage.engine import make_engine
from storage.models import Job, JobStatus
from storage.queue import JobQueue
from storage.replies import REWRITE_TASK, rewrite_job_key
from tests.factories import scored_reply

pytestmark = pytest.mark.slow


def test_the_child_worker_runs_nicer_drains_the_queue_and_stops_on_sigterm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'partner.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as s, s.begin():
        reply = scored_reply(
            response_text="Just go outside, fresh air helps.",
            seeker_text="I haven't left my room in three days and everyone seems fine but me.",
        )
        s.add(reply)
        s.flush()
        reply_id = reply.id
    JobQueue(engine, SystemClock()).enqueue(
        REWRITE_TASK, {"scored_reply_id": reply_id}, unique_key=rewrite_job_key(reply_id)
    )
    child = spawn_worker_child(extra_env={"PARTNER_DATABASE_URL": url, "PARTNER_QUEUE__POLL_INTERVAL_SECONDS": "0.2"})
    try:
        assert os.getpriority(os.PRIO_PROCESS, child.pid) > os.getpriority(os.PRIO_PROCESS, 0)
        status = None
        for _ in range(600):
            with Session(engine) as s:
                status = s.scalar(select(Job.status))
            if status == JobStatus.DONE or child.poll() is not None:
                break
            time.sleep(0.5)
        assert status == JobStatus.DONE
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
