"""The 'rewrite' task the worker runs: storage's scored replies in, PARTNER's suggestions out.

It lives in bot/ because it joins storage and partner_model, which never import each other. It
follows the active rewriter version in the database and reloads when a new one is promoted, so
workers switch versions without a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from partner_model.rewriter.inference import Rewriter, Suggestion
from storage.clock import Clock
from storage.model_versions import active_version
from storage.models import EditKind, ModelKind
from storage.queue import ClaimedJob
from storage.replies import (
    NewSuggestion,
    blocked_keys,
    queue_delivery,
    rewrite_inputs,
    store_suggestions,
)
from storage.worker import JobResult, JobWriter

log = logging.getLogger(__name__)


def storable(suggestions: list[Suggestion]) -> list[NewSuggestion]:
    """The model's suggestions as storage rows, best first."""
    return [
        NewSuggestion(rank, EditKind(s.edit.kind.value), s.edit.position, s.edit.sentence, s.new_response, s.rewards)
        for rank, s in enumerate(suggestions, start=1)
    ]


class RewriteTask:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        load: Callable[[Path | None], Rewriter],
        suggestions: int,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.load = load
        self.suggestions = suggestions
        self._lock = threading.Lock()
        self._path: Path | None = None
        self.rewriter = load(None)

    def refresh(self) -> None:
        """Switch to the active version if it changed since the last batch."""
        active = active_version(self.engine, ModelKind.REWRITER)
        path = Path(active.path) if active else None
        with self._lock:
            if path == self._path:
                return
            log.info("rewriter version changed: loading %s", path or "the shipped adapter")
            self.rewriter = self.load(path)
            self._path = path

    def __call__(self, jobs: list[ClaimedJob]) -> list[JobResult]:
        self.refresh()
        rewriter = self.rewriter
        ids = [int(job.payload["scored_reply_id"]) for job in jobs]
        with Session(self.engine) as session:
            inputs = rewrite_inputs(session, ids)
            blocked = blocked_keys(session)
        live = [i for i in ids if i in inputs]
        batches = rewriter.rewrite_batch(
            [(inputs[i].seeker_text, inputs[i].response_text) for i in live], self.suggestions, blocked
        )
        found = dict(zip(live, batches, strict=True))
        return [
            self._writer(job.id, reply_id, found.get(reply_id), rewriter.version)
            for job, reply_id in zip(jobs, ids, strict=True)
        ]

    def _writer(self, job_id: int, reply_id: int, suggestions: list[Suggestion] | None, version: str) -> JobWriter:
        def write(session: Session) -> None:
            # A purged reply (None) or one where nothing passed the filter ([]) needs no DM.
            if not suggestions:
                return
            now = self.clock.now()
            store_suggestions(
                session,
                reply_id,
                job_id,
                version,
                now,
                storable(suggestions),
            )
            queue_delivery(session, reply_id, now)

        return write
