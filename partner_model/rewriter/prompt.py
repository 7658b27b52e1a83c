"""The policy's view of a conversation: the seeker post and the reply's sentences between slot markers.

    Post: <seeker post>
    Reply:
    [0] <sentence 0>
    [1] <sentence 1>
    [2]

Slot i's marker stands before sentence i, the last one after the reply. "Insert before i" is read
at slot i, "replace i" at slot i + 1 (the first marker that has seen sentence i); both together
with the prompt's last token, which has seen everything. The assistant turn then names the edit
("insert [1]:" or "replace [0]:") and continues with the new sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from partner_model.rewriter.edits import EditKind

# Short on purpose: every token here is computed for every candidate on a CPU.
SYSTEM_PROMPT = "Make the peer-support reply more empathic: insert or replace one sentence."


@dataclass(frozen=True)
class PromptConfig:
    max_seeker_tokens: int = 96  # the seeker post's beginning carries its topic
    max_reply_tokens: int = 160  # sentences past this budget are kept in the reply but not edited
    max_sentences: int = 8  # slots shown; Discord replies rarely have more
    max_new_tokens: int = 40  # one sentence


@dataclass
class EncodedPrompt:
    input_ids: list[int]
    slot_positions: list[int]  # index in input_ids of marker i's closing bracket, i = 0..shown
    shown: int  # sentences the policy can edit


def action_prefix(kind: EditKind, position: int) -> str:
    # No trailing space: the sentence's first token carries its own leading space, as in running text.
    return f"{kind.value} [{position}]:"


def _ids(tokenizer: Any, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_prompt(tokenizer: Any, seeker: str, sentences: list[str], config: PromptConfig) -> EncodedPrompt:
    seeker_ids = _ids(tokenizer, seeker.strip())[: config.max_seeker_tokens]
    ids = _ids(tokenizer, f"<|im_start|>system\n{SYSTEM_PROMPT}<|im_end|>\n<|im_start|>user\nPost: ")
    ids += seeker_ids + _ids(tokenizer, "\nReply:")
    slots: list[int] = []
    budget = config.max_reply_tokens
    shown = 0
    for sentence in sentences[: config.max_sentences]:
        sentence_ids = _ids(tokenizer, " " + sentence.strip())
        if shown and len(sentence_ids) > budget:
            break
        sentence_ids = sentence_ids[:budget]
        ids += _ids(tokenizer, f"\n[{shown}]")
        slots.append(len(ids) - 1)
        ids += sentence_ids
        budget -= len(sentence_ids)
        shown += 1
    ids += _ids(tokenizer, f"\n[{shown}]")
    slots.append(len(ids) - 1)
    ids += _ids(tokenizer, "<|im_end|>\n<|im_start|>assistant\n")
    return EncodedPrompt(ids, slots, shown)


def encode_continuation(
    tokenizer: Any, kind: EditKind, position: int, sentence: str | None
) -> tuple[list[int], list[int]]:
    """The action prefix ids and, when given, the sentence ids closed by <|im_end|>."""
    prefix = _ids(tokenizer, action_prefix(kind, position))
    if sentence is None:
        return prefix, []
    return prefix, [*_ids(tokenizer, " " + sentence.strip()), tokenizer.convert_tokens_to_ids("<|im_end|>")]
