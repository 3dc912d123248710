"""Chapter 7: backpropagation through time, by hand, for a scalar RNN."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.ch07.shared import BOOKS_BACKWARD
from helpers.exercises.catalogue.common import gen
from helpers.exercises.compare import as_mismatch, close, describe
from helpers.exercises.forbid import AUTOGRAD
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

# Exact backpropagation in float64 agrees with autograd to ~1e-15; a central finite difference gets ~1e-10 at best.
_TIGHT = close(rtol=1e-11, atol=1e-13)

# Every road to a derivative that the reader does not write: reverse and forward mode, autograd's engine called
# directly (the function that autograd.grad and .backward hand over to, and the shared engine itself: a call of
# run_backward on it is a call of a method bound to it, which the checker sees), the book's own finite differences,
# the book's backward passes through time (a scalar RNN is an RNN with one unit), the complex step (f(w + ih) / h,
# whose imaginary part is dL/dw to machine precision: through cmath's tanh, or its exp, sinh and cosh) and SymPy's
# symbolic derivative (sympy.diff, expr.diff, Derivative(...).doit(); not the class Derivative, whose methods share a
# decorator's wrapper with all of SymPy's arithmetic). Not closed, the checker cannot see them: a fresh engine,
# torch._C._ImperativeEngine() (making it calls no function), a complex step through torch.tanh of a complex tensor,
# through NumPy's ufuncs or through Python's own ** (math.e ** z).
COMPLEX_STEP = ("cmath.tanh", "cmath.exp", "cmath.sinh", "cmath.cosh")
SYMBOLIC = ("sympy.diff", "sympy.Expr.diff", "sympy.Derivative.doit")
DERIVATIVES = (
    *AUTOGRAD, "torch.func.jvp", "torch.func.hessian", "torch.func.linearize", "torch.autograd.functional.jvp",
    "torch.autograd.functional.hessian", "torch.autograd.functional.hvp", "torch.autograd.functional.vhp",
    "torch.autograd.forward_ad.make_dual", "torch.autograd.forward_ad.unpack_dual",
    "torch.autograd.graph._engine_run_backward", "torch.autograd.Variable._execution_engine",
    "helpers.nn.gradcheck.numerical_grad", *BOOKS_BACKWARD, *COMPLEX_STEP, *SYMBOLIC,
)


def _sequence(g: torch.Generator, length: int, scale: float = 1.0) -> list[float]:
    return [round(v, 3) for v in (scale * torch.randn(length, generator=g, dtype=torch.float64)).tolist()]


def _bptt_cases() -> list[Case]:
    g = gen(72)

    def case(label, w, u, xs, h0, why="", hidden=False):
        return Case(label, (w, u, xs, h0), why, hidden)

    long, longer, loud, hidden_long = _sequence(g, 10), _sequence(g, 20), _sequence(g, 15, 3.0), _sequence(g, 50)
    return [
        case("w = 0.8, u = 0.5, xs = [1.0, -0.5, 2.0], h0 = 0.1", 0.8, 0.5, [1.0, -0.5, 2.0], 0.1,
             {0: "w is used at every step: dL/dw sums one term per step t, dL/da_t h_{t-1}, where dL/da_t reaches "
                 "step t from h_T back through the later steps.",
              1: "u is used at every step too: dL/du sums dL/da_t x_t over t."}),
        case("one step: w = -1.2, u = 0.7, xs = [0.9], h0 = 0.4", -1.2, 0.7, [0.9], 0.4,
             "With T = 1 there is nothing to go back through: dL/dw = (1 - h_1^2) h_0 and dL/du = (1 - h_1^2) x_1."),
        case("h0 = 0: w = 0.5, u = -1.1, xs = [0.3, 1.2, -0.8, 0.5, -1.5, 0.6]", 0.5, -1.1,
             [0.3, 1.2, -0.8, 0.5, -1.5, 0.6], 0.0,
             {0: "With h0 = 0 the first step's term of dL/dw vanishes (it multiplies h_0), but every later one "
                 "counts."}),
        case("T = 10, a growing recurrence: w = 1.5, u = 0.4, xs: 10 values near N(0, 1), h0 = -0.2", 1.5, 0.4,
             long, -0.2,
             "Each step back multiplies dL/dh by w (1 - h_t^2): both factors, at every step."),
        case("T = 20: w = -0.9, u = 1.0, xs: 20 values near N(0, 1), h0 = 0.5", -0.9, 1.0, longer, 0.5,
             "A negative w flips the sign of dL/dh at each step back: signs matter."),
        case("T = 50: w = 0.95, u = 0.3, h0 = 0.0", 0.95, 0.3, hidden_long, 0.0, hidden=True),
        case("T = 2: w = 0.3, u = -2.0, xs = [1.5, -0.7], h0 = 0.9", 0.3, -2.0, [1.5, -0.7], 0.9, hidden=True),
        case("T = 15, saturating inputs (3 N(0, 1)): w = 1.1, u = 1.3, h0 = -0.6", 1.1, 1.3, loud, -0.6, hidden=True),
        case("whole numbers: w = 1, u = -1, xs = [2, 0, -1, 1], h0 = 0", 1, -1, [2, 0, -1, 1], 0, hidden=True),
    ]


def _forward(w: float, u: float, xs: list, h0: float) -> list[float]:
    """[h_0, h_1, ..., h_T] with h_t = tanh(w h_{t-1} + u x_t)."""
    hs = [float(h0)]
    for x in xs:
        hs.append(math.tanh(w * hs[-1] + u * x))
    return hs


def _scalar_rnn_grad(w: float, u: float, xs: list, h0: float) -> tuple:
    hs = _forward(w, u, xs, h0)
    dw = du = 0.0
    dh = 1.0  # dL/dh_T, since L = h_T
    for t in range(len(xs), 0, -1):
        da = dh * (1 - hs[t] ** 2)  # through h_t = tanh(a_t)
        dw += da * hs[t - 1]
        du += da * xs[t - 1]
        dh = da * w  # a_t = w h_{t-1} + u x_t
    return dw, du


def _bptt_with(derivative=lambda hs, t: 1 - hs[t] ** 2, carry=lambda da, w: da * w, steps=None, swap=False):
    """BPTT with one of the known mistakes: tanh' at step t, what flows back to h_{t-1}, how many steps back."""

    def answer(w, u, xs, h0):
        hs = _forward(w, u, xs, h0)
        dw = du = 0.0
        dh = 1.0
        last = len(xs)
        for t in range(last, 0 if steps is None else max(last - steps, 0), -1):
            da = dh * derivative(hs, t)
            dw += da * hs[t - 1]
            du += da * xs[t - 1]
            dh = carry(da, w)
        return (du, dw) if swap else (dw, du)

    return answer


