"""Log-likelihoods under the base language model, for fluency, mutual information and perplexity.

The base model is the policy's own LM with its adapter switched off when a policy is at hand,
so RL needs one copy of the weights, not two.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from partner_model.precision import bf16_autocast

# Sequences per forward pass when scoring.
SCORE_BATCH = 8
# Long texts are cut to this many tokens per side: likelihood per token barely changes past it.
MAX_SIDE_TOKENS = 128
# Memoised (context, continuation) scores kept; oldest dropped first.
MEMO_SIZE = 50_000


class BaseLMScorer:
    def __init__(self, model: Any, tokenizer: Any, bf16: bool = False) -> None:
        """bf16: autocast the forward passes where the CPU has bf16 instructions (precision.py)."""
        self.model = model
        self.tokenizer = tokenizer
        self.bf16 = bf16
        self._lock = threading.RLock()
        self._memo: dict[tuple[str, str], float] = {}

    @classmethod
    def load(cls, lm_dir: Path) -> BaseLMScorer:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from partner_model.base_models import lm_path, quiet_transformers

        quiet_transformers()
        folder = lm_path(lm_dir)
        return cls(
            AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval(),
            AutoTokenizer.from_pretrained(folder),
        )

    @contextlib.contextmanager
    def _base(self) -> Iterator[Any]:
        disable = getattr(self.model, "disable_adapter", None)
        with self._lock, torch.inference_mode(), disable() if disable else contextlib.nullcontext():
            yield self.model

    def mean_log_probs(self, contexts: list[str], continuations: list[str]) -> list[float]:
        """Mean log-probability per token of each continuation after its context (empty context allowed).

        The base model never changes, so results are memoised: RL scores the same original replies
        again and again.
        """
        keys = list(zip(contexts, continuations, strict=True))
        todo = [k for k in dict.fromkeys(keys) if k not in self._memo]
        for start in range(0, len(todo), SCORE_BATCH):
            chunk = todo[start : start + SCORE_BATCH]
            for key, value in zip(chunk, self._score([c for c, _ in chunk], [t for _, t in chunk]), strict=True):
                if len(self._memo) >= MEMO_SIZE:
                    self._memo.pop(next(iter(self._memo)))
                self._memo[key] = value
        return [self._memo[k] for k in keys]

    def _score(self, contexts: list[str], continuations: list[str]) -> list[float]:
        bos = self.tokenizer.convert_tokens_to_ids("<|im_start|>")
        rows = []
        for context, continuation in zip(contexts, continuations, strict=True):
            ctx = self.tokenizer(context, add_special_tokens=False)["input_ids"][-MAX_SIDE_TOKENS:]
            cont = self.tokenizer(continuation, add_special_tokens=False)["input_ids"][:MAX_SIDE_TOKENS]
            rows.append(([bos, *ctx], cont))
        width = max(len(c) + len(t) for c, t in rows)
        ids = torch.full((len(rows), width), self.tokenizer.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, (c, t) in enumerate(rows):
            ids[i, : len(c) + len(t)] = torch.tensor(c + t)
            mask[i, : len(c) + len(t)] = 1
        results = []
        with self._base() as model:
            causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
            device = next(causal_lm.parameters()).device
            with bf16_autocast(device, self.bf16):
                hidden = causal_lm.model(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
                for i, (c, t) in enumerate(rows):
                    if not t:
                        results.append(0.0)
                        continue
                    # Only the positions that predict the continuation are projected to the vocabulary.
                    logits = causal_lm.lm_head(hidden[i, len(c) - 1 : len(c) + len(t) - 1])
                    targets = torch.tensor(t, device=logits.device).unsqueeze(-1)
                    picked = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets)
                    results.append(float(picked.mean()))
        return results
