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

import numpy as np
import torch

from partner_model.cards import file_digest
from partner_model.empathy import MECHANISMS
from partner_model.empathy.encoding import EncodedPair, collate, encode_pair
from partner_model.empathy.model import HEADS_FILE, EmpathyModel, load
from partner_model.empathy.rationales import TaggedResponse, read_rationales

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
        from partner_model.empathy.calibration import load_input_ranges
        from partner_model.quantization import quantize_linear_layers

        quiet_transformers()
        encoder_dir = encoder_path(encoder_dir)
        model = load(folder, encoder_dir)
        if quantize:  # the small heads stay float
            model.encoder = quantize_linear_layers(model.encoder, input_ranges=load_input_ranges(folder))
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
        return [self._result(*prediction) for prediction in self.predict(pairs)]

    def predict(self, pairs: list[tuple[str, str]]) -> list[tuple[np.ndarray, TaggedResponse, bool]]:
        """Per pair, in order: the (mechanism, level) probabilities, the response's tokens with their
        rationale probabilities, and whether the response was truncated. score() reads these; fitting
        how rationales are read (rationales.py) needs them raw."""
        encoded = [self.encode(seeker, response) for seeker, response in pairs]
        results: list[tuple[np.ndarray, TaggedResponse, bool] | None] = [None] * len(pairs)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i].input_ids))
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), INFERENCE_BATCH):
                index = order[start : start + INFERENCE_BATCH]
                batch = collate([encoded[i] for i in index], self.tokenizer.pad_token_id)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                level_logits, rationale_logits = self.model(batch)
                level_probs = level_logits.softmax(-1).cpu().numpy()
                token_probs = rationale_logits.sigmoid().cpu().numpy()
                for row, i in enumerate(index):
                    pair = encoded[i]
                    tagged = TaggedResponse(
                        pairs[i][1], pair.response_offsets, token_probs[row, pair.response_positions]
                    )
                    results[i] = (level_probs[row], tagged, pair.response_truncated)
        return [r for r in results if r is not None]

    def _result(self, level_probs: np.ndarray, tagged: TaggedResponse, truncated: bool) -> EmpathyScore:
        config = self.model.config
        levels = {m: int(level_probs[k].argmax()) for k, m in enumerate(MECHANISMS)}
        probabilities = {m: [round(float(p), 4) for p in level_probs[k]] for k, m in enumerate(MECHANISMS)}
        shown = [k for k, m in enumerate(MECHANISMS) if levels[m] > 0]
        spans = read_rationales(
            tagged,
            [config.rationale_units[k] for k in shown],
            [config.rationale_thresholds[k] for k in shown],
            shown,
        )
        rationales = {m: [] for m in MECHANISMS} | {MECHANISMS[k]: found for k, found in zip(shown, spans, strict=True)}
        return EmpathyScore(levels, probabilities, rationales, truncated=truncated)
