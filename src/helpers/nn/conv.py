"""2-D convolution, as ``torch.nn.functional.conv2d``: a direct loop for reading, unfold + matmul for speed.

A convolution layer in deep learning computes a *cross-correlation* (no kernel flip): output channel o at
position (a, b) is the sum over its receptive field of kernel times (zero-padded) input::

    y[n, o, a, b] = bias[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, c, a s_h + i d_h, b s_w + j d_w]

    x: (N, C_in, H, W), w: (C_out, C_in / groups, kH, kW), bias: (C_out,)  ->  y: (N, C_out, H_out, W_out)
    H_out = floor((H + p_top + p_bottom - d_h (kH - 1) - 1) / s_h) + 1          (``conv_output_size``)

with stride s, dilation d (the kernel's taps are d pixels apart) and padding p. With ``groups`` = G the
channels split into G independent blocks: output channel o sees only the C_in / G input channels of its
own block (c runs over that block above); G = C_in = C_out is a "depthwise" convolution. The mathematicians'
convolution flips the kernel, sum_i w[i] x[a - i]: ``scipy.signal.correlate2d`` is the layer,
``convolve2d`` the flipped one. As the kernel is learned, the flip changes nothing the network can express.
``padding="valid"`` is 0; ``padding="same"`` pads d (k - 1) in all so that H_out = H (stride 1 only, as in
torch): half on each side and, when that is odd (an even kernel), the extra row/column at the bottom/right.

``conv2d_loops`` loops over the output positions and takes each sum as written. ``conv2d`` *unfolds* the
input first (im2col): every receptive field becomes one row of a matrix X, (N H_out W_out, kH kW C_in), and
the layer is a linear layer applied to every row, y = X W^T with W as (C_out, kH kW C_in) (per group).
X holds kH kW copies of the input, so it is built a few examples at a time (``COLUMN_BYTES``); the input is
first padded and copied channels-last, (N, H, W, C), so that each row is made of contiguous runs of C_in values.

The backward pass, ``conv2d``'s gradient, is in ``helpers.nn.conv_backward``: the maths as two more
convolutions (``conv2d_input``, a transposed convolution, and ``conv2d_weight``), computed as the linear
layer's gradients, dL/dX = G W folded back onto the input (col2im) and dL/dW = G^T X.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["conv2d", "conv2d_loops", "conv_output_size", "conv_parameter_count", "windows"]

IntPair = int | tuple[int, ...]
Pad4 = tuple[int, int, int, int]  # (top, bottom, left, right)
COLUMN_BYTES = 4 * 2**20  # build X this many bytes at a time: one huge, fresh matrix costs more than a short loop


def _pair(value: IntPair, name: str, where: str = "conv2d") -> tuple[int, int]:
    """An int, or a tuple/list of 1 or 2 ints -> (height, width), as torch reads stride, padding, dilation."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{where}: {name} must be an int or a tuple of 2 ints (height, width), got {value!r}.")
    if len(values) not in (1, 2):
        raise ValueError(f"{where}: expected {name} to be a single integer value or a list of 2 values (height, "
                         f"width), but got {name}={list(values)}. Pass ({name}_h, {name}_w).")
    return (values[0], values[-1])


def conv_output_size(
    size: IntPair, kernel_size: IntPair, stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1
) -> int | tuple[int, int]:
    """H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1: how many positions the dilated kernel fits.

    The dilated kernel spans d (k - 1) + 1 pixels; it fits at H + 2p - d (k - 1) offsets, one every s.
    Ints give an int; a tuple for any argument gives (H_out, W_out).
    """
    args = {"size": size, "kernel_size": kernel_size, "stride": stride, "padding": padding, "dilation": dilation}
    if any(isinstance(v, (tuple, list)) for v in args.values()):
        pairs = [_pair(v, name, "conv_output_size") for name, v in args.items()]
        return tuple(conv_output_size(*(pair[i] for pair in pairs)) for i in (0, 1))
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"a kernel of {kernel_size} taps {dilation} apart does not fit in {size} + 2 x {padding} "
                         "pixels: use a smaller kernel or dilation, or more padding.")
    return out


