"""Supervised warm-start examples from EPITOME responses, no parallel data needed.

Insert examples: remove one sentence that carries an annotated rationale; the policy learns to
put it back (position and text). Replace examples: swap such a sentence for a sentence without
empathy (from a response annotated 0 on every mechanism); the policy learns to replace it back.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

from partner_model.empathy import MECHANISMS
from partner_model.empathy.data import EpitomeExample
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.voice import tells_the_writers_story
from partner_model.text import sentence_spans

# A sentence counts as empathic when annotated rationales cover at least this share of it.
RATIONALE_COVERAGE = 0.5
# Sentences outside these word counts make poor targets (fragments, or whole paragraphs).
MIN_WORDS, MAX_WORDS = 3, 30


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


def build_examples(examples: list[EpitomeExample], seed: int = 0) -> list[WarmStartExample]:
    """Insert and replace examples; each empathic sentence yields one of each (replace needs a stand-in).

    Sentences telling the responder's own story, which EPITOME counts as interpretations, are no
    targets: the product never suggests them (voice.py).
    """
    rng = random.Random(seed)
    stand_ins = neutral_sentences(examples)
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
    rng.shuffle(built)
    return built


def counts(built: list[WarmStartExample]) -> dict[str, int]:
    """How many examples of each kind, and per mechanism carried."""
    tally: Counter[str] = Counter()
    for example in built:
        tally[example.edit.kind.value] += 1
        for mechanism in example.mechanisms:
            tally[f"carries_{mechanism}"] += 1
    tally["total"] = len(built)
    return dict(sorted(tally.items()))
