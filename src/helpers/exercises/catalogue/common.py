"""What every chapter's catalogue module shares."""

from __future__ import annotations

import torch

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    """A CPU generator with its own seed, so each exercise's cases are the same on every run."""
    return torch.Generator().manual_seed(seed)
