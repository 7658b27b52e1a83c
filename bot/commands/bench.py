"""`partner-bot bench`: speed and memory figures side by side with their reference points.

Benchmarks print figures; tests never time anything. Sections: the classifier against an
EPITOME-sized model, rewrite latency, worker throughput, message-to-DM latency through SimCord, and
the peak memory of a bot and a worker process.
"""

from __future__ import annotations

import itertools
import json
import platform
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.commands.common import err, fail, settings
from bot.commands.score import load_scorer

SECTIONS = ("classifier", "rewriter", "worker", "e2e", "memory")
# Low-empathy replies timed end to end (each waits for its rewrite and DM), the samples' low ones taken
# round again as needed: p95 of 20 is the second slowest, where p95 of 8 was the slowest alone.
E2E_MESSAGES = 20


def bench(
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object on stdout, nothing else.")] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="EPITOME-format CSV whose pairs to time (default: the project's samples).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="pairs taken from --data.")] = 64,
    only: Annotated[
        str, typer.Option(help="comma-separated sections: classifier, rewriter, worker, e2e, memory.")
    ] = ",".join(SECTIONS),
) -> None:
    """Benchmark table: classifier against an EPITOME-sized model, rewrite latency, worker jobs/s,
    message-to-DM latency through SimCord, peak memory of bot and worker."""
    import torch

    from partner_model.empathy.data import DataFormatError, read_epitome_csv
    from partner_model.samples import SAMPLE_EXCHANGES

    wanted = [s.strip() for s in only.split(",") if s.strip()]
    if unknown := [s for s in wanted if s not in SECTIONS]:
        fail(f"unknown sections: {', '.join(unknown)} (choose from {', '.join(SECTIONS)})")
    if data is not None:
        try:
            pairs = [(e.seeker, e.response) for e in read_epitome_csv(data)[:limit]]
        except DataFormatError as exc:
            fail(str(exc))
    else:
        pairs = list(SAMPLE_EXCHANGES)
    result: dict[str, Any] = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
    }
    scorer = load_scorer()
    if "classifier" in wanted:
        from partner_model.empathy.speed import measure

        with err.status("timing the classifier and an EPITOME-sized model (about a minute)"):
            result["classifier"] = {**measure(scorer, pairs), "model_version": scorer.version}
    if "rewriter" in wanted or "worker" in wanted:
        _rewriter_sections(result, wanted, pairs, scorer)
    if "e2e" in wanted:
        from bot.bench_e2e import measure_e2e
        from bot.commands.common import state
        from partner_model.judgeable import skip_reason

        # The replies the bot queues: long enough to judge, and low when scored as the bot scores a reply,
        # one at a time. One more than timed warms the worker up.
        config = settings()
        low = [
            pair
            for pair in pairs
            if skip_reason(pair[1], config.bot.min_words, config.bot.other_language_confidence) is None
            and scorer.score([pair])[0].total <= config.guild_defaults.low_empathy_threshold
        ]
        timed = list(itertools.islice(itertools.cycle(low), E2E_MESSAGES + 1))
        with err.status(f"timing message-to-DM through SimCord and a worker child ({E2E_MESSAGES} replies)"):
            result["e2e"] = measure_e2e(config, timed, state.config)
    if "memory" in wanted:
        from bot.bench_e2e import measure_memory

        with err.status("peak memory of a bot process and a worker process"):
            result["memory"] = measure_memory(pairs[:8])
    if as_json:
        typer.echo(json.dumps(result))
        return
    _print_table(result)


def _rewriter_sections(result: dict[str, Any], wanted: list[str], pairs: list[tuple[str, str]], scorer: Any) -> None:
    from bot.commands.rewrite import load_rewriter
    from bot.worker_bench import measure_worker
    from partner_model.rewriter.speed import measure_rewriter

    folder = settings().rewriter.adapter_dir
    if not (folder / "policy.json").is_file():
        reason = f"no trained rewriter in {folder}"
        for section in ("rewriter", "worker"):
            if section in wanted:
                result[section] = {"skipped": reason}
        return
    rewriter = load_rewriter(folder, scorer)
    if "rewriter" in wanted:
        with err.status("timing 3 suggestions per pair"):
            result["rewriter"] = {**measure_rewriter(rewriter, pairs), "model_version": rewriter.version}
    if "worker" in wanted:
        with err.status("timing the worker at batch 1, 8 and 32"):
            result["worker"] = measure_worker(rewriter, pairs, (1, 8, 32))


def _print_table(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"partner-bot bench: {result['device']}, {result['threads']} threads")
    for column in ("measure", "partner-bot", "reference", "ratio"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    if c := result.get("classifier"):
        table.add_row(
            "classifier p50 (ms)",
            f"{c['p50_ms']:.1f}",
            f"{c['epitome_p50_ms']:.1f} EPITOME-size",
            f"{c['latency_ratio']:.1f}x",
        )
        table.add_row("classifier p95 (ms)", f"{c['p95_ms']:.1f}", f"{c['epitome_p95_ms']:.1f}", "")
        table.add_row(
            "classifier pairs/s (batch 32)",
            f"{c['pairs_per_s']:.1f}",
            f"{c['epitome_pairs_per_s']:.1f}",
            f"{c['throughput_ratio']:.1f}x",
        )
    if r := result.get("rewriter"):
        if "skipped" in r:
            table.add_row("rewriter", r["skipped"], "", "")
        else:
            table.add_row(
                "rewrite p50 / p95 (s, 3 suggestions)", f"{r['p50_s']:.2f} / {r['p95_s']:.2f}", "3.00 target", ""
            )
    if (w := result.get("worker")) and "skipped" not in w:
        for key, value in w.items():
            table.add_row(f"worker jobs/s ({key.replace('_', ' ')})", f"{value:.2f}", "", "")
    if (e := result.get("e2e")) and "skipped" not in e:
        table.add_row("message to DM p50 / p95 (s)", f"{e['p50_s']:.2f} / {e['p95_s']:.2f}", "5.00 p95 target", "")
        if e["missing"]:
            table.add_row("replies without a DM in time", f"{e['missing']} of {e['n'] + e['missing']}", "0 target", "")
    if m := result.get("memory"):
        table.add_row("peak RSS bot (MB)", f"{m['bot_mb']:.0f}", "600 target", "")
        table.add_row("peak RSS worker (MB)", f"{m['worker_mb']:.0f}", "1500 target", "")
    Console().print(table)
    if c := result.get("classifier"):
        typer.echo(f"classifier speed-up vs EPITOME-size (the smaller ratio): {c['speedup_vs_epitome']:.1f}x")
