"""The PARTNER policy: SmolLM2 with a LoRA adapter on its upper layers, and a position head.

The position head scores every edit of a reply (insert before sentence i, replace sentence i)
from the hidden states at the slot markers and at the prompt's last token; the language model,
given the chosen edit, writes the sentence. No side effects here: config, module, save, load.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from partner_model.rewriter.edits import EditKind, actions_for
from partner_model.rewriter.prompt import EncodedPrompt, PromptConfig

CONFIG_FILE = "policy.json"
HEAD_FILE = "position_head.safetensors"
ADAPTER_DIR = "adapter"
POLICY_ADAPTER = "default"  # peft's name of the adapter being trained; others (a frozen reference) are not saved


@dataclass
class PolicyConfig:
    lora_r: int = 16  # adapter rank
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    # LoRA on the upper layers only: backward stops there, which roughly halves a training step on CPU.
    lora_first_layer: int = 18
    lora_targets: list[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    head_hidden: int = 256
    prompt: PromptConfig = field(default_factory=PromptConfig)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "prompt"}
        return cls(prompt=PromptConfig(**data.get("prompt", {})), **known)


class PositionHead(nn.Module):
    """Two scores per slot, insert and replace, from [slot state; final state]."""

    def __init__(self, hidden_size: int, head_hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 * hidden_size, head_hidden), nn.GELU(), nn.Linear(head_hidden, 2))

    def forward(self, hidden: torch.Tensor, prompt: EncodedPrompt, offset: int = 0) -> torch.Tensor:
        """Logits over actions_for(prompt.shown), for one row of hidden states (length, hidden)."""
        slots = hidden[[offset + p for p in prompt.slot_positions]]
        final = hidden[offset + len(prompt.input_ids) - 1].expand_as(slots)
        scores = self.net(torch.cat([slots, final], dim=-1))  # (slots, 2)
        inserts = scores[:, 0]  # insert before i, read at slot i
        replaces = scores[1:, 1]  # replace i, read at slot i + 1
        return torch.cat([inserts, replaces])


class RewriterPolicy(nn.Module):
    def __init__(self, lm: nn.Module, tokenizer: Any, config: PolicyConfig) -> None:
        super().__init__()
        self.lm = lm
        self.tokenizer = tokenizer
        self.config = config
        self.position_head = PositionHead(lm.config.hidden_size, config.head_hidden)

    @property
    def end_id(self) -> int:
        return int(self.tokenizer.convert_tokens_to_ids("<|im_end|>"))

    @property
    def device(self) -> torch.device:
        return next(self.lm.parameters()).device

    @property
    def causal_lm(self) -> nn.Module:
        """The transformers model under the adapter (or the merged model itself)."""
        return self.lm.get_base_model() if hasattr(self.lm, "get_base_model") else self.lm

    def hidden_states(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Last-layer states (after the final norm), without the vocabulary projection: most
        positions need no logits, and a 49k-wide projection of every position dominates a CPU step."""
        return self.causal_lm.model(
            input_ids=input_ids.to(self.device), attention_mask=attention_mask.to(self.device)
        ).last_hidden_state

    def token_logits(self, states: torch.Tensor) -> torch.Tensor:
        return self.causal_lm.lm_head(states)

    def merge_for_inference(
        self, quantize: bool = False, peaks: Mapping[str, torch.Tensor] | None = None, smoothing: float = 0.0
    ) -> None:
        """Fold the adapter into the weights: no LoRA overhead per token when only sampling.

        quantize: int8 dynamic quantisation of the linear layers, on a CPU only. A decoding step
        of this small model is dominated by its matrix products at batch sizes of a few rows, and
        int8 makes them about twice as fast. The feed-forward output projections stay float unless
        their input peaks are given and smoothing (SmoothQuant's strength) is above 0: then they are
        smoothed and quantised too (partner_model.quantization).
        """
        if hasattr(self.lm, "merge_and_unload"):
            self.lm = self.lm.merge_and_unload()
        self.eval()
        if quantize and self.device.type == "cpu":
            from partner_model.quantization import (
                FEED_FORWARD_OUTPUT,
                NOTHING,
                quantize_linear_layers,
                smooth_feed_forward,
            )

            skip = FEED_FORWARD_OUTPUT
            if peaks and smoothing > 0:
                smooth_feed_forward(self.lm, peaks, smoothing)
                skip = NOTHING
            self.lm = quantize_linear_layers(self.lm, skip)

    def action_logits(self, hidden_row: torch.Tensor, prompt: EncodedPrompt, offset: int = 0) -> torch.Tensor:
        return self.position_head(hidden_row, prompt, offset)

    @staticmethod
    def action_index(prompt: EncodedPrompt, kind: EditKind, position: int) -> int:
        return actions_for(prompt.shown).index((kind, position))


