"""The finite-difference checker agrees with torch.autograd and torch.autograd.gradcheck, and catches a
wrong gradient."""

import pytest
import torch

from helpers.nn import activations as A
from helpers.nn.gradcheck import check_gradient, gradient_error, gradients_match, numerical_grad, relative_error

F64 = torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def functions():
    g = torch.Generator().manual_seed(0)
    w = torch.randn(4, 3, generator=g, dtype=F64)
    return {
        "sum of squares": lambda x: (x**2).sum(),
        "log-sum-exp": lambda x: torch.logsumexp(x.flatten(), dim=0),
        "tanh layer": lambda x: torch.tanh(w @ x.reshape(3, -1)).sum(),
        "swish mean": lambda x: A.swish(x).mean(),
        "product": lambda x: x.prod(),
    }


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(functions()))
def test_numerical_grad_matches_autograd(name, device):
    f = functions()[name]
    x = torch.randn(3, 2, generator=torch.Generator().manual_seed(1), dtype=F64).to(device)
    f_dev = (lambda z: f(z.cpu())) if name == "tanh layer" else f  # that layer's weights live on the CPU
    xr = x.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(f_dev(xr), xr)
    before = x.clone()
    got = numerical_grad(f_dev, x)
    assert got.shape == x.shape and got.dtype == F64 and got.device == x.device
    assert x.equal(before), "x must not be modified"
    torch.testing.assert_close(got, expected, rtol=1e-7, atol=1e-9)
    assert check_gradient(f_dev, x, expected) < 1e-8
    assert torch.autograd.gradcheck(f_dev, (xr,), eps=1e-6, atol=1e-6)  # torch agrees the function is checkable


def test_central_differences_are_second_order():
    f, x = (lambda z: z.exp().sum()), torch.tensor([0.3], dtype=F64)
    exact = x.exp()
    errors = [abs(numerical_grad(f, x, eps) - exact).item() for eps in (1e-2, 1e-3)]
    assert errors[0] / errors[1] == pytest.approx(100, rel=0.05)  # error ~ eps^2 (f'''/6)
    assert errors[0] == pytest.approx(exact.item() * 1e-4 / 6, rel=0.01)


def test_a_wrong_gradient_is_caught():
    f = lambda x: torch.sigmoid(x).sum()  # noqa: E731
    x = torch.linspace(-3, 3, 7, dtype=F64)
    right = A.sigmoid_grad(x)
    wrong = torch.sigmoid(x)  # forgot the (1 - sigma) factor
    assert gradients_match(f, x, right)
    assert not gradients_match(f, x, wrong)
    assert check_gradient(f, x, wrong) > 0.1
    # a gradient off by a factor of 2, and one with a single wrong entry
    assert check_gradient(f, x, 2 * right) == pytest.approx(1 / 3, rel=1e-6)
    one_off = right.clone()
    one_off[3] += 0.01
    assert check_gradient(f, x, one_off) > 1e-3
    # torch's own checker reaches the same verdict on a function with a wrong backward
    class WrongSigmoid(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):
            ctx.save_for_backward(z)
            return torch.sigmoid(z)

        @staticmethod
        def backward(ctx, grad):
            (z,) = ctx.saved_tensors
            return grad * torch.sigmoid(z)

    assert not torch.autograd.gradcheck(WrongSigmoid.apply, (x.clone().requires_grad_(True),), raise_exception=False)


def test_relative_error_and_argument_checks():
    a = torch.tensor([3.0, 4.0], dtype=F64)
    assert relative_error(a, a) == 0.0
    assert relative_error(torch.zeros(2), torch.zeros(2)) == 0.0
    assert relative_error(a, -a) == 1.0
    with pytest.raises(TypeError, match="float64"):
        check_gradient(lambda x: x.sum(), torch.ones(3), torch.ones(3))
    with pytest.raises(ValueError, match="shape"):
        check_gradient(lambda x: x.sum(), torch.ones(3, dtype=F64), torch.ones(2, dtype=F64))
    with pytest.raises(ValueError, match="scalar"):
        numerical_grad(lambda x: x * 2, torch.ones(3, dtype=F64))
    assert numerical_grad(lambda x: float(x.sum()), torch.ones(2, dtype=F64)).tolist() == pytest.approx([1, 1])


def test_gradient_error_matches_numpy():
    """The relative error of a claimed gradient, recomputed with NumPy central differences and norms."""
    import numpy as np

    x = torch.linspace(-1.0, 2.0, 5, dtype=torch.float64)
    claimed = torch.cos(x) + torch.tensor([0.0, 0.1, 0.0, -0.2, 0.0], dtype=torch.float64)
    xs, eps = x.numpy(), 1e-6
    numerical = np.array([(np.sin(xs + eps * e).sum() - np.sin(xs - eps * e).sum()) / (2 * eps) for e in np.eye(5)])
    a = claimed.numpy()
    expected = np.linalg.norm(a - numerical) / (np.linalg.norm(a) + np.linalg.norm(numerical))
    assert gradient_error(lambda v: torch.sin(v).sum(), x, claimed) == pytest.approx(expected, rel=1e-6)
    assert gradient_error(lambda v: (v**2).sum(), torch.zeros(3, dtype=torch.float64), torch.zeros(3)) == 0.0
