"""Backpropagation in matrix form: a two-layer network trained without autograd.

For a batch X: (N, D) with class labels y: (N,), the forward pass is

    A = X W1^T + b1          (N, H)   the hidden layer's pre-activations
    H = act(A)               (N, H)   relu or sigmoid, elementwise
    Z = H W2^T + b2          (N, K)   the logits
    L = (1/N) sum_n -log softmax(Z_n)[y_n]

and the backward pass runs the same steps in reverse, each a rule we already know:

    dZ  = (softmax(Z) - onehot(y)) / N          (N, K)   the cross-entropy's gradient (chapter 2)
    dH, dW2, db2 = linear_backward(dZ, H, W2)             dH = dZ W2, dW2 = dZ^T H, db2 = sum_n dZ_n
    dA  = dH * act'(A)                          (N, H)   elementwise: the activation acts elementwise
    dX, dW1, db1 = linear_backward(dA, X, W1)

Every gradient has the shape of what it differentiates; ``tests/test_nn_backprop.py`` checks them all
against ``torch.autograd``.
"""

from __future__ import annotations

import math

import torch

from helpers.nn import activations, losses
from helpers.nn.linear import linear, linear_backward

ACTIVATIONS = {"relu": (activations.relu, activations.relu_grad),
               "sigmoid": (activations.sigmoid, activations.sigmoid_grad)}


def cross_entropy_backward(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """dL/dlogits of L = mean cross-entropy: (softmax(logits) - onehot(target)) / N. (N, K), (N,) -> (N, K)."""
    grad = losses.softmax(logits)
    grad[torch.arange(len(target), device=logits.device), target] -= 1
    return grad / len(target)


class TwoLayerNet:
    """X -> linear -> act -> linear -> logits, with plain tensors and a hand-written backward pass.

    Parameters as in ``nn.Linear`` (W: (out, in), initialised from U(-1/sqrt(in), 1/sqrt(in))), kept in
    ``params`` = {"W1", "b1", "W2", "b2"}; no ``requires_grad`` anywhere.
    """

    def __init__(self, d_in: int, hidden: int, classes: int, activation: str = "relu", seed: int = 0,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
        g = torch.Generator().manual_seed(seed)

        def uniform(*shape: int, fan_in: int) -> torch.Tensor:
            bound = 1 / math.sqrt(fan_in)
            return ((torch.rand(*shape, generator=g, dtype=dtype) * 2 - 1) * bound).to(device)

        self.activation = activation
        self.params = {"W1": uniform(hidden, d_in, fan_in=d_in), "b1": uniform(hidden, fan_in=d_in),
                       "W2": uniform(classes, hidden, fan_in=hidden), "b2": uniform(classes, fan_in=hidden)}

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """(logits (N, K), cache) for x: (N, D); the cache keeps what the backward pass needs."""
        act, _ = ACTIVATIONS[self.activation]
        p = self.params
        a = linear(x, p["W1"], p["b1"])
        h = act(a)
        return linear(h, p["W2"], p["b2"]), {"x": x, "a": a, "h": h}

    def backward(self, cache: dict[str, torch.Tensor], grad_logits: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gradients of the loss for every parameter (and "x"), given dL/dlogits."""
        _, act_grad = ACTIVATIONS[self.activation]
        p = self.params
        grad_h, grad_W2, grad_b2 = linear_backward(grad_logits, cache["h"], p["W2"], p["b2"])
        grad_a = grad_h * act_grad(cache["a"])
        grad_x, grad_W1, grad_b1 = linear_backward(grad_a, cache["x"], p["W1"], p["b1"])
        return {"W1": grad_W1, "b1": grad_b1, "W2": grad_W2, "b2": grad_b2, "x": grad_x}

    def loss_and_grads(self, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The mean cross-entropy on (x, target) and its gradients, by one forward and one backward pass."""
        logits, cache = self.forward(x)
        return losses.cross_entropy(logits, target), self.backward(cache, cross_entropy_backward(logits, target))

    def sgd_step(self, grads: dict[str, torch.Tensor], lr: float) -> None:
        """p <- p - lr * dL/dp for every parameter."""
        for name, value in self.params.items():
            value -= lr * grads[name]

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The most likely class of each row. (N, D) -> (N,)."""
        return self.forward(x)[0].argmax(dim=-1)
