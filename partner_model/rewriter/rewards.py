"""PARTNER's rewards as pure functions `(texts, **context) -> list[float]`, shared by RL training,
inference ranking and evaluation. Each is a change against the original reply where that makes
sense, so a reply that was already fluent or specific is not rewarded for what it had."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Protocol

from partner_model.empathy import MECHANISMS

if TYPE_CHECKING:
    import torch


class ScoresEmpathy(Protocol):
    def score(self, pairs: list[tuple[str, str]]) -> list: ...


class ScoresLikelihood(Protocol):
    def mean_log_probs(self, contexts: list[str], continuations: list[str]) -> list[float]: ...


class Embeds(Protocol):
    def embed(self, texts: list[str]) -> torch.Tensor: ...

    def similarity(self, left: list[str], right: list[str]) -> list[float]: ...


@dataclass(frozen=True)
class RewardWeights:
    empathy: float = 1.0  # change in expected total empathy, 0-6 scale
    fluency: float = 1.0  # change in mean token log-probability under the base LM
    coherence: float = 0.5  # cosine of the new sentence with the rest of the reply
    mutual_information: float = 0.5  # change in the MI term below
    mi_lambda: float = 0.5  # lambda * log p(reply | post) + (1 - lambda) * log p(post | reply)
    # Each mechanism's share in the empathy term of the training reward (1 each: the plain 0-6 change).
    # Every RL policy earned its gain through inserted questions (Explorations, near its ceiling) while the
    # judge took off Emotional Reactions. ER 1.5 / EX 0.75 did not move that mix (session 22, rewriter card):
    # the reward classifier credits bare questions with ER as well.
    mechanisms: Mapping[str, float] = field(default_factory=lambda: dict.fromkeys(MECHANISMS, 1.0))


def expected_total(score: object, weights: Mapping[str, float] | None = None) -> float:
    """Sum over mechanisms of the expected level, a smooth version of the 0-6 total; with weights, each
    mechanism's expected level counts that many times."""
    return weighted_total(_expected_levels(score), weights)


@dataclass(frozen=True)
class LevelProbabilities:
    probabilities: dict[str, list[float]]


class AveragedScorer:
    """Several reward classifiers as one, their level probabilities averaged per mechanism.

    RL learns whatever its one reward classifier over-credits (a stock form of question that another
    classifier rates far lower); with independently trained classifiers averaged, a quirk of one of
    them pays only its share, while what they agree on pays in full. Measured once (the rewriter's model
    card, session 18): two classifiers trained on the same rows shared the liking that mattered.
    """

    def __init__(self, scorers: Sequence[ScoresEmpathy]) -> None:
        if not scorers:
            raise ValueError("AveragedScorer needs at least one classifier")
        self.scorers = list(scorers)

    def score(self, pairs: list[tuple[str, str]]) -> list[LevelProbabilities]:
        per_pair = zip(*(scorer.score(pairs) for scorer in self.scorers), strict=True)
        return [LevelProbabilities({m: self._mean(results, m) for m in MECHANISMS}) for results in per_pair]

    def _mean(self, results: tuple, mechanism: str) -> list[float]:
        levels = zip(*(r.probabilities[mechanism] for r in results), strict=True)
        return [sum(ps) / len(self.scorers) for ps in levels]


def mechanism_changes(
    new: list[str], *, originals: list[str], seekers: list[str], scorer: ScoresEmpathy
) -> list[dict[str, float]]:
    """Each mechanism's expected level in the new reply minus the original's, by the reward classifier.

    Each distinct pair is scored once: ranking compares a reply's candidates with one original, and
    scoring it once per candidate doubled the classifier's work."""
    after = list(zip(seekers, new, strict=True))
    before = list(zip(seekers, originals, strict=True))
    distinct = list(dict.fromkeys(after + before))
    levels = dict(zip(distinct, (_expected_levels(s) for s in scorer.score(distinct)), strict=True))
    return [{m: levels[a][m] - levels[b][m] for m in MECHANISMS} for a, b in zip(after, before, strict=True)]


