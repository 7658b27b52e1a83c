"""The offline demo: support exchanges replayed through the whole pipeline on a SimCord-simulated
server with the real models. Each seeker opens a forum post, a supporter answers; the real bot
scores and decides, the real rewrite task makes suggestions, the bot DMs them, and the supporter
clicks "Use 1"."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from sqlalchemy.orm import Session

from bot.app import BotServices, create_bot
from bot.settings import Settings
from storage.replies import reply_by_message
from storage.worker import Worker

SETTLE_TIMEOUT_S = 120.0  # scoring on a busy CPU can take a while; SimCord waits this long at most
DISCORD_MESSAGE_LIMIT = 2000  # what a member without Nitro may post


@dataclass(frozen=True)
class DemoLine:
    """What the demo shows about one exchange."""

    seeker: str
    response: str
    decision: str
    reason: str
    levels: dict[str, int] | None
    dm: str | None
    click: str | None


def render_dm(message: discord.Message) -> str:
    """A DM as terminal text: intro, embed, fields, and the buttons' labels."""
    parts = [message.content] if message.content else []
    for embed in message.embeds:
        parts += [f"## {embed.title}", embed.description or ""]
        for field in embed.fields:
            parts += [f"### {field.name}", field.value or ""]
    labels = [str(child.label) for row in message.components for child in getattr(row, "children", [])]
    if labels:
        parts.append("[" + "] [".join(labels) + "]")
    return "\n".join(parts)


async def open_forum_post(env: Any, forum: Any, author: Any, title: str, content: str) -> Any:
    """A member opens a forum post. SimCord's actors cannot create threads, so the post is built in its
    backend the way Discord makes one: the starter message's id is the thread's id."""
    from simcord.builders import ChannelHandle

    backend = env.backend
    starter = backend.prepare_message(forum.id, author.id, content)
    thread = backend.create_thread(forum.id, title, author.id, message_id=starter.id, broadcast=False)
    starter.channel_id = thread.id
    backend.commit_message(starter, broadcast=False)
    backend.announce_thread_create(thread)
    backend.announce_message_create(starter)
    await env.settle()
    return ChannelHandle(env, forum.guild, thread)


async def support_server(env: Any, name: str) -> tuple[Any, Any]:
    """A simulated server whose moderator set the bot up to watch its support forum: (guild, forum)."""
    guild = env.create_guild(name=name)
    general = guild.create_text_channel("general")
    forum = guild.create_forum_channel("support")
    mods = guild.create_role("Moderators", permissions=discord.Permissions(manage_guild=True))
    moderator = guild.add_member(env.create_user("moderator"), roles=[mods])
    await moderator.slash(general, "empathy setup", watch=forum, alert_channel=general)
    return guild, forum


def drain(worker: Worker) -> int:
    done = 0
    while (claimed := worker.run_once()) > 0:
        done += claimed
    return done


async def replay(
    settings: Settings,
    services: BotServices,
    worker: Worker,
    exchanges: list[tuple[str, str]],
    on_line: Callable[[DemoLine], None],
) -> Counter[str]:
    """Replay the exchanges; counts of decisions, DMs and clicks."""
    import simcord

    counts: Counter[str] = Counter()
    async with simcord.run(create_bot(settings, services), settle_timeout=SETTLE_TIMEOUT_S) as env:
        guild, forum = await support_server(env, "Peer Support (demo)")
        for number, (seeker_text, response_text) in enumerate(exchanges, start=1):
            seeker = guild.add_member(env.create_user(f"seeker{number}"))
            supporter = guild.add_member(env.create_user(f"supporter{number}"))
            thread = await open_forum_post(
                env, forum, seeker, f"Post {number}", seeker_text[:DISCORD_MESSAGE_LIMIT] or "(no text)"
            )
            sent = await supporter.send(thread, response_text[:DISCORD_MESSAGE_LIMIT])
            await asyncio.to_thread(drain, worker)
            await env.advance_time(settings.bot.delivery_poll_seconds * 2)
            with Session(services.engine) as session:
                reply = reply_by_message(session, sent.id)
            dms = [m for m in supporter.user.dm_channel.history() if m.author.bot and m.embeds]
            click = None
            if dms:
                result = await supporter.user.click(dms[-1], label="Use 1")
                click = result.response.content if result.response else None
                counts["dm"] += 1
                counts["clicked"] += click is not None
            decision = reply.decision if reply else "not stored"
            counts[decision] += 1
            levels = reply.levels if reply and reply.total is not None else None
            on_line(
                DemoLine(
                    seeker_text,
                    response_text,
                    decision,
                    reply.decision_reason if reply else "",
                    levels,
                    render_dm(dms[-1]) if dms else None,
                    click,
                )
            )
    return counts


def summary(counts: Counter[str], total: int) -> str:
    """One line of counts for the end of the demo."""
    return (
        f"demo: {total} replies; {counts['queued']} low in empathy -> {counts['dm']} DMs sent, {counts['clicked']} "
        f"suggestions used; {counts['above_threshold']} empathic enough; {counts['safety']} held for moderators; "
        f"{counts['skipped']} skipped"
    )
