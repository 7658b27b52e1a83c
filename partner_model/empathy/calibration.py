"""The classifier encoder's input ranges for int8 inference, measured once on training pairs and saved in
the classifier's folder, so that a pair's int8 scores do not depend on the pairs scored beside it
(partner_model.quantization.StaticInt8Linear)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from partner_model.empathy import INT8_CALIBRATION_ROWS
from partner_model.empathy.data import EpitomeExample, read_epitome_csv
from partner_model.empathy.inference import INFERENCE_BATCH, EmpathyScorer
from partner_model.quantization import FEED_FORWARD_OUTPUT, quantisable_layers

RANGES_FILE = "input_ranges.safetensors"
CALIBRATION_SEED = 5


def input_ranges(
    scorer: EmpathyScorer,
    pairs: list[tuple[str, str]],
    skip: str = FEED_FORWARD_OUTPUT,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, torch.Tensor]:
    """[low, high] of the inputs of every encoder linear layer that int8 inference quantises (those not
    matching skip), over the real tokens of the pairs as the scorer batches them; padding never counts.
    The scorer must be float."""
    encoder = scorer.model.encoder
    layers = quantisable_layers(encoder, skip)
    if not layers:
        raise ValueError("the classifier's encoder has no float linear layers to calibrate: load it without int8")
    ranges: dict[str, torch.Tensor] = {}
    real = torch.zeros(0, dtype=torch.bool)

    def note_mask(_: nn.Module, __: tuple[object, ...], kwargs: dict[str, torch.Tensor]) -> None:
        nonlocal real
        real = kwargs["attention_mask"].bool()

    def record(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], object], None]:
        def hook(_: nn.Module, inputs: tuple[torch.Tensor, ...], __: object) -> None:
            seen = inputs[0][real]
            low, high = seen.min().float().cpu(), seen.max().float().cpu()
            if name in ranges:
                low, high = torch.minimum(ranges[name][0], low), torch.maximum(ranges[name][1], high)
            ranges[name] = torch.stack([low, high])

        return hook

    handles = [encoder.register_forward_pre_hook(note_mask, with_kwargs=True)]
    handles += [module.register_forward_hook(record(name)) for name, module in layers.items()]
    total = -(-len(pairs) // INFERENCE_BATCH)
    try:
        for done, start in enumerate(range(0, len(pairs), INFERENCE_BATCH), 1):
            scorer.predict(pairs[start : start + INFERENCE_BATCH])
            if on_batch:
                on_batch(done, total)
    finally:
        for handle in handles:
            handle.remove()
    return ranges


def calibration_pairs(examples: list[EpitomeExample], rows: int, seed: int) -> list[tuple[str, str]]:
    """A seeded sample of the examples' (seeker post, response) pairs with something to score."""
    usable = [(e.seeker, e.response) for e in examples if e.response.strip()]
    if not usable:
        raise ValueError("no pair with a response to calibrate on")
    return random.Random(seed).sample(usable, min(rows, len(usable)))


def calibrate_folder(
    scorer: EmpathyScorer,
    folder: Path,
    train_csv: Path,
    command: str,
    rows: int = INT8_CALIBRATION_ROWS,
    seed: int = CALIBRATION_SEED,
    on_batch: Callable[[int, int], None] | None = None,
) -> int:
    """Measure the classifier of folder, loaded float as scorer, on a sample of train_csv's pairs and save its
    input ranges beside it, with where they came from (command, data digest, date) in the file's metadata;
    returns the pairs measured."""
    from safetensors.torch import save_file

    from partner_model.cards import provenance

    pairs = calibration_pairs(read_epitome_csv(train_csv), rows, seed)
    ranges = input_ranges(scorer, pairs, on_batch=on_batch)
    origin = provenance(command, train_csv, pairs=str(len(pairs)), seed=str(seed))
    save_file(ranges, folder / RANGES_FILE, metadata=origin)
    return len(pairs)


def load_input_ranges(folder: Path) -> dict[str, torch.Tensor] | None:
    """The ranges saved in a classifier folder, or None for a folder calibrated never (int8 then takes
    each batch's own scale)."""
    from safetensors.torch import load_file

    path = folder / RANGES_FILE
    return load_file(path) if path.is_file() else None
