"""Folding a LoRA adapter without peft gives the same model peft does, and refuses a foreign adapter."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from partner_model.lora import AdapterError, merge_lora
from partner_model.rewriter.policy import build, load, load_merged, save
from tests.rewriter.test_training_plumbing import TINY


@pytest.fixture
def trained_folder(tiny_lm_dir: Path, tmp_path: Path) -> Path:
    """A tiny policy whose adapter is not the identity (peft starts B at zero)."""
    policy = build(tiny_lm_dir, TINY)
    torch.manual_seed(3)
    with torch.no_grad():
        for name, parameter in policy.lm.named_parameters():
            if "lora_" in name:
                parameter.normal_(0, 0.2)
    save(policy, tmp_path / "policy")
    return tmp_path / "policy"


def test_the_merged_policy_predicts_what_the_peft_policy_predicts(tiny_lm_dir: Path, trained_folder: Path) -> None:
    ids = torch.tensor([[1, 17, 230, 4051, 99, 12]])
    with_peft = load(trained_folder, tiny_lm_dir)
    merged = load_merged(trained_folder, tiny_lm_dir, torch.device("cpu"), quantize=False)
    base = build(tiny_lm_dir, TINY).causal_lm
    with torch.inference_mode():
        expected = with_peft.causal_lm(input_ids=ids).logits
        got = merged.causal_lm(input_ids=ids).logits
        untouched = base(input_ids=ids).logits
    assert not torch.allclose(expected, untouched, atol=1e-3)  # the adapter matters here
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    for key, value in with_peft.position_head.state_dict().items():
        torch.testing.assert_close(merged.position_head.state_dict()[key], value)


def test_an_adapter_for_another_model_is_refused_by_name(tiny_encoder_dir: Path, trained_folder: Path) -> None:
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(tiny_encoder_dir, add_pooling_layer=False)
    with pytest.raises(AdapterError, match="no linear layer of this model"):
        merge_lora(encoder, trained_folder / "adapter")