def _bptt_float32(w, u, xs, h0):
    """The right algorithm in float32 tensors, torch's default dtype."""
    w, u, h = torch.tensor(w, dtype=torch.float32), torch.tensor(u, dtype=torch.float32), torch.tensor(float(h0))
    xs = torch.tensor(xs, dtype=torch.float32)
    hs = [h]
    for x in xs:
        hs.append(torch.tanh(w * hs[-1] + u * x))
    dw = du = torch.tensor(0.0)
    dh = torch.tensor(1.0)
    for t in range(len(xs), 0, -1):
        da = dh * (1 - hs[t] ** 2)
        dw, du, dh = dw + da * hs[t - 1], du + da * xs[t - 1], da * w
    return dw.item(), du.item()


def _two_floats(expected, got):
    """The values first (a 1-element tensor counts by its value), then the type: Python floats."""
    values = [g.item() if isinstance(g, torch.Tensor) and g.numel() == 1 else g for g in got] \
        if isinstance(got, (tuple, list)) else got
    if problem := as_mismatch(_TIGHT(expected, values)):
        return problem
    for item, value in enumerate(got):
        if isinstance(value, torch.Tensor):
            return Mismatch(f"returned {describe(value)}, a tensor: return Python floats (use .item(), or compute "
                            "with math.tanh and floats)", item, ResultKind.WRONG_TYPE)
    return None


