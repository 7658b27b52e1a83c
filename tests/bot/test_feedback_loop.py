"""The closed loop with the real shipped rewriter: supporters with a taste the classifier does not
encode click on suggestions, the rewriter is retrained on their feedback round after round, and the
suggestions it writes for held-out posts suit that taste more and more. A candidate trained on
feedback that goes against empathy is kept from the members until a moderator promotes it, and
rollback restores the previous version in a running rewrite task."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from statistics import NormalDist, fmean, stdev
from typing import NamedTuple

import pytest
import torch
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.app import storage_defaults
from bot.commands.rewrite import load_rewriter
from bot.retraining import RoundResult, run_round
from bot.rewrite_task import RewriteTask, storable
from bot.settings import Settings
from partner_model.empathy.data import read_epitome_csv
from partner_model.rewriter.evaluate import low_empathy
from partner_model.rewriter.inference import Rewriter
from partner_model.safety import crisis_signals
from storage.clock import ManualClock
from storage.feedback import record_feedback, suggested_reply, suggestion
from storage.guilds import update_guild
from storage.model_versions import active_version, promote, rollback
from storage.models import FeedbackAction, ModelKind, ModelStatus, ModelVersion
from storage.models import Suggestion as SuggestionRow
from tests.bot.conftest import START
from tests.bot.taste import details, naming_a_detail, takes_up_detail
from tests.factories import reply_with_suggestions

pytestmark = pytest.mark.slow

GUILD = 1
ROUNDS = 3
PROMPTS_PER_ROUND = 20
HELD_OUT = 60
DISMISSIVE_PROMPTS = 10  # the harm of feedback against empathy is plain on fewer
SUGGESTIONS = 3
# Replies decoded together when measuring acceptance: the 60 held-out replies took 54 s one at a time and
# 40 s eight at a time on an AVX2-only CPU (16 at a time: 46 s).
GREEDY_REPLIES = 8
ONE_SIDED_95 = NormalDist().inv_cdf(0.95)  # 1.645: a one-sided claim that chance makes one time in twenty
# The rounds' falls are checked together: three checks at 1.645 each would fail a loop whose rounds changed
# nothing one time in seven. Bonferroni's 1 - 0.05 / ROUNDS quantile (2.128) keeps the three at one in twenty.
EACH_ROUND_95 = NormalDist().inv_cdf(1 - 0.05 / ROUNDS)
Pair = tuple[str, str]


class Taken(NamedTuple):
    """Of one held-out post's suggestions, those that suit the taste and all that were shown."""

    liked: int
    shown: int


def _rate(taken: list[Taken]) -> float:
    """Acceptance: the share of all suggestions shown that the supporters would take."""
    return sum(t.liked for t in taken) / sum(t.shown for t in taken)


def _prompts(csv: Path, count: int) -> list[Pair]:
    """Low-empathy exchanges without crisis signals (those never get suggestions) that have a detail
    a suggestion could take up."""
    found = [
        (e.seeker, e.response)
        for e in low_empathy(read_epitome_csv(csv))
        if not crisis_signals(e.seeker) and details(e.seeker, e.response) and len(e.seeker) < 400
    ]
    return found[:count]


def _suggest(rewriter: Rewriter, pairs: list[Pair]) -> list[list]:
    torch.manual_seed(0)  # the members' clicks do not hang on the order the tests ran in
    return rewriter.rewrite_batch(pairs, SUGGESTIONS)


def _taken(rewriter: Rewriter, pairs: list[Pair]) -> list[Taken]:
    """For each post, how many of the rewriter's likeliest suggestions (greedy decoding at each of its
    likeliest positions) the simulated supporters would take, and how many it showed. Sampled
    suggestions, as members get them, made rounds look worse than the round before when they were
    better: on 60 to 120 suggestions the dice moved acceptance by about as much as a round of feedback
    did (runs in session 12: the start-to-end gain was there every time, a dip in some round in most).
    With one sample per position, replies are decoded GREEDY_REPLIES at a time: three rows a reply
    leave a decoding step mostly the cost of reading the weights, so one step for several replies is
    nearly as cheap as for one."""
    likeliest = Rewriter(
        rewriter.policy,
        rewriter.scorer,
        rewriter.embedder,
        rewriter.version,
        replace(rewriter.config, temperature=0.0, samples_per_action=1, replies_per_generation=GREEDY_REPLIES),
    )
    return [
        Taken(sum(takes_up_detail(seeker, response, s.edit.sentence) for s in found), len(found))
        for (seeker, response), found in zip(pairs, likeliest.rewrite_batch(pairs, SUGGESTIONS), strict=True)
    ]


Click = tuple[SuggestionRow | None, FeedbackAction, str | None]  # on which suggestion, what, edited text


