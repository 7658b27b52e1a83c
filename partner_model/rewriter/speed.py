"""Rewrite latency for the benchmark: 3 suggestions for one typical pair, end to end."""

from __future__ import annotations

import statistics
import time

from partner_model.rewriter.inference import Rewriter


def measure_rewriter(rewriter: Rewriter, pairs: list[tuple[str, str]], n: int = 3, warmup: int = 1) -> dict[str, float]:
    for seeker, response in pairs[:warmup]:
        rewriter.rewrite(seeker, response, n=n)
    seconds, returned = [], []
    for seeker, response in pairs:
        start = time.perf_counter()
        suggestions = rewriter.rewrite(seeker, response, n=n)
        seconds.append(time.perf_counter() - start)
        returned.append(len(suggestions))
    ordered = sorted(seconds)
    return {
        "p50_s": statistics.median(seconds),
        "p95_s": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "mean_suggestions": statistics.mean(returned),
        "pairs": len(pairs),
    }
