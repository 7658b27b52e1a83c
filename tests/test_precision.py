"""bfloat16 autocast only where it is asked for and the CPU computes it natively."""

from __future__ import annotations

from contextlib import AbstractContextManager

import pytest
import torch

from partner_model.precision import bf16_autocast, cpu_has_bf16


def _matmul_dtype(context: AbstractContextManager[object]) -> torch.dtype:
    with context:
        return (torch.ones(4, 4) @ torch.ones(4, 4)).dtype


def test_switched_off_the_cpu_computes_in_float32() -> None:
    assert _matmul_dtype(bf16_autocast("cpu", enabled=False)) == torch.float32


def test_a_gpu_keeps_its_own_precision() -> None:
    assert _matmul_dtype(bf16_autocast("cuda")) == torch.float32  # not a CPU autocast, even on a bf16 CPU


@pytest.mark.skipif(not cpu_has_bf16(), reason="this CPU has no bf16 instructions")
def test_switched_on_a_cpu_with_bf16_instructions_computes_in_bfloat16() -> None:
    assert _matmul_dtype(bf16_autocast(torch.device("cpu"))) == torch.bfloat16
