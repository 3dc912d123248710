"""Chapter 7: one step of a GRU (torch.gru_cell) and of an LSTM (torch.lstm_cell), with torch's conventions."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch07.shared import INSTEAD_CELL, RECURRENT, cell_weights
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32
TOLERANCE = close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-5))


def _inputs(g: torch.Generator, n: int | None, input_size: int, hidden_size: int, dtype: torch.dtype, states: int):
    """input, then ``states`` tensors like hx (1 for the GRU, 2 for the LSTM); n=None: no batch dimension."""
    batch = () if n is None else (n,)
    x = torch.randn(*batch, input_size, generator=g, dtype=dtype)
    return x, *(torch.randn(*batch, hidden_size, generator=g, dtype=dtype) for _ in range(states))


# ---------------------------------------------------------------- one step of a GRU
def _gru_cases() -> list[Case]:
    g = gen(74)

    def step(n, h_in, h, dtype=F64, scale=1.5):
        return (*_inputs(g, n, h_in, h, dtype, 1), *cell_weights(g, 3, h_in, h, dtype, scale))

    return [
        Case("input (4, 3), hx (4, 5), w_ih (15, 3), w_hh (15, 5), b_ih and b_hh (15,), float64", step(4, 3, 5),
             "h' = (1 - z) * n + z * h; r, z and n are the rows [0, H), [H, 2H) and [2H, 3H) of each weight and "
             "bias; the reset gate multiplies W_hn h + b_hn."),
        Case("input (3, 2), hx (3, 4), float64", step(3, 2, 4),
             "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)): the reset gate multiplies the hidden part AFTER its "
             "matrix product, bias b_hn included."),
        Case("one example, no batch dimension: input (4,), hx (3,)", step(None, 4, 3),
             "input (H_in,) and hx (H,) give h' (H,)."),
        Case("input (5, 6), hx (5, 2) float32", step(5, 6, 2, F32), "Any dtype: h' keeps the input's."),
        Case("input (2, 1), hx (2, 6), float64", step(2, 1, 6),
             "h' = (1 - z) * n + z * h: z is the share of the OLD state that is kept."),
        Case("input (16, 8), hx (16, 10), float64", step(16, 8, 10), hidden=True),
        Case("one example: input (3,), hx (5,) float32", step(None, 3, 5, F32), hidden=True),
        Case("input (1, 4), hx (1, 4), float64", step(1, 4, 4), hidden=True),
    ]


def _gru_with(order="rzn", reset_before=False, bias_outside=False, keep_new=False, reset=True, candidate=torch.tanh):
    """A GRU step; the defaults are torch's, and each argument one of the known mistakes (reset=False: r = 1)."""

    def answer(input, hx, w_ih, w_hh, b_ih, b_hh):
        w_i, w_h, b_i, b_h = (dict(zip(order, t.chunk(3))) for t in (w_ih, w_hh, b_ih, b_hh))  # blocks by name

        def parts(name):  # the gate's input part and hidden part
            return input @ w_i[name].T + b_i[name], hx @ w_h[name].T + b_h[name]

        r, z = (torch.sigmoid(sum(parts(name))) for name in "rz")
        i_n, h_n = parts("n")
        if not reset:
            hidden = h_n
        elif reset_before:  # Cho et al. (2014): r * h first, then its matrix product
            hidden = (r * hx) @ w_h["n"].T + b_h["n"]
        elif bias_outside:
            hidden = r * (hx @ w_h["n"].T) + b_h["n"]
        else:
            hidden = r * h_n
        n = candidate(i_n + hidden)
        return z * n + (1 - z) * hx if keep_new else (1 - z) * n + z * hx

    return answer


def _gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh) -> torch.Tensor:
    i_r, i_z, i_n = (input @ w_ih.T + b_ih).chunk(3, -1)  # torch's row order: reset, update, candidate
    h_r, h_z, h_n = (hx @ w_hh.T + b_hh).chunk(3, -1)
    r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)  # the reset gate after the hidden matrix product, b_hn included
    return (1 - z) * n + z * hx

