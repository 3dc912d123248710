"""Activation functions and their derivatives, written out from their equations.

Every function works elementwise on a tensor of any shape ``x: (...)`` and returns a tensor of the same
shape, dtype and device (``softmax`` and ``maxout`` work along the last dimension). They are the book's
references: ``tests/test_nn_activations.py`` checks each against ``torch.nn.functional`` and each
derivative against ``torch.autograd``.

Where ``exp`` could overflow, the functions only ever exponentiate non-positive numbers, so they stay
finite at x = +-1000 in float32 and float64.

Derivatives at the kinks (x = 0 for ReLU, x = 0 and 6 for ReLU6, x = -3 and 3 for hard-swish) follow
PyTorch's conventions, so that the references agree with autograd everywhere.
"""

from __future__ import annotations

import torch

# softplus(x) = log(1 + e^x) and softmax are also the building blocks of the losses; one stable
# implementation of each (via log-sum-exp) serves both modules.
from helpers.nn.losses import softmax, softplus  # noqa: F401  (re-exported as activations)

__all__ = [
    "ACTIVATIONS",
    "GRADIENTS",
    "hardswish",
    "hardswish_grad",
    "identity",
    "identity_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "maxout",
    "prelu",
    "prelu_grad",
    "relu",
    "relu6",
    "relu6_grad",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_jacobian",
    "softplus",
    "softplus_grad",
    "softshrink",
    "swish",
    "swish_grad",
    "tanh",
    "tanh_grad",
]


# ---------------------------------------------------------------- the identity (a "linear" activation)
def identity(x: torch.Tensor) -> torch.Tensor:
    """h(x) = x. With it, stacked layers collapse into one linear layer."""
    return x.clone()


def identity_grad(x: torch.Tensor) -> torch.Tensor:
    """h'(x) = 1."""
    return torch.ones_like(x)


# ---------------------------------------------------------------- squashing functions
def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """The logistic sigmoid sigma(x) = 1 / (1 + e^{-x}), with values in (0, 1).

    Computed as 1 / (1 + e^{-|x|}) for x >= 0 and e^{-|x|} / (1 + e^{-|x|}) for x < 0: the exponent is
    never positive, so nothing overflows.
    """
    e = torch.exp(-x.abs())  # in (0, 1]
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    """sigma'(x) = sigma(x) (1 - sigma(x)); at most 1/4, at x = 0."""
    s = sigmoid(x)
    return s * (1 - s)


def tanh(x: torch.Tensor) -> torch.Tensor:
    """tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x}) = 2 sigma(2x) - 1, with values in (-1, 1).

    Computed as sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}), which never overflows.
    """
    e = torch.exp(-2 * x.abs())
    return torch.sign(x) * (1 - e) / (1 + e)


def tanh_grad(x: torch.Tensor) -> torch.Tensor:
    """tanh'(x) = 1 - tanh(x)^2; at most 1, at x = 0."""
    return 1 - tanh(x) ** 2


# ---------------------------------------------------------------- rectifiers
def relu(x: torch.Tensor) -> torch.Tensor:
    """ReLU(x) = max(0, x)."""
    return x.clamp(min=0)


def relu_grad(x: torch.Tensor) -> torch.Tensor:
    """ReLU'(x) = 1 for x > 0, else 0 (0 at the kink x = 0, as in PyTorch)."""
    return (x > 0).to(x.dtype)


def leaky_relu(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """LeakyReLU(x) = x for x > 0, a x otherwise, with a small fixed slope a (default 0.01)."""
    return torch.where(x > 0, x, negative_slope * x)


def leaky_relu_grad(x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """1 for x > 0, a otherwise (a at x = 0, as in PyTorch)."""
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, negative_slope))


def prelu(x: torch.Tensor, alpha: torch.Tensor | float) -> torch.Tensor:
    """Parametric ReLU: max(0, x) + alpha min(0, x), where the slope alpha is learned.

    alpha: a number, a 1-element tensor, or one slope per channel that broadcasts against x, e.g. shape
    (C,) for x: (N, C). (``torch.nn.functional.prelu`` puts channels in dimension 1; for x: (N, C) that
    is the last dimension, as here.)
    """
    return x.clamp(min=0) + alpha * x.clamp(max=0)


def prelu_grad(x: torch.Tensor, alpha: torch.Tensor | float) -> tuple[torch.Tensor, torch.Tensor]:
    """(d/dx, d/dalpha) of prelu, elementwise: (1 if x > 0 else alpha, min(0, x))."""
    dx = torch.where(x > 0, torch.ones_like(x), alpha * torch.ones_like(x))
    return dx, x.clamp(max=0)