def _expected_levels(score: object) -> dict[str, float]:
    probabilities = score.probabilities  # type: ignore[attr-defined]
    return {m: sum(level * p for level, p in enumerate(probabilities[m])) for m in MECHANISMS}


def weighted_total(change: Mapping[str, float], mechanisms: Mapping[str, float] | None = None) -> float:
    """A mechanism_changes entry as one figure, each mechanism counted its weight's times (None: once)."""
    return sum((mechanisms[m] if mechanisms else 1.0) * change[m] for m in MECHANISMS)


def empathy_change(
    new: list[str],
    *,
    originals: list[str],
    seekers: list[str],
    scorer: ScoresEmpathy,
    mechanisms: Mapping[str, float] | None = None,
) -> list[float]:
    """Expected total empathy of the new reply minus the original's, by the reward classifier
    (mechanisms: per-mechanism weights of the total, as in RewardWeights; None counts each once)."""
    changes = mechanism_changes(new, originals=originals, seekers=seekers, scorer=scorer)
    return [weighted_total(c, mechanisms) for c in changes]


def fluency(new: list[str], *, originals: list[str], lm: ScoresLikelihood) -> list[float]:
    """Change in length-normalised log-likelihood of the reply under the base LM."""
    scores = lm.mean_log_probs([""] * (2 * len(new)), new + originals)
    half = len(new)
    return [a - b for a, b in zip(scores[:half], scores[half:], strict=True)]


def coherence(
    sentences: list[str], *, rests: list[str], embedder: Embeds, sentence_vectors: torch.Tensor | None = None
) -> list[float]:
    """Cosine similarity of the new sentence with the reply's other sentences (0 when there are none).

    sentence_vectors: the sentences' embeddings where the caller has them already (ranking needs them
    for specificity too), so they are not computed twice."""
    vectors = embedder.embed(sentences) if sentence_vectors is None else sentence_vectors
    sims = (vectors * embedder.embed(rests)).sum(-1).tolist()
    return [s if rest.strip() else 0.0 for s, rest in zip(sims, rests, strict=True)]


def _mi(replies: list[str], seekers: list[str], lm: ScoresLikelihood, lam: float) -> list[float]:
    forward = lm.mean_log_probs([f"Post: {s}\nReply:" for s in seekers], [" " + r for r in replies])
    backward = lm.mean_log_probs([f"Reply: {r}\nPost:" for r in replies], [" " + s for s in seekers])
    return [lam * f + (1 - lam) * b for f, b in zip(forward, backward, strict=True)]


def mutual_information(
    new: list[str], *, originals: list[str], seekers: list[str], lm: ScoresLikelihood, lam: float = 0.5
) -> list[float]:
    """Change in lambda * log p(reply | post) + (1 - lambda) * log p(post | reply), per token.

    Rewards replies that are about this post (specificity) and not a line that fits any post.
    """
    scores = _mi(new + originals, seekers + seekers, lm, lam)
    half = len(new)
    return [a - b for a, b in zip(scores[:half], scores[half:], strict=True)]


@dataclass
class RewardBreakdown:
    empathy: float
    fluency: float
    coherence: float
    mutual_information: float
    total: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def combine(weights: RewardWeights, **parts: list[float]) -> list[RewardBreakdown]:
    """Weighted sum of the parts given; missing parts count 0.

    >>> combine(RewardWeights(), empathy=[2.0], fluency=[-0.5])[0].total
    1.5
    """
    n = len(next(iter(parts.values())))
    names = ("empathy", "fluency", "coherence", "mutual_information")
    values = {name: parts.get(name, [0.0] * n) for name in names}
    out = []
    for i in range(n):
        row = {name: values[name][i] for name in names}
        total = sum(getattr(weights, name) * row[name] for name in names)
        out.append(RewardBreakdown(**row, total=total))
    return out
