"""SmoothQuant for the rewriter's language model: folding the feed-forward peaks in leaves the float
model's predictions as they were, lets int8 hold an outlier channel that plain int8 loses, and the
peaks are measured on real tokens only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from partner_model.base_models import BaseModelError
from partner_model.quantization import NOTHING, quantize_linear_layers, smooth_feed_forward
from partner_model.rewriter.batching import Sequence
from partner_model.rewriter.calibration import feed_forward_peaks, load_peaks, save_peaks
from partner_model.rewriter.edits import EditKind
from partner_model.rewriter.inference import RewriteConfig, Rewriter
from partner_model.rewriter.policy import RewriterPolicy, build, load_merged, save
from partner_model.rewriter.prompt import encode_continuation, encode_prompt
from tests.rewriter.test_training_plumbing import TINY

OUTLIER = 3  # the channel given a peak a hundred times its neighbours'
IDS = torch.tensor([[1, 17, 230, 4051, 99, 12, 845, 3]])


@pytest.fixture
def folder(tiny_lm_dir: Path, tmp_path: Path) -> Path:
    save(build(tiny_lm_dir, TINY), tmp_path / "policy")
    return tmp_path / "policy"


def _policy(folder: Path, tiny_lm_dir: Path) -> RewriterPolicy:
    """A tiny float policy whose first feed-forward block has one outlier channel entering down_proj,
    planted without changing the function (up_proj's row scaled up, down_proj's column down), as real
    language models have them."""
    policy = load_merged(folder, tiny_lm_dir, torch.device("cpu"), quantize=False)
    mlp = policy.causal_lm.model.layers[0].mlp
    with torch.no_grad():
        mlp.up_proj.weight[OUTLIER] *= 100
        mlp.down_proj.weight[:, OUTLIER] /= 100
    return policy


def _rows(policy: RewriterPolicy, replies: list[tuple[str, list[str], str]]) -> list[Sequence]:
    rows = []
    for seeker, sentences, sentence in replies:
        prompt = encode_prompt(policy.tokenizer, seeker, sentences, policy.config.prompt)
        prefix, tokens = encode_continuation(policy.tokenizer, EditKind.INSERT, 0, sentence)
        rows.append(Sequence(prompt, EditKind.INSERT, 0, prefix, tokens))
    return rows


REPLIES = [
    ("I lost my job today and I feel worthless.", ["Update your CV."], "That sounds really painful."),
    ("Nobody ever writes back to me, not even my sister.", ["Ok.", "Try again."], "How long has it been?"),
    ("I can't sleep.", ["Same."], "I'm sorry, that must be exhausting."),
]


def _logits(policy: RewriterPolicy) -> torch.Tensor:
    with torch.inference_mode():
        return policy.causal_lm(input_ids=IDS).logits


def test_smoothing_keeps_the_float_model_and_lets_int8_hold_an_outlier_channel(folder: Path, tiny_lm_dir: Path) -> None:
    float_policy = _policy(folder, tiny_lm_dir)
    expected = _logits(float_policy)
    peaks = feed_forward_peaks(float_policy, _rows(float_policy, REPLIES))
    assert int(peaks["model.layers.0.mlp.down_proj"].argmax()) == OUTLIER

    smoothed = _policy(folder, tiny_lm_dir)
    assert smooth_feed_forward(smoothed.lm, peaks, 0.8) == len(smoothed.causal_lm.model.layers)
    torch.testing.assert_close(_logits(smoothed), expected, atol=1e-4, rtol=1e-4)

    plain = _policy(folder, tiny_lm_dir)
    plain.lm = quantize_linear_layers(plain.lm, NOTHING)
    smoothed.lm = quantize_linear_layers(smoothed.lm, NOTHING)
    plain_error = (_logits(plain) - expected).abs().mean()
    smoothed_error = (_logits(smoothed) - expected).abs().mean()
    assert smoothed_error < plain_error / 2, (float(smoothed_error), float(plain_error))


def test_peaks_count_real_tokens_only(folder: Path, tiny_lm_dir: Path) -> None:
    """A short reply padded beside a long one gives the peaks it gives alone: padding never counts."""
    policy = _policy(folder, tiny_lm_dir)
    rows = _rows(policy, REPLIES)
    together = feed_forward_peaks(policy, rows, batch_size=len(rows))
    apart = [feed_forward_peaks(policy, [row]) for row in rows]
    for name, peak in together.items():
        torch.testing.assert_close(peak, torch.stack([a[name] for a in apart]).amax(0), atol=1e-5, rtol=1e-5)


def test_peaks_survive_a_save_and_name_their_origin(folder: Path, tiny_lm_dir: Path, tmp_path: Path) -> None:
    from safetensors import safe_open

    policy = _policy(folder, tiny_lm_dir)
    peaks = feed_forward_peaks(policy, _rows(policy, REPLIES))
    path = tmp_path / "calibration" / "peaks.safetensors"
    save_peaks(peaks, path, {"command": "partner-bot train calibration --train t.csv", "rows": "3"})
    loaded = load_peaks(path)
    assert loaded.keys() == peaks.keys()
    for name, peak in peaks.items():
        torch.testing.assert_close(loaded[name], peak)
    with safe_open(path, "pt") as stored:
        assert stored.metadata()["command"].startswith("partner-bot train calibration")


def test_peaks_of_another_model_are_refused(folder: Path, tiny_lm_dir: Path) -> None:
    policy = _policy(folder, tiny_lm_dir)
    with pytest.raises(ValueError, match="does not have"):
        smooth_feed_forward(policy.lm, {"model.layers.99.mlp.down_proj": torch.ones(8)}, 0.8)


def _float_layers(rewriter: Rewriter) -> list[str]:
    return [name for name, m in rewriter.policy.lm.named_modules() if type(m) is nn.Linear]


def test_the_rewriter_quantises_every_layer_with_peaks_and_keeps_down_proj_float_without(
    folder: Path, tiny_lm_dir: Path, tmp_path: Path
) -> None:
    policy = _policy(folder, tiny_lm_dir)
    save_peaks(feed_forward_peaks(policy, _rows(policy, REPLIES)), tmp_path / "peaks.safetensors", {})
    with_peaks = Rewriter.load(
        folder, tiny_lm_dir, None, None, RewriteConfig(feed_forward_peaks=tmp_path / "peaks.safetensors"), "cpu"
    )  # type: ignore[arg-type]
    assert _float_layers(with_peaks) == []
    without = Rewriter.load(folder, tiny_lm_dir, None, None, RewriteConfig(), "cpu")  # type: ignore[arg-type]
    assert _float_layers(without) and all(name.endswith("down_proj") for name in _float_layers(without))
    turned_off = RewriteConfig(feed_forward_peaks=tmp_path / "peaks.safetensors", smoothing=0.0)
    assert _float_layers(Rewriter.load(folder, tiny_lm_dir, None, None, turned_off, "cpu")) == _float_layers(without)  # type: ignore[arg-type]


def test_a_missing_peaks_file_is_named_with_the_fix(folder: Path, tiny_lm_dir: Path, tmp_path: Path) -> None:
    config = RewriteConfig(feed_forward_peaks=tmp_path / "nowhere.safetensors")
    with pytest.raises(BaseModelError, match="partner-bot train calibration"):
        Rewriter.load(folder, tiny_lm_dir, None, None, config, "cpu")  # type: ignore[arg-type]
