"""Chapter 6: the convolution layer with channels, stride and padding; its output size; max pooling."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.ch06.shared import CONVOLUTION_LAYER, CONVOLUTIONS, MAX_POOLS, UNFOLD
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen, whole_number
from helpers.exercises.compare import close
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


# ---------------------------------------------------------------- conv2d with channels, stride and padding
def _conv2d_cases() -> list[Case]:
    g = gen(63)

    def layer(n, c_in, h, w, c_out, kh, kw, bias=True, dtype=F64):
        x = torch.randn(n, c_in, h, w, generator=g, dtype=dtype)
        weight = torch.randn(c_out, c_in, kh, kw, generator=g, dtype=dtype)
        return x, weight, torch.randn(c_out, generator=g, dtype=dtype) if bias else None

    return [
        Case("x: (2, 3, 7, 6) float64, weight (4, 3, 3, 2), bias, stride=1, padding=0",
             (*layer(2, 3, 7, 6, 4, 3, 2), 1, 0),
             "y[n, o] = bias[o] + sum over the 3 input channels of each channel correlated with its own kernel "
             "w[o, c]: every output channel sees every input channel."),
        Case("x: (2, 2, 5, 5), weight (3, 2, 3, 3), no bias, stride=1, padding=1",
             (*layer(2, 2, 5, 5, 3, 3, 3, bias=False), 1, 1),
             "padding=1 puts a border of zeros around each image first: a 3x3 kernel then fits at 5 positions, "
             "and the output keeps the 5x5 size."),
        Case("x: (1, 2, 8, 7), weight (2, 2, 3, 3), bias, stride=2, padding=0", (*layer(1, 2, 8, 7, 2, 3, 3), 2, 0),
             "With stride 2 the kernel moves 2 pixels at a time: H_out = floor((8 - 3) / 2) + 1 = 3 (a window that "
             "would stick out past the image is not computed), W_out = floor((7 - 3) / 2) + 1 = 3."),
        Case("x: (2, 3, 6, 9) float32, weight (5, 3, 3, 3), bias, stride=2, padding=1",
             (*layer(2, 3, 6, 9, 5, 3, 3, dtype=F32), 2, 1),
             "Padding first, then the strided windows over the padded image; in the input's dtype."),
        Case("conv2d(x, weight) with the defaults: x: (3, 1, 5, 4), weight (2, 1, 2, 2)",
             layer(3, 1, 5, 4, 2, 2, 2, bias=False)[:2],
             "The defaults are bias=None, stride=1, padding=0."),
        Case("a 1x1 kernel: x: (2, 4, 3, 5), weight (3, 4, 1, 1), bias", (*layer(2, 4, 3, 5, 3, 1, 1), 1, 0),
             "A 1x1 convolution mixes the channels at each pixel, like a linear layer applied to every pixel."),
        Case("x: (4, 8, 16, 12), weight (6, 8, 5, 3), bias, stride=3, padding=2",
             (*layer(4, 8, 16, 12, 6, 5, 3), 3, 2), hidden=True),
        Case("x: (8, 3, 12, 12) float32, weight (4, 3, 3, 3), bias, stride=1, padding=1",
             (*layer(8, 3, 12, 12, 4, 3, 3, dtype=F32), 1, 1), hidden=True),
        Case("a stride larger than the kernel: x: (2, 2, 9, 9), weight (2, 2, 2, 2), stride=3",
             (*layer(2, 2, 9, 9, 2, 2, 2, bias=False), 3, 0), hidden=True),
        Case("a kernel as large as the padded image: x: (1, 2, 3, 4), weight (1, 2, 5, 6), padding=1",
             (*layer(1, 2, 3, 4, 1, 5, 6), 1, 1), hidden=True),
    ]


def _conv2d(input, weight, bias=None, stride: int = 1, padding: int = 0) -> torch.Tensor:
    """im2col: each receptive field becomes a column, and the layer one matrix product with the kernels as rows."""
    (n, _, h, w), (c_out, _, kh, kw) = input.shape, weight.shape
    h_out, w_out = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    columns = F.unfold(input, (kh, kw), padding=padding, stride=stride)  # (N, C_in kH kW, H_out W_out)
    y = (weight.reshape(c_out, -1) @ columns).reshape(n, c_out, h_out, w_out)
    return y if bias is None else y + bias[:, None, None]


def _conv2d_with(use_padding=True, use_stride=True, use_bias=True, first_channel=False, flip=False, ceil=False):
    """conv2d with one of the known mistakes, by windows and a sum over (c, a, b)."""

    def answer(input, weight, bias=None, stride=1, padding=0):
        p, s = (padding if use_padding else 0), (stride if use_stride else 1)
        x = F.pad(input, (p, p, p, p))
        weight = weight.flip(-2, -1) if flip else weight
        if first_channel:
            x, weight = x[:, :1], weight[:, :1]
        (h, w), (kh, kw) = x.shape[2:], weight.shape[2:]
        if ceil:  # one more window wherever the last one would stick out, padded with zeros
            h_out, w_out = -(-(h - kh) // s) + 1, -(-(w - kw) // s) + 1
            x = F.pad(x, (0, (w_out - 1) * s + kw - w, 0, (h_out - 1) * s + kh - h))
        fields = x.unfold(2, kh, s).unfold(3, kw, s)  # (N, C_in, H_out, W_out, kH, kW)
        y = torch.einsum("ncijab,ocab->noij", fields, weight)
        return y + bias[:, None, None] if bias is not None and use_bias else y

    return answer


CONV2D = Exercise(
    id="06.conv2d",
    title="A convolution layer: channels, stride and padding",
    kind="implement",
    points=2,
    prompt=(
        "conv2d(input, weight, bias=None, stride=1, padding=0) returns F.conv2d(input, weight, bias, stride, "
        "padding) for int stride and padding: input (N, C_in, H, W), weight (C_out, C_in, kH, kW), bias (C_out,) or "
        "None -> (N, C_out, H_out, W_out), y[n, o, i, j] = bias[o] + sum_{c,a,b} weight[o, c, a, b] "
        "x_pad[n, c, i * stride + a, j * stride + b], with x_pad the input zero-padded by `padding` on every side and "
        "H_out = floor((H + 2 padding - kH) / stride) + 1. F.unfold and Tensor.unfold are allowed."
    ),
    reference=_conv2d,
    cases=_conv2d_cases,
    compare=close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-4)),
    forbidden=CONVOLUTION_LAYER,
    instead="Pad with F.pad, then loop over the output positions (or unfold the windows) and sum over c, a, b.",
    hints=[
        "Pad first: F.pad(input, (padding,) * 4) adds `padding` zeros on the left, right, top and bottom. Then the "
        "output has H_out = (H_pad - kH) // stride + 1 rows (floor: a window that sticks out is not computed).",
        "Output (i, j) looks at the window x_pad[:, :, i * stride : i * stride + kH, j * stride : j * stride + kW], "
        "(N, C_in, kH, kW). Each output channel o multiplies it by weight[o] and sums over c, a and b at once: "
        "torch.einsum('ncab,ocab->no', window, weight).",
        "Loop over i and j filling out[:, :, i, j]; add bias[:, None, None] at the end when bias is not None. "
        "(Or unfold: F.unfold(input, (kH, kW), padding=padding, stride=stride) makes each window a column, and "
        "weight.reshape(C_out, -1) @ columns is the whole layer.)",
    ],
    wrong={
        "The padding was ignored: pad the input with `padding` zeros on every side first (F.pad(input, "
        "(padding,) * 4)), so that a 3x3 kernel with padding=1 keeps the image size.": _conv2d_with(use_padding=False),
        "The stride was ignored: with stride s the window moves s pixels at a time, so output (i, j) starts at "
        "(i s, j s) of the padded input and H_out = (H_pad - kH) // s + 1.": _conv2d_with(use_stride=False),
        "The bias was dropped: add bias[o] to every position of output channel o (bias[:, None, None]) when it is "
        "given.": _conv2d_with(use_bias=False),
        "Only input channel 0 was used: every output channel sums over ALL input channels, "
        "sum_{c,a,b} weight[o, c, a, b] x[n, c, ...].": _conv2d_with(first_channel=True),
        "The kernel was flipped: F.conv2d is a cross-correlation, weight[o, c, a, b] meets x_pad[n, c, i s + a, "
        "j s + b], with the kernel read as written.": _conv2d_with(flip=True),
        "The output size was rounded up: a window that would stick out past the padded input is not computed, so "
        "H_out = floor((H + 2 p - kH) / s) + 1 (//), not ceil.": _conv2d_with(ceil=True),
    },
)


# ---------------------------------------------------------------- the output size
def _output_size_cases() -> list[Case]:
    def case(*args, why="", hidden=False):
        names = ("size", "kernel_size", "stride", "padding", "dilation")
        return Case(", ".join(f"{name}={value}" for name, value in zip(names, args)), args, why, hidden)

    return [
        case(32, 3, 2, 1, why="A 3x3 kernel with padding 1 and stride 2 halves a 32-pixel side: (32 + 2 - 3) // 2 + "
             "1 = 16. The last window would stick out, so it does not count: floor, not ceil."),
        case(8, 3, why="The defaults (stride 1, no padding, no dilation): 8 - 3 + 1 = 6 positions."),
        case(28, 5, 1, 2, why="Padding p adds p pixels on EACH side, 2p in all: 5x5 with padding 2 keeps 28."),
        case(10, 3, 1, 0, 2, why="With dilation 2 the 3 taps are 2 pixels apart: the kernel spans "
             "2 (3 - 1) + 1 = 5 pixels, which fit at 10 - 5 + 1 = 6 places."),
        case(7, 2, 2, why="floor((7 - 2) / 2) + 1 = 3: the seventh pixel is not covered by any window."),
        case(5, 5, why="A kernel as large as the input fits once."),
        case(9, 3, 2, 2, 2, why="Everything at once: span 2 (3 - 1) + 1 = 5, padded size 13, (13 - 5) // 2 + 1 = 5."),
        case(12, 3, 1, 1, 3, why="With dilation 3 the 3 taps span 3 (3 - 1) + 1 = 7 pixels, not 3 x 3 = 9: there are "
             "k - 1 gaps between k taps. Padded size 14: 14 - 7 + 1 = 8."),
        case(224, 7, 2, 3, hidden=True),
        case(227, 11, 4, 0, hidden=True),
        case(64, 3, 1, 4, 4, hidden=True),
        case(15, 4, 3, 1, hidden=True),
        case(1, 1, hidden=True),
        case(100, 3, 5, 0, 3, hidden=True),
    ]


def _conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    span = dilation * (kernel_size - 1) + 1  # the dilated kernel covers this many pixels
    return (size + 2 * padding - span) // stride + 1


OUTPUT_SIZE = Exercise(
    id="06.output_size",
    title="The output size of a convolution",
    kind="implement",
    points=1,
    prompt=(
        "conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1) returns, as an int, how many outputs a "
        "convolution (or pooling) layer gives along one side of `size` pixels: "
        "floor((size + 2 padding - dilation (kernel_size - 1) - 1) / stride) + 1."
    ),
    reference=_conv_output_size,
    cases=_output_size_cases,
    compare=whole_number("a size"),
    forbidden=("helpers.nn.conv.conv_output_size", "helpers.nn.pooling.pool_output_size", *CONVOLUTIONS, *UNFOLD,
               *MAX_POOLS, "torch.nn.functional.avg_pool2d", "torch.nn.AvgPool2d", "helpers.nn.conv.conv2d",
               "helpers.nn.pooling.avg_pool2d"),
    instead="The formula is integer arithmetic: + , - , * and //. No need to run a layer.",
    hints=[
        "The dilated kernel spans dilation (kernel_size - 1) + 1 pixels, and padding adds `padding` pixels on EACH "
        "side of the input.",
        "A kernel of span s fits at (padded size - s) + 1 places one pixel apart; with stride, one every `stride` "
        "pixels: the count of starts 0, stride, 2 stride, ... that still leave room for the whole kernel.",
        "(size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1: // rounds down and gives an int.",
    ],
    wrong={
        "The dilation was ignored: with dilation d the k taps are d pixels apart and the kernel spans "
        "d (k - 1) + 1 pixels, so subtract d (k - 1) + 1, not k.": (
            lambda size, k, stride=1, padding=0, dilation=1: (size + 2 * padding - k) // stride + 1
        ),
        "The dilated kernel was taken to span d k pixels: its k taps are d pixels apart, so there are k - 1 gaps of "
        "d between them and the span is d (k - 1) + 1.": (
            lambda size, k, stride=1, padding=0, dilation=1: (size + 2 * padding - dilation * k) // stride + 1
        ),
        "The padding was added once: it goes on both sides of the input, so the padded size is size + 2 padding.": (
            lambda size, k, stride=1, padding=0, dilation=1: (size + padding - dilation * (k - 1) - 1) // stride + 1
        ),
        "That rounds up: a last window that would stick out past the padded input is not computed, so round down "
        "(//, floor).": (
            lambda size, k, stride=1, padding=0, dilation=1: -(-(size + 2 * padding - dilation * (k - 1) - 1)
                                                                // stride) + 1
        ),
        "The + 1 is missing: the first window, at offset 0, counts too; (size + 2p - span) // stride counts only "
        "the steps between windows.": (
            lambda size, k, stride=1, padding=0, dilation=1: (size + 2 * padding - dilation * (k - 1) - 1) // stride
        ),
        "/ is float division: the number of windows is a whole number, floor((...) / stride) + 1, which // gives "
        "directly (as an int).": (
            lambda size, k, stride=1, padding=0, dilation=1: (size + 2 * padding - dilation * (k - 1) - 1) / stride
            + 1
        ),
    },
)


# ---------------------------------------------------------------- max pooling
def _max_pool_cases() -> list[Case]:
    g = gen(65)

    def x(*shape, dtype=F64):
        return torch.randn(*shape, generator=g, dtype=dtype)

    with_inf = x(1, 2, 4, 6)
    with_inf[0, 0, :2, :2] = -torch.inf  # a window of -inf only
    with_inf[0, 1, 2, 3] = -torch.inf  # one -inf among finite values
    return [
        Case("x: (1, 1, 4, 4), the numbers 0 to 15 shuffled, kernel_size=2 (stride left out)",
             (torch.randperm(16, generator=g).to(F64).reshape(1, 1, 4, 4), 2),
             "The stride defaults to the kernel size: 2x2 windows side by side, no overlap, so a 4x4 image gives 2x2."),
        Case("x: (2, 3, 6, 6) float64, kernel_size=3", (x(2, 3, 6, 6), 3),
             "Each channel of each image is pooled on its own: the output keeps N and C."),
        Case("odd sizes: x: (2, 2, 7, 5), kernel_size=2", (x(2, 2, 7, 5), 2),
             "floor((7 - 2) / 2) + 1 = 3 rows and 2 columns: the last row and column fit in no window and are left "
             "out (ceil_mode=False)."),
        Case("overlapping windows: x: (1, 2, 5, 6), kernel_size=3, stride=1", (x(1, 2, 5, 6), 3, 1),
             "With stride 1 the windows overlap, and one large value can win several of them."),
        Case("every value negative: x: (2, 2, 4, 6), kernel_size=2", (-x(2, 2, 4, 6).abs() - 0.1, 2),
             "The maximum of negative numbers is negative: start from the window's values, not from 0."),
        Case("-inf values: x: (1, 2, 4, 6), one 2x2 window all -inf, kernel_size=2", (with_inf, 2),
             "A window of -inf only has maximum -inf; one -inf among finite values changes nothing."),
        Case("x: (2, 3, 7, 7) float32, kernel_size=3, stride=2", (x(2, 3, 7, 7, dtype=F32), 3, 2),
             "Any dtype; (7 - 3) // 2 + 1 = 3."),
        Case("x: (4, 8, 17, 13), kernel_size=3, stride=2", (x(4, 8, 17, 13), 3, 2), hidden=True),
        Case("gaps between windows: x: (2, 2, 9, 9), kernel_size=2, stride=3", (x(2, 2, 9, 9), 2, 3), hidden=True),
        Case("one window: x: (3, 4, 5, 7), kernel_size=5", (x(3, 4, 5, 7), 5), hidden=True),
        Case("x: (2, 1, 12, 12) float32, kernel_size=4", (x(2, 1, 12, 12, dtype=F32), 4), hidden=True),
    ]


def _max_pool2d(input: torch.Tensor, kernel_size: int, stride: int | None = None) -> torch.Tensor:
    stride = kernel_size if stride is None else stride
    windows = input.unfold(2, kernel_size, stride).unfold(3, kernel_size, stride)  # (N, C, H_out, W_out, k, k)
    return windows.amax(dim=(-2, -1))


def _pool_with(default_stride=None, reduce=lambda w: w.amax(dim=(-2, -1)), ceil=False, over_channels=False):
    """max_pool2d with one of the known mistakes."""

    def answer(input, kernel_size, stride=None):
        k = kernel_size
        s = stride if stride is not None else (default_stride or k)
        if ceil:  # a last, partial window wherever pixels are left over, padded with -inf
            (h, w) = input.shape[2:]
            h_out, w_out = -(-(h - k) // s) + 1, -(-(w - k) // s) + 1
            input = F.pad(input, (0, (w_out - 1) * s + k - w, 0, (h_out - 1) * s + k - h), value=-torch.inf)
        y = reduce(input.unfold(2, k, s).unfold(3, k, s))
        return y.amax(dim=1, keepdim=True) if over_channels else y

    return answer


MAX_POOL = Exercise(
    id="06.max_pool2d",
    title="Max pooling",
    kind="implement",
    points=2,
    prompt=(
        "max_pool2d(input, kernel_size, stride=None) returns F.max_pool2d(input, kernel_size, stride) with no "
        "padding: the maximum of every kernel_size x kernel_size window of every channel, windows `stride` pixels "
        "apart (stride=None means stride = kernel_size), the last window dropped if it would stick out (floor). "
        "(N, C, H, W) -> (N, C, H_out, W_out), H_out = (H - kernel_size) // stride + 1."
    ),
    reference=_max_pool2d,
    cases=_max_pool_cases,
    compare=close(rtol=0.0, atol=0.0),
    forbidden=MAX_POOLS,
    instead="Slice each window (or cut them all with Tensor.unfold) and take .amax over the window's two dimensions.",
    hints=[
        "When stride is None it equals kernel_size (windows side by side). H_out = (H - k) // stride + 1, and the "
        "same for W.",
        "Output (i, j) is the maximum of input[:, :, i s : i s + k, j s : j s + k] over its last two dimensions "
        "(.amax(dim=(-2, -1))): every example and channel separately.",
        "In one step: input.unfold(2, k, s).unfold(3, k, s) is (N, C, H_out, W_out, k, k), every window at once; "
        "then .amax(dim=(-2, -1)).",
    ],
    wrong={
        "The stride defaulted to 1: F.max_pool2d's stride defaults to the kernel size, so that the windows sit side "
        "by side (stride = kernel_size when stride is None).": _pool_with(default_stride=1),
        "That is the average of each window (average pooling): max pooling keeps each window's largest value, "
        ".amax(dim=(-2, -1)).": _pool_with(reduce=lambda w: w.mean(dim=(-2, -1))),
        "A last, partial window was added (ceil_mode=True): F.max_pool2d drops a window that would stick out, "
        "H_out = (H - k) // stride + 1.": _pool_with(ceil=True),
        "The maximum was taken over the channels too: pooling works on every channel separately, so the output "
        "keeps all C channels; take the maximum over the window's two dimensions only.": (
            _pool_with(over_channels=True)
        ),
        "The maximum started from 0 (or was clamped at 0): windows of negative values then give 0. Start from the "
        "window's own values.": _pool_with(reduce=lambda w: w.amax(dim=(-2, -1)).clamp(min=0)),
    },
)

EXERCISES = [CONV2D, OUTPUT_SIZE, MAX_POOL]
