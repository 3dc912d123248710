"""Chapter 9: the contractive penalty of a sigmoid encoder in closed form, and the check that it is trained through
(its gradient with respect to the weight)."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch09.shared import CONTRACTIVE, penalty_compare
from helpers.exercises.catalogue.common import F64, gen, graph_leaves
from helpers.exercises.spec import Case, Exercise, Mismatch

F32 = torch.float32


def _contractive_cases() -> list[Case]:
    g = gen(95)

    def layer(N, n_features, n_code, dtype=F64, scale=1.0):
        x = torch.rand(N, n_features, generator=g, dtype=dtype)  # pixel-like inputs in [0, 1)
        W = scale * torch.randn(n_code, n_features, generator=g, dtype=dtype) / n_features**0.5
        b = 0.5 * torch.randn(n_code, generator=g, dtype=dtype)
        return x, W, b

    return [
        Case("x (4, 3), weight (3, 3), bias (3,), float64", layer(4, 3, 3),
             "Per sample, ||J||_F^2 = sum_j sum_i (dh_j/dx_i)^2 with dh_j/dx_i = h_j (1 - h_j) W_ji; then the mean "
             "over the batch. Here n_code = n_features, so the weight is square."),
        Case("x (5, 6), weight (2, 6), bias (2,), float64", layer(5, 6, 2),
             "weight is (n_code, n_features), as nn.Linear's: row j holds the weights into code unit j, and "
             "sum_i W_ji^2 is the squared norm of that row."),
        Case("a batch of one: x (1, 4), weight (3, 4), bias (3,), float64", layer(1, 4, 3),
             "One sample: the penalty is that sample's squared Frobenius norm of dh/dx."),
        Case("x (8, 5), weight (4, 5), bias (4,), float32", layer(8, 5, 4, F32),
             "Any dtype: the penalty keeps the inputs'."),
        Case("large weights (saturated units): x (6, 4), weight (3, 4), bias (3,), float64", layer(6, 4, 3, scale=16.0),
             "A saturated unit (h_j near 0 or 1) has h_j (1 - h_j) near 0: it barely responds to x, and adds almost "
             "nothing, however large its weights."),
        Case("a weight being trained: x (5, 4), weight (3, 4) with requires_grad, bias (3,), float64",
             _trained(*layer(5, 4, 3)),
             "The penalty is added to the loss and trained through: its gradient with respect to the weight must be "
             "the closed form's, so nothing may be detached (no .detach(), torch.no_grad() or .item())."),
        Case("x (32, 64), weight (16, 64), bias (16,), float64", layer(32, 64, 16), hidden=True),
        Case("x (10, 10), weight (10, 10), bias (10,), float32", layer(10, 10, 10, F32), hidden=True),
        Case("over-complete: x (3, 2), weight (5, 2), bias (5,), float64", layer(3, 2, 5), hidden=True),
    ]


def _trained(x, weight, bias):
    """The layer with its weight a leaf that requires grad, as a parameter being trained."""
    return x, weight.requires_grad_(), bias


def _contractive_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """penalty_compare, and where the reference's penalty has a graph (the weight requires grad) and the answer's
    has one too, the gradients with respect to the weight. (Only where the answer still has its graph: the grader
    records values alone, so a result without one is judged by its value.)"""
    if problem := penalty_compare(expected, got):
        return problem
    if not (expected.requires_grad and got.requires_grad):
        return None
    (want,) = torch.autograd.grad(expected, graph_leaves(expected), retain_graph=True)
    leaves = graph_leaves(got)
    grads = torch.autograd.grad(got, leaves, retain_graph=True, allow_unused=True) if leaves else ()
    grad = next((g for leaf, g in zip(leaves, grads) if g is not None and leaf.shape == want.shape), None)
    if grad is None or not torch.allclose(grad, want, rtol=1e-9, atol=1e-12):
        return Mismatch("the value is right, but its gradient with respect to the weight is not the penalty's: part "
                        "of it was detached (.detach(), torch.no_grad() or a number taken out with .item()), so "
                        "training through it would follow another gradient. Keep every step in torch, on the tensors "
                        "passed in.")
    return None


def _contractive_penalty(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    h = torch.sigmoid(x @ weight.T + bias)  # (N, n_code)
    return ((h * (1 - h)) ** 2 @ (weight**2).sum(dim=1)).mean()  # sum_j (h_j(1-h_j))^2 ||W_j||^2, batch mean


def _contractive_with(derivative=lambda h: (h * (1 - h)) ** 2, rows=lambda W: (W**2).sum(dim=1), transpose=True,
                      bias=True, reduce="mean", root=False):
    """The penalty with one of the known mistakes: the squared derivative of each unit, the weights' per-unit
    factor, x @ W.T (right) or x @ W, the bias, the batch reduction, a square root (the norm, not its square)."""

    def answer(x, weight, b):
        h = torch.sigmoid((x @ (weight.T if transpose else weight)) + (b if bias else 0))
        per_sample = derivative(h) @ rows(weight)
        per_sample = per_sample.sqrt() if root else per_sample
        return per_sample.mean() if reduce == "mean" else per_sample.sum()

    return answer


CONTRACTIVE_PENALTY = Exercise(
    id="09.contractive_penalty",
    title="The contractive penalty of a sigmoid encoder",
    kind="implement",
    points=2,
    prompt=(
        "contractive_penalty(x, weight, bias) returns the contractive autoencoder's penalty for the encoder h = "
        "sigmoid(x W^T + b): the squared Frobenius norm of the Jacobian dh/dx of each sample, averaged over the "
        "batch. In closed form, since dh_j/dx_i = h_j (1 - h_j) W_ji: (1/N) sum_n sum_j (h_nj (1 - h_nj))^2 sum_i "
        "W_ji^2. x (N, n_features), weight W (n_code, n_features), bias b (n_code,) -> a 0-dim tensor in their "
        "dtype. Use the closed form: no Jacobian by autograd."
    ),
    reference=_contractive_penalty,
    cases=_contractive_cases,
    compare=_contractive_compare,
    forbidden=CONTRACTIVE,
    instead="Use the closed form: h = torch.sigmoid(x @ weight.T + bias), then products and sums. No "
    "torch.func.jacrev, torch.autograd.grad or .backward(), nor the book's penalty.",
    hints=[
        "First the code, h = torch.sigmoid(x @ weight.T + bias), (N, n_code). The derivative of the sigmoid is "
        "h (1 - h), so dh_j/dx_i = h_j (1 - h_j) W_ji.",
        "Square and sum over i and j: sum_j (h_j (1 - h_j))^2 sum_i W_ji^2. The inner sum is the squared norm of row "
        "j of the weight, (weight ** 2).sum(dim=1), (n_code,): the same for every sample.",
        "h = torch.sigmoid(x @ weight.T + bias); per_sample = (h * (1 - h)) ** 2 @ (weight ** 2).sum(dim=1); "
        "return per_sample.mean().",
    ],
    wrong={
        "The derivative h (1 - h) was not squared: every entry of the Jacobian, h_j (1 - h_j) W_ji, is squared, so "
        "the factor is (h_j (1 - h_j))^2.": _contractive_with(derivative=lambda h: h * (1 - h)),
        "The weights were summed over the wrong axis, (weight ** 2).sum(dim=0): W is (n_code, n_features), and unit "
        "j's factor sum_i W_ji^2 is the squared norm of ROW j, (weight ** 2).sum(dim=1).": _contractive_with(
            rows=lambda W: (W**2).sum(dim=0)),
        "The weight was not transposed: h = sigmoid(x W^T + b), with W (n_code, n_features) as nn.Linear's; x @ "
        "weight runs only when W is square, and then pairs the wrong entries.": _contractive_with(transpose=False),
        "The samples were summed: the penalty is the MEAN over the batch of each sample's ||J||_F^2.": (
            _contractive_with(reduce="sum")
        ),
        "The tanh derivative 1 - h^2 was used: this encoder is a sigmoid, whose derivative is h (1 - h).": (
            _contractive_with(derivative=lambda h: (1 - h**2) ** 2)
        ),
        "The weights were not squared: dh_j/dx_i = h_j (1 - h_j) W_ji is squared as a whole, so the weights "
        "contribute sum_i W_ji^2, not sum_i W_ji.": _contractive_with(rows=lambda W: W.sum(dim=1)),
        "The bias was left out of the code: h = sigmoid(x W^T + b), and the bias moves each unit towards or away "
        "from saturation.": _contractive_with(bias=False),
        "The square root was taken: the penalty is the SQUARED Frobenius norm ||J||_F^2, not the norm.": (
            _contractive_with(root=True)
        ),
    },
)
