"""Each reward on cases where its direction is obvious, with the real models."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bot.settings import load_settings
from partner_model.embedding import SentenceEmbedder
from partner_model.empathy.inference import EmpathyScorer
from partner_model.precision import cpu_has_bf16
from partner_model.rewriter import rewards
from partner_model.rewriter.lm_scoring import BaseLMScorer

pytestmark = pytest.mark.slow

SEEKER = "I lost my job today after six years at the company and I feel like I'm worthless."
REPLY = "Update your CV and start applying."


@pytest.fixture(scope="module")
def lm(real_lm_dir: Path) -> BaseLMScorer:
    return BaseLMScorer.load(real_lm_dir)


@pytest.fixture(scope="module")
def classifier(real_encoder_dir: Path) -> EmpathyScorer:
    return EmpathyScorer.load(load_settings().models.classifier_dir, real_encoder_dir)


@pytest.fixture(scope="module")
def embedder(real_encoder_dir: Path) -> SentenceEmbedder:
    return SentenceEmbedder.load(real_encoder_dir)


def test_adding_empathy_raises_the_empathy_reward_and_removing_it_lowers_it(classifier: EmpathyScorer) -> None:
    warm = "I'm so sorry, losing a job you gave six years to must hurt so much. How are you holding up?"
    up, down = rewards.empathy_change(
        [f"{warm} {REPLY}", REPLY], originals=[REPLY, f"{warm} {REPLY}"], seekers=[SEEKER, SEEKER], scorer=classifier
    )
    assert up > 1.0
    assert down < -1.0


def test_a_reply_ranked_against_many_candidates_is_scored_once(classifier: EmpathyScorer) -> None:
    """The ranking compares each of a reply's candidates with the one original: scoring it again for each
    candidate doubled the classifier's work. The changes are the ones scoring every pair gives."""
    seen: list[tuple[str, str]] = []

    class Counting:
        def score(self, pairs: list[tuple[str, str]]) -> list:
            seen.extend(pairs)
            return classifier.score(pairs)

    candidates = [f"That sounds so painful. {REPLY}", f"Did you apply anywhere yet? {REPLY}", f"Ok. {REPLY}"]
    changes = rewards.empathy_change(candidates, originals=[REPLY] * 3, seekers=[SEEKER] * 3, scorer=Counting())
    assert len(seen) == 4
    before = rewards.expected_total(classifier.score([(SEEKER, REPLY)])[0])
    alone = [rewards.expected_total(classifier.score([(SEEKER, c)])[0]) - before for c in candidates]
    assert changes == pytest.approx(alone, abs=1e-3)  # padding beside longer pairs moves only rounding
    assert changes[0] > changes[2]


def test_a_fluent_sentence_is_more_fluent_than_word_salad(lm: BaseLMScorer) -> None:
    fluent, salad = rewards.fluency(
        [f"That sounds really hard. {REPLY}", f"Hard sounds that really the. {REPLY}"], originals=[REPLY, REPLY], lm=lm
    )
    assert fluent > salad


def test_a_sentence_about_the_reply_is_more_coherent_than_an_unrelated_one(embedder: SentenceEmbedder) -> None:
    related, unrelated = rewards.coherence(
        ["Job hunting after a layoff is exhausting.", "The capital of France is Paris."],
        rests=[REPLY, REPLY],
        embedder=embedder,
    )
    assert related > unrelated + 0.1


def test_coherence_from_the_ranking_s_own_embeddings_is_the_same_figure(embedder: SentenceEmbedder) -> None:
    sentences = ["Job hunting after a layoff is exhausting.", "The capital of France is Paris.", "I'm sorry."]
    rests = [REPLY, REPLY, ""]
    given = rewards.coherence(sentences, rests=rests, embedder=embedder, sentence_vectors=embedder.embed(sentences))
    assert given == pytest.approx(rewards.coherence(sentences, rests=rests, embedder=embedder), abs=1e-5)
    assert given[2] == 0.0  # nothing else in the reply to cohere with


