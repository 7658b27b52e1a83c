"""A support server on SimCord, and the steps tests repeat: members post, the worker runs, time moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import discord
from simcord.builders import ChannelHandle, GuildHandle
from simcord.env import Env
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.app import BotServices
from bot.demo import open_forum_post as forum_post
from bot.rewrite_task import RewriteTask
from partner_model.rewriter.edits import Edit, EditKind
from partner_model.rewriter.inference import Suggestion
from storage.clock import ManualClock
from storage.models import Delivery, Feedback, ScoredReply
from storage.replies import REWRITE_TASK
from storage.worker import Worker

SEEKER_POST = (
    "I've been feeling really alone since I moved to a new city for work. "
    "I don't know anyone and the weekends are the worst."
)
LOW_REPLY = "Just go out more and join a club."
OTHER_LOW_REPLY = "You should download a few apps and go to events."
EMPATHIC_REPLY = (
    "I'm so sorry you're feeling this lonely, that sounds really hard. Moving somewhere new can be so "
    "isolating. What do you usually do on weekends?"
)
CRISIS_POST = "I can't do this anymore. I keep thinking about killing myself and I have the pills here."


@dataclass
class World:
    env: Env
    guild: GuildHandle
    forum: ChannelHandle
    text: ChannelHandle
    alerts: ChannelHandle
    moderator: object
    seeker: object
    responder: object
    listener: object  # has the exempt "Trained listener" role
    listener_role: object


async def build_world(env: Env, shadow: bool = False) -> World:
    guild = env.create_guild(name="Peer Support")
    forum = guild.create_forum_channel("support-forum")
    text = guild.create_text_channel("support-chat")
    alerts = guild.create_text_channel("mod-alerts")
    mods = guild.create_role("Mods", permissions=discord.Permissions(manage_guild=True))
    listener_role = guild.create_role("Trained listener")
    moderator = guild.add_member(env.create_user("mod"), roles=[mods])
    seeker = guild.add_member(env.create_user("sam"))
    responder = guild.add_member(env.create_user("riley"))
    listener = guild.add_member(env.create_user("lee"), roles=[listener_role])
    result = await moderator.slash(text, "empathy setup", watch=forum, alert_channel=alerts, shadow=shadow)
    assert result.ephemeral, result
    await moderator.slash(text, "empathy setup", watch=text, exempt_role=listener_role)
    return World(env, guild, forum, text, alerts, moderator, seeker, responder, listener, listener_role)


class ScriptedSuggestions:
    """Stands in for the model only, in bot tests: two fixed suggestions per reply. The real
    RewriteTask stores them and queues the DM (one test runs the real rewriter end to end)."""

    version = "test"

    def rewrite_batch(self, pairs: list[tuple[str, str]], n: int, blocked: set[str]) -> list[list[Suggestion]]:
        return [
            [
                Suggestion(Edit(EditKind.INSERT, 0, "That sounds so lonely."), f"That sounds so lonely. {response}"),
                Suggestion(Edit(EditKind.INSERT, 1, "How are you holding up?"), f"{response} How are you holding up?"),
            ]
            for _seeker, response in pairs
        ]


def run_worker(services: BotServices) -> int:
    task = RewriteTask(services.engine, services.clock, lambda _path: ScriptedSuggestions(), 3)
    worker = Worker(services.queue, {REWRITE_TASK: task}, "test-worker", batch_size=8)
    done = 0
    while (n := worker.run_once()) > 0:
        done += n
    return done


# SimCord time needed for the delivery loop to run a few rounds; moving it by hours would run
# thousands of rounds, so longer moves go to the bot's clock (caps, cooldowns, retries) only.
DELIVERY_ROUNDS_SECONDS = 3.0


async def advance(env: Env, clock: ManualClock, seconds: float) -> None:
    """Move the bot's clock, then let the delivery loop run."""
    clock.advance(timedelta(seconds=seconds))
    await env.advance_time(min(seconds, DELIVERY_ROUNDS_SECONDS))


def replies(services: BotServices) -> list[ScoredReply]:
    with Session(services.engine, expire_on_commit=False) as session:
        return list(session.scalars(select(ScoredReply).order_by(ScoredReply.id)))


def deliveries(services: BotServices) -> list[Delivery]:
    with Session(services.engine, expire_on_commit=False) as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def dms(world: World, member: object) -> list[discord.Message]:
    """The suggestion DMs the bot sent this member (not its answers to button clicks)."""
    return [
        m
        for m in member.user.dm_channel.history()
        if m.author.bot and m.embeds and m.embeds[0].title == "A suggestion for your reply"
    ]


def feedback_rows(services: BotServices) -> list[Feedback]:
    with Session(services.engine, expire_on_commit=False) as session:
        return list(session.scalars(select(Feedback).order_by(Feedback.id)))


async def suggestion_dm(
    world: World, services: BotServices, clock: ManualClock, reply: str = LOW_REPLY
) -> discord.Message:
    """Seeker posts in the forum, the responder replies with little empathy, the worker runs, the DM arrives."""
    thread = await forum_post(world.env, world.forum, world.seeker, "so lonely", SEEKER_POST)
    await world.responder.send(thread, reply)
    run_worker(services)
    await advance(world.env, clock, 2)
    return dms(world, world.responder)[-1]
