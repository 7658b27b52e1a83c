"""Retraining from supporters' feedback: reward-weighted regression (RWR) on the active adapter, plus
a preference term for the member's choice among the suggestions they were shown.

Each accepted or edited suggestion becomes a supervised example (the edited sentence is the target
when the member rewrote it) weighted by the feedback's weight times a bonus for its empathy gain.
RWR rather than another policy-gradient pass: feedback is a small, fixed dataset, so maximising
weighted likelihood is stable where REINFORCE would need fresh samples and many more steps.
Likelihood alone only says what to write, not what to stop writing. The preference term (DPO, Rafailov et
al. 2023, the adapter as it was before the round being the reference) raises the taken edit over each
suggestion shown beside it and passed over (preference_weight, 1 by default). Each click's suggestions share
one prompt, encoded once (click_likelihoods), so the term costs little: a round of the closed feedback-loop
test took 5.5-6.3 min with it against 4.7-6.0 without (shipped adapter; on s28-rl, each suggestion encoded
with its own prompt, 11 min against 6).
Closed feedback-loop test (share of greedy suggestions for 60 held-out posts that take up a detail of the
post, before and after each of three rounds; session 32, the simulated members' edits naming a thing the
post points at, "your parents"), shipped adapter: RWR alone 0.197 -> 0.208 -> 0.210 -> 0.242; with the
preference term 0.197 -> 0.209 -> 0.340 -> 0.512. On RL candidate s28-rl, RWR alone 0.371 -> 0.340 -> 0.367
-> 0.375. Before session 32 the simulated edits named the post's first unused word in a fixed frame ("I am so
sorry you are dealing with done"), which RWR alone learned to copy (shipped adapter 0.164 -> 0.392, session
12) while s28-rl lost details imitating it (sessions 29-31: 0.330 -> 0.190 with RWR, 0.270 with
preferences; edits in the policy's words, edit_intent.py, 0.290).
Rejections and flags teach nothing to imitate (weight 0 by default), and a sentence is never pushed down on
its own (unlikelihood easily damages fluency on a few examples), only against the one preferred to it.
With the preference term, training runs without dropout, so the policy's log-probabilities are comparable
with the reference's.
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from typing import Any

import torch

from partner_model.empathy.train import StepCallback
from partner_model.reproducible import repeatable
from partner_model.rewriter.batching import Sequence, padded_tails, sentence_log_probs
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.generate import encode_prompts
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import EncodedPrompt, encode_continuation, encode_prompt
from partner_model.rewriter.warmstart import optimiser_step
from partner_model.text import split_sentences


@dataclass(frozen=True)
class FeedbackExample:
    seeker: str
    sentences: list[str]  # the original reply
    edit: Edit  # what the member took (or wrote)
    weight: float
    passed_over: tuple[Edit, ...] = ()  # suggestions shown beside it that the member did not take
    own_words: bool = False  # the sentence is the member's own writing, not one the policy suggested


@dataclass
class FeedbackTrainConfig:
    epochs: int = 3  # passes over the (small) feedback set
    batch_size: int = 4
    lr_lora: float = 1e-4  # lower than the warm start's: nudge the active policy, do not replace it
    lr_head: float = 3e-4
    position_weight: float = 0.5
    preference_weight: float = 1.0  # of the DPO term against the passed-over suggestions; 0: RWR alone
    preference_beta: float = 0.1  # DPO's beta: how far from the reference a preference may be pushed
    max_steps: int | None = None
    seed: int = 11


def _norm(sentence: str) -> str:
    """A sentence as compared with the reply's: the full stop join_sentences gives a reply's last sentence
    when a suggestion follows it is not the member's change."""
    return " ".join(sentence.lower().split()).rstrip(".")


