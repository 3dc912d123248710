"""helpers.nn.conv and conv_backward against F.conv2d, torch.nn.grad, F.conv_transpose2d and scipy.signal:
values and gradients (first and second order) in float64 at 1e-10, sizes, parameter counts and every error."""

import random as pyrandom

import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, close, leaf, random
from torch import nn

from helpers.nn import conv, conv_backward
from helpers.nn.conv import conv2d, conv2d_loops, conv_output_size, conv_parameter_count, windows
from helpers.nn.conv_backward import _fold, conv2d_backward, conv2d_input, conv2d_weight

IMPLEMENTATIONS = {"unfold": conv2d, "loops": conv2d_loops}

# (input shape, weight shape, keyword arguments): ints, tuples, "same"/"valid", dilation, groups, unbatched
CASES = {
    "plain": ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    "padding": ((2, 3, 6, 6), (4, 3, 3, 3), {"padding": 1}),
    "stride-tuple": ((2, 2, 9, 8), (3, 2, 3, 2), {"stride": (2, 3), "padding": (1, 2)}),
    "stride-past-kernel": ((1, 2, 9, 9), (2, 2, 2, 2), {"stride": 3}),
    "dilation": ((2, 2, 9, 9), (3, 2, 3, 3), {"dilation": (2, 1), "padding": 1, "stride": (1, 2)}),
    "same-odd": ((2, 3, 6, 7), (2, 3, 3, 5), {"padding": "same"}),
    "same-even": ((2, 2, 6, 7), (3, 2, 2, 4), {"padding": "same", "dilation": (1, 3)}),
    "valid": ((2, 2, 5, 6), (3, 2, 2, 3), {"padding": "valid"}),
    "groups": ((2, 4, 6, 6), (6, 2, 3, 3), {"groups": 2, "padding": 1, "stride": 2}),
    "depthwise": ((2, 3, 7, 7), (3, 1, 3, 3), {"groups": 3, "dilation": 2}),
    "one-by-one": ((3, 4, 5, 5), (2, 4, 1, 1), {"stride": 2}),
    "unbatched": ((3, 6, 6), (2, 3, 3, 3), {"padding": (0, 1)}),
    "big-padding": ((1, 1, 3, 4), (2, 1, 2, 2), {"padding": 3, "stride": 2}),
}


def tensors(input_shape, weight_shape, device, bias=True, seed=0):
    x, w = random(*input_shape, seed=seed, device=device), random(*weight_shape, seed=seed + 1, device=device)
    return x, w, (random(weight_shape[0], seed=seed + 2, device=device) if bias else None)


def check_against_torch(fn, x, w, b, kwargs):
    """fn(x, w, b, **kwargs) == F.conv2d(...), and so are the gradients of a random weighting of the output."""
    ours_in = [leaf(t) for t in (x, w, b) if t is not None]
    torch_in = [leaf(t) for t in (x, w, b) if t is not None]
    ours, theirs = fn(*ours_in, **kwargs), F.conv2d(*torch_in, **kwargs)
    assert close(ours, theirs) and ours.is_contiguous()
    g = random(*theirs.shape, seed=99, device=theirs.device)
    for a, e in zip(torch.autograd.grad(ours, ours_in, g), torch.autograd.grad(theirs, torch_in, g)):
        assert close(a, e)


