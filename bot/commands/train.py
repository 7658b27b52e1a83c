"""`partner-bot train ...`: model training with progress bars."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.commands.common import err, fail, settings
from partner_model.empathy import INT8_CALIBRATION_ROWS
from partner_model.rewriter import recipe

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.progress import Progress, TaskID

    from bot.settings import Settings
    from partner_model.rewriter.policy import RewriterPolicy
    from partner_model.rewriter.rl import RLConfig

# Without a terminal (nohup, CI) the bar cannot redraw, so a line is logged this often instead.
LOG_EVERY_STEPS = 25

train_app = typer.Typer(help="Train the models (with progress bars).", no_args_is_help=True)


def training_progress() -> Progress:
    """One progress bar layout for every training command: stage, bar, steps, time, running figure."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=err,
    )


@train_app.command("classifier")
def train_classifier(
    train: Annotated[
        Path, typer.Option("--train", help="EPITOME-format CSV to train on.", exists=True, dir_okay=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="folder for the adapter, heads and model card.")],
    dev: Annotated[
        Path | None,
        typer.Option("--dev", help="CSV for early stopping (and the card's figures).", exists=True),
    ] = None,
    holdout: Annotated[float, typer.Option(help="without --dev: share of train's seeker posts held out.")] = 0.1,
    report: Annotated[
        Path | None, typer.Option(help="CSV whose figures go in the model card (default: --dev).")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed.")] = 13,
    head_layout: Annotated[str, typer.Option(help="'pooled' (CLS + response + seeker means) or 'cls'.")] = "pooled",
    epochs: Annotated[int, typer.Option(help="upper bound on epochs; early stopping may end sooner.")] = 8,
    max_steps: Annotated[int | None, typer.Option(help="cap on optimiser steps (smoke runs).")] = None,
    lora_r: Annotated[int, typer.Option(help="LoRA rank.")] = 16,
    distill_from: Annotated[
        list[Path] | None,
        typer.Option(
            "--distill-from",
            help="a trained classifier folder to distil (repeat for several): the level loss also follows "
            "their averaged probabilities on the training rows.",
            exists=True,
            file_okay=False,
            metavar="DIR",
        ),
    ] = None,
    distill_weight: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="with --distill-from or --cross-fit: share of the teachers' loss."),
    ] = 0.5,
    cross_fit: Annotated[
        int,
        typer.Option(
            "--cross-fit",
            min=0,
            metavar="K",
            help="train K teachers first, each without one fold of train's seeker posts; the classifier "
            "distils their out-of-fold probabilities and predicts rare levels with offsets fitted on them, "
            "where offsets fitted without a fold also help on it (cross-validation on train); the same "
            "teachers' tagging chooses how rationales are read (by token or by sentence). 0: off. "
            "Takes about K + 1 times as long.",
        ),
    ] = 0,
    folds_dir: Annotated[
        Path | None,
        typer.Option(
            help="with --cross-fit: where the teachers are kept, so a stopped run resumes (default: <out>-folds)."
        ),
    ] = None,
) -> None:
    """Train the empathy classifier (EPITOME's three mechanisms with rationales).

    Writes the adapter, heads, the input ranges int8 inference uses (measured on a sample of --train) and a
    model card with the report set's figures.
    """
    from partner_model.base_models import BaseModelError, encoder_path, quiet_transformers
    from partner_model.empathy.data import DataFormatError
    from partner_model.empathy.model import ClassifierConfig
    from partner_model.empathy.train import TrainConfig
    from partner_model.empathy.training_run import run_training

    config = settings()
    try:
        encoder = encoder_path(config.models.encoder_dir)
    except BaseModelError as exc:
        fail(str(exc))
    quiet_transformers()
    if head_layout not in ("pooled", "cls"):
        fail("--head-layout must be 'pooled' or 'cls'")
    model_config = ClassifierConfig(seed=seed, head_layout=head_layout, lora_r=lora_r, lora_alpha=2 * lora_r)
    if cross_fit == 1:
        fail("--cross-fit needs at least 2 folds")
    if cross_fit and distill_from:
        fail("--cross-fit and --distill-from both name teachers: use one")
    _require_classifiers("--distill-from", distill_from)
    train_config = TrainConfig(epochs=epochs, max_steps=max_steps, distill_weight=distill_weight)
    command = _command_line()
    with training_progress() as progress:
        task = progress.add_task("epoch 1", total=None, status="")
        stage = [""]

        def on_stage(name: str) -> None:
            stage[0] = f"{name} "
            progress.console.print(name, highlight=False)

        def on_step(epoch: int, step: int, steps: int, loss: float) -> None:
            label = f"{stage[0]}epoch {epoch}"
            progress.update(task, description=label, completed=step, total=steps, status=f"loss {loss:.3f}")
            if not err.is_terminal and step % LOG_EVERY_STEPS == 0:
                err.print(f"{label} step {step}/{steps} loss {loss:.3f}", highlight=False)

        def on_epoch(epoch: int, figures: dict) -> None:
            line = "  ".join(
                f"{m} acc {figures[m]['accuracy']:.3f} F1 {figures[m]['macro_f1']:.3f}" for m in ("ER", "IP", "EX")
            )
            progress.console.print(f"{stage[0]}epoch {epoch}: {line}", highlight=False)

        try:
            result = run_training(
                encoder,
                train,
                out,
                command,
                model_config,
                train_config,
                dev_csv=dev,
                holdout_fraction=holdout,
                report_csv=report,
                on_step=on_step,
                on_epoch=on_epoch,
                teachers=distill_from,
                cross_fit=cross_fit,
                folds_dir=folds_dir,
                on_stage=on_stage,
            )
        except DataFormatError as exc:
            fail(str(exc))
    if result["report"]:
        rep = result["report"]
        for mech in ("ER", "IP", "EX"):
            fig = rep[mech]
            err.print(f"{rep['name']} {mech}: accuracy {fig['accuracy']:.3f}, macro-F1 {fig['macro_f1']:.3f}")
        err.print(f"rationale F1 {rep['rationale_f1']:.3f}; model card: {out / 'MODEL_CARD.md'}")


