"""Batch normalization, forward and backward, as ``torch.nn.functional.batch_norm`` and ``nn.BatchNorm1d/2d``.

For an input x of shape (N, C), (N, C, L) or (N, C, H, W), every channel c is normalised with statistics
taken over all the other dimensions: the m = N (or N L, or N H W) values x_i of that channel::

    mu    = (1/m) sum_i x_i                         batch mean
    var   = (1/m) sum_i (x_i - mu)^2                batch variance, BIASED (divided by m)
    x^_i  = (x_i - mu) / sqrt(var + eps)            zero mean, unit variance per channel
    y_i   = gamma x^_i + beta                       gamma = weight, beta = bias: (C,), learned

Training and evaluation differ. In training the layer normalises with the batch statistics above and keeps
exponential moving averages for later, updated in place with ``momentum`` (torch's momentum is the weight
of the NEW value, the opposite of an optimiser's momentum)::

    running_mean <- (1 - momentum) running_mean + momentum mu
    running_var  <- (1 - momentum) running_var  + momentum var * m / (m - 1)     UNBIASED here

Note the library's surprising convention: the biased variance normalises the batch, the unbiased one is
averaged into ``running_var``. In evaluation the layer normalises with running_mean and running_var instead,
so an example's output no longer depends on the rest of its batch. The modules' ``momentum=None`` means a
cumulative average: the k-th batch gets weight 1/k (``num_batches_tracked`` counts them), so the running
statistics are the plain mean of every batch's statistics so far.

Backward (training mode). With g_i = dL/dy_i, every x_j moves mu and var, so dL/dx_i gets two extra terms::

    dL/dbeta  = sum_i g_i
    dL/dgamma = sum_i g_i x^_i
    dL/dx_i   = gamma / (m sqrt(var + eps)) * (m g_i - sum_j g_j - x^_i sum_j g_j x^_j)

(in evaluation mode mu and var are constants and dL/dx_i = gamma g_i / sqrt(running_var + eps)).
"""

from __future__ import annotations

import torch
from torch import nn


def _channel_dims(input: torch.Tensor) -> list[int]:
    """Every dimension but the channel dimension 1: the ones the statistics are taken over."""
    return [0, *range(2, input.ndim)]


def _per_channel(v: torch.Tensor, input: torch.Tensor) -> torch.Tensor:
    """A (C,) vector shaped (1, C, 1, ..., 1) to broadcast against input (N, C, *)."""
    return v.reshape(1, -1, *([1] * (input.ndim - 2)))