# ---------------------------------------------------------------- forward and autograd against F.conv2d
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_values_and_gradients_match_f_conv2d(device, impl, case):
    input_shape, weight_shape, kwargs = CASES[case]
    for bias in (True, False):
        check_against_torch(IMPLEMENTATIONS[impl], *tensors(input_shape, weight_shape, device, bias), kwargs)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_random_configurations_match_f_conv2d(device):
    rng = pyrandom.Random(0)
    for trial in range(40):
        groups = rng.choice([1, 1, 2, 3])
        kernel, dilation = (rng.randint(1, 4), rng.randint(1, 4)), (rng.randint(1, 2), rng.randint(1, 3))
        stride = (rng.randint(1, 3), rng.randint(1, 3))
        padding = rng.choice([0, 2, (1, 0), "valid", "same"])
        stride = 1 if padding == "same" else stride
        input_shape = (rng.randint(1, 3), groups * rng.randint(1, 2), rng.randint(4, 9), rng.randint(4, 9))
        weight_shape = (groups * rng.randint(1, 2), input_shape[1] // groups, *kernel)
        kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        try:
            F.conv2d(torch.zeros(input_shape), torch.zeros(weight_shape), **kwargs)
        except RuntimeError:  # the kernel does not fit: the error tests cover it
            continue
        for fn in IMPLEMENTATIONS.values():
            check_against_torch(fn, *tensors(input_shape, weight_shape, device, seed=trial), kwargs)


@pytest.mark.parametrize("device", DEVICES)
def test_chunked_unfolding_gives_the_same_values_and_gradients(device, monkeypatch):
    monkeypatch.setattr(conv, "COLUMN_BYTES", 1000)  # a few examples per chunk; one when an example is larger
    for input_shape, weight_shape, kwargs in (CASES["groups"], CASES["dilation"], ((7, 2, 5, 5), (3, 2, 2, 2), {})):
        check_against_torch(conv2d, *tensors(input_shape, weight_shape, device), kwargs)


@pytest.mark.parametrize("device", DEVICES)
def test_float32_and_empty_batches(device):
    x, w, b = tensors((3, 4, 8, 8), (5, 4, 3, 3), device)
    ours = conv2d(x.float(), w.float(), b.float(), padding=1, stride=2)
    assert ours.dtype == torch.float32
    assert torch.allclose(ours.double(), F.conv2d(x, w, b, padding=1, stride=2), rtol=1e-5, atol=1e-5)
    empty = torch.zeros(0, 4, 8, 8, dtype=F64, device=device)
    assert close(conv2d(empty, w, b), F.conv2d(empty, w, b)) and close(conv2d_loops(empty, w, b), F.conv2d(empty, w, b))
    check_against_torch(conv2d, empty, w, b, {"padding": 1})  # gradients of an empty batch: zeros


@pytest.mark.parametrize("device", DEVICES)
def test_second_derivatives_match_torch(device):
    """conv2d's backward is built from differentiable operations, so gradients of gradients work (e.g. for a
    gradient penalty), and they agree with torch's."""
    x, w, b = tensors((2, 4, 6, 6), (6, 2, 3, 3), device)
    kwargs = {"stride": 2, "padding": 1, "groups": 2, "dilation": (1, 2)}
    v = random(2, 6, 3, 2, seed=5, device=device)
    results = []
    for fn in (conv2d, F.conv2d):
        xl, wl, bl = leaf(x), leaf(w), leaf(b)
        gx, gw = torch.autograd.grad((fn(xl, wl, bl, **kwargs) ** 2 * v).sum(), (xl, wl), create_graph=True)
        results.append(torch.autograd.grad(gx.sin().sum() + gw.square().sum(), (xl, wl, bl)))
    for a, e in zip(*results):
        assert close(a, e)


# ---------------------------------------------------------------- the backward pass, written as convolutions
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_backward_matches_autograd(device, case):
    input_shape, weight_shape, kwargs = CASES[case]
    x, w, b = tensors(input_shape, weight_shape, device)
    xl, wl, bl = leaf(x), leaf(w), leaf(b)
    y = conv2d_loops(xl, wl, bl, **kwargs)  # plain autograd through the loops: no hand-written backward in it
    g = random(*y.shape, seed=7, device=device)
    expected = torch.autograd.grad(y, (xl, wl, bl), g)
    ours = conv2d_backward(g, x, w, **kwargs)
    for a, e in zip(ours, expected):
        assert close(a, e)
    assert conv2d_backward(g, x, w, **kwargs, bias=False)[2] is None
    if not isinstance(kwargs.get("padding"), str) and x.ndim == 4:  # torch.nn.grad takes numbers only
        assert close(conv2d_input(x.shape, w, g, **kwargs), nn.grad.conv2d_input(x.shape, w, g, **kwargs))
        assert close(conv2d_weight(x, w.shape, g, **kwargs), nn.grad.conv2d_weight(x, w.shape, g, **kwargs))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", ["plain", "stride-tuple", "dilation", "stride-past-kernel", "big-padding"])
def test_grad_weight_is_the_correlation_of_the_input_with_grad_output(device, case):
    """dL/dw = conv2d(x^T, g^T, stride=dilation, dilation=stride)^T, cut to the kernel's size."""
    input_shape, weight_shape, kwargs = CASES[case]
    x, w, _ = tensors(input_shape, weight_shape, device)
    stride, padding, dilation = kwargs.get("stride", 1), kwargs.get("padding", 0), kwargs.get("dilation", 1)
    g = random(*F.conv2d(x, w, **kwargs).shape, seed=8, device=device)
    as_conv = conv2d(x.transpose(0, 1), g.transpose(0, 1), padding=padding, stride=dilation, dilation=stride)
    kh, kw = weight_shape[2:]
    assert close(conv2d_weight(x, w.shape, g, **kwargs), as_conv[:, :, :kh, :kw].transpose(0, 1).contiguous())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", ["plain", "padding", "stride-tuple", "dilation", "groups", "stride-past-kernel"])
def test_grad_input_is_a_transposed_convolution(device, case):
    """dL/dx = F.conv_transpose2d(g, w, ...), with output_padding = the rows and columns no window reached."""
    input_shape, weight_shape, kwargs = CASES[case]
    x, w, _ = tensors(input_shape, weight_shape, device)
    g = random(*F.conv2d(x, w, **kwargs).shape, seed=9, device=device)
    stride, padding = conv._pair(kwargs.get("stride", 1), "stride"), conv._pair(kwargs.get("padding", 0), "padding")
    dilation, groups = conv._pair(kwargs.get("dilation", 1), "dilation"), kwargs.get("groups", 1)
    reached = [(g.shape[2 + i] - 1) * stride[i] + dilation[i] * (w.shape[2 + i] - 1) + 1 for i in (0, 1)]
    missed = [x.shape[2 + i] + 2 * padding[i] - reached[i] for i in (0, 1)]
    transposed = F.conv_transpose2d(g, w, None, stride, padding, missed, groups, dilation)
    assert close(conv2d_input(x.shape, w, g, **kwargs), transposed)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", ["plain", "padding", "stride-tuple", "dilation", "groups", "stride-past-kernel",
                                  "big-padding"])
