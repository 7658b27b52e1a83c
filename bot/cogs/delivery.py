"""Delivery: DM each responder the suggestions a worker stored for them. Due DMs live in the
database (a worker in another process writes them), so a sender task polls for them; each DM is
claimed before sending, so none goes out twice, even across restarts. A closed DM (50007) is
recorded once; Discord 5xx and 429 are retried with backoff. Weekly digests a worker queued for
moderators go out the same way, to the guild's alert channel."""

from __future__ import annotations

import logging
from datetime import timedelta

import discord
from discord.ext import commands, tasks

from bot.app import PartnerBot
from bot.cogs.suggestion_buttons import register, suggestion_view
from bot.messages import INTRODUCTION, digest_embed, suggestion_embed
from storage.deliveries import (
    DueDelivery,
    cancel_delivery,
    claim_delivery,
    due_deliveries,
    mark_dm_closed,
    mark_failed,
    mark_retry,
    mark_sent,
)
from storage.digests import claim_digest, due_digests, finish_digest

log = logging.getLogger(__name__)

DM_CLOSED = 50007  # Discord: cannot send messages to this user
BATCH = 20  # DMs looked up per round


class DeliveryCog(commands.Cog):
    def __init__(self, bot: PartnerBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.poll.change_interval(seconds=self.bot.settings.bot.delivery_poll_seconds)
        self.poll.start()

    async def cog_unload(self) -> None:
        self.poll.cancel()

    @tasks.loop(seconds=1.0)
    async def poll(self) -> None:
        try:
            await self.deliver_due()
            await self.post_digests()
        except Exception:
            log.exception("delivery round failed; trying again next round")

    @poll.before_loop
    async def _ready(self) -> None:
        await self.bot.wait_until_ready()

    async def deliver_due(self) -> int:
        """Send every DM that is due now; how many went out."""
        sent = 0
        while True:
            due = await self.bot.db(due_deliveries, self.bot.now(), BATCH)
            for delivery in due:
                sent += await self.deliver(delivery)
            if len(due) < BATCH:
                return sent

    async def post_digests(self) -> int:
        """Post every queued weekly digest to its guild's alert channel; how many went out."""
        bot, posted = self.bot, 0
        for digest in await bot.db(due_digests, BATCH):
            if not await bot.db(claim_digest, digest.id):
                continue
            if await bot.alert(digest.guild_id, digest_embed(digest.week_start, digest.summary)):
                await bot.db(finish_digest, digest.id, bot.now())
                posted += 1
            else:
                log.warning("weekly digest of guild %s not posted: alert channel unset or unreachable", digest.guild_id)
                await bot.db(finish_digest, digest.id, bot.now(), "alert channel unset or unreachable")
        return posted

    async def deliver(self, delivery: DueDelivery) -> int:
        bot = self.bot
        if not delivery.suggestions or not delivery.response_text:
            await bot.db(cancel_delivery, delivery.id, "nothing left to send", bot.now())
            return 0
        if not await bot.db(claim_delivery, delivery.id, bot.now()):
            return 0  # someone else is sending it
        guild = bot.get_guild(delivery.guild_id)
        guild_name = guild.name if guild else "your server"
        view = suggestion_view(delivery.scored_reply_id, [(s.id, s.rank) for s in delivery.suggestions])
        content = INTRODUCTION.format(guild=discord.utils.escape_markdown(guild_name)) if delivery.introduce else None
        try:
            user = bot.get_user(delivery.recipient_id) or await bot.fetch_user(delivery.recipient_id)
            message = await user.send(
                content=content,
                embed=suggestion_embed(delivery, guild_name),
                view=view,
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.HTTPException as exc:
            await self._failed(delivery, exc)
            return 0
        config = await bot.guild_config(delivery.guild_id)
        await bot.db(mark_sent, delivery, message.channel.id, message.id, bot.now(), config.time_zone)
        log.info("suggestions for reply %s sent to %s", delivery.scored_reply_id, delivery.recipient_id)
        return 1

    async def _failed(self, delivery: DueDelivery, exc: discord.HTTPException) -> None:
        bot, now = self.bot, self.bot.now()
        error = f"{exc.status} {exc.code}: {exc.text}"
        attempts = delivery.attempts + 1
        if exc.code == DM_CLOSED:
            log.info(
                "DMs closed for %s (reply %s): recorded, not retried", delivery.recipient_id, delivery.scored_reply_id
            )
            await bot.db(mark_dm_closed, delivery.id, error, now)
        elif (exc.status >= 500 or exc.status == 429) and attempts < bot.settings.bot.delivery_max_attempts:
            wait = bot.settings.bot.delivery_retry_base_seconds * 2 ** (attempts - 1)
            log.warning("DM for reply %s failed (%s); retry in %.0f s", delivery.scored_reply_id, error, wait)
            await bot.db(mark_retry, delivery.id, error, now + timedelta(seconds=wait), now)
        else:
            log.error(
                "DM for reply %s failed for good after %s attempts: %s", delivery.scored_reply_id, attempts, error
            )
            await bot.db(mark_failed, delivery.id, error, now)


async def setup(bot: PartnerBot) -> None:
    register(bot)
    await bot.add_cog(DeliveryCog(bot))