def edit_from_text(original: list[str], edited_text: str) -> Edit | None:
    """The one-sentence edit that turns the original reply into the member's edited text, when there
    is one: one sentence added (insert) or one changed (replace). None when the member rewrote more.

    >>> edit_from_text(["Go out more.", "Join a club."], "Go out more. That sounds lonely. Join a club.")
    Edit(kind=<EditKind.INSERT: 'insert'>, position=1, sentence='That sounds lonely.')
    >>> edit_from_text(["Go out more"], "Go out more. How are you?")
    Edit(kind=<EditKind.INSERT: 'insert'>, position=1, sentence='How are you?')
    """
    edited = split_sentences(edited_text)
    before = [_norm(s) for s in original]
    after = [_norm(s) for s in edited]
    if len(after) == len(before) + 1:
        for i in range(len(after)):
            if after[:i] + after[i + 1 :] == before:
                return Edit(EditKind.INSERT, i, edited[i])
    if len(after) == len(before):
        changed = [i for i, (a, b) in enumerate(zip(after, before, strict=True)) if a != b]
        if len(changed) == 1:
            return Edit(EditKind.REPLACE, changed[0], edited[changed[0]])
    return None


@dataclass
class EncodedExample:
    chosen: Sequence
    weight: float
    passed_over: list[Sequence]


def _encode_edit(policy: RewriterPolicy, prompt: EncodedPrompt, edit: Edit) -> Sequence | None:
    """None when the edit's position is not one the prompt shows."""
    if edit.position >= prompt.shown + (1 if edit.kind is EditKind.INSERT else 0):
        return None
    prefix, sentence = encode_continuation(policy.tokenizer, edit.kind, edit.position, edit.sentence)
    return Sequence(prompt, edit.kind, edit.position, prefix, sentence[: policy.config.prompt.max_new_tokens])


def encode_examples(policy: RewriterPolicy, examples: list[FeedbackExample]) -> list[EncodedExample]:
    """Examples with a weight whose edit fits the prompt, with those of their passed-over suggestions
    that fit too and differ from the chosen sentence."""
    rows = []
    for example in examples:
        prompt = encode_prompt(policy.tokenizer, example.seeker, example.sentences, policy.config.prompt)
        chosen = _encode_edit(policy, prompt, example.edit)
        if chosen is None or example.weight <= 0:
            continue
        others = [_encode_edit(policy, prompt, e) for e in example.passed_over if e.sentence != example.edit.sentence]
        rows.append(EncodedExample(chosen, example.weight, [o for o in others if o is not None]))
    return rows


@dataclass
class ClickLikelihoods:
    """Log-likelihoods of a click's rows (the taken edit first, then those passed over) under the policy."""

    sentence: torch.Tensor  # summed log-probability of each row's sentence
    tokens: torch.Tensor  # each row's sentence length
    position: torch.Tensor  # log-probability of each row's edit position

    @property
    def edit(self) -> torch.Tensor:
        """log p(position) + log p(sentence | position), what the preference term compares."""
        return self.sentence + self.position


def click_likelihoods(policy: RewriterPolicy, rows: list[Sequence]) -> ClickLikelihoods:
    """Rows that share one prompt (a click's suggestions), with gradients. The prompt, most of each
    row's tokens, is encoded once and its cache copied to the rows, which then add only their edit and
    sentence: a click with three suggestions costs about a third of encoding each in full, which made
    the preference term affordable (figures in the module docstring). RL's reference pass uses it too."""
    prompt = rows[0].prompt
    if any(row.prompt.input_ids != prompt.input_ids for row in rows):
        raise ValueError("click_likelihoods takes rows of one prompt")
    prompt_states, prompt_ids, _, cache = encode_prompts(policy, [prompt])
    cache.batch_select_indices(torch.zeros(len(rows), dtype=torch.long, device=policy.device))
    ids, mask = padded_tails(rows, policy.end_id)
    states = policy.causal_lm.model(
        input_ids=ids.to(policy.device), attention_mask=mask.to(policy.device), cache=cache, use_cache=True
    ).last_hidden_state
    sentence, tokens = sentence_log_probs(states, rows, policy.token_logits, offset=prompt_ids.shape[1])
    positions = policy.action_logits(prompt_states[0], prompt).log_softmax(-1)
    position = torch.stack([positions[policy.action_index(prompt, row.kind, row.position)] for row in rows])
    return ClickLikelihoods(sentence, tokens, position)


