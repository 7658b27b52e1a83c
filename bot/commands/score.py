"""`partner-bot score` and `partner-bot evaluate classifier`: the classifier from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.commands.common import err, fail, settings

if TYPE_CHECKING:
    from partner_model.empathy.inference import EmpathyScore, EmpathyScorer

evaluate_app = typer.Typer(help="Measure the models on an EPITOME-format CSV.", no_args_is_help=True)

LEVEL_WORDS = ("none", "weak", "strong")
# One colour per mechanism, so the highlighted response reads like a legend.
MECHANISM_STYLE = {"ER": "bold magenta", "IP": "bold cyan", "EX": "bold green"}

JsonOption = Annotated[bool, typer.Option("--json", help="print one JSON object on stdout, nothing else.")]


def load_scorer(which: str = "classifier", folder: Path | None = None) -> EmpathyScorer:
    """The classifier (quantised when the settings say so: it runs on every message) or the judge
    (always float: it only grades rewriters offline, and is the reference their figures rest on);
    folder: another trained classifier, loaded as the classifier is."""
    from partner_model.base_models import BaseModelError
    from partner_model.empathy.inference import EmpathyScorer

    models = settings().models
    folder = folder or (models.classifier_dir if which == "classifier" else models.judge_dir)
    if not (folder / "classifier.json").is_file():
        fail(f"no trained {which} in {folder}: train one with `partner-bot train classifier` or set its path")
    try:
        quantize = models.quantize_classifier and which == "classifier"
        return EmpathyScorer.load(folder, models.encoder_dir, quantize=quantize)
    except BaseModelError as exc:
        fail(str(exc))


def _highlighted(response: str, result: EmpathyScore) -> str:
    """The response with each rationale span marked by its mechanisms: a sentence that carries two is
    marked once with both (ER+EX); a span overlapping one already marked is left out."""
    from rich.markup import escape

    mechanisms: dict[tuple[int, int], list[str]] = {}
    for mech, spans in result.rationales.items():
        for span in spans:
            mechanisms.setdefault(span, []).append(mech)
    out, cursor = [], 0
    for (start, end), mechs in sorted(mechanisms.items()):
        if start < cursor:
            continue
        style = MECHANISM_STYLE[mechs[0]]
        label = "+".join(mechs)
        out += [escape(response[cursor:start]), f"[{style}]⟦{escape(response[start:end])}⟧{label}[/]"]
        cursor = end
    out.append(escape(response[cursor:]))
    return "".join(out)


def score(
    seeker: Annotated[str, typer.Argument(help="the seeker post (the message asking for support).")],
    response: Annotated[str, typer.Argument(help="the reply to judge.")],
    as_json: JsonOption = False,
) -> None:
    """Score a reply: ER/IP/EX levels, total empathy 0-6, and the words that carry each mechanism."""
    from partner_model.empathy import MECHANISM_NAMES, MECHANISMS
    from partner_model.empathy.inference import EmptyTextError

    scorer = load_scorer()
    try:
        (result,) = scorer.score([(seeker, response)])
    except EmptyTextError as exc:
        fail(str(exc))
    if as_json:
        data = result.to_dict()
        data["rationale_texts"] = result.rationale_texts(response)
        data["model_version"] = scorer.version
        typer.echo(json.dumps(data))
        return
    from rich.console import Console

    out = Console(soft_wrap=True)
    for mech in MECHANISMS:
        level = result.levels[mech]
        probs = " ".join(f"{p:.2f}" for p in result.probabilities[mech])
        style = MECHANISM_STYLE[mech]
        out.print(f"[{style}]{mech}[/] {MECHANISM_NAMES[mech]:<20} {level} {LEVEL_WORDS[level]:<7} p={probs}")
    out.print(f"total empathy {result.total} / 6")
    out.print("rationale words: " + (_highlighted(response, result) if any(result.rationales.values()) else "none"))
    if result.truncated:
        out.print("[dim]the response was longer than the classifier reads; its end was not judged[/]")


@evaluate_app.command("classifier")
def evaluate_classifier(
    data: Annotated[Path, typer.Option("--data", help="EPITOME-format CSV.", exists=True, dir_okay=False)],
    as_json: JsonOption = False,
    judge: Annotated[bool, typer.Option("--judge", help="evaluate the judge classifier instead.")] = False,
) -> None:
    """Accuracy and macro-F1 per mechanism (with 95% bootstrap intervals) and rationale F1."""
    from rich.progress import Progress

    from partner_model.empathy.data import DataFormatError, read_epitome_csv
    from partner_model.empathy.evaluate import figures, score_examples

    try:
        examples = read_epitome_csv(data)
    except DataFormatError as exc:
        fail(str(exc))
    scorer = load_scorer("judge" if judge else "classifier")
    with Progress(console=err, transient=True) as progress:
        task = progress.add_task("scoring", total=len(examples))
        result = figures(examples, score_examples(scorer, examples, lambda n: progress.advance(task, n)))
    result["model_version"] = scorer.version
    if as_json:
        typer.echo(json.dumps(result))
        return
    for mech in ("ER", "IP", "EX"):
        r = result[mech]
        acc_low, acc_high = r["accuracy_ci95"]
        f1_low, f1_high = r["macro_f1_ci95"]
        typer.echo(
            f"{mech}: accuracy {r['accuracy']:.3f} [{acc_low:.3f}, {acc_high:.3f}]  "
            f"macro-F1 {r['macro_f1']:.3f} [{f1_low:.3f}, {f1_high:.3f}]  "
            f"rationale F1 {r['rationale_f1']:.3f}"
        )
    typer.echo(f"rationale F1 {result['rationale_f1']:.3f}  n {result['n']}")
