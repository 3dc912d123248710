"""Radial basis function (RBF) networks, and the XOR problem they solve in one hidden layer.

A Gaussian RBF unit with centre c responds to how close the input is to c:

    h_j(x) = exp(-gamma ||x - c_j||^2),    gamma = 1 / (2 sigma^2),

1 at the centre, falling towards 0 with distance (sigma is the width). An RBF network puts a linear
layer on top, y(x) = sum_j w_j h_j(x) + b. With the centres fixed, y is linear in (w, b), so the output
weights are found by least squares, no gradient descent needed.
"""

from __future__ import annotations

import torch

XOR_INPUTS = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
XOR_TARGETS = torch.tensor([0.0, 1.0, 1.0, 0.0], dtype=torch.float64)


def gamma_from_sigma(sigma: float) -> float:
    """gamma = 1 / (2 sigma^2), so that exp(-gamma d^2) = exp(-d^2 / (2 sigma^2))."""
    if sigma <= 0:
        raise ValueError(f"sigma is a width and must be positive, got {sigma!r}.")
    return 1.0 / (2.0 * sigma**2)


def squared_distances(x: torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """||x_n - c_j||^2 for every input and centre. x: (N, D), centers: (J, D) -> (N, J)."""
    if x.ndim != 2 or centers.ndim != 2 or x.shape[1] != centers.shape[1]:
        raise ValueError(f"x must be (N, D) and centers (J, D), got {tuple(x.shape)} and {tuple(centers.shape)}.")
    diff = x[:, None, :] - centers[None, :, :]  # (N, J, D)
    return (diff**2).sum(dim=-1)


def rbf_features(x: torch.Tensor, centers: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """Gaussian RBF features h[n, j] = exp(-gamma ||x_n - c_j||^2). x: (N, D), centers: (J, D) -> (N, J).

    Same as ``sklearn.metrics.pairwise.rbf_kernel(x, centers, gamma=gamma)``.
    """
    if gamma <= 0:
        raise ValueError(f"gamma must be positive, got {gamma!r}.")
    return torch.exp(-gamma * squared_distances(x, centers))


def rbf_network(
    x: torch.Tensor, centers: torch.Tensor, weights: torch.Tensor, gamma: float = 1.0, bias: float = 0.0
) -> torch.Tensor:
    """y[n] = sum_j weights[j] h[n, j] + bias. x: (N, D), centers: (J, D), weights: (J,) -> (N,)."""
    return rbf_features(x, centers, gamma) @ weights + bias


def fit_output_weights(
    x: torch.Tensor, y: torch.Tensor, centers: torch.Tensor, gamma: float = 1.0, bias: bool = False
) -> torch.Tensor:
    """Least-squares output weights w = argmin ||H w - y||^2 (minimum-norm if not unique).

    x: (N, D), y: (N,), centers: (J, D) -> w: (J,), or (J + 1,) with the bias last when ``bias=True``.
    With one centre per training point (J = N) and distinct points, H is invertible and the network
    interpolates the data exactly.
    """
    h = rbf_features(x, centers, gamma)
    if bias:
        h = torch.cat([h, torch.ones_like(h[:, :1])], dim=1)
    return torch.linalg.pinv(h) @ y
