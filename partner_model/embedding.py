"""MiniLM sentence embeddings (mean pooling, unit length): coherence, specificity and retrieval use them."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import torch

# Sentences per forward pass; short texts, so a wide batch costs little padding.
EMBED_BATCH = 64
EMBED_MAX_TOKENS = 128


class SentenceEmbedder:
    def __init__(self, model: Any, tokenizer: Any) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self._lock = threading.Lock()

    @classmethod
    def load(cls, encoder_dir: Path) -> SentenceEmbedder:
        from transformers import AutoModel, AutoTokenizer

        from partner_model.base_models import encoder_path, quiet_transformers

        quiet_transformers()
        folder = encoder_path(encoder_dir)
        return cls(AutoModel.from_pretrained(folder, add_pooling_layer=False), AutoTokenizer.from_pretrained(folder))

    def embed(self, texts: list[str]) -> torch.Tensor:
        """(len(texts), 384) unit vectors; an empty text embeds as the zero vector.

        A text that comes more than once is encoded once: callers pair one seeker post or one reply's
        context with many candidate sentences."""
        distinct = list(dict.fromkeys(t for t in texts if t.strip()))
        vectors = torch.zeros((len(distinct) + 1, self.model.config.hidden_size))  # the last row: empty texts
        with self._lock, torch.inference_mode():
            for start in range(0, len(distinct), EMBED_BATCH):
                chunk = distinct[start : start + EMBED_BATCH]
                batch = self.tokenizer(
                    chunk,
                    padding=True,
                    truncation=True,
                    max_length=EMBED_MAX_TOKENS,
                    return_tensors="pt",
                )
                device = next(self.model.parameters()).device
                batch = {k: v.to(device) for k, v in batch.items()}
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                vectors[start : start + len(chunk)] = torch.nn.functional.normalize(pooled, dim=-1).cpu()
        row = {t: i for i, t in enumerate(distinct)}
        return vectors[[row.get(t, len(distinct)) for t in texts]]

    def similarity(self, left: list[str], right: list[str]) -> list[float]:
        """Cosine similarity of each left text with the right text at the same index."""
        both = self.embed(left + right)
        return (both[: len(left)] * both[len(left) :]).sum(-1).tolist()
