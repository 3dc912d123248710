"""The small models the chapters train."""

from __future__ import annotations

import torch
from torch import nn

from helpers.nn.losses import mse  # noqa: F401  (models are judged by the book's one MSE)


def polynomial_features(x: torch.Tensor, degree: int) -> torch.Tensor:
    """Vandermonde matrix [1, z, z^2, ..., z^degree] of z = 2x - 1 (x in [0, 1] maps to [-1, 1]).

    Centring x keeps high powers from all shrinking towards 0 together, which keeps the least-squares
    problem well conditioned. x: (N,) -> (N, degree + 1).
    """
    if degree < 0 or int(degree) != degree:
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}.")
    z = 2 * x - 1
    return torch.stack([z**k for k in range(int(degree) + 1)], dim=-1)


class PolynomialRegression:
    """y_hat = sum_k w_k z^k fitted by least squares: w = argmin ||Phi w - y||^2 (minimum-norm if not unique).

    A polynomial of degree d has d + 1 parameters: its capacity grows with d.
    """

    def __init__(self, degree: int):
        polynomial_features(torch.zeros(1), degree)  # validates degree
        self.degree = int(degree)
        self.weights: torch.Tensor | None = None

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> PolynomialRegression:
        """x: (N,), y: (N,). Returns self, so ``PolynomialRegression(3).fit(x, y)`` reads naturally."""
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError(f"x and y must both have shape (N,), got {tuple(x.shape)} and {tuple(y.shape)}.")
        phi = polynomial_features(x, self.degree)
        self.weights = torch.linalg.pinv(phi) @ y
        return self

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N,) -> y_hat: (N,)."""
        if self.weights is None:
            raise RuntimeError("Call .fit(x, y) before .predict(x).")
        return polynomial_features(x, self.degree) @ self.weights


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


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
