"""`partner-bot rewrite`: PARTNER's suggestions for one reply, as a person or a program reads them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from bot.commands.common import err, fail, settings
from bot.commands.score import load_scorer

if TYPE_CHECKING:
    from partner_model.rewriter.inference import Rewriter


def load_rewriter() -> Rewriter:
    from partner_model.base_models import BaseModelError
    from partner_model.embedding import SentenceEmbedder
    from partner_model.rewriter.inference import RewriteConfig, Rewriter

    config = settings()
    folder = config.rewriter.adapter_dir
    if not (folder / "policy.json").is_file():
        fail(
            f"no trained rewriter in {folder}: train one with `partner-bot train rewriter` or set rewriter.adapter_path"
        )
    try:
        return Rewriter.load(
            folder,
            config.models.lm_dir,
            load_scorer(),
            SentenceEmbedder.load(config.models.encoder_dir),
            RewriteConfig(max_sentence_chars=config.rewriter.max_sentence_chars),
        )
    except BaseModelError as exc:
        fail(str(exc))


def rewrite(
    seeker: Annotated[str, typer.Argument(help="the seeker post (the message asking for support).")],
    response: Annotated[str, typer.Argument(help="the reply to improve.")],
    n: Annotated[int, typer.Option("--n", min=1, max=5, help="how many suggestions.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object on stdout, nothing else.")] = False,
) -> None:
    """Suggest up to N empathic rewrites, each inserting or replacing one sentence, with their rewards."""
    from rich.console import Console
    from rich.markup import escape

    if not response.strip():
        fail("the response is empty: there is nothing to rewrite")
    rewriter = load_rewriter()
    with err.status("writing suggestions"):
        suggestions = rewriter.rewrite(seeker, response, n=n)
    if as_json:
        typer.echo(json.dumps({"model_version": rewriter.version, "suggestions": [s.to_dict() for s in suggestions]}))
        return
    out = Console(soft_wrap=True)
    if not suggestions:
        out.print("no suggestion passed the safety filter for this reply")
        return
    for number, s in enumerate(suggestions, start=1):
        edit = s.edit
        if s.replaced is not None:
            head = f"Replace sentence {edit.position + 1} ([dim]{escape(s.replaced)}[/]) with:"
        else:
            head = f"Insert as sentence {edit.position + 1}:"
        out.print(f"[bold]{number}. {head}[/] [bold green]{escape(edit.sentence)}[/]")
        marked = escape(s.new_response).replace(escape(edit.sentence), f"[bold green]{escape(edit.sentence)}[/]", 1)
        out.print(f"   {marked}")
        parts = ", ".join(f"{k} {v:+.2f}" for k, v in s.rewards.items())
        out.print(f"   [dim]{parts}[/]")
