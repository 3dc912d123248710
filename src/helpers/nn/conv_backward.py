"""The backward pass of ``helpers.nn.conv.conv2d``: the maths as convolutions, the computation as a linear layer's.

Forward: y[n, o, a, b] = bias[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, c, a s + i d, b s + j d] (stride s,
dilation d, per group). With g = dL/dy, every weight meets, at every output position, the input pixel it
multiplied, and every input pixel meets each (output position, tap) it fed::

    dL/dbias[o]       = sum_{n, a, b} g[n, o, a, b]
    dL/dw[o, c, i, j] = sum_{n, a, b} g[n, o, a, b] x_pad[n, c, a s + i d, b s + j d]
    dL/dx_pad[n, c, u, v] = sum_{o, i, j} w[o, c, i, j] g[n, o, (u - i d) / s, (v - j d) / s]   (integer indices)

dL/dw is the *correlation of the input with g*: g acts as the kernel, its taps s apart (dilation s), moved
d pixels at a time (stride d); input channels play the batch and examples the channels:
w_grad = conv2d(x^T, g^T, stride=d, dilation=s)^T.

dL/dx is a *transposed convolution* of g (``F.conv_transpose2d``): spread g out by the stride (s - 1 zeros
between values: the positions the strided windows skipped), pad it by d (k - 1) all round (a "full"
correlation, which reaches every pixel any window touched), and correlate with the kernel flipped in both
axes and its in/out channels swapped. Substituting i' = k - 1 - i turns the sum above into exactly that
correlation. The input's own padding is then cut off again, and rows at the end that no window reached get
zero gradient.

How it is computed. ``conv2d`` is a linear layer on the rows of the unfolded input, y = X W^T, with
X: (N H_out W_out, kH kW C_in) (im2col, ``conv._rows``). With G = g as rows, one per output position,
(N H_out W_out, C_out), the linear layer's gradients (``helpers.nn.linear``) are::

    dL/dW = G^T X        (C_out, kH kW C_in): dL/dw, reordered
    dL/dX = G W          (N H_out W_out, kH kW C_in): one row per receptive field

X was *gathered* from x, every pixel copied into each row whose window covers it; the adjoint of that gather
is a scatter-add, col2im (``_fold``): every entry of dL/dX is added back onto the pixel it was copied from,
dL/dx_pad[n, c, a s + i d, b s + j d] += dL/dX[(n, a, b), (i, j, c)]. G W followed by col2im is the
transposed convolution above, term by term, without the zeros of the spread-out, padded g. When the forward
pass built X in one piece, ``conv2d`` keeps it for dL/dW, then writes dL/dX, of the same shape, over it.
"""

from __future__ import annotations

import torch

from helpers.nn.conv import (
    IntPair,
    _arguments,
    _check_tensors,
    _examples_per_chunk,
    _kernel_rows,
    _output_size,
    _padded,
    _rows,
    windows,
)

__all__ = ["bias_grad", "conv2d_backward", "conv2d_input", "conv2d_weight"]


def bias_grad(grad_output: torch.Tensor) -> torch.Tensor:
    """dL/dbias[o] = sum_{n, a, b} g[n, o, a, b]: (N, C_out, H_out, W_out) or (C_out, H_out, W_out) -> (C_out,)."""
    return grad_output.sum((0, 2, 3)) if grad_output.ndim == 4 else grad_output.sum((1, 2))


def _grad_rows(g: torch.Tensor, groups: int) -> torch.Tensor:
    """G, a row of g per output position, as X has a row per receptive field:
    (N, C_out, H_out, W_out) -> (G, N H_out W_out, C_out/G), a copy (G is read three times)."""
    return g.unflatten(1, (groups, -1)).permute(1, 0, 3, 4, 2).flatten(1, 3).contiguous()


