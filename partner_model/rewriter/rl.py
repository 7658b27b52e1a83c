"""Policy-gradient training of the warm-started policy on the full PARTNER reward.

REINFORCE with a baseline: per step, take a few low-empathy replies and sample a group of edits
and sentences for each, score the new replies with the reward, and raise the log-probability of
each edit and sentence in proportion to (reward - its group's mean reward). The group baseline
needs no value network (which a CPU could not afford), removes the differences between replies
from the signal, and the group shares one encoding of its prompt, which makes sampling cheap.
A sentence the product would never show (RewardContext.sentences_ok) earns a fixed low reward, so
the judge's liking for it cannot teach the policy to write it.
A KL penalty keeps the policy near its warm start: each sample's reward loses kl_coef times the
log-ratio of its sentence under the policy and under the frozen warm-start adapter. Without it a
fast run collapsed onto one stock question that the classifier likes ("Have you experienced any
...") for 79 of 80 dev replies; the penalty grows as the policy concentrates on a few sentences.
At 0.1 it only delayed the collapse, so a sentence also loses repeat_coef times its similarity, above
repeat_floor, with the sentences recently sampled for other posts (repetition.py): a stock sentence pays
wherever it goes; and opening_coef times the share, above opening_floor, of those sentences that open with
its first words: a stock form pays too, whatever words follow.
Guided samples: with guide_share > 0, that share of the groups has its last sample start with a reaction
of sympathy from the data ("I'm sorry you feel this way,"), the policy writing the rest. The sentence that
joins feeling to a question is the one the judge credits most (about +2.8 against +1.6 for a bare
question), but RL finds it late and then narrowly: from a warm start with such targets, 3-8% of the samples
took that form for 240 steps and 92% of the last 80, nearly all opening "Sorry to hear from you," (session
26). Led samples show it from the first step with the data's varied reactions. Their lead's tokens count as
the policy's own in the gradient pass, so a led sample that beats its group teaches the policy to open that
way itself (off-policy, as demonstrations mixed into RL are).
Checkpoints carry the adapter, head, optimiser, random state and step, so a run resumes where it stopped.
On a CPU with bf16 instructions, sampling, the gradient pass and the reward's likelihoods run in bfloat16
autocast (config.bf16, precision.py); with every reply's samples drawn in one batch, a step of 2 replies x 4
samples from the shipped warm start took 11.5 s instead of 14.6.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from partner_model.precision import bf16_autocast
from partner_model.reproducible import repeatable
from partner_model.rewriter import rewards
from partner_model.rewriter.batching import Sequence, right_padded, sentence_log_probs
from partner_model.rewriter.edits import Edit
from partner_model.rewriter.feedback_training import click_likelihoods
from partner_model.rewriter.generate import generate_grouped, generate_led, prefill, sample_actions
from partner_model.rewriter.policy import ADAPTER_DIR, POLICY_ADAPTER, RewriterPolicy, save
from partner_model.rewriter.prompt import encode_prompt
from partner_model.rewriter.recipe import (
    RL_GUIDE_SHARE,
    RL_KL_COEF,
    RL_LEARNING_RATE,
    RL_OPENING_COEF,
    RL_OPENING_FLOOR,
    RL_OPENING_WORDS,
    RL_REPEAT_COEF,
    RL_REPEAT_FLOOR,
    RL_STEPS,
)
from partner_model.rewriter.repetition import RecentOpenings, RecentSentences, penalty
from partner_model.rewriter.warmstart_data import lead_in
from partner_model.selective import on_kept

STATE_FILE = "rl_state.pt"
SNAPSHOT_DIR = "snapshots"  # policies kept along the way: the learning curve may favour one before the end
LOG_FILE = "rl_log.jsonl"
REFERENCE_ADAPTER = "reference"  # the frozen warm start, for the KL penalty


@dataclass
class RLConfig:
    steps: int = RL_STEPS
    prompts_per_step: int = 2  # replies per step
    group_size: int = 4  # samples per reply; their mean reward is each one's baseline
    lr_lora: float = RL_LEARNING_RATE
    lr_head: float = 2e-4
    temperature: float = 1.0  # sampling temperature during training: exploration
    top_p: float = 0.95
    max_new_tokens: int = 32
    position_entropy: float = 0.01  # keeps the position head from collapsing onto one slot early
    kl_coef: float = RL_KL_COEF  # reward lost per nat of log(policy / warm start) of a sentence; 0: no penalty
    # Reward lost per unit of cosine similarity above repeat_floor with a sentence sampled for another post
    # within the last repeat_window steps; 0: no penalty.
    repeat_coef: float = RL_REPEAT_COEF
    repeat_floor: float = RL_REPEAT_FLOOR
    repeat_window: int = 16
    # Reward lost per unit of the share (0-1) above opening_floor of the sentences sampled for other posts in
    # the same window that open with the same opening_words words; 0: no penalty.
    opening_coef: float = RL_OPENING_COEF
    opening_floor: float = RL_OPENING_FLOOR
    opening_words: int = RL_OPENING_WORDS
    # Share of the groups whose last sample is led by a reaction from train_rl's guides (0: none).
    guide_share: float = RL_GUIDE_SHARE
    # The reward of a sentence that would never be shown (safety filter, voice check, cut short), whatever
    # the judge makes of it: suggesting nothing is worth 0, so such a sentence is worth less.
    unusable_reward: float = -2.0
    checkpoint_every: int = 10
    snapshot_every: int = 0  # also keep the policy of every this many steps in snapshots/step-N (0: none)
    seed: int = 11
    threads: int = 0
    # bfloat16 autocast for sampling and the gradient pass on a CPU with bf16 instructions (precision.py).
    bf16: bool = False


@dataclass(frozen=True)
class RLPrompt:
    seeker: str
    sentences: list[str]


@dataclass
class RewardContext:
    scorer: rewards.ScoresEmpathy
    lm: rewards.ScoresLikelihood
    embedder: rewards.Embeds
    weights: rewards.RewardWeights
    sentences_ok: Callable[[list[str]], list[bool]]  # which sentences may be shown, in one batch


def score_edits(
    seekers: list[str], originals: list[list[str]], edits: list[Edit], context: RewardContext
) -> list[rewards.RewardBreakdown]:
    """The full reward of each edited reply (change against its original)."""
    new = [e.apply(s) for e, s in zip(edits, originals, strict=True)]
    old = [" ".join(s) for s in originals]
    rests = [e.rest(s) for e, s in zip(edits, originals, strict=True)]
    return rewards.combine(
        context.weights,
        empathy=rewards.empathy_change(
            new, originals=old, seekers=seekers, scorer=context.scorer, mechanisms=context.weights.mechanisms
        ),
        fluency=rewards.fluency(new, originals=old, lm=context.lm),
        coherence=rewards.coherence([e.sentence for e in edits], rests=rests, embedder=context.embedder),
        mutual_information=rewards.mutual_information(
            new, originals=old, seekers=seekers, lm=context.lm, lam=context.weights.mi_lambda
        ),
    )


def policy_log_probs(policy: RewriterPolicy, rows: list[Sequence]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """With gradients: log-probability of each row's action plus mean log-probability of its sentence
    tokens; the entropy of each row's action distribution; the summed log-probability of its sentence."""
    ids, mask = right_padded(rows, policy.end_id)
    hidden = policy.hidden_states(ids, mask)
    action_terms, entropies = [], []
    for i, row in enumerate(rows):
        log_probs = policy.action_logits(hidden[i], row.prompt).log_softmax(-1)
        action_terms.append(log_probs[policy.action_index(row.prompt, row.kind, row.position)])
        entropies.append(-(log_probs.exp() * log_probs).sum())
    totals, counts = sentence_log_probs(hidden, rows, policy.token_logits)
    return torch.stack(action_terms) + totals / counts.clamp(min=1.0), torch.stack(entropies), totals


