"""`partner-bot bench`: speed and memory figures side by side with their reference points.

Benchmarks print figures; tests never time anything. Sections arrive with their issues: so far
the classifier against an EPITOME-sized model.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import err, fail
from bot.commands.score import load_scorer


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
) -> None:
    """Benchmark table: classifier latency and throughput against an EPITOME-sized model."""
    import torch

    from partner_model.empathy.data import DataFormatError, read_epitome_csv
    from partner_model.empathy.speed import measure
    from partner_model.samples import SAMPLE_EXCHANGES

    if data is not None:
        try:
            pairs = [(e.seeker, e.response) for e in read_epitome_csv(data)[:limit]]
        except DataFormatError as exc:
            fail(str(exc))
    else:
        pairs = list(SAMPLE_EXCHANGES)
    scorer = load_scorer()
    with err.status("timing the classifier and an EPITOME-sized model (about a minute)"):
        classifier = measure(scorer, pairs)
    result = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
        "classifier": {**classifier, "model_version": scorer.version},
    }
    if as_json:
        typer.echo(json.dumps(result))
        return
    from rich.console import Console
    from rich.table import Table

    c = classifier
    table = Table(title=f"partner-bot bench: cpu, {result['threads']} threads, {c['pairs']} pairs")
    for column in ("measure", "partner-bot", "EPITOME-size", "ratio"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    table.add_row(
        "classifier p50 (ms)",
        f"{c['p50_ms']:.1f}",
        f"{c['epitome_p50_ms']:.1f}",
        f"{c['latency_ratio']:.1f}x",
    )
    table.add_row("classifier p95 (ms)", f"{c['p95_ms']:.1f}", f"{c['epitome_p95_ms']:.1f}", "")
    table.add_row(
        "classifier pairs/s (batch 32)",
        f"{c['pairs_per_s']:.1f}",
        f"{c['epitome_pairs_per_s']:.1f}",
        f"{c['throughput_ratio']:.1f}x",
    )
    Console().print(table)
    typer.echo(f"speed-up vs EPITOME-size (the smaller ratio): {c['speedup_vs_epitome']:.1f}x")
