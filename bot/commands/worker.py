"""`partner-bot worker`: a standalone worker that drains the rewrite queue."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.commands.common import fail, settings, state


def worker(
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cuda or cpu.")] = "",
    batch: Annotated[
        int | None, typer.Option(help="jobs claimed and rewritten together (default: queue.batch_size).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=16, help="worker loops sharing the loaded model.")] = 1,
    metrics_port: Annotated[int | None, typer.Option(help="serve Prometheus metrics on this port.")] = None,
    idle_exit: Annotated[
        float | None, typer.Option(help="exit after this many idle seconds (benchmarks, one-off drains).")
    ] = None,
) -> None:
    """Run a worker: claim rewrite jobs in batches, write suggestions, follow the active model version."""
    from bot.worker_process import run_worker_process
    from partner_model.base_models import BaseModelError

    config = settings()
    chosen = device or config.queue.device
    if chosen not in ("auto", "cuda", "cpu"):
        fail("--device must be auto, cuda or cpu")
    try:
        run_worker_process(
            config,
            chosen,
            batch or config.queue.batch_size,
            concurrency,
            metrics_port or config.queue.metrics_port,
            idle_exit,
            state.config,
        )
    except (BaseModelError, RuntimeError) as exc:
        fail(str(exc))