def reference_log_probs(policy: RewriterPolicy, groups: list[list[Sequence]]) -> torch.Tensor:
    """Summed log-probability of each row's sentence under the frozen warm-start adapter, rows in
    the order of the flattened groups (each group shares one prompt).

    Each prompt is encoded once and its cache copied to its rows, which then only add their edit
    prefix and sentence: a fraction of the cost of encoding every row's prompt again; as in the
    gradient pass, only the positions that predict sentence tokens are projected to the vocabulary.
    """
    policy.lm.set_adapter(REFERENCE_ADAPTER, inference_mode=True)
    try:
        with torch.no_grad():
            return torch.cat([click_likelihoods(policy, rows).sentence for rows in groups])
    finally:
        policy.lm.set_adapter(POLICY_ADAPTER)  # trainable again


def _load_state(folder: Path, policy: RewriterPolicy, optimiser: torch.optim.Optimizer) -> dict[str, Any]:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state = torch.load(folder / STATE_FILE, weights_only=False)
    set_peft_model_state_dict(policy.lm, load_file(folder / "adapter" / "adapter_model.safetensors"))
    policy.position_head.load_state_dict(load_file(folder / "position_head.safetensors"))
    optimiser.load_state_dict(state["optimiser"])
    return state


def train_rl(
    policy: RewriterPolicy,
    prompts: list[RLPrompt],
    context: RewardContext,
    config: RLConfig,
    checkpoint_dir: Path,
    on_step: Callable[[int, int, float], None] | None = None,
    reference_dir: Path | None = None,
    guides: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run (or resume) RL; the policy in checkpoint_dir is always the latest complete step.

    reference_dir: the warm-start folder whose adapter the KL penalty measures against (needed
    when config.kl_coef > 0). guides: the reactions that lead guided samples (needed when
    config.guide_share > 0)."""
    if config.guide_share > 0 and not guides:
        raise ValueError("guided samples need reactions to lead them (guides)")
    if config.threads:
        torch.set_num_threads(config.threads)
    with repeatable(config.seed):
        if config.kl_coef > 0:
            if reference_dir is None:
                raise ValueError("a KL penalty needs the warm start to measure against (reference_dir)")
            policy.lm.load_adapter(reference_dir / ADAPTER_DIR, adapter_name=REFERENCE_ADAPTER, is_trainable=False)
            policy.lm.set_adapter(POLICY_ADAPTER)
        trainable = [p for p in policy.lm.parameters() if p.requires_grad]
        optimiser = torch.optim.AdamW(
            [
                {"params": trainable, "lr": config.lr_lora},
                {"params": policy.position_head.parameters(), "lr": config.lr_head},
            ]
        )
        step, running = 0, None
        recent = RecentSentences(config.repeat_window, config.prompts_per_step * config.group_size)
        forms = RecentOpenings(config.repeat_window, config.prompts_per_step * config.group_size, config.opening_words)
        rng = random.Random(config.seed)
        generator = torch.Generator().manual_seed(config.seed)
        if (checkpoint_dir / STATE_FILE).is_file():
            state = _load_state(checkpoint_dir, policy, optimiser)
            step, running = state["step"], state["running"]
            rng.setstate(state["rng"])
            generator.set_state(state["generator"])
            recent = state.get("recent", recent)
            forms = state.get("forms", forms)
        log_path = checkpoint_dir / LOG_FILE
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        while step < config.steps:
            started = time.monotonic()
            chosen = [rng.choice(prompts) for _ in range(config.prompts_per_step)]
            encoded = [encode_prompt(policy.tokenizer, p.seeker, p.sentences, policy.config.prompt) for p in chosen]
            policy.eval()
            # Every reply's group in one batch: decoding costs about the same per token for 4 rows or 8.
            prefilled = prefill(policy, encoded)
            action_groups = [
                sample_actions([probs] * config.group_size, generator) for probs in prefilled.distributions
            ]
            led = {g for g in range(len(chosen)) if config.guide_share > 0 and rng.random() < config.guide_share}
            with bf16_autocast(policy.device, config.bf16):
                # A led group's last sample is drawn on its own after its lead, the others in one batch.
                free = iter(
                    generate_grouped(
                        policy,
                        encoded,
                        [group[:-1] if g in led else group for g, group in enumerate(action_groups)],
                        config.temperature,
                        config.top_p,
                        config.max_new_tokens,
                        prefilled=prefilled,
                    )
                )
                sampled = []
                for g, group in enumerate(action_groups):
                    sampled += [next(free) for _ in group[: -1 if g in led else None]]
                    if g in led:
                        lead = lead_in(rng.choice(guides))
                        sampled.append(
                            generate_led(
                                policy,
                                encoded[g],
                                group[-1],
                                lead,
                                config.temperature,
                                config.top_p,
                                config.max_new_tokens,
                            )
                        )
            batch = [prompt for prompt in chosen for _ in range(config.group_size)]
            actions = [action for group in action_groups for action in group]
            edits = [Edit(kind, pos, s.sentence) for (kind, pos), s in zip(actions, sampled, strict=True)]
            posts = [p.seeker for p in batch]
            # Only sentences that could be shown are scored: an empty one replacing a reply's only sentence
            # leaves nothing for the classifier to read, and the rest would earn the fixed reward anyway.
            finished = [bool(s.sentence) and s.complete for s in sampled]
            shown = on_kept(finished, [s.sentence for s in sampled], context.sentences_ok, False)
            usable = [i for i, ok in enumerate(shown) if ok]
            breakdown = (
                score_edits(
                    [posts[i] for i in usable],
                    [batch[i].sentences for i in usable],
                    [edits[i] for i in usable],
                    context,
                )
                if usable
                else []
            )
            scored = dict(zip(usable, (b.total for b in breakdown), strict=True))
            totals = torch.tensor(
                [scored.get(i, config.unusable_reward) for i in range(len(sampled))], device=policy.device
            )
            rows = [s.sequence for s in sampled]
            sentences = [s.sentence for s in sampled]
            repeats = torch.tensor(recent.repetition(posts, context.embedder.embed(sentences)), device=policy.device)
            shares = torch.tensor(forms.shares(posts, sentences), device=policy.device)
            if config.kl_coef > 0:
                grouped = [rows[i : i + config.group_size] for i in range(0, len(rows), config.group_size)]
                with bf16_autocast(policy.device, config.bf16):
                    reference = reference_log_probs(policy, grouped)
            # Eval mode for the gradient pass too: without dropout its log-probabilities are the policy's
            # own, the ones the KL penalty compares with the warm start's (as RLHF trainers do).
            with bf16_autocast(policy.device, config.bf16):
                log_probs, entropies, sentence_totals = policy_log_probs(policy, rows)
            kl = sentence_totals.detach() - reference if config.kl_coef > 0 else torch.zeros_like(totals)
            penalised = (
                totals
                - config.kl_coef * kl
                - penalty(repeats, config.repeat_coef, config.repeat_floor)
                - penalty(shares, config.opening_coef, config.opening_floor)
            )
            groups = penalised.view(config.prompts_per_step, config.group_size)
            advantages = (groups - groups.mean(dim=1, keepdim=True)).flatten()
            loss = -(advantages * log_probs).mean() - config.position_entropy * entropies.mean()
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(trainable + list(policy.position_head.parameters()), 1.0)
            optimiser.step()
            step += 1
            batch_mean = float(totals.mean())
            running = batch_mean if running is None else 0.9 * running + 0.1 * batch_mean
            record = {
                "step": step,
                "reward": batch_mean,
                "running_reward": running,
                "loss": loss.item(),
                "kl": float(kl.mean()),
                "repeat": float(repeats.mean()),
                "opening": float(shares.mean()),
                "usable": len(usable) / len(sampled),
                "guided": len(led),
                **{  # means over the usable samples
                    k: sum(getattr(b, k) for b in breakdown) / max(1, len(breakdown))
                    for k in ("empathy", "fluency", "coherence", "mutual_information")
                },
                "example": {"seeker": batch[0].seeker[:200], "edit": asdict(edits[0])},
                "sentences": [s.sentence for s in sampled],  # the learning curve's distinct-2: collapse shows there
                "seconds": round(time.monotonic() - started, 2),
            }
            with log_path.open("a") as log:
                log.write(json.dumps(record, default=str) + "\n")
            if on_step:
                on_step(step, config.steps, running)
            if config.snapshot_every and step % config.snapshot_every == 0:
                save(policy, checkpoint_dir / SNAPSHOT_DIR / f"step-{step}")
            if step % config.checkpoint_every == 0 or step == config.steps:
                save(policy, checkpoint_dir)
                torch.save(
                    {
                        "step": step,
                        "running": running,
                        "optimiser": optimiser.state_dict(),
                        "rng": rng.getstate(),
                        "generator": generator.get_state(),
                        "recent": recent,
                        "forms": forms,
                        "config": asdict(config),
                    },
                    checkpoint_dir / STATE_FILE,
                )
        policy.eval()
        return {"steps": step, "running_reward": running, "config": asdict(config)}
