"""Benchmarks that need the whole product: message-to-DM latency through SimCord (real bot, real
classifier, real worker with the real rewriter in a thread) and the peak memory of a bot process and
of a worker process, each measured in a fresh child so one does not inflate the other."""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bot.settings import Settings

# Real time the driver waits between looks for the DM, and the cap on one message's wait.
LOOK_EVERY_S = 0.05
GIVE_UP_AFTER_S = 120.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _latencies(settings: Settings, pairs: list[tuple[str, str]]) -> list[float]:
    import simcord

    from bot.app import BotServices, create_bot
    from bot.commands.score import load_scorer
    from bot.demo import open_forum_post, support_server
    from bot.worker_process import build_rewrite_task
    from storage import migrate
    from storage.clock import SystemClock
    from storage.engine import make_engine
    from storage.queue import JobWaiter
    from storage.replies import REWRITE_TASK
    from storage.worker import Worker

    with tempfile.TemporaryDirectory(prefix="partner-bench-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        clock = SystemClock()
        task, queue = build_rewrite_task(settings, url, clock, settings.queue.device)
        services = BotServices(engine=engine, clock=clock, scorer=load_scorer(), queue=queue)
        worker = Worker(queue, {REWRITE_TASK: task}, "bench-e2e", batch_size=settings.queue.batch_size)
        waiter = JobWaiter(engine, 0.05)
        thread = threading.Thread(target=worker.run, args=(waiter,), daemon=True)
        thread.start()
        latencies = []
        try:
            async with simcord.run(create_bot(settings, services), settle_timeout=GIVE_UP_AFTER_S) as env:
                guild, forum = await support_server(env, "bench")
                for n, (seeker_text, response_text) in enumerate(pairs):
                    seeker = guild.add_member(env.create_user(f"s{n}"))
                    supporter = guild.add_member(env.create_user(f"r{n}"))
                    thread_handle = await open_forum_post(env, forum, seeker, f"post {n}", seeker_text)
                    started = time.perf_counter()
                    await supporter.send(thread_handle, response_text)
                    while time.perf_counter() - started < GIVE_UP_AFTER_S:
                        if any(m.embeds for m in supporter.user.dm_channel.history() if m.author.bot):
                            latencies.append(time.perf_counter() - started)
                            break
                        await asyncio.sleep(LOOK_EVERY_S)
                        await env.advance_time(settings.bot.delivery_poll_seconds)
        finally:
            worker.stop()
            thread.join(timeout=60)
            waiter.close()
            engine.dispose()
            queue.engine.dispose()
    return latencies


def measure_e2e(settings: Settings, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Seconds from a low-empathy reply being posted to its author's DM arriving."""
    latencies = asyncio.run(_latencies(settings, pairs))
    if not latencies:
        return {"skipped": "no DM arrived (no reply was low in empathy or no suggestion passed the filter)"}
    return {
        "n": len(latencies),
        "p50_s": statistics.median(latencies),
        "p95_s": _percentile(latencies, 0.95),
        "poll_s": settings.bot.delivery_poll_seconds,
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
