"""Gradient checking: compare an analytic gradient with central finite differences.

For a scalar function f of a tensor x, the central difference along coordinate i is

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps),

whose error is O(eps^2) (the one-sided (f(x + eps e_i) - f(x)) / eps has error O(eps)). Rounding adds
an error of about (machine epsilon * |f|) / eps, so eps cannot be too small either: in float64,
eps around 1e-6 balances the two and leaves about 10 correct digits. In float32 a check is hopeless
(about 3 correct digits at best), so ``check_gradient`` insists on float64.

The analytic gradient g_a and the numerical one g_n are compared by their relative error

    ||g_a - g_n|| / (||g_a|| + ||g_n||)       (0 when both are zero),

which is ~1e-8 or smaller for a correct gradient in float64, and ~1e-2 or larger for a wrong one.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

ScalarFunction = Callable[[torch.Tensor], torch.Tensor | float]


def _scalar(value: torch.Tensor | float) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {tuple(value.shape)}.")
        return value.item()
    return float(value)


def numerical_grad(f: ScalarFunction, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Central finite-difference gradient of a scalar function f at x.

    f: (shape of x) -> scalar (0-dim tensor or float). Returns a tensor like x (same shape, dtype,
    device) whose entry i is (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). x itself is not modified.
    Costs 2 * x.numel() evaluations of f.
    """
    x = x.detach()
    grad = torch.zeros_like(x)
    flat = grad.view(-1)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        step = step.view_as(x)
        flat[i] = (_scalar(f(x + step)) - _scalar(f(x - step))) / (2 * eps)
    return grad


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / (||a|| + ||b||), in [0, 1]; 0 when both are zero."""
    a, b = a.detach().double(), b.detach().double().to(a.device)
    denominator = (a.norm() + b.norm()).item()
    return 0.0 if denominator == 0 else (a - b).norm().item() / denominator


def check_gradient(
    f: ScalarFunction, x: torch.Tensor, analytic_grad: torch.Tensor, eps: float = 1e-6
) -> float:
    """Relative error between ``analytic_grad`` (claimed df/dx at x) and the central-difference gradient.

    x and analytic_grad: float64 tensors of the same shape. Below ~1e-7: the gradient is right; above
    ~1e-4: it is almost certainly wrong.
    """
    if x.dtype != torch.float64:
        raise TypeError(
            f"Gradient checks need float64 (got {x.dtype}): in lower precision the finite differences "
            "lose most of their digits to rounding."
        )
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad has shape {tuple(analytic_grad.shape)}, x has {tuple(x.shape)}.")
    return relative_error(analytic_grad, numerical_grad(f, x, eps))


def gradient_error(f: ScalarFunction, x: torch.Tensor, analytic_grad: torch.Tensor, eps: float = 1e-6) -> float:
    """||g_a - g_n|| / (||g_a|| + ||g_n||) with g_n = numerical_grad(f, x, eps); 0 when both are zero.

    Like ``check_gradient``, but for any float dtype (the result is then only as good as the dtype allows).
    """
    return relative_error(analytic_grad, numerical_grad(f, x, eps))


def gradients_match(
    f: ScalarFunction, x: torch.Tensor, analytic_grad: torch.Tensor, eps: float = 1e-6, tolerance: float = 1e-6
) -> bool:
    """True when check_gradient(...) <= tolerance."""
    return check_gradient(f, x, analytic_grad, eps) <= tolerance
