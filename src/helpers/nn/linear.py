"""Linear layers: y = x W^T + b, as ``torch.nn.functional.linear`` computes it.

Stacking linear layers without a non-linearity between them gains nothing: two layers compose into one,

    W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2),

so a deep linear network can only represent linear maps (``compose_linear`` computes the single layer).
"""

from __future__ import annotations

import torch


def compose_linear(
    W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, b) with W x + b = W2 (W1 x + b1) + b2 for every x.

    W1: (H, D), b1: (H,), W2: (K, H), b2: (K,) -> W: (K, D), b: (K,).
    """
    if W1.shape[0] != W2.shape[1]:
        raise ValueError(f"W1 maps to {W1.shape[0]} values but W2 expects {W2.shape[1]}: the layers do not chain.")
    return W2 @ W1, W2 @ b1 + b2
