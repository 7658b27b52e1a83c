"""A member's edit of a suggestion, learned in the policy's own words (off by default: `[retrain] edit_samples`).

A member who rewrites a suggestion shows what they wanted, in one person's wording: sometimes templated,
sometimes ungrammatical. Imitating those wordings on a round's handful of clicks pulled the post's details
out of the suggestions of RL adapter s28-rl (the closed feedback-loop test, sessions 29-30: acceptance
0.330 -> 0.190 after one round). Here the policy samples sentences at the edit's position, and the sample
closest to the member's sentence becomes the target: closest by meaning (embedding cosine) plus the share
of the post's words that the member brought in and the sample brings in too, since naming what the seeker
wrote is what an edit most often adds. When no sample comes near in meaning (cosine below a floor), the
policy has no words yet for what the member meant, and the member's own sentence is the target.

Measured on s28-rl in the loop test (session 31; the rewriter's MODEL_CARD.md has the table): round one
0.290 instead of 0.190 (RWR), 0.270 instead of 0.222 (with the preference term, floor 0.35), but no round
gains on the start (0.330 -> 0.290 -> 0.256; 0.330 -> 0.270 -> 0.289), where leaving the edits out and
keeping the preference term gave 0.330 -> 0.351 -> 0.412 -> 0.366. Off until a round that uses the edits
gains."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from partner_model.embedding import SentenceEmbedder
from partner_model.reproducible import repeatable
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.feedback_training import FeedbackExample
from partner_model.rewriter.generate import generate_grouped
from partner_model.rewriter.inference import RewriteConfig, suggestable
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.prompt import encode_prompt
from partner_model.selective import on_kept
from partner_model.text import join_sentences

STEM_LETTERS = 5  # words agreeing on their first letters count as one ("hopeless", "hopelessness")
MIN_LETTERS = 3


@dataclass(frozen=True)
class IntentConfig:
    samples: int = 16  # sentences the policy writes at the edit's position to choose from
    floor: float = 0.45  # least cosine with the member's sentence for a sample to stand in for it
    sampling: RewriteConfig = field(default_factory=RewriteConfig)  # temperature, top-p, length, filter
    seed: int = 11


def _stems(text: str) -> set[str]:
    return {w[:STEM_LETTERS] for w in re.findall(r"[a-z][a-z']+", text.lower()) if len(w) >= MIN_LETTERS}


def brought_in(seeker: str, reply: str, sentence: str) -> set[str]:
    """Stems of the post's words that the sentence uses and the reply did not.

    >>> sorted(brought_in("My dog died last night.", "Get another one.", "Losing your dog must hurt."))
    ['dog']
    """
    return (_stems(sentence) & _stems(seeker)) - _stems(reply)


def closest(
    member: str, samples: list[str], seeker: str, reply: str, embedder: SentenceEmbedder
) -> tuple[str, float] | None:
    """The sample nearest the member's sentence and its cosine with it; None without samples."""
    if not samples:
        return None
    cosines = embedder.similarity([member] * len(samples), samples)
    wanted = brought_in(seeker, reply, member)

    def score(i: int) -> float:
        shared = len(brought_in(seeker, reply, samples[i]) & wanted) / len(wanted) if wanted else 0.0
        return cosines[i] + shared

    best = max(range(len(samples)), key=score)
    return samples[best], cosines[best]


def in_policy_words(
    policy: RewriterPolicy, examples: list[FeedbackExample], embedder: SentenceEmbedder, config: IntentConfig
) -> tuple[list[FeedbackExample], int]:
    """The examples with each member-written edit's sentence replaced by the policy's closest sample where
    one is near enough; and how many were replaced."""
    with repeatable(config.seed):
        policy.eval()
        sampling = config.sampling
        out, replaced = [], 0
        for example in examples:
            prompt = encode_prompt(policy.tokenizer, example.seeker, example.sentences, policy.config.prompt)
            edit = example.edit
            fits = edit.position < prompt.shown + (1 if edit.kind is EditKind.INSERT else 0)
            if not example.own_words or not fits:
                out.append(example)
                continue
            drawn = generate_grouped(
                policy,
                [prompt],
                [[(edit.kind, edit.position)] * config.samples],
                sampling.temperature,
                sampling.top_p,
                sampling.max_new_tokens,
                one_sentence=True,
            )
            existing = {s.strip().lower() for s in example.sentences}
            fresh = [s.complete and s.sentence.strip().lower() not in existing for s in drawn]
            sentences = [s.sentence for s in drawn]
            shown = on_kept(fresh, sentences, lambda kept: suggestable(kept, sampling.max_sentence_chars), False)
            samples = [sentence for sentence, ok in zip(sentences, shown, strict=True) if ok]
            found = closest(edit.sentence, samples, example.seeker, join_sentences(example.sentences), embedder)
            if found is None or found[1] < config.floor:
                out.append(example)
                continue
            out.append(replace(example, edit=replace(edit, sentence=found[0])))
            replaced += 1
        return out, replaced