def relu6(x: torch.Tensor) -> torch.Tensor:
    """ReLU6(x) = min(max(0, x), 6): a ReLU capped at 6 (keeps activations small for low precision)."""
    return x.clamp(min=0, max=6)


def relu6_grad(x: torch.Tensor) -> torch.Tensor:
    """1 for 0 < x < 6, else 0 (0 at both kinks, as in PyTorch)."""
    return ((x > 0) & (x < 6)).to(x.dtype)


# ---------------------------------------------------------------- smooth rectifiers
def softplus_grad(x: torch.Tensor) -> torch.Tensor:
    """softplus'(x) = e^x / (1 + e^x) = sigma(x)."""
    return sigmoid(x)


def swish(x: torch.Tensor) -> torch.Tensor:
    """swish(x) = x sigma(x), also called SiLU. Smooth, non-monotonic (minimum -0.278 at x = -1.278)."""
    return x * sigmoid(x)


def swish_grad(x: torch.Tensor) -> torch.Tensor:
    """swish'(x) = sigma(x) + x sigma(x) (1 - sigma(x)) = sigma(x) (1 + x (1 - sigma(x))) (product rule)."""
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


def hardswish(x: torch.Tensor) -> torch.Tensor:
    """hard-swish(x) = x ReLU6(x + 3) / 6: swish with the sigmoid replaced by a cheap piecewise-linear ramp.

    0 for x <= -3, x for x >= 3, x (x + 3) / 6 in between.
    """
    return x * relu6(x + 3) / 6


def hardswish_grad(x: torch.Tensor) -> torch.Tensor:
    """0 for x <= -3, (2x + 3) / 6 = x/3 + 1/2 for -3 < x < 3, 1 for x >= 3 (PyTorch's choice at the kinks)."""
    middle = x / 3 + 0.5
    return torch.where(x <= -3, torch.zeros_like(x), torch.where(x < 3, middle, torch.ones_like(x)))


# ---------------------------------------------------------------- shrinkage
def softshrink(input: torch.Tensor, lambd: float = 0.5) -> torch.Tensor:
    """Soft-thresholding: x - lambd for x > lambd, x + lambd for x < -lambd, 0 in between. As ``F.softshrink``.

        softshrink(x) = sign(x) max(|x| - lambd, 0)

    It is the proximal operator of the L1 penalty (Chapter 5): argmin_w (1/2)(w - x)^2 + lambd |w|. A
    proximal gradient (ISTA) step for a loss L plus alpha ||w||_1 with learning rate eta is
    w <- softshrink(w - eta grad L(w), eta alpha): small weights become exactly 0, which is why L1 gives
    sparse solutions. The derivative is 1 outside [-lambd, lambd] and 0 inside, endpoints included (torch).
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd is a threshold and must be >= 0, got {lambd}.")
    zero = torch.zeros_like(input)
    return torch.where(input > lambd, input - lambd, torch.where(input < -lambd, input + lambd, zero))


# ---------------------------------------------------------------- functions of a whole vector
def softmax_jacobian(x: torch.Tensor) -> torch.Tensor:
    """d softmax(x)_i / d x_j = s_i (delta_ij - s_j), i.e. diag(s) - s s^T. x: (..., K) -> (..., K, K)."""
    s = softmax(x, dim=-1)
    return torch.diag_embed(s) - s.unsqueeze(-1) * s.unsqueeze(-2)


def maxout(x: torch.Tensor, pieces: int) -> torch.Tensor:
    """Maxout: split the last dimension into groups of ``pieces`` consecutive values and keep each maximum.

    x: (..., units * pieces) -> (..., units); out[..., u] = max_k x[..., u * pieces + k]. A maxout unit
    after a linear layer computes max_k (w_k . x + b_k), a learned convex piecewise-linear function; ReLU
    is the special case max(w . x + b, 0).
    """
    if pieces < 1 or x.shape[-1] % pieces:
        raise ValueError(f"The last dimension ({x.shape[-1]}) must be a multiple of pieces ({pieces}).")
    return x.unflatten(-1, (x.shape[-1] // pieces, pieces)).amax(dim=-1)


# ---------------------------------------------------------------- lookup tables for plots and explorers
ACTIVATIONS = {
    "sigmoid": sigmoid,
    "tanh": tanh,
    "ReLU": relu,
    "leaky ReLU": leaky_relu,
    "ReLU6": relu6,
    "softplus": softplus,
    "swish": swish,
    "hard-swish": hardswish,
}

GRADIENTS = {
    "sigmoid": sigmoid_grad,
    "tanh": tanh_grad,
    "ReLU": relu_grad,
    "leaky ReLU": leaky_relu_grad,
    "ReLU6": relu6_grad,
    "softplus": softplus_grad,
    "swish": swish_grad,
    "hard-swish": hardswish_grad,
}
