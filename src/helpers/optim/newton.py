"""Newton's method: the Hessian by differentiating the gradient, and the step that minimises the local quadratic.

Near x, f is approximately its second-order Taylor model

    f(x + d) ~ f(x) + g^T d + (1/2) d^T H d,      g = grad f(x),  H = Hessian of f at x (H_ij = d2f / dx_i dx_j).

For positive-definite H the model is minimised where its gradient g + H d vanishes, so

    x_new = x - H^-1 g                (solve H d = -g; never form H^-1)

On a quadratic f(x) = (1/2) x^T A x - b^T x the model *is* f, and one step lands on the minimum A^-1 b from
anywhere. Damping (Levenberg-Marquardt) solves (H + lambda I) d = -g instead: lambda -> 0 is Newton,
large lambda is a gradient step of size 1/lambda; it also rescues an H that is singular or indefinite.

The Hessian comes from autograd applied twice (double backward): keep the graph of g = grad f(x)
(``create_graph=True``), then differentiate each component g_i once more to get row i of H.
n = x.numel() backward passes; torch.func.hessian (forward-over-reverse, vectorised) gives the same matrix.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

ScalarFunction = Callable[[torch.Tensor], torch.Tensor]


def _scalar_output(f: ScalarFunction, x: torch.Tensor) -> torch.Tensor:
    y = f(x)
    if not isinstance(y, torch.Tensor) or y.numel() != 1:
        shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"f must return a scalar tensor (a loss), got {shape}. Sum or average it first.")
    return y.reshape(())


def gradient(f: ScalarFunction, x: torch.Tensor) -> torch.Tensor:
    """grad f(x), same shape as x (x is not modified and needs no requires_grad)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        y = _scalar_output(f, x)
        (g,) = torch.autograd.grad(y, x, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def hessian(f: ScalarFunction, x: torch.Tensor) -> torch.Tensor:
    """H_ij = d2 f / dx_i dx_j at x by double backward. x: (*s) -> (*s, *s), like torch.autograd.functional.hessian.

    f must be twice differentiable (a ReLU's second derivative is 0 almost everywhere, so H misses its kinks).
    """
    x = x.detach().requires_grad_(True)
    n = x.numel()
    rows = []
    with torch.enable_grad():
        y = _scalar_output(f, x)
        (g,) = torch.autograd.grad(y, x, create_graph=True, allow_unused=True)  # g = grad f, kept differentiable
        g = torch.zeros_like(x) if g is None else g.reshape(-1)
        for i in range(n):
            if not g.requires_grad:  # g does not depend on x (f is linear): H = 0
                rows.append(torch.zeros(n, dtype=x.dtype, device=x.device))
                continue
            (row,) = torch.autograd.grad(g[i], x, retain_graph=True, allow_unused=True)  # d g_i / dx = row i of H
            rows.append(torch.zeros(n, dtype=x.dtype, device=x.device) if row is None else row.reshape(-1))
    return torch.stack(rows).reshape(*x.shape, *x.shape).detach()


def newton_step(f: ScalarFunction, x: torch.Tensor, damping: float = 0.0, lr: float = 1.0) -> torch.Tensor:
    """x - lr (H + damping I)^-1 g at x: the (damped) Newton step. x: any shape; returns a new tensor like x.

    damping = 0, lr = 1 is the pure Newton step, exact in one step on a quadratic with positive-definite H.
    """
    if damping < 0:
        raise ValueError(f"damping must be >= 0, got {damping}.")
    n = x.numel()
    g = gradient(f, x).reshape(n)
    h = hessian(f, x).reshape(n, n) + damping * torch.eye(n, dtype=x.dtype, device=x.device)  # H + lambda I
    try:
        d = torch.linalg.solve(h, -g)  # (H + lambda I) d = -g
    except RuntimeError as error:  # torch.linalg.LinAlgError is a RuntimeError
        raise ValueError(
            "The Hessian (plus damping) is singular at this x, so the Newton step is undefined: "
            "pass damping > 0 (e.g. damping=1e-3) or start from another point."
        ) from error
    return (x.detach().reshape(n) + lr * d).reshape(x.shape)  # x_new = x + lr d


def newton(f: ScalarFunction, x0: torch.Tensor, steps: int, damping: float = 0.0, lr: float = 1.0) -> torch.Tensor:
    """The iterates x_0, x_1, ..., x_steps of (damped) Newton's method, stacked: (steps + 1, *x0.shape)."""
    path = [x0.detach()]
    for _ in range(steps):
        path.append(newton_step(f, path[-1], damping, lr))
    return torch.stack(path)
