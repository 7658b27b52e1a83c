"""The classifier module: a MiniLM cross-encoder with LoRA, a level head and a rationale tagger per mechanism.

No side effects: config, module, save and load. Training and inference live in their own files.
A saved classifier is a folder with its config, the LoRA adapter, the heads and a model card, a
few MB in all; the base encoder comes from the setup cache.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from partner_model.empathy import LEVELS, MECHANISMS
from partner_model.empathy.rationales import DEFAULT_THRESHOLD, DEFAULT_UNIT, Fitted

CONFIG_FILE = "classifier.json"
HEADS_FILE = "heads.safetensors"
ADAPTER_DIR = "adapter"


@dataclass
class ClassifierConfig:
    """Everything needed to rebuild a trained classifier, stored beside its weights."""

    max_length: int = 256  # tokens of response + seeker post + 3 special tokens
    max_seeker_tokens: int = 96  # the seeker post's share when the response is long
    head_layout: str = "pooled"  # "pooled": [CLS; response mean; seeker mean]; "cls": [CLS] only
    head_hidden: int = 256  # hidden units of each level head
    dropout: float = 0.1
    lora_r: int = 16  # LoRA rank on every attention and feed-forward matrix
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    seed: int = 13
    mechanisms: list[str] = field(default_factory=lambda: list(MECHANISMS))
    # Added to each mechanism's level logits at prediction, fitted by cross-validation on train
    # (cross_fit.py) so rare levels are predicted as often as macro-F1 wants; zeros: plain argmax.
    level_offsets: list[list[float]] = field(default_factory=lambda: [[0.0] * LEVELS for _ in MECHANISMS])
    # How each mechanism's rationale is read from the tagger: token by token or whole sentences, and the
    # probability that marks one (rationales.py); fitted by cross-validation on train where that helps.
    rationale_units: list[str] = field(default_factory=lambda: [DEFAULT_UNIT] * len(MECHANISMS))
    rationale_thresholds: list[float] = field(default_factory=lambda: [DEFAULT_THRESHOLD] * len(MECHANISMS))

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClassifierConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.unsqueeze(-1)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1.0)


class EmpathyHeads(nn.Module):
    """Level logits per mechanism from pooled states, and a rationale logit per token and mechanism."""

    def __init__(self, hidden_size: int, config: ClassifierConfig) -> None:
        super().__init__()
        self.layout = config.head_layout
        if self.layout not in ("pooled", "cls"):
            raise ValueError(f"head_layout must be 'pooled' or 'cls', not {self.layout!r}")
        pooled_size = hidden_size * (3 if self.layout == "pooled" else 1)
        self.level_heads = nn.ModuleList(
            nn.Sequential(
                nn.Dropout(config.dropout),
                nn.Linear(pooled_size, config.head_hidden),
                nn.GELU(),
                nn.Dropout(config.dropout),
                nn.Linear(config.head_hidden, LEVELS),
            )
            for _ in config.mechanisms
        )
        self.rationale_head = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(hidden_size, len(config.mechanisms)))
        # Not in the heads file: the config holds them, so the shipped heads stay as trained.
        self.register_buffer("level_offsets", torch.tensor(config.level_offsets, dtype=torch.float32), persistent=False)

    def forward(
        self, hidden: torch.Tensor, response_mask: torch.Tensor, seeker_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        cls = hidden[:, 0]
        if self.layout == "pooled":
            pooled = torch.cat([cls, _masked_mean(hidden, response_mask), _masked_mean(hidden, seeker_mask)], dim=-1)
        else:
            pooled = cls
        levels = torch.stack([head(pooled) for head in self.level_heads], dim=1)  # (batch, mechanism, level)
        levels = levels + self.level_offsets
        rationales = self.rationale_head(hidden)  # (batch, token, mechanism)
        return levels, rationales


class EmpathyModel(nn.Module):
    def __init__(self, encoder: nn.Module, config: ClassifierConfig) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder
        hidden_size = encoder.config.hidden_size
        self.heads = EmpathyHeads(hidden_size, config)

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.encoder(
            input_ids=batch["input_ids"],
            attention_mask=batch["attention_mask"],
            token_type_ids=batch["token_type_ids"],
        ).last_hidden_state
        return self.heads(hidden, batch["response_mask"], batch["seeker_mask"])

    def set_level_offsets(self, offsets: list[list[float]]) -> None:
        self.config.level_offsets = [[float(v) for v in row] for row in offsets]
        self.heads.level_offsets.copy_(torch.tensor(self.config.level_offsets))

    def set_rationale_readings(self, readings: Fitted) -> None:
        self.config.rationale_units = list(readings.units)
        self.config.rationale_thresholds = [float(t) for t in readings.thresholds]


def lora_target_modules() -> list[str]:
    """Every linear layer of the BERT-style encoder blocks (the unused pooler is left out)."""
    return ["query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"]


def build_for_training(encoder_dir: Path, config: ClassifierConfig) -> EmpathyModel:
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    torch.manual_seed(config.seed)
    base = AutoModel.from_pretrained(encoder_dir, add_pooling_layer=False)
    lora = LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules=lora_target_modules(),
    )
    return EmpathyModel(get_peft_model(base, lora), config)


def save(model: EmpathyModel, folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    (folder / CONFIG_FILE).write_text(model.config.to_json())
    model.encoder.save_pretrained(folder / ADAPTER_DIR)
    # peft writes a template README with no content; the project's model card says what matters.
    (folder / ADAPTER_DIR / "README.md").unlink(missing_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.heads.state_dict().items()}, folder / HEADS_FILE)


def load(folder: Path, encoder_dir: Path) -> EmpathyModel:
    """A trained classifier with its adapter merged into the encoder (without peft: the bot serves
    with it), ready for inference."""
    from safetensors.torch import load_file
    from transformers import AutoModel

    from partner_model.lora import merge_lora

    config = ClassifierConfig.from_dict(json.loads((folder / CONFIG_FILE).read_text()))
    encoder = AutoModel.from_pretrained(encoder_dir, add_pooling_layer=False)
    merge_lora(encoder, folder / ADAPTER_DIR)
    model = EmpathyModel(encoder, config)
    model.heads.load_state_dict(load_file(folder / HEADS_FILE))
    return model.eval()
