"""helpers.nn.pooling against F.max_pool2d and F.avg_pool2d: values, indices, gradients through autograd and the
explicit backward functions, torch's edge rules (ties, -inf, NaN, ceil_mode, count_include_pad, integer inputs),
output sizes and every error."""

import random as pyrandom

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, close

from helpers.nn.pooling import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward, pool_output_size

# (input shape, keyword arguments shared by both poolings); dilation is added for max pooling only
CASES = {
    "2x2": ((2, 3, 8, 8), {"kernel_size": 2}),
    "3x3-stride-2-pad-1": ((2, 2, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    "overlapping": ((1, 3, 6, 7), {"kernel_size": (3, 2), "stride": 1}),
    "tuples": ((2, 2, 9, 8), {"kernel_size": (2, 3), "stride": (3, 1), "padding": (1, 0)}),
    "ceil": ((2, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}),
    "ceil-pad": ((1, 2, 6, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    "ceil-window-dropped": ((1, 2, 5, 5), {"kernel_size": 2, "stride": 3, "padding": 1, "ceil_mode": True}),
    "floor-drops-rows": ((2, 1, 7, 5), {"kernel_size": 2, "stride": 3}),
    "unbatched": ((3, 7, 6), {"kernel_size": 3, "stride": (2, 1), "padding": 1}),
}
DILATIONS = [1, (2, 1)]


def random(*shape, seed=0, device="cpu", ties=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 3, shape, generator=g).double() if ties else torch.randn(shape, generator=g, dtype=F64)
    return x.to(device)


def random_window(rng):
    """A random kernel, stride, padding (at most half the kernel) and ceil_mode, shared by both poolings."""
    kernel = (rng.randint(1, 4), rng.randint(1, 4))
    return {"kernel_size": kernel, "stride": rng.choice([None, (rng.randint(1, 3), rng.randint(1, 3))]),
            "padding": (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2)),
            "ceil_mode": rng.random() < 0.5}


def check(ours, theirs, x, backward=None):
    """Same outputs, and the same gradient of a random weighting (autograd through ours, and ``backward``)."""
    a, b = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y_ours, y_theirs = ours(a), theirs(b)
    assert close(y_ours, y_theirs)
    g = random(*y_theirs.shape, seed=3, device=x.device)
    expected = torch.autograd.grad(y_theirs, b, g)[0]
    assert close(torch.autograd.grad(y_ours, a, g)[0], expected)
    if backward is not None:
        assert close(backward(g, x), expected)


# ---------------------------------------------------------------- max pooling
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dilation", DILATIONS, ids=["d1", "d21"])
@pytest.mark.parametrize("case", CASES)
def test_max_pool_values_indices_and_gradients_match_torch(device, dilation, case):
    shape, kwargs = CASES[case]
    kwargs = {**kwargs, "dilation": dilation}
    for ties in (False, True):  # integer-valued inputs: many ties, where the first maximum must win
        x = random(*shape, seed=1, device=device, ties=ties)
        y, indices = max_pool2d(x, **kwargs, return_indices=True)
        y_torch, indices_torch = F.max_pool2d(x, **kwargs, return_indices=True)
        assert close(y, y_torch) and torch.equal(indices, indices_torch) and indices.dtype == torch.int64

        def backward(g, x):
            return max_pool2d_backward(g, x, **kwargs)

        check(lambda t: max_pool2d(t, **kwargs), lambda t: F.max_pool2d(t, **kwargs), x, backward)


@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_random_configurations_match_torch(device):
    rng = pyrandom.Random(0)
    for trial in range(60):
        kwargs = {**random_window(rng), "dilation": (rng.randint(1, 2), rng.randint(1, 2))}
        x = random(2, 2, rng.randint(3, 9), rng.randint(3, 9), seed=trial, device=device, ties=trial % 2 == 0)
        try:
            y_torch, indices_torch = F.max_pool2d(x, **kwargs, return_indices=True)
        except RuntimeError:  # output too small: the error tests cover it
            continue
        y, indices = max_pool2d(x, **kwargs, return_indices=True)
        assert close(y, y_torch) and torch.equal(indices, indices_torch), kwargs
        check(lambda t, kw=kwargs: max_pool2d(t, **kw), lambda t, kw=kwargs: F.max_pool2d(t, **kw), x)


@pytest.mark.parametrize("device", DEVICES)
def test_max_pool_pads_with_minus_infinity_and_follows_torch_on_inf_nan_and_integers(device):
    x = -random(1, 2, 5, 5, seed=4, device=device).abs() - 10  # all negative: zero padding would win
    assert close(max_pool2d(x, 3, 1, 1), F.max_pool2d(x, 3, 1, 1)) and (max_pool2d(x, 3, 1, 1) < -10).all()
    minus_inf = torch.full((1, 1, 3, 3), float("-inf"), dtype=F64, device=device)  # ties with the padding itself
    ours = max_pool2d(minus_inf, 2, 1, 1, return_indices=True)
    for a, b in zip(ours, F.max_pool2d(minus_inf, 2, 1, 1, return_indices=True)):
        assert torch.equal(a, b)  # -inf, and indices that point into the image, never at the padding
    nan = torch.tensor([[[[1.0, float("nan"), 2.0], [float("nan"), 5.0, 0.0]]]], dtype=F64, device=device)
    ours, theirs = max_pool2d(nan, 2, 1, return_indices=True), F.max_pool2d(nan, 2, 1, return_indices=True)
    assert torch.equal(ours[0].isnan(), theirs[0].isnan()) and torch.equal(ours[1], theirs[1])  # the last NaN wins
    if device == "cpu":  # torch pools integer images on the CPU only
        ints = torch.randint(-50, 50, (2, 3, 7, 7), generator=torch.Generator().manual_seed(5))
        for a, b in zip(max_pool2d(ints, 3, 2, 1, ceil_mode=True, return_indices=True),
                        F.max_pool2d(ints, 3, 2, 1, ceil_mode=True, return_indices=True)):
            assert a.dtype == b.dtype and torch.equal(a, b)


def test_max_pool_backward_routes_each_gradient_to_its_argmax():
    x = torch.tensor([[[[1.0, 5.0, 2.0], [4.0, 3.0, 0.0], [7.0, 1.0, 1.0]]]], dtype=F64)
    g = torch.tensor([[[[10.0, 20.0], [30.0, 40.0]]]], dtype=F64)  # windows of 2x2, stride 1
    grad = max_pool2d_backward(g, x, 2, 1)  # maxima: 5, 5 (shared), 7, 3
    expected = torch.tensor([[[[0.0, 30.0, 0.0], [0.0, 40.0, 0.0], [30.0, 0.0, 0.0]]]], dtype=F64)
    assert torch.equal(grad, expected)


# ---------------------------------------------------------------- average pooling
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("include_pad", [True, False], ids=["include-pad", "exclude-pad"])
@pytest.mark.parametrize("case", CASES)
def test_avg_pool_values_and_gradients_match_torch(device, include_pad, case):
    shape, kwargs = CASES[case]
    x = random(*shape, seed=6, device=device)
    for divisor in (None, 5):
        kw = {**kwargs, "count_include_pad": include_pad, "divisor_override": divisor}

        def backward(g, x, kw=kw):
            return avg_pool2d_backward(g, x, **kw)

        check(lambda t, kw=kw: avg_pool2d(t, **kw), lambda t, kw=kw: F.avg_pool2d(t, **kw), x, backward)


@pytest.mark.parametrize("device", DEVICES)
def test_avg_pool_random_configurations_and_integer_inputs_match_torch(device):
    rng = pyrandom.Random(1)
    for trial in range(60):
        kwargs = {**random_window(rng), "count_include_pad": rng.random() < 0.5,
                  "divisor_override": rng.choice([None, None, 3, -2])}
        x = random(2, 2, rng.randint(3, 9), rng.randint(3, 9), seed=trial, device=device)
        try:
            F.avg_pool2d(x, **kwargs)
        except RuntimeError:
            continue
        check(lambda t, kw=kwargs: avg_pool2d(t, **kw), lambda t, kw=kwargs: F.avg_pool2d(t, **kw), x)
        if device == "cpu":  # integers divide rounding towards zero, as in C
            ints = torch.randint(-9, 9, x.shape, generator=torch.Generator().manual_seed(trial))
            assert torch.equal(avg_pool2d(ints, **kwargs), F.avg_pool2d(ints, **kwargs))


def test_count_include_pad_changes_only_the_border_divisor():
    x = torch.ones(1, 1, 4, 4, dtype=F64)
    included = avg_pool2d(x, 3, 1, 1)  # the corner window holds 4 ones and 5 zeros of padding
    assert included[0, 0, 0, 0] == pytest.approx(4 / 9) and included[0, 0, 1, 1] == 1.0
    assert torch.equal(avg_pool2d(x, 3, 1, 1, count_include_pad=False), torch.ones(1, 1, 4, 4, dtype=F64))
    assert torch.equal(avg_pool2d(x, 2, divisor_override=1), torch.full((1, 1, 2, 2), 4.0, dtype=F64))


def test_empty_batches_pool_to_empty_batches():
    x = torch.zeros(0, 3, 4, 4, dtype=F64)
    assert max_pool2d(x, 2).shape == F.max_pool2d(x, 2).shape == (0, 3, 2, 2)
    assert avg_pool2d(x, 2).shape == F.avg_pool2d(x, 2).shape == (0, 3, 2, 2)


# ---------------------------------------------------------------- sizes and errors
def test_pool_output_size_is_the_shape_torch_computes():
    for size in range(3, 12):
        for k, s, p, d, ceil in [(2, 2, 0, 1, False), (2, 2, 0, 1, True), (3, 2, 1, 1, True), (2, 3, 1, 1, True),
                                 (3, 3, 1, 2, True), (3, 1, 0, 2, False)]:
            if pool_output_size(size, k, s, p, d, ceil) >= 1:
                out = F.max_pool2d(torch.zeros(1, 1, size, size), k, s, p, d, ceil).shape[-1]
                assert pool_output_size(size, k, s, p, d, ceil) == out


X = torch.zeros(2, 4, 6, 6)
ERRORS = {  # name: (positional arguments after the input, input, our message, exception)
    "rank-2": ((2,), torch.zeros(4, 6), "3D or 4D", ValueError),
    "rank-5": ((2,), torch.zeros(1, 2, 4, 6, 6), "3D or 4D", ValueError),
    "empty-channels": ((2,), torch.zeros(2, 0, 6, 6), "optional 0 dim batch size", ValueError),
    "kernel-zero": ((0, 1), X, "kernel size should be greater than zero", ValueError),
    "stride-zero": ((2, 0), X, "stride should be greater than zero", ValueError),
    "negative-pad": ((3, 1, -1), X, "pad must be non-negative", ValueError),
    "pad-over-half": ((3, 1, 2), X, "pad should be at most half of kernel size", ValueError),
    "pad-over-half-tuple": (((3, 1), 1, (1, 1)), X, "pad=1, kernel_size=1", ValueError),
    "output-too-small": ((7,), X, "Calculated output size: \\(4x0x0\\). Output size is too small", ValueError),
    "kernel-three-ints": (((2, 2, 2),), X, "kernel_size to be a single integer value or a list of 2", ValueError),
    "stride-float": ((2, 1.5), X, "stride must be an int or a tuple of 2 ints", TypeError),
}


@pytest.mark.parametrize("name", ERRORS)
@pytest.mark.parametrize("pool", ["max", "avg"])
def test_errors_are_clear_and_torch_raises_too(name, pool):
    args, x, message, error = ERRORS[name]
    ours, theirs = (max_pool2d, F.max_pool2d) if pool == "max" else (avg_pool2d, F.avg_pool2d)
    with pytest.raises(error, match=message):
        ours(x, *args)
    with pytest.raises((RuntimeError, TypeError, IndexError)):
        theirs(x, *args)


def test_max_pool_dilation_and_avg_pool_divisor_errors():
    with pytest.raises(ValueError, match="dilation should be greater than zero"):
        max_pool2d(X, 2, dilation=0)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        F.max_pool2d(X, 2, dilation=0)
    with pytest.raises(ValueError, match="pad should be at most half of kernel size"):  # torch: k // 2, not the span
        max_pool2d(X, 3, padding=2, dilation=2)
    with pytest.raises(RuntimeError, match="pad should be smaller than or equal to half of kernel size"):
        F.max_pool2d(X, 3, padding=2, dilation=2)
    with pytest.raises(ValueError, match="divisor must be not zero"):
        avg_pool2d(X, 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool2d(X, 2, divisor_override=0)
    with pytest.raises(TypeError, match="must be int, not float"):
        avg_pool2d(X, 2, divisor_override=1.5)
    with pytest.raises(TypeError, match="must be int, not float"):
        F.avg_pool2d(X, 2, divisor_override=1.5)
