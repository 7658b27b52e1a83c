"""`Rewriter.rewrite(seeker, response, n=3)`: ranked, filtered, distinct suggestions; batched for the worker.

Per reply: the position head proposes the likeliest edits, the language model samples a few
sentences for each, the safety filter drops what must not be shown (and sentences the token limit
cut short), the voice check drops sentences that tell a story of the supporter's instead of taking
up the seeker's or speak as a chat assistant, and the rest are ranked by
the cheap parts of the reward (change in empathy by the classifier, the generation's own mean
log-probability, coherence with the reply) and the sentence's similarity to the seeker's post (a cheap
stand-in for the reward's mutual information: a sentence that fits any post is worth less) before
near-duplicates are removed.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partner_model.heap import return_freed_memory
from partner_model.rewriter import rewards
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.generate import Sampled, generate_grouped, prefill, top_actions
from partner_model.rewriter.policy import RewriterPolicy, load_merged
from partner_model.rewriter.prompt import EncodedPrompt, encode_prompt
from partner_model.rewriter.voice import out_of_voice
from partner_model.safety import load_filters, sentences_problems
from partner_model.selective import on_kept
from partner_model.text import split_sentences


def may_be_suggested(sentence: str, max_chars: int, blocked: Collection[str] = ()) -> bool:
    """The one rule for what a supporter may be shown, shared with RL, which gives any other sentence
    no credit."""
    return suggestable([sentence], max_chars, blocked)[0]


def suggestable(
    sentences: Sequence[str], max_chars: int, blocked: Collection[str] = (), voice: bool = True
) -> list[bool]:
    """may_be_suggested for each sentence. The voice check's regexes go first: they reject many
    candidates before the profanity model runs, once for the rest. voice=False leaves the voice check out,
    for an RL stage that lets the policy find feeling sentences before a later stage teaches it the voice."""
    voiced = [not (voice and out_of_voice(sentence)) for sentence in sentences]
    return on_kept(
        voiced, sentences, lambda kept: [not found for found in sentences_problems(kept, max_chars, blocked)], False
    )


@dataclass(frozen=True)
class RewriteConfig:
    actions_per_reply: int = 3  # likeliest edit positions tried per reply
    samples_per_action: int = 10  # sentences sampled per position (why 10: config.toml)
    temperature: float = 0.8  # a little below training's 1.0: variety without rambling
    top_p: float = 0.9
    max_new_tokens: int = 32  # a sentence still going after this many tokens is dropped (why 32: config.toml)
    max_sentence_chars: int = 300
    generation_weight: float = 0.5  # weight of the generation's mean log-probability in the ranking
    coherence_weight: float = 0.5  # ... of the new sentence's similarity to the rest of the reply
    specificity_weight: float = 1.0  # ... of its similarity to the seeker's post (why 1: config.toml)
    # How many times the change in each of ER, IP and EX counts in the ranking's empathy term (why ER 1.5:
    # config.toml). The suggestion's reported empathy is always the plain 0-6 change.
    mechanism_weights: Mapping[str, float] = field(default_factory=lambda: {"ER": 1.5, "IP": 1.0, "EX": 1.0})
    duplicate_similarity: float = 85.0  # rapidfuzz token-set ratio at or above which two suggestions are one
    quantize: bool = True  # int8 dynamic quantisation of the language model when sampling on a CPU
    # With quantize: the feed-forward peaks measured on train.csv (partner_model/rewriter/calibration.py) and
    # SmoothQuant's strength, which let the feed-forward output projections be quantised too (why 0.8:
    # config.toml). Without a peaks file, or at 0, those layers stay float.
    feed_forward_peaks: Path | None = None
    smoothing: float = 0.8
    # Replies whose candidates are sampled in one batch. On the 2-core CPU one at a time was faster
    # (a batch of 8 replies ran at 0.83x) and holds one reply's cache; a GPU wants more.
    replies_per_generation: int = 1
    # Rows times prompt tokens cached at once while sampling (generate_grouped): the 30 rows of a typical
    # 30-word post and reply fit; a long post is sampled in passes instead of holding every row's cache.
    max_cached_tokens: int = 2400
    # A reply the filters leave with fewer than n suggestions is sampled again, up to this many rounds in
    # all. 1 on a CPU: a second round doubles the time of most replies with the shipped adapter.
    sampling_rounds: int = 1


@dataclass
class Suggestion:
    edit: Edit
    new_response: str
    rewards: dict[str, float] = field(default_factory=dict)
    replaced: str | None = None  # the sentence a replace removes

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.edit.kind.value,
            "position": self.edit.position,
            "sentence": self.edit.sentence,
            "replaced": self.replaced,
            "new_response": self.new_response,
            "rewards": self.rewards,
        }


class Rewriter:
    """A loaded PARTNER policy with its ranking models. One per process; thread-safe."""

    def __init__(
        self,
        policy: RewriterPolicy,
        scorer: rewards.ScoresEmpathy,
        embedder: rewards.Embeds,
        version: str,
        config: RewriteConfig | None = None,
    ) -> None:
        self.policy = policy
        self.scorer = scorer
        self.embedder = embedder
        self.version = version
        self.config = config or RewriteConfig()
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        folder: Path,
        lm_dir: Path,
        scorer: rewards.ScoresEmpathy,
        embedder: rewards.Embeds,
        config: RewriteConfig | None = None,
        device: str = "auto",
    ) -> Rewriter:
        from partner_model.base_models import lm_path, quiet_transformers
        from partner_model.cards import file_digest
        from partner_model.rewriter.calibration import load_peaks
        from partner_model.rewriter.policy import best_device

        quiet_transformers()
        load_filters()
        cfg = config or RewriteConfig()
        peaks = None
        if cfg.quantize and cfg.smoothing > 0 and cfg.feed_forward_peaks is not None:
            peaks = load_peaks(cfg.feed_forward_peaks)
        policy = load_merged(folder, lm_path(lm_dir), best_device(device), cfg.quantize, peaks, cfg.smoothing)
        version = f"{folder.name}-{file_digest(folder / 'position_head.safetensors')[:8]}"
        return cls(policy, scorer, embedder, version, config)

    def rewrite(self, seeker: str, response: str, n: int = 3, blocked: Iterable[str] = ()) -> list[Suggestion]:
        return self.rewrite_batch([(seeker, response)], n, blocked)[0]

    def rewrite_batch(
        self, pairs: list[tuple[str, str]], n: int = 3, blocked: Iterable[str] = ()
    ) -> list[list[Suggestion]]:
        """Up to n suggestions per (seeker post, response); fewer when the filters leave fewer.

        A reply whose candidates the filters thin out below n is sampled again, up to
        sampling_rounds in all: extra work only where it is needed.
        """
        blocked_keys = set(blocked)
        cfg = self.config
        sentences = [split_sentences(response) for _, response in pairs]
        live = [i for i, s in enumerate(sentences) if s]
        candidates: dict[int, list[tuple[Edit, float]]] = {i: [] for i in live}
        with self._lock:
            prompts = {
                i: encode_prompt(self.policy.tokenizer, pairs[i][0], sentences[i], self.policy.config.prompt)
                for i in live
            }
            actions: dict[int, list[tuple[EditKind, int]]] = {}
            existing = {i: {s.strip().lower() for s in sentences[i]} for i in live}
            wanting = live
            for _ in range(cfg.sampling_rounds):
                found = self._sample(wanting, prompts, actions)
                for (owner, (kind, position), sample), usable in zip(
                    found, self._usable(found, existing, blocked_keys), strict=True
                ):
                    if usable:
                        candidates[owner].append((Edit(kind, position, sample.sentence), sample.mean_log_prob))
                wanting = [i for i in wanting if len({e.sentence.lower() for e, _ in candidates[i]}) < n]
                if not wanting:
                    break
        ranked = []
        for i in range(len(pairs)):
            ranked.append(self._rank(pairs[i][0], sentences[i], candidates.get(i, []), n))
            # Scoring a reply's candidates leaves ~100 MB of freed holes; kept, they stacked up reply after
            # reply (1,222 -> 1,498 MB over the 8 sample exchanges at 10 samples per position).
            return_freed_memory()
        return ranked

    def _sample(
        self, owners: list[int], prompts: dict[int, EncodedPrompt], actions: dict[int, list[tuple[EditKind, int]]]
    ) -> list[tuple[int, tuple[EditKind, int], Sampled]]:
        """One sentence per action of each reply, replies_per_generation replies at a time. A reply seen
        for the first time has its actions chosen (stored in actions) by the pass whose cache the
        sampling then continues from; a later round samples the same actions again."""
        cfg = self.config
        found = []
        for start in range(0, len(owners), cfg.replies_per_generation):
            chunk = owners[start : start + cfg.replies_per_generation]
            prefilled = None
            if any(i not in actions for i in chunk):
                prefilled = prefill(self.policy, [prompts[i] for i in chunk])
                for i, probs in zip(chunk, prefilled.distributions, strict=True):
                    actions[i] = [
                        a for a in top_actions(probs, cfg.actions_per_reply) for _ in range(cfg.samples_per_action)
                    ]
            samples = generate_grouped(
                self.policy,
                [prompts[i] for i in chunk],
                [actions[i] for i in chunk],
                cfg.temperature,
                cfg.top_p,
                cfg.max_new_tokens,
                one_sentence=True,
                prefilled=prefilled,
                max_cached_tokens=cfg.max_cached_tokens,
            )
            pairs = [(i, action) for i in chunk for action in actions[i]]
            found += [(i, action, sample) for (i, action), sample in zip(pairs, samples, strict=True)]
            return_freed_memory()
        return found

    def _usable(
        self, found: list[tuple[int, tuple[EditKind, int], Sampled]], existing: dict[int, set[str]], blocked: set[str]
    ) -> list[bool]:
        """Which samples are finished sentences, new to their reply (existing: each reply's sentences,
        lower-cased), that may be suggested."""
        fresh = [
            sample.complete and sample.sentence.strip().lower() not in existing[owner] for owner, _, sample in found
        ]
        sentences = [sample.sentence for _, _, sample in found]
        return on_kept(fresh, sentences, lambda kept: suggestable(kept, self.config.max_sentence_chars, blocked), False)

    def _rank(self, seeker: str, sentences: list[str], found: list[tuple[Edit, float]], n: int) -> list[Suggestion]:
        from rapidfuzz import fuzz

        if not found:
            return []
        cfg = self.config
        original = " ".join(sentences)
        new = [edit.apply(sentences) for edit, _ in found]
        rests = [e.rest(sentences) for e, _ in found]
        changes = rewards.mechanism_changes(
            new, originals=[original] * len(new), seekers=[seeker] * len(new), scorer=self.scorer
        )
        candidates = [e.sentence for e, _ in found]
        # One pass for the candidates (coherence and specificity both need them) and the seeker's post.
        vectors = self.embedder.embed([*candidates, seeker])
        coherence = rewards.coherence(candidates, rests=rests, embedder=self.embedder, sentence_vectors=vectors[:-1])
        specificity = (vectors[:-1] @ vectors[-1]).tolist()
        scored = []
        for (edit, log_prob), text, change, coh, spec in zip(found, new, changes, coherence, specificity, strict=True):
            rank = (
                rewards.weighted_total(change, cfg.mechanism_weights)
                + cfg.generation_weight * log_prob
                + cfg.coherence_weight * coh
                + cfg.specificity_weight * spec
            )
            parts = {
                "empathy": rewards.weighted_total(change),
                "generation_log_prob": log_prob,
                "coherence": coh,
                "specificity": spec,
                "rank_score": rank,
            }
            replaced = sentences[edit.position] if edit.kind is EditKind.REPLACE else None
            scored.append(Suggestion(edit, text, {k: round(v, 4) for k, v in parts.items()}, replaced))
        scored.sort(key=lambda s: s.rewards["rank_score"], reverse=True)
        chosen: list[Suggestion] = []
        for suggestion in scored:
            if all(
                fuzz.token_set_ratio(suggestion.edit.sentence, c.edit.sentence) < cfg.duplicate_similarity
                for c in chosen
            ):
                chosen.append(suggestion)
            if len(chosen) == n:
                break
        return chosen
