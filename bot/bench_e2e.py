"""Benchmarks that need the whole product: message-to-DM latency through SimCord (real bot, real
classifier, the real worker child process that `partner-bot run` starts) and the peak memory of a bot
process and of a worker process, each measured in a fresh child so one does not inflate the other."""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.settings import ENV_PREFIX, Settings

# Real time the driver waits between looks for the DM, and the cap on one message's wait.
LOOK_EVERY_S = 0.05
GIVE_UP_AFTER_S = 120.0
# The first reply is not timed: its wait covers the worker child loading the models.
WARM_UP_LIMIT_S = 600.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class WorkerChildDied(RuntimeError):
    """The benchmark's worker child exited; its log says why."""


async def _wait_for_dm(env: Any, supporter: Any, child: subprocess.Popen, limit_s: float, log: Path) -> float | None:
    """Seconds until the supporter's suggestion DM arrives, or None after limit_s. Simulated time moves
    with real time, so the bot's delivery task polls as often as in production."""
    started = last = time.perf_counter()
    while (now := time.perf_counter()) - started < limit_s:
        if any(m.embeds for m in supporter.user.dm_channel.history() if m.author.bot):
            return now - started
        if child.poll() is not None:
            raise WorkerChildDied(f"the worker child exited with {child.returncode}:\n{log.read_text()[-2000:]}")
        await asyncio.sleep(LOOK_EVERY_S)
        now = time.perf_counter()
        await env.advance_time(now - last)
        last = now
    return None


async def _latencies(settings: Settings, pairs: list[tuple[str, str]], config_file: Path | None) -> list[float | None]:
    """One latency (None: no DM in time) per pair after the first, which warms the worker up."""
    import simcord

    from bot.app import create_bot, load_services
    from bot.demo import open_forum_post, support_server
    from bot.worker_process import spawn_worker_child, stop_worker_child
    from storage import migrate

    with tempfile.TemporaryDirectory(prefix="partner-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        local = settings.model_copy(update={"database_url": url})
        services = load_services(local)
        migrate.upgrade(services.engine)
        log = Path(folder) / "worker.log"
        with log.open("w") as output:
            child = spawn_worker_child(config_file, {f"{ENV_PREFIX}DATABASE_URL": url}, output)
        latencies: list[float | None] = []
        try:
            async with simcord.run(create_bot(local, services), settle_timeout=GIVE_UP_AFTER_S) as env:
                guild, forum = await support_server(env, "bench")
                for n, (seeker_text, response_text) in enumerate(pairs):
                    seeker = guild.add_member(env.create_user(f"s{n}"))
                    supporter = guild.add_member(env.create_user(f"r{n}"))
                    thread_handle = await open_forum_post(env, forum, seeker, f"post {n}", seeker_text)
                    await supporter.send(thread_handle, response_text)
                    limit = WARM_UP_LIMIT_S if n == 0 else GIVE_UP_AFTER_S
                    waited = await _wait_for_dm(env, supporter, child, limit, log)
                    if n > 0:
                        latencies.append(waited)
        finally:
            stop_worker_child(child)
            services.close()
    return latencies


def measure_e2e(settings: Settings, pairs: list[tuple[str, str]], config_file: Path | None) -> dict[str, Any]:
    """Seconds from a low-empathy reply being posted to its author's DM arriving, with the bot and its
    worker child as `partner-bot run` has them: two processes sharing the database, each polling at its
    configured interval. The first pair only warms the worker up."""
    waits = asyncio.run(_latencies(settings, pairs, config_file))
    latencies = [w for w in waits if w is not None]
    if not latencies:
        return {"skipped": "no DM arrived (no reply was low in empathy or no suggestion passed the filter)"}
    return {
        "n": len(latencies),
        "missing": len(waits) - len(latencies),
        "p50_s": statistics.median(latencies),
        "p95_s": _percentile(latencies, 0.95),
        "poll_s": settings.bot.delivery_poll_seconds,
        "worker_poll_s": settings.queue.poll_interval_seconds,
    }


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM, not ru_maxrss: ru_maxrss survives exec, so a child of
    a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bot_process_peak(pairs: list[tuple[str, str]]) -> float:
    """A bot process as `partner-bot run` has it: settings, database, classifier, the bot object; it
    scores the pairs. No worker, no rewriter."""
    from bot.app import create_bot, load_services
    from bot.settings import load_settings

    settings = load_settings()
    services = load_services(settings)
    create_bot(settings, services)
    for pair in pairs:
        services.scorer.score([pair])
    services.close()
    return _peak_mb()


def worker_process_peak(pairs: list[tuple[str, str]]) -> float:
    """A worker process: the rewrite task with the real rewriter, rewriting the pairs in one batch."""
    from bot.settings import load_settings
    from bot.worker_process import build_rewrite_task
    from storage.clock import SystemClock

    settings = load_settings()
    with tempfile.TemporaryDirectory() as folder:
        task, _queue = build_rewrite_task(settings, f"sqlite:///{Path(folder) / 'm.db'}", SystemClock(), "cpu")
        task.rewriter.rewrite_batch(pairs, 3)
    return _peak_mb()


def measure_memory(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Peak RSS in MB of a bot process and of a worker process, each in its own child."""
    figures = {}
    for role in ("bot", "worker"):
        out = subprocess.run(
            [sys.executable, "-m", "bot.bench_e2e", role, json.dumps(pairs)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        figures[f"{role}_mb"] = float(out.strip().splitlines()[-1])
    return figures


if __name__ == "__main__":
    chosen = json.loads(sys.argv[2])
    peak = bot_process_peak(chosen) if sys.argv[1] == "bot" else worker_process_peak(chosen)
    print(f"{peak:.1f}")