def _require_classifiers(option: str, folders: list[Path] | None) -> None:
    """Name a folder that holds no trained classifier before any model loads."""
    from partner_model.empathy.model import CONFIG_FILE

    for folder in folders or []:
        if not (folder / CONFIG_FILE).is_file():
            fail(f"{option} {folder}: no trained classifier there (no {CONFIG_FILE})")


@train_app.command("rewriter")
def train_rewriter(
    stage: Annotated[str, typer.Option("--stage", help="'warmstart' (supervised) or 'rl' (from a warm start).")],
    train: Annotated[
        Path, typer.Option("--train", help="EPITOME-format CSV to train on.", exists=True, dir_okay=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="folder for the adapter, head and model card.")],
    init: Annotated[
        Path | None, typer.Option("--init", help="with --stage rl: the warm-start folder to start from.")
    ] = None,
    examples: Annotated[
        int,
        typer.Option(help="warm start: examples sampled from the built set (default: about 19 min on 2 CPU cores)."),
    ] = recipe.WARMSTART_EXAMPLES,
    steps: Annotated[
        int,
        typer.Option(
            help="rl: policy-gradient steps (resumes from --out if it has a checkpoint; default: 80 min measured on "
            "2 CPU cores with bf16 instructions, about 1.2x longer in float32)."
        ),
    ] = recipe.RL_STEPS,
    max_steps: Annotated[int | None, typer.Option(help="warm start: cap on optimiser steps (smoke runs).")] = None,
    compound_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="warm start: share of exploring questions led instead by another responder's sympathy "
            "('Sorry to hear that, have you talked to anyone?').",
        ),
    ] = recipe.WARMSTART_COMPOUND_SHARE,
    lr: Annotated[float, typer.Option(help="rl: learning rate of the LoRA adapter.")] = recipe.RL_LEARNING_RATE,
    kl: Annotated[
        float,
        typer.Option(
            help="rl: reward lost per nat of log(policy / warm start) of a sampled sentence; keeps the policy "
            "from collapsing onto a few stock sentences (0: no penalty)."
        ),
    ] = recipe.RL_KL_COEF,
    repeat: Annotated[
        float,
        typer.Option(
            help="rl: reward lost per unit of similarity in meaning (cosine of sentence embeddings, 0-1) of a "
            "sampled sentence with one recently sampled for another post; a stock sentence that fits every post "
            "pays for it (0: no penalty)."
        ),
    ] = recipe.RL_REPEAT_COEF,
    repeat_floor: Annotated[
        float,
        typer.Option(help="rl: similarity (0-1) that --repeat leaves free; only what lies above it is charged."),
    ] = recipe.RL_REPEAT_FLOOR,
    opening: Annotated[
        float,
        typer.Option(
            help="rl: reward lost per unit of the share (0-1) of the sentences recently sampled for other posts "
            "that open with a sampled sentence's first --opening-words words; a stock form ('Do you have ...?') "
            "pays for it in whatever words (0: no penalty)."
        ),
    ] = recipe.RL_OPENING_COEF,
    opening_floor: Annotated[
        float,
        typer.Option(help="rl: share (0-1) that --opening leaves free; only what lies above it is charged."),
    ] = recipe.RL_OPENING_FLOOR,
    opening_words: Annotated[
        int,
        typer.Option(
            min=1,
            help="rl: how many first words make a sentence's opening for --opening; with 3 a policy kept its "
            "form and varied the third word ('Did you ...'), 1 charges the form itself.",
        ),
    ] = recipe.RL_OPENING_WORDS,
    guide_share: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="rl: share of sample groups whose last sample opens with another responder's sympathy "
            "('I'm sorry you feel this way,'), the policy writing the rest; teaches the policy to join feeling "
            "to a question (0: none).",
        ),
    ] = recipe.RL_GUIDE_SHARE,
    reward_classifier: Annotated[
        list[Path] | None,
        typer.Option(
            "--reward-classifier",
            help="rl: another trained classifier folder (repeat for several) whose level probabilities are "
            "averaged with the project's classifier for the empathy reward, so one model's quirk pays less.",
            exists=True,
            file_okay=False,
            metavar="DIR",
        ),
    ] = None,
    snapshot_every: Annotated[
        int,
        typer.Option(help="rl: also keep the policy of every this many steps in OUT/snapshots/step-N (0: none)."),
    ] = 0,
    voice_check: Annotated[
        bool,
        typer.Option(
            help="rl: a sampled sentence that tells a story of the supporter's own (the voice check that every "
            "suggestion passes) earns the fixed low reward of an unusable one. --no-voice-check leaves only the "
            "safety filter, as in the first stage of the shipped adapter's training.",
        ),
    ] = True,
    seed: Annotated[int, typer.Option(help="random seed.")] = 7,
) -> None:
    """Train the PARTNER rewriter: supervised warm start, then RL on the full reward.

    With the defaults both stages together take under two hours on a 2-core CPU (100 min measured); CUDA
    is used when present. The shipped adapter came from an earlier, longer recipe: its model card has both.
    """
    from partner_model.empathy.data import DataFormatError
    from partner_model.rewriter.policy import PolicyConfig
    from partner_model.rewriter.rl import RLConfig
    from partner_model.rewriter.training_run import run_warmstart
    from partner_model.rewriter.warmstart import WarmStartConfig

    config = settings()
    if stage not in ("warmstart", "rl"):
        fail("--stage must be 'warmstart' or 'rl'")
    _require_classifiers("--reward-classifier", reward_classifier)
    lm = _language_model(config)
    command = _command_line()
    with training_progress() as progress:
        task = progress.add_task(stage, total=None, status="")
        try:
            if stage == "warmstart":

                def on_ws_step(epoch: int, step: int, total: int, loss: float) -> None:
                    progress.update(task, completed=step, total=total, status=f"loss {loss:.3f}")
                    if not err.is_terminal and step % LOG_EVERY_STEPS == 0:
                        err.print(f"warm start step {step}/{total} loss {loss:.3f}", highlight=False)

                ws = WarmStartConfig(examples=examples, max_steps=max_steps, seed=seed, compound_share=compound_share)
                result = run_warmstart(lm, train, out, command, PolicyConfig(), ws, on_ws_step)
                err.print(f"warm start done: {result['examples_used']} examples; last 20 steps {result['last20']}")
            else:
                if init is None:
                    fail("--stage rl needs --init: the folder of a warm-start run")
                rl_config = RLConfig(
                    steps=steps,
                    lr_lora=lr,
                    kl_coef=kl,
                    repeat_coef=repeat,
                    repeat_floor=repeat_floor,
                    opening_coef=opening,
                    opening_floor=opening_floor,
                    opening_words=opening_words,
                    guide_share=guide_share,
                    snapshot_every=snapshot_every,
                    seed=seed,
                    bf16=config.rewriter.train_bf16,
                )
                extra = reward_classifier or []
                result = _train_rl(config, lm, init, train, out, command, rl_config, extra, voice_check, progress, task)
                err.print(f"RL done: {result['steps']} steps, running reward {result['running_reward']:.3f}")
        except DataFormatError as exc:
            fail(str(exc))
    err.print(f"model card: {out / 'MODEL_CARD.md'}")


