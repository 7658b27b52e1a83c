"""The real rewrite task end to end: the shipped models, the real queue and worker, SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.settings import load_settings
from bot.worker_process import build_rewrite_task
from partner_model.safety import sentence_problems
from storage import migrate
from storage.clock import ManualClock
from storage.engine import make_engine
from storage.models import Delivery, Job, JobStatus, Suggestion
from storage.replies import REWRITE_TASK, rewrite_job_key
from storage.worker import Worker
from tests.factories import NOW, scored_reply

pytestmark = pytest.mark.slow


def test_a_low_empathy_reply_gets_three_stored_suggestions_and_a_pending_dm(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'partner.db'}"
    migrate.upgrade(make_engine(url))
    clock = ManualClock(NOW)
    task, queue = build_rewrite_task(load_settings(), url, clock, "cpu")
    with Session(queue.engine) as s, s.begin():
        reply = scored_reply(
            message_id=10,
            responder_id=77,
            ex=0,
            total=0,
            response_text="Get a new dog, it helps.",
            seeker_text="My dog died last night and the house feels so empty without him.",
        )
        s.add(reply)
        s.flush()
        reply_id = reply.id
    queue.enqueue(REWRITE_TASK, {"scored_reply_id": reply_id}, unique_key=rewrite_job_key(reply_id))
    torch.manual_seed(0)  # the same sampled sentences every run
    assert Worker(queue, {REWRITE_TASK: task}, "real", batch_size=4).run_once() == 1
    with Session(queue.engine) as s:
        assert s.scalar(select(Job.status)) == JobStatus.DONE
        rows = s.scalars(select(Suggestion).order_by(Suggestion.rank)).all()
        assert [r.rank for r in rows] == [1, 2, 3]
        assert all(sentence_problems(r.sentence, 300) == [] for r in rows)
        assert all(r.model_version == task.rewriter.version for r in rows)
        (delivery,) = s.scalars(select(Delivery)).all()
        assert (delivery.recipient_id, delivery.status) == (77, "pending")