GRU_STEP = Exercise(
    id="07.gru_step",
    title="One step of a GRU",
    kind="implement",
    points=2,
    prompt=(
        "gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh) returns torch.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh), the "
        "next hidden state of nn.GRUCell. The rows of w_ih (3H, H_in), w_hh (3H, H), b_ih and b_hh (3H,) are the "
        "reset gate's, the update gate's and the candidate's, in that order (r, z, n): "
        "r = sigmoid(W_ir x + b_ir + W_hr h + b_hr), z = sigmoid(W_iz x + b_iz + W_hz h + b_hz), "
        "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h. input (N, H_in) or (H_in,), hx "
        "(N, H) or (H,) -> h' like hx, in its dtype."
    ),
    reference=_gru_cell,
    cases=_gru_cases,
    compare=TOLERANCE,
    forbidden=RECURRENT,
    instead=INSTEAD_CELL,
    hints=[
        "Two matrix products give every gate at once: gi = input @ w_ih.T + b_ih and gh = hx @ w_hh.T + b_hh, each "
        "(N, 3H). Cut each in three along the last dimension, r, z, n in that order: gi.chunk(3, -1).",
        "r and z add their input and hidden parts before the sigmoid. The candidate keeps them apart: "
        "n = tanh(i_n + r * h_n), where h_n = W_hn h + b_hn is the hidden part AFTER its matrix product and bias "
        "(torch's convention; Cho et al. reset h before the product).",
        "h' = (1 - z) * n + z * hx: z is the share of the old state that is kept.",
    ],
    wrong={
        "The reset gate was applied before the hidden matrix product, W_hn (r * h): that is Cho et al.'s original "
        "GRU. torch (and cuDNN) reset after it: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).": (
            _gru_with(reset_before=True)
        ),
        "z and 1 - z are swapped: in torch's GRU, z is the share of the OLD state that is kept, "
        "h' = (1 - z) * n + z * h. (Some papers and books write it the other way round; torch's weights follow "
        "this one.)": _gru_with(keep_new=True),
        "The gates are read in the wrong order: torch stacks the rows as reset, update, candidate (r, z, n), so "
        "the first H rows of each weight belong to r and the next H to z.": _gru_with(order="zrn"),
        "The bias b_hn was added outside the reset product: torch resets the whole hidden part, bias included, "
        "n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).": _gru_with(bias_outside=True),
        "The reset gate is missing from the candidate: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), where r "
        "decides how much of the old state goes into the new candidate.": _gru_with(reset=False),
        "The candidate n went through a sigmoid: it is the new content, in (-1, 1) like the state it replaces, so "
        "tanh; only the gates r and z use the sigmoid.": _gru_with(candidate=torch.sigmoid),
    },
)


# ---------------------------------------------------------------- one step of an LSTM
def _lstm_cases() -> list[Case]:
    g = gen(75)

    def step(n, h_in, h, dtype=F64, scale=1.5):
        x, hx, cx = _inputs(g, n, h_in, h, dtype, 2)
        return (x, (hx, cx), *cell_weights(g, 4, h_in, h, dtype, scale))

    return [
        Case("input (4, 3), hx and cx (4, 5), w_ih (20, 3), w_hh (20, 5), b_ih and b_hh (20,), float64",
             step(4, 3, 5),
             {0: "h' = o * tanh(c'), with i, f, g and o the rows [0, H), [H, 2H), [2H, 3H) and [3H, 4H) of each "
                 "weight and bias (torch's order).",
              1: "c' = f * c + i * g: the forget gate scales the old cell, the input gate the candidate."}),
        Case("input (3, 2), hx and cx (3, 4), float64", step(3, 2, 4),
             {0: "h' = o * tanh(c'): the new cell passes through tanh before the output gate.",
              1: "g = tanh(...) is the candidate, in (-1, 1); the three gates use the sigmoid."}),
        Case("one example, no batch dimension: input (4,), hx and cx (3,)", step(None, 4, 3),
             "input (H_in,) and hx, cx (H,) give h' and c' (H,)."),
        Case("input (5, 6), hx and cx (5, 2) float32", step(5, 6, 2, F32), "Any dtype: h' and c' keep the input's."),
        Case("input (2, 1), hx and cx (2, 6), float64", step(2, 1, 6),
             "Return the pair (h', c'), as nn.LSTMCell does: h' first."),
        Case("input (16, 8), hx and cx (16, 10), float64", step(16, 8, 10), hidden=True),
        Case("one example: input (3,), hx and cx (5,) float32", step(None, 3, 5, F32), hidden=True),
        Case("input (1, 4), hx and cx (1, 4), float64", step(1, 4, 4), hidden=True),
    ]


