"""The 'check' task the worker runs for /empathy check: suggestions for a draft, written back into
the job instead of its text. It shares the rewrite task's loaded rewriter."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.rewrite_task import RewriteTask
from storage.checks import store_check_result
from storage.queue import ClaimedJob
from storage.replies import blocked_keys
from storage.worker import JobResult


class CheckTask:
    def __init__(self, rewrite_task: RewriteTask) -> None:
        self.rewrite_task = rewrite_task

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        self.rewrite_task.refresh()
        rewriter = self.rewrite_task.rewriter
        with Session(self.rewrite_task.engine) as session:
            blocked = blocked_keys(session)
        pairs = [(str(job.payload.get("seeker", "")), str(job.payload.get("draft", ""))) for job in jobs]
        found = rewriter.rewrite_batch(pairs, self.rewrite_task.suggestions, blocked)

        def writer(job_id: int, suggestions: list) -> JobResult:
            rows = [
                {
                    "kind": s.edit.kind.value,
                    "position": s.edit.position,
                    "sentence": s.edit.sentence,
                    "new_response": s.new_response,
                }
                for s in suggestions
            ]
            return lambda session: store_check_result(session, job_id, rows)

        return [writer(job.id, suggestions) for job, suggestions in zip(jobs, found, strict=True)]
