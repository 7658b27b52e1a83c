"""The buttons on a suggestion DM. Persistent (DynamicItem): the custom_id carries all the state,
so a click works after a restart; only the member the DM was for may use them."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

import discord

from bot.messages import copyable
from partner_model.safety import sentence_key
from storage.feedback import SuggestedReply, block_sentence, record_feedback, suggested_reply, suggestion
from storage.members import set_opted_out
from storage.models import FeedbackAction

if TYPE_CHECKING:
    from bot.app import PartnerBot

log = logging.getLogger(__name__)

NAMESPACE = "partner"
EDITED_TEXT_LIMIT = 4000  # a Discord message's length


async def _target(interaction: discord.Interaction, lookup: Any, target_id: int) -> SuggestedReply | None:
    """The reply or suggestion the button is about, if it still exists and belongs to the clicker."""
    bot: PartnerBot = interaction.client  # type: ignore[assignment]
    target = await bot.db(lookup, target_id)
    if target is None:
        await interaction.response.send_message(
            "This suggestion is no longer available: the reply was deleted or its data removed.", ephemeral=True
        )
        return None
    if target.recipient_id != interaction.user.id:
        await interaction.response.send_message("These suggestions were written for someone else.", ephemeral=True)
        return None
    return target


async def _record(
    interaction: discord.Interaction, target: SuggestedReply, action: FeedbackAction, **extra: str | None
) -> None:
    bot: PartnerBot = interaction.client  # type: ignore[assignment]
    config = await bot.guild_config(target.guild_id)
    user_id, now = interaction.user.id, bot.now()
    await bot.db(lambda s: record_feedback(s, target, user_id, action, now, config.time_zone, **extra))


class SuggestionButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"partner:sug:(?P<action>use|edit|flag):(?P<id>\d+)"
):
    """Use, edit or flag one suggestion."""

    STYLES: ClassVar[dict[str, discord.ButtonStyle]] = {
        "use": discord.ButtonStyle.success,
        "edit": discord.ButtonStyle.primary,
        "flag": discord.ButtonStyle.secondary,
    }

    ROWS: ClassVar[dict[str, int]] = {"use": 0, "edit": 1, "flag": 2}

    def __init__(self, action: str, suggestion_id: int, label: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or action,
                style=self.STYLES[action],
                custom_id=f"{NAMESPACE}:sug:{action}:{suggestion_id}",
                row=self.ROWS[action],
            )
        )
        self.action = action
        self.suggestion_id = suggestion_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any
    ) -> SuggestionButton:
        return cls(match["action"], int(match["id"]), item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        target = await _target(interaction, suggestion, self.suggestion_id)
        if target is None:
            return
        if self.action == "use":
            await _record(interaction, target, FeedbackAction.ACCEPT)
            await interaction.response.send_message(
                f"Thank you! Suggestion {target.rank}, ready to copy into your reply:\n"
                + copyable(target.new_response or "", 1900),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        elif self.action == "edit":
            await interaction.response.send_modal(EditModal(target))
        else:
            await interaction.response.send_modal(FlagModal(target))


class ReplyButton(
    discord.ui.DynamicItem[discord.ui.Button], template=r"partner:reply:(?P<action>reject|stop):(?P<id>\d+)"
):
    """Not helpful, or stop all suggestions."""

    def __init__(self, action: str, scored_reply_id: int) -> None:
        label = "Not helpful" if action == "reject" else "Stop suggestions"
        style = discord.ButtonStyle.secondary if action == "reject" else discord.ButtonStyle.danger
        super().__init__(
            discord.ui.Button(
                label=label, style=style, custom_id=f"{NAMESPACE}:reply:{action}:{scored_reply_id}", row=3
            )
        )
        self.action = action
        self.scored_reply_id = scored_reply_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any) -> ReplyButton:
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        target = await _target(interaction, suggested_reply, self.scored_reply_id)
        if target is None:
            return
        bot: PartnerBot = interaction.client  # type: ignore[assignment]
        if self.action == "reject":
            await _record(interaction, target, FeedbackAction.REJECT)
            await interaction.response.send_message("Thanks for telling me. That helps the suggestions improve.")
            return
        await _record(interaction, target, FeedbackAction.STOP)
        await bot.db(set_opted_out, interaction.user.id, True, bot.now())
        await interaction.response.send_message(
            "Done: no more suggestions, and your messages are no longer scored or stored. "
            "`/empathy optin` in the server turns them back on."
        )


class EditModal(discord.ui.Modal, title="Edit the suggestion"):
    def __init__(self, target: SuggestedReply) -> None:
        super().__init__()
        self.target = target
        self.text = discord.ui.TextInput(
            label="Your reply, as you would send it",
            custom_id="partner:edit:text",
            style=discord.TextStyle.paragraph,
            default=(target.new_response or "")[:EDITED_TEXT_LIMIT],
            max_length=EDITED_TEXT_LIMIT,
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        edited = self.text.value.strip()
        if not edited:
            await interaction.response.send_message("The edited text was empty, so nothing was saved.")
            return
        await _record(interaction, self.target, FeedbackAction.EDIT, edited_text=edited)
        await interaction.response.send_message(
            "Saved, thank you. Your version, ready to copy:\n" + copyable(edited, 1900),
            allowed_mentions=discord.AllowedMentions.none(),
        )


class FlagModal(discord.ui.Modal, title="Flag this suggestion"):
    def __init__(self, target: SuggestedReply) -> None:
        super().__init__()
        self.target = target
        self.reason = discord.ui.TextInput(
            label="What is wrong with it?",
            custom_id="partner:flag:reason",
            style=discord.TextStyle.paragraph,
            max_length=300,
            required=False,
        )
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: PartnerBot = interaction.client  # type: ignore[assignment]
        target = self.target
        reason = self.reason.value.strip() or "no reason given"
        sentence = target.sentence or ""
        await _record(interaction, target, FeedbackAction.FLAG, flag_reason=reason)
        await bot.db(block_sentence, sentence_key(sentence), sentence, target.guild_id, reason, bot.now())
        embed = discord.Embed(
            title="A suggestion was flagged",
            description=(
                f"Suggested sentence: “{discord.utils.escape_markdown(sentence)}”\nReason: {reason}\n"
                "It will not be suggested again."
            ),
            colour=discord.Colour.orange(),
        )
        await bot.alert(target.guild_id, embed)
        await interaction.response.send_message("Thank you. The moderators were told and I won't suggest it again.")


def suggestion_view(scored_reply_id: int, suggestion_ids: list[tuple[int, int]]) -> discord.ui.View:
    """Rows: use N, edit N, flag N, then not helpful and stop."""
    view = discord.ui.View(timeout=None)
    for action, label in (("use", "Use {}"), ("edit", "Edit {}"), ("flag", "Flag {}")):
        for suggestion_id, rank in suggestion_ids:
            view.add_item(SuggestionButton(action, suggestion_id, label.format(rank)))
    view.add_item(ReplyButton("reject", scored_reply_id))
    view.add_item(ReplyButton("stop", scored_reply_id))
    return view


def register(bot: PartnerBot) -> None:
    bot.add_dynamic_items(SuggestionButton, ReplyButton)