def best_device(requested: str = "auto") -> torch.device:
    """'auto' takes CUDA when present; asking for CUDA without it is an error, not a silent fallback."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device on this machine")
    return torch.device(requested)


def build(
    lm_dir: Path,
    config: PolicyConfig,
    adapter_dir: Path | None = None,
    trainable: bool = True,
    device: torch.device | None = None,
) -> RewriterPolicy:
    """A policy on the base LM: a fresh LoRA adapter, or a saved one (adapter_dir) to continue training."""
    from peft import LoraConfig, PeftModel, get_peft_model

    tokenizer, base = _base_lm(lm_dir)
    if adapter_dir is not None:
        lm = PeftModel.from_pretrained(base, adapter_dir, is_trainable=trainable)
    else:
        layers = list(range(config.lora_first_layer, base.config.num_hidden_layers))
        lora = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=config.lora_dropout,
            target_modules=config.lora_targets,
            layers_to_transform=layers,
            task_type="CAUSAL_LM",
        )
        lm = get_peft_model(base, lora)
    return RewriterPolicy(lm, tokenizer, config).to(device or torch.device("cpu"))


def save(policy: RewriterPolicy, folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(policy.config.to_json())
    policy.lm.save_pretrained(folder / ADAPTER_DIR, selected_adapters=[POLICY_ADAPTER])
    # peft writes a template README with no content; the project's model card says what matters.
    (folder / ADAPTER_DIR / "README.md").unlink(missing_ok=True)
    state = {k: v.detach().contiguous() for k, v in policy.position_head.state_dict().items()}
    save_file(state, folder / HEAD_FILE)


def _base_lm(lm_dir: Path) -> tuple[Any, nn.Module]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(lm_dir)
    tokenizer.padding_side = "left"
    return tokenizer, AutoModelForCausalLM.from_pretrained(lm_dir, dtype=torch.float32)


def _with_head(policy: RewriterPolicy, folder: Path) -> RewriterPolicy:
    from safetensors.torch import load_file

    policy.position_head.load_state_dict(load_file(folder / HEAD_FILE, device=str(policy.device)))
    return policy


def load(folder: Path, lm_dir: Path, trainable: bool = False, device: torch.device | None = None) -> RewriterPolicy:
    """A saved policy with its adapter as a peft module: to train further, or to read its log-probabilities."""
    config = PolicyConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text()))
    adapted = build(lm_dir, config, adapter_dir=folder / ADAPTER_DIR, trainable=trainable, device=device)
    policy = _with_head(adapted, folder)
    return policy if trainable else policy.eval()


def load_merged(
    folder: Path,
    lm_dir: Path,
    device: torch.device,
    quantize: bool,
    peaks: Mapping[str, torch.Tensor] | None = None,
    smoothing: float = 0.0,
) -> RewriterPolicy:
    """A saved policy for sampling only: the adapter folded into the weights without peft (serving
    processes never import it), then quantised on a CPU when asked (merge_for_inference)."""
    from partner_model.lora import merge_lora

    config = PolicyConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text()))
    tokenizer, lm = _base_lm(lm_dir)
    merge_lora(lm, folder / ADAPTER_DIR)
    policy = _with_head(RewriterPolicy(lm, tokenizer, config).to(device), folder)
    policy.merge_for_inference(quantize, peaks, smoothing)
    return policy
