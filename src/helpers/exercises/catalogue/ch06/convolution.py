"""Chapter 6: the convolution of one channel by loops, and translation equivariance measured."""

from __future__ import annotations

import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.exercises.catalogue.ch06.shared import (
    AS_STRIDED,
    BOOKS_CONVOLUTIONS,
    CONVOLUTIONS,
    FFTS,
    NUMPY_CONVOLUTIONS,
    SCIPY_CONVOLUTIONS,
    UNFOLD,
    seeded,
)
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.compare import describe
from helpers.exercises.forbid import NUMPY_ESCAPE
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

F32 = torch.float32


# ---------------------------------------------------------------- the "valid" cross-correlation of one channel
def _single_cases() -> list[Case]:
    g = gen(61)

    def pair(h, w, kh, kw, dtype=F64):
        return torch.randn(h, w, generator=g, dtype=dtype), torch.randn(kh, kw, generator=g, dtype=dtype)

    delta = torch.zeros(2, 3, dtype=F64)
    delta[0, 2] = 1.0  # picks image[i, j + 2]: flipping moves it to image[i + 1, j]
    return [
        Case("a (5, 6) float64 image, a (3, 3) kernel", pair(5, 6, 3, 3),
             "Output (i, j) is the kernel laid over the image with its top-left corner at (i, j): "
             "sum_{a,b} image[i + a, j + b] kernel[a, b]. A 3x3 kernel fits at 5 - 3 + 1 = 3 rows and 4 columns."),
        Case("a (6, 8) float64 image, a (2, 3) kernel (neither square)", pair(6, 8, 2, 3),
             "Rows and columns are not interchangeable: the output has H - kH + 1 = 5 rows and W - kW + 1 = 6 "
             "columns."),
        Case("a (5, 6) image, a (2, 3) kernel that is 1 at [0, 2] and 0 elsewhere", (pair(5, 6, 1, 1)[0], delta),
             "This kernel copies image[i, j + 2] to out[i, j]: no flip, the kernel is read the way it is written."),
        Case("a (7, 4) float32 image, a (3, 2) kernel", pair(7, 4, 3, 2, F32),
             "Any dtype: the output keeps the image's."),
        Case("a (4, 5) image and a (4, 5) kernel: a single output", pair(4, 5, 4, 5),
             "A kernel as large as the image fits in one place: the output is (1, 1), the sum of image * kernel."),
        Case("a (3, 6) image, a (1, 1) kernel", pair(3, 6, 1, 1),
             "A 1x1 kernel fits everywhere: the output is the image times one number."),
        Case("a (20, 30) float64 image, a (5, 4) kernel", pair(20, 30, 5, 4), hidden=True),
        Case("a (16, 9) float32 image, a (3, 7) kernel", pair(16, 9, 3, 7, F32), hidden=True),
        Case("a (1, 10) image (a single row), a (1, 3) kernel", pair(1, 10, 1, 3), hidden=True),
        Case("a (9, 2) image, a (4, 2) kernel", pair(9, 2, 4, 2), hidden=True),
    ]


def _correlate(image: torch.Tensor, kernel: torch.Tensor, rows: int, cols: int) -> torch.Tensor:
    """out[i, j] = sum_{a,b} image[i + a, j + b] kernel[a, b] for i < rows, j < cols, by loops."""
    kh, kw = kernel.shape
    out = image.new_zeros(rows, cols)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = (image[i : i + kh, j : j + kw] * kernel).sum()
    return out


def _conv2d_single(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    (h, w), (kh, kw) = image.shape, kernel.shape
    return _correlate(image, kernel, h - kh + 1, w - kw + 1)


def _same_size(image, kernel):
    (kh, kw) = kernel.shape
    top, left = (kh - 1) // 2, (kw - 1) // 2
    padded = F.pad(image, (left, kw - 1 - left, top, kh - 1 - top))  # zeros around, so the output is (H, W)
    return _correlate(padded, kernel, *image.shape)


SINGLE = Exercise(
    id="06.conv2d_single",
    title="The convolution of one channel, by loops",
    kind="implement",
    points=2,
    prompt=(
        "conv2d_single(image, kernel) returns the 'valid' cross-correlation of an image (H, W) with a kernel "
        "(kH, kW), what deep learning calls a convolution: out[i, j] = sum_{a,b} image[i + a, j + b] kernel[a, b], "
        "of shape (H - kH + 1, W - kW + 1), in the image's dtype. Loop over the output positions."
    ),
    reference=_conv2d_single,
    cases=_single_cases,
    compare=close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-5)),
    forbidden=(*CONVOLUTIONS, *UNFOLD, *AS_STRIDED, *SCIPY_CONVOLUTIONS, *NUMPY_CONVOLUTIONS, *FFTS,
               *BOOKS_CONVOLUTIONS, "helpers.nn.conv.windows"),
    instead="Two loops over the output positions; at each, slice the patch under the kernel, multiply and .sum() "
    "(no library convolution, unfolding, strided view or Fourier transform).",
    hints=[
        "The output has one entry per place the kernel fits inside the image: H - kH + 1 rows and W - kW + 1 "
        "columns. Start from image.new_zeros(rows, cols).",
        "At output (i, j) the kernel covers the patch image[i : i + kH, j : j + kW]; the entry is the sum of that "
        "patch times the kernel, element by element (no flip).",
        "for i in range(rows): for j in range(cols): out[i, j] = (image[i:i + kH, j:j + kW] * kernel).sum()",
    ],
    wrong={
        "The kernel was flipped in both axes: that is the mathematicians' convolution (scipy.signal.convolve2d). "
        "A convolution layer computes the cross-correlation, image[i + a, j + b] * kernel[a, b], with the kernel "
        "read as written.": lambda image, kernel: _conv2d_single(image, kernel.flip(0, 1)),
        "The image was zero-padded so that the output is as large as the image ('same'). The 'valid' correlation "
        "uses only places where the whole kernel lies inside the image: (H - kH + 1, W - kW + 1).": _same_size,
        "The output is one row and one column short: the kernel fits at H - kH + 1 positions (0, 1, ..., H - kH), "
        "so loop over range(H - kH + 1), not range(H - kH).": lambda image, kernel: _correlate(
            image, kernel, image.shape[0] - kernel.shape[0], image.shape[1] - kernel.shape[1]),
        "The result is transposed: rows of the output follow rows of the image (index i with image[i + a, ...]), "
        "so the output is (H - kH + 1, W - kW + 1), not its transpose.": (
            lambda image, kernel: _conv2d_single(image, kernel).T
        ),
    },
)


