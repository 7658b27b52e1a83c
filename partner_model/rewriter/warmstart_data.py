"""Supervised warm-start examples from EPITOME responses, no parallel data needed.

Insert examples: remove one sentence that carries an annotated rationale; the policy learns to
put it back (position and text). Replace examples: swap such a sentence for a sentence without
empathy (from a response annotated 0 on every mechanism); the policy learns to replace it back.
Compound examples: an exploring question led by another responder's emotional reaction ("I'm sorry
you feel this way, have you talked to anyone?"). The judge credits such a sentence with both mechanisms
(about +2.8 on low-empathy replies, against +1.6 for the bare questions RL settles on), yet only 8 of
3,866 targets carry both, so RL from a warm start without them never samples the form; added beside the
bare questions, they were sampled for 1-3% of RL's prompts (session 25), so they now take their place.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.voice import tells_the_writers_story
from partner_model.safety import sentence_problems
from partner_model.text import sentence_spans

# A sentence counts as empathic when annotated rationales cover at least this share of it.
RATIONALE_COVERAGE = 0.5
# Sentences outside these word counts make poor targets (fragments, or whole paragraphs).
MIN_WORDS, MAX_WORDS = 3, 30
# Emotional reactions that lead compound targets: short rationale spans ("I'm so sorry you feel this way")
# of responses annotated with strong reactions; the level-1 spans are as often "Hope this helps" or "Yes right".
REACTION_WORDS = (2, 8)
STRONG = 2
# A leading reaction offers sympathy: strong reactions also include "Lucky you" or "Thats pretty awesome
# dude", and both classifiers take ER off "That sounds really hard, how are you coping?" (-0.2) while
# crediting "I am sorry to hear that, what happened?" (+1.5).
SYMPATHY_WORDS = frozenset(["sorry", "pain", "hurting", "hugs"])
# Every word of a reaction occurs at least this often in the responses, so typos ("that haopened") and
# cut-off spans ("Sorry to hear tha") do not lead anything.
MIN_WORD_USES = 2
# Words by which a reaction says the responder shares the trouble ("sorry your post is just so relatable",
# "sorry that you're also in this position"): the responder's story, which a suggestion never tells.
SHARING_WORDS = frozenset(["also", "too", "same", "relatable"])
# Words too common to tie a reaction to its own post; any other word of the post in a reaction ("sorry
# about your dog") makes it specific to that post, so it does not lead another post's question.
COMMON_WORDS = frozenset(
    [
        "about",
        "been",
        "can't",
        "could",
        "does",
        "doesn't",
        "don't",
        "feel",
        "feeling",
        "feels",
        "going",
        "have",
        "i'm",
        "it's",
        "just",
        "know",
        "like",
        "life",
        "more",
        "much",
        "people",
        "really",
        "some",
        "that",
        "them",
        "there",
        "they",
        "things",
        "this",
        "time",
        "want",
        "what",
        "when",
        "will",
        "with",
        "would",
        "you're",
        "your",
    ]
)


@dataclass(frozen=True)
class WarmStartExample:
    seeker: str
    sentences: list[str]  # the reply the policy sees
    edit: Edit  # the edit that restores the empathic sentence
    mechanisms: tuple[str, ...]  # which mechanisms the restored sentence carries


def _coverage(span: tuple[int, int], rationales: list[tuple[int, int]]) -> float:
    start, end = span
    covered = sum(max(0, min(end, r_end) - max(start, r_start)) for r_start, r_end in rationales)
    return covered / max(1, end - start)


def _usable(sentence: str) -> bool:
    return MIN_WORDS <= len(sentence.split()) <= MAX_WORDS


def empathic_sentences(example: EpitomeExample) -> list[tuple[int, list[str], tuple[str, ...]]]:
    """(index, all sentences, mechanisms) for each sentence that carries a rationale."""
    spans = sentence_spans(example.response)
    sentences = [example.response[s:e] for s, e in spans]
    found = []
    for index, span in enumerate(spans):
        mechanisms = tuple(
            m
            for m in MECHANISMS
            if example.levels[m] > 0 and _coverage(span, example.rationales.get(m, [])) >= RATIONALE_COVERAGE
        )
        if mechanisms and _usable(sentences[index]):
            found.append((index, sentences, mechanisms))
    return found


def neutral_sentences(examples: list[EpitomeExample]) -> list[str]:
    """Sentences of responses with no empathy on any mechanism: the replace examples' stand-ins."""
    pool = []
    for example in examples:
        if example.total == 0:
            pool += [example.response[s:e] for s, e in sentence_spans(example.response)]
    return [s for s in pool if _usable(s)]


def _word_list(text: str) -> list[str]:
    return [w.strip(".,!?;:'\"()").lower() for w in text.split()]


def _words(text: str) -> set[str]:
    return set(_word_list(text))


