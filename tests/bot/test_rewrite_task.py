"""The rewrite task through the real worker loop: scored reply in, suggestions and a pending DM out,
one transaction per job; it follows the active model version without a restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.rewrite_task import RewriteTask
from bot.settings import normalise_database_url
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.inference import Suggestion
from storage import migrate
from storage.clock import ManualClock
from storage.engine import make_engine
from storage.models import Delivery, Job, JobStatus, ModelStatus, ModelVersion
from storage.models import Suggestion as Row
from storage.queue import JobQueue
from storage.replies import rewrite_job_key
from storage.worker import Worker
from tests.factories import NOW, scored_reply


class ScriptedRewriter:
    """Stands in for the model only: the task, queue, worker and storage around it are the real ones."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.calls: list[list[tuple[str, str]]] = []

    def rewrite_batch(self, pairs: list[tuple[str, str]], n: int, blocked: set[str]) -> list[list[Suggestion]]:
        self.calls.append(pairs)
        out = []
        for _seeker, response in pairs:
            if response == "nothing passes":
                out.append([])
                continue
            out.append(
                [
                    Suggestion(
                        Edit(EditKind.INSERT, 0, f"That sounds hard ({k})."),
                        f"That sounds hard ({k}). {response}",
                        {"empathy": 1.0},
                    )
                    for k in range(n)
                ]
            )
        return out


@pytest.fixture
def engine(empty_database_url: str) -> Iterator[Engine]:
    eng = make_engine(normalise_database_url(empty_database_url))
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def _reply(engine: Engine, message_id: int, response: str | None) -> int:
    with Session(engine) as s, s.begin():
        row = scored_reply(
            message_id=message_id, responder_id=44, ex=0, total=0, response_text=response, seeker_text="I lost my job."
        )
        s.add(row)
        s.flush()
        return row.id


def test_a_rewrite_job_stores_ranked_suggestions_and_one_pending_delivery(engine: Engine) -> None:
    clock = ManualClock(NOW)
    queue = JobQueue(engine, clock)
    loaded: list[Path | None] = []
    rewriter = ScriptedRewriter("v1")
    task = RewriteTask(engine, clock, lambda p: loaded.append(p) or rewriter, suggestions=3)
    ok = _reply(engine, 1, "Get another job.")
    empty = _reply(engine, 2, "nothing passes")
    purged = _reply(engine, 3, None)
    for reply in (ok, empty, purged):
        queue.enqueue("rewrite", {"scored_reply_id": reply}, unique_key=rewrite_job_key(reply))
    assert Worker(queue, {"rewrite": task}, "w", batch_size=8).run_once() == 3

    with Session(engine) as s:
        assert {j.status for j in s.scalars(select(Job))} == {JobStatus.DONE}
        rows = s.scalars(select(Row).order_by(Row.rank)).all()
        assert [(r.scored_reply_id, r.rank, r.model_version) for r in rows] == [
            (ok, 1, "v1"),
            (ok, 2, "v1"),
            (ok, 3, "v1"),
        ]
        deliveries = s.scalars(select(Delivery)).all()
        assert [(d.scored_reply_id, d.recipient_id, d.status) for d in deliveries] == [(ok, 44, "pending")]
    assert rewriter.calls == [[("I lost my job.", "Get another job."), ("I lost my job.", "nothing passes")]]
    assert loaded == [None]


def test_the_task_switches_to_a_newly_promoted_version_without_a_restart(engine: Engine) -> None:
    clock = ManualClock(NOW)
    loaded: list[Path | None] = []
    task = RewriteTask(engine, clock, lambda p: loaded.append(p) or ScriptedRewriter(str(p)), suggestions=1)
    task.refresh()
    assert loaded == [None]
    with Session(engine) as s, s.begin():
        s.add(
            ModelVersion(
                kind="rewriter",
                version="r2",
                path="/models/r2",
                status=ModelStatus.ACTIVE,
                metrics={},
                data_counts={},
                created_at=NOW,
                promoted_at=NOW,
            )
        )
    task.refresh()
    task.refresh()
    assert loaded == [None, Path("/models/r2")]
    assert task.rewriter.version == "/models/r2"
