"""Sampling from the policy: edits from the position head, sentences from the language model."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import torch

from partner_model.rewriter.batching import Sequence
from partner_model.rewriter.edits import EditKind, actions_for
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import EncodedPrompt, encode_continuation
from partner_model.text import split_sentences

# Tokens looked at first when sampling a nucleus: sorting SmolLM2's 49,152 logits each step took a
# quarter of a rewrite on the CPU. Exact: a row whose nucleus reaches beyond them is sorted in full.
NUCLEUS_SHORTLIST = 256
# Sentence-final punctuation (and closing quotes or brackets), a space, and more text: only then can
# a second sentence have begun, so the sentence splitter runs on few decoding steps.
_NEXT_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s+\S")


@dataclass
class Sampled:
    """One generated edit: what the model produced, and the cleaned sentence the reply receives."""

    sequence: Sequence  # prompt + prefix + generated tokens, for log-probabilities
    sentence: str
    mean_log_prob: float  # the generation's own mean token log-probability
    # False when the token limit cut the only sentence short: a half sentence is never suggested.
    complete: bool = True


@dataclass
class Prefilled:
    """Prompts run through the model once, left-padded: the position head reads their states, and
    generation continues from their cache instead of encoding them again (which cost a fifth of a
    rewrite on the CPU). One generation uses the cache up."""

    distributions: list[torch.Tensor]  # probabilities over actions_for(prompt.shown), one per prompt
    ids: torch.Tensor
    mask: torch.Tensor
    cache: Any


def encode_prompts(
    policy: RewriterPolicy, prompts: list[EncodedPrompt]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, Any]:
    """The prompts left-padded beside each other and run through the model into a fresh cache: their
    last-layer states (which the position head reads), ids, mask and the cache to continue from. With
    gradients when the caller has them on (feedback training scores a click's suggestions after it)."""
    from transformers import DynamicCache

    ids, mask = _left_padded([p.input_ids for p in prompts], policy.end_id)
    cache = DynamicCache()
    device = policy.device
    hidden = policy.causal_lm.model(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=_positions(mask).to(device),
        cache=cache,
        use_cache=True,
    ).last_hidden_state
    return hidden, ids, mask, cache


@torch.inference_mode()
def prefill(policy: RewriterPolicy, prompts: list[EncodedPrompt]) -> Prefilled:
    """The position head's distributions and the prompts' cache, from one pass."""
    hidden, ids, mask, cache = encode_prompts(policy, prompts)
    width = ids.shape[1]
    distributions = [
        policy.action_logits(hidden[i], p, offset=width - len(p.input_ids)).softmax(-1) for i, p in enumerate(prompts)
    ]
    return Prefilled(distributions, ids, mask, cache)


def has_second_sentence(text: str) -> bool:
    """Another sentence has begun after the first, which is therefore whole."""
    return bool(_NEXT_SENTENCE.search(text)) and len(split_sentences(text.strip())) > 1


def first_sentence(text: str) -> str:
    """The new sentence is one sentence: anything the model wrote after it is dropped."""
    sentences = split_sentences(text.strip())
    return sentences[0].strip() if sentences else ""


@torch.inference_mode()
def generate(
    policy: RewriterPolicy,
    prompts: list[EncodedPrompt],
    actions: list[tuple[EditKind, int]],
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    one_sentence: bool = False,
) -> list[Sampled]:
    """One sampled sentence per (prompt, action), in one left-padded batch (RL: every prompt differs).

    one_sentence: a row stops once its first sentence is over (inference keeps only that sentence);
    RL leaves it off, so the policy still learns to end its sentence by itself."""
    prefixes = [encode_continuation(policy.tokenizer, kind, position, None)[0] for kind, position in actions]
    ids, mask = _left_padded([p.input_ids + prefix for p, prefix in zip(prompts, prefixes, strict=True)], policy.end_id)
    drawn = _decode(policy, ids, mask, None, temperature, top_p, max_new_tokens, one_sentence)
    return _collect(policy, prompts, actions, prefixes, drawn)


@torch.inference_mode()
def generate_led(
    policy: RewriterPolicy,
    prompt: EncodedPrompt,
    action: tuple[EditKind, int],
    lead: str,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
) -> Sampled:
    """One sentence that starts with the given words, the policy writing the rest: RL's guided samples.
    The lead's tokens count as the sentence's own, so the gradient pass credits the policy with them;
    mean_log_prob covers only the tokens it drew."""
    kind, position = action
    prefix, lead_ids = encode_continuation(policy.tokenizer, kind, position, lead)
    lead_ids = lead_ids[:-1]  # without the end token: the sentence goes on
    ids, mask = _left_padded([prompt.input_ids + prefix + lead_ids], policy.end_id)
    drawn = _decode(policy, ids, mask, None, temperature, top_p, max(1, max_new_tokens - len(lead_ids)))[0]
    return _collect(policy, [prompt], [action], [prefix], [_Drawn(lead_ids + drawn.tokens, drawn.log_probs)])[0]


@torch.inference_mode()
def generate_grouped(
    policy: RewriterPolicy,
    prompts: list[EncodedPrompt],
    actions: list[list[tuple[EditKind, int]]],
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    one_sentence: bool = False,
    prefilled: Prefilled | None = None,
    max_cached_tokens: int | None = None,
) -> list[Sampled]:
    """Candidates for several replies in one batch (actions[i]: the edits to sample for prompts[i]),
    in the order of the flattened actions.

    Each prompt is encoded once (prefilled: by the pass that chose the actions), left-padded beside
    the others, and its cache is copied to each of its rows; every row then only adds its edit prefix
    ("insert [1]:", "replace [0]:"). The prefixes have one length for single-digit slots, so rows need
    no padding after their prompt; otherwise this falls back to the padded batch that encodes every
    row's prompt.

    max_cached_tokens: rows times prompt width held in the cache at once. Each row carries its own copy
    of its prompt's cache, so a long post sampled 18 ways took the worker 360 MB past a short one; rows
    beyond the budget are sampled in further passes, each from a copy of the prefilled cache.
    """
    rows_prompt = [prompt for prompt, group in zip(prompts, actions, strict=True) for _ in group]
    rows_action = [action for group in actions for action in group]
    if not rows_action:
        return []
    prefixes = [encode_continuation(policy.tokenizer, kind, position, None)[0] for kind, position in rows_action]
    if len({len(p) for p in prefixes}) != 1:
        return generate(policy, rows_prompt, rows_action, temperature, top_p, max_new_tokens, one_sentence)
    prefilled = prefilled or prefill(policy, prompts)
    ids, mask, cache = prefilled.ids, prefilled.mask, prefilled.cache
    if len(ids) != len(prompts) or cache.get_seq_length() != ids.shape[1]:
        raise ValueError("a prefilled cache serves one generation, of the prompts it was made from")
    owners = torch.tensor([i for i, group in enumerate(actions) for _ in group])
    prefix_ids = torch.tensor(prefixes)
    per_pass = len(owners) if max_cached_tokens is None else max(1, max_cached_tokens // ids.shape[1])
    drawn: list[_Drawn] = []
    for start in range(0, len(owners), per_pass):
        part = slice(start, start + per_pass)
        part_cache = cache if start + per_pass >= len(owners) else copy.deepcopy(cache)
        part_cache.batch_select_indices(owners[part].to(policy.device))
        row_ids = torch.cat([ids[owners[part]], prefix_ids[part]], dim=1)
        row_mask = torch.cat([mask[owners[part]], torch.ones_like(prefix_ids[part])], dim=1)
        drawn += _decode(policy, row_ids, row_mask, part_cache, temperature, top_p, max_new_tokens, one_sentence)
    return _collect(policy, rows_prompt, rows_action, prefixes, drawn)


def _left_padded(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
    return ids, mask


def _positions(mask: torch.Tensor) -> torch.Tensor:
    """Left padding takes no positions: every row's first real token is at position 0."""
    return (mask.cumsum(-1) - 1).clamp(min=0)


def _forward(
    policy: RewriterPolicy, ids: torch.Tensor, mask: torch.Tensor, positions: torch.Tensor, cache: object
) -> torch.Tensor:
    """Next-token logits of each row's last position, extending the cache."""
    device = policy.device
    out = policy.causal_lm(
        input_ids=ids.to(device),
        attention_mask=mask.to(device),
        position_ids=positions.to(device),
        cache=cache,
        use_cache=True,
        logits_to_keep=1,
    )
    return out.logits[:, -1].float()


def _pick(logits: torch.Tensor, temperature: float, top_p: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Next tokens (nucleus sampling at the temperature; greedy at temperature 0) and their
    log-probabilities under the distribution they were drawn from."""
    if temperature <= 0:
        log_probs = logits.log_softmax(-1)
        chosen = log_probs.argmax(-1)
        return chosen, log_probs.gather(-1, chosen.unsqueeze(-1)).squeeze(-1)
    scaled = logits / temperature
    top, index = scaled.topk(min(NUCLEUS_SHORTLIST, scaled.shape[-1]), dim=-1)
    probs = (top - scaled.logsumexp(-1, keepdim=True)).exp()
    mass = probs.cumsum(-1)
    if bool((mass[:, -1] < top_p).any()):  # a flat distribution: its nucleus needs the whole vocabulary
        top, index = scaled.sort(dim=-1, descending=True)
        probs = top.softmax(-1)
        mass = probs.cumsum(-1)
    kept = top.masked_fill(mass - probs >= top_p, float("-inf")).log_softmax(-1)  # the fewest tokens reaching top_p
    slot = torch.multinomial(kept.exp(), 1)
    return index.gather(-1, slot).squeeze(-1), kept.gather(-1, slot).squeeze(-1)


@dataclass
class _Drawn:
    tokens: list[int]  # up to and including the end token when one was drawn
    log_probs: list[float]


def _decode(
    policy: RewriterPolicy,
    ids: torch.Tensor,
    mask: torch.Tensor,
    cache: object | None,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    one_sentence: bool = False,
) -> list[_Drawn]:
    """Sample every row until its end token, max_new_tokens or, with one_sentence, the start of a
    second sentence. A finished row leaves the batch and its cache rows are dropped, so a batch costs
    the sum of its rows' lengths, not its longest row times its size (generate() in transformers keeps
    computing finished rows: measured, sentences average about 15 tokens where the longest in a batch
    of 9 averages 25)."""
    from transformers import DynamicCache

    cache = cache if cache is not None else DynamicCache()
    end_id = policy.end_id  # a tokenizer lookup: once, not per row and step
    done = cache.get_seq_length()  # type: ignore[attr-defined]
    positions = _positions(mask)
    step_ids, step_positions = ids[:, done:], positions[:, done:]
    live = list(range(len(ids)))
    drawn = [_Drawn([], []) for _ in live]
    for _ in range(max_new_tokens):
        chosen, log_probs = _pick(_forward(policy, step_ids, mask, step_positions, cache), temperature, top_p)
        for row, token, log_prob in zip(live, chosen.tolist(), log_probs.tolist(), strict=True):
            drawn[row].tokens.append(token)
            drawn[row].log_probs.append(log_prob)
        keep = [
            i
            for i, token in enumerate(chosen.tolist())
            if token != end_id
            and not (one_sentence and has_second_sentence(policy.tokenizer.decode(drawn[live[i]].tokens)))
        ]
        if not keep:
            break
        if len(keep) < len(live):
            index = torch.tensor(keep)
            cache.batch_select_indices(index.to(policy.device))  # type: ignore[attr-defined]
            mask, positions, chosen = mask[index], positions[index], chosen[index.to(chosen.device)]
            live = [live[i] for i in keep]
        step_ids, step_positions = chosen.unsqueeze(-1).cpu(), positions[:, -1:] + 1
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        positions = torch.cat([positions, step_positions], dim=1)
    return drawn


def _collect(
    policy: RewriterPolicy,
    prompts: list[EncodedPrompt],
    actions: list[tuple[EditKind, int]],
    prefixes: list[list[int]],
    drawn: list[_Drawn],
) -> list[Sampled]:
    end_id = policy.end_id
    results = []
    for row, (prompt, (kind, position)) in enumerate(zip(prompts, actions, strict=True)):
        tokens, log_probs = drawn[row].tokens, drawn[row].log_probs
        text = policy.tokenizer.decode([t for t in tokens if t != end_id], skip_special_tokens=True)
        sentence = first_sentence(text)
        results.append(
            Sampled(
                Sequence(prompt, kind, position, prefixes[row], tokens),
                sentence,
                sum(log_probs) / len(log_probs) if log_probs else float("-inf"),
                complete=end_id in tokens or sentence != text.strip(),
            )
        )
    return results


def sample_actions(distributions: list[torch.Tensor], generator: torch.Generator) -> list[tuple[EditKind, int]]:
    """One action per prompt, drawn from its distribution."""
    chosen = []
    for probs in distributions:
        index = int(torch.multinomial(probs, 1, generator=generator))
        chosen.append(actions_for((len(probs) - 1) // 2)[index])
    return chosen


def top_actions(probs: torch.Tensor, k: int) -> list[tuple[EditKind, int]]:
    """The k most likely actions of one prompt."""
    actions = actions_for((len(probs) - 1) // 2)
    return [actions[i] for i in probs.argsort(descending=True)[:k].tolist()]