def test_grad_input_is_g_spread_padded_and_correlated_with_the_flipped_kernel(device, case):
    """The module docstring's construction, done with F.conv2d: spread g out by the stride, pad it by
    d (k - 1) less the input's padding (more at the end for rows no window reached), correlate with the kernel
    flipped in both axes and its in/out channels swapped."""
    input_shape, weight_shape, kwargs = CASES[case]
    x, w, _ = tensors(input_shape, weight_shape, device)
    g = random(*F.conv2d(x, w, **kwargs).shape, seed=13, device=device)
    (sh, sw), (ph, pw) = conv._pair(kwargs.get("stride", 1), "stride"), conv._pair(kwargs.get("padding", 0), "padding")
    (dh, dw), groups = conv._pair(kwargs.get("dilation", 1), "dilation"), kwargs.get("groups", 1)
    (n, c_out, h_out, w_out), (kh, kw), (h, w_in) = g.shape, w.shape[2:], x.shape[2:]
    spread = g.new_zeros(n, c_out, (h_out - 1) * sh + 1, (w_out - 1) * sw + 1)
    spread[:, :, ::sh, ::sw] = g
    missed_h, missed_w = h + 2 * ph - spread.shape[2] - dh * (kh - 1), w_in + 2 * pw - spread.shape[3] - dw * (kw - 1)
    full_h, full_w = dh * (kh - 1), dw * (kw - 1)
    spread = F.pad(spread, (full_w - pw, full_w - pw + missed_w, full_h - ph, full_h - ph + missed_h))
    flipped = w.unflatten(0, (groups, -1)).transpose(1, 2).flatten(0, 1).flip(-2, -1)  # (C_in, C_out/G, kH, kW)
    expected = F.conv2d(spread, flipped, dilation=(dh, dw), groups=groups)
    assert close(conv2d_input(x.shape, w, g, **kwargs), expected)


@pytest.mark.parametrize("config", [((3, 3), (1, 1), (1, 1), 1), ((2, 3), (2, 1), (1, 2), 1),
                                    ((3, 2), (1, 3), (2, 1), 2), ((1, 1), (2, 2), (1, 1), 3)])
def test_col2im_is_the_adjoint_of_im2col(config):
    """<im2col(x), Y> = <x, col2im(Y)> for every x and Y: col2im adds each entry of Y back onto the pixel
    that im2col copied it from (the transpose of the gather, as a matrix)."""
    kernel, stride, dilation, groups = config
    x = random(2, 6, 9, 8, seed=14)
    rows = conv._rows(x, kernel, stride, dilation, groups)
    y = random(*rows.shape, seed=15)
    folded = torch.zeros_like(x)
    _fold(y, folded, kernel, stride, dilation)
    assert torch.allclose((rows * y).sum(), (x * folded).sum(), **TOL)
    basis = torch.zeros_like(x)  # and column by column: col2im of one row's one entry is one pixel
    basis[1, 2, 4, 3] = 1.0
    assert torch.allclose((conv._rows(basis, kernel, stride, dilation, groups) * y).sum(), folded[1, 2, 4, 3], **TOL)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (True, True, False), (False, True, True)])
