"""Folding a saved LoRA adapter into a model's linear weights, for inference, without peft.

Serving processes only ever need the merged weights; importing peft for that costs about 140 MB
of resident memory (measured: 263 -> 407 MB) in a bot whose budget is 600 MB. Training still
uses peft; this reads the adapter files peft writes (plain LoRA: no DoRA, no per-layer ranks).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import nn

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
KEY_PREFIX = "base_model.model."
UNSUPPORTED = ("use_dora", "alpha_pattern", "rank_pattern", "modules_to_save", "trainable_token_indices")


class AdapterError(ValueError):
    """The adapter cannot be folded into this model (another base model, or a LoRA variant)."""


@torch.no_grad()
def merge_lora(model: nn.Module, adapter_dir: Path) -> int:
    """Add scale * B @ A to every adapted linear layer of model, in place; returns how many.

    The adapter's module names must all exist in the model: an adapter trained on another base
    model is an error here, not a silent partial merge.
    """
    from safetensors.torch import load_file

    config = json.loads((adapter_dir / CONFIG_FILE).read_text())
    used = [name for name in UNSUPPORTED if config.get(name)]
    if used or config.get("peft_type", "LORA") != "LORA":
        raise AdapterError(f"{adapter_dir}: only plain LoRA adapters can be merged here (it uses {used})")
    rank = config["r"]
    scale = config["lora_alpha"] / (math.sqrt(rank) if config.get("use_rslora") else rank)
    tensors = load_file(adapter_dir / WEIGHTS_FILE)
    modules = dict(model.named_modules())
    merged = 0
    for key, down in tensors.items():
        if not key.endswith(".lora_A.weight"):
            continue
        name = key.removeprefix(KEY_PREFIX).removesuffix(".lora_A.weight")
        layer = modules.get(name)
        if not isinstance(layer, nn.Linear):
            raise AdapterError(f"{adapter_dir}: the adapter names {name!r}, which is no linear layer of this model")
        up = tensors[key.replace(".lora_A.", ".lora_B.")]
        delta = (up.float() @ down.float()) * scale
        layer.weight += (delta.T if config.get("fan_in_fan_out") else delta).to(layer.weight.dtype)
        merged += 1
    if not merged:
        raise AdapterError(f"{adapter_dir}: the adapter holds no LoRA weights")
    return merged
