"""A worker process: the rewriter loaded once, N worker loops draining the queue, metrics, clean stop.

`partner-bot worker` runs it in the foreground; `partner-bot run` starts it as a child process at
lower priority, so the bot's event loop never waits on the model.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from bot.check_task import CheckTask
from bot.maintenance_tasks import RetentionPurge, RetrainInChild, StalledJobReaper, WeeklyDigests
from bot.rewrite_task import RewriteTask
from bot.scheduler import DIGEST_TASK, REAPER_TASK, RETENTION_TASK, RETRAIN_TASK
from bot.settings import Settings
from storage.checks import CHECK_TASK
from storage.clock import Clock, SystemClock
from storage.engine import make_engine
from storage.queue import JobQueue, JobWaiter
from storage.replies import REWRITE_TASK
from storage.worker import BatchReport, Worker

log = logging.getLogger(__name__)


class WorkerMetrics:
    """Prometheus figures: jobs processed and failed, batch latency, queue depth."""

    def __init__(self, port: int) -> None:
        from prometheus_client import Counter, Gauge, Histogram, start_http_server

        self.jobs = Counter("partner_jobs_total", "jobs finished by the worker", ["task", "outcome"])
        self.latency = Histogram("partner_batch_seconds", "time to process one batch", ["task"])
        self.depth = Gauge("partner_queue_jobs", "jobs in the queue by state", ["state"])
        self.oldest = Gauge("partner_queue_oldest_seconds", "age of the oldest queued job")
        start_http_server(port)
        log.info("worker metrics on :%s/metrics", port)

    def batch(self, report: BatchReport) -> None:
        self.jobs.labels(report.task, "done").inc(report.done)
        self.jobs.labels(report.task, "failed").inc(report.failed)
        self.latency.labels(report.task).observe(report.seconds)

    def queue(self, queue: JobQueue) -> None:
        stats = queue.stats()
        for state in ("queued", "running", "dead"):
            self.depth.labels(state).set(getattr(stats, state))
        self.oldest.set(stats.oldest_queued_age_s)


def build_rewrite_task(settings: Settings, engine_url: str, clock: Clock, device: str) -> tuple[RewriteTask, JobQueue]:
    from partner_model.base_models import quiet_transformers
    from partner_model.embedding import SentenceEmbedder
    from partner_model.empathy.inference import EmpathyScorer
    from partner_model.rewriter.inference import Rewriter

    quiet_transformers()
    engine = make_engine(engine_url)
    models = settings.models
    scorer = EmpathyScorer.load(models.classifier_dir, models.encoder_dir, quantize=models.quantize_classifier)
    embedder = SentenceEmbedder.load(models.encoder_dir)
    config = settings.rewriter.rewrite_config()

    def load(path: Path | None) -> Rewriter:
        return Rewriter.load(path or settings.rewriter.adapter_dir, models.lm_dir, scorer, embedder, config, device)

    q = settings.queue
    queue = JobQueue(engine, clock, q.retry_policy(), q.lease())
    return RewriteTask(engine, clock, load, settings.rewriter.suggestions), queue


def run_worker_process(
    settings: Settings,
    device: str,
    batch: int,
    concurrency: int,
    metrics_port: int | None,
    idle_exit_s: float | None = None,
    config_file: Path | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT: finish the batches in hand, then return."""
    clock = SystemClock()
    task, queue = build_rewrite_task(settings, settings.resolved_database_url, clock, device)
    metrics = WorkerMetrics(metrics_port) if metrics_port else None

    def on_batch(report: BatchReport) -> None:
        if metrics:
            metrics.batch(report)
            metrics.queue(queue)

    base_id = f"{socket.gethostname()}-{os.getpid()}"
    handlers = {
        REWRITE_TASK: task,
        RETENTION_TASK: RetentionPurge(clock),
        REAPER_TASK: StalledJobReaper(queue),
        DIGEST_TASK: WeeklyDigests(clock),
        RETRAIN_TASK: RetrainInChild(config_file, CHILD_NICENESS, RETRAIN_TIMEOUT_S),
        CHECK_TASK: CheckTask(task),
    }
    workers = [
        Worker(queue, handlers, f"{base_id}-{i}", batch_size=batch, on_batch=on_batch) for i in range(concurrency)
    ]

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing the batches in hand, then stopping", signum)
        for worker in workers:
            worker.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)

    def serve(worker: Worker) -> None:
        waiter = JobWaiter(queue.engine, settings.queue.poll_interval_seconds)
        try:
            worker.run(waiter, idle_timeout_s=idle_exit_s)
        finally:
            waiter.close()

    log.info("worker %s: %s loop(s), batch %s, rewriter %s", base_id, concurrency, batch, task.rewriter.version)
    if len(workers) == 1:
        # One loop serves from the thread that loaded the models: on a CPU, torch run from another thread
        # than the one that first used it took about 40% longer a rewrite (measured: 2.9 -> 4.3 s p50 on
        # the benchmark's samples, its OpenMP team started anew beside the loading thread's).
        serve(workers[0])
    else:
        threads = [threading.Thread(target=serve, args=(w,), name=w.worker_id) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    queue.engine.dispose()
    log.info("worker %s stopped", base_id)


# A retraining round that takes longer than this is stopped and counts as a failed attempt.
RETRAIN_TIMEOUT_S = 4 * 3600.0

# Niceness added to the embedded worker: the model may use every core, the bot's event loop comes first.
CHILD_NICENESS = 10
# A worker child told to stop finishes the batch in hand; one that takes longer than this is killed.
WORKER_STOP_TIMEOUT_S = 30.0


def spawn_worker_child(
    config_file: Path | None = None, extra_env: dict[str, str] | None = None, output: IO[str] | None = None
) -> subprocess.Popen:
    """`partner-bot run`'s worker: the same `partner-bot worker`, as a child process at lower priority.
    Its output goes to `output` when given (the benchmark keeps it out of its JSON), else to ours."""
    command = [sys.executable, "-m", "bot.cli"]
    if config_file is not None:
        command += ["--config", str(config_file)]
    command.append("worker")
    env = {**os.environ, **(extra_env or {})}
    return subprocess.Popen(command, env=env, stdout=output, stderr=output, preexec_fn=lambda: os.nice(CHILD_NICENESS))


def stop_worker_child(child: subprocess.Popen) -> None:
    """SIGTERM, so the child finishes or releases the batches in hand; SIGKILL if it takes too long."""
    child.terminate()
    try:
        child.wait(WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        child.kill()
