"""Warm start and RL on a tiny random-weight policy: losses logged, every trainable weight moves,
checkpoints resume, and inference returns only filtered, distinct suggestions."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from partner_model.precision import cpu_has_bf16
from partner_model.rewriter import rl
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.generate import generate_led
from partner_model.rewriter.inference import RewriteConfig, Rewriter
from partner_model.rewriter.lm_scoring import BaseLMScorer
from partner_model.rewriter.policy import HEAD_FILE, PolicyConfig, build, load, save
from partner_model.rewriter.prompt import PromptConfig, encode_prompt
from partner_model.rewriter.rl import LOG_FILE, SNAPSHOT_DIR, STATE_FILE, RewardContext, RLConfig, RLPrompt, train_rl
from partner_model.rewriter.warmstart import WarmStartConfig, train_warmstart
from partner_model.rewriter.warmstart_data import WarmStartExample
from partner_model.safety import sentence_problems

TINY = PolicyConfig(lora_r=4, lora_alpha=8, lora_first_layer=0, head_hidden=16, prompt=PromptConfig(max_new_tokens=24))


def _examples() -> list[WarmStartExample]:
    return [
        WarmStartExample(
            "I lost my job.",
            ["Get another one.", "Apply online."],
            Edit(EditKind.INSERT, 0, "I'm so sorry, that is a lot to deal with."),
            ("ER",),
        ),
        WarmStartExample(
            "My dog died.",
            ["Dogs are great.", "Get a new one."],
            Edit(EditKind.REPLACE, 1, "How are you holding up?"),
            ("EX",),
        ),
    ] * 4


def _trainable(policy) -> dict[str, torch.Tensor]:
    params = {f"lm.{n}": p for n, p in policy.lm.named_parameters() if p.requires_grad}
    params |= {f"head.{n}": p for n, p in policy.position_head.named_parameters()}
    return {n: p.detach().clone() for n, p in params.items()}


def test_warm_start_logs_its_loss_and_moves_every_trainable_weight(tiny_lm_dir: Path) -> None:
    before = _trainable(build(tiny_lm_dir, TINY))
    losses: list[float] = []
    policy, info = train_warmstart(
        tiny_lm_dir,
        _examples(),
        TINY,
        WarmStartConfig(examples=8, batch_size=4, max_steps=2, lr_lora=1e-2),
        on_step=lambda e, s, n, loss: losses.append(loss),
    )
    assert len(losses) == 2 and all(torch.isfinite(torch.tensor(losses)))
    assert info["examples_used"] == 8
    after = _trainable(policy)
    assert [n for n in before if torch.equal(before[n], after[n])] == []


def test_one_rl_step_moves_every_trainable_weight_and_resumes(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    policy = build(tiny_lm_dir, TINY)
    save(policy, tmp_path / "warmstart")
    before = _trainable(policy)
    prompts = [RLPrompt("I lost my job.", ["Get another one."]), RLPrompt("My dog died.", ["ok.", "Sad."])]
    rewards_seen: list[float] = []
    config = RLConfig(
        steps=1,
        prompts_per_step=2,
        group_size=2,
        checkpoint_every=1,
        snapshot_every=2,
        kl_coef=0.1,
        repeat_coef=3.0,
        repeat_floor=0.2,
        opening_coef=5.0,
        lr_lora=1e-2,
        lr_head=1e-2,
        max_new_tokens=6,
    )
    out = tmp_path / "rl"
    info = train_rl(
        policy, prompts, reward_context, config, out, lambda s, n, r: rewards_seen.append(r), tmp_path / "warmstart"
    )
    assert info["steps"] == 1 and len(rewards_seen) == 1
    after = _trainable(policy)
    assert [n for n in before if torch.equal(before[n], after[n])] == []
    assert (out / STATE_FILE).is_file() and (out / LOG_FILE).read_text().count("\n") == 1
    assert sorted(p.name for p in (out / "adapter").iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]

    resumed = load(out, tiny_lm_dir, trainable=True)
    config2 = RLConfig(**{**config.__dict__, "steps": 2})
    info = train_rl(resumed, prompts, reward_context, config2, out, reference_dir=tmp_path / "warmstart")
    assert info["steps"] == 2
    assert [p.name for p in (out / SNAPSHOT_DIR).iterdir()] == ["step-2"]
    snapshot, final = (load_file(folder / HEAD_FILE) for folder in (out / SNAPSHOT_DIR / "step-2", out))
    assert all(torch.equal(snapshot[k], final[k]) for k in final)  # the policy as it was at step 2
    logged = [json.loads(line) for line in (out / LOG_FILE).read_text().splitlines()]
    assert all(0.0 <= row["repeat"] <= 1.0 and 0.0 <= row["opening"] <= 1.0 for row in logged)
    first, second = (row["kl"] for row in logged)
    # The policy starts as its warm start, then moves away from it; the reference stays the warm start.
    assert abs(first) < 1e-4 and abs(second) > 1e-3


def test_a_kl_penalty_without_a_warm_start_to_measure_against_is_an_error(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    config = RLConfig(steps=1, prompts_per_step=1, group_size=2, kl_coef=0.1, max_new_tokens=6)
    with pytest.raises(ValueError, match="warm start"):
        train_rl(
            build(tiny_lm_dir, TINY),
            [RLPrompt("I lost my job.", ["Get another one."])],
            reward_context,
            config,
            tmp_path,
        )


def test_a_guided_sample_opens_with_a_reaction_that_counts_as_the_policys_own_words(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    guides = ("I'm so sorry you feel this way",)
    prompts = [RLPrompt("I lost my job and I feel worthless.", ["Get another one."])]
    config = RLConfig(steps=2, prompts_per_step=1, group_size=2, max_new_tokens=16, guide_share=1.0)
    with pytest.raises(ValueError, match="guides"):
        train_rl(build(tiny_lm_dir, TINY), prompts, reward_context, config, tmp_path / "unguided")
    policy = build(tiny_lm_dir, TINY)
    train_rl(policy, prompts, reward_context, config, tmp_path, guides=guides)
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    # Each group's last sample is the led one; the first is the policy's alone.
    assert [row["guided"] for row in logged] == [1, 1]
    assert all(row["sentences"][1].startswith("I'm so sorry you feel this way,") for row in logged)
    assert not any(row["sentences"][0].startswith("I'm so sorry you feel this way,") for row in logged)
    prompt = encode_prompt(policy.tokenizer, prompts[0].seeker, prompts[0].sentences, policy.config.prompt)
    led = generate_led(policy, prompt, (EditKind.INSERT, 0), "I'm so sorry you feel this way,", 1.0, 0.9, 16)
    # The gradient pass reads the sentence tokens: the lead is among them, right after the edit prefix.
    assert policy.tokenizer.decode(led.sequence.sentence).startswith(" I'm so sorry you feel this way,")


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions: RL stays float32")
def test_an_rl_step_in_bf16_autocast_moves_every_trainable_weight_and_keeps_them_float32(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    policy = build(tiny_lm_dir, TINY)
    before = _trainable(policy)
    prompts = [RLPrompt("I lost my job and I feel worthless.", ["Get another one."]), RLPrompt("Sad.", ["ok."])]
    config = RLConfig(
        steps=1, prompts_per_step=2, group_size=2, max_new_tokens=6, lr_lora=1e-2, lr_head=1e-2, bf16=True
    )
    bf16_context = dataclasses.replace(
        reward_context, lm=BaseLMScorer(reward_context.lm.model, reward_context.lm.tokenizer, bf16=True)
    )
    train_rl(policy, prompts, bf16_context, config, tmp_path)
    after = _trainable(policy)
    assert [n for n in before if torch.equal(before[n], after[n])] == []
    assert {t.dtype for t in after.values()} == {torch.float32}
    (row,) = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert all(math.isfinite(row[k]) for k in ("reward", "fluency", "mutual_information", "loss"))


def test_sentences_that_would_never_be_shown_earn_the_fixed_low_reward_whatever_the_judge_says(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    refused = dataclasses.replace(reward_context, sentences_ok=lambda sentences: [False] * len(sentences))
    prompts = [RLPrompt("I lost my job.", ["Get another one."])]
    config = RLConfig(steps=2, prompts_per_step=1, group_size=2, checkpoint_every=5, max_new_tokens=6, kl_coef=0.0)
    train_rl(build(tiny_lm_dir, TINY), prompts, refused, config, tmp_path)
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert [row["reward"] for row in logged] == [config.unusable_reward] * 2
    assert [row["usable"] for row in logged] == [0.0, 0.0]


def test_an_empty_sentence_replacing_a_replys_only_sentence_earns_the_low_reward_instead_of_stopping_training(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_generate = rl.generate_grouped

    def half_empty(*args: Any, **kwargs: Any) -> list:
        drawn = real_generate(*args, **kwargs)
        kept = ("", "That must hurt.")  # the tiny random policy writes no whole sentences of its own
        return [dataclasses.replace(s, sentence=kept[i % 2], complete=True) for i, s in enumerate(drawn)]

    monkeypatch.setattr(rl, "generate_grouped", half_empty)
    monkeypatch.setattr(rl, "sample_actions", lambda probs, generator: [(EditKind.REPLACE, 0)] * len(probs))
    prompts = [RLPrompt("I lost my job.", ["Get another one."])]
    config = RLConfig(steps=2, prompts_per_step=1, group_size=2, checkpoint_every=5, max_new_tokens=6)
    train_rl(build(tiny_lm_dir, TINY), prompts, reward_context, config, tmp_path)
    logged = [json.loads(line) for line in (tmp_path / LOG_FILE).read_text().splitlines()]
    assert [row["usable"] for row in logged] == [0.5, 0.5]
    assert all(row["sentences"][0] == "" and math.isfinite(row["empathy"]) for row in logged)


def test_inference_returns_only_filtered_distinct_suggestions(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path
) -> None:
    save(build(tiny_lm_dir, TINY), tmp_path / "policy")
    rewriter = Rewriter.load(tmp_path / "policy", tiny_lm_dir, reward_context.scorer, reward_context.embedder)
    results = rewriter.rewrite_batch([("I lost my job.", "Get another one. Apply online."), ("Hi", "   ")], n=3)
    assert len(results) == 2 and results[1] == []
    sentences = [s.edit.sentence for s in results[0]]
    assert len(sentences) == len(set(sentences)) <= 3
    for suggestion in results[0]:
        assert sentence_problems(suggestion.edit.sentence, 300) == []
        assert suggestion.new_response == suggestion.edit.apply(["Get another one.", "Apply online."])


def test_a_reply_the_filters_leave_short_is_sampled_again_up_to_the_rounds_allowed(
    tiny_lm_dir: Path, reward_context: RewardContext, tmp_path: Path, monkeypatch
) -> None:
    from partner_model.rewriter import inference

    save(build(tiny_lm_dir, TINY), tmp_path / "policy")
    calls = []
    original = inference.generate_grouped

    def counted(*args, **kwargs):
        calls.append(len(args[1]))  # replies sampled in this call
        return original(*args, **kwargs)

    monkeypatch.setattr(inference, "generate_grouped", counted)
    pairs = [("I lost my job.", "Get another one. Apply online.")]
    for rounds in (1, 3):
        # Sentences longer than 3 characters are refused, so every round leaves the reply without a suggestion.
        config = RewriteConfig(sampling_rounds=rounds, max_sentence_chars=3)
        context = (reward_context.scorer, reward_context.embedder)
        rewriter = Rewriter.load(tmp_path / "policy", tiny_lm_dir, *context, config)
        calls.clear()
        assert rewriter.rewrite_batch(pairs, n=3) == [[]]
        assert calls == [1] * rounds


def test_sharing_each_prompts_cache_across_replies_changes_nothing_but_speed(tiny_lm_dir: Path) -> None:
    from partner_model.rewriter.generate import generate, generate_grouped
    from partner_model.rewriter.prompt import encode_prompt

    policy = build(tiny_lm_dir, TINY).eval()
    long = encode_prompt(policy.tokenizer, "I lost my job.", ["Get another one.", "Apply online."], TINY.prompt)
    short = encode_prompt(policy.tokenizer, "Sad.", ["Ok."], TINY.prompt)
    assert len(long.input_ids) != len(short.input_ids)  # the shorter prompt is padded in the shared batch
    actions = [[(EditKind.INSERT, 0), (EditKind.REPLACE, 1), (EditKind.INSERT, 2)], [], [(EditKind.INSERT, 1)] * 2]
    prompts = [long, long, short]
    shared = generate_grouped(policy, prompts, actions, temperature=0.0, top_p=1.0, max_new_tokens=6)
    rows = [prompt for prompt, group in zip(prompts, actions, strict=True) for _ in group]
    flat = [a for group in actions for a in group]
    padded = generate(policy, rows, flat, temperature=0.0, top_p=1.0, max_new_tokens=6)
    assert len(shared) == 5
    assert [s.sequence.sentence for s in shared] == [p.sequence.sentence for p in padded]
    for a, b in zip(shared, padded, strict=True):
        assert abs(a.mean_log_prob - b.mean_log_prob) < 1e-3


def test_the_model_cards_learning_curve_averages_the_log_in_blocks(tmp_path: Path) -> None:
    from partner_model.rewriter.training_run import learning_curve, read_log, rl_minutes

    parts = {"empathy": 0.5, "fluency": 0.1, "coherence": 0.2, "mutual_information": 0.0, "kl": 1.5}
    log = tmp_path / LOG_FILE
    log.write_text(
        "".join(json.dumps({"step": i, "reward": float(i), **parts, "seconds": 12.0}) + "\n" for i in range(1, 26))
    )
    assert rl_minutes(read_log(log)) == 5.0
    table = learning_curve(read_log(log), rows=5).splitlines()
    assert table[0].startswith("| steps | reward | empathy") and table[0].endswith("| distinct-2 |")
    assert table[2].startswith("| 1-5 | 3.000 | 0.500 | 0.100 | 0.200 | 0.000 | 1.500 |")
    assert table[-1].startswith("| 21-25 | 23.000")
    assert len(table) == 2 + 5
    assert table[2].endswith("| - |")  # a log from before sentences were recorded


def test_the_learning_curve_shows_a_policy_collapsing_onto_one_sentence(tmp_path: Path) -> None:
    from partner_model.rewriter.training_run import learning_curve

    parts = {"reward": 1.0, "empathy": 0.5, "fluency": 0.1, "coherence": 0.2, "mutual_information": 0.0}
    varied = [
        ["Losing your mother so suddenly must hurt.", "How long were you caring for her?"],
        ["Months of rejections would wear anyone down.", "Which interview felt closest?"],
        ["That exam result stings after all those nights.", "Did your teacher explain the grade?"],
        ["A breakup after six years changes every routine.", "Who has been around for you since?"],
        ["Being threatened with eviction sounds frightening.", "Has the landlord put anything in writing?"],
    ]
    stock = ["Have you experienced any similar issues?"] * 2
    records = [{"step": i, **parts, "sentences": varied[i - 1] if i <= 5 else stock} for i in range(1, 11)]
    early, late = (float(row.split("|")[-2]) for row in learning_curve(records, rows=2).splitlines()[2:])
    assert early > 0.5 and late < 0.3
