"""What every chapter's catalogue module shares."""

from __future__ import annotations

import torch

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    """A CPU generator with its own seed, so each exercise's cases are the same on every run."""
    return torch.Generator().manual_seed(seed)


def variance(x: torch.Tensor, correction: int = 1, dim: int = -1) -> torch.Tensor:
    """The variance along ``dim`` as a student writes it, sum of squared deviations / (m - correction).

    Known-wrong answers build on it: they may not call what the exercises forbid (``torch.var`` and friends).
    """
    return ((x - x.mean(dim, keepdim=True)) ** 2).sum(dim) / (x.shape[dim] - correction)
