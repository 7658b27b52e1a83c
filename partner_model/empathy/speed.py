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
WARMUP_CALLS = 3
LATENCY_CALLS = 40
THROUGHPUT_BATCH = 32
THROUGHPUT_ROUNDS = 3


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
    for _ in range(WARMUP_CALLS):
        call()
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _throughput(call_batch: Callable[[int, int], Any], n_pairs: int) -> float:
    call_batch(0, min(THROUGHPUT_BATCH, n_pairs))
    start = time.perf_counter()
    done = 0
    for _ in range(THROUGHPUT_ROUNDS):
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
    ours_counter = itertools.count()
    ours_latency = _latencies(lambda: scorer.score([pairs[next(ours_counter) % len(pairs)]]), LATENCY_CALLS)
    ours_rate = _throughput(lambda a, b: scorer.score(pairs[a:b]), len(pairs))

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

    ref_counter = itertools.count()

    def reference_single() -> None:
        index = next(ref_counter) % len(pairs)
        run_reference(index, index + 1)

    ref_latency = _latencies(reference_single, LATENCY_CALLS)
    ref_rate = _throughput(run_reference, len(pairs))
    p50, ref_p50 = statistics.median(ours_latency), statistics.median(ref_latency)
    return {
        "p50_ms": p50 * 1000,
        "p95_ms": _percentile(ours_latency, 0.95) * 1000,
        "pairs_per_s": ours_rate,
        "epitome_p50_ms": ref_p50 * 1000,
        "epitome_p95_ms": _percentile(ref_latency, 0.95) * 1000,
        "epitome_pairs_per_s": ref_rate,
        "latency_ratio": ref_p50 / p50,
        "throughput_ratio": ours_rate / ref_rate,
        # The headline ratio is the smaller of the two, so it never flatters.
        "speedup_vs_epitome": min(ref_p50 / p50, ours_rate / ref_rate),
        "pairs": len(pairs),
    }
