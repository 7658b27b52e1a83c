"""int8 dynamic quantisation for CPU inference, shared by the classifier and the rewriter."""

from __future__ import annotations

import re
import warnings

import torch
from torch import nn

# The transformer's feed-forward output projections (MiniLM: "layer.N.output.dense", SmolLM2:
# "down_proj") stay float: their inputs carry outlier activations that int8 cannot hold. Measured
# on dev.csv: quantising them too cost the classifier 0.03-0.04 macro-F1 on ER and EX and raised
# the rewriter's per-token loss on rationale sentences from 3.41 to 4.3-4.5 nats; without them the
# classifier's figures stay within one dev row and the loss rises to 3.52.
# SmoothQuant (down_proj's input peaks folded into up_proj, then int8 everywhere) was tried on the
# rewriter (session 37, AVX2-only CPU): a decoding step of 30 rows 106 -> 87 ms, per-token loss on dev's
# rationale sentences 3.95 -> 4.00 with strength 0.8 calibrated on 64 train rows, but 4.21 calibrated on
# the 8 sample exchanges, and 124 rows of the project's own writing took 37 s at load (4.05): shipping
# it needs scales computed once from train and stored beside the adapter.
FEED_FORWARD_OUTPUT = r"(?<!attention)\.output\.dense$|down_proj"


def quantize_linear_layers(model: nn.Module, skip: str = FEED_FORWARD_OUTPUT) -> nn.Module:
    """Linear layers replaced, in place, by int8 dynamically quantised ones (per-channel weights),
    except those whose module name matches the skip pattern; for inference on a CPU only. In place:
    a copy would hold the float model twice at load (the worker's peak memory).

    torch marks its eager quantisation API deprecated in favour of torchao, which is not part of
    the pinned stack; the API still works in the pinned torch, so its warnings are silenced here
    rather than repeated on every load.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    chosen = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and not re.search(skip, name)
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, chosen, dtype=torch.qint8, inplace=True)
