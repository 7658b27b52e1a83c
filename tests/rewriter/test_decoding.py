"""The rewriter's own decoding loop against transformers' generate(), on a tiny random-weight policy."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from partner_model.rewriter import generate as generate_module
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.generate import NUCLEUS_SHORTLIST, _pick, generate_grouped, has_second_sentence
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


def test_rows_past_the_cache_budget_are_sampled_in_further_passes_with_the_same_sentences(
    policy: RewriterPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long post's rows are sampled a few at a time so that their copies of its cache fit the budget;
    what they write does not depend on how many share a pass."""
    prompts = _prompts(policy)
    whole = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)
    passes: list[int] = []
    real_decode = generate_module._decode

    def counted(*args: object, **kwargs: object) -> list:
        passes.append(len(args[1]))  # type: ignore[arg-type]
        return real_decode(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(generate_module, "_decode", counted)
    width = max(len(p.input_ids) for p in prompts)
    split = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS, max_cached_tokens=2 * width)
    assert passes == [2, 2]
    assert [s.sequence.sentence for s in split] == [s.sequence.sentence for s in whole]


def test_one_pass_chooses_the_edits_and_starts_their_generation(policy: RewriterPolicy) -> None:
    """The position head reads the same states from the left-padded pass whose cache generation then
    continues from as from each prompt encoded on its own, and sampling from that cache writes what
    encoding the prompts again would; the cache serves one generation only."""
    prompts = _prompts(policy)
    assert len({len(p.input_ids) for p in prompts}) == 2  # the shorter prompt is padded
    prefilled = generate_module.prefill(policy, prompts)
    with torch.inference_mode():
        for prompt, probs in zip(prompts, prefilled.distributions, strict=True):
            ids = torch.tensor([prompt.input_ids])
            alone = policy.action_logits(policy.hidden_states(ids, torch.ones_like(ids))[0], prompt).softmax(-1)
            assert probs.tolist() == pytest.approx(alone.tolist(), abs=1e-5)
    reused = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS, prefilled=prefilled)
    fresh = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)
    assert [s.sequence.sentence for s in reused] == [s.sequence.sentence for s in fresh]
    with pytest.raises(ValueError, match="one generation"):
        generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS, prefilled=prefilled)


def _nucleus(logits: torch.Tensor, temperature: float, top_p: float) -> dict[int, float]:
    """Token -> log-probability under nucleus sampling, from the whole vocabulary sorted."""
    probs = (logits / temperature).softmax(-1)
    ordered, order = probs.sort(descending=True)
    kept = int(((ordered.cumsum(-1) - ordered) < top_p).sum())
    inside = ordered[:kept] / ordered[:kept].sum()
    return dict(zip(order[:kept].tolist(), inside.log().tolist(), strict=True))


@pytest.mark.parametrize("spread", [3.0, 0.01], ids=["peaked", "flat"])
def test_nucleus_sampling_draws_each_token_with_its_nucleus_probability(spread: float) -> None:
    """The shortlist that spares sorting the vocabulary changes nothing: the same tokens can be drawn,
    with the same probabilities, including from a flat distribution whose nucleus is longer than the
    shortlist."""
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(1, 4 * NUCLEUS_SHORTLIST, generator=generator) * spread
    expected = _nucleus(logits[0], 0.8, 0.9)
    torch.manual_seed(0)
    chosen, log_probs = _pick(logits.expand(4000, -1), 0.8, 0.9)
    assert all(token in expected for token in chosen.tolist())
    assert log_probs.tolist() == pytest.approx([expected[t] for t in chosen.tolist()], abs=1e-4)
    if spread < 1:
        assert len(expected) > NUCLEUS_SHORTLIST
        assert set(chosen.tolist()) - set(logits[0].topk(NUCLEUS_SHORTLIST).indices.tolist())
    else:  # 15 tokens: each drawn, none beyond them
        assert set(chosen.tolist()) == set(expected)


@pytest.mark.parametrize(
    ("text", "begun"),
    [
        ("I hear you.", False),
        ("I hear you. How", True),
        ("That sounds so hard! Did", True),
        ('She said "stop." Then', True),
        ("Have you talked to Dr. Patel", False),
        ("It took 3.5 hours", False),
        ("I'm here for you, and", False),
    ],
)
def test_a_second_sentence_is_seen_once_it_has_begun(text: str, begun: bool) -> None:
    assert has_second_sentence(text) is begun


def test_with_one_sentence_a_row_stops_where_its_first_sentence_ends(
    policy: RewriterPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inference keeps only the first sentence, so a row leaves the batch once another begins (here a
    stand-in rule: its text reaches 12 characters); the rows still running are not changed."""
    prompts = _prompts(policy)
    free = [s.sequence.sentence for s in generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS)]
    monkeypatch.setattr(generate_module, "has_second_sentence", lambda text: len(text) >= 12)
    cut = generate_grouped(policy, prompts, ACTIONS, 0.0, 1.0, NEW_TOKENS, one_sentence=True)

    def stop_point(row: list[int]) -> int:
        lengths = [len(policy.tokenizer.decode(row[:k])) for k in range(1, len(row) + 1)]
        return next((k + 1 for k, length in enumerate(lengths) if length >= 12), len(row))

    assert [s.sequence.sentence for s in cut] == [row[: stop_point(row)] for row in free]
    assert any(stop_point(row) < len(row) for row in free)