def conv_parameter_count(
    in_channels: int, out_channels: int, kernel_size: IntPair, groups: int = 1, bias: bool = True
) -> int:
    """C_out (C_in / groups) kH kW weights, plus C_out biases: ``nn.Conv2d``'s parameter count.

    It does not depend on the image size: one kernel is slid over every position (weight sharing).
    """
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be divisible "
                         f"by groups ({groups}): each group convolves C / groups channels.")
    kh, kw = _pair(kernel_size, "kernel_size", "conv_parameter_count")
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def _padding(padding: str | IntPair, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
             ) -> Pad4:
    """padding (an int, a pair, "valid" or "same") -> (top, bottom, left, right)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding != "same":
            raise ValueError(f"Invalid padding string: {padding!r}. Use 'valid', 'same', an int or (p_h, p_w).")
        if stride != (1, 1):
            raise ValueError("padding='same' is not supported for strided convolutions: with stride s the output is "
                             "about H / s, never H. Pass the padding as a number, e.g. (k - 1) // 2 for an odd k.")
        th, tw = dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)  # total padding per dimension
        return (th // 2, th - th // 2, tw // 2, tw - tw // 2)  # the odd one out goes to the bottom / right
    ph, pw = _pair(padding, "padding")
    if ph < 0 or pw < 0:
        raise ValueError(f"negative padding is not supported (got {padding!r}). To crop, slice the input instead.")
    return (ph, ph, pw, pw)


def _check_tensors(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, groups: int) -> None:
    if input.ndim not in (3, 4):
        raise ValueError(f"Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: "
                         f"{list(input.shape)}. Images are (N, C, H, W); a single gray image is x[None, None].")
    if weight.ndim != 4:
        raise ValueError(f"conv2d expects weight of shape (C_out, C_in / groups, kH, kW), got {list(weight.shape)}. "
                         "A single (kH, kW) kernel is w[None, None].")
    if input.dtype != weight.dtype or input.device != weight.device:
        raise TypeError(f"conv2d: input ({input.dtype}, {input.device}) and weight ({weight.dtype}, {weight.device}) "
                        "should have the same dtype and device; convert one with .to(other).")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"non-positive groups is not supported (got groups={groups!r}); groups=1 is a plain conv.")
    if weight.shape[0] < 1 or weight.shape[0] % groups:
        raise ValueError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but got "
                         f"weight of size {list(weight.shape)} instead: C_out must be a positive multiple of groups.")
    if input.shape[-3] != weight.shape[1] * groups:
        shape = list(input.shape) if input.ndim == 4 else [1, *input.shape]
        raise ValueError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input{shape} to have "
                         f"{weight.shape[1] * groups} channels, but got {input.shape[-3]} channels instead. weight's "
                         "dim 1 is C_in / groups: check the (N, C, H, W) order and that groups divides C_in.")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != weight.shape[0]):
        raise ValueError(f"Given weight of size {list(weight.shape)}, expected bias to be 1-dimensional with "
                         f"{weight.shape[0]} elements, but got bias of size {list(bias.shape)} instead.")


def _arguments(input_size, kernel, stride, padding, dilation) -> tuple[tuple[int, int], Pad4, tuple[int, int]]:
    """Check stride, padding, dilation against the input's (H, W): (stride, (top, bottom, left, right), dilation)."""
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if min(stride) < 1:
        raise ValueError(f"non-positive stride is not supported (got stride={stride}). stride=1 visits every position.")
    if min(dilation) < 1:
        raise ValueError(f"non-positive dilation is not supported (got {dilation}). dilation=1 is a plain kernel.")
    pad = _padding(padding, kernel, stride, dilation)
    padded = (input_size[-2] + pad[0] + pad[1], input_size[-1] + pad[2] + pad[3])
    span = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)  # the dilated kernel's extent
    if padded[0] < span[0] or padded[1] < span[1]:
        raise ValueError(f"Calculated padded input size per channel: ({padded[0]} x {padded[1]}). Kernel size: "
                         f"({span[0]} x {span[1]}). Kernel size can't be greater than actual input size. "
                         "Use a smaller kernel or dilation, more padding, or padding='same'.")
    return stride, pad, dilation