def generic_reactions(examples: list[EpitomeExample]) -> list[str]:
    """Strong emotional-reaction rationale spans of sympathy that could answer any post: one short clause,
    not a question, naming none of their own post's words beyond COMMON_WORDS, spelt as other responses
    spell their words, and neither sharing the trouble nor telling any story of the responder's. Distinct,
    in the data's order."""
    uses = Counter(word for example in examples for word in _word_list(example.response))
    found: dict[str, str] = {}
    for example in examples:
        if example.levels["ER"] < STRONG:
            continue
        post = {w for w in _words(example.seeker) if len(w) > 2} - COMMON_WORDS
        for start, end in example.rationales.get("ER", []):
            reaction = example.response[start:end].strip(" \t\n.,;:!-")
            words = _word_list(reaction)
            vocabulary = set(words)
            low, high = REACTION_WORDS
            if not low <= len(words) <= high or not SYMPATHY_WORDS & vocabulary or vocabulary & (post | SHARING_WORDS):
                continue
            if any(mark in reaction for mark in ".?!:;/") or any(ch.isdigit() for ch in reaction):
                continue
            if min(uses[w] for w in words) < MIN_WORD_USES or tells_the_writers_story(reaction):
                continue
            found.setdefault(reaction.lower(), reaction)
    return list(found.values())


def lead_in(reaction: str) -> str:
    """A reaction as the opening of a longer sentence.

    >>> lead_in("so sorry you feel this way")
    'So sorry you feel this way,'
    """
    return f"{reaction[0].upper()}{reaction[1:]},"


def compound(reaction: str, question: str) -> str:
    """One sentence: the reaction, then the question.

    >>> compound("Hang in there", "Have you talked to anyone?")
    'Hang in there, have you talked to anyone?'
    >>> compound("so sorry", "I wonder, what happened?")
    'So sorry, I wonder, what happened?'
    """
    keep_capital = question.startswith(("I ", "I'"))
    return f"{lead_in(reaction)} {question if keep_capital else question[0].lower() + question[1:]}"


def _compound_twin(example: WarmStartExample, reactions: list[str], rng: random.Random) -> WarmStartExample | None:
    """The example with its exploring question led by a reaction, when it is such a question without one."""
    sentence = example.edit.sentence.strip()
    if "EX" not in example.mechanisms or "ER" in example.mechanisms or not sentence.endswith("?") or not reactions:
        return None
    joined = compound(rng.choice(reactions), sentence)
    # The sentence filter of the product, its length bounded by MAX_WORDS here rather than characters.
    if not _usable(joined) or sentence_problems(joined, max_chars=len(joined)):
        return None
    mechanisms = tuple(m for m in MECHANISMS if m in {"ER", *example.mechanisms})
    return WarmStartExample(
        example.seeker, example.sentences, Edit(example.edit.kind, example.edit.position, joined), mechanisms
    )


def build_examples(
    examples: list[EpitomeExample], seed: int = 0, compound_share: float = 0.0
) -> list[WarmStartExample]:
    """Insert and replace examples; each empathic sentence yields one of each (replace needs a stand-in).
    With compound_share > 0, that share of the exploring questions without a reaction is led by a
    reaction drawn from generic_reactions instead (its compound twin).

    Sentences telling the responder's own story, which EPITOME counts as interpretations, are no
    targets: the product never suggests them (voice.py).
    """
    rng = random.Random(seed)
    stand_ins = neutral_sentences(examples)
    reactions = generic_reactions(examples) if compound_share > 0 else []
    built: list[WarmStartExample] = []
    for example in examples:
        for index, sentences, mechanisms in empathic_sentences(example):
            if tells_the_writers_story(sentences[index]):
                continue
            rest = sentences[:index] + sentences[index + 1 :]
            if rest:
                built.append(
                    WarmStartExample(example.seeker, rest, Edit(EditKind.INSERT, index, sentences[index]), mechanisms)
                )
            if stand_ins:
                swapped = [*sentences[:index], rng.choice(stand_ins), *sentences[index + 1 :]]
                built.append(
                    WarmStartExample(
                        example.seeker, swapped, Edit(EditKind.REPLACE, index, sentences[index]), mechanisms
                    )
                )
    if reactions:
        built = [(_compound_twin(b, reactions, rng) or b) if rng.random() < compound_share else b for b in built]
    rng.shuffle(built)
    return built


def counts(built: list[WarmStartExample]) -> dict[str, int]:
    """How many examples of each kind, and per mechanism carried."""
    tally: Counter[str] = Counter()
    for example in built:
        tally[example.edit.kind.value] += 1
        if {"ER", "EX"} <= set(example.mechanisms):
            tally["carries_ER_and_EX"] += 1
        for mechanism in example.mechanisms:
            tally[f"carries_{mechanism}"] += 1
    tally["total"] = len(built)
    return dict(sorted(tally.items()))
