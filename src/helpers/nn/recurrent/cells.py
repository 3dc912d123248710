"""One time step of a plain RNN, a GRU and an LSTM, as torch computes them, and a peephole LSTM step.

The signatures are torch's private ``torch._VF.rnn_tanh_cell`` / ``gru_cell`` / ``lstm_cell`` (what
``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell`` call), with the weights passed in::

    x: (N, H_in) or (H_in,), h, c: (N, H) or (H,), w_ih: (G H, H_in), w_hh: (G H, H), b_ih, b_hh: (G H,) or None

where G is the number of gate blocks stacked in the weights: 1 (RNN), 3 (GRU: r, z, n), 4 (LSTM: i, f, g, o).
Torch keeps two bias vectors (cuDNN's convention); in the RNN and the LSTM only their sum matters, in the
GRU the hidden bias of the candidate n sits inside the reset gate's product, so there the two differ.

Plain RNN (Elman), with nonlinearity phi = tanh or relu::

    h' = phi(x W_ih^T + b_ih + h W_hh^T + b_hh)

GRU, torch's equations (``nn.GRU``'s docstring), sigma the logistic sigmoid, * elementwise::

    r  = sigma(x W_ir^T + b_ir + h W_hr^T + b_hr)            reset gate
    z  = sigma(x W_iz^T + b_iz + h W_hz^T + b_hz)            update gate
    n  = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))       candidate: the reset AFTER the matmul
    h' = (1 - z) * n + z * h                                 z = 1 keeps the old state

Where the literature differs: Cho et al. (2014), who introduced the unit, reset the state BEFORE the matmul,
n = tanh(x W_in^T + (r * h) W_hn^T + b), and so do Goodfellow et al. (2016, sec. 10.10.2) and d2l.ai: not the
same function. Torch, cuDNN and Keras (``reset_after=True``, its default) use the form above, which lets the
h W_hh^T matmuls of all three gates run as one. And some (Chung et al. 2014, Wikipedia) write
h' = z * n + (1 - z) * h, with z and 1 - z swapped: the same family of functions with the update gate's
weights and biases negated (sigma(-a) = 1 - sigma(a)); Cho et al., Goodfellow et al. and torch keep the old
state with z.

LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000), gates in torch's order
i, f, g, o, the rows of w_ih and w_hh in four blocks of H::

    i  = sigma(x W_ii^T + b_ii + h W_hi^T + b_hi)            input gate
    f  = sigma(x W_if^T + b_if + h W_hf^T + b_hf)            forget gate
    g  = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)             candidate cell
    o  = sigma(x W_io^T + b_io + h W_ho^T + b_ho)            output gate
    c' = f * c + i * g                                       the cell state: a sum, not a squashing
    h' = o * tanh(c')

Keras stores the blocks as i, f, c, o in (H_in, 4 H) kernels (transposed); cuDNN's order is torch's. The
forget gate's bias is the slice [H : 2H] of b_ih and of b_hh (``layers.set_forget_bias``).

The peephole LSTM (Gers & Schmidhuber 2000) lets the gates see the cell state through diagonal weights
w_peep = (p_i, p_f, p_o), (3, H): i and f see the previous cell c, o sees the new cell c'::

    i  = sigma(... + p_i * c),   f = sigma(... + p_f * c),   c' = f * c + i * g,   o = sigma(... + p_o * c')

Torch has no peephole LSTM; with w_peep = 0 it is ``lstm_cell``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["gru_cell", "lstm_cell", "peephole_lstm_cell", "rnn_cell"]

NONLINEARITIES = {"tanh": torch.tanh, "relu": torch.relu}


def _check(where: str, gates: int, input: torch.Tensor, states: tuple[torch.Tensor, ...], w_ih: torch.Tensor,
           w_hh: torch.Tensor, b_ih: torch.Tensor | None, b_hh: torch.Tensor | None) -> None:
    """Shapes as torch checks them (and a little more), with what to do."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{where}: Expected input to be 1D or 2D, got {input.ndim}D instead. One step of a batch is "
                         "(N, H_in); for a whole sequence (T, N, H_in) use the layer (RNN, GRU, LSTM).")
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_hh.shape[0] % gates or w_ih.shape[0] != w_hh.shape[0]:
        raise ValueError(f"{where}: expected w_ih ({gates} H, H_in) and w_hh ({gates} H, H), the {gates} gate blocks "
                         f"stacked, got {list(w_ih.shape)} and {list(w_hh.shape)}.")
    hidden = w_hh.shape[0] // gates
    if w_hh.shape[1] != hidden:
        raise ValueError(f"{where}: w_hh must be ({gates} H, H), got {list(w_hh.shape)}: its columns multiply h.")
    if input.shape[-1] != w_ih.shape[1]:
        raise ValueError(f"{where}: input has inconsistent input_size: got {input.shape[-1]} expected "
                         f"{w_ih.shape[1]} (w_ih's columns). Check the (N, H_in) order.")
    for k, state in enumerate(states):
        if state.ndim != input.ndim:
            raise ValueError(f"{where}: for {input.ndim}-D input, hx should also be {input.ndim}-D but got "
                             f"{state.ndim}-D: (N, H) with a batch, (H,) without.")
        if state.shape[-1] != hidden:
            raise ValueError(f"{where}: hidden{k} has inconsistent hidden_size: got {state.shape[-1]}, expected "
                             f"{hidden} (w_hh's columns).")
        if input.ndim == 2 and state.shape[0] != input.shape[0]:
            raise ValueError(f"{where}: Input batch size {input.shape[0]} doesn't match hidden{k} batch size "
                             f"{state.shape[0]}: one state per example.")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (gates * hidden,):
            raise ValueError(f"{where}: {name} must be ({gates} H,) = ({gates * hidden},), got {list(b.shape)}.")


