"""Trained artefacts shipped with the project (adapters and heads, each with its model card)."""

from __future__ import annotations

from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parent
SHIPPED_CLASSIFIER = WEIGHTS_DIR / "classifier"
# The judge is trained apart (another seed and head layout, train.csv only) and used only to evaluate.
SHIPPED_JUDGE = WEIGHTS_DIR / "judge"
# The PARTNER policy: LoRA adapter and position head after warm start and RL.
SHIPPED_REWRITER = WEIGHTS_DIR / "rewriter"
# The same policy after the supervised warm start only: the evaluation shows what RL adds.
SHIPPED_REWRITER_WARMSTART = WEIGHTS_DIR / "rewriter-warmstart"
# The base language model's feed-forward activation peaks on train.csv, for int8 inference of every adapter.
SHIPPED_LM_PEAKS = WEIGHTS_DIR / "lm-calibration" / "feed_forward_peaks.safetensors"
