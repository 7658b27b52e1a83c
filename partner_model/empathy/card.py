"""The classifier's model card: data, figures with bootstrap intervals, training history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from partner_model.cards import write_card
from partner_model.empathy import MECHANISMS
from partner_model.empathy.rationales import DEFAULT_THRESHOLD, DEFAULT_UNIT


def write_classifier_card(
    folder: Path,
    title: str,
    command: str,
    data: dict[str, str],
    report: dict[str, Any],
    training: dict[str, Any],
) -> None:
    rows = []
    for mech in MECHANISMS:
        r = report[mech]
        rows.append(
            f"| {mech} | {r['accuracy']:.3f} [{r['accuracy_ci95'][0]:.3f}, {r['accuracy_ci95'][1]:.3f}] "
            f"| {r['macro_f1']:.3f} [{r['macro_f1_ci95'][0]:.3f}, {r['macro_f1_ci95'][1]:.3f}] "
            f"| {r['rationale_f1']:.3f} |"
        )
    history = "\n".join(
        f"| {h['epoch']} | " + " | ".join(f"{h[m]['accuracy']:.3f} / {h[m]['macro_f1']:.3f}" for m in MECHANISMS) + " |"
        for h in training["history"]
    )
    sections = {
        "Data": "\n".join(f"- {name}: {info}" for name, info in data.items()),
        f"Figures on {report.get('name', 'the report set')} (n = {report['n']}), 95% bootstrap intervals": (
            "| mechanism | accuracy | macro-F1 | rationale F1 |\n| --- | --- | --- | --- |\n"
            + "\n".join(rows)
            + f"\n\nRationale F1 (mean over mechanisms): {report['rationale_f1']:.3f}"
        ),
        "Training": (
            f"Best epoch {training['best_epoch']} of {training['epochs_run']} (early stopping set: see Data).\n\n"
            "| epoch | ER acc / F1 | IP acc / F1 | EX acc / F1 |\n| --- | --- | --- | --- |\n"
            + history
            + "\n\nArchitecture and hyperparameters: classifier.json and metrics.json."
        ),
    }
    if "cross_fit" in training:
        sections["Cross-fitting"] = _cross_fit_section(training["cross_fit"])
    write_card(folder, title, command, sections, {"data": data, "report": report, "training": training})


def _cross_fit_section(cross_fit: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {mech} | {r['macro_f1_before']:.3f} | {r['macro_f1_after']:.3f} "
        f"| {r['held_out_before']:.3f} | {r['held_out_after']:.3f} | {'yes' if r['kept'] else 'no'} "
        f"| {r['offset_1']:+.2f} | {r['offset_2']:+.2f} |"
        for mech, r in cross_fit["out_of_fold"].items()
    )
    return (
        f"{cross_fit['folds']} teachers, each trained without one fold of train's seeker posts (kept in "
        f"{cross_fit['teachers']}), scored the fold they never saw. The student distils those out-of-fold "
        "probabilities. Level offsets that maximise macro-F1 on them are kept for a mechanism only where offsets "
        "fitted without each fold raise macro-F1 on that fold (mean over folds): cross-validation on train; "
        "dev plays no part in choosing them.\n\n"
        "| mechanism | out-of-fold macro-F1 | with offsets | held out, without | held out, with | kept "
        "| level 1 offset | level 2 offset |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows + _readings_section(cross_fit.get("rationales"))
    )


def _readings_section(readings: dict[str, Any] | None) -> str:
    if not readings:
        return ""
    default = f"{DEFAULT_UNIT} {DEFAULT_THRESHOLD:.2f}"
    rows = "\n".join(
        f"| {mech} | {r['rows']} | {r['default_f1']:.3f} | {r['fitted_f1']:.3f} | {r['held_out_default']:.3f} "
        f"| {r['held_out_fitted']:.3f} | {'yes' if r['kept'] else 'no'} | {r['unit']} {r['threshold']:.2f} |"
        for mech, r in readings.items()
    )
    return (
        "\n\nRationales are read per mechanism token by token (the tokens whose probability reaches a threshold) "
        "or as whole sentences (the sentence whose tokens have the highest mean probability, and those whose mean "
        "reaches the threshold times it). The teachers' out-of-fold tagging of train chooses the unit and threshold "
        "with the best word F1 against the annotated spans, kept only where the choice made without each fold "
        f"beats the untuned reading ({default}) on that fold (mean over folds).\n\n"
        f"| mechanism | rows with a rationale | F1 {default} | F1 fitted | held out, {default} | held out, fitted "
        "| kept | reading |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |\n" + rows
    )
