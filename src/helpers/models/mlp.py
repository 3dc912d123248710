"""The multilayer perceptron (chapter 3), its weight-space symmetries, and counting a model's parameters."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn


class MLP(nn.Module):
    """A multilayer perceptron: Linear -> ReLU -> ... -> Linear.

    sizes=(64, 32, 10) builds 64 -> 32 -> ReLU -> 10. x: (N, sizes[0]) -> logits: (N, sizes[-1]).
    """

    def __init__(self, sizes: tuple[int, ...] | list[int], activation: type[nn.Module] = nn.ReLU):
        super().__init__()
        if len(sizes) < 2:
            raise ValueError(f"An MLP needs at least an input and an output size, got sizes={sizes!r}.")
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out))
            if i < len(sizes) - 2:
                layers.append(activation())
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


def weight_space_symmetries(hidden_sizes: Iterable[int]) -> int:
    """How many weight vectors compute the same function as a given tanh MLP with these hidden layer sizes.

    In a hidden layer of M tanh units, any of the M! orderings of the units gives the same function (permute
    their incoming and outgoing weights together), and so does flipping the signs of a unit's incoming and
    outgoing weights (tanh is odd): 2^M choices. Layers are independent, so the counts multiply:
    prod_l M_l! 2^M_l (the original weights included; for generic weights all of them are distinct).
    """
    return math.prod(math.factorial(m) * 2**m for m in hidden_sizes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
