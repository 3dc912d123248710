"""helpers.nn.gradient_reversal against autograd: the forward is the identity (a new view of the same values), the
backward is -lambda times the incoming gradient (torch.autograd.grad of <v, R(x)>, float64, several lambdas, 0
included), gradcheck fails for every lambda but -1 (the only one for which the backward is the forward's true
derivative: an oracle of the sign convention), and inside a network the gradient that reaches the layers below the
reversal is -lambda times the gradient without it, while the layers above it are untouched."""

import pytest
import torch
from tensors import DEVICES, F64, TOL, leaf, random
from torch import nn

from helpers.nn.gradient_reversal import GradientReversal, GradientReversalLayer, grad_reverse

LAMBDAS = [1.0, 0.0, 0.3, 2.5, -1.0, 7]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_forward_is_the_identity_as_a_new_view(device, dtype):
    x = leaf(random(3, 4, 5, seed=1, device=device, dtype=dtype))
    y = grad_reverse(x, 0.7)
    assert torch.equal(y, x) and y.dtype == dtype and y.device == x.device
    assert y is not x and y.data_ptr() == x.data_ptr()  # a view: the same memory, a tensor of its own
    assert y.requires_grad and y.grad_fn is not None and "GradientReversal" in type(y.grad_fn).__name__
    assert torch.equal(GradientReversal.apply(x, 0.7), x)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("lambd", LAMBDAS)
def test_backward_is_minus_lambda_times_the_incoming_gradient(device, lambd):
    x = leaf(random(6, 5, seed=2, device=device))
    v = random(6, 5, seed=3, device=device)  # d/dx <v, R(x)> = -lambda v
    (grad,) = torch.autograd.grad((v * grad_reverse(x, lambd)).sum(), x)
    expected = -lambd * v
    assert torch.allclose(grad, expected, **TOL) and grad.dtype == F64 and grad.device == x.device
    (through_layer,) = torch.autograd.grad((v * GradientReversalLayer(lambd)(x)).sum(), x)
    assert torch.allclose(through_layer, expected, **TOL)


def test_lambda_zero_blocks_the_gradient_and_minus_one_is_the_identity():
    x = leaf(random(4, seed=4))
    (blocked,) = torch.autograd.grad((grad_reverse(x, 0.0) ** 2).sum(), x)
    assert torch.equal(blocked, torch.zeros(4, dtype=F64))
    (plain,) = torch.autograd.grad((grad_reverse(x, -1.0) ** 2).sum(), x)
    assert torch.allclose(plain, 2 * x.detach(), **TOL)


@pytest.mark.parametrize("lambd", [1.0, 0.0, 0.5, 2.0, -0.5])
def test_gradcheck_fails_because_the_backward_is_not_the_forwards_derivative(lambd):
    x = leaf(random(3, 2, seed=5))
    assert not torch.autograd.gradcheck(lambda t: grad_reverse(t, lambd), (x,), raise_exception=False)


def test_gradcheck_passes_for_lambda_minus_one_where_the_backward_is_the_identitys_derivative():
    x = leaf(random(3, 2, seed=5))
    assert torch.autograd.gradcheck(lambda t: grad_reverse(t, -1.0), (x,))
    assert torch.autograd.gradcheck(lambda t: grad_reverse(t * t, -1.0).sin(), (x,))  # inside a chain too


def _network(seed):
    torch.manual_seed(seed)
    features = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 4), nn.Tanh()).double()
    head = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    return features, head


@pytest.mark.parametrize("lambd", [1.0, 0.25, 3.0, 0.0])
def test_in_a_network_the_features_get_minus_lambda_times_the_gradient_and_the_head_is_untouched(lambd):
    features, head = _network(seed=6)
    x = random(10, 3, seed=7)
    target = random(10, 1, seed=8)

    def grads(use_layer):
        h = features(x)
        out = head(GradientReversalLayer(lambd)(h) if use_layer else h)
        loss = ((out - target) ** 2).mean()
        return torch.autograd.grad(loss, list(features.parameters()) + list(head.parameters()))

    with_grl, without = grads(True), grads(False)
    n_features = len(list(features.parameters()))
    for got, plain in zip(with_grl[:n_features], without[:n_features]):
        assert torch.allclose(got, -lambd * plain, **TOL)
    for got, plain in zip(with_grl[n_features:], without[n_features:]):
        assert torch.equal(got, plain)  # above the reversal nothing changes


def test_an_sgd_step_on_the_features_raises_the_heads_loss():
    # the min-max: descending the total loss through the GRL moves the features UP the head's loss
    features, head = _network(seed=9)
    x, target = random(20, 3, seed=10), random(20, 1, seed=11)

    def loss(use_layer=False):
        h = features(x)
        return ((head(grad_reverse(h) if use_layer else h) - target) ** 2).mean()

    before = loss().item()
    grads = torch.autograd.grad(loss(use_layer=True), list(features.parameters()))
    with torch.no_grad():
        for p, g in zip(features.parameters(), grads):
            p -= 1e-3 * g
    assert loss().item() > before


def test_the_module_and_its_repr():
    layer = GradientReversalLayer(0.5)
    assert repr(layer) == "GradientReversalLayer(lambd=0.5)" and list(layer.parameters()) == []
    assert GradientReversalLayer().lambd == 1.0
    layer.lambd = 2.0  # a schedule may change it between steps
    x = leaf(random(3, seed=12))
    (grad,) = torch.autograd.grad(layer(x).sum(), x)
    assert torch.equal(grad, torch.full((3,), -2.0, dtype=F64))


@pytest.mark.parametrize("bad", ["1.0", None, torch.tensor(1.0), True, [1.0]])
def test_a_lambda_that_is_not_a_number_raises_type_error(bad):
    with pytest.raises(TypeError, match="lambd must be a real number"):
        grad_reverse(random(3), bad)
    with pytest.raises(TypeError, match="lambd must be a real number"):
        GradientReversalLayer(bad)


def test_other_errors():
    with pytest.raises(ValueError, match="lambd must be finite"):
        grad_reverse(random(3), float("nan"))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        grad_reverse([1.0, 2.0])
