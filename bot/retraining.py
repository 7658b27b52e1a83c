"""One feedback retraining round (`partner-bot retrain`, or the scheduled job): feedback since the
active version -> weighted examples with the suggestions passed over beside them (when configured, the
members' edits put in the policy's own words where it has close ones) -> RWR and a preference term
fine-tuning the active adapter -> the candidate and the active version evaluated side
by side -> promoted only when not worse, else left for a moderator."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.settings import Settings
from storage.clock import Clock
from storage.feedback import TrainingFeedback, training_feedback
from storage.model_versions import (
    active_since,
    active_version,
    add_version,
    promote,
    record_training_run,
    version_metrics,
)
from storage.models import FeedbackAction, ModelKind, RunStatus, TrainingRun

log = logging.getLogger(__name__)


@dataclass
class RoundResult:
    status: str  # skipped | promoted | candidate | failed
    reason: str
    version: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def feedback_weight(row: TrainingFeedback, settings: Settings) -> float:
    weights = {
        FeedbackAction.ACCEPT: settings.retrain.accept_weight,
        FeedbackAction.EDIT: settings.retrain.edit_weight,
        FeedbackAction.FLAG: settings.retrain.flag_weight,
    }
    return weights.get(FeedbackAction(row.action), 0.0)


def build_examples(rows: list[TrainingFeedback], settings: Settings, scorer: Any) -> tuple[list[Any], int]:
    """Weighted RWR examples and how many were left out as unsafe. An edit's target is the member's own
    sentence when it is a one-sentence edit of the reply (run_round may put it in the policy's words), else
    the suggestion they started from; a target the suggestion filter would reject (a link, a mention,
    offensive or crisis language) is never imitated."""
    from partner_model.rewriter.edits import Edit, EditKind
    from partner_model.rewriter.feedback_training import FeedbackExample, edit_from_text
    from partner_model.safety import sentence_problems
    from partner_model.text import split_sentences

    examples = []
    unsafe = 0
    for row in rows:
        weight = feedback_weight(row, settings)
        if weight <= 0:
            continue
        sentences = split_sentences(row.response_text)
        edit = Edit(EditKind(row.edit_kind), row.position, row.sentence)
        edited = row.edited_text if row.action == FeedbackAction.EDIT else None
        written = edit_from_text(sentences, edited) if edited else None
        edit = written or edit
        if sentence_problems(edit.sentence, settings.rewriter.max_sentence_chars):
            unsafe += 1
            continue
        before, after = scorer.score([(row.seeker_text, row.response_text), (row.seeker_text, edit.apply(sentences))])
        gain = max(0, after.total - before.total)
        weight *= 1 + settings.retrain.empathy_bonus * gain / 6
        shown = tuple(Edit(EditKind(o.edit_kind), o.position, o.sentence) for o in row.passed_over)
        examples.append(FeedbackExample(row.seeker_text, sentences, edit, weight, shown, written is not None))
    return examples, unsafe


def evaluation_items(settings: Settings) -> list[tuple[str, list[str]]]:
    from partner_model.empathy.data import read_epitome_csv
    from partner_model.rewriter.evaluate import low_empathy
    from partner_model.samples import SAMPLE_EXCHANGES
    from partner_model.text import split_sentences

    if settings.retrain.eval_data is not None:
        pairs = [(e.seeker, e.response) for e in low_empathy(read_epitome_csv(settings.retrain.eval_data))]
    else:
        pairs = list(SAMPLE_EXCHANGES)
    return [(seeker, split_sentences(response)) for seeker, response in pairs[: settings.retrain.eval_limit]]


def evaluation_signature(items: list[tuple[str, list[str]]], judge_version: str, scorer_version: str) -> str:
    """What a version's figures were measured on: the evaluation items and both classifiers. A version
    promoted after a gate keeps its figures, so the next round compares against them instead of
    evaluating it again, as long as the signature is the same.

    >>> evaluation_signature([("post", ["Reply."])], "judge-1", "classifier-1") == evaluation_signature(
    ...     [("post", ["Reply."])], "judge-2", "classifier-1")
    False
    """
    payload = json.dumps({"items": items, "judge": judge_version, "scorer": scorer_version}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def not_worse(candidate: dict[str, float], active: dict[str, float], settings: Settings) -> tuple[bool, str]:
    """The promotion rule: empathy change and perplexity within their tolerances of the active version's.

    >>> from bot.settings import load_settings
    >>> candidate, active = {"empathy_change": 1.0, "perplexity": 30.0}, {"empathy_change": 1.05, "perplexity": 29.0}
    >>> not_worse(candidate, active, load_settings())
    (True, 'empathy change 1.000 vs 1.050, perplexity 30.0 vs 29.0')
    """
    tolerance = settings.retrain
    ok = candidate["empathy_change"] >= active["empathy_change"] - tolerance.empathy_tolerance and candidate[
        "perplexity"
    ] <= active["perplexity"] * (1 + tolerance.perplexity_tolerance)
    summary = (
        f"empathy change {candidate['empathy_change']:.3f} vs {active['empathy_change']:.3f}, "
        f"perplexity {candidate['perplexity']:.1f} vs {active['perplexity']:.1f}"
    )
    return ok, summary


def run_round(settings: Settings, engine: Engine, clock: Clock, command: str, on_step: Any = None) -> RoundResult:
    from bot.commands.rewrite import load_rewriter
    from bot.commands.score import load_scorer
    from partner_model.base_models import lm_path
    from partner_model.embedding import SentenceEmbedder
    from partner_model.rewriter import evaluate as ev
    from partner_model.rewriter.edit_intent import IntentConfig, in_policy_words
    from partner_model.rewriter.feedback_training import FeedbackTrainConfig, retrain
    from partner_model.rewriter.lm_scoring import BaseLMScorer
    from partner_model.rewriter.policy import best_device, load, save

    started = clock.now()
    active = active_version(engine, ModelKind.REWRITER)
    parent_dir = Path(active.path) if active else settings.rewriter.adapter_dir
    parent_name = active.version if active else "shipped"
    with Session(engine) as session:
        rows, left_out = training_feedback(session, active_since(session, ModelKind.REWRITER))
    scorer = load_scorer()
    examples, unsafe = build_examples(rows, settings, scorer)
    counts = {"feedback_rows": len(rows), "examples": len(examples), "unsafe_targets": unsafe, **left_out}
    params = {"parent": parent_name, "epochs": settings.retrain.epochs, "learning_rate": settings.retrain.learning_rate}

    def finish(status: RunStatus, reason: str, metrics: dict | None = None, version_id: int | None = None) -> None:
        with Session(engine) as session, session.begin():
            record_training_run(
                session,
                TrainingRun(
                    kind=ModelKind.REWRITER,
                    status=status,
                    model_version_id=version_id,
                    parent_version=parent_name,
                    command=command,
                    params=params,
                    metrics=metrics or {},
                    data_counts=counts,
                    reason=reason,
                    started_at=started,
                    finished_at=clock.now(),
                ),
            )

    if len(examples) < settings.retrain.min_examples:
        reason = f"too little feedback: {len(examples)} usable examples, {settings.retrain.min_examples} needed"
        log.info("retraining skipped: %s (%s)", reason, counts)
        finish(RunStatus.SKIPPED, reason)
        return RoundResult("skipped", reason, counts=counts)

    policy = load(parent_dir, lm_path(settings.models.lm_dir), trainable=True, device=best_device())
    embedder = SentenceEmbedder.load(settings.models.encoder_dir)
    if settings.retrain.edit_samples > 0:
        intent = IntentConfig(
            settings.retrain.edit_samples, settings.retrain.edit_floor, settings.rewriter.rewrite_config()
        )
        examples, counts["edits_in_policy_words"] = in_policy_words(policy, examples, embedder, intent)
    info = retrain(
        policy,
        examples,
        FeedbackTrainConfig(
            epochs=settings.retrain.epochs,
            lr_lora=settings.retrain.learning_rate,
            preference_weight=settings.retrain.preference_weight,
            preference_beta=settings.retrain.preference_beta,
        ),
        on_step,
    )
    version = f"rewriter-{started:%Y%m%d-%H%M%S}"
    out_dir = (settings.retrain.models_dir or settings.data_dir / "models") / version
    save(policy, out_dir)
    del policy

    items = evaluation_items(settings)
    judge = load_scorer("judge")
    base = BaseLMScorer.load(settings.models.lm_dir)
    measured_on = evaluation_signature(items, judge.version, scorer.version)

    def evaluate(folder: Path) -> dict[str, float]:
        rewrites = ev.rewriter_system(load_rewriter(folder, scorer, embedder))(items)
        return ev.metrics(items, rewrites, judge, scorer, base, embedder)

    stored = version_metrics(engine, ModelKind.REWRITER, active.version) if active else {}
    # The evaluation is seeded, so the active version's figures from its own gate are what it would score again.
    active_figures = stored["candidate"] if stored.get("evaluation") == measured_on else evaluate(parent_dir)
    candidate_figures = evaluate(out_dir)
    ok, summary = not_worse(candidate_figures, active_figures, settings)
    metrics = {
        "candidate": candidate_figures,
        "active": active_figures,
        "training": info["history"][-1],
        "evaluation": measured_on,
    }
    with Session(engine) as session, session.begin():
        row = add_version(
            session,
            ModelKind.REWRITER,
            version,
            str(out_dir),
            parent_name if active else None,
            metrics,
            counts,
            clock.now(),
        )
        if ok:
            promote(session, ModelKind.REWRITER, version, clock.now())
        version_id = row.id
    status, reason = (
        ("promoted", f"not worse: {summary}") if ok else ("candidate", f"worse: {summary}; waits for `models promote`")
    )
    log.info("retraining: %s %s (%s)", version, status, reason)
    finish(RunStatus.SUCCEEDED, reason, metrics, version_id)
    return RoundResult(status, reason, version, metrics, counts)
