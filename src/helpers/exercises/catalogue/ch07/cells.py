"""Chapter 7: one step of a plain RNN (torch.rnn_tanh_cell), and of a leaky unit."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch07.shared import INSTEAD_CELL, RECURRENT, cell_weights
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32
TOLERANCE = close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-5))


# ---------------------------------------------------------------- one step of an RNN
def _rnn_step_cases() -> list[Case]:
    g = gen(71)

    def step(n, h_in, h, dtype=F64, bias="both", scale=1.0):
        """(input, hx, w_ih, w_hh[, b_ih, b_hh]); n=None for one example without a batch dimension. bias: "both",
        "none" (both left out), "hh" (b_ih None, b_hh given) or "ih" (b_ih given, b_hh None)."""
        batch = () if n is None else (n,)
        x, hx = torch.randn(*batch, h_in, generator=g, dtype=dtype), torch.randn(*batch, h, generator=g, dtype=dtype)
        w_ih, w_hh, b_ih, b_hh = cell_weights(g, 1, h_in, h, dtype, scale)
        if bias == "none":
            return x, hx, w_ih, w_hh
        return x, hx, w_ih, w_hh, None if bias == "hh" else b_ih, None if bias == "ih" else b_hh

    return [
        Case("3 inputs and 3 hidden units: input (4, 3), hx (4, 3), w_ih (3, 3), w_hh (3, 3), both biases, float64",
             step(4, 3, 3),
             "h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), both biases added; with H_in = H, x @ w_ih without .T "
             "also runs and gives other numbers."),
        Case("input (5, 3), hx (5, 4), w_ih (4, 3), w_hh (4, 4), both biases, float64", step(5, 3, 4),
             "h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh): (5, 3) (3, 4) + (5, 4) (4, 4) gives (5, 4)."),
        Case("no biases (left out, so None): input (3, 2), hx (3, 5), w_ih (5, 2), w_hh (5, 5)",
             step(3, 2, 5, bias="none"),
             "b_ih and b_hh default to None, as in torch.rnn_tanh_cell: then there is nothing to add."),
        Case("one example, no batch dimension: input (3,), hx (4,), both biases", step(None, 3, 4),
             "Like nn.RNNCell, the step works on a single example: input (H_in,) and hx (H,) give h' (H,)."),
        Case("input (6, 4), hx (6, 2) float32, both biases", step(6, 4, 2, F32), "Any dtype: h' keeps the input's."),
        Case("large pre-activations (weights 200 times larger): input (2, 3), hx (2, 4), both biases",
             step(2, 3, 4, scale=200.0),
             "tanh(a) is +-1 to machine precision for |a| > 20, and torch.tanh says so; a formula through exp(2a) "
             "overflows to inf / inf = nan."),
        # a bias given without the other: an answer that adds both or neither gets the first wrong (in value, so that
        # it is diagnosed), and crashes or gets the second wrong
        Case("only the hidden bias (b_ih is None): input (4, 2), hx (4, 3), w_ih (3, 2), w_hh (3, 3), b_hh (3,)",
             step(4, 2, 3, bias="hh"),
             "Each bias may be None on its own, as in torch.rnn_tanh_cell: test each one and add the one that is "
             "given."),
        Case("only the input bias (b_hh is None): input (3, 4), hx (3, 2), w_ih (2, 4), w_hh (2, 2), b_ih (2,)",
             step(3, 4, 2, bias="ih"), "b_hh is None here and b_ih is not: add b_ih alone."),
        Case("input (32, 10), hx (32, 20), both biases, float64", step(32, 10, 20), hidden=True),
        Case("one example: input (5,), hx (7,) float32, both biases", step(None, 5, 7, F32), hidden=True),
        Case("a batch of one: input (1, 7), hx (1, 3), no biases", step(1, 7, 3, bias="none"), hidden=True),
        Case("input (8, 1), hx (8, 6) float32, no biases", step(8, 1, 6, F32, bias="none"), hidden=True),
        Case("input (2, 5), hx (2, 3) float32, only b_hh", step(2, 5, 3, F32, bias="hh"), hidden=True),
    ]


def _rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) -> torch.Tensor:
    pre = input @ w_ih.T + hx @ w_hh.T  # (N, H) or (H,)
    if b_ih is not None:
        pre = pre + b_ih
    if b_hh is not None:
        pre = pre + b_hh
    return torch.tanh(pre)


def _rnn_with(activation=torch.tanh, transpose=True, transpose_hh=True, use_hx=True, use_b_ih=True, use_b_hh=True,
              both_or_neither=False):
    """One RNN step with one of the known mistakes."""

    def answer(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        w_ih, w_hh = (w_ih.T if transpose else w_ih), (w_hh.T if transpose and transpose_hh else w_hh)
        pre = input @ w_ih + (hx @ w_hh if use_hx else 0)
        if both_or_neither:  # the biases taken to come together
            return activation(pre + b_ih + b_hh if b_ih is not None and b_hh is not None else pre)
        if b_ih is not None and use_b_ih:
            pre = pre + b_ih
        if b_hh is not None and use_b_hh:
            pre = pre + b_hh
        return activation(pre)

    return answer


RNN_STEP = Exercise(
    id="07.rnn_step",
    title="One step of an RNN",
    kind="implement",
    points=1,
    prompt=(
        "rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None) returns torch.rnn_tanh_cell(input, hx, w_ih, w_hh, "
        "b_ih, b_hh), the next hidden state of nn.RNNCell: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), a bias "
        "left out when it is None. input (N, H_in) or (H_in,), hx (N, H) or (H,), w_ih (H, H_in), w_hh (H, H), "
        "b_ih and b_hh (H,) -> h' (N, H) or (H,), in the input's dtype."
    ),
    reference=_rnn_cell,
    cases=_rnn_step_cases,
    compare=TOLERANCE,
    forbidden=RECURRENT,
    instead=INSTEAD_CELL,
    hints=[
        "torch stores W_ih as (hidden_size, input_size), one row per hidden unit: a batch x (N, H_in) is multiplied "
        "by its transpose, x @ w_ih.T, which is (N, H). The same for hx @ w_hh.T.",
        "b_ih and b_hh are two separate vectors, and both are added when given; either may be None, and then there "
        "is nothing to add (test `if b_ih is not None`).",
        "torch.tanh(input @ w_ih.T + hx @ w_hh.T + b_ih + b_hh), leaving out a None bias. The same line works for "
        "one example: a 1-D tensor @ a matrix is a vector-matrix product.",
    ],
    wrong={
        # before the two that leave a bias out, which agree with it on one of the cases with a single bias
        "A bias was added only when both were given (or only when b_ih was): either may be None on its own, as in "
        "torch.rnn_tanh_cell, so test each one (if b_ih is not None: ..., if b_hh is not None: ...) and add the one "
        "that is given.": _rnn_with(both_or_neither=True),
        "The hidden bias b_hh was left out: torch's RNN cell has two bias vectors, b_ih and b_hh, and adds both when "
        "they are given.": _rnn_with(use_b_hh=False),
        "The input bias b_ih was left out: torch's RNN cell has two bias vectors, b_ih and b_hh, and adds both when "
        "they are given.": _rnn_with(use_b_ih=False),
        "The weights were not transposed: w_ih is (hidden, input), one row per hidden unit, so the batch is "
        "multiplied by its transpose, input @ w_ih.T (and hx @ w_hh.T). input @ w_ih only runs when the two sizes "
        "are equal, and then it mixes the wrong entries.": _rnn_with(transpose=False),
        "w_hh was not transposed: like w_ih it is stored one row per hidden unit, so hx @ w_hh.T. Being square, "
        "hx @ w_hh runs, and mixes the wrong entries.": _rnn_with(transpose_hh=False),
        "That is ReLU: nn.RNNCell's default nonlinearity is tanh, which keeps the state in (-1, 1) and is negative "
        "as often as positive.": _rnn_with(activation=torch.relu),
        "That is the sigmoid: the RNN cell's nonlinearity is tanh, which ranges over (-1, 1), not (0, 1).": (
            _rnn_with(activation=torch.sigmoid)
        ),
        "The previous hidden state was ignored: the recurrence is what makes it an RNN, h' depends on hx through "
        "hx @ w_hh.T.": _rnn_with(use_hx=False),
    },
)


# ---------------------------------------------------------------- a leaky unit
def _leaky_cases() -> list[Case]:
    g = gen(73)

    def step(n, h_in, h, alpha, dtype=F64):
        batch = () if n is None else (n,)
        x, hx = torch.randn(*batch, h_in, generator=g, dtype=dtype), torch.randn(*batch, h, generator=g, dtype=dtype)
        w_ih, w_hh, b, _ = cell_weights(g, 1, h_in, h, dtype)
        return x, hx, w_ih, w_hh, b, alpha

    return [
        Case("alpha = 0.1: input (4, 3), hx (4, 5), float64", step(4, 3, 5, 0.1),
             "With a small alpha the unit keeps 90% of its old state and takes in 10% of the new one: it changes "
             "slowly and remembers for about 1 / alpha = 10 steps."),
        Case("alpha = 0.7: input (3, 2), hx (3, 4), float64", step(3, 2, 4, 0.7),
             "h' = (1 - alpha) h + alpha tanh(...): the weights add up to 1, an average of the old state and the "
             "new candidate."),
        Case("alpha = 1: input (5, 4), hx (5, 3), float64", step(5, 4, 3, 1.0),
             "alpha = 1 is no leak at all: h' = tanh(x W_ih^T + h W_hh^T + b), the plain RNN step."),
        Case("one example, no batch dimension: input (3,), hx (6,), alpha = 0.25", step(None, 3, 6, 0.25),
             "input (H_in,) and hx (H,) give h' (H,)."),
        Case("input (4, 2), hx (4, 3) float32, alpha = 0.4", step(4, 2, 3, 0.4, F32),
             "Any dtype: h' keeps the input's."),
        Case("input (16, 8), hx (16, 12), alpha = 0.05", step(16, 8, 12, 0.05), hidden=True),
        Case("alpha = 0, the state frozen: input (3, 2), hx (3, 3)", step(3, 2, 3, 0.0), hidden=True),
        Case("one example: input (4,), hx (5,) float32, alpha = 0.9", step(None, 4, 5, 0.9, F32), hidden=True),
    ]


def _leaky_rnn_step(input, hx, w_ih, w_hh, b, alpha: float) -> torch.Tensor:
    candidate = torch.tanh(input @ w_ih.T + hx @ w_hh.T + b)
    return (1 - alpha) * hx + alpha * candidate


LEAKY = Exercise(
    id="07.leaky_unit",
    title="A leaky unit",
    kind="implement",
    points=1,
    prompt=(
        "leaky_rnn_step(input, hx, w_ih, w_hh, b, alpha) returns the next state of a leaky RNN unit, "
        "h' = (1 - alpha) h + alpha tanh(x W_ih^T + h W_hh^T + b), with 0 <= alpha <= 1 a Python float: the unit "
        "keeps a fraction 1 - alpha of its old state and mixes in a fraction alpha of a plain RNN step. input "
        "(N, H_in) or (H_in,), hx (N, H) or (H,), w_ih (H, H_in), w_hh (H, H), b (H,) -> h' like hx, in its dtype."
    ),
    reference=_leaky_rnn_step,
    cases=_leaky_cases,
    compare=TOLERANCE,
    forbidden=RECURRENT,
    instead=INSTEAD_CELL,
    hints=[
        "First the candidate, a plain RNN step: torch.tanh(input @ w_ih.T + hx @ w_hh.T + b).",
        "Then average it with the old state: alpha is the share of the NEW candidate, 1 - alpha the share of the "
        "old state that is kept. alpha = 1 must give the plain RNN step.",
        "(1 - alpha) * hx + alpha * torch.tanh(input @ w_ih.T + hx @ w_hh.T + b).",
    ],
    wrong={
        "alpha and 1 - alpha are swapped: alpha is the share of the new candidate (alpha = 1 is the plain RNN), "
        "and 1 - alpha the share of the old state that is kept.": (
            lambda input, hx, w_ih, w_hh, b, alpha: alpha * hx + (1 - alpha) * torch.tanh(
                input @ w_ih.T + hx @ w_hh.T + b)
        ),
        "There is no leak: that is the plain RNN step. The leaky unit keeps (1 - alpha) of its old state, "
        "h' = (1 - alpha) h + alpha tanh(...).": (
            lambda input, hx, w_ih, w_hh, b, alpha: torch.tanh(input @ w_ih.T + hx @ w_hh.T + b)
        ),
        "The leak was put inside the tanh: the old state is mixed in AFTER the nonlinearity, h' = (1 - alpha) h + "
        "alpha tanh(x W_ih^T + h W_hh^T + b), so that a small alpha keeps h itself, not tanh of it.": (
            lambda input, hx, w_ih, w_hh, b, alpha: torch.tanh(
                (1 - alpha) * hx + alpha * (input @ w_ih.T + hx @ w_hh.T + b))
        ),
        "The candidate was not scaled by alpha: the two shares add up to 1, (1 - alpha) of the old state and alpha "
        "of the candidate.": (
            lambda input, hx, w_ih, w_hh, b, alpha: (1 - alpha) * hx + torch.tanh(input @ w_ih.T + hx @ w_hh.T + b)
        ),
    },
)

EXERCISES = [RNN_STEP, LEAKY]
