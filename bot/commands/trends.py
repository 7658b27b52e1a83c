"""`partner-bot trends`: the weekly aggregates behind /empathy trends, as a table, CSV or chart."""

from __future__ import annotations

import csv
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.commands.common import engine, err, fail, settings


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        fail(f"--since expects a date as YYYY-MM-DD, got {value!r}")


def trends(
    guild: Annotated[int, typer.Option("--guild", help="the Discord guild (server) id.")],
    since: Annotated[str | None, typer.Option(help="first week to include, YYYY-MM-DD.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write the weekly rows to this CSV file.")] = None,
    png_file: Annotated[Path | None, typer.Option("--png", help="write the chart to this PNG file.")] = None,
) -> None:
    """Weekly empathy per channel: means per mechanism, share of low-empathy replies, suggestions sent
    and accepted. Aggregates only; no member appears."""
    from sqlalchemy.orm import Session

    from bot.charts import trends_png
    from storage.trends import weekly_trends

    config = settings()
    with Session(engine(config)) as session:
        weeks = weekly_trends(session, guild, _date(since))
    if not weeks:
        fail(f"no trends for guild {guild}" + (f" since {since}" if since else ""), code=1)
    header = ("week", "channel", "replies", "mean", "ER", "IP", "EX", "low%", "sent", "used")
    typer.echo("{:<10} {:>20} {:>7} {:>5} {:>4} {:>4} {:>4} {:>5} {:>5} {:>5}".format(*header))
    for w in weeks:
        typer.echo(
            f"{w.week_start!s:<10} {w.channel_id:>20} {w.replies:>7} {w.mean_total:>5.2f} {w.mean_er:>4.2f} "
            f"{w.mean_ip:>4.2f} {w.mean_ex:>4.2f} {w.low_share * 100:>5.1f} {w.suggestions_sent:>5} "
            f"{w.suggestions_accepted:>5}"
        )
    if csv_file is not None:
        with csv_file.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(asdict(weeks[0])))
            writer.writeheader()
            writer.writerows(asdict(w) for w in weeks)
        err.print(f"wrote {csv_file}")
    if png_file is not None:
        png_file.write_bytes(trends_png(weeks, {}, f"Empathy trends: guild {guild}"))
        err.print(f"wrote {png_file}")
