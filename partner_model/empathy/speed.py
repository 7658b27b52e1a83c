"""Speed of the classifier against an EPITOME-sized model, measured in one run on the same pairs.

EPITOME's model has two RoBERTa-base encoders (seeker post and response) joined by attention.
The reference here has that shape with random weights (speed does not depend on the values) and
reads MiniLM's token ids at the same lengths, so both sides do the same amount of input.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from partner_model.empathy.inference import EmpathyScorer

# Measurement sizes: enough repeats for a stable median on a 2-core machine, few enough to be quick.
# The classifier and the reference take turns over ROUNDS rounds, so a slow spell of a shared machine
# slows both sides of a ratio instead of one; the classifier's batches repeat for at least
# MIN_ROUND_SECONDS a round (one pass over the pairs takes it a fraction of a second).
WARMUP_CALLS = 3
ROUNDS = 5
LATENCY_CALLS_PER_ROUND = 8
THROUGHPUT_BATCH = 32
MIN_ROUND_SECONDS = 1.0


class EpitomeSizedModel(nn.Module):
    """Two RoBERTa-base encoders and a cross-attention layer, the size of EPITOME's bi-encoder."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import RobertaConfig, RobertaModel

        config = RobertaConfig()  # base: 12 layers, 768 wide, vocabulary 50265 (MiniLM ids fit)
        self.seeker_encoder = RobertaModel(config, add_pooling_layer=False)
        self.response_encoder = RobertaModel(config, add_pooling_layer=False)
        self.attention = nn.MultiheadAttention(768, 12, batch_first=True)
        self.heads = nn.Linear(768, 9)

    def forward(self, seeker_ids: torch.Tensor, response_ids: torch.Tensor) -> torch.Tensor:
        seeker = self.seeker_encoder(input_ids=seeker_ids).last_hidden_state
        response = self.response_encoder(input_ids=response_ids).last_hidden_state
        attended, _ = self.attention(response, seeker, seeker)
        return self.heads(attended[:, 0])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latencies(call: Callable[[], Any], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _throughput(call_batch: Callable[[int, int], Any], n_pairs: int, min_seconds: float = 0.0) -> float:
    """Pairs per second over whole passes in batches, repeated until min_seconds have gone by."""
    start = time.perf_counter()
    done = 0
    while done == 0 or time.perf_counter() - start < min_seconds:
        for first in range(0, n_pairs, THROUGHPUT_BATCH):
            last = min(first + THROUGHPUT_BATCH, n_pairs)
            call_batch(first, last)
            done += last - first
    return done / (time.perf_counter() - start)


def _padded(rows: list[list[int]], pad_id: int) -> torch.Tensor:
    width = max(len(r) for r in rows)
    return torch.tensor([r + [pad_id] * (width - len(r)) for r in rows])


def measure(scorer: EmpathyScorer, pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Single-pair p50/p95 latency and batch throughput of the scorer and of the EPITOME-sized model."""
    tok = scorer.tokenizer
    encoded = [scorer.encode(s, r) for s, r in pairs]
    # The same token ids each side of our cross-encoder reads, as two separate texts.
    seeker_ids = [[tok.cls_token_id, *(p.input_ids[i] for i in p.seeker_positions), tok.sep_token_id] for p in encoded]
    response_ids = [
        [tok.cls_token_id, *(p.input_ids[i] for i in p.response_positions), tok.sep_token_id] for p in encoded
    ]
    reference = EpitomeSizedModel().eval()

    def run_reference(first: int, last: int) -> None:
        with torch.inference_mode():
            reference(
                _padded(seeker_ids[first:last], tok.pad_token_id),
                _padded(response_ids[first:last], tok.pad_token_id),
            )

    def ours_batch(first: int, last: int) -> None:
        scorer.score(pairs[first:last])

    ours_counter, ref_counter = itertools.count(), itertools.count()

    def ours_single() -> None:
        index = next(ours_counter) % len(pairs)
        ours_batch(index, index + 1)

    def reference_single() -> None:
        index = next(ref_counter) % len(pairs)
        run_reference(index, index + 1)

    for call in (ours_single, reference_single) * WARMUP_CALLS:
        call()
    first_batch = min(THROUGHPUT_BATCH, len(pairs))
    ours_batch(0, first_batch)
    run_reference(0, first_batch)
    ours_latency: list[float] = []
    ref_latency: list[float] = []
    ours_rates: list[float] = []
    ref_rates: list[float] = []
    for _ in range(ROUNDS):
        ours_latency += _latencies(ours_single, LATENCY_CALLS_PER_ROUND)
        ref_latency += _latencies(reference_single, LATENCY_CALLS_PER_ROUND)
        ours_rates.append(_throughput(ours_batch, len(pairs), MIN_ROUND_SECONDS))
        ref_rates.append(_throughput(run_reference, len(pairs)))
    p50, ref_p50 = statistics.median(ours_latency), statistics.median(ref_latency)
    throughput_ratio = statistics.median(ours / ref for ours, ref in zip(ours_rates, ref_rates, strict=True))
    return {
        "p50_ms": p50 * 1000,
        "p95_ms": _percentile(ours_latency, 0.95) * 1000,
        "pairs_per_s": statistics.median(ours_rates),
        "epitome_p50_ms": ref_p50 * 1000,
        "epitome_p95_ms": _percentile(ref_latency, 0.95) * 1000,
        "epitome_pairs_per_s": statistics.median(ref_rates),
        "latency_ratio": ref_p50 / p50,
        # Each round's two rates were timed back to back: the median of their ratios.
        "throughput_ratio": throughput_ratio,
        # The headline ratio is the smaller of the two, so it never flatters.
        "speedup_vs_epitome": min(ref_p50 / p50, throughput_ratio),
        "pairs": len(pairs),
    }
