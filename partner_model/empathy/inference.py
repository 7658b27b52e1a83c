"""Scoring API for the bot and the command line: load once, thread-safe, batched.

`EmpathyScorer.score(pairs)` returns, per (seeker post, response) pair, the level and the
probabilities of each mechanism, the total 0-6, and the rationale spans (character offsets into
the response) for each mechanism scored above 0. Long texts follow the truncation policy of
encoding.py; a response that is empty after trimming raises EmptyTextError.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from partner_model.cards import file_digest
from partner_model.empathy import MECHANISMS
from partner_model.empathy.encoding import EncodedPair, collate, encode_pair
from partner_model.empathy.model import HEADS_FILE, EmpathyModel, load

# A token belongs to a rationale when its tagger probability passes this.
RATIONALE_THRESHOLD = 0.5
# Inference batches: bigger is faster per pair on CPU until padding dominates.
INFERENCE_BATCH = 32


class EmptyTextError(ValueError):
    """Nothing to score: the response is empty or whitespace only."""


@dataclass
class EmpathyScore:
    levels: dict[str, int]
    probabilities: dict[str, list[float]]
    rationales: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(self.levels.values())

    def rationale_texts(self, response: str) -> dict[str, list[str]]:
        return {m: [response[s:e] for s, e in spans] for m, spans in self.rationales.items()}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = self.total
        data["rationales"] = {m: [list(span) for span in spans] for m, spans in self.rationales.items()}
        return data


def _extend_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def spans_from_tokens(response: str, pair: EncodedPair, token_probs: torch.Tensor) -> list[tuple[int, int]]:
    """Merge runs of rationale tokens into whole-word character spans of the response."""
    spans: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for position, (start, end) in zip(pair.response_positions, pair.response_offsets, strict=True):
        if float(token_probs[position]) >= RATIONALE_THRESHOLD:
            current = (current[0], end) if current else (start, end)
        elif current:
            spans.append(current)
            current = None
    if current:
        spans.append(current)
    merged: list[tuple[int, int]] = []
    for start, end in (_extend_to_words(response, s, e) for s, e in spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


class EmpathyScorer:
    """A loaded classifier. One instance per process; score() may be called from any thread."""

    def __init__(self, model: EmpathyModel, tokenizer: Any, version: str) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.version = version
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: Path, encoder_dir: Path, quantize: bool = False) -> EmpathyScorer:
        from transformers import AutoTokenizer

        from partner_model.base_models import encoder_path, quiet_transformers
        from partner_model.quantization import quantize_linear_layers

        quiet_transformers()
        encoder_dir = encoder_path(encoder_dir)
        model = load(folder, encoder_dir)
        if quantize:
            model.encoder = quantize_linear_layers(model.encoder)  # the small heads stay float
        tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
        tokenizer.model_max_length = 1_000_000  # we truncate ourselves, by the stated policy
        return cls(model, tokenizer, version=f"{folder.name}-{file_digest(folder / HEADS_FILE)[:8]}")

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def encode(self, seeker: str, response: str) -> EncodedPair:
        if not response or not response.strip():
            raise EmptyTextError("the response is empty: there is nothing to score")
        config = self.model.config
        return encode_pair(self.tokenizer, seeker or "", response, config.max_length, config.max_seeker_tokens)

    def score(self, pairs: list[tuple[str, str]]) -> list[EmpathyScore]:
        """Scores for (seeker post, response) pairs, in order."""
        encoded = [self.encode(seeker, response) for seeker, response in pairs]
        results: list[EmpathyScore | None] = [None] * len(pairs)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), INFERENCE_BATCH):
                index = order[start : start + INFERENCE_BATCH]
                batch = collate([encoded[i] for i in index], self.tokenizer.pad_token_id)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                level_logits, rationale_logits = self.model(batch)
                level_probs = level_logits.softmax(-1).cpu()
                token_probs = rationale_logits.sigmoid().cpu()
                for row, i in enumerate(index):
                    results[i] = self._result(pairs[i][1], encoded[i], level_probs[row], token_probs[row])
        return [r for r in results if r is not None]

    def _result(
        self, response: str, pair: EncodedPair, level_probs: torch.Tensor, token_probs: torch.Tensor
    ) -> EmpathyScore:
        levels = {m: int(level_probs[k].argmax()) for k, m in enumerate(MECHANISMS)}
        probabilities = {m: [round(float(p), 4) for p in level_probs[k]] for k, m in enumerate(MECHANISMS)}
        rationales = {
            m: spans_from_tokens(response, pair, token_probs[:, k]) if levels[m] > 0 else []
            for k, m in enumerate(MECHANISMS)
        }
        return EmpathyScore(levels, probabilities, rationales, truncated=pair.response_truncated)
