"""Weight initialisation: Xavier/Glorot and Kaiming/He, with ``torch.nn.init``'s names, defaults and semantics.

Why the scale matters. A unit of a layer computes y = sum_{j=1}^{fan_in} w_j x_j. With independent,
zero-mean weights and inputs,

    Var(y) = fan_in Var(w) Var(x),

so the variance of the signal is multiplied by fan_in Var(w) at every layer: after L layers by its L-th
power, which explodes or vanishes unless fan_in Var(w) is about 1. The backward pass multiplies gradient
variances by fan_out Var(w) in the same way. Hence the two rules, written with a ``gain`` that corrects for
what the non-linearity does to the variance (``calculate_gain``)::

    Xavier / Glorot (2010)  Var(w) = gain^2 * 2 / (fan_in + fan_out)   a compromise between both passes
    Kaiming / He (2015)     Var(w) = gain^2 / fan                       fan = fan_in (default) or fan_out

ReLU zeroes half of its inputs and so halves the second moment: its gain is sqrt(2), and He's rule for ReLU
is Var(w) = 2 / fan_in. A weight is drawn either from N(0, std^2) or from U(-bound, bound); the uniform has
variance bound^2 / 3, so bound = sqrt(3) std.

The fans (``fan_in_and_fan_out``): a linear weight is (out_features, in_features), so fan_in = in_features
and fan_out = out_features; a conv weight (C_out, C_in, k_1, ..., k_d) has fan_in = C_in * k_1 ... k_d and
fan_out = C_out * k_1 ... k_d (every output sums over channels times receptive field).

Defaults to know (they are torch's): ``kaiming_*_`` default to nonlinearity="leaky_relu" with a=0, which
is ReLU's gain sqrt(2). ``nn.Linear`` and ``nn.Conv*d`` do NOT use that default for their own weights: they
call kaiming_uniform_(weight, a=sqrt(5)), gain sqrt(2 / 6), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) and
Var(w) = 1 / (3 fan_in), a third of what He recommends for ReLU.

Every function fills its tensor in place (the trailing underscore), without recording it for autograd, and
returns it; ``generator`` (a torch.Generator) makes a draw reproducible without touching the global seed.
"""

from __future__ import annotations

import math
import warnings

import torch

LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
NONLINEARITIES = (*LINEAR_FNS, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    """The recommended gain for a non-linearity (its ``torch.nn.functional`` name). Same as nn.init's.

        linear, conv*, sigmoid  1          tanh  5/3          relu  sqrt(2)          selu  3/4
        leaky_relu              sqrt(2 / (1 + negative_slope^2)), negative_slope = param (default 0.01)
    """
    if nonlinearity in LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            negative_slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):  # True is an int too
            negative_slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number: pass the slope as a float, e.g. 0.2.")
        return math.sqrt(2.0 / (1 + negative_slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4  # found empirically (pytorch PR 50664); self-normalising nets use "linear" instead
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}: use one of {', '.join(NONLINEARITIES)}.")


def fan_in_and_fan_out(tensor: torch.Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight (out, in, *kernel): (in * prod(kernel), out * prod(kernel)).

    The same as torch's private ``nn.init._calculate_fan_in_and_fan_out``. Needs at least 2 dimensions.
    """
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
                         f"(got shape {tuple(tensor.shape)}). A bias has no fans: initialise it with "
                         "torch.nn.init.zeros_ or uniform_ instead.")
    receptive_field = math.prod(tensor.shape[2:])  # 1 for a linear weight
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _fan(tensor: torch.Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out'] "
                         "(fan_in keeps the forward signal's variance, fan_out the gradients').")
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _uniform_(tensor: torch.Tensor, bound: float, generator: torch.Generator | None) -> torch.Tensor:
    with torch.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def _normal_(tensor: torch.Tensor, std: float, generator: torch.Generator | None) -> torch.Tensor:
    with torch.no_grad():
        return tensor.normal_(0, std, generator=generator)


def _is_empty(tensor: torch.Tensor) -> bool:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


def xavier_uniform_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill tensor (out, in, *kernel) from U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)), in place.

    That is std = gain sqrt(2 / (fan_in + fan_out)) and a = sqrt(3) std. The same as nn.init.xavier_uniform_.
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return _uniform_(tensor, math.sqrt(3.0) * std, generator)


def xavier_normal_(
    tensor: torch.Tensor, gain: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Fill tensor (out, in, *kernel) from N(0, std^2), std = gain sqrt(2 / (fan_in + fan_out)), in place.

    The same as nn.init.xavier_normal_.
    """
    fan_in, fan_out = fan_in_and_fan_out(tensor)
    return _normal_(tensor, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill tensor (out, in, *kernel) from U(-bound, bound), bound = gain sqrt(3 / fan), in place.

    gain = calculate_gain(nonlinearity, a): a is the negative slope of a leaky ReLU (a = 0: ReLU, gain
    sqrt(2)); fan = fan_in or fan_out by ``mode``. nn.Linear's own init is this with a=sqrt(5) (see the
    module docstring). The same as nn.init.kaiming_uniform_.
    """
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _uniform_(tensor, math.sqrt(3.0) * std, generator)


def kaiming_normal_(
    tensor: torch.Tensor,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill tensor (out, in, *kernel) from N(0, std^2), std = gain / sqrt(fan), in place.

    gain and fan as in ``kaiming_uniform_``. The same as nn.init.kaiming_normal_.
    """
    if _is_empty(tensor):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return _normal_(tensor, std, generator)