def test_a_text_given_twice_embeds_as_it_does_alone(embedder: SentenceEmbedder) -> None:
    vectors = embedder.embed([SEEKER, "", REPLY, SEEKER, "  "])
    assert torch.allclose(vectors[0], vectors[3])
    assert torch.allclose(vectors[0], embedder.embed([SEEKER])[0], atol=1e-5)
    assert torch.allclose(vectors[2], embedder.embed([REPLY])[0], atol=1e-5)
    assert not vectors[1].any() and not vectors[4].any()
    assert embedder.similarity([REPLY, SEEKER], [SEEKER, SEEKER]) == pytest.approx(
        [float(vectors[2] @ vectors[0]), 1.0], abs=1e-5
    )


def test_mutual_information_prefers_a_sentence_about_this_post(lm: BaseLMScorer) -> None:
    specific, generic = rewards.mutual_information(
        [f"Losing your job after six years must make you feel worthless. {REPLY}", f"That is a thing. {REPLY}"],
        originals=[REPLY, REPLY],
        seekers=[SEEKER, SEEKER],
        lm=lm,
    )
    assert specific > generic


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions: the scorer stays float32")
def test_bf16_likelihoods_agree_with_float32(lm: BaseLMScorer) -> None:
    fast = BaseLMScorer(lm.model, lm.tokenizer, bf16=True)
    contexts = ["", f"Post: {SEEKER}\nReply:", ""]
    texts = [f"That sounds really hard. {REPLY}", f" {REPLY}", f"Hard sounds that really the. {REPLY}"]
    exact, approx = lm.mean_log_probs(contexts, texts), fast.mean_log_probs(contexts, texts)
    assert approx == pytest.approx(exact, abs=0.05)  # nats per token
    assert approx[0] > approx[2]  # fluent above word salad, as in float32


def test_rewards_combine_by_their_weights() -> None:
    (row,) = rewards.combine(rewards.RewardWeights(empathy=2.0, fluency=0.0), empathy=[1.5], fluency=[-3.0])
    assert row.total == pytest.approx(3.0)


def test_mechanism_weights_count_each_expected_level_that_many_times() -> None:
    score = rewards.LevelProbabilities({"ER": [0.0, 0.0, 1.0], "IP": [1.0, 0.0, 0.0], "EX": [0.0, 0.5, 0.5]})
    assert rewards.expected_total(score) == pytest.approx(3.5)
    assert rewards.expected_total(score, {"ER": 1.5, "IP": 1.0, "EX": 0.5}) == pytest.approx(3.75)


def test_weighting_emotional_reactions_above_explorations_moves_the_reward_from_questions_to_feelings(
    classifier: EmpathyScorer,
) -> None:
    replies = [f"I'm so sorry you lost your job. {REPLY}", f"Did you apply anywhere yet? {REPLY}"]

    def change(mechanisms: dict[str, float] | None) -> list[float]:
        return rewards.empathy_change(
            replies, originals=[REPLY] * 2, seekers=[SEEKER] * 2, scorer=classifier, mechanisms=mechanisms
        )

    (feeling, question), (weighted_feeling, weighted_question) = change(None), change({"ER": 1.5, "IP": 1, "EX": 0.75})
    assert weighted_feeling > feeling
    assert weighted_question < question
    assert weighted_feeling - weighted_question > feeling - question + 0.5


def test_averaged_reward_classifiers_pay_the_mean_of_their_empathy_changes(
    classifier: EmpathyScorer, real_encoder_dir: Path
) -> None:
    second = EmpathyScorer.load(load_settings().models.judge_dir, real_encoder_dir)
    replies = [
        f"That sounds so painful. Did you tell anyone how you feel? {REPLY}",
        f"Did you know that many people lose their jobs? {REPLY}",
    ]

    def change(scorer: rewards.ScoresEmpathy) -> list[float]:
        return rewards.empathy_change(replies, originals=[REPLY] * 2, seekers=[SEEKER] * 2, scorer=scorer)

    alone, other = change(classifier), change(second)
    averaged = change(rewards.AveragedScorer([classifier, second]))
    assert alone != other
    assert averaged == pytest.approx([(a + b) / 2 for a, b in zip(alone, other, strict=True)], abs=1e-3)
    assert averaged[0] > 1.0
