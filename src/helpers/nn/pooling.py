"""Max and average pooling, as ``torch.nn.functional.max_pool2d`` and ``avg_pool2d``, with their backward passes.

Pooling summarises every k x k window of every channel separately (no weights, channels never mix)::

    max:  y[n, c, a, b] = max_{i, j}  x_pad[n, c, a s + i d, b s + j d]        padded with -inf
    avg:  y[n, c, a, b] = (1 / D) sum_{i, j} x_pad[n, c, a s + i, b s + j]      padded with 0

    x: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out)
    H_out = floor((H + 2 p - d (k - 1) - 1 + (s - 1 if ceil_mode else 0)) / s) + 1     (``pool_output_size``)

The stride s defaults to the kernel size (windows side by side). Torch's rules, followed here: the padding
is at most half the kernel size (k // 2, also when dilated), so no window lies wholly in the padding; with
``ceil_mode`` a last, partial window is added when some pixels would be left out, but only if it starts
inside the input or its left padding (else it would see padding alone); what it lacks counts as padding.

The divisor D of the average is, as in torch, the window's size clipped to the padded input
(``count_include_pad=True``, the default: zero padding counts, the ceil_mode overhang beyond it does not),
or the number of real input pixels in the window (``count_include_pad=False``), or ``divisor_override``.

Backward. Max pooling passes each output's gradient to the one input that won its window, the argmax
(``return_indices`` gives it as a flat index into H W, like torch: the first maximum on ties, never a
padding pixel); everything else gets zero, and a pixel that wins several overlapping windows collects
all their gradients. Average pooling spreads each output's gradient evenly: g / D to every pixel of the
window. ``max_pool2d_backward`` and ``avg_pool2d_backward`` write that out; ``max_pool2d`` and
``avg_pool2d`` themselves leave it to autograd.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.nn.conv import IntPair, _pair, windows

__all__ = ["avg_pool2d", "avg_pool2d_backward", "max_pool2d", "max_pool2d_backward", "pool_output_size"]


def pool_output_size(
    size: int, kernel_size: int, stride: int, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    """H_out = floor or ceil((H + 2 p - d (k - 1) - 1) / s) + 1, dropping a ceil_mode window that starts past the
    input and its left padding (it would see right padding only). As torch's ``pooling_output_shape``."""
    span = dilation * (kernel_size - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _pool_arguments(where, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check the input and the window; return (kernel, stride, padding, dilation, (H_out, W_out)) as pairs."""
    if input.ndim not in (3, 4):
        raise ValueError(f"{where}: non-empty 3D or 4D (batch mode) tensor expected for input, got shape "
                         f"{list(input.shape)}. Images are (N, C, H, W); one gray image is x[None, None].")
    if 0 in input.shape[-3:]:
        raise ValueError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                         f"{list(input.shape)}. Only the batch may be empty.")
    kernel = _pair(kernel_size, "kernel_size", where)
    stride = kernel if stride is None or stride in ((), []) else _pair(stride, "stride", where)
    padding, dilation = _pair(padding, "padding", where), _pair(dilation, "dilation", where)
    for name, (h, w) in {"kernel size": kernel, "stride": stride, "dilation": dilation}.items():
        if h < 1 or w < 1:
            raise ValueError(f"{where}: {name} should be greater than zero, but got {(h, w)}.")
    for p, k in zip(padding, kernel):
        if p < 0:
            raise ValueError(f"pad must be non-negative, but got pad: {p}. To crop, slice the input instead.")
        if p > k // 2:
            raise ValueError(f"pad should be at most half of kernel size, but got pad={p}, kernel_size={k}: a window "
                             f"would see padding only. Use padding <= {k // 2}, or a larger kernel.")
    out = tuple(pool_output_size(input.shape[-2 + i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
                for i in (0, 1))
    if min(out) < 1:
        c, h, w = input.shape[-3:]
        raise ValueError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{out[0]}x{out[1]}). "
                         "Output size is too small: use a smaller kernel, stride or dilation, or pad the input.")
    return kernel, stride, padding, dilation, out


def _pad(x: torch.Tensor, kernel, stride, padding, dilation, out_size, value: float) -> torch.Tensor:
    """Pad (N, C, H, W) by p on the top/left and to exactly what the last window needs at the bottom/right.

    That may be more than p (a ceil_mode window), or less (rows no window reaches are cut off).
    """
    (ph, pw), (h, w) = padding, x.shape[-2:]
    bottom = (out_size[0] - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1 - h - ph
    right = (out_size[1] - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1 - w - pw
    return F.pad(x, (pw, right, ph, bottom), value=value)


def _winners(taps: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """The tap torch picks in each window (..., kH kW) -> (...): the first maximum among the real (not padding)
    pixels, so that a window of -inf still points into the image; but every NaN wins, so the last NaN."""
    best = taps.amax(-1, keepdim=True)  # the padding (-inf) never beats an input pixel; NaN propagates
    first = (real & (taps == best)).int().argmax(-1)
    last_nan = taps.shape[-1] - 1 - (real & taps.isnan()).flip(-1).int().argmax(-1)
    return torch.where(best.squeeze(-1).isnan(), last_nan, first)


def max_pool2d(
    input: torch.Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """y = the maximum of each (dilated) window, padding as -inf. The same as ``F.max_pool2d``.

    input: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out); with return_indices also
    the argmax of each window as a flat index row * W + col into the (unpadded) H x W input, int64.
    """
    args = _pool_arguments("max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), out = args
    x = input if input.ndim == 4 else input[None]
    lowest = float("-inf") if x.is_floating_point() else torch.iinfo(x.dtype).min
    taps = windows(_pad(x, *args, lowest), (kh, kw), (sh, sw), (dh, dw)).flatten(-2)  # (N, C, H_out, W_out, kH kW)
    ones = torch.ones_like(x[:1, :1])
    real = windows(_pad(ones, *args, 0), (kh, kw), (sh, sw), (dh, dw)).flatten(-2) == 1  # not a padding pixel
    winner = _winners(taps, real)  # (N, C, H_out, W_out), in 0 .. kH kW - 1
    y = taps.gather(-1, winner[..., None]).squeeze(-1)  # autograd sends the gradient back to the winner
    if not return_indices:
        return y if input.ndim == 4 else y[0]
    rows = torch.arange(out[0], device=x.device)[:, None] * sh - ph + winner.div(kw, rounding_mode="floor") * dh
    cols = torch.arange(out[1], device=x.device) * sw - pw + winner.remainder(kw) * dw
    indices = rows * x.shape[3] + cols  # row-major, into the unpadded H x W plane
    return (y, indices) if input.ndim == 4 else (y[0], indices[0])


def max_pool2d_backward(
    grad_output: torch.Tensor,
    input: torch.Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
) -> torch.Tensor:
    """dL/dinput of max_pool2d: every output's gradient goes to its window's argmax, the rest get 0.

    grad_output: (N, C, H_out, W_out) (or unbatched) -> input's shape. A pixel that is the argmax of several
    overlapping windows collects the sum of their gradients (``scatter_add``).
    """
    _, indices = max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    grad = grad_output.new_zeros(*input.shape[:-2], input.shape[-2] * input.shape[-1])  # (N, C, H W)
    grad.scatter_add_(-1, indices.flatten(-2), grad_output.flatten(-2))
    return grad.view(input.shape)


def _divisor(size, kernel, stride, padding, out, count_include_pad: bool) -> torch.Tensor:
    """D of every window, (H_out, W_out): its size within the padded input, or its real pixels only.

    D is a product of a row count and a column count: the window's extent along each axis, clipped.
    """
    counts = []
    for n, k, s, p, o in zip(size, kernel, stride, padding, out):
        start = torch.arange(o) * s - p  # the window's first row (it may lie in the top padding)
        end = torch.clamp(start + k, max=n + p)  # a ceil_mode overhang past the bottom padding does not count
        if not count_include_pad:
            start, end = start.clamp(min=0), end.clamp(max=n)  # the input's own rows only
        counts.append(end - start)
    return counts[0][:, None] * counts[1]


def _avg_pool_arguments(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """(kernel, stride, padding, dilation, out, D): D an int (divisor_override) or an (H_out, W_out) tensor."""
    args = _pool_arguments("avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is None:
        divisor = _divisor(input.shape[-2:], args[0], args[1], args[2], args[4], count_include_pad)
        return *args, divisor.to(input.device)
    if isinstance(divisor_override, bool) or not isinstance(divisor_override, int):
        raise TypeError("avg_pool2d(): argument 'divisor_override' must be int, not "
                        f"{type(divisor_override).__name__}: it replaces the window size D.")
    if divisor_override == 0:
        raise ValueError("divisor must be not zero: divisor_override=None divides by the window's size.")
    return *args, divisor_override


def _divide(total: torch.Tensor, divisor: torch.Tensor | int) -> torch.Tensor:
    """total / D; integer tensors divide as in C, rounding towards zero, as torch does for them."""
    return total / divisor if total.is_floating_point() else torch.div(total, divisor, rounding_mode="trunc")


def avg_pool2d(
    input: torch.Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    """y = (1 / D) * the sum of each window, padding as 0. The same as ``F.avg_pool2d``.

    input: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out) or (C, H_out, W_out). D as in the module docstring.
    """
    *args, divisor = _avg_pool_arguments(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                         divisor_override)
    x = input if input.ndim == 4 else input[None]
    total = windows(_pad(x, *args, 0), args[0], args[1], args[3]).sum((-2, -1))  # (N, C, H_out, W_out)
    y = _divide(total, divisor)
    return y if input.ndim == 4 else y[0]


def avg_pool2d_backward(
    grad_output: torch.Tensor,
    input: torch.Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor:
    """dL/dinput of avg_pool2d: every pixel of a window receives g / D; overlapping windows add up.

    grad_output: (N, C, H_out, W_out) (or unbatched) -> input's shape. Padding pixels take their share away.
    """
    *args, divisor = _avg_pool_arguments(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                         divisor_override)
    (kh, kw), (sh, sw), (ph, pw), _, (h_out, w_out) = args
    g = grad_output if grad_output.ndim == 4 else grad_output[None]
    share = g / divisor  # (N, C, H_out, W_out): what each pixel of a window gets
    h, w = input.shape[-2:]
    padded = g.new_zeros(*g.shape[:2], max((h_out - 1) * sh + kh, ph + h), max((w_out - 1) * sw + kw, pw + w))
    for i in range(kh):  # tap (i, j) of all the windows at once: a strided slice
        for j in range(kw):
            padded[:, :, i : i + (h_out - 1) * sh + 1 : sh, j : j + (w_out - 1) * sw + 1 : sw] += share
    grad = padded[:, :, ph : ph + h, pw : pw + w]
    return grad if input.ndim == 4 else grad[0]
