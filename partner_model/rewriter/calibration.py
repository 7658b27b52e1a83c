"""The language model's feed-forward activation peaks, measured once on warm-start sequences from
train.csv and shipped, so that int8 inference can quantise every linear layer (SmoothQuant:
partner_model.quantization.smooth_feed_forward).

One file serves every adapter of the base model: the adapters change attention only (PolicyConfig's
LoRA targets), so the feed-forward weights the peaks are folded into are the base model's, and the
inputs they see differ little from adapter to adapter. Measuring at load instead was tried: the eight
sample exchanges give peaks too rough (per-token loss 4.21 against 4.00 nats) and enough of the project's
own writing took 37 s.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from partner_model.rewriter.batching import Sequence, right_padded
from partner_model.rewriter.policy import RewriterPolicy
from partner_model.rewriter.recipe import CALIBRATION_ROWS

TARGET = "down_proj"
CALIBRATION_SEED = 3


@torch.inference_mode()
def feed_forward_peaks(
    policy: RewriterPolicy,
    rows: list[Sequence],
    batch_size: int = 8,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, torch.Tensor]:
    """The largest magnitude of each channel entering every feed-forward output projection, over the
    real tokens of rows (prompt, edit and sentence; padding never counts). on_batch(done, total)."""
    lm = policy.causal_lm
    peaks: dict[str, torch.Tensor] = {}
    real = torch.zeros(0, dtype=torch.bool)

    def record(name: str) -> Callable[[nn.Module, tuple[torch.Tensor, ...], object], None]:
        def hook(_: nn.Module, inputs: tuple[torch.Tensor, ...], __: object) -> None:
            seen = inputs[0][real].abs().amax(dim=0).float().cpu()
            peaks[name] = torch.maximum(peaks[name], seen) if name in peaks else seen

        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in lm.named_modules() if n.endswith(TARGET)]
    total = -(-len(rows) // batch_size)
    try:
        for done, start in enumerate(range(0, len(rows), batch_size), 1):
            ids, mask = right_padded(rows[start : start + batch_size], policy.end_id)
            real = mask.bool().to(policy.device)
            lm.model(input_ids=ids.to(policy.device), attention_mask=mask.to(policy.device))
            if on_batch:
                on_batch(done, total)
    finally:
        for handle in handles:
            handle.remove()
    if not peaks:
        raise ValueError(f"the language model has no {TARGET} layers to calibrate")
    return peaks


def measure_peaks(
    lm_dir: Path,
    adapter_dir: Path,
    train_csv: Path,
    out: Path,
    command: str,
    rows: int = CALIBRATION_ROWS,
    seed: int = CALIBRATION_SEED,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, str]:
    """Peaks of the adapter's policy (merged, float) on warm-start sequences of train_csv, saved to out;
    returns their provenance. on_batch(done, total) reports progress."""
    from partner_model.cards import provenance
    from partner_model.empathy.data import read_epitome_csv
    from partner_model.rewriter.policy import load_merged
    from partner_model.rewriter.warmstart import WarmStartConfig, select_examples
    from partner_model.rewriter.warmstart_data import build_examples

    policy = load_merged(adapter_dir, lm_dir, torch.device("cpu"), quantize=False)
    built = build_examples(read_epitome_csv(train_csv), seed=seed)
    chosen = select_examples(built, policy, WarmStartConfig(examples=rows, compound_share=0.0, seed=seed))
    peaks = feed_forward_peaks(policy, chosen, on_batch=on_batch)
    origin = provenance(command, train_csv, rows=str(len(chosen)), adapter=adapter_dir.name)
    save_peaks(peaks, out, origin)
    return origin


def save_peaks(peaks: dict[str, torch.Tensor], path: Path, provenance: dict[str, str]) -> None:
    """Peaks with where they came from (command, data digest, date) in the file's metadata."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({name: peak.contiguous() for name, peak in peaks.items()}, path, metadata=provenance)


def load_peaks(path: Path) -> dict[str, torch.Tensor]:
    """The peaks saved at path; a missing file is named with its fix."""
    from safetensors.torch import load_file

    from partner_model.base_models import BaseModelError

    if not path.is_file():
        raise BaseModelError(
            f"no feed-forward peaks at {path}: measure them with `partner-bot train calibration`, "
            "or set [rewriter] smoothing = 0 to keep those layers float"
        )
    return load_file(path)