def _tasteful(seeker: str, response: str, rows: list[SuggestionRow]) -> Click:
    """Accept the first suggestion that takes up a detail of the post; when none does, rewrite the first
    one in their own words naming a detail (the edit button), or say 'not helpful' if they find none."""
    liked = next((row for row in rows if takes_up_detail(seeker, response, row.sentence)), None)
    if liked:
        return liked, FeedbackAction.ACCEPT, None
    own = naming_a_detail(seeker, response)
    if own is None:
        return None, FeedbackAction.REJECT, None
    return rows[0], FeedbackAction.EDIT, rows[0].new_response.replace(rows[0].sentence, own)


DISMISSIVE = ("Stop complaining and deal with it.", "Nobody cares, move on.", "That is your own problem.")


def _dismissive(seeker: str, response: str, rows: list[SuggestionRow]) -> Click:
    """Feedback against empathy: every first suggestion edited into a dismissive sentence."""
    row = rows[0]
    return row, FeedbackAction.EDIT, row.new_response.replace(row.sentence, DISMISSIVE[row.id % len(DISMISSIVE)])


def _click(engine: Engine, clock: ManualClock, rewriter: Rewriter, pairs: list[Pair], first_id: int, choose) -> None:
    """Stores the suggestions as the worker would and the members' clicks as the buttons would."""
    with Session(engine) as session, session.begin():
        for offset, ((seeker, response), found) in enumerate(zip(pairs, _suggest(rewriter, pairs), strict=True)):
            reply, rows = reply_with_suggestions(
                session,
                storable(found),
                rewriter.version,
                guild_id=GUILD,
                message_id=first_id + offset,
                seeker_text=seeker,
                response_text=response,
                created_at=clock.now(),
            )
            if not rows:
                continue
            row, action, edited = choose(seeker, response, rows)
            target = suggestion(session, row.id) if row else suggested_reply(session, reply.id)
            record_feedback(session, target, reply.responder_id, action, clock.now(), "UTC", edited_text=edited)


@pytest.fixture
def loop_settings(bot_settings: Settings, bot_engine: Engine, tmp_path: Path) -> Settings:
    """Feedback rounds the size of a test: a handful of examples, taken with a larger step than the
    deployment's (a few clicks a round instead of a week's worth); the candidate is compared
    with the active version on the project's first six sample exchanges, too few to hold it to the
    deployment's tolerances (measured: two versions one small round apart differ by as much as 0.83 in
    empathy change and a third in perplexity on twelve replies; on these six a tasteful round's candidate
    has had twice the active version's perplexity), so they are wider here; a candidate trained against
    empathy still fails (its perplexity is five times the active version's)."""
    with Session(bot_engine) as session, session.begin():
        update_guild(session, GUILD, storage_defaults(bot_settings), START, {"training_opt_in": True})
    retrain = bot_settings.retrain.model_copy(
        update={
            "min_examples": 4,
            "epochs": 4,
            "learning_rate": 3e-4,
            "eval_limit": 6,
            "empathy_tolerance": 1.0,
            "perplexity_tolerance": 1.5,
            "models_dir": tmp_path,
        }
    )
    return bot_settings.model_copy(update={"retrain": retrain})


