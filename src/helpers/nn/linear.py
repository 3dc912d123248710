"""Linear layers, forward and backward: y = x W^T + b, as ``torch.nn.functional.linear`` computes it.

Forward, for a batch of N rows (any leading dimensions work the same way)::

    x: (N, in_features), W: (out_features, in_features), b: (out_features,)  ->  y = x W^T + b: (N, out_features)

Backward. Given G = dL/dy, of y's shape, the chain rule applied entry by entry
(y_nk = sum_j x_nj W_kj + b_k) gives three matrix products::

    dL/dx = G W            (N, out) @ (out, in)  -> (N, in)     each input row gets every output's pull
    dL/dW = G^T x          (out, N) @ (N, in)    -> (out, in)   summed over the batch: W is shared by all rows
    dL/db = sum_n G_n      (out,)                               b is shared too

A quick check of the shapes is half the derivation: every gradient has the shape of what it differentiates.

Stacking linear layers without a non-linearity between them gains nothing: two layers compose into one,
W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2), so a deep linear network can only represent linear maps
(``compose_linear`` computes the single layer).
"""

from __future__ import annotations

import torch


def linear(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """y = input @ weight^T + bias. input: (*, in_features), weight: (out_features, in_features),
    bias: (out_features,) or None -> (*, out_features). The same as ``torch.nn.functional.linear``."""
    if input.shape[-1] != weight.shape[-1]:
        raise ValueError(f"input has {input.shape[-1]} features but weight expects {weight.shape[-1]} "
                         f"(weight is (out_features, in_features) = {tuple(weight.shape)}).")
    output = input @ weight.T
    return output + bias if bias is not None else output


def linear_backward(
    grad_output: torch.Tensor, input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(dL/dinput, dL/dweight, dL/dbias) of y = linear(input, weight, bias), given grad_output = dL/dy.

    grad_output: (*, out), input: (*, in), weight: (out, in) -> ((*, in), (out, in), (out,) or None).
    Leading dimensions are all batch dimensions: the weight and bias gradients sum over them.
    """
    if grad_output.shape[:-1] != input.shape[:-1] or grad_output.shape[-1] != weight.shape[0]:
        raise ValueError(f"grad_output {tuple(grad_output.shape)} does not match the output of input "
                         f"{tuple(input.shape)} and weight {tuple(weight.shape)}.")
    rows_out = grad_output.reshape(-1, grad_output.shape[-1])  # (N, out), all batch dimensions flattened
    rows_in = input.reshape(-1, input.shape[-1])  # (N, in)
    grad_input = grad_output @ weight  # (*, in)
    grad_weight = rows_out.T @ rows_in  # (out, in)
    grad_bias = rows_out.sum(dim=0) if bias is not None else None  # (out,)
    return grad_input, grad_weight, grad_bias


def compose_linear(
    W1: torch.Tensor, b1: torch.Tensor, W2: torch.Tensor, b2: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(W, b) with W x + b = W2 (W1 x + b1) + b2 for every x.

    W1: (H, D), b1: (H,), W2: (K, H), b2: (K,) -> W: (K, D), b: (K,).
    """
    if W1.shape[0] != W2.shape[1]:
        raise ValueError(f"W1 maps to {W1.shape[0]} values but W2 expects {W2.shape[1]}: the layers do not chain.")
    return W2 @ W1, W2 @ b1 + b2