def windows(x: torch.Tensor, kernel_size: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
            ) -> torch.Tensor:
    """Every receptive field of x, as a view (no copy): (N, C, H, W) -> (N, C, H_out, W_out, kH, kW).

    windows(x)[n, c, a, b, i, j] = x[n, c, a s_h + i d_h, b s_w + j d_w]. ``Tensor.unfold(dim, size, step)``
    cuts a dimension into windows of ``size`` every ``step``; a window spans d (k - 1) + 1 pixels, and
    every d-th of them is a tap of the dilated kernel. (Nothing is padded here: pad first.)
    """
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    rows = x.unfold(2, dh * (kh - 1) + 1, sh)  # (N, C, H_out, W, span_h)
    return rows.unfold(3, dw * (kw - 1) + 1, sw)[..., ::dh, ::dw]  # (N, C, H_out, W_out, kH, kW)


def _padded(input: torch.Tensor, pad: Pad4) -> torch.Tensor:
    """(N, C, H, W) or (C, H, W) -> (N, C, H + top + bottom, W + left + right), zeros around, stored
    channels-last ((N, H, W, C) in memory: the order in which ``_rows`` reads it)."""
    x, (top, bottom, left, right) = (input if input.ndim == 4 else input[None]), pad
    x = F.pad(x, (left, right, top, bottom)) if any(pad) else x
    return x.contiguous(memory_format=torch.channels_last)


def _output_size(input_size, kernel_size, stride, pad: Pad4, dilation) -> tuple[int, int]:
    """(H_out, W_out) of a (..., H, W) input padded by (top, bottom, left, right): ``conv_output_size``."""
    padded = (input_size[-2] + pad[0] + pad[1], input_size[-1] + pad[2] + pad[3])
    return tuple(conv_output_size(padded[i], kernel_size[i], stride[i], 0, dilation[i]) for i in (0, 1))