# Three rounds of rewriting, retraining and evaluating with the real models: 492 s on an AVX-512/AMX CPU; on a Xeon
# without bf16 where torch got about one core's work (2026-12-07) rounds took 8-9 min and 1,500 s ran out in round 3.
@pytest.mark.timeout(2700)
def test_acceptance_under_a_taste_the_classifier_does_not_know_rises_over_the_rounds(
    bot_engine: Engine, loop_settings: Settings, dev_csv: Path
) -> None:
    clock = ManualClock(START)
    train = _prompts(dev_csv.with_name("train.csv"), ROUNDS * PROMPTS_PER_ROUND)
    held_out = _prompts(dev_csv, HELD_OUT)
    rewriter = load_rewriter()
    taken = [_taken(rewriter, held_out)]
    print(f"before the rounds: acceptance {_rate(taken[0]):.3f}", flush=True)
    results: list[RoundResult] = []
    for round_index in range(ROUNDS):
        clock.advance(timedelta(days=7))
        batch = train[round_index * PROMPTS_PER_ROUND : (round_index + 1) * PROMPTS_PER_ROUND]
        _click(bot_engine, clock, rewriter, batch, 10_000 * (round_index + 1), _tasteful)
        clock.advance(timedelta(hours=1))
        results.append(run_round(loop_settings, bot_engine, clock, "test"))
        active = active_version(bot_engine, ModelKind.REWRITER)
        rewriter = load_rewriter(Path(active.path) if active else None, rewriter.scorer, rewriter.embedder)
        taken.append(_taken(rewriter, held_out))
        print(f"round {round_index + 1}: {results[-1].status}, acceptance {_rate(taken[-1]):.3f}", flush=True)
    rates = [round(_rate(t), 3) for t in taken]
    print("acceptance on held-out posts, before and after each round:", rates)
    print("suggestions taken per post, before and after each round:", [[t.liked for t in ts] for ts in taken])
    # Acceptance is a share of what was shown, and fewer than three are shown where sentences agree or fail the checks.
    print("suggestions taken and shown in all:", [(sum(t.liked for t in ts), sum(t.shown for t in ts)) for ts in taken])
    print("rounds:", [(r.status, r.reason) for r in results])
    assert all(r.status == "promoted" for r in results), results
    # A promoted version keeps the figures it was gated with: the next round compares against them.
    assert all(later.metrics["active"] == earlier.metrics["candidate"] for earlier, later in pairwise(results))
    # Acceptance is measured on the same HELD_OUT posts before and after, so each claim is a paired one: the
    # change in suggestions taken per post, held to one-sided 95% confidence. The gain from the first round to
    # the last must be real, and no round may lose more than chance would explain in three rounds. Until
    # session 47 the rates were compared as if from independent samples of posts and suggestions, which
    # counts the posts' own spread (a post that names a thing gets liked suggestions from every version)
    # as noise: on a Xeon without bf16 [0.184, 0.242, 0.176, 0.289] failed there, gain 0.105 against 0.127.
    # Runs of the shipped adapter: [0.197, 0.209, 0.34, 0.512] (session 32); [0.161, 0.379, 0.274, 0.342]
    # and [0.161, 0.394, 0.241, 0.354] (session 33); [0.128, 0.212, 0.227, 0.414] (session 34, three samples
    # per position) and [0.128, 0.235, 0.2, 0.264] (six); [0.128, 0.327, 0.347, 0.5] (session 36, ten per
    # position and feeling counted 1.5 times in the ranking, as deployed); [0.185, 0.231, 0.241, 0.426]
    # (session 47, AVX-512 with bf16). RWR alone, without the preference term: [0.197, 0.208, 0.21, 0.242].
    gain, margin = _paired_change(taken[0], taken[-1], ONE_SIDED_95)
    print(f"suggestions taken per post, first to last: {gain:+.3f} (margin {margin:.3f})")
    assert gain > margin, rates
    for earlier, later in pairwise(taken):
        change, fall_margin = _paired_change(earlier, later, EACH_ROUND_95)
        assert change >= -fall_margin, rates


def _paired_change(before: list[Taken], after: list[Taken], z: float) -> tuple[float, float]:
    """Mean change in suggestions taken per post, and z standard errors of it; at z = 1.645 a gain above
    the margin is one that chance alone exceeds one time in twenty."""
    changes = [later.liked - earlier.liked for earlier, later in zip(before, after, strict=True)]
    return fmean(changes), z * stdev(changes) / math.sqrt(len(changes))


@pytest.mark.timeout(900)
def test_a_candidate_trained_against_empathy_waits_for_a_moderator_and_rollback_reaches_a_running_task(
    bot_engine: Engine, loop_settings: Settings, dev_csv: Path
) -> None:
    clock = ManualClock(START)
    train = _prompts(dev_csv.with_name("train.csv"), DISMISSIVE_PROMPTS)
    task = RewriteTask(bot_engine, clock, load_rewriter, SUGGESTIONS)
    shipped = task.rewriter.version

    clock.advance(timedelta(days=7))
    _click(bot_engine, clock, task.rewriter, train, 10_000, _dismissive)
    clock.advance(timedelta(hours=1))
    # Trained harder than a tasteful round, so the harm is plain on a few exchanges and not lost in noise;
    # with the edits put in the policy's words where it has close ones: it has none for these.
    harder = loop_settings.retrain.model_copy(
        update={"epochs": 2 * loop_settings.retrain.epochs, "learning_rate": 1e-3, "edit_samples": 16}
    )
    worse = run_round(loop_settings.model_copy(update={"retrain": harder}), bot_engine, clock, "test")
    print("dismissive round:", worse.reason, worse.counts)
    assert worse.counts["edits_in_policy_words"] <= DISMISSIVE_PROMPTS // 5
    assert worse.status == "candidate" and "worse" in worse.reason
    assert worse.metrics["candidate"]["empathy_change"] < worse.metrics["active"]["empathy_change"]
    with Session(bot_engine) as session:
        statuses = dict(session.execute(select(ModelVersion.version, ModelVersion.status)).all())
    assert statuses == {worse.version: ModelStatus.CANDIDATE}
    task.refresh()
    assert active_version(bot_engine, ModelKind.REWRITER) is None and task.rewriter.version == shipped

    # A moderator promotes it anyway: the running task switches; rollback brings the shipped adapter back.
    with Session(bot_engine) as session, session.begin():
        promote(session, ModelKind.REWRITER, worse.version, clock.now())
    task.refresh()
    assert task.rewriter.version != shipped
    with Session(bot_engine) as session, session.begin():
        rollback(session, ModelKind.REWRITER, clock.now())
    task.refresh()
    assert active_version(bot_engine, ModelKind.REWRITER) is None and task.rewriter.version == shipped