def _fold(rows: torch.Tensor, x: torch.Tensor, kernel_size, stride, dilation) -> None:
    """col2im, the adjoint of ``_rows``: add X (G, n H_out W_out, kH kW C_in/G) onto padded x (n, C_in, H, W).

    x[n, c, a s + i d, b s + j d] += X[(n, a, b), (i, j, c)]: where ``_rows`` copied each pixel into every row
    whose window covers it, this adds every row's entries back onto their pixels. One strided slice-add per
    tap (i, j) (within one tap, no two output positions share a pixel), through ``windows``, a view of x.
    x is best stored channels-last, like X's rows: then both sides are runs of C_in / G contiguous values.
    """
    groups, (kh, kw) = rows.shape[0], kernel_size
    fields = windows(x, kernel_size, stride, dilation)  # (n, C_in, H_out, W_out, kH, kW), a view of x
    n, c, h_out, w_out = fields.shape[:4]
    fields = fields.unflatten(1, (groups, c // groups)).permute(5, 6, 0, 1, 2, 3, 4)  # (i, j, n, G, c, a, b)
    taps = rows.unflatten(1, (n, h_out, w_out)).unflatten(4, (kh, kw, c // groups))  # (G, n, a, b, i, j, c)
    taps = taps.permute(4, 5, 1, 0, 6, 2, 3)  # as fields
    for i in range(kh):
        for j in range(kw):
            fields[i, j].add_(taps[i, j])  # in place: fields[i, j] is a view of x, the pixels under tap (i, j)


def _input_grad(input_size, weight: torch.Tensor, g_rows: torch.Tensor, stride, pad, dilation,
                out: torch.Tensor | None = None) -> torch.Tensor:
    """dL/dx: dL/dX = G W, folded back (col2im) onto the padded input, whose padding is then cut off.

    input_size: (N, C_in, H, W), g_rows: G (G, N H_out W_out, C_out/G), pad: (top, bottom, left, right)
    -> (N, C_in, H, W). A chunk of examples at a time (``COLUMN_BYTES``), as in the forward pass; out: where
    to write all of dL/dX (X's shape: conv2d passes the forward pass's X), else a new tensor per chunk.
    """
    (n, c, h, w), (top, bottom, left, right), kernel = input_size, pad, tuple(weight.shape[2:])
    w_rows = _kernel_rows(weight, g_rows.shape[0])  # (G, C_out/G, kH kW C_in/G)
    grad = g_rows.new_empty(n, c, h, w)
    out_size = _output_size(input_size, kernel, stride, pad, dilation)
    step, positions = _examples_per_chunk(grad, kernel, out_size), out_size[0] * out_size[1]
    for start in range(0, n, step):
        g_chunk = g_rows[:, start * positions : (start + step) * positions]  # G's rows of these examples
        padded = g_rows.new_zeros(g_chunk.shape[1] // positions, top + h + bottom, left + w + right, c)
        padded = padded.permute(0, 3, 1, 2)  # (n, C_in, H_pad, W_pad), stored channels-last
        dx_rows = g_chunk @ w_rows if out is None else torch.matmul(g_chunk, w_rows, out=out)  # dL/dX = G W
        _fold(dx_rows, padded, kernel, stride, dilation)  # added onto the pixels X's entries came from
        grad[start : start + step] = padded[:, :, top : top + h, left : left + w]  # the padding cut off
    return grad


def _weight_grad(input: torch.Tensor, weight_size, g_rows: torch.Tensor, stride, pad, dilation,
                 rows: torch.Tensor | None = None) -> torch.Tensor:
    """dL/dw = G^T X, summed over chunks of examples: input (N, C_in, H, W) -> weight_size.

    rows: the forward pass's X when it was built in one piece; else each chunk is unfolded again.
    """
    c_out, c_group, kh, kw = weight_size
    groups, out_size = g_rows.shape[0], _output_size(input.shape, (kh, kw), stride, pad, dilation)
    step, positions = _examples_per_chunk(input, (kh, kw), out_size), out_size[0] * out_size[1]
    grad = g_rows.new_zeros(groups, c_out // groups, kh * kw * c_group)  # as W: (G, C_out/G, kH kW C_in/G)
    for start in range(0, input.shape[0], step):
        g_chunk = g_rows[:, start * positions : (start + step) * positions]  # (G, n H_out W_out, C_out/G)
        if rows is None:
            x_rows = _rows(_padded(input[start : start + step], pad), (kh, kw), stride, dilation, groups)
        else:
            x_rows = rows
        grad = grad + (x_rows.transpose(1, 2) @ g_chunk).transpose(1, 2)  # G^T X, computed as (X^T G)^T: faster
    return grad.unflatten(2, (kh, kw, c_group)).permute(0, 1, 4, 2, 3).flatten(0, 1)  # undo _kernel_rows


def conv2d_input(
    input_size: tuple[int, ...] | torch.Size,
    weight: torch.Tensor,
    grad_output: torch.Tensor,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """dL/dinput, the transposed convolution of g, computed as G W then col2im. ``nn.grad.conv2d_input``.

    input_size: (N, C_in, H, W) or (C_in, H, W), weight: (C_out, C_in / groups, kH, kW), grad_output:
    (N, C_out, H_out, W_out) or (C_out, H_out, W_out) -> input_size. As y = X W^T is a linear layer on the
    rows of X, dL/dX = G W (``helpers.nn.linear``); col2im adds each row back onto the pixels it came from.
    """
    stride, pad, dilation = _arguments(input_size, weight.shape[2:], stride, padding, dilation)
    g = grad_output if grad_output.ndim == 4 else grad_output[None]
    grad = _input_grad((g.shape[0], *input_size[-3:]), weight, _grad_rows(g, groups), stride, pad, dilation)
    return grad if grad_output.ndim == 4 else grad[0]


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
    stride, pad, dilation = _arguments(input.shape, weight_size[2:], stride, padding, dilation)
    x, g = (input, grad_output) if input.ndim == 4 else (input[None], grad_output[None])
    return _weight_grad(x, weight_size, _grad_rows(g, groups), stride, pad, dilation)


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
