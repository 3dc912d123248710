"""The hand-written backward pass of a two-layer network against torch.autograd, and it learns digits."""

import pytest
import torch
import torch.nn.functional as F

from helpers import data
from helpers.nn.backprop import TwoLayerNet, cross_entropy_backward


def test_cross_entropy_backward_matches_autograd():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.randint(0, 4, (6,), generator=g)
    (expected,) = torch.autograd.grad(F.cross_entropy(logits, target), logits)
    assert torch.allclose(cross_entropy_backward(logits.detach(), target), expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_every_gradient_matches_autograd(activation):
    net = TwoLayerNet(5, 7, 3, activation=activation, seed=1, dtype=torch.float64)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(9, 5, generator=g, dtype=torch.float64)
    target = torch.randint(0, 3, (9,), generator=g)
    loss, grads = net.loss_and_grads(x, target)

    leaves = {name: value.clone().requires_grad_() for name, value in net.params.items()}
    leaves["x"] = x.clone().requires_grad_()
    act = torch.relu if activation == "relu" else torch.sigmoid
    hidden = act(F.linear(leaves["x"], leaves["W1"], leaves["b1"]))
    torch_loss = F.cross_entropy(F.linear(hidden, leaves["W2"], leaves["b2"]), target)
    torch_grads = torch.autograd.grad(torch_loss, list(leaves.values()))
    assert loss.item() == pytest.approx(torch_loss.item(), rel=1e-12)
    for (name, leaf), expected in zip(leaves.items(), torch_grads):
        assert grads[name].shape == leaf.shape, name
        assert torch.allclose(grads[name], expected, rtol=1e-10, atol=1e-13), name


def test_it_learns_digits_without_autograd():
    split = data.digits()
    net = TwoLayerNet(64, 32, 10, seed=0)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(15):
            for batch in torch.randperm(len(split.x_train), generator=g).split(64):
                _, grads = net.loss_and_grads(split.x_train[batch], split.y_train[batch])
                net.sgd_step(grads, lr=0.5)
    accuracy = (net.predict(split.x_test) == split.y_test).float().mean().item()
    assert accuracy > 0.9


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="activation must be one of"):
        TwoLayerNet(2, 2, 2, activation="swish")