def edit_log_likelihoods(policy: RewriterPolicy, rows: list[Sequence]) -> torch.Tensor:
    """log p(position) + log p(sentence | position) of each row (rows of one prompt)."""
    return click_likelihoods(policy, rows).edit


def _rows(example: EncodedExample) -> list[Sequence]:
    return [example.chosen, *example.passed_over]


def step_loss(
    policy: RewriterPolicy,
    batch: list[EncodedExample],
    references: list[torch.Tensor | None],
    config: FeedbackTrainConfig,
) -> tuple[torch.Tensor, dict[str, float]]:
    """RWR on the taken edits (per-token NLL and position cross-entropy, each click by its weight) plus,
    where a click has a reference, the weighted DPO term of its taken edit over each passed-over one
    (an example's weight shared among its passed-over suggestions)."""
    weights = torch.tensor([r.weight for r in batch], device=policy.device)
    share = weights / weights.sum()
    nll, position, preference, preference_weights = [], [], [], []
    for example, reference in zip(batch, references, strict=True):
        with_others = reference is not None
        found = click_likelihoods(policy, _rows(example) if with_others else [example.chosen])
        nll.append(-found.sentence[0] / found.tokens[0].clamp(min=1))
        position.append(-found.position[0])
        if with_others:
            gains = found.edit - reference
            preference.append(torch.nn.functional.logsigmoid(config.preference_beta * (gains[0] - gains[1:])))
            others = len(example.passed_over)
            preference_weights.append(torch.full((others,), example.weight / others, device=policy.device))
    nll_loss = (share * torch.stack(nll)).sum()
    position_loss = (share * torch.stack(position)).sum()
    loss = nll_loss + config.position_weight * position_loss
    parts = {"nll": nll_loss.item(), "position": position_loss.item()}
    if preference:
        pair_weights = torch.cat(preference_weights)
        preference_loss = -(pair_weights * torch.cat(preference)).sum() / pair_weights.sum()
        loss = loss + config.preference_weight * preference_loss
        parts["preference"] = preference_loss.item()
    return loss, parts


def retrain(
    policy: RewriterPolicy,
    examples: list[FeedbackExample],
    config: FeedbackTrainConfig,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    """Fine-tune the (trainable) policy in place on weighted feedback; returns what happened."""
    with repeatable(config.seed):
        rows = encode_examples(policy, examples)
        if not rows:
            return {"examples_used": 0, "steps": 0, "history": [], "config": asdict(config)}
        # Dropout would make the policy's log-probabilities incomparable with the reference's.
        policy.train(config.preference_weight == 0)
        references: list[torch.Tensor | None] = [None] * len(rows)
        if config.preference_weight > 0:
            with torch.no_grad():
                references = [edit_log_likelihoods(policy, _rows(r)) if r.passed_over else None for r in rows]
        trainable = [p for p in policy.lm.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [
                {"params": trainable, "lr": config.lr_lora},
                {"params": policy.position_head.parameters(), "lr": config.lr_head},
            ]
        )
        steps_per_epoch = math.ceil(len(rows) / config.batch_size)
        total = steps_per_epoch * config.epochs if config.max_steps is None else config.max_steps
        rng = random.Random(config.seed)
        history, step = [], 0
        while step < total:
            order = list(range(len(rows)))
            rng.shuffle(order)
            for start in range(0, len(order), config.batch_size):
                if step >= total:
                    break
                chunk = order[start : start + config.batch_size]
                loss, parts = step_loss(policy, [rows[i] for i in chunk], [references[i] for i in chunk], config)
                optimiser_step(optimiser, loss, trainable + list(policy.position_head.parameters()))
                step += 1
                history.append({"step": step, "loss": loss.item(), **parts})
                if on_step:
                    on_step(1 + (step - 1) // steps_per_epoch, step, total, loss.item())
        policy.eval()
        return {"examples_used": len(rows), "steps": step, "history": history, "config": asdict(config)}
