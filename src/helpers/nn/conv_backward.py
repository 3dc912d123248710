"""The backward pass of ``helpers.nn.conv.conv2d``, written as convolutions, as ``torch.nn.grad`` computes it.

Forward: y[n, o, a, b] = bias[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, c, a s + i d, b s + j d] (stride s,
dilation d, per group). With g = dL/dy, every weight meets, at every output position, the input pixel it
multiplied, and every input pixel meets each (output position, tap) it fed::

    dL/dbias[o]       = sum_{n, a, b} g[n, o, a, b]
    dL/dw[o, c, i, j] = sum_{n, a, b} g[n, o, a, b] x_pad[n, c, a s + i d, b s + j d]
    dL/dx_pad[n, c, u, v] = sum_{o, i, j} w[o, c, i, j] g[n, o, (u - i d) / s, (v - j d) / s]   (integer indices)

dL/dw is the *correlation of the input with g*: g acts as the kernel, its taps s apart (dilation s), moved
d pixels at a time (stride d); input channels play the batch and examples the channels:
w_grad = conv2d(x^T, g^T, stride=d, dilation=s)^T. Since y = X W^T is a linear layer on the rows X of the
unfolded input, the same sum is G^T X (``helpers.nn.linear``), which is how ``conv2d_weight`` computes it.

dL/dx is a *transposed convolution* of g: spread g out by the stride (s - 1 zeros between values: the
positions the strided windows skipped), pad it by d (k - 1) all round (a "full" correlation, which reaches
every pixel any window touched), and correlate with the kernel flipped in both axes and its in/out channels
swapped. Substituting i' = k - 1 - i turns the sum above into exactly that correlation. The input's own
padding is then cut off again, and rows at the end that no window reached get zero gradient.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.nn.conv import IntPair, _arguments, _check_tensors, _examples_per_chunk, _padded, _rows, conv2d

__all__ = ["bias_grad", "conv2d_backward", "conv2d_input", "conv2d_weight"]


def bias_grad(grad_output: torch.Tensor) -> torch.Tensor:
    """dL/dbias[o] = sum_{n, a, b} g[n, o, a, b]: (N, C_out, H_out, W_out) or (C_out, H_out, W_out) -> (C_out,)."""
    return grad_output.sum((0, 2, 3)) if grad_output.ndim == 4 else grad_output.sum((1, 2))


def conv2d_input(
    input_size: tuple[int, ...] | torch.Size,
    weight: torch.Tensor,
    grad_output: torch.Tensor,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """dL/dinput: g spread out by the stride, correlated ("full") with the flipped kernel. ``nn.grad.conv2d_input``.

    input_size: (N, C_in, H, W) or (C_in, H, W), weight: (C_out, C_in / groups, kH, kW), grad_output:
    (N, C_out, H_out, W_out) or (C_out, H_out, W_out) -> input_size. A *transposed convolution* of g.
    """
    (c_out, _, kh, kw), (h, w) = weight.shape, tuple(input_size[-2:])
    (sh, sw), (top, bottom, left, right), (dh, dw) = _arguments(input_size, (kh, kw), stride, padding, dilation)
    g = grad_output if grad_output.ndim == 4 else grad_output[None]
    n, _, h_out, w_out = g.shape
    spread = g
    if (sh, sw) != (1, 1):  # s - 1 zeros between neighbours: where the strided windows were
        spread = g.new_zeros(n, c_out, (h_out - 1) * sh + 1, (w_out - 1) * sw + 1)
        spread[:, :, ::sh, ::sw] = g
    missed_h = h + top + bottom - ((h_out - 1) * sh + dh * (kh - 1) + 1)  # last rows/columns no window reached
    missed_w = w + left + right - ((w_out - 1) * sw + dw * (kw - 1) + 1)
    full_h, full_w = dh * (kh - 1), dw * (kw - 1)  # a "full" correlation pads d (k - 1); the input's padding is cut
    spread = F.pad(spread, (full_w - left, full_w - right + missed_w, full_h - top, full_h - bottom + missed_h))
    flipped = weight.unflatten(0, (groups, -1)).transpose(1, 2).flatten(0, 1).flip(-2, -1)  # (C_in, C_out/G, kH, kW)
    grad_input = conv2d(spread, flipped, None, 1, 0, (dh, dw), groups)
    return grad_input if grad_output.ndim == 4 else grad_input[0]


def conv2d_weight(
    input: torch.Tensor,
    weight_size: tuple[int, ...] | torch.Size,
    grad_output: torch.Tensor,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """dL/dweight: the correlation of the input with g, G^T X summed over positions. ``nn.grad.conv2d_weight``.

    input: (N, C_in, H, W) or (C_in, H, W), weight_size: (C_out, C_in / groups, kH, kW), grad_output:
    (N, C_out, H_out, W_out) or unbatched -> weight_size. As y = X W^T is a linear layer on the rows of X,
    dL/dW = G^T X (``helpers.nn.linear``), with G = g as (N H_out W_out, C_out) rows. Written as a
    convolution this is conv2d(x^T, g^T, stride=dilation, dilation=stride), batch and channels swapped.
    """
    c_out, c_group, kh, kw = weight_size
    stride, pad, dilation = _arguments(input.shape, (kh, kw), stride, padding, dilation)
    x, g = _padded(input, pad), grad_output if grad_output.ndim == 4 else grad_output[None]
    grad = 0
    step = _examples_per_chunk(x, (kh, kw), g.shape[2:])
    for chunk, g_chunk in zip(x.split(step), g.split(step)):
        g_rows = g_chunk.unflatten(1, (groups, -1)).permute(1, 0, 3, 4, 2).flatten(1, 3)  # (G, n H_out W_out, C_out/G)
        grad = grad + g_rows.transpose(1, 2) @ _rows(chunk, (kh, kw), stride, dilation, groups)  # G^T X
    return grad.unflatten(2, (kh, kw, c_group)).permute(0, 1, 4, 2, 3).flatten(0, 1)  # undo _kernel_rows


def conv2d_backward(
    grad_output: torch.Tensor,
    input: torch.Tensor,
    weight: torch.Tensor,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    bias: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """(dL/dinput, dL/dweight, dL/dbias or None) of y = conv2d(input, weight, bias, stride, padding, dilation, groups).

    grad_output: y's shape -> (input's shape, weight's shape, (C_out,)). The maths is in the module docstring.
    """
    _check_tensors(input, weight, None, groups)
    grad_input = conv2d_input(input.shape, weight, grad_output, stride, padding, dilation, groups)
    grad_weight = conv2d_weight(input, weight.shape, grad_output, stride, padding, dilation, groups)
    return grad_input, grad_weight, bias_grad(grad_output) if bias else None
