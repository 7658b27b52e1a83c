"""Trend charts for moderators and the CLI: weekly aggregates only, never a member."""

from __future__ import annotations

import io
from collections import defaultdict

from storage.trends import TrendWeek


def trends_png(weeks: list[TrendWeek], channel_names: dict[int, str], title: str) -> bytes:
    """Four panels: mean empathy per channel; the three mechanisms; share of low-empathy replies;
    suggestions sent and accepted (all channels together)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 7), constrained_layout=True)
    figure.suptitle(title)
    per_channel: dict[int, list[TrendWeek]] = defaultdict(list)
    for week in weeks:
        per_channel[week.channel_id].append(week)
    ax = axes[0][0]
    for channel_id, rows in per_channel.items():
        ax.plot(
            [r.week_start for r in rows],
            [r.mean_total for r in rows],
            marker="o",
            label=channel_names.get(channel_id, str(channel_id)),
        )
    ax.set(title="Mean empathy (0-6) per channel", ylim=(0, 6))
    if per_channel:
        ax.legend(fontsize="small")
    totals = _guild_weeks(weeks)
    dates = [w for w, _ in totals]
    ax = axes[0][1]
    for key, label in (("er", "Emotional reactions"), ("ip", "Interpretations"), ("ex", "Explorations")):
        ax.plot(dates, [t[key] for _, t in totals], marker="o", label=label)
    ax.set(title="Mechanisms (0-2)", ylim=(0, 2))
    ax.legend(fontsize="small")
    ax = axes[1][0]
    ax.bar(dates, [t["low"] * 100 for _, t in totals], width=4)
    ax.set(title="Low-empathy replies (%)", ylim=(0, 100))
    ax = axes[1][1]
    ax.plot(dates, [t["sent"] for _, t in totals], marker="o", label="suggestions sent")
    ax.plot(dates, [t["accepted"] for _, t in totals], marker="o", label="accepted or edited")
    ax.set(title="Suggestions")
    ax.legend(fontsize="small")
    for ax in axes.flat:
        ax.tick_params(axis="x", labelrotation=30, labelsize="small")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return buffer.getvalue()


def _guild_weeks(weeks: list[TrendWeek]) -> list[tuple[object, dict[str, float]]]:
    """All channels of a week together, weighted by replies."""
    grouped: dict[object, list[TrendWeek]] = defaultdict(list)
    for week in weeks:
        grouped[week.week_start].append(week)
    out = []
    for start in sorted(grouped):
        rows = grouped[start]
        n = max(1, sum(r.replies for r in rows))
        out.append(
            (
                start,
                {
                    "er": sum(r.mean_er * r.replies for r in rows) / n,
                    "ip": sum(r.mean_ip * r.replies for r in rows) / n,
                    "ex": sum(r.mean_ex * r.replies for r in rows) / n,
                    "low": sum(r.low_share * r.replies for r in rows) / n,
                    "sent": sum(r.suggestions_sent for r in rows),
                    "accepted": sum(r.suggestions_accepted for r in rows),
                },
            )
        )
    return out
