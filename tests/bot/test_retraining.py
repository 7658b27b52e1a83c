"""Feedback retraining: which feedback counts, the skip path, versions, promote and rollback with a
running rewrite task following them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.retraining import build_examples, run_round
from bot.rewrite_task import RewriteTask
from bot.settings import Settings
from storage.clock import ManualClock
from storage.feedback import record_feedback, suggestion, training_feedback
from storage.guilds import update_guild
from storage.model_versions import VersionError, add_version, promote, rollback
from storage.models import EditKind, FeedbackAction, ModelKind, ModelStatus, ModelVersion, RunStatus, TrainingRun
from storage.replies import NewSuggestion
from tests.bot.conftest import START
from tests.conftest import BACKENDS
from tests.factories import reply_with_suggestions

pytestmark = pytest.mark.parametrize("bot_engine", BACKENDS, indirect=True)


def _feedback(
    engine: Engine,
    settings: Settings,
    guild: int,
    opted_in: bool,
    action: FeedbackAction,
    n: int,
    own_sentence: str = "That must feel lonely.",
) -> None:
    from bot.app import storage_defaults

    sentence = "Weekends alone in a new city sound hard."
    with Session(engine) as session, session.begin():
        update_guild(session, guild, storage_defaults(settings), START, {"training_opt_in": opted_in})
        for i in range(n):
            reply, rows = reply_with_suggestions(
                session,
                [NewSuggestion(1, EditKind.INSERT, 0, sentence, f"{sentence} Join a club. It helps.", {})],
                guild_id=guild,
                message_id=guild * 1000 + i,
                seeker_text="I moved to a new city and I feel so alone on weekends.",
                response_text="Join a club. It helps.",
                created_at=START,
            )
            edited = f"Join a club. {own_sentence} It helps." if action == FeedbackAction.EDIT else None
            target = suggestion(session, rows[0].id)
            record_feedback(session, target, reply.responder_id, action, START, "UTC", edited_text=edited)


def test_only_opted_in_guilds_feedback_trains(bot_engine: Engine, bot_settings: Settings, shipped_scorer) -> None:
    _feedback(bot_engine, bot_settings, guild=1, opted_in=True, action=FeedbackAction.EDIT, n=2)
    _feedback(bot_engine, bot_settings, guild=2, opted_in=False, action=FeedbackAction.ACCEPT, n=3)
    with Session(bot_engine) as session:
        rows, left_out = training_feedback(session, None)
    assert len(rows) == 2 and left_out == {"not_opted_in": 3, "texts_gone": 0}
    [example, _], unsafe = build_examples(rows, bot_settings, shipped_scorer)
    # The member's own sentence is the target, weighted as an edit (2.0) or more with an empathy gain.
    assert example.edit.sentence == "That must feel lonely." and example.edit.position == 1
    assert example.weight >= bot_settings.retrain.edit_weight and unsafe == 0


def test_an_edit_the_suggestion_filter_would_reject_is_never_imitated(
    bot_engine: Engine, bot_settings: Settings, shipped_scorer
) -> None:
    _feedback(bot_engine, bot_settings, 1, True, FeedbackAction.EDIT, 1, "See https://example.com for help.")
    _feedback(bot_engine, bot_settings, 2, True, FeedbackAction.EDIT, 1, "Ask @everyone on the server tonight.")
    _feedback(bot_engine, bot_settings, 3, True, FeedbackAction.EDIT, 1, "That must feel lonely.")
    with Session(bot_engine) as session:
        rows, _ = training_feedback(session, None)
    examples, unsafe = build_examples(rows, bot_settings, shipped_scorer)
    assert [e.edit.sentence for e in examples] == ["That must feel lonely."] and unsafe == 2


def test_the_suggestions_a_member_passed_over_come_with_their_choice(
    bot_engine: Engine, bot_settings: Settings, shipped_scorer
) -> None:
    from bot.app import storage_defaults

    reply_text = "Join a club. It helps."
    shown = ["Weekends alone sound hard.", "Moving is a lot.", "Have you met anyone yet?"]
    with Session(bot_engine) as session, session.begin():
        update_guild(session, 1, storage_defaults(bot_settings), START, {"training_opt_in": True})
        for i, (action, clicked) in enumerate([(FeedbackAction.ACCEPT, 1), (FeedbackAction.EDIT, 0)]):
            reply, rows = reply_with_suggestions(
                session,
                [NewSuggestion(r, EditKind.INSERT, 0, s, f"{s} {reply_text}", {}) for r, s in enumerate(shown, 1)],
                guild_id=1,
                message_id=100 + i,
                seeker_text="I moved to a new city and I feel so alone on weekends.",
                response_text=reply_text,
                created_at=START,
            )
            edited = f"That must feel lonely. {reply_text}" if action == FeedbackAction.EDIT else None
            target = suggestion(session, rows[clicked].id)
            record_feedback(session, target, reply.responder_id, action, START, "UTC", edited_text=edited)
    with Session(bot_engine) as session:
        accepted, edited = training_feedback(session, None)[0]
    # Accepting the second suggestion passes over the other two; an edit passes over all three.
    assert [o.sentence for o in accepted.passed_over] == [shown[0], shown[2]]
    assert [o.sentence for o in edited.passed_over] == shown
    examples, _ = build_examples([accepted, edited], bot_settings, shipped_scorer)
    assert [e.edit.sentence for e in examples] == [shown[1], "That must feel lonely."]
    assert [[p.sentence for p in e.passed_over] for e in examples] == [[shown[0], shown[2]], shown]
    # Only the member's own sentence may be put in the policy's words: a suggestion taken as it was is its own.
    assert [e.own_words for e in examples] == [False, True]


def test_too_little_feedback_skips_the_round_with_a_reason(bot_engine: Engine, bot_settings: Settings) -> None:
    _feedback(bot_engine, bot_settings, guild=1, opted_in=True, action=FeedbackAction.ACCEPT, n=2)
    result = run_round(bot_settings, bot_engine, ManualClock(START), "test")
    assert result.status == "skipped" and "2 usable examples, 8 needed" in result.reason
    with Session(bot_engine) as session:
        [run] = session.scalars(select(TrainingRun)).all()
    assert run.status == RunStatus.SKIPPED and run.reason == result.reason


def test_promote_and_rollback_and_the_running_task_follows(bot_engine: Engine) -> None:
    loaded: list[str | None] = []

    class Loaded:
        def __init__(self, path) -> None:
            self.version = str(path)

    def load(path):
        loaded.append(str(path) if path else None)
        return Loaded(path)

    clock = ManualClock(START)
    task = RewriteTask(bot_engine, clock, load, 3)
    with Session(bot_engine) as session, session.begin():
        add_version(session, ModelKind.REWRITER, "v1", "/m/v1", None, {}, {}, clock.now())
        add_version(session, ModelKind.REWRITER, "v2", "/m/v2", "v1", {}, {}, clock.now())
        promote(session, ModelKind.REWRITER, "v1", clock.now())
    task.refresh()
    clock.advance(timedelta(minutes=1))
    with Session(bot_engine) as session, session.begin():
        promote(session, ModelKind.REWRITER, "v2", clock.now())
    task.refresh()
    with Session(bot_engine) as session, session.begin():
        assert rollback(session, ModelKind.REWRITER, clock.now()).version == "v1"
    task.refresh()
    assert loaded == [None, "/m/v1", "/m/v2", "/m/v1"]
    with Session(bot_engine) as session, session.begin():
        statuses = dict(session.execute(select(ModelVersion.version, ModelVersion.status)).all())
        assert statuses == {"v1": ModelStatus.ACTIVE, "v2": ModelStatus.REJECTED}
        rollback(session, ModelKind.REWRITER, clock.now())  # v1 had no parent: back to the shipped adapter
    task.refresh()
    assert loaded[-1] is None
    with Session(bot_engine) as session, pytest.raises(VersionError):
        rollback(session, ModelKind.REWRITER, clock.now())
