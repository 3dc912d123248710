"""Chapter 10: the gradient-reversal layer of domain-adversarial training, written as a torch.autograd.Function.

The reader writes the Function's forward and backward; the answer cell also holds, outside the solution block, a
function ``reverse_and_backprop(x, lambd, grad_output)`` that applies it to a leaf copy of x and backpropagates
grad_output through it with torch.autograd.grad, returning (y, dL/dx). That function is what is checked: its results
are plain values, so the check works the same under the grader (which keeps values only)."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch10.shared import GRADIENT_REVERSAL, TOLERANCE
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


def _reversal_cases() -> list[Case]:
    g = gen(108)

    def case(label, shape, lambd, dtype=F64, why="", hidden=False):
        x = torch.randn(*shape, generator=g, dtype=dtype)
        grad_output = torch.randn(*shape, generator=g, dtype=dtype)
        return Case(label, (x, lambd, grad_output), why, hidden)

    return [
        case("x (4, 3) float64, lambd = 0.5, grad_output (4, 3)", (4, 3), 0.5,
             why={0: "On the way forward the layer is the identity: y = x, the same values (and shape).",
                  1: "On the way back it multiplies the incoming gradient by -lambd: dL/dx = -lambd dL/dy."}),
        case("x (5,) float64, lambd = 2.0, grad_output (5,)", (5,), 2.0,
             why={1: "lambd scales the reversed gradient: with lambd = 2, dL/dx = -2 dL/dy."}),
        case("x (2, 3, 4) float32, lambd = 0.1, grad_output (2, 3, 4)", (2, 3, 4), 0.1, F32,
             why={0: "Any shape and dtype: y keeps x's.", 1: "The gradient keeps grad_output's dtype (float32 here)."}),
        case("lambd = 0: x (3, 2) float64, grad_output (3, 2)", (3, 2), 0.0,
             why={1: "lambd = 0 blocks the gradient: dL/dx = 0, the domain classifier's loss no longer reaches the "
                     "features (plain source-only training)."}),
        case("lambd = 1: x (6,) float64, grad_output (6,)", (6,), 1.0,
             why={1: "lambd = 1: the gradient comes back with its sign flipped, dL/dx = -dL/dy."}),
        case("x (64, 16) float64, lambd = 0.3", (64, 16), 0.3, hidden=True),
        case("x (8, 2) float32, lambd = 5.0", (8, 2), 5.0, F32, hidden=True),
        case("x (1,) float64, lambd = 0.01", (1,), 0.01, hidden=True),
    ]


def _reverse_and_backprop(x: torch.Tensor, lambd: float, grad_output: torch.Tensor):
    """What the answer cell's reverse_and_backprop returns for a correct GradientReversal: y = x, dL/dx = -lambd g."""
    return x.detach().clone(), -lambd * grad_output


def _with(forward=lambda x, lambd: x, backward=lambda x, lambd, g: -lambd * g):
    """(y, dL/dx) of a Function with one of the known mistakes in its forward or its backward."""

    def answer(x, lambd, grad_output):
        return forward(x, lambd).detach().clone(), backward(x, lambd, grad_output)

    return answer


GRADIENT_REVERSAL_EXERCISE = Exercise(
    id="10.gradient_reversal",
    title="The gradient-reversal layer",
    kind="implement",
    points=2,
    prompt=(
        "Write the gradient-reversal layer as class GradientReversal(torch.autograd.Function): forward(ctx, x, lambd) "
        "returns x unchanged (as a new tensor, x.view_as(x), and keeps lambd in ctx), and backward(ctx, grad_output) "
        "returns the gradient of each input of forward: -lambd * grad_output for x, and None for lambd (a number, "
        "not trained). The cell's reverse_and_backprop(x, lambd, grad_output) applies GradientReversal.apply(x, lambd) "
        "and backpropagates grad_output with torch.autograd.grad: it returns (y, dL/dx), and that is what is checked. "
        "Do not use the book's gradient_reversal module."
    ),
    reference=_reverse_and_backprop,
    cases=_reversal_cases,
    compare=TOLERANCE,
    items=("y", "dL/dx"),
    forbidden=GRADIENT_REVERSAL,
    instead="Write forward and backward yourself (ctx.lambd = lambd; return x.view_as(x) / return -ctx.lambd * "
    "grad_output, None): not the book's GradientReversal, grad_reverse or GradientReversalLayer.",
    hints=[
        "forward runs once, on the way forward: store what backward needs on ctx (ctx.lambd = lambd) and return the "
        "input's values unchanged, as a new tensor: x.view_as(x).",
        "backward receives dL/dy and returns one gradient per input of forward, in order: (dL/dx, dL/dlambd). lambd is "
        "a plain number, so its gradient is None; returning only one value makes torch raise \"returned an incorrect "
        "number of gradients\".",
        "forward: ctx.lambd = lambd; return x.view_as(x). backward: return -ctx.lambd * grad_output, None.",
    ],
    wrong={
        "The gradient was not reversed: backward returned +lambd * grad_output. The layer's point is the MINUS sign, "
        "dL/dx = -lambd dL/dy: the features are pushed to make the domain classifier's loss larger.": _with(
            backward=lambda x, lambd, g: lambd * g),
        "lambd was left out of backward: dL/dx = -lambd dL/dy, so the reversed gradient is scaled by lambd (ctx.lambd "
        "set in forward), not just negated.": _with(backward=lambda x, lambd, g: -g),
        "The forward pass negated x: the layer is the IDENTITY on the way forward (y = x) and acts only on the way "
        "back. Return x.view_as(x).": _with(forward=lambda x, lambd: -x),
        "The forward pass scaled x by lambd: on the way forward the layer is the identity, y = x; lambd only scales "
        "the gradient on the way back.": _with(forward=lambda x, lambd: lambd * x),
        "backward reversed the saved input, not the incoming gradient: dL/dx = -lambd * grad_output, the gradient that "
        "arrives from the layers after it (the domain classifier's).": _with(backward=lambda x, lambd, g: -lambd * x),
    },
)

EXERCISES = [GRADIENT_REVERSAL_EXERCISE]