def _command_line() -> str:
    """The command as typed, for model cards and provenance."""
    import shlex

    return "partner-bot " + shlex.join(sys.argv[1:])


def _language_model(config: Settings) -> Path:
    """The base language model's folder, with transformers quieted; a missing model stops with setup's fix."""
    from partner_model.base_models import BaseModelError, lm_path, quiet_transformers

    try:
        lm = lm_path(config.models.lm_dir)
    except BaseModelError as exc:
        fail(str(exc))
    quiet_transformers()
    return lm


@train_app.command("calibration")
def train_calibration(
    train: Annotated[
        Path, typer.Option("--train", help="EPITOME-format CSV whose rows are run through the model.", exists=True)
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="peaks file to write (default: the configured one, [rewriter] feed_forward_peaks)."),
    ] = None,
    classifier: Annotated[
        Path | None,
        typer.Option(
            "--classifier",
            help="measure this classifier folder's int8 input ranges (saved in it), not the language model's peaks.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    rows: Annotated[
        int | None,
        typer.Option(
            min=8,
            help=f"rows to run through the model (default: {recipe.CALIBRATION_ROWS} warm-start sequences for the "
            f"language model, {INT8_CALIBRATION_ROWS} pairs for a classifier).",
        ),
    ] = None,
) -> None:
    """Measure activations once on training data for int8 inference.

    Language model (the default): every linear layer of the rewriter's language model is quantised to int8
    on a CPU; the feed-forward output projections can be only after their input peaks are folded into the
    weights (SmoothQuant, [rewriter] smoothing). The peaks are measured with the configured adapter and serve
    every adapter (they change attention only). About a minute on 2 CPU cores.

    --classifier DIR: the input range of each int8 layer of that classifier's encoder, so that int8 scores a
    pair the same whatever is scored beside it (otherwise each batch sets its own scale). `train classifier`
    does this itself; this is for folders trained before it did. About 30 s.
    """
    from partner_model.empathy.data import DataFormatError

    if classifier is not None and out is not None:
        fail("--out names the language model's peaks file; a classifier's ranges are saved in its folder")
    _require_classifiers("--classifier", [classifier] if classifier is not None else None)
    config = settings()
    command = _command_line()
    with training_progress() as progress:
        task = progress.add_task("calibration", total=None, status="")

        def on_batch(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            if classifier is not None:
                measured = _calibrate_classifier(config, classifier, train, command, rows, on_batch)
            else:
                measured = _measure_lm_peaks(config, out, train, command, rows, on_batch)
        except DataFormatError as exc:
            fail(str(exc))
    err.print(measured)


def _calibrate_classifier(
    config: Settings, folder: Path, train: Path, command: str, rows: int | None, on_batch: Callable[[int, int], None]
) -> str:
    from partner_model.base_models import BaseModelError
    from partner_model.empathy.calibration import RANGES_FILE, calibrate_folder
    from partner_model.empathy.inference import EmpathyScorer

    try:
        scorer = EmpathyScorer.load(folder, config.models.encoder_dir, quantize=False)
    except BaseModelError as exc:
        fail(str(exc))
    n = calibrate_folder(scorer, folder, train, command, rows or INT8_CALIBRATION_ROWS, on_batch=on_batch)
    return f"int8 input ranges of {n} pairs: {folder / RANGES_FILE}"


def _measure_lm_peaks(
    config: Settings,
    out: Path | None,
    train: Path,
    command: str,
    rows: int | None,
    on_batch: Callable[[int, int], None],
) -> str:
    from partner_model.rewriter.calibration import measure_peaks

    target = out or config.rewriter.peaks_file
    provenance = measure_peaks(
        _language_model(config),
        config.rewriter.adapter_dir,
        train,
        target,
        command,
        rows or recipe.CALIBRATION_ROWS,
        on_batch=on_batch,
    )
    return f"feed-forward peaks of {provenance['rows']} sequences: {target}"


def _train_rl(
    config: Settings,
    lm: Path,
    init: Path,
    train: Path,
    out: Path,
    command: str,
    rl_config: RLConfig,
    extra_classifiers: list[Path],
    voice_check: bool,
    progress: Progress,
    task: TaskID,
) -> dict[str, Any]:
    from bot.commands.score import load_scorer
    from partner_model.embedding import SentenceEmbedder
    from partner_model.rewriter import rewards
    from partner_model.rewriter.inference import suggestable
    from partner_model.rewriter.lm_scoring import BaseLMScorer
    from partner_model.rewriter.rl import RewardContext
    from partner_model.rewriter.training_run import run_rl

    weights = config.rewriter.reward_weights()
    scorer: rewards.ScoresEmpathy = load_scorer()
    source = "the project's classifier"
    if extra_classifiers:
        scorer = rewards.AveragedScorer([scorer, *(load_scorer(folder=folder) for folder in extra_classifiers)])
        source = "the mean of the project's classifier and " + ", ".join(str(f) for f in extra_classifiers)
    embedder = SentenceEmbedder.load(config.models.encoder_dir)
    limit = config.rewriter.max_sentence_chars

    def make_context(policy: RewriterPolicy) -> RewardContext:
        return RewardContext(
            scorer,
            BaseLMScorer(policy.lm, policy.tokenizer, bf16=config.rewriter.train_bf16),
            embedder,
            weights,
            lambda sentences: suggestable(sentences, limit, voice=voice_check),
        )

    def on_rl_step(step: int, total: int, running: float) -> None:
        progress.update(task, completed=step, total=total, status=f"reward {running:.3f}")
        if not err.is_terminal:
            err.print(f"rl step {step}/{total} running reward {running:.3f}", highlight=False)

    return run_rl(lm, init, train, out, command, rl_config, weights, make_context, on_rl_step, source)
