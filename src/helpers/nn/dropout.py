"""Dropout, as ``torch.nn.functional.dropout`` and ``nn.Dropout``, and Monte-Carlo dropout prediction.

In training, every unit is kept with probability 1 - p and zeroed with probability p, independently, and
the kept units are scaled up by 1 / (1 - p) ("inverted" dropout)::

    m_i ~ Bernoulli(1 - p)                     the mask, a fresh draw at every call
    y_i = m_i x_i / (1 - p)                    so that E[y_i] = x_i

Because the scaling happens in training, evaluation is the identity: y = x. That is the *weight-scaling
inference rule* of Srivastava et al. (2014) moved into training time. (The original paper kept the units
unscaled in training and multiplied the outgoing weights by 1 - p at test time; both give the same
expected pre-activation E[W y] = W x.) For a network that is linear in its dropped units the eval output
is exactly the average over all 2^n masks; for a nonlinear network it is an approximation of that average,
which ``mc_dropout_predict`` estimates directly by averaging many stochastic forward passes.

Edge cases follow torch: p = 0 and training=False return the input itself; p = 1 returns zeros (no unit is
kept and there is nothing to scale); p outside [0, 1] is an error. The gradient is dy_i/dx_i = m_i / (1 - p).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["Dropout", "dropout", "dropout_mask", "mc_dropout_predict"]


def _check_p(p: float) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}. "
                         "p is the probability of DROPPING a unit (p=0.5 drops half); 1 - p is the keep rate.")


def dropout_mask(
    shape: torch.Size | tuple[int, ...],
    p: float,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The scaled mask m / (1 - p), m_i ~ Bernoulli(1 - p): entries 0 or 1 / (1 - p). shape -> shape.

    The uniform draws u_i ~ U[0, 1) are taken on the generator's device (the CPU without a generator on a
    CPU tensor) and a unit is kept when u_i < 1 - p. With the same ``generator`` state the mask repeats.
    """
    _check_p(p)
    if p == 1.0:  # nothing is kept; 1 / (1 - p) would be inf and 0 * inf = nan
        return torch.zeros(tuple(shape), dtype=dtype, device=device)
    draw_on = generator.device if generator is not None else device
    u = torch.rand(tuple(shape), generator=generator, dtype=torch.float64, device=draw_on)
    keep = (u < 1.0 - p).to(device=device)
    return keep.to(dtype) / (1.0 - p)


def dropout(
    input: torch.Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Inverted dropout: y = m * input / (1 - p), m ~ Bernoulli(1 - p) per entry. The same as ``F.dropout``.

    input: (...) -> (...), same dtype and device. training=False or p=0: the input itself (identity);
    p=1: zeros. inplace=True writes the result into ``input`` and returns it. ``generator`` (keyword only,
    not in torch) makes the mask reproducible; torch's own draws use a different stream, so the same seed
    gives different masks here and in ``F.dropout`` -- only their distribution is the same.
    """
    _check_p(p)
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"dropout: input must be a torch.Tensor, got {type(input).__name__}.")
    if not training or p == 0.0:
        return input
    if p == 1.0:  # as torch: input * 0, so that -x gives -0. and the gradient is 0
        return input.mul_(0.0) if inplace else input * 0.0
    mask = dropout_mask(input.shape, p, generator, dtype=input.dtype, device=input.device)
    return input.mul_(mask) if inplace else input * mask


class Dropout(nn.Module):
    """Dropout as a layer, with ``nn.Dropout``'s constructor: active in ``train()``, the identity in ``eval()``.

    input: (...) -> (...). ``generator`` (keyword only, not in torch) fixes the masks' random stream.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, generator: torch.Generator | None = None) -> None:
        super().__init__()
        _check_p(p)
        self.p, self.inplace, self.generator = p, inplace, generator

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return dropout(input, self.p, self.training, self.inplace, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


DROPOUT_LAYERS = (Dropout, nn.modules.dropout._DropoutNd)  # ours, and torch's Dropout, Dropout1d/2d/3d, ...


@torch.no_grad()
def mc_dropout_predict(
    model: nn.Module,
    x: torch.Tensor,
    samples: int = 100,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Monte-Carlo dropout: the average of ``samples`` forward passes with dropout left ON.

        y_hat(x) = (1/S) sum_{s=1}^S transform(model(x; mask_s))

    x: (N, ...) -> whatever the model returns, e.g. (N, K). Only the dropout layers (ours and torch's) are
    switched to training mode; everything else (batch norm!) stays in eval, and every module's mode is
    restored afterwards. ``transform`` maps each pass before averaging, e.g. ``lambda z: z.softmax(-1)`` to
    average probabilities (the bagging-style ensemble average) rather than logits. Compare with the
    weight-scaling rule, which is a single pass in eval mode: ``model.eval(); transform(model(x))``.
    """
    if samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}.")
    modes = {module: module.training for module in model.modules()}
    dropout_layers = [m for m in model.modules() if isinstance(m, DROPOUT_LAYERS)]
    if not dropout_layers:
        raise ValueError("mc_dropout_predict: the model has no dropout layer, so every pass would be the same. "
                         "Add helpers.nn.dropout.Dropout or nn.Dropout layers.")
    try:
        model.eval()
        for layer in dropout_layers:
            layer.train()
        total = None
        for _ in range(samples):
            out = model(x)
            out = transform(out) if transform is not None else out
            total = out if total is None else total + out
    finally:
        for module, training in modes.items():
            module.training = training
    return total / samples
