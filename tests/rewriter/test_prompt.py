from __future__ import annotations

from pathlib import Path

from partner_model.rewriter.edits import EditKind, actions_for
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import PromptConfig, encode_continuation, encode_prompt


def _tokenizer(real_lm_dir: Path):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(real_lm_dir)


def test_slots_sit_on_the_markers_around_each_sentence(real_lm_dir: Path) -> None:
    tok = _tokenizer(real_lm_dir)
    prompt = encode_prompt(tok, "I lost my job.", ["That sucks.", "Get another one."], PromptConfig())
    assert prompt.shown == 2
    assert [tok.decode(prompt.input_ids[p]) for p in prompt.slot_positions] == ["]", "]", "]"]
    text = tok.decode(prompt.input_ids)
    assert "[0] That sucks." in text and "[1] Get another one." in text and text.rstrip().endswith("assistant")


def test_budgets_limit_what_the_policy_sees(real_lm_dir: Path) -> None:
    tok = _tokenizer(real_lm_dir)
    config = PromptConfig(max_reply_tokens=12, max_sentences=8, max_seeker_tokens=4)
    prompt = encode_prompt(
        tok, "word " * 50, ["A fairly short first sentence here.", "Another sentence that no longer fits."], config
    )
    assert prompt.shown == 1
    assert len(prompt.slot_positions) == 2


def test_action_indices_cover_inserts_then_replaces(real_lm_dir: Path) -> None:
    tok = _tokenizer(real_lm_dir)
    prompt = encode_prompt(tok, "Hi", ["One.", "Two.", "Three."], PromptConfig())
    assert RewriterPolicy.action_index(prompt, EditKind.INSERT, 3) == 3
    assert RewriterPolicy.action_index(prompt, EditKind.REPLACE, 0) == 4
    assert len(actions_for(prompt.shown)) == 7
    prefix, sentence = encode_continuation(tok, EditKind.INSERT, 1, "That must hurt.")
    assert tok.decode(prefix) == "insert [1]:"
    assert tok.decode(sentence) == " That must hurt.<|im_end|>"
