"""The gradient-reversal layer of domain-adversarial training (Ganin & Lempitsky, 2015).

A gradient-reversal layer R_lambda is the identity on the way forward and multiplies the gradient by -lambda on the
way back:

    forward   R_lambda(h) = h
    backward  dL/dh = -lambda dL/dR                       (lambda >= 0 is the reversal's strength)

It is not a function whose derivative that is (no function is the identity with derivative -lambda), so it is
written as a ``torch.autograd.Function`` with a hand-made backward, and ``torch.autograd.gradcheck`` rightly fails
on it (it passes only for lambda = -1, where the backward is the identity's true derivative).

Why it is there. A domain-adversarial network has a feature extractor h = G_f(x; theta_f), a label predictor
G_y(h; theta_y) and a domain classifier G_d(R_lambda(h); theta_d) that guesses whether x came from the source or
the target domain. Ganin & Lempitsky seek a saddle point of

    E(theta_f, theta_y, theta_d) = L_y(theta_f, theta_y) - lambda L_d(theta_f, theta_d),

minimised over (theta_f, theta_y) and maximised over theta_d (= the domain classifier minimises L_d). One backward
pass of the plain sum L_y + L_d through the GRL does both: theta_d sits after the layer and receives dL_d/dtheta_d
(it minimises its loss, gets better at telling the domains apart), while theta_f sits before it and receives
dL_y/dtheta_f - lambda dL_d/dtheta_f, so gradient descent on theta_f *increases* L_d: the features are pushed to
make the domains indistinguishable while staying good for the labels. A min-max game in one ordinary SGD step,
with no alternation between two optimizers as in a GAN. lambda = 0 cuts the domain loss off the features (plain
source-only training; the domain classifier still learns, on features it cannot shape).

    grad_reverse(x, lambd)           the function (functional form, like torch.nn.functional)
    GradientReversalLayer(lambd)     the same as an nn.Module, for nn.Sequential; ``lambd`` may be changed in training
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

__all__ = ["GradientReversal", "GradientReversalLayer", "grad_reverse"]


def _check_lambd(lambd: float) -> float:
    """A finite real number (not a bool, not a tensor), as a float; negative values are allowed (no reversal)."""
    if isinstance(lambd, bool) or not isinstance(lambd, numbers.Real):
        raise TypeError(f"lambd must be a real number (the reversal's strength, e.g. 1.0), got "
                        f"{type(lambd).__name__} {lambd!r}. For a tensor, pass float(t).")
    if not math.isfinite(lambd):
        raise ValueError(f"lambd must be finite, got {lambd!r}.")
    return float(lambd)


class GradientReversal(torch.autograd.Function):
    """R_lambda: identity forward, gradient times -lambda backward. Call ``GradientReversal.apply(x, lambd)``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        """x: any shape -> the same values, as a new view of x (autograd needs an output of its own)."""
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[torch.Tensor, None]:
        """dL/dx = -lambda dL/dy; lambd is a constant, so its gradient is None."""
        return -ctx.lambd * grad_output, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """R_lambda(x) = x on the way forward, dL/dx = -lambd * dL/dR on the way back. x: any shape -> the same shape.

    lambd: a finite real number; 0 blocks the gradient (like ``x.detach()`` but keeping the graph), -1 makes the
    layer an ordinary identity. Raises TypeError for a non-number (a tensor included: pass a float).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"grad_reverse: x must be a torch.Tensor, got {type(x).__name__}.")
    return GradientReversal.apply(x, _check_lambd(lambd))


class GradientReversalLayer(nn.Module):
    """``grad_reverse`` as a module: forward(x) = grad_reverse(x, self.lambd). x: any shape -> the same shape.

    It has no parameters; ``lambd`` is a plain attribute, so a training loop may change it between steps (Ganin's
    schedule raises it from 0 to 1).
    """

    def __init__(self, lambd: float = 1.0):
        super().__init__()
        self.lambd = _check_lambd(lambd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"
