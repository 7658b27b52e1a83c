"""What the bot says: the suggestion DM, the first-DM introduction, score summaries, the moderators'
weekly digest. Texts written for people; no member content ever lands in a place where it could ping
anyone."""

from __future__ import annotations

from datetime import date
from typing import Any

import discord

from storage.deliveries import DueDelivery

# Discord limits: embed description 4096, field value 1024, whole embed 6000 characters.
FIELD_LIMIT = 1024
DESCRIPTION_LIMIT = 4096

MECHANISM_WORDS = {
    "ER": ("Emotional reactions", "say how their post makes you feel: warmth, compassion, concern"),
    "IP": ("Interpretations", "show that you understand what they feel or are going through"),
    "EX": ("Explorations", "ask about what they are going through, to learn more"),
}

INTRODUCTION = (
    "Hi! I'm **partner-bot**. The moderators of **{guild}** turned me on in their support channels: "
    "I read replies there and, now and then, privately suggest a small change that can make a reply "
    "feel warmer to the person asking for help. Only you see this. Nothing is posted for you.\n"
    "Don't want these? Press **Stop suggestions** below or use `/empathy optout` in the server; "
    "`/empathy my-data` shows what is stored about you and `/empathy forget-me` deletes it."
)


def jump_url(guild_id: int, channel_id: int, message_id: int) -> str:
    return f"https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


def clip(text: str, limit: int) -> str:
    """Shorten to the limit with an ellipsis.

    >>> clip("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def copyable(text: str, limit: int) -> str:
    """A code block people can copy from; backtick runs in the text cannot close it early."""
    safe = text.replace("```", "ʼʼʼ")
    return f"```\n{clip(safe, limit - 8)}\n```"


def missing_in_words(levels: dict[str, int]) -> list[str]:
    """The mechanisms at level 0 (missing) or 1 (could be stronger), in plain words."""
    lines = []
    for mechanism, (name, advice) in MECHANISM_WORDS.items():
        level = levels.get(mechanism, 0)
        if level < 2:
            state = "missing" if level == 0 else "could be stronger"
            lines.append(f"**{name}** {state}: {advice}.")
    return lines


def rationale_words(response: str, details: dict[str, Any]) -> list[str]:
    """The parts of the reply the classifier read as empathic, per mechanism."""
    found = []
    for mechanism, spans in (details.get("rationales") or {}).items():
        texts = [response[start:end] for start, end in spans if 0 <= start < end <= len(response)]
        if texts:
            found.append(f"{MECHANISM_WORDS[mechanism][0]}: " + ", ".join(f"“{clip(t, 80)}”" for t in texts))
    return found


def edit_label(kind: str, position: int) -> str:
    """How an edit reads to a person: the number the new sentence will have, so an insert after the last
    sentence does not point at a sentence that is not there.

    >>> edit_label("insert", 0), edit_label("insert", 2), edit_label("replace", 2)
    ('Insert as sentence 1', 'Insert as sentence 3', 'Replace sentence 3')
    """
    return f"Insert as sentence {position + 1}" if kind == "insert" else f"Replace sentence {position + 1}"


def suggestion_field(
    rank: int, kind: str, position: int, sentence: str, new_response: str, room: int
) -> tuple[str, str]:
    """(name, value) of an embed field showing one suggestion: the edit, the new sentence, the full text."""
    header = f"{rank} · {edit_label(kind, position)}"
    line = f"New sentence: **{discord.utils.escape_markdown(clip(sentence, 300))}**\n"
    return header, line + copyable(new_response, min(FIELD_LIMIT, room - len(header)) - len(line))


def suggestion_embed(delivery: DueDelivery, guild_name: str) -> discord.Embed:
    link = jump_url(delivery.guild_id, delivery.thread_id or delivery.channel_id, delivery.message_id)
    lines = [f"About [your reply]({link}) in **{discord.utils.escape_markdown(guild_name)}**.", ""]
    lines += ["What could help it land more warmly:", *(f"• {line}" for line in missing_in_words(delivery.levels))]
    found = rationale_words(delivery.response_text, delivery.details)
    if found:
        lines += ["", "Already there: " + "; ".join(found)]
    lines += ["", "Each suggestion changes one sentence. Use one as it is, edit it, or tell me it is not helpful."]
    embed = discord.Embed(
        title="A suggestion for your reply",
        description=clip("\n".join(lines), DESCRIPTION_LIMIT),
        colour=discord.Colour.teal(),
    )
    budget = (6000 - len(embed.title or "") - len(embed.description or "")) // max(1, len(delivery.suggestions))
    for s in delivery.suggestions:
        name, value = suggestion_field(s.rank, s.edit_kind, s.position, s.sentence, s.new_response, budget)
        embed.add_field(name=name, value=value, inline=False)
    embed.set_footer(text="Only you can see this message. partner-bot never posts for you.")
    return embed


def score_lines(levels: dict[str, int]) -> str:
    names = {m: words[0] for m, words in MECHANISM_WORDS.items()}
    return (
        "\n".join(f"{names[m]}: {levels.get(m, 0)}/2" for m in MECHANISM_WORDS) + f"\nTotal: {sum(levels.values())}/6"
    )


def _change(now: float, before: float | None, unit: str = "") -> str:
    """A figure with its change from the week before.

    >>> _change(2.5, 2.0)
    '2.5 (+0.5 on the week before)'
    >>> _change(0.25, None, "%")
    '25%'
    """
    if unit == "%":
        shown = f"{now:.0%}"
        delta = None if before is None else f"{(now - before) * 100:+.0f} points"
    else:
        shown = f"{now:.1f}"
        delta = None if before is None else f"{now - before:+.1f}"
    return shown if delta is None else f"{shown} ({delta} on the week before)"


def digest_embed(week_start: date, summary: dict[str, Any]) -> discord.Embed:
    """Last week in a few lines for moderators: aggregates only, never a member or a message."""
    week, previous = summary["week"], summary["previous"]
    sent, used = week["suggestions_sent"], week["suggestions_accepted"]
    lines = [
        f"Replies scored: {week['replies']}" + (f" (week before: {previous['replies']})" if previous else ""),
        "Mean empathy (0-6): " + _change(week["mean_total"], previous["mean_total"] if previous else None),
        "Low-empathy replies: " + _change(week["low_share"], previous["low_share"] if previous else None, "%"),
        f"Suggestions sent: {sent}, used: {used}" + (f" ({used / sent:.0%})" if sent else ""),
    ]
    embed = discord.Embed(
        title=f"Weekly empathy digest: week of {week_start:%d %B %Y}",
        description="\n".join(lines),
        colour=discord.Colour.blurple(),
    )
    channels = "\n".join(
        f"<#{c['channel_id']}>: {c['replies']} replies, mean {c['mean_total']:.1f}, {c['low_share']:.0%} low"
        for c in summary["channels"]
    )
    embed.add_field(name="By channel", value=clip(channels, FIELD_LIMIT), inline=False)
    embed.set_footer(text="/empathy trends shows the chart; /empathy setup weekly_digest:False turns this off.")
    return embed
