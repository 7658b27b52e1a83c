"""`/empathy ...`: moderators' setup, status and trends; every member's opt-out, opt-in, my-data,
forget-me and check; and the "Check empathy" message menu. Replies are ephemeral: what a member
does about their own data is nobody else's business."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import PartnerBot
from bot.charts import trends_png
from bot.messages import missing_in_words, rationale_words, score_lines, suggestion_field
from partner_model.judgeable import skip_reason
from partner_model.safety import crisis_signals
from storage.checks import CHECK_TASK, drop_check, take_check_result
from storage.guilds import GuildConfig, Watched, update_guild
from storage.members import forget_member, member_data, set_opted_out
from storage.model_versions import active_version
from storage.models import ModelKind
from storage.trends import weekly_trends

log = logging.getLogger(__name__)

WatchableChannel = discord.TextChannel | discord.ForumChannel
CHECK_TEXT_LIMIT = 4000
CHECK_POLL_SECONDS = 0.25  # how often /empathy check looks for the worker's answer

NOTICE = (
    "**About partner-bot in this channel.** Replies here are read by partner-bot, which scores how "
    "empathic they are. If a reply could be warmer, its author may get a private suggestion. Nothing "
    "is ever posted for anyone. `/empathy optout` stops it for you; `/empathy my-data` shows what is kept."
)

CRISIS_NOTE = (
    "This post mentions thoughts of suicide, self-harm or danger. Please make sure a person responds, "
    "and point to local emergency services or a crisis line. No automated suggestions are made here."
)


def is_moderator(member: discord.Member | discord.User, config: GuildConfig) -> bool:
    if not isinstance(member, discord.Member):
        return False
    if member.guild_permissions.manage_guild:
        return True
    return config.moderator_role_id is not None and any(r.id == config.moderator_role_id for r in member.roles)


def describe(config: GuildConfig, guild: discord.Guild) -> str:
    def channel(cid: int) -> str:
        return f"<#{cid}>" if guild.get_channel(cid) else f"(deleted channel {cid})"

    watched = (
        ", ".join(
            channel(w.channel_id) + (f" (threshold {w.threshold_override})" if w.threshold_override is not None else "")
            for w in config.watched.values()
        )
        or "none yet"
    )
    roles = ", ".join(f"<@&{r}>" for r in sorted(config.exempt_roles)) or "none"
    moderators = f"<@&{config.moderator_role_id}>" if config.moderator_role_id else "Manage Server only"
    return "\n".join(
        [
            f"Watched channels: {watched}",
            f"Low-empathy threshold: total ≤ {config.low_empathy_threshold} of 6",
            f"Exempt roles: {roles}",
            f"Shadow mode: {'on (score only, no DMs)' if config.shadow_mode else 'off'}",
            f"Moderator role: {moderators}",
            f"Alert channel: {channel(config.alert_channel_id) if config.alert_channel_id else 'none'}",
            f"Texts kept for: {config.retention_days} days (scores are kept for trends)",
            f"Feedback may train the shared rewriter: {'yes' if config.training_opt_in else 'no'}",
            f"Weekly digest to the alert channel: {'on' if config.weekly_digest else 'off'}",
            f"Suggestion DMs per member: at most {config.dm_daily_cap} a day, "
            f"{config.dm_cooldown_minutes} min apart, one per conversation a day",
        ]
    )


class EmpathyCommands(commands.GroupCog, group_name="empathy", group_description="Kinder replies in support channels"):
    def __init__(self, bot: PartnerBot) -> None:
        self.bot = bot
        self.check_menu = app_commands.ContextMenu(name="Check empathy", callback=self.check_message)
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.check_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.check_menu.name, type=self.check_menu.type)

    async def _moderator_config(self, interaction: discord.Interaction) -> GuildConfig | None:
        """The guild's config when the user may change it; otherwise tell them why not."""
        if interaction.guild is None:
            await interaction.response.send_message("This command works in a server.", ephemeral=True)
            return None
        config = await self.bot.guild_config(interaction.guild.id)
        if not is_moderator(interaction.user, config):
            await interaction.response.send_message(
                "Only moderators can do this: you need Manage Server or the moderator role.", ephemeral=True
            )
            return None
        return config

    @app_commands.command(name="setup", description="Choose watched channels and how suggestions work (moderators).")
    @app_commands.guild_only()
    @app_commands.describe(
        watch="a text or forum channel to watch",
        unwatch="stop watching this channel",
        channel_threshold="threshold for the channel given in watch (0-6; -1 clears the override)",
        threshold="replies with total empathy at or below this get suggestions (0-6)",
        exempt_role="members with this role are scored but never get suggestions",
        unexempt_role="remove a role from the exempt roles",
        shadow="score only and send no DMs (to calibrate)",
        moderator_role="a role that may run the moderator commands besides Manage Server",
        alert_channel="where crisis posts, harmful replies and flags are reported",
        retention_days="days to keep message texts (scores stay for trends)",
        training_opt_in="may this server's feedback train the shared rewriter? (off by default)",
        weekly_digest="post last week's empathy figures to the alert channel every week",
        post_notice="post a short notice in each watched text channel",
    )
    async def setup_command(
        self,
        interaction: discord.Interaction,
        watch: WatchableChannel | None = None,
        unwatch: WatchableChannel | None = None,
        channel_threshold: app_commands.Range[int, -1, 6] | None = None,
        threshold: app_commands.Range[int, 0, 6] | None = None,
        exempt_role: discord.Role | None = None,
        unexempt_role: discord.Role | None = None,
        shadow: bool | None = None,
        moderator_role: discord.Role | None = None,
        alert_channel: discord.TextChannel | None = None,
        retention_days: app_commands.Range[int, 1, 3650] | None = None,
        training_opt_in: bool | None = None,
        weekly_digest: bool | None = None,
        post_notice: bool = False,
    ) -> None:
        config = await self._moderator_config(interaction)
        if config is None or interaction.guild is None:
            return
        if channel_threshold is not None and watch is None:
            await interaction.response.send_message(
                "channel_threshold applies to the channel given in `watch`: give both.", ephemeral=True
            )
            return
        changes: dict[str, Any] = {}
        for name, value in (
            ("low_empathy_threshold", threshold),
            ("shadow_mode", shadow),
            ("retention_days", retention_days),
            ("training_opt_in", training_opt_in),
            ("weekly_digest", weekly_digest),
            ("moderator_role_id", moderator_role.id if moderator_role else None),
            ("alert_channel_id", alert_channel.id if alert_channel else None),
        ):
            if value is not None:
                changes[name] = value
        watched = dict(config.watched)
        if watch is not None:
            previous = watched.get(watch.id)
            override = previous.threshold_override if previous else None
            if channel_threshold is not None:
                override = None if channel_threshold < 0 else channel_threshold
            kind = "forum" if isinstance(watch, discord.ForumChannel) else "text"
            watched[watch.id] = Watched(watch.id, kind, override)
        if unwatch is not None:
            watched.pop(unwatch.id, None)
        exempt = set(config.exempt_roles)
        if exempt_role is not None:
            exempt.add(exempt_role.id)
        if unexempt_role is not None:
            exempt.discard(unexempt_role.id)
        guild_id = interaction.guild.id
        await self.bot.db(
            lambda s: update_guild(
                s, guild_id, self.bot.guild_defaults, self.bot.now(), changes, list(watched.values()), list(exempt)
            )
        )
        config = await self.bot.guild_config(guild_id)
        notices = await self._post_notices(interaction.guild, config) if post_notice else 0
        log.info("guild %s set up by %s: %s", guild_id, interaction.user.id, changes)
        summary = describe(config, interaction.guild)
        if post_notice:
            summary += f"\nNotice posted in {notices} channel(s)."
        embed = discord.Embed(title="partner-bot settings", description=summary, colour=discord.Colour.teal())
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _post_notices(self, guild: discord.Guild, config: GuildConfig) -> int:
        posted = 0
        for watched in config.watched.values():
            channel = guild.get_channel(watched.channel_id)
            if isinstance(channel, discord.TextChannel):
                try:
                    await channel.send(NOTICE, allowed_mentions=discord.AllowedMentions.none())
                    posted += 1
                except discord.HTTPException as exc:
                    log.warning("could not post the notice in %s: %s", channel.id, exc)
        return posted

    @app_commands.command(name="status", description="What is watched, the queue, the model versions.")
    @app_commands.guild_only()
    async def status_command(self, interaction: discord.Interaction) -> None:
        config = await self._moderator_config(interaction)
        if config is None or interaction.guild is None:
            return
        stats = await asyncio.to_thread(self.bot.services.queue.stats)
        rewriter = await asyncio.to_thread(active_version, self.bot.services.engine, ModelKind.REWRITER)
        lines = [
            describe(config, interaction.guild),
            "",
            f"Queue: {stats.queued} waiting, {stats.running} being rewritten, {stats.dead} failed for good"
            + (f"; oldest waiting {stats.oldest_queued_age_s:.0f} s" if stats.queued else ""),
            f"Classifier: {self.bot.services.scorer.version}",
            f"Rewriter: {rewriter.version if rewriter else 'the shipped adapter'}",
        ]
        embed = discord.Embed(title="partner-bot status", description="\n".join(lines), colour=discord.Colour.teal())
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command(name="trends", description="Weekly empathy trends of the watched channels (moderators).")
    @app_commands.guild_only()
    async def trends_command(self, interaction: discord.Interaction) -> None:
        config = await self._moderator_config(interaction)
        if config is None or interaction.guild is None:
            return
        guild = interaction.guild
        weeks = await self.bot.db(weekly_trends, guild.id)
        if not weeks:
            await interaction.response.send_message("No replies scored yet, so no trends to show.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        names = {
            w.channel_id: f"#{c.name}" if (c := guild.get_channel(w.channel_id)) else str(w.channel_id) for w in weeks
        }
        png = await asyncio.to_thread(trends_png, weeks, names, f"Empathy trends: {guild.name}")
        latest = weeks[-1]
        await interaction.followup.send(
            f"{len({w.week_start for w in weeks})} week(s); latest week {latest.week_start}: "
            f"{sum(w.replies for w in weeks if w.week_start == latest.week_start)} replies scored.",
            file=discord.File(io.BytesIO(png), filename="empathy-trends.png"),
            ephemeral=True,
        )

    @app_commands.command(name="optout", description="Stop suggestions; your messages are no longer scored or stored.")
    async def optout_command(self, interaction: discord.Interaction) -> None:
        await self.bot.db(set_opted_out, interaction.user.id, True, self.bot.now())
        await interaction.response.send_message(
            "You are opted out: no suggestions, and your messages are neither scored nor stored. "
            "`/empathy forget-me` deletes what was kept before; `/empathy optin` turns it back on.",
            ephemeral=True,
        )

    @app_commands.command(name="optin", description="Receive suggestions again.")
    async def optin_command(self, interaction: discord.Interaction) -> None:
        await self.bot.db(set_opted_out, interaction.user.id, False, self.bot.now())
        await interaction.response.send_message(
            "Welcome back: your replies in watched channels are scored again and may get private suggestions.",
            ephemeral=True,
        )

    @app_commands.command(name="my-data", description="See what partner-bot stores about you.")
    async def my_data_command(self, interaction: discord.Interaction) -> None:
        data = await self.bot.db(member_data, interaction.user.id)
        recent = "\n".join(
            f"• {when:%Y-%m-%d %H:%M} UTC: total {total if total is not None else '-'} ({decision})"
            for when, total, decision in data.recent
        )
        text = (
            f"Opted out: {'yes' if data.opted_out else 'no'}\n"
            f"Your replies scored: {data.replies_scored} (texts still kept for {data.replies_with_text})\n"
            f"Replies to your posts that were scored: {data.replies_as_seeker}\n"
            f"Replies that got suggestions: {data.suggestions_received}\n"
            f"Buttons you clicked: {data.feedback_given}\n" + (f"Latest:\n{recent}\n" if recent else "") + "\n"
            "Texts are deleted after the server's retention period; `/empathy forget-me` deletes everything now."
        )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="forget-me", description="Delete everything partner-bot stores about you.")
    async def forget_me_command(self, interaction: discord.Interaction) -> None:
        counts = await self.bot.db(forget_member, interaction.user.id, self.bot.now())
        log.info("forget-me for a member: %s", counts)
        text = (
            f"Deleted: {counts['replies']} scored replies (yours, and replies to your posts), "
            f"{counts['feedback']} button clicks, {counts['jobs_cancelled']} pending suggestion jobs."
        )
        if counts["opt_out_kept"]:
            text += " Your opt-out is kept, so you stay unscored."
        text += " A rewriter already trained on earlier feedback cannot unlearn it; future training will not use it."
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="check", description="Check a draft reply before you post it (only you see it).")
    async def check_command(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(CheckModal(self))

    async def check_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        """Message menu: score one of your own replies against the post it answers."""
        if message.author.id != interaction.user.id:
            await interaction.response.send_message("You can check your own messages only.", ephemeral=True)
            return
        seeker = ""
        reference = message.reference.resolved if message.reference else None
        if isinstance(reference, discord.Message):
            seeker = reference.content
        elif isinstance(message.channel, discord.Thread) and message.channel.starter_message is not None:
            seeker = message.channel.starter_message.content
        await self.report(interaction, seeker, message.content)

    async def report(self, interaction: discord.Interaction, seeker: str, draft: str) -> None:
        """Ephemeral scores for a draft; nothing about it is stored."""
        settings = self.bot.settings.bot
        reason = skip_reason(draft, settings.min_words, settings.other_language_confidence)
        if reason is not None:
            await interaction.response.send_message(f"I can't judge this text: {reason}.", ephemeral=True)
            return
        if crisis_signals(seeker):
            await interaction.response.send_message(CRISIS_NOTE, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        score = (await self.bot.score([(seeker[:CHECK_TEXT_LIMIT], draft[:CHECK_TEXT_LIMIT])]))[0]
        lines = [score_lines(score.levels), ""]
        missing = missing_in_words(score.levels)
        lines += (
            ["What could make it warmer:", *(f"• {m}" for m in missing)] if missing else ["It reads as very empathic."]
        )
        found = rationale_words(draft, score.to_dict())
        if found:
            lines += ["", "Empathic parts: " + "; ".join(found)]
        embed = discord.Embed(title="Your draft", description="\n".join(lines)[:4096], colour=discord.Colour.teal())
        if missing:
            await self._add_suggestions(embed, seeker[:CHECK_TEXT_LIMIT], draft[:CHECK_TEXT_LIMIT])
        await interaction.followup.send(embed=embed, ephemeral=True)

    async def _add_suggestions(self, embed: discord.Embed, seeker: str, draft: str) -> None:
        """Ask a worker for suggestions through the queue; the job (with the draft) is deleted as soon
        as its answer is read, or when the wait is over."""
        queue = self.bot.services.queue
        job_id = await asyncio.to_thread(queue.enqueue, CHECK_TASK, {"seeker": seeker, "draft": draft})
        deadline = time.monotonic() + self.bot.settings.bot.check_wait_seconds
        result = None
        while time.monotonic() < deadline:
            result = await self.bot.db(take_check_result, job_id)
            if result.finished:
                break
            await asyncio.sleep(CHECK_POLL_SECONDS)
        if result is None or not result.finished:
            await self.bot.db(drop_check, job_id)
            embed.add_field(name="Suggestions", value="The rewriter is busy right now; try again in a minute.")
            return
        if not result.suggestions:
            embed.add_field(name="Suggestions", value="No suggestion passed the safety filter this time.")
        room = (6000 - len(embed.description or "")) // max(1, len(result.suggestions))
        for rank, s in enumerate(result.suggestions, start=1):
            name, value = suggestion_field(rank, s["kind"], s["position"], s["sentence"], s["new_response"], room)
            embed.add_field(name=name, value=value, inline=False)


class CheckModal(discord.ui.Modal, title="Check a draft reply"):
    def __init__(self, cog: EmpathyCommands) -> None:
        super().__init__()
        self.cog = cog
        self.seeker = discord.ui.TextInput(
            label="The post you are answering",
            custom_id="partner:check:seeker",
            style=discord.TextStyle.paragraph,
            max_length=CHECK_TEXT_LIMIT,
        )
        self.draft = discord.ui.TextInput(
            label="Your draft reply",
            custom_id="partner:check:draft",
            style=discord.TextStyle.paragraph,
            max_length=CHECK_TEXT_LIMIT,
        )
        self.add_item(self.seeker)
        self.add_item(self.draft)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self.cog.report(interaction, self.seeker.value, self.draft.value)


async def setup(bot: PartnerBot) -> None:
    await bot.add_cog(EmpathyCommands(bot))
