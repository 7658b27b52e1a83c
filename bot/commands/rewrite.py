"""`partner-bot rewrite`: PARTNER's suggestions for one reply, as a person or a program reads them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.commands.common import NO_SUGGESTION, err, fail, settings
from bot.commands.score import evaluate_app, load_scorer

if TYPE_CHECKING:
    from partner_model.embedding import SentenceEmbedder
    from partner_model.empathy.inference import EmpathyScorer
    from partner_model.rewriter.inference import Rewriter


def load_rewriter(
    folder: Path | None = None, scorer: EmpathyScorer | None = None, embedder: SentenceEmbedder | None = None
) -> Rewriter:
    """A rewriter from folder (default: the configured adapter), sharing already loaded ranking models."""
    from partner_model.base_models import BaseModelError
    from partner_model.embedding import SentenceEmbedder
    from partner_model.rewriter.inference import Rewriter

    config = settings()
    folder = folder or config.rewriter.adapter_dir
    if not (folder / "policy.json").is_file():
        fail(f"no trained rewriter in {folder}: train one with `partner-bot train rewriter` or set its path")
    try:
        return Rewriter.load(
            folder,
            config.models.lm_dir,
            scorer or load_scorer(),
            embedder or SentenceEmbedder.load(config.models.encoder_dir),
            config.rewriter.rewrite_config(),
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
        out.print(f"{NO_SUGGESTION} for this reply")
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


@evaluate_app.command("rewriter")
def evaluate_rewriter(
    data: Annotated[Path, typer.Option("--data", help="EPITOME-format CSV.", exists=True, dir_okay=False)],
    limit: Annotated[int | None, typer.Option(help="first N low-empathy replies only.")] = None,
    systems: Annotated[
        str,
        typer.Option(
            help="comma-separated systems: original, template, retrieval, zero-shot, partner-warmstart, partner."
        ),
    ] = ",".join(("original", "template", "retrieval", "zero-shot", "partner-warmstart", "partner")),
    train: Annotated[
        Path | None, typer.Option(help="training CSV for the retrieval system (default: train.csv beside --data).")
    ] = None,
    dump: Annotated[
        Path | None, typer.Option(help="write one JSON line per example with every system's rewrite.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object on stdout, nothing else.")] = False,
) -> None:
    """The rewriter table of DESIGN.md section 7, every system side by side on low-empathy replies."""
    from rich.console import Console
    from rich.table import Table

    from partner_model.embedding import SentenceEmbedder
    from partner_model.empathy.data import DataFormatError, read_epitome_csv
    from partner_model.rewriter import evaluate as ev
    from partner_model.rewriter.lm_scoring import BaseLMScorer
    from partner_model.text import split_sentences

    config = settings()
    wanted = [s.strip() for s in systems.split(",") if s.strip()]
    unknown = [s for s in wanted if s not in ev.SYSTEMS]
    if unknown:
        fail(f"unknown systems: {', '.join(unknown)} (choose from {', '.join(ev.SYSTEMS)})")
    try:
        examples = ev.low_empathy(read_epitome_csv(data))[:limit]
        train_path = train or data.with_name("train.csv")
        train_examples = read_epitome_csv(train_path) if "retrieval" in wanted else []
    except DataFormatError as exc:
        fail(f"{exc} (the retrieval system needs the training CSV: pass --train)")
    items = [(e.seeker, split_sentences(e.response)) for e in examples]
    if not items:
        fail(f"{data.name} has no low-empathy replies (ER + IP + EX <= {ev.LOW_EMPATHY_MAX_TOTAL}): nothing to rewrite")
    with err.status("loading models"):
        judge = load_scorer("judge")
        reward_classifier = load_scorer()
        embedder = SentenceEmbedder.load(config.models.encoder_dir)
        base = BaseLMScorer.load(config.models.lm_dir)
    makers = {
        "original": lambda: ev.original_system,
        "template": lambda: ev.template_system,
        "retrieval": lambda: ev.retrieval_system(train_examples, embedder),
        "zero-shot": lambda: ev.zero_shot_system(base.model, base.tokenizer),
        "partner-warmstart": lambda: ev.rewriter_system(
            load_rewriter(config.rewriter.warmstart_dir, reward_classifier, embedder)
        ),
        "partner": lambda: ev.rewriter_system(load_rewriter(config.rewriter.adapter_dir, reward_classifier, embedder)),
    }
    table: dict[str, dict[str, Any]] = {}
    outputs: dict[str, list] = {}
    for name in wanted:
        with err.status(f"{name}: rewriting {len(items)} replies"):
            outputs[name] = makers[name]()(items)
            table[name] = ev.metrics(items, outputs[name], judge, reward_classifier, base, embedder)
        low, high = table[name]["empathy_change_ci95"]
        err.print(
            f"{name}: empathy change {table[name]['empathy_change']:+.3f} [{low:+.3f}, {high:+.3f}]", highlight=False
        )
    if dump is not None:
        with dump.open("w") as handle:
            for index, example in enumerate(examples):
                row = {
                    "seeker": example.seeker,
                    "response": example.response,
                    "rewrites": {name: outputs[name][index].new_response for name in wanted},
                }
                handle.write(json.dumps(row) + "\n")
    result = {"n": len(items), "judge": judge.version, "systems": table}
    if as_json:
        typer.echo(json.dumps(result))
        return
    keys = [
        "empathy_change",
        "empathy_change_reward_classifier",
        "perplexity",
        "specificity",
        "distinct_1",
        "distinct_2",
        "edit_rate",
        "coherence",
    ]
    view = Table(title=f"rewriter evaluation on {data.name}: {len(items)} low-empathy replies (judge {judge.version})")
    view.add_column("system")
    for key in keys:
        view.add_column(key.replace("_", " "), justify="right")
    view.add_column("empathy change 95%", justify="right")
    for name, row in table.items():
        low, high = row["empathy_change_ci95"]
        view.add_row(name, *(f"{row[k]:.3f}" for k in keys), f"[{low:+.2f}, {high:+.2f}]")
    Console().print(view)
