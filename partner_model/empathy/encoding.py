"""Turn (seeker post, response) pairs into encoder inputs, with the stated truncation policy.

Policy: the response comes first and keeps priority, because it is what is judged and where the
rationales are; the seeker post gets up to `max_seeker_tokens` (more if the response is short).
Both keep their beginnings. Control characters become spaces, so character offsets into the
original response stay valid for rationale spans.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import torch


def clean_text(text: str) -> str:
    """Replace control and format characters by spaces, keeping the length (and so every offset)."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs") and ch not in "\n\t" else ch for ch in text)


@dataclass
class EncodedPair:
    input_ids: list[int]
    token_type_ids: list[int]
    # Position in input_ids of each response token, with its character span in the response.
    response_positions: list[int]
    response_offsets: list[tuple[int, int]]
    seeker_positions: list[int]
    response_truncated: bool


def encode_pair(tokenizer: Any, seeker: str, response: str, max_length: int, max_seeker_tokens: int) -> EncodedPair:
    response_enc = tokenizer(clean_text(response), add_special_tokens=False, return_offsets_mapping=True)
    seeker_ids: list[int] = tokenizer(clean_text(seeker), add_special_tokens=False)["input_ids"]
    budget = max_length - 3  # [CLS] response [SEP] seeker [SEP]
    response_ids: list[int] = response_enc["input_ids"]
    seeker_budget = min(len(seeker_ids), max_seeker_tokens)
    response_keep = min(len(response_ids), budget - seeker_budget)
    seeker_keep = min(len(seeker_ids), budget - response_keep)
    ids = [tokenizer.cls_token_id, *response_ids[:response_keep], tokenizer.sep_token_id]
    response_positions = list(range(1, 1 + response_keep))
    seeker_start = len(ids)
    ids += [*seeker_ids[:seeker_keep], tokenizer.sep_token_id]
    types = [0] * seeker_start + [1] * (len(ids) - seeker_start)
    return EncodedPair(
        input_ids=ids,
        token_type_ids=types,
        response_positions=response_positions,
        response_offsets=[tuple(o) for o in response_enc["offset_mapping"][:response_keep]],
        seeker_positions=list(range(seeker_start, seeker_start + seeker_keep)),
        response_truncated=response_keep < len(response_ids),
    )


def collate(pairs: list[EncodedPair], pad_id: int) -> dict[str, torch.Tensor]:
    """Pad a batch; masks tell the heads which positions belong to the response and the seeker post."""
    width = max(len(p.input_ids) for p in pairs)
    n = len(pairs)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)
    token_types = torch.zeros((n, width), dtype=torch.long)
    attention = torch.zeros((n, width), dtype=torch.long)
    response_mask = torch.zeros((n, width), dtype=torch.float32)
    seeker_mask = torch.zeros((n, width), dtype=torch.float32)
    for row, pair in enumerate(pairs):
        length = len(pair.input_ids)
        input_ids[row, :length] = torch.tensor(pair.input_ids)
        token_types[row, :length] = torch.tensor(pair.token_type_ids)
        attention[row, :length] = 1
        response_mask[row, pair.response_positions] = 1.0
        seeker_mask[row, pair.seeker_positions] = 1.0
    return {
        "input_ids": input_ids,
        "token_type_ids": token_types,
        "attention_mask": attention,
        "response_mask": response_mask,
        "seeker_mask": seeker_mask,
    }


def rationale_targets(
    pairs: list[EncodedPair],
    spans: list[dict[str, list[tuple[int, int]]]],
    mechanisms: tuple[str, ...],
    width: int,
) -> torch.Tensor:
    """Per-token 0/1 targets (batch, width, mechanism): a response token inside an annotated span is 1."""
    target = torch.zeros((len(pairs), width, len(mechanisms)), dtype=torch.float32)
    for row, (pair, by_mech) in enumerate(zip(pairs, spans, strict=True)):
        for m_index, mech in enumerate(mechanisms):
            for start, end in by_mech.get(mech, []):
                for position, (tok_start, tok_end) in zip(pair.response_positions, pair.response_offsets, strict=True):
                    if tok_start < end and tok_end > start:
                        target[row, position, m_index] = 1.0
    return target
