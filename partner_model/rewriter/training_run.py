"""Rewriter training runs end to end: data, training, saving, model card. The CLI only renders progress."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from partner_model.cards import file_digest, write_card
from partner_model.empathy.data import EpitomeExample, read_epitome_csv
from partner_model.empathy.train import StepCallback
from partner_model.rewriter import rl
from partner_model.rewriter.evaluate import distinct_n
from partner_model.rewriter.policy import PolicyConfig, best_device, load, save
from partner_model.rewriter.rewards import RewardWeights
from partner_model.rewriter.warmstart import WarmStartConfig, train_warmstart
from partner_model.rewriter.warmstart_data import build_examples, counts, generic_reactions
from partner_model.safety import crisis_signals
from partner_model.text import split_sentences

# RL prompts: replies low in empathy (where an edit matters most) with a few sentences to edit.
RL_MAX_TOTAL = 2
RL_MAX_SENTENCES = 8
# The model card's learning curve: the per-step log averaged over this many blocks of steps.
CURVE_ROWS = 10
CURVE_COLUMNS = ("reward", "empathy", "fluency", "coherence", "mutual_information", "kl", "repeat", "opening")


def run_warmstart(
    lm_dir: Path,
    train_csv: Path,
    out_dir: Path,
    command: str,
    policy_config: PolicyConfig,
    config: WarmStartConfig,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    built = build_examples(read_epitome_csv(train_csv), seed=config.seed, compound_share=config.compound_share)
    built_counts = counts(built)
    policy, info = train_warmstart(lm_dir, built, policy_config, config, on_step)
    save(policy, out_dir)
    tail = info["history"][-20:]
    summary = {k: sum(h[k] for h in tail) / max(1, len(tail)) for k in ("loss", "nll", "position")}
    write_card(
        out_dir,
        "PARTNER rewriter: supervised warm start",
        command,
        {
            "Data": (
                f"- {train_csv.name} ({file_digest(train_csv)}): warm-start examples built "
                f"{built_counts}\n- used (sampled, mechanisms balanced): {info['examples_used']}"
            ),
            "Training": (
                f"{info['steps']} steps; mean of the last 20: loss {summary['loss']:.3f}, sentence NLL "
                f"{summary['nll']:.3f}, position cross-entropy {summary['position']:.3f}."
            ),
        },
        {"built_counts": built_counts, "training": info, "policy": asdict(policy_config), "last20": summary},
    )
    return {"built_counts": built_counts, "examples_used": info["examples_used"], "last20": summary}


def rl_prompts(examples: list[EpitomeExample]) -> list[rl.RLPrompt]:
    """Low-empathy replies to edit. Seeker posts with crisis signals are left out: the product never
    rewrites replies to them (moderators are alerted instead), so the policy need not learn them."""
    prompts = []
    for example in examples:
        sentences = split_sentences(example.response)
        if crisis_signals(example.seeker):
            continue
        if example.total <= RL_MAX_TOTAL and 1 <= len(sentences) <= RL_MAX_SENTENCES:
            prompts.append(rl.RLPrompt(example.seeker, sentences))
    return prompts


def run_rl(
    lm_dir: Path,
    init_dir: Path,
    train_csv: Path,
    out_dir: Path,
    command: str,
    config: rl.RLConfig,
    weights: RewardWeights,
    make_context: Callable[[Any], rl.RewardContext],
    on_step: Callable[[int, int, float], None] | None = None,
    empathy_source: str = "the project's classifier",
) -> dict[str, Any]:
    """RL from the warm start in init_dir, or resumed from out_dir's checkpoint when it has one."""
    start_from = out_dir if (out_dir / rl.STATE_FILE).is_file() else init_dir
    policy = load(start_from, lm_dir, trainable=True, device=best_device())
    examples = read_epitome_csv(train_csv)
    prompts = rl_prompts(examples)
    guides = tuple(generic_reactions(examples)) if config.guide_share > 0 else ()
    info = rl.train_rl(
        policy, prompts, make_context(policy), config, out_dir, on_step, reference_dir=init_dir, guides=guides
    )
    save(policy, out_dir)
    log = read_log(out_dir / rl.LOG_FILE)
    write_card(
        out_dir,
        "PARTNER rewriter: warm start + policy-gradient RL",
        command,
        {
            "Data": f"- {train_csv.name} ({file_digest(train_csv)}): {len(prompts)} replies with total empathy "
            f"<= {RL_MAX_TOTAL} as RL prompts\n- warm start: {init_dir}",
            "Reward": f"weights {asdict(weights)}; change against the original reply for empathy (by "
            f"{empathy_source}), fluency and mutual information; KL penalty {config.kl_coef} per nat of "
            f"log(policy / warm start) of a sampled sentence; repetition penalty {config.repeat_coef} per unit "
            f"of cosine similarity above {config.repeat_floor} with a sentence sampled for another post in the "
            f"last {config.repeat_window} steps; opening penalty {config.opening_coef} per unit of the share "
            f"above {config.opening_floor} of those sentences whose first {config.opening_words} word(s) are the "
            "sampled one's; share of groups with a guided sample (led by a reaction of sympathy) "
            f"{config.guide_share}; the per-step log is rl_log.jsonl.",
            "Training": f"{info['steps']} steps of {config.prompts_per_step} replies x {config.group_size} samples; "
            f"running reward at the end {info['running_reward']:.3f}. Means per block of steps (reward counts "
            "unusable samples as their fixed reward, before the KL, repetition and opening penalties; the next "
            "four are the reward's parts, means over the samples that could be shown; kl is the mean log-ratio "
            "to the warm start, repeat the mean highest similarity with a recent sentence for another post, "
            "opening the mean share of recent sentences for other posts that open the same way):\n\n"
            + learning_curve(log)
            + f"\n\nSteps' time in all: {rl_minutes(log):.0f} min.",
        },
        {
            "rl": info,
            "weights": asdict(weights),
            "empathy_source": empathy_source,
            "prompts": len(prompts),
            "init": str(init_dir),
        },
    )
    return info


def read_log(log_path: Path) -> list[dict[str, Any]]:
    """The RL log's records, one per step, across resumptions."""
    return [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def rl_minutes(records: list[dict[str, Any]]) -> float:
    """Time the logged steps took: what the training budget is measured against."""
    return sum(r.get("seconds", 0.0) for r in records) / 60


def learning_curve(records: list[dict[str, Any]], rows: int = CURVE_ROWS) -> str:
    """A markdown table of the RL log's means per block of steps: how the reward and its parts moved,
    and the distinct-2 of the block's sampled sentences, which falls when the policy collapses onto
    a few stock sentences that game the classifier."""
    if not records:
        return "(no steps logged)"
    size = max(1, -(-len(records) // rows))
    header = [*CURVE_COLUMNS, "distinct-2"]
    lines = ["| steps | " + " | ".join(header) + " |", "|---" * (len(header) + 1) + "|"]
    for start in range(0, len(records), size):
        block = records[start : start + size]
        # Columns a run's code did not log yet (kl, repeat, opening) read as 0.
        means = [sum(r.get(c, 0.0) for r in block) / len(block) for c in CURVE_COLUMNS]
        sentences = [s for r in block for s in r.get("sentences", [])]
        diversity = f"{distinct_n(sentences, 2):.3f}" if sentences else "-"
        steps = f"{block[0]['step']}-{block[-1]['step']}"
        lines.append(f"| {steps} | " + " | ".join(f"{m:.3f}" for m in means) + f" | {diversity} |")
    return "\n".join(lines)
