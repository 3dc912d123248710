"""Polynomial regression by least squares (chapter 1): features, fit, and choosing the degree."""

from __future__ import annotations

from collections.abc import Iterable

import torch

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
