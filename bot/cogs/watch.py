"""Watching: pair each reply in a watched channel with its seeker post, score it off the event loop,
decide, store the decision, queue a rewrite. Also edits (re-score, no second DM), deletions (purge,
cancel) and leaving a guild (purge everything)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord
from discord.ext import commands
from sqlalchemy.orm import Session

from bot.app import PartnerBot, Score
from bot.deciding import DecisionFacts, decide, minutes_between, start_of_day
from partner_model.judgeable import skip_reason
from partner_model.safety import crisis_signals, harmful_reasons
from storage.guilds import GuildConfig, purge_guild
from storage.members import is_opted_out
from storage.models import Decision
from storage.replies import (
    REWRITE_TASK,
    ReplyRecord,
    last_queued_at,
    purge_message,
    queued_since,
    record_reply,
    reply_by_message,
    rescore_reply,
    rewrite_job_key,
    seeker_already_flagged,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pairing:
    """A response and the seeker post it answers, in a watched channel (thread_id set inside threads)."""

    response: discord.Message
    seeker: discord.Message
    channel_id: int
    thread_id: int | None


@dataclass(frozen=True)
class Outcome:
    reply_id: int
    decision: Decision
    reason: str
    alert: bool


class WatchCog(commands.Cog):
    def __init__(self, bot: PartnerBot) -> None:
        self.bot = bot

    async def _seeker_post(self, message: discord.Message, config: GuildConfig) -> Pairing | None:
        channel = message.channel
        if isinstance(channel, discord.Thread):
            if channel.parent_id not in config.watched or message.id == channel.id:
                return None
            if message.author.id == channel.owner_id:
                return None  # the seeker writing in their own thread: not a reply
            starter = await self._thread_starter(channel)
            return starter and Pairing(message, starter, channel.parent_id, channel.id)
        if channel.id not in config.watched or message.reference is None or message.reference.message_id is None:
            return None
        resolved = message.reference.resolved
        if isinstance(resolved, discord.Message):
            return Pairing(message, resolved, channel.id, None)
        try:
            seeker = await channel.fetch_message(message.reference.message_id)
        except discord.HTTPException:
            return None  # the seeker post is gone
        return Pairing(message, seeker, channel.id, None)

    async def _thread_starter(self, thread: discord.Thread) -> discord.Message | None:
        """The message that opened the thread: inside a forum post, or in the parent text channel."""
        if thread.starter_message is not None:
            return thread.starter_message
        places: list[discord.abc.Messageable] = [thread]
        if isinstance(thread.parent, discord.TextChannel):
            places.append(thread.parent)
        for place in places:
            try:
                return await place.fetch_message(thread.id)
            except discord.HTTPException:
                continue
        return None

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        if message.guild is None or message.author.bot or message.webhook_id is not None:
            return
        config = await self.bot.guild_config(message.guild.id)
        if not config.watched:
            return
        pairing = await self._seeker_post(message, config)
        if pairing is None:
            return
        await self.handle(pairing, config)

    async def handle(self, pairing: Pairing, config: GuildConfig) -> Outcome | None:
        """Skip, or score and decide; store it all, queue a rewrite, tell moderators when needed."""
        response, seeker = pairing.response, pairing.seeker
        opted_out = await self.bot.db(
            lambda s: is_opted_out(s, response.author.id) or is_opted_out(s, seeker.author.id)
        )
        if opted_out:
            return None  # opted-out members are neither scored nor stored
        skip = self._skip(response, seeker)
        score: Score | None = None
        if skip is None:
            score = (await self.bot.score([(seeker.content, response.content)]))[0]
        outcome = await self.bot.db(self._record, pairing, config, skip, score)
        log.info("reply %s: %s (%s)", response.id, outcome.decision, outcome.reason)
        if outcome.alert:
            await self._alert(pairing, outcome)
        return outcome

    def _skip(self, response: discord.Message, seeker: discord.Message) -> str | None:
        if seeker.author.id == response.author.id:
            return "self reply"
        if seeker.author.bot:
            return "the seeker post is by a bot"
        settings = self.bot.settings.bot
        if not response.content.strip():
            return "no text (attachments or embeds only)" if response.attachments or response.embeds else "no text"
        reason = skip_reason(response.content, settings.min_words, settings.other_language_confidence)
        if reason is None and not seeker.content.strip():
            reason = "the seeker post has no text"
        return reason

    def _record(
        self, session: Session, pairing: Pairing, config: GuildConfig, skip: str | None, score: Score | None
    ) -> Outcome:
        response, seeker = pairing.response, pairing.seeker
        now = self.bot.now()
        base = dict(
            guild_id=config.guild_id,
            channel_id=pairing.channel_id,
            thread_id=pairing.thread_id,
            message_id=response.id,
            seeker_message_id=seeker.id,
            responder_id=response.author.id,
            seeker_id=seeker.author.id,
        )
        if reply_by_message(session, response.id) is not None:
            return Outcome(0, Decision.SKIPPED, "already scored", False)
        if skip is not None or score is None:
            reason = skip or "not scored"
            reply_id = record_reply(session, ReplyRecord(**base, decision=Decision.SKIPPED, reason=reason), now, "UTC")
            return Outcome(reply_id, Decision.SKIPPED, reason, False)
        threshold = config.threshold_for(pairing.channel_id)
        day_start = start_of_day(now, config.time_zone)
        role_ids = {role.id for role in getattr(response.author, "roles", [])}
        facts = DecisionFacts(
            total=score.total,
            threshold=threshold,
            crisis_signals=crisis_signals(seeker.content),
            harmful_reasons=harmful_reasons(response.content),
            exempt=bool(role_ids & config.exempt_roles),
            shadow_mode=config.shadow_mode,
            dms_today=queued_since(session, response.author.id, day_start),
            daily_cap=config.dm_daily_cap,
            minutes_since_last_dm=minutes_between(last_queued_at(session, response.author.id), now),
            cooldown_minutes=config.dm_cooldown_minutes,
            dm_in_conversation_today=queued_since(
                session, response.author.id, day_start, (pairing.channel_id, pairing.thread_id)
            )
            > 0,
        )
        decision, reason = decide(facts)
        alert = decision is Decision.SAFETY and (
            bool(facts.harmful_reasons) or not seeker_already_flagged(session, seeker.id)
        )
        record = ReplyRecord(
            **base,
            decision=decision,
            reason=reason,
            levels=dict(score.levels),
            details=score.to_dict(),
            model_version=self.bot.services.scorer.version,
            response_text=response.content,
            seeker_text=seeker.content,
            text_purge_at=now + timedelta(days=config.retention_days),
            low_empathy=score.total <= threshold,
        )
        reply_id = record_reply(session, record, now, config.time_zone)
        if decision is Decision.QUEUED:
            self.bot.services.queue.enqueue(
                REWRITE_TASK, {"scored_reply_id": reply_id}, unique_key=rewrite_job_key(reply_id), session=session
            )
        return Outcome(reply_id, decision, reason, alert)

    async def _alert(self, pairing: Pairing, outcome: Outcome) -> None:
        crisis = outcome.reason.startswith("crisis")
        if crisis and not self.bot.settings.bot.alert_on_crisis:
            return
        guild_id = pairing.response.guild.id if pairing.response.guild else 0
        target = pairing.seeker if crisis else pairing.response
        embed = discord.Embed(
            title="Crisis signals in a seeker post" if crisis else "A reply needs a moderator",
            description=(
                f"{outcome.reason}.\n[Open the message]({target.jump_url})\n"
                + (
                    "No automated suggestions are made in this conversation; a person should check in."
                    if crisis
                    else "No coaching DM was sent: this is a moderation matter."
                )
            ),
            colour=discord.Colour.red(),
        )
        await self.bot.alert(guild_id, embed)

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        content = payload.data.get("content")
        if payload.guild_id is None or content is None:
            return
        reply = await self.bot.db(reply_by_message, payload.message_id)
        if reply is None or reply.total is None or reply.seeker_text is None or not content.strip():
            return
        score = (await self.bot.score([(reply.seeker_text, content)]))[0]
        config = await self.bot.guild_config(payload.guild_id)

        def update(session: Session) -> None:
            row = reply_by_message(session, payload.message_id)
            if row is not None:
                rescore_reply(
                    session, row, dict(score.levels), score.to_dict(), content, self.bot.now(), config.time_zone
                )

        await self.bot.db(update)
        log.info("edited reply %s re-scored: total %s", payload.message_id, score.total)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._purge([payload.message_id])

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        await self._purge(list(payload.message_ids))

    async def _purge(self, message_ids: list[int]) -> None:
        now: datetime = self.bot.now()
        for message_id in message_ids:
            replies, cancelled = await self.bot.db(purge_message, message_id, now)
            if replies:
                log.info("message %s deleted: %s replies purged, %s DMs cancelled", message_id, replies, cancelled)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        counts = await self.bot.db(purge_guild, guild.id, self.bot.now())
        log.info("left guild %s: purged %s", guild.id, counts)


async def setup(bot: PartnerBot) -> None:
    await bot.add_cog(WatchCog(bot))