def rnn_cell(
    input: torch.Tensor,
    hx: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    nonlinearity: str = "tanh",
) -> torch.Tensor:
    """h' = phi(x W_ih^T + b_ih + h W_hh^T + b_hh), phi = tanh or relu: ``nn.RNNCell``'s step.

    input: (N, H_in) or (H_in,), hx: (N, H) or (H,), w_ih: (H, H_in), w_hh: (H, H) -> h': like hx.
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"Unknown nonlinearity: {nonlinearity!r}. Select from 'tanh' or 'relu'.")
    _check("rnn_cell", 1, input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return NONLINEARITIES[nonlinearity](F.linear(input, w_ih, b_ih) + F.linear(hx, w_hh, b_hh))


def gru_cell(
    input: torch.Tensor,
    hx: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> torch.Tensor:
    """One GRU step as torch computes it: the reset gate after the matmul, h' = (1 - z) n + z h. ``nn.GRUCell``.

    input: (N, H_in) or (H_in,), hx: (N, H) or (H,), w_ih: (3 H, H_in), w_hh: (3 H, H), rows r, z, n -> h'.
    """
    _check("gru_cell", 3, input, (hx,), w_ih, w_hh, b_ih, b_hh)
    x_r, x_z, x_n = F.linear(input, w_ih, b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(hx, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(x_r + h_r)
    z = torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * hx


def _lstm_states(where: str, hx) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError(f"{where}: hx must be the pair (h, c), the hidden and the cell state, got {type(hx).__name__}.")
    return hx[0], hx[1]


def lstm_cell(
    input: torch.Tensor,
    hx: tuple[torch.Tensor, torch.Tensor],
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step, gates in torch's order i, f, g, o: c' = f c + i g, h' = o tanh(c'). ``nn.LSTMCell``.

    input: (N, H_in) or (H_in,), hx = (h, c), each (N, H) or (H,), w_ih: (4 H, H_in), w_hh: (4 H, H)
    -> (h', c').
    """
    h, c = _lstm_states("lstm_cell", hx)
    _check("lstm_cell", 4, input, (h, c), w_ih, w_hh, b_ih, b_hh)
    i, f, g, o = (F.linear(input, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c


def peephole_lstm_cell(
    input: torch.Tensor,
    hx: tuple[torch.Tensor, torch.Tensor],
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    w_peep: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """An LSTM step whose gates also see the cell (Gers & Schmidhuber 2000): i, f see c, o sees the new c'.

    As ``lstm_cell``, plus w_peep: (3, H), the diagonal peephole weights (p_i, p_f, p_o). w_peep = 0 is
    ``lstm_cell``. Not in torch.
    """
    h, c = _lstm_states("peephole_lstm_cell", hx)
    _check("peephole_lstm_cell", 4, input, (h, c), w_ih, w_hh, b_ih, b_hh)
    if tuple(w_peep.shape) != (3, w_hh.shape[1]):
        raise ValueError(f"peephole_lstm_cell: w_peep must be (3, H) = (3, {w_hh.shape[1]}), the diagonal weights "
                         f"(p_i, p_f, p_o) as rows, got {list(w_peep.shape)}.")
    p_i, p_f, p_o = w_peep
    i, f, g, o = (F.linear(input, w_ih, b_ih) + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    i = torch.sigmoid(i + p_i * c)
    f = torch.sigmoid(f + p_f * c)
    c = f * c + torch.tanh(g) * i
    o = torch.sigmoid(o + p_o * c)
    h = o * torch.tanh(c)
    return h, c
