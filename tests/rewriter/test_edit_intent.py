"""A member's edit learned in the policy's own words: the closest of its samples stands in for the member's
sentence, closeness counting the post's words the member brought in, and only member-written edits are
touched."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.settings import load_settings
from partner_model.embedding import SentenceEmbedder
from partner_model.rewriter.edit_intent import IntentConfig, closest, in_policy_words
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.feedback_training import FeedbackExample
from partner_model.rewriter.inference import may_be_suggested
from partner_model.rewriter.policy import load

pytestmark = pytest.mark.slow

SEEKER = "My dog died last night and I can't stop crying. The house feels empty without him."
REPLY = ["Get another one.", "It will pass."]
MEMBER = "I am so sorry about your dog, how are you coping with the empty house?"


@pytest.fixture(scope="module")
def embedder(real_encoder_dir: Path) -> SentenceEmbedder:
    return SentenceEmbedder.load(real_encoder_dir)


def test_the_sample_taking_up_what_the_member_named_is_the_closest(embedder: SentenceEmbedder) -> None:
    generic = "How are you coping with all of this?"
    specific = "Losing your dog must hurt so much, how are you holding up?"
    found = closest(MEMBER, [generic, specific], SEEKER, " ".join(REPLY), embedder)
    assert found is not None and found[0] == specific
    assert 0 < found[1] <= 1
    assert closest(MEMBER, [], SEEKER, " ".join(REPLY), embedder) is None


def test_member_edits_take_the_policys_words_and_accepted_suggestions_stay(
    embedder: SentenceEmbedder, real_lm_dir: Path
) -> None:
    settings = load_settings()
    policy = load(settings.rewriter.adapter_dir, real_lm_dir)
    edited = FeedbackExample(SEEKER, REPLY, Edit(EditKind.INSERT, 1, MEMBER), 2.0, own_words=True)
    accepted = FeedbackExample(SEEKER, REPLY, Edit(EditKind.INSERT, 0, "That sounds so hard."), 1.0)
    config = IntentConfig(sampling=settings.rewriter.rewrite_config())

    out, replaced = in_policy_words(policy, [edited, accepted], embedder, config)
    assert replaced == 1 and out[1] == accepted
    sentence = out[0].edit.sentence
    assert sentence != MEMBER and may_be_suggested(sentence, settings.rewriter.max_sentence_chars)
    assert out[0] == replace(edited, edit=replace(edited.edit, sentence=sentence))
    assert embedder.similarity([MEMBER], [sentence])[0] >= config.floor

    # No sample near enough: the member's own words are what is learned.
    out, replaced = in_policy_words(policy, [edited], embedder, replace(config, floor=1.0))
    assert replaced == 0 and out == [edited]
