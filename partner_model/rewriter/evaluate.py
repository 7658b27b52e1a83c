"""The rewriter evaluation of DESIGN.md section 7: every system side by side on the low-empathy
replies of a data file, judged by a classifier the rewriter never saw.

Systems: original (no change), template (a fixed supportive sentence first), retrieval (the
empathic sentence of the training reply whose seeker post is most similar), zero-shot (the base
LM asked for one empathic sentence), partner-warmstart and partner (the same sampling and ranking
pipeline with the supervised adapter and with the RL adapter).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from partner_model.empathy.data import EpitomeExample
from partner_model.empathy.metrics import bootstrap_interval
from partner_model.rewriter import rewards
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.rewards import Embeds, ScoresEmpathy, ScoresLikelihood
from partner_model.rewriter.warmstart_data import empathic_sentences
from partner_model.text import split_sentences

TEMPLATE_SENTENCE = "This must have been really hard for you."
LOW_EMPATHY_MAX_TOTAL = 1
SYSTEMS = ("original", "template", "retrieval", "zero-shot", "partner-warmstart", "partner")
ZERO_SHOT_INSTRUCTION = (
    "Here is a post from someone asking for support, and a reply to it.\n\nPost: {seeker}\n\nReply: {response}\n\n"
    "Write one short, empathic sentence to add to the reply. Answer with that sentence only."
)


@dataclass
class Rewrite:
    """One system's output for one reply: the new text and the edit (None for 'original')."""

    new_response: str
    edit: Edit | None


System = Callable[[list[tuple[str, list[str]]]], list[Rewrite]]


def low_empathy(examples: list[EpitomeExample]) -> list[EpitomeExample]:
    return [e for e in examples if e.total <= LOW_EMPATHY_MAX_TOTAL and split_sentences(e.response)]


def original_system(items: list[tuple[str, list[str]]]) -> list[Rewrite]:
    return [Rewrite(" ".join(sentences), None) for _, sentences in items]


def insert_first(sentence: str, sentences: list[str]) -> Rewrite:
    edit = Edit(EditKind.INSERT, 0, sentence)
    return Rewrite(edit.apply(sentences), edit)


def template_system(items: list[tuple[str, list[str]]]) -> list[Rewrite]:
    return [insert_first(TEMPLATE_SENTENCE, sentences) for _, sentences in items]


def retrieval_system(train: list[EpitomeExample], embedder: Any) -> System:
    """Insert the empathic rationale sentence of the most similar training seeker post."""
    pool = [(e.seeker, found[0][1][found[0][0]]) for e in train if (found := empathic_sentences(e))]
    pool_embeddings = embedder.embed([seeker for seeker, _ in pool])

    def run(items: list[tuple[str, list[str]]]) -> list[Rewrite]:
        queries = embedder.embed([seeker for seeker, _ in items])
        best = (queries @ pool_embeddings.T).argmax(-1).tolist()
        return [insert_first(pool[b][1], sentences) for b, (_, sentences) in zip(best, items, strict=True)]

    return run


def zero_shot_system(model: Any, tokenizer: Any, max_new_tokens: int = 40) -> System:
    """The base LM, asked in its chat format for one empathic sentence, inserted first."""
    import torch

    from partner_model.rewriter.generate import first_sentence

    def run(items: list[tuple[str, list[str]]]) -> list[Rewrite]:
        out = []
        for seeker, sentences in items:
            messages = [
                {"role": "user", "content": ZERO_SHOT_INSTRUCTION.format(seeker=seeker, response=" ".join(sentences))}
            ]
            ids = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            with torch.inference_mode():
                generated = model.generate(
                    **ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
                )
            text = tokenizer.decode(generated[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
            sentence = first_sentence(text.strip().strip('"')) or TEMPLATE_SENTENCE
            out.append(insert_first(sentence, sentences))
        return out

    return run


def rewriter_system(rewriter: Any, seed: int = 0) -> System:
    """The top-ranked suggestion of a PARTNER rewriter (unchanged reply if none passes the filter).

    Sampling starts from a fixed seed: a rerun gives the same table, and two versions compared
    for promotion meet the same sampling noise.
    """

    def run(items: list[tuple[str, list[str]]]) -> list[Rewrite]:
        import torch

        torch.manual_seed(seed)
        results = rewriter.rewrite_batch([(seeker, " ".join(sentences)) for seeker, sentences in items], n=1)
        return [
            Rewrite(found[0].new_response, found[0].edit) if found else Rewrite(" ".join(sentences), None)
            for found, (_, sentences) in zip(results, items, strict=True)
        ]

    return run


def distinct_n(sentences: list[str], n: int) -> float:
    """Unique word n-grams over all n-grams of the new sentences.

    >>> distinct_n(["I am sorry", "I am here"], 1)
    0.6666666666666666
    """
    grams = [
        tuple(words[i : i + n]) for s in sentences for words in [s.lower().split()] for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / len(grams) if grams else 0.0


def word_edit_rate(original: str, new: str) -> float:
    """Word-level Levenshtein distance over the original's length in words."""
    from rapidfuzz.distance import Levenshtein

    before, after = original.split(), new.split()
    return Levenshtein.distance(before, after) / max(1, len(before))


def mean_change(after: np.ndarray, before: np.ndarray) -> float:
    """Mean change in total empathy over paired replies (resampled in pairs for the interval)."""
    return float(np.mean(after - before))


def metrics(
    items: list[tuple[str, list[str]]],
    rewrites: list[Rewrite],
    judge: ScoresEmpathy,
    reward_classifier: ScoresEmpathy,
    base_lm: ScoresLikelihood,
    embedder: Embeds,
) -> dict[str, Any]:
    """The table's row for one system. empathy_change_ci95 is a 95% bootstrap interval over replies: the
    same adapter's figure moved by 0.2 between CPUs (the fixed seed does not fix the samples there), so a
    figure near a target says little without it."""
    seekers = [s for s, _ in items]
    originals = [" ".join(sentences) for _, sentences in items]
    news = [r.new_response for r in rewrites]

    def totals(scorer: ScoresEmpathy) -> tuple[np.ndarray, np.ndarray]:
        """Each reply's total empathy after and before its rewrite."""
        scores = scorer.score(list(zip(seekers, news, strict=True)) + list(zip(seekers, originals, strict=True)))
        both = np.array([s.total for s in scores])
        return both[: len(news)], both[len(news) :]

    judged = totals(judge)

    log_probs = base_lm.mean_log_probs([""] * len(news), news)
    edited = [(r.edit, sentences, seeker) for r, (seeker, sentences) in zip(rewrites, items, strict=True) if r.edit]
    new_sentences = [e.sentence for e, _, _ in edited]
    specificity = embedder.similarity(new_sentences, [seeker for _, _, seeker in edited]) if edited else []
    coherence = rewards.coherence(new_sentences, rests=[e.rest(s) for e, s, _ in edited], embedder=embedder)
    return {
        "empathy_change": mean_change(*judged),
        "empathy_change_ci95": list(bootstrap_interval(*judged, mean_change)),
        "empathy_change_reward_classifier": mean_change(*totals(reward_classifier)),
        "perplexity": float(math.exp(-np.mean(log_probs))),
        "specificity": float(np.mean(specificity)) if specificity else 0.0,
        "distinct_1": distinct_n(new_sentences, 1),
        "distinct_2": distinct_n(new_sentences, 2),
        "edit_rate": float(np.mean([word_edit_rate(o, n) for o, n in zip(originals, news, strict=True)])),
        "coherence": float(np.mean(coherence)) if coherence else 0.0,
        "edited": len(edited),
    }
