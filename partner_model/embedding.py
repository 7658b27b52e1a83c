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
        """(len(texts), 384) unit vectors; an empty text embeds as the zero vector."""
        out = torch.zeros((len(texts), self.model.config.hidden_size))
        todo = [i for i, t in enumerate(texts) if t.strip()]
        with self._lock, torch.inference_mode():
            for start in range(0, len(todo), EMBED_BATCH):
                index = todo[start : start + EMBED_BATCH]
                batch = self.tokenizer(
                    [texts[i] for i in index],
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
                out[index] = torch.nn.functional.normalize(pooled, dim=-1).cpu()
        return out

    def similarity(self, left: list[str], right: list[str]) -> list[float]:
        """Cosine similarity of each left text with the right text at the same index."""
        a, b = self.embed(left), self.embed(right)
        return (a * b).sum(-1).tolist()
