"""Gradient clipping, in place: torch.nn.utils.clip_grad_norm_ and clip_grad_value_.

Clipping by norm rescales *all* gradients together when their joint p-norm exceeds max_norm, so the
direction of the update is kept and only its length is capped:

    N = || (||g_1||_p, ..., ||g_k||_p) ||_p     (= the p-norm of all gradients concatenated; p = inf: max |g|)
    g_i <- g_i * min(1, max_norm / (N + 1e-6))

Clipping by value clamps every coordinate to [-clip_value, clip_value], which can change the direction.

Notes on torch's conventions, which this code follows: ``clip_grad_norm_`` returns N, the norm *before*
clipping (handy to log), as a tensor; the 1e-6 keeps the division finite when N = 0; with
``error_if_nonfinite=False`` a nan/inf norm is not an error and the gradients are scaled by it anyway.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

Parameters = torch.Tensor | Iterable[torch.Tensor]


def _gradients(parameters: Parameters) -> list[torch.Tensor]:
    """The .grad of each parameter that has one (a single tensor counts as a list of one)."""
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> torch.Tensor:
    """Scale the gradients in place so that their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm N before clipping, a 0-dim tensor (tensor(0.) when no parameter has a gradient).
    ``foreach`` is accepted for torch's signature and ignored: this is the plain loop.
    """
    grads = _gradients(parameters)
    p = float(norm_type)  # 'inf' -> inf
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    norms = [torch.linalg.vector_norm(g, p).to(device) for g in grads]  # ||g_i||_p
    total = torch.linalg.vector_norm(torch.stack(norms), p)  # N = ||(||g_1||_p, ..., ||g_k||_p)||_p
    if error_if_nonfinite and not torch.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {p} of the gradients is {total.item()}, so they cannot be clipped. "
            "Look for nan/inf in the loss or the inputs, or pass error_if_nonfinite=False to scale by it anyway."
        )
    scale = torch.clamp(float(max_norm) / (total + 1e-6), max=1.0)  # min(1, max_norm / (N + 1e-6))
    for g in grads:
        g.mul_(scale.to(g.device))
    return total


def clip_grad_value_(parameters: Parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient coordinate to [-clip_value, clip_value], in place. ``foreach`` is ignored."""
    clip_value = float(clip_value)
    for g in _gradients(parameters):
        g.clamp_(min=-clip_value, max=clip_value)