def _check_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps) -> None:
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects input (N, C) or (N, C, *), got shape {tuple(input.shape)}. "
                         "For a single feature vector use input.unsqueeze(1) (C = 1) or input.unsqueeze(0) (N = 1).")
    channels = input.shape[1]
    for name, v in [("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)]:
        if v is not None and v.numel() != channels:
            raise ValueError(f"batch_norm: {name} should have one value per channel (C = {channels} = input.shape[1]), "
                             f"got {v.numel()}. Is the channel dimension of the input dimension 1?")
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: running_mean and running_var must either both be None or neither be None.")
    if not training and running_mean is None:
        raise ValueError("batch_norm: running_mean must be defined in evaluation mode; pass the running statistics "
                         "or training=True to normalise with the batch statistics.")
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise TypeError(f"batch_norm: momentum must be a float, got {momentum!r}. For a cumulative average pass "
                        "1 / k on the k-th batch (BatchNorm1d(momentum=None) does exactly that).")
    if training and input.numel() // channels == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(input.shape)}: "
                         "the batch variance of one value is 0. Use a batch of at least 2, or call model.eval().")
    if (eps <= 0.0) if training else (eps < 0.0):
        raise ValueError(f"batch_norm eps must be positive during training (non-negative in eval), got {eps}.")


def batch_norm(
    input: torch.Tensor,
    running_mean: torch.Tensor | None,
    running_var: torch.Tensor | None,
    weight: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> torch.Tensor:
    """y = weight * (input - mean) / sqrt(var + eps) + bias, per channel. The same as ``F.batch_norm``.

    input: (N, C, *), running_mean, running_var, weight, bias: (C,) or None -> (N, C, *).
    training=True: mean and var are the batch's (biased var), and running_mean / running_var, when given,
    are updated in place with the unbiased var (see the module docstring). training=False: mean and var
    are running_mean and running_var, which must then be given.
    """
    _check_batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    dims = _channel_dims(input)
    if training:
        mean = input.mean(dim=dims)  # (C,)
        var = input.var(dim=dims, correction=0)  # (C,), biased: divided by m
        if running_mean is not None:
            m = input.numel() // input.shape[1]  # values per channel
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                running_var.mul_(1 - momentum).add_(momentum * var.detach() * m / (m - 1))
    else:
        mean, var = running_mean, running_var
    output = (input - _per_channel(mean, input)) / torch.sqrt(_per_channel(var, input) + eps)
    if weight is not None:
        output = output * _per_channel(weight, input)
    if bias is not None:
        output = output + _per_channel(bias, input)
    return output


def batch_norm_backward(
    grad_output: torch.Tensor, input: torch.Tensor, weight: torch.Tensor | None = None, eps: float = 1e-5
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """(dL/dinput, dL/dweight, dL/dbias) of y = batch_norm(input, ..., weight, bias, training=True, eps=eps).

    grad_output, input: (N, C, *), weight: (C,) or None (gamma = 1) -> ((N, C, *), (C,) or None, (C,)).
    The bias itself does not enter any gradient, so it is not an argument; dL/dbias is returned anyway.
    """
    if grad_output.shape != input.shape:
        raise ValueError(f"grad_output {tuple(grad_output.shape)} must have the shape of input {tuple(input.shape)}: "
                         "batch norm does not change the shape.")
    _check_batch_norm(input, None, None, weight, None, True, 0.1, eps)
    dims = _channel_dims(input)
    m = input.numel() // input.shape[1]  # values per channel
    mean = input.mean(dim=dims)
    inv_std = 1 / torch.sqrt(input.var(dim=dims, correction=0) + eps)  # (C,)
    x_hat = (input - _per_channel(mean, input)) * _per_channel(inv_std, input)
    grad_bias = grad_output.sum(dim=dims)  # sum_i g_i
    grad_weight = (grad_output * x_hat).sum(dim=dims)  # sum_i g_i x^_i
    gamma = weight if weight is not None else torch.ones_like(inv_std)
    scale = _per_channel(gamma * inv_std / m, input)
    grad_input = scale * (m * grad_output - _per_channel(grad_bias, input) - x_hat * _per_channel(grad_weight, input))
    return grad_input, (grad_weight if weight is not None else None), grad_bias


class _BatchNorm(nn.Module):
    """What BatchNorm1d and BatchNorm2d share: nn.BatchNorm's constructor, parameters and buffers."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:  # gamma = 1, beta = 0: the layer starts as a pure normalisation
            self.weight = nn.Parameter(torch.ones(num_features, **factory))
            self.bias = nn.Parameter(torch.zeros(num_features, **factory))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", torch.zeros(num_features, **factory))
            self.register_buffer("running_var", torch.ones(num_features, **factory))
            self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))
        else:  # always the batch statistics, in eval too
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _check_input_dim(self, input: torch.Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        """input: (N, C, *) -> (N, C, *). Train mode: batch statistics (and buffer updates); eval: the buffers."""
        self._check_input_dim(input)
        factor = self.momentum if self.momentum is not None else 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative average: the k-th batch weighs 1/k
                factor = 1.0 / float(self.num_batches_tracked)
        use_batch_statistics = self.training or self.running_mean is None
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch_statistics, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L) inputs, per channel C. The same as ``nn.BatchNorm1d``."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input): BatchNorm1d takes (N, C) or "
                             "(N, C, L). For a single example use input.unsqueeze(0); for images use BatchNorm2d.")


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W) inputs, per channel C. The same as ``nn.BatchNorm2d``."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input): BatchNorm2d takes (N, C, H, W). "
                             "For a single image use input.unsqueeze(0); for (N, C) or (N, C, L) use BatchNorm1d.")