def test_gradients_when_only_some_arguments_require_them(needs):
    """Each gradient alone, also from y.sum() (whose backward sends expanded ones) and through two layers."""
    x, w, b = tensors((3, 2, 7, 6), (4, 2, 3, 3), "cpu")
    w2 = random(3, 4, 2, 2, seed=16)
    results = []
    for fn in (conv2d, F.conv2d):
        leaves = [leaf(t) if need else t for t, need in zip((x, w, b), needs)]
        y = fn(fn(*leaves, stride=(1, 2), padding=1), w2, padding="same")
        results.append(torch.autograd.grad(y.sum(), [t for t, need in zip(leaves, needs) if need]))
    for a, e in zip(*results):
        assert close(a, e)


def test_the_backward_pass_reuses_the_forward_passs_unfolded_input(monkeypatch):
    """X is built once per layer when it fits in one chunk, and once more for each chunk otherwise (and for
    double backward, where gradients must flow through X as well, or a second backward with retain_graph)."""
    calls = []

    def counting_rows(*args):
        calls.append(args[0].shape[0])
        return rows(*args)

    rows = conv._rows
    monkeypatch.setattr(conv, "_rows", counting_rows)
    monkeypatch.setattr(conv_backward, "_rows", counting_rows)
    x, w, b = tensors((4, 2, 6, 6), (3, 2, 3, 3), "cpu")
    xl, wl = leaf(x), leaf(w)
    y = conv2d(xl, wl, b, padding=1)
    g = random(*y.shape, seed=17)
    first = torch.autograd.grad(y, (xl, wl), g, retain_graph=True)
    assert calls == [4]
    second = torch.autograd.grad(y, (xl, wl), g)  # X was used up (dL/dX was written over it): unfolded again
    assert calls == [4, 4]
    expected = torch.autograd.grad(F.conv2d(xl, wl, b, padding=1), (xl, wl), g)
    for a, b_, e in zip(first, second, expected):
        assert close(a, e) and close(b_, e)
    calls.clear()
    conv2d(xl, wl, b, padding=1).sum().backward()
    assert calls == [4]
    calls.clear()
    monkeypatch.setattr(conv, "COLUMN_BYTES", 2 * 2 * 9 * 36 * 8)  # two examples per chunk
    conv2d(xl, wl, b, padding=1).sum().backward()
    assert calls == [2, 2, 2, 2]
    calls.clear()
    monkeypatch.setattr(conv, "COLUMN_BYTES", 2**20)
    torch.autograd.grad(conv2d(xl, wl, b, padding=1).square().sum(), wl, create_graph=True)
    assert calls == [4, 4]


# ---------------------------------------------------------------- the flip convention: scipy.signal
@pytest.mark.parametrize("kernel", [(3, 3), (2, 3), (1, 4)])
def test_a_single_channel_is_scipys_correlate2d_and_convolve2d_flips_the_kernel(kernel):
    image, k = random(7, 9, seed=10), random(*kernel, seed=11)
    x, w = image[None, None], k[None, None]
    a, b = image.numpy(), k.numpy()
    assert np.allclose(conv2d(x, w)[0, 0].numpy(), scipy.signal.correlate2d(a, b, mode="valid"), **TOL)
    full = conv2d(x, w, padding=(kernel[0] - 1, kernel[1] - 1))[0, 0].numpy()
    assert np.allclose(full, scipy.signal.correlate2d(a, b, mode="full"), **TOL)
    flipped = conv2d(x, w.flip(-2, -1))[0, 0].numpy()  # convolution in the mathematicians' sense
    assert np.allclose(flipped, scipy.signal.convolve2d(a, b, mode="valid"), **TOL)
    if kernel[0] % 2 and kernel[1] % 2:  # for odd kernels "same" centres the kernel in both libraries
        assert np.allclose(conv2d(x, w, padding="same")[0, 0].numpy(), scipy.signal.correlate2d(a, b, "same"), **TOL)


