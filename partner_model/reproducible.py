"""Training runs that repeat bit for bit on one machine: the same data and seed give the same weights."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch


@contextmanager
def repeatable(seed: int) -> Iterator[None]:
    """Seeds Python, NumPy and torch and holds torch to deterministic kernels until the block ends.

    Seeds alone were not enough: two feedback retrainings of the same adapter on the same examples, in
    one process on two threads, agreed in their losses to six digits and still ended with different
    weights, and AdamW turns such last-bit differences in near-zero gradients into whole steps, so the
    feedback loop's rounds came out differently from run to run. Deterministic kernels made them
    repeat exactly, for about 3% more time. The previous setting is restored afterwards, so the flag
    does not leak into whatever the process runs next.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
