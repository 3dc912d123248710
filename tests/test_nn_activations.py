"""The activation references agree with torch's built-ins, their derivatives with torch.autograd; they are
stable at +-1000 and keep the input's dtype and device."""

import pytest
import torch
import torch.nn.functional as F

from helpers.nn import activations as A

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]

# name -> (reference, torch built-in)
ELEMENTWISE = {
    "sigmoid": (A.sigmoid, torch.sigmoid),
    "tanh": (A.tanh, torch.tanh),
    "relu": (A.relu, F.relu),
    "leaky_relu": (A.leaky_relu, F.leaky_relu),
    "leaky_relu_0.2": (lambda x: A.leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)),
    "relu6": (A.relu6, F.relu6),
    "softplus": (A.softplus, F.softplus),
    "swish": (A.swish, F.silu),
    "hardswish": (A.hardswish, F.hardswish),
    "identity": (A.identity, lambda x: x),
}

# name -> (reference activation, its reference derivative)
DERIVATIVES = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad),
    "tanh": (A.tanh, A.tanh_grad),
    "relu": (A.relu, A.relu_grad),
    "leaky_relu": (A.leaky_relu, A.leaky_relu_grad),
    "relu6": (A.relu6, A.relu6_grad),
    "softplus": (A.softplus, A.softplus_grad),
    "swish": (A.swish, A.swish_grad),
    "hardswish": (A.hardswish, A.hardswish_grad),
    "identity": (A.identity, A.identity_grad),
}


def sample(shape=(5, 7), dtype=torch.float64, device="cpu", scale=4.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=g, dtype=dtype)).to(device)


def kinks(dtype, device):
    """Points where a derivative jumps, plus ordinary points, to pin down the conventions there."""
    return torch.tensor([-1000, -7, -3, -2.5, -1e-3, 0, 1e-3, 2.5, 3, 6, 7, 1000], dtype=dtype, device=device)