# ---------------------------------------------------------------- views, sizes and parameter counts
def test_windows_is_a_view_of_every_receptive_field():
    x = random(2, 3, 9, 10, seed=12)
    fields = windows(x, (2, 3), (2, 1), (3, 2))
    assert fields.shape == (2, 3, 3, 6, 2, 3) and fields.data_ptr() == x.data_ptr()
    for a, b, i, j in [(0, 0, 0, 0), (2, 5, 1, 2), (1, 3, 1, 0)]:
        assert torch.equal(fields[:, :, a, b, i, j], x[:, :, a * 2 + i * 3, b * 1 + j * 2])


def test_conv_output_size_is_the_shape_torch_computes():
    for size, k, s, p, d in [(7, 3, 1, 0, 1), (8, 3, 2, 1, 1), (9, 2, 3, 0, 1), (10, 3, 2, 2, 3), (5, 5, 1, 0, 1)]:
        out = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d)
        assert conv_output_size(size, k, s, p, d) == out.shape[-1]
        assert isinstance(conv_output_size(size, k, s, p, d), int)
    assert conv_output_size((28, 30), 5, (1, 2), (2, 0)) == (28, 13)
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_size(4, 3, dilation=2)


@pytest.mark.parametrize("args", [(3, 16, 3, 1, True), (16, 32, (3, 5), 1, False), (8, 12, 3, 4, True),
                                  (6, 6, 3, 6, True), (1, 4, 1, 1, True)])
def test_conv_parameter_count_is_nn_conv2ds(args):
    in_channels, out_channels, kernel_size, groups, bias = args
    layer = nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)
    assert conv_parameter_count(in_channels, out_channels, kernel_size, groups, bias) == sum(
        p.numel() for p in layer.parameters())
    with pytest.raises(ValueError, match="divisible by groups"):
        conv_parameter_count(6, 4, 3, groups=4)


# ---------------------------------------------------------------- errors, one per message
X, W = torch.zeros(2, 4, 6, 6), torch.zeros(6, 4, 3, 3)
ERRORS = {  # name: (arguments, our message, exception, whether torch raises too)
    "input-rank-2": ((torch.zeros(4, 6), W), "Expected 3D \\(unbatched\\) or 4D", ValueError, True),
    "input-rank-5": ((torch.zeros(1, 2, 4, 6, 6), W), "Expected 3D \\(unbatched\\) or 4D", ValueError, True),
    "weight-rank": ((X, torch.zeros(6, 4, 3)), "weight of shape \\(C_out, C_in / groups, kH, kW\\)", ValueError, True),
    "channels": ((X, torch.zeros(6, 3, 3, 3)), "to have 3 channels, but got 4 channels", ValueError, True),
    "groups-out": ((X, torch.zeros(5, 2, 3, 3), None, 1, 0, 1, 2), "divisible by 2 at dimension 0", ValueError, True),
    "groups-in": ((X, torch.zeros(6, 2, 3, 3), None, 1, 0, 1, 3), "groups divides C_in", ValueError, True),
    "groups-zero": ((X, W, None, 1, 0, 1, 0), "non-positive groups", ValueError, True),
    "same-stride": ((X, W, None, 2, "same"), "padding='same' is not supported for strided", ValueError, True),
    "padding-string": ((X, W, None, 1, "full"), "Invalid padding string: 'full'", ValueError, True),
    "kernel-too-big": ((X, torch.zeros(6, 4, 7, 7)), "Kernel size can't be greater", ValueError, True),
    "dilated-too-big": ((X, W, None, 1, 0, 3), "Kernel size: \\(7 x 7\\)", ValueError, True),
    "negative-padding": ((X, W, None, 1, -1), "negative padding", ValueError, True),
    "stride-zero": ((X, W, None, 0), "non-positive stride", ValueError, True),
    "dilation-zero": ((X, W, None, 1, 0, 0), "non-positive dilation", ValueError, True),
    "bias-shape": ((X, W, torch.zeros(5)), "expected bias to be 1-dimensional with 6 elements", ValueError, True),
    "stride-length": ((X, W, None, (1, 2, 3)), "a list of 2 values", ValueError, True),
    "stride-float": ((X, W, None, 1.5), "stride must be an int or a tuple of 2 ints", TypeError, True),
    "dtype": ((X, W.double()), "same dtype and device", TypeError, True),
}


@pytest.mark.parametrize("name", ERRORS)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_errors_are_clear_and_torch_raises_too(name, impl):
    args, message, error, torch_raises = ERRORS[name]
    with pytest.raises(error, match=message):
        IMPLEMENTATIONS[impl](*args)
    if torch_raises:
        with pytest.raises((RuntimeError, TypeError)):
            F.conv2d(*args)