# ---------------------------------------------------------------- translation equivariance, measured
class PixelLinear(nn.Module):
    """A linear layer on the flattened pixels, reshaped back into an image: (N, C, H, W) -> (N, C_out, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, height: int, width: int):
        super().__init__()
        self.shape = (out_channels, height, width)
        self.linear = nn.Linear(in_channels * height * width, out_channels * height * width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x.flatten(1)).unflatten(1, self.shape)


def circular_max_pool(x: torch.Tensor) -> torch.Tensor:
    """A 3x3 max-pool with stride 1, the image wrapped around its edges: (N, C, H, W) -> (N, C, H, W)."""
    return F.max_pool2d(F.pad(x, (1, 1, 1, 1), mode="circular"), 3, stride=1)


def _equivariance_cases() -> list[Case]:
    g = gen(62)

    def x(*shape, dtype=F64):
        return torch.randn(*shape, generator=g, dtype=dtype)

    def conv(seed, c_in, c_out, k, mode, dtype=F64):
        return seeded(seed, lambda: nn.Conv2d(c_in, c_out, k, padding=k // 2, padding_mode=mode), dtype)

    return [
        Case("f = a 3x3 convolution 3 -> 4 channels with circular padding, x: (2, 3, 6, 7) float64, shift (1, 2)",
             (conv(0, 3, 4, 3, "circular"), x(2, 3, 6, 7), (1, 2)),
             "With circular padding the image wraps around, and a convolution commutes exactly with circular "
             "shifts: the gap is rounding, about 1e-16."),
        Case("f = ReLU, x: (3, 2, 5, 5) float64, shift (2, -1)", (torch.relu, x(3, 2, 5, 5), (2, -1)),
             "A function applied pixel by pixel commutes with any rearrangement of the pixels: the gap is 0."),
        Case("f = a 3x3, stride-1 max-pool with circular padding, x: (2, 3, 6, 6) float64, shift (-1, 3)",
             (circular_max_pool, x(2, 3, 6, 6), (-1, 3)),
             "The maximum over a window that slides with the image: shifting first or last gives the same values."),
        Case("f = a 3x3 convolution 3 -> 2 channels with zero padding, x: (2, 3, 6, 6) float64, shift (1, 1)",
             (conv(1, 3, 2, 3, "zeros"), x(2, 3, 6, 6), (1, 1)),
             "Zero padding is not shifted with the image: the pixels that wrap around meet zeros on one side and "
             "image on the other, so the gap is not 0 at the border."),
        Case("f = a linear layer on the 2 x 4 x 4 flattened pixels, reshaped back, x: (2, 2, 4, 4), shift (0, 1)",
             (seeded(2, lambda: PixelLinear(2, 2, 4, 4)), x(2, 2, 4, 4), (0, 1)),
             "A fully connected layer has its own weight for every pair of pixels: nothing ties it to shifts, and "
             "the gap is as large as the outputs."),
        Case("f = a 3x3 circular convolution 3 -> 3 channels, x: (2, 3, 5, 9) float32, shift (2, 3)",
             (conv(3, 3, 3, 3, "circular", F32), x(2, 3, 5, 9, dtype=F32), (2, 3)),
             "In float32 the rounding is about 1e-7 of the values: a gap that small still means 0."),
        Case("f = a 5x5 circular convolution 3 -> 4 channels, x: (4, 3, 12, 10) float64, shift (5, -7)",
             (conv(4, 3, 4, 5, "circular"), x(4, 3, 12, 10), (5, -7)), hidden=True),
        Case("f = a zero-padded 3x3 convolution 2 -> 3 channels, shift (0, 0)",
             (conv(5, 2, 3, 3, "zeros"), x(2, 2, 6, 6), (0, 0)), hidden=True),
        Case("f = a 3x3 circular convolution, shift (13, 20) on a (6, 8) image",
             (conv(6, 2, 2, 3, "circular"), x(3, 2, 6, 8), (13, 20)), hidden=True),
        Case("f = a zero-padded 3x3 convolution 4 -> 4 channels, x: (3, 4, 10, 10) float32, shift (3, -2)",
             (conv(7, 4, 4, 3, "zeros", F32), x(3, 4, 10, 10, dtype=F32), (3, -2)), hidden=True),
        Case("f = a linear layer on the 3 x 5 x 6 flattened pixels, x: (3, 3, 5, 6), shift (2, 2)",
             (seeded(8, lambda: PixelLinear(3, 1, 5, 6)), x(3, 3, 5, 6), (2, 2)), hidden=True),
    ]


def _gap_with(dims=(-2, -1), sign=1, invariance=False, reduce=lambda d: d.max()):
    """The equivariance gap, or one of the known mistakes."""

    def answer(f, x, shift):
        def g(t, s=shift):
            return torch.roll(t, shifts=tuple(s), dims=dims)

        other = f(x) if invariance else g(f(x), tuple(sign * s for s in shift))
        return reduce((f(g(x)) - other).abs()).item()

    return answer


def _equivariance_gap(f, x: torch.Tensor, shift: tuple) -> float:
    def g(t):
        return torch.roll(t, shifts=shift, dims=(-2, -1))

    return (f(g(x)) - g(f(x))).abs().max().item()


def _compare_gap(expected: float, got) -> Mismatch | None:
    """One number, a float or a 0-dim tensor, within 1e-5 (a gap that is rounding is as good as 0)."""
    if isinstance(got, (torch.Tensor, np.ndarray)):
        if (got.size if isinstance(got, np.ndarray) else got.numel()) != 1:
            return Mismatch(f"returned {describe(got)}: the gap is ONE number, the largest |f(g(x)) - g(f(x))| over "
                            "every example, channel and pixel; reduce with .max() and return .item()",
                            kind=ResultKind.WRONG_TYPE)
        got = got.item() if isinstance(got, np.ndarray) else got.detach().item()
    if isinstance(got, bool) or not isinstance(got, numbers.Real):
        return Mismatch(f"returned {describe(got)}; the gap is a float (.item() gives one)", kind=ResultKind.WRONG_TYPE)
    if not math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-5):
        return Mismatch(f"expected a gap of {expected:.6g}, got {got:.6g}")
    return None


EQUIVARIANCE = Exercise(
    id="06.equivariance_gap",
    title="Translation equivariance, measured",
    kind="implement",
    points=1,
    prompt=(
        "equivariance_gap(f, x, shift) measures how far f is from commuting with the circular shift "
        "g(t) = torch.roll(t, shifts=shift, dims=(-2, -1)): it returns max |f(g(x)) - g(f(x))| over every entry, as "
        "a Python float (a 0-dim tensor is accepted too). x: (N, C, H, W); f maps (N, C, H, W) to (N, C', H, W); "
        "shift: (rows, columns)."
    ),
    reference=_equivariance_gap,
    cases=_equivariance_cases,
    compare=_compare_gap,
    forbidden=NUMPY_ESCAPE,
    instead="torch.roll(t, shifts=shift, dims=(-2, -1)) shifts the pixels; stay in torch.",
    hints=[
        "Equivariance: shifting the input shifts the output the same way. Compute both orders, f(g(x)) (shift, then "
        "f) and g(f(x)) (f, then shift).",
        "g shifts only the last two dimensions, the rows and columns of the image: dims=(-2, -1). The batch and the "
        "channels stay in place.",
        "(f(g(x)) - g(f(x))).abs().max().item(), with g(t) = torch.roll(t, shifts=shift, dims=(-2, -1)).",
    ],
    wrong={
        "That measures invariance, |f(g(x)) - f(x)|: whether the output stays the SAME when the input shifts. "
        "Equivariance asks whether the output shifts WITH the input: compare f(g(x)) with g(f(x)).": (
            _gap_with(invariance=True)
        ),
        "The shift moved the batch and channel dimensions (dims=(0, 1)): g shifts the image, its rows and columns, "
        "which are the last two dimensions: dims=(-2, -1).": _gap_with(dims=(0, 1)),
        "The output was shifted the opposite way (-shift): an equivariant f moves its output by the SAME shift as "
        "its input, g(f(x)) with g the same torch.roll.": _gap_with(sign=-1),
        "That is the mean of |f(g(x)) - g(f(x))|: the gap is the largest difference, .max(), so that one wrong "
        "pixel at the border is not averaged away.": _gap_with(reduce=lambda d: d.mean()),
    },
)

EXERCISES = [SINGLE, EQUIVARIANCE]
