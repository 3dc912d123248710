"""helpers.nn.linear against torch.nn.functional.linear."""

import pytest
import torch
import torch.nn.functional as F

from helpers.nn.linear import compose_linear, linear, linear_backward


@pytest.mark.parametrize("d,h,k", [(3, 3, 3), (4, 6, 2), (1, 5, 1), (8, 3, 8)])
def test_composed_layer_equals_two_layers(d, h, k):
    g = torch.Generator().manual_seed(d * 100 + h * 10 + k)
    W1, b1 = torch.randn(h, d, generator=g, dtype=torch.float64), torch.randn(h, generator=g, dtype=torch.float64)
    W2, b2 = torch.randn(k, h, generator=g, dtype=torch.float64), torch.randn(k, generator=g, dtype=torch.float64)
    x = torch.randn(20, d, generator=g, dtype=torch.float64)
    W, b = compose_linear(W1, b1, W2, b2)
    assert W.shape == (k, d) and b.shape == (k,)
    assert torch.allclose(F.linear(x, W, b), F.linear(F.linear(x, W1, b1), W2, b2), rtol=1e-12, atol=1e-12)


def test_layers_that_do_not_chain_are_refused():
    with pytest.raises(ValueError, match="do not chain"):
        compose_linear(torch.zeros(3, 2), torch.zeros(3), torch.zeros(4, 5), torch.zeros(4))


SHAPES = [((5, 3), 4), ((1, 7), 2), ((2, 6, 3), 5), ((8, 1), 1)]


@pytest.mark.parametrize("input_shape,out", SHAPES)
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_and_its_backward_match_torch(input_shape, out, with_bias):
    g = torch.Generator().manual_seed(sum(input_shape) + out)
    x = torch.randn(*input_shape, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(out, input_shape[-1], generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(out, generator=g, dtype=torch.float64, requires_grad=True) if with_bias else None
    y = F.linear(x, w, b)
    assert torch.allclose(linear(x, w, b), y, rtol=1e-12, atol=1e-12)
    grad_output = torch.randn(y.shape, generator=g, dtype=torch.float64)
    expected = torch.autograd.grad(y, [x, w] + ([b] if with_bias else []), grad_output)
    got = linear_backward(grad_output, x.detach(), w.detach(), b)
    for mine, theirs in zip(got, expected):
        assert mine.shape == theirs.shape and torch.allclose(mine, theirs, rtol=1e-10, atol=1e-12)
    assert (got[2] is None) == (not with_bias)


def test_linear_errors_say_what_to_do():
    with pytest.raises(ValueError, match="features"):
        linear(torch.zeros(2, 3), torch.zeros(4, 5))
    with pytest.raises(ValueError, match="does not match"):
        linear_backward(torch.zeros(2, 4), torch.zeros(3, 3), torch.zeros(4, 3))
