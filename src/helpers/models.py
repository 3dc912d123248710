"""The small models the chapters train."""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from helpers.nn.losses import mse  # models are judged by the book's one MSE


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


def select_polynomial_degree(
    x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor, y_val: torch.Tensor, degrees: Iterable[int]
) -> int:
    """The degree in ``degrees`` whose least-squares fit to the training data has the lowest validation MSE.

    Ties go to the first (smallest, if ``degrees`` is increasing) degree. x_*, y_*: (N,).
    """
    degrees = list(degrees)
    if not degrees:
        raise ValueError("degrees is empty: pass the candidate degrees, e.g. range(13).")
    errors = [mse(PolynomialRegression(d).fit(x_train, y_train).predict(x_val), y_val).item() for d in degrees]
    return degrees[min(range(len(errors)), key=errors.__getitem__)]


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
