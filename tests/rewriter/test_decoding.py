"""The rewriter's own decoding loop against transformers' generate(), on a tiny random-weight policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.generate import generate_grouped
from partner_model.rewriter.policy import RewriterPolicy, build
from partner_model.rewriter.prompt import encode_continuation, encode_prompt
from tests.rewriter.test_training_plumbing import TINY

ACTIONS = [[(EditKind.INSERT, 0), (EditKind.REPLACE, 1), (EditKind.INSERT, 2)], [(EditKind.INSERT, 1)]]
NEW_TOKENS = 8


@pytest.fixture(scope="module")
def policy(tiny_lm_dir: Path) -> RewriterPolicy:
    """Weights drawn wide enough that greedy decoding depends on the context: at the default
    initialisation every row repeats one token, and a wrong position or cache row would go unseen."""
    policy = build(tiny_lm_dir, TINY).eval()
    torch.manual_seed(1)
    with torch.no_grad():
        for weight in policy.causal_lm.parameters():
            if weight.dim() == 2:
                weight.normal_(0, 0.3)
    return policy


def _prompts(policy: RewriterPolicy) -> list:
    return [
        encode_prompt(policy.tokenizer, "I lost my job.", ["Get another one.", "Apply online."], TINY.prompt),
        encode_prompt(policy.tokenizer, "Sad.", ["Ok."], TINY.prompt),
    ]


def test_greedy_decoding_matches_transformers_generate(policy: RewriterPolicy) -> None:
    prompts = _prompts(policy)
    ours = generate_grouped(policy, prompts, ACTIONS, temperature=0.0, top_p=1.0, max_new_tokens=NEW_TOKENS)
    rows = [
        prompt.input_ids + encode_continuation(policy.tokenizer, kind, position, None)[0]
        for prompt, group in zip(prompts, ACTIONS, strict=True)
        for kind, position in group
    ]
    width = max(len(r) for r in rows)
    ids = torch.tensor([[policy.end_id] * (width - len(r)) + r for r in rows])
    mask = (torch.arange(width) >= torch.tensor([[width - len(r)] for r in rows])).long()
    with torch.inference_mode():
        theirs = policy.causal_lm.generate(
            input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=None
        )
    assert [s.sequence.sentence for s in ours] == theirs[:, width:].tolist()


def test_a_row_that_ends_early_leaves_the_batch_without_changing_the_others(
    policy: RewriterPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts = _prompts(policy)
    free_samples = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)
    free = [s.sequence.sentence for s in free_samples]
    stop = free[-1][2]  # the last row's third token becomes its end token
    monkeypatch.setattr(RewriterPolicy, "end_id", property(lambda self: stop))
    stopped_samples = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)
    stopped = [s.sequence.sentence for s in stopped_samples]
    # A row that drew its end token is a whole sentence; one the token limit cut, with no sentence
    # break in its text, is not, and is never suggested.
    assert stopped_samples[-1].complete
    assert not free_samples[-1].complete
    assert stopped[-1] == free[-1][:3]
    for before, after in zip(free, stopped, strict=True):
        assert after == (before[: before.index(stop) + 1] if stop in before else before)
    assert sum(stop not in row for row in free) >= 2  # several rows ran on, their cache rows selected


def test_sampling_replies_together_or_one_at_a_time_gives_the_same_sentences(policy: RewriterPolicy) -> None:
    prompts = _prompts(policy)
    together = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)
    apart = [
        s
        for p, a in zip(prompts, ACTIONS, strict=True)
        for s in generate_grouped(policy, [p], [a], 0.0, 1.0, NEW_TOKENS)
    ]
    assert [s.sequence.sentence for s in together] == [s.sequence.sentence for s in apart]
