"""Sampling from the policy: edits from the position head, sentences from the language model."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from partner_model.rewriter.batching import Sequence, right_padded
from partner_model.rewriter.edits import EditKind, actions_for
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import EncodedPrompt, encode_continuation
from partner_model.text import split_sentences


@dataclass
class Sampled:
    """One generated edit: what the model produced, and the cleaned sentence the reply receives."""

    sequence: Sequence  # prompt + prefix + generated tokens, for log-probabilities
    sentence: str
    mean_log_prob: float  # the generation's own mean token log-probability


@torch.inference_mode()
def action_distributions(policy: RewriterPolicy, prompts: list[EncodedPrompt]) -> list[torch.Tensor]:
    """Probabilities over actions_for(prompt.shown), one tensor per prompt."""
    rows = [Sequence(p, EditKind.INSERT, 0, [], []) for p in prompts]
    ids, mask = right_padded(rows, policy.end_id)
    hidden = policy.hidden_states(ids, mask)
    return [policy.action_logits(hidden[i], p).softmax(-1) for i, p in enumerate(prompts)]


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
) -> list[Sampled]:
    """One sampled sentence per (prompt, action), in one left-padded batch (RL: every prompt differs)."""
    prefixes = [encode_continuation(policy.tokenizer, kind, position, None)[0] for kind, position in actions]
    inputs = [prompt.input_ids + prefix for prompt, prefix in zip(prompts, prefixes, strict=True)]
    width = max(len(i) for i in inputs)
    ids = torch.full((len(inputs), width), policy.end_id, dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, seq in enumerate(inputs):
        ids[row, width - len(seq) :] = torch.tensor(seq)
        mask[row, width - len(seq) :] = 1
    out = _sample(policy, ids, mask, None, temperature, top_p, max_new_tokens)
    return _collect(policy, prompts, actions, prefixes, out, width)


@torch.inference_mode()
def generate_shared(
    policy: RewriterPolicy,
    prompt: EncodedPrompt,
    actions: list[tuple[EditKind, int]],
    temperature: float,
    top_p: float,
    max_new_tokens: int,
) -> list[Sampled]:
    """Several candidates for one reply: the prompt is encoded once and its cache shared by every row.

    The edit prefixes ("insert [1]:", "replace [0]:") have one length for single-digit slots, so the
    rows need no padding after the shared prompt; otherwise this falls back to the padded batch.
    """
    from transformers import DynamicCache

    prefixes = [encode_continuation(policy.tokenizer, kind, position, None)[0] for kind, position in actions]
    if len({len(p) for p in prefixes}) != 1:
        return generate(policy, [prompt] * len(actions), actions, temperature, top_p, max_new_tokens)
    prompt_ids = torch.tensor([prompt.input_ids], device=policy.device)
    cache = DynamicCache()
    policy.causal_lm(input_ids=prompt_ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
    cache.batch_repeat_interleave(len(actions))
    ids = torch.tensor([prompt.input_ids + prefix for prefix in prefixes])
    out = _sample(policy, ids, torch.ones_like(ids), cache, temperature, top_p, max_new_tokens)
    return _collect(policy, [prompt] * len(actions), actions, prefixes, out, ids.shape[1])


def _sample(
    policy: RewriterPolicy,
    ids: torch.Tensor,
    mask: torch.Tensor,
    cache: object | None,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
) -> object:
    sampling = temperature > 0
    return policy.lm.generate(
        input_ids=ids.to(policy.device),
        attention_mask=mask.to(policy.device),
        past_key_values=cache,
        do_sample=sampling,
        temperature=temperature if sampling else None,
        top_p=top_p if sampling else None,
        top_k=0 if sampling else None,
        max_new_tokens=max_new_tokens,
        eos_token_id=policy.end_id,
        pad_token_id=policy.end_id,
        output_scores=True,
        return_dict_in_generate=True,
    )


def _collect(
    policy: RewriterPolicy,
    prompts: list[EncodedPrompt],
    actions: list[tuple[EditKind, int]],
    prefixes: list[list[int]],
    out: object,
    width: int,
) -> list[Sampled]:
    new_tokens = out.sequences[:, width:].cpu()  # type: ignore[attr-defined]
    step_log_probs = torch.stack(out.scores, dim=1).float().log_softmax(-1).cpu()  # type: ignore[attr-defined]
    results = []
    for row, (prompt, (kind, position)) in enumerate(zip(prompts, actions, strict=True)):
        tokens = new_tokens[row].tolist()
        if policy.end_id in tokens:
            tokens = tokens[: tokens.index(policy.end_id) + 1]
        picked = step_log_probs[row, : len(tokens)].gather(-1, torch.tensor(tokens).unsqueeze(-1)).squeeze(-1)
        finite = picked[torch.isfinite(picked)]
        text = policy.tokenizer.decode([t for t in tokens if t != policy.end_id], skip_special_tokens=True)
        results.append(
            Sampled(
                Sequence(prompt, kind, position, prefixes[row], tokens),
                first_sentence(text),
                float(finite.mean()) if len(finite) else float("-inf"),
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