def _rows(x: torch.Tensor, kernel_size, stride, dilation, groups: int) -> torch.Tensor:
    """im2col, a receptive field per row: padded (n, C_in, H, W) -> X: (G, n H_out W_out, kH kW C_in/G), a copy.

    Read from x channels-last (``_padded``), each row is made of contiguous runs of C_in / G values.
    """
    fields = windows(x, kernel_size, stride, dilation)
    (n, c, h_out, w_out), (kh, kw) = fields.shape[:4], kernel_size
    fields = fields.unflatten(1, (groups, c // groups))  # (n, G, C_in/G, H_out, W_out, kH, kW)
    return fields.permute(1, 0, 3, 4, 5, 6, 2).reshape(groups, n * h_out * w_out, kh * kw * c // groups)  # the copy


def _examples_per_chunk(x: torch.Tensor, kernel_size, out_size) -> int:
    """How many examples' rows fit in COLUMN_BYTES (at least one); x: (N, C_in, H, W)."""
    example_bytes = x.shape[1] * kernel_size[0] * kernel_size[1] * out_size[0] * out_size[1] * x.element_size()
    return max(1, COLUMN_BYTES // max(1, example_bytes))


def _kernel_rows(weight: torch.Tensor, groups: int) -> torch.Tensor:
    """The kernels as rows, in X's (i, j, c) order: (C_out, C_in/G, kH, kW) -> W: (G, C_out/G, kH kW C_in/G)."""
    return weight.unflatten(0, (groups, -1)).permute(0, 1, 3, 4, 2).flatten(2)


def _unfold_matmul(input: torch.Tensor, weight: torch.Tensor, stride, pad: Pad4, dilation, groups: int
                   ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """y = X W^T, a linear layer on the rows of X: (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    A chunk of examples at a time: pad it, unfold it (``_rows``), one matmul (per group, batched). Also
    returns X when it was built in one piece (the backward pass reuses it for dL/dw = G^T X), else None.
    """
    kernel = tuple(weight.shape[2:])
    out_size = _output_size(input.shape, kernel, stride, pad, dilation)
    w = _kernel_rows(weight, groups)
    outputs = []
    for chunk in input.split(_examples_per_chunk(input, kernel, out_size)):
        rows = _rows(_padded(chunk, pad), kernel, stride, dilation, groups)
        y = rows @ w.transpose(1, 2)  # (G, n H_out W_out, C_out/G)
        outputs.append(y.unflatten(1, (-1, *out_size)).permute(1, 0, 4, 2, 3).flatten(1, 2))  # (n, C_out, ...)
    if len(outputs) == 1:
        return outputs[0].contiguous(), rows
    return torch.cat(outputs), None  # (N, C_out, H_out, W_out)


class _Conv2d(torch.autograd.Function):
    """conv2d with its backward pass written out (``helpers.nn.conv_backward``): dL/dx = col2im(G W), the
    transposed convolution of g, dL/dw = G^T X, the correlation of the input with g, and dL/dbias."""

    @staticmethod
    def forward(ctx, input, weight, bias, stride, pad, dilation, groups):  # arguments as _arguments returns them
        y, rows = _unfold_matmul(input if input.ndim == 4 else input[None], weight, stride, pad, dilation, groups)
        if bias is not None:
            y += bias[:, None, None]
        ctx.save_for_backward(input, weight)
        ctx.rows = rows if ctx.needs_input_grad[1] else None  # X for dL/dw (on ctx: backward writes over it)
        ctx.conv = (stride, pad, dilation, groups)
        return y if input.ndim == 4 else y[0]

    @staticmethod
    def backward(ctx, grad_output):
        from helpers.nn.conv_backward import _grad_rows, _input_grad, _weight_grad  # it builds on this module

        (input, weight), rows, (stride, pad, dilation, groups) = ctx.saved_tensors, ctx.rows, ctx.conv
        ctx.rows = None  # X is used once (a second backward, with retain_graph=True, unfolds the input again)
        if torch.is_grad_enabled():  # create_graph=True: gradients must flow back through X, so rebuild it
            rows = None
        x, g = (input, grad_output) if input.ndim == 4 else (input[None], grad_output[None])
        g_rows = _grad_rows(g, groups)  # G, a row of g per output position
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_input = grad_weight = grad_bias = None
        if needs_weight:
            grad_weight = _weight_grad(x, weight.shape, g_rows, stride, pad, dilation, rows)
        if needs_input:  # dL/dX has X's shape: it is written over X, which is no longer needed
            grad_input = _input_grad(x.shape, weight, g_rows, stride, pad, dilation, out=rows).view(input.shape)
        if needs_bias:
            grad_bias = g_rows.sum(1).flatten()  # = bias_grad(g): the rows of G summed
        return grad_input, grad_weight, grad_bias, None, None, None, None


def conv2d(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """y = bias + sum_{c,i,j} w[o,c,i,j] x_pad[n, c, a s + i d, b s + j d], by unfold + matmul. ``F.conv2d``.

    input: (N, C_in, H, W) or (C_in, H, W), weight: (C_out, C_in / groups, kH, kW), bias: (C_out,) or None
    -> (N, C_out, H_out, W_out) or (C_out, H_out, W_out). stride, dilation: an int or (h, w); padding: an int,
    (h, w), "valid" or "same". groups must divide C_in and C_out. Differentiable (twice, too).
    """
    _check_tensors(input, weight, bias, groups)
    stride, pad, dilation = _arguments(input.shape, weight.shape[2:], stride, padding, dilation)
    return _Conv2d.apply(input, weight, bias, stride, pad, dilation, groups)


def conv2d_loops(
    input: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: IntPair = 1,
    padding: str | IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """The convolution as written: one sum over the receptive field per output position (a, b). Slow; for reading.

    Arguments, shapes and result as ``conv2d``. Vectorised over the batch and the channels only.
    """
    _check_tensors(input, weight, bias, groups)
    (c_out, c_group, kh, kw) = weight.shape
    (sh, sw), pad, (dh, dw) = _arguments(input.shape, (kh, kw), stride, padding, dilation)
    x = _padded(input, pad)
    h_out, w_out = conv_output_size(tuple(x.shape[2:]), (kh, kw), (sh, sw), 0, (dh, dw))
    w = weight.reshape(groups, c_out // groups, c_group, kh, kw)
    y = x.new_zeros(x.shape[0], groups, c_out // groups, h_out, w_out)
    for a in range(h_out):
        for b in range(w_out):
            field = x[:, :, a * sh : a * sh + dh * (kh - 1) + 1 : dh, b * sw : b * sw + dw * (kw - 1) + 1 : dw]
            field = field.unflatten(1, (groups, c_group))  # (N, G, C_in/G, kH, kW): the receptive field of (a, b)
            y[..., a, b] = torch.einsum("ngcij,gocij->ngo", field, w)  # sum over c, i, j
    y = y.flatten(1, 2) if bias is None else y.flatten(1, 2) + bias[:, None, None]
    return y if input.ndim == 4 else y[0]