def autograd_derivative(fn, x):
    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(fn(x).sum(), x)
    return grad


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_activation_matches_torch(name, dtype, device):
    ours, theirs = ELEMENTWISE[name]
    for x in (sample(dtype=dtype, device=device), kinks(dtype, device)):
        got = ours(x)
        assert got.dtype == dtype and got.device == x.device and got.shape == x.shape
        torch.testing.assert_close(got, theirs(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", DERIVATIVES)
def test_derivative_matches_autograd_of_torch_builtin(name, dtype, device):
    activation, derivative = DERIVATIVES[name]
    builtin = ELEMENTWISE[name][1]
    for x in (sample(dtype=dtype, device=device), kinks(dtype, device)):
        got = derivative(x)
        assert got.dtype == dtype and got.device == x.device
        torch.testing.assert_close(got, autograd_derivative(builtin, x))
        # and the derivative of our own activation by autograd agrees too, away from the kinks
        smooth = sample(dtype=dtype, device=device, seed=1)
        torch.testing.assert_close(derivative(smooth), autograd_derivative(activation, smooth))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_prelu_matches_torch_with_one_and_per_channel_slopes(dtype, device):
    x = sample((6, 4), dtype=dtype, device=device)
    for alpha in (torch.tensor([0.25], dtype=dtype, device=device), torch.tensor([0.1, -0.2, 0.3, 0.5],
                                                                                   dtype=dtype, device=device)):
        torch.testing.assert_close(A.prelu(x, alpha), F.prelu(x, alpha))
        xr, ar = x.clone().requires_grad_(True), alpha.clone().requires_grad_(True)
        y = F.prelu(xr, ar)
        weights = sample((6, 4), dtype=dtype, device=device, seed=3)
        dx, dalpha = torch.autograd.grad((y * weights).sum(), (xr, ar))
        ours_dx, ours_dalpha = A.prelu_grad(x, alpha)
        torch.testing.assert_close(ours_dx * weights, dx)
        per_element = ours_dalpha * weights  # sum over the elements that share each slope
        expected_dalpha = per_element.sum() if alpha.numel() == 1 else per_element.sum(dim=0)
        torch.testing.assert_close(expected_dalpha.reshape(dalpha.shape), dalpha)
    assert A.prelu(x, 0.0).equal(A.relu(x)) and torch.allclose(A.prelu(x, 0.01), A.leaky_relu(x))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_and_its_jacobian(dtype, device):
    x = sample((3, 5), dtype=dtype, device=device)
    torch.testing.assert_close(A.softmax(x), torch.softmax(x, dim=-1))
    torch.testing.assert_close(A.softmax(x, dim=0), torch.softmax(x, dim=0))
    torch.testing.assert_close(A.softmax(x + 1000), A.softmax(x))  # shift invariance
    row = x[0].double()
    jacobian = torch.autograd.functional.jacobian(lambda z: torch.softmax(z, dim=-1), row)
    torch.testing.assert_close(A.softmax_jacobian(row), jacobian)
    torch.testing.assert_close(A.softmax_jacobian(x)[1].double(), torch.autograd.functional.jacobian(
        lambda z: torch.softmax(z, dim=-1), x[1].double()), check_dtype=False, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_matches_max_pooling_over_groups(dtype, device):
    x = sample((4, 3, 12), dtype=dtype, device=device)
    for pieces in (1, 2, 3, 4):
        expected = F.max_pool1d(x, kernel_size=pieces)  # pools consecutive groups along the last dim
        torch.testing.assert_close(A.maxout(x, pieces), expected)
    assert A.maxout(x, 12).shape == (4, 3, 1)
    with pytest.raises(ValueError, match="multiple of pieces"):
        A.maxout(x, 5)


def test_relu_is_maxout_of_a_unit_and_zero():
    x = sample((10,))
    pairs = torch.stack([x, torch.zeros_like(x)], dim=-1).flatten()
    assert A.maxout(pairs, 2).equal(A.relu(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_extremes_are_finite_and_right(dtype):
    x = torch.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    for name, fn in {**A.ACTIVATIONS, **A.GRADIENTS}.items():
        assert torch.isfinite(fn(x)).all(), name
    assert A.sigmoid(x).tolist() == [0.0, pytest.approx(0.0, abs=1e-40), 0.5, 1.0, 1.0]
    assert A.softplus(x)[-1].item() == 1000.0 and A.softplus(x)[0].item() == 0.0
    assert A.swish(x)[-1].item() == 1000.0 and A.swish(x)[0].item() == 0.0
    assert torch.isfinite(A.softmax(torch.tensor([1000.0, -1000.0, 0.0], dtype=dtype))).all()
    # softplus keeps full relative precision where log(1 + e^x) would round to 0
    tiny = torch.tensor([-50.0], dtype=dtype)
    assert A.softplus(tiny).item() == pytest.approx(torch.exp(tiny.double()).item(), rel=1e-6)


def test_identities():
    x = sample((50,), seed=7)
    torch.testing.assert_close(A.softplus(x) - A.softplus(-x), x)
    torch.testing.assert_close(A.tanh(x), 2 * A.sigmoid(2 * x) - 1)
    torch.testing.assert_close(A.softplus_grad(x), A.sigmoid(x))
    assert A.sigmoid_grad(torch.zeros(1)).item() == 0.25 and A.sigmoid_grad(x).max() <= 0.25
    assert A.identity(x).equal(x) and A.identity(x) is not x


# ---------------------------------------------------------------- soft-thresholding
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("lambd", [0.0, 0.5, 1.7])
def test_softshrink_and_its_gradient_match_torch(lambd, dtype, device):
    at_kinks = torch.tensor([-lambd, lambd, 0.0, -1000.0, 1000.0], dtype=dtype, device=device)
    for x in (sample(dtype=dtype, device=device), at_kinks):
        got = A.softshrink(x, lambd)
        assert got.dtype == dtype and got.device == x.device and got.shape == x.shape
        torch.testing.assert_close(got, F.softshrink(x, lambd), rtol=0, atol=0)
        weights = sample(tuple(x.shape), dtype=dtype, device=device, seed=4)
        ours, theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        (grad_ours,) = torch.autograd.grad((A.softshrink(ours, lambd) * weights).sum(), ours)
        (grad_theirs,) = torch.autograd.grad((F.softshrink(theirs, lambd) * weights).sum(), theirs)
        torch.testing.assert_close(grad_ours, grad_theirs, rtol=0, atol=0)  # 0 on [-lambd, lambd], ends included
    torch.testing.assert_close(A.softshrink(sample(dtype=dtype, device=device)),
                               F.softshrink(sample(dtype=dtype, device=device)))  # default lambd = 0.5


@pytest.mark.parametrize("lambd", [0.3, 1.0, 2.5])
def test_softshrink_is_the_l1_proximal_operator(lambd):
    """softshrink(x) = argmin_w (1/2)(w - x)^2 + lambd |w|, checked against a fine grid of w."""
    x = torch.linspace(-4, 4, 81, dtype=torch.float64)
    w = torch.linspace(-5, 5, 100_001, dtype=torch.float64)  # spacing 1e-4
    objective = 0.5 * (w[None, :] - x[:, None]) ** 2 + lambd * w.abs()[None, :]
    brute_force = w[objective.argmin(dim=1)]
    torch.testing.assert_close(A.softshrink(x, lambd), brute_force, rtol=0, atol=1e-4)
    assert (A.softshrink(x, lambd)[x.abs() <= lambd] == 0).all()  # exact zeros: sparsity
    with pytest.raises(ValueError, match=">= 0"):
        A.softshrink(x, -1.0)
