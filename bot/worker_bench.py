"""Worker throughput for the benchmark: the real rewrite task through the real queue on a scratch
SQLite database, at several batch sizes."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.rewrite_task import RewriteTask
from partner_model.rewriter.inference import Rewriter
from storage import migrate
from storage.clock import SystemClock
from storage.engine import make_engine
from storage.models import Decision, ScoredReply
from storage.queue import JobQueue
from storage.replies import REWRITE_TASK, rewrite_job_key
from storage.worker import Worker

# Jobs per batch size: two full batches, so one warm batch is timed at least.
BATCHES_PER_SIZE = 2


def measure_worker(rewriter: Rewriter, pairs: list[tuple[str, str]], batch_sizes: tuple[int, ...]) -> dict[str, float]:
    """Jobs per second at each batch size (key 'batch_N')."""
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        migrate.upgrade(engine)
        clock = SystemClock()
        queue = JobQueue(engine, clock)
        task = RewriteTask(engine, clock, lambda _path: rewriter, suggestions=3)
        message_id = 0
        for size in batch_sizes:
            jobs = size * BATCHES_PER_SIZE
            now = datetime.now(UTC)
            with Session(engine) as s, s.begin():
                replies = []
                for i in range(jobs):
                    seeker, response = pairs[i % len(pairs)]
                    message_id += 1
                    replies.append(
                        ScoredReply(
                            guild_id=1,
                            channel_id=1,
                            message_id=message_id,
                            seeker_message_id=0,
                            responder_id=1,
                            seeker_id=2,
                            decision=Decision.QUEUED,
                            decision_reason="benchmark",
                            response_text=response,
                            seeker_text=seeker,
                            created_at=now,
                            updated_at=now,
                        )
                    )
                s.add_all(replies)
                s.flush()
                ids = [r.id for r in replies]
            for reply_id in ids:
                queue.enqueue(REWRITE_TASK, {"scored_reply_id": reply_id}, unique_key=rewrite_job_key(reply_id))
            worker = Worker(queue, {REWRITE_TASK: task}, f"bench-{size}", batch_size=size)
            start = time.perf_counter()
            done = 0
            while done < jobs:
                claimed = worker.run_once()
                if not claimed:
                    break
                done += claimed
            figures[f"batch_{size}"] = done / (time.perf_counter() - start)
        engine.dispose()
    return figures
