"""int8 dynamic quantisation for CPU inference, shared by the classifier and the rewriter."""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

import torch
from torch import nn

# The transformer's feed-forward output projections (MiniLM: "layer.N.output.dense", SmolLM2:
# "down_proj") stay float: their inputs carry outlier activations that int8 cannot hold. Measured
# on dev.csv: quantising them too cost the classifier 0.03-0.04 macro-F1 on ER and EX and raised
# the rewriter's per-token loss on rationale sentences from 3.41 to 4.3-4.5 nats; without them the
# classifier's figures stay within one dev row and the loss rises to 3.52.
# For the rewriter they can be quantised too once their input peaks are folded into up_proj
# (smooth_feed_forward, with peaks measured on train.csv: partner_model/rewriter/calibration.py).
FEED_FORWARD_OUTPUT = r"(?<!attention)\.output\.dense$|down_proj"
NOTHING = r"(?!)"  # a skip pattern that matches no layer name
UINT8_LEVELS = 255  # steps of an unsigned 8-bit activation


@torch.no_grad()
def smooth_feed_forward(model: nn.Module, peaks: Mapping[str, torch.Tensor], strength: float) -> int:
    """SmoothQuant for gated feed-forward blocks (Llama's mlp): each channel c entering down_proj is
    divided by s_c (in up_proj's output row c) and down_proj's column c multiplied by it, so the float
    model computes the same function while down_proj's input loses the outlier channels that int8
    cannot hold. s_c = peak_c ** strength / max|down_proj[:, c]| ** (1 - strength), with peak_c the
    channel's largest input magnitude measured on real prompts (peaks, by down_proj's module name).
    In place; returns how many blocks were smoothed. Every named block must exist: peaks measured on
    another model are an error, not a partial fold."""
    modules = dict(model.named_modules())
    missing = sorted(set(peaks) - set(modules))
    if missing:
        raise ValueError(f"feed-forward peaks name layers this model does not have: {missing[:3]}")
    for name, peak in peaks.items():
        down = modules[name]
        up = modules[name.removesuffix("down_proj") + "up_proj"]
        weight_peak = down.weight.abs().amax(dim=0).clamp(min=1e-5)
        scale = (peak.clamp(min=1e-5) ** strength / weight_peak ** (1 - strength)).to(down.weight.dtype)
        up.weight.div_(scale.unsqueeze(1))
        down.weight.mul_(scale.unsqueeze(0))
    return len(peaks)


class StaticInt8Linear(nn.Module):
    """An int8 linear layer whose input is quantised with a fixed range measured on training data.

    torch's dynamic int8 layer takes its input scale from the whole batch, padding included, so a row's
    output depends on the rows beside it: the classifier gave 10 ER, 15 IP and 3 EX dev levels of 455
    differently scored one pair at a time than in chunks. With a fixed range a row's output is its own.
    The weights and the int8 kernel are the dynamic layer's, so the speed is the same."""

    def __init__(self, dynamic: nn.Module, low: float, high: float) -> None:
        super().__init__()
        self.packed = dynamic._packed_params._packed_params
        low, high = min(low, 0.0), max(high, 0.0)  # zero must be exact: padding and masked inputs are 0
        self.scale = max(high - low, 1e-8) / UINT8_LEVELS
        self.zero_point = round(-low / self.scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(-1, x.shape[-1])
        out = torch.ops.quantized.linear_with_input_q_dq_qweight_dq_output_fp32(
            flat, self.scale, self.zero_point, self.packed
        )
        return out.reshape(*x.shape[:-1], out.shape[-1])


def quantisable_layers(model: nn.Module, skip: str = FEED_FORWARD_OUTPUT) -> dict[str, nn.Linear]:
    """The float linear layers int8 inference quantises, by module name: those the skip pattern leaves."""
    return {
        name: module
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and not re.search(skip, name)
    }


def quantize_linear_layers(
    model: nn.Module,
    skip: str = FEED_FORWARD_OUTPUT,
    input_ranges: Mapping[str, torch.Tensor] | None = None,
) -> nn.Module:
    """Linear layers replaced, in place, by int8 dynamically quantised ones (per-channel weights),
    except those whose module name matches the skip pattern; for inference on a CPU only. In place:
    a copy would hold the float model twice at load (the worker's peak memory).

    With input_ranges (module name -> [low, high] of its inputs, measured on training data), every
    quantised layer takes its input scale from its range instead of from each batch
    (StaticInt8Linear); a quantised layer without a range is an error, as ranges of another model are.

    torch marks its eager quantisation API deprecated in favour of torchao, which is not part of
    the pinned stack; the API still works in the pinned torch, so its warnings are silenced here
    rather than repeated on every load.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    chosen = dict.fromkeys(quantisable_layers(model, skip), per_channel_dynamic_qconfig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        model = quantize_dynamic(model, chosen, dtype=torch.qint8, inplace=True)
    if input_ranges is not None:
        _fix_input_ranges(model, sorted(chosen), input_ranges)
    return model


def _fix_input_ranges(model: nn.Module, names: list[str], input_ranges: Mapping[str, torch.Tensor]) -> None:
    missing = [name for name in names if name not in input_ranges]
    if missing:
        raise ValueError(f"no input range for quantised layers {missing[:3]}: ranges measured on another model?")
    modules = dict(model.named_modules())
    for name in names:
        parent, _, child = name.rpartition(".")
        low, high = (float(v) for v in input_ranges[name])
        setattr(modules[parent] if parent else model, child, StaticInt8Linear(modules[name], low, high))