def _lstm_with(order="ifgo", candidate=torch.tanh, use_input_gate=True, squash_cell=True, swap=False):
    """An LSTM step; the defaults are torch's, and each argument one of the known mistakes."""

    def answer(input, state, w_ih, w_hh, b_ih, b_hh):
        hx, cx = state
        gates = dict(zip(order, (input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh).chunk(4, -1)))
        i, f, o = (torch.sigmoid(gates[name]) for name in "ifo")
        g = candidate(gates["g"])
        c = f * cx + (i * g if use_input_gate else g)
        h = o * (torch.tanh(c) if squash_cell else c)
        return (c, h) if swap else (h, c)

    return answer


def _lstm_cell(input, state, w_ih, w_hh, b_ih, b_hh) -> tuple[torch.Tensor, torch.Tensor]:
    hx, cx = state
    i, f, g, o = (input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh).chunk(4, -1)  # torch's row order
    c = torch.sigmoid(f) * cx + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c

LSTM_STEP = Exercise(
    id="07.lstm_step",
    title="One step of an LSTM",
    kind="implement",
    points=2,
    prompt=(
        "lstm_cell(input, state, w_ih, w_hh, b_ih, b_hh) returns torch.lstm_cell(input, state, w_ih, w_hh, b_ih, "
        "b_hh), the pair (h', c') of nn.LSTMCell, for state = (hx, cx). The rows of w_ih (4H, H_in), w_hh (4H, H), "
        "b_ih and b_hh (4H,) are the input gate's, the forget gate's, the candidate's and the output gate's, in "
        "that order (i, f, g, o): each is W_i* x + b_i* + W_h* h + b_h*, through a sigmoid for i, f and o and a tanh "
        "for g; then c' = f * c + i * g and h' = o * tanh(c'). input (N, H_in) or (H_in,), hx and cx (N, H) or (H,) "
        "-> (h', c'), each like hx, in its dtype."
    ),
    reference=_lstm_cell,
    cases=_lstm_cases,
    compare=TOLERANCE,
    items=("h'", "c'"),
    forbidden=RECURRENT,
    instead=INSTEAD_CELL,
    hints=[
        "One line gives all four gates' pre-activations: input @ w_ih.T + b_ih + hx @ w_hh.T + b_hh, (N, 4H). Cut it "
        "in four along the last dimension, in torch's order i, f, g, o: .chunk(4, -1).",
        "i, f and o are gates, between 0 and 1: sigmoid. g is the candidate value to write into the cell, between "
        "-1 and 1: tanh.",
        "c' = f * cx + i * g (keep part of the old cell, write part of the candidate), h' = o * torch.tanh(c'); "
        "return (h', c').",
    ],
    wrong={
        "The gates are read in the order i, f, o, g: torch stacks the rows as input gate, forget gate, candidate, "
        "output gate (i, f, g, o), so the candidate g is the third block and o the last.": _lstm_with(order="ifog"),
        "The input and forget gates are swapped: torch's rows are i, f, g, o, the input gate's block first and the "
        "forget gate's, which scales the old cell c, second.": _lstm_with(order="figo"),
        "The new cell was not squashed: h' = o * tanh(c'). The cell state can grow beyond 1; the tanh keeps the "
        "output in (-1, 1).": _lstm_with(squash_cell=False),
        "The input gate was left out: c' = f * c + i * g, the input gate decides how much of the candidate is "
        "written into the cell.": _lstm_with(use_input_gate=False),
        "The candidate g went through a sigmoid: it is the value to write, in (-1, 1), so tanh; only the gates i, f "
        "and o use the sigmoid.": _lstm_with(candidate=torch.sigmoid),
        "(c', h') is the wrong way round: nn.LSTMCell returns (h', c'), the hidden state first.": _lstm_with(swap=True),
    },
)

EXERCISES = [GRU_STEP, LSTM_STEP]
