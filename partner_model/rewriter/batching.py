"""Padding of prompt + edit + sentence sequences, and the log-probabilities of the sentence part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.prompt import EncodedPrompt


@dataclass
class Sequence:
    prompt: EncodedPrompt
    kind: EditKind
    position: int
    prefix: list[int]  # the edit named by the assistant, e.g. "insert [1]:"
    sentence: list[int]  # the new sentence's tokens, closed by <|im_end|>

    @property
    def ids(self) -> list[int]:
        return self.prompt.input_ids + self.prefix + self.sentence

    @property
    def sentence_start(self) -> int:
        return len(self.prompt.input_ids) + len(self.prefix)


def right_padded(rows: list[Sequence], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids and attention mask, padded on the right so every row's prompt starts at position 0."""
    width = max(len(r.ids) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row.ids)] = torch.tensor(row.ids)
        mask[i, : len(row.ids)] = 1
    return ids, mask


def padded_tails(rows: list[Sequence], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each row's edit prefix and sentence, padded on the right, to run after its prompt's cached states;
    the mask covers the prompt as well, as the model expects with a cache."""
    prompt_length = len(rows[0].prompt.input_ids)
    tails = [row.prefix + row.sentence for row in rows]
    width = max(len(tail) for tail in tails)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), prompt_length + width), dtype=torch.long)
    mask[:, :prompt_length] = 1
    for i, tail in enumerate(tails):
        ids[i, : len(tail)] = torch.tensor(tail)
        mask[i, prompt_length : prompt_length + len(tail)] = 1
    return ids, mask


def sentence_log_probs(
    hidden: torch.Tensor, rows: list[Sequence], project: Callable[[torch.Tensor], torch.Tensor], offset: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row: the summed log-probability of the sentence tokens, and their count.

    Only the positions that predict sentence tokens are projected to the vocabulary. offset: the
    sequence position of hidden's first column (the prompt's length when its states were cached).
    """
    totals, counts = [], []
    for i, row in enumerate(rows):
        start = row.sentence_start - offset
        end = start + len(row.sentence)
        # Position t predicts token t + 1.
        log_probs = torch.log_softmax(project(hidden[i, start - 1 : end - 1]).float(), dim=-1)
        targets = torch.tensor(row.sentence, device=log_probs.device)
        picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        totals.append(picked.sum())
        counts.append(len(row.sentence))
    totals_t = torch.stack(totals)
    return totals_t, torch.tensor(counts, dtype=torch.float32, device=totals_t.device)