BPTT = Exercise(
    id="07.bptt_scalar",
    title="Backpropagation through time for a scalar RNN",
    kind="derive",
    points=2,
    prompt=(
        "For the scalar RNN h_t = tanh(w h_{t-1} + u x_t), t = 1, ..., T, from h_0 = h0, with the loss L = h_T, "
        "scalar_rnn_grad(w, u, xs, h0) returns (dL/dw, dL/du) as a tuple of two Python floats, computed by "
        "backpropagation through time: a forward loop that keeps every h_t, then a backward loop from t = T down "
        "to 1. xs is a list of the T inputs x_1, ..., x_T. The check wants 11 correct digits, which a finite "
        "difference cannot give; autograd is not allowed."
    ),
    reference=_scalar_rnn_grad,
    cases=_bptt_cases,
    compare=_two_floats,
    items=("dL/dw", "dL/du"),
    forbidden=DERIVATIVES,
    instead="Keep h_0, ..., h_T from a forward loop (math.tanh), then walk back from dL/dh_T = 1 with the chain "
    "rule.",
    hints=[
        "Forward: hs = [h0], then hs.append(math.tanh(w * hs[-1] + u * x)) for each x. Call a_t = w h_{t-1} + u x_t "
        "the pre-activation of step t.",
        "Backward: start from dL/dh_T = 1. At step t, dL/da_t = dL/dh_t (1 - h_t^2) (tanh' at step t's own output). "
        "The same w and u are used at every step, so their gradients add up over t: dL/dw += dL/da_t h_{t-1}, "
        "dL/du += dL/da_t x_t.",
        "Then move one step back: dL/dh_{t-1} = dL/da_t w. Loop t from T down to 1 "
        "(for t in range(len(xs), 0, -1), with h_t = hs[t] and x_t = xs[t - 1]).",
    ],
    wrong={
        "Only the last step was counted: w and u are used at EVERY step, and h_{T-1} depends on them too, so the "
        "gradient keeps going back, dL/dh_{t-1} = dL/da_t w, and the terms of all T steps add up.": (
            _bptt_with(steps=1)
        ),
        "The tanh' factor is missing: h_t = tanh(a_t), so dL/da_t = dL/dh_t (1 - h_t^2), at every step.": (
            _bptt_with(derivative=lambda hs, t: 1.0)
        ),
        "tanh' was taken at the wrong step: the derivative of h_t = tanh(a_t) is 1 - h_t^2, with step t's own "
        "output h_t, not 1 - h_{t-1}^2.": _bptt_with(derivative=lambda hs, t: 1 - hs[t - 1] ** 2),
        "tanh' has the wrong sign: 1 + tan^2 is the derivative of tan; the derivative of tanh is 1 - tanh^2, "
        "so dL/da_t = dL/dh_t (1 - h_t^2).": _bptt_with(derivative=lambda hs, t: 1 + hs[t] ** 2),
        "The factor w was dropped going back a step: a_t = w h_{t-1} + u x_t, so dL/dh_{t-1} = dL/da_t w.": (
            _bptt_with(carry=lambda da, w: da)
        ),
        "dL/dw and dL/du are swapped: return (dL/dw, dL/du), w's gradient first.": _bptt_with(swap=True),
        "The digits after the 7th are off: that is float32 arithmetic (torch.tensor of a Python float is float32). "
        "Compute with Python floats (math.tanh) or float64 tensors.": _bptt_float32,
    },
)

EXERCISES = [BPTT]
