"""Small recurrent models for the sequence tasks of chapter 7: a recurrent layer and a linear head.

    SequenceRegressor   seq -> vector:  x (N, T, input_size) -> last hidden state h_T -> Linear -> y (N,)
    SequenceTagger      seq -> seq:     x (N, T, input_size) -> every h_t -> Linear -> y (N, T, output_size)

``cell`` picks the recurrent layer: "rnn" (tanh, ``nn.RNN``), "gru" (``nn.GRU``) or "lstm" (``nn.LSTM``), or
any class with their constructor, such as the book's ``helpers.nn.recurrent.LSTM``. The layer is built with
``batch_first=True`` and kept as ``model.rnn``, the head as ``model.head``. A layer of hidden size H on inputs
of size I has G (H (I + H) + 2 H) parameters (the input and hidden weights and torch's two bias vectors) with
G = 1 (RNN), 3 (GRU: reset, update, candidate) or 4 (LSTM: input, forget, candidate, output gates).

``forget_bias`` sets the LSTM's forget-gate bias (``helpers.nn.recurrent.set_forget_bias``): with
f_t = sigmoid(... + b_f) near 1 the cell state c_t = f_t c_{t-1} + i_t g_t is carried from step to step almost
unchanged, and so is its gradient.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.nn.recurrent import set_forget_bias

CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # blocks of H rows stacked in weight_ih_l0, weight_hh_l0 and the biases


def recurrent_layer(
    cell: str | type[nn.Module], input_size: int, hidden_size: int, num_layers: int = 1, **kwargs
) -> nn.Module:
    """torch's ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` (cell = "rnn" / "gru" / "lstm", or a class) with batch_first.

    ``kwargs`` go to the layer (nonlinearity="relu" for an RNN, dropout, bidirectional, bias, device, dtype).
    """
    if isinstance(cell, str):
        if cell.lower() not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)} (or a layer class), got {cell!r}.")
        cell = CELLS[cell.lower()]
    elif not (isinstance(cell, type) and issubclass(cell, nn.Module)):
        raise TypeError(f"cell must be 'rnn', 'gru', 'lstm' or an nn.Module class such as nn.LSTM, got {cell!r}.")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    if kwargs.get("batch_first") is False:
        raise ValueError("these models are batch first: x is (N, T, input_size); leave batch_first out.")
    kwargs["batch_first"] = True
    return cell(input_size, hidden_size, num_layers=num_layers, **kwargs)


@torch.no_grad()
def _check_input(x: torch.Tensor, input_size: int, name: str) -> None:
    if not isinstance(x, torch.Tensor) or x.ndim != 3 or x.shape[2] != input_size:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} reads a batch of sequences x: (N, T, input_size={input_size}), got {shape}. "
                         f"One sequence (T, {input_size}) is x[None].")


class _Recurrent(nn.Module):
    """The recurrent layer and what the two models share."""

    def __init__(self, input_size, hidden_size, cell, num_layers, forget_bias, kwargs):
        super().__init__()
        self.rnn = recurrent_layer(cell, input_size, hidden_size, num_layers, **kwargs)
        if forget_bias is not None:
            set_forget_bias(self.rnn, forget_bias)
        self.input_size = input_size
        self.directions = 2 if kwargs.get("bidirectional") else 1


class SequenceRegressor(_Recurrent):
    """seq -> vector: read the sequence, map the last hidden state to one number.

        h_1, ..., h_T = rnn(x_1, ..., x_T),   y = w . h_T + b        x: (N, T, input_size) -> y: (N,)

    With ``bidirectional=True`` the backward direction's last state (after reading x_T ... x_1) joins h_T, and
    the head reads 2 H numbers.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        cell: str | type[nn.Module] = "lstm",
        num_layers: int = 1,
        forget_bias: float | None = None,
        **kwargs,
    ):
        super().__init__(input_size, hidden_size, cell, num_layers, forget_bias, kwargs)
        self.head = nn.Linear(self.directions * hidden_size, 1, device=kwargs.get("device"), dtype=kwargs.get("dtype"))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, input_size) -> y: (N,)."""
        _check_input(x, self.input_size, "SequenceRegressor")
        _, state = self.rnn(x)
        h_n = state[0] if isinstance(state, tuple) else state  # an LSTM's state is (h_n, c_n)
        last = torch.cat(list(h_n[-self.directions :]), dim=1)  # the top layer's final state(s): (N, D H)
        return self.head(last).squeeze(1)


class SequenceTagger(_Recurrent):
    """seq -> seq: an output at every step, from that step's hidden state.

        h_1, ..., h_T = rnn(x_1, ..., x_T),   y_t = W h_t + b     x: (N, T, input_size) -> y: (N, T, output_size)

    For next-step prediction (a noisy sine, the next character) y_t is the guess for x_{t+1}. ``state`` is the
    layer's initial state (None: zeros); ``return_state=True`` also returns the final one, so that a generator
    can feed one step at a time: ``y, state = model(x_t, state, return_state=True)``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int = 1,
        cell: str | type[nn.Module] = "lstm",
        num_layers: int = 1,
        forget_bias: float | None = None,
        **kwargs,
    ):
        super().__init__(input_size, hidden_size, cell, num_layers, forget_bias, kwargs)
        if isinstance(output_size, bool) or not isinstance(output_size, int) or output_size < 1:
            raise ValueError(f"output_size must be a positive int, got {output_size!r}.")
        self.head = nn.Linear(self.directions * hidden_size, output_size, device=kwargs.get("device"),
                              dtype=kwargs.get("dtype"))

    def forward(self, x: torch.Tensor, state=None, return_state: bool = False):
        """x: (N, T, input_size) -> y: (N, T, output_size), and the final state if ``return_state``."""
        _check_input(x, self.input_size, "SequenceTagger")
        outputs, final = self.rnn(x, state)
        y = self.head(outputs)
        return (y, final) if return_state else y


def _unit_directions(n: int, hidden: int, like: torch.Tensor) -> torch.Tensor:
    """(N H, H): the H unit vectors, once per sequence. Backpropagated from the last state of N H copies (sequence i
    repeated H times), copy k of sequence i yields row k of sequence i's Jacobian: all H rows in one backward pass."""
    return torch.eye(hidden, dtype=like.dtype, device=like.device).repeat(n, 1)


def gradient_norms_through_time(rnn: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """How strongly the last hidden state depends on each input: ||dh_T / dx_t||_F for t = 1, ..., T.

    dh_T / dx_t is the (H x I) Jacobian of the top layer's last hidden state with respect to the input at step t;
    backpropagation through time multiplies one factor dh_s / dh_{s-1} per step between t and T, so in a plain
    RNN at initialisation the norm falls geometrically as t moves back from T. ``rnn`` is a batch-first,
    unidirectional recurrent layer (``model.rnn``); x: (N, T, I) -> norms: (N, T), one row per sequence.

    All H rows of each Jacobian come from one backward pass: every sequence is repeated H times and copy k
    backpropagates the k-th unit vector.
    """
    if not getattr(rnn, "batch_first", False) or getattr(rnn, "bidirectional", False):
        raise ValueError("gradient_norms_through_time needs a batch-first, unidirectional layer, such as model.rnn "
                         "of a SequenceRegressor or recurrent_layer(...).")
    _check_input(x, rnn.input_size, "gradient_norms_through_time")
    n, length, size = x.shape
    hidden = rnn.hidden_size
    copies = x.detach().repeat_interleave(hidden, dim=0).requires_grad_(True)  # (N H, T, I)
    with torch.enable_grad():
        outputs, _ = rnn(copies)
        h_last = outputs[:, -1]  # (N H, H): the top layer's h_T for every copy
        (grad,) = torch.autograd.grad(h_last, copies, grad_outputs=_unit_directions(n, hidden, h_last))
    return grad.reshape(n, hidden, length, size).permute(0, 2, 1, 3).flatten(2).norm(dim=2)


def cell_gradient_norms(lstm: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """How much of the first cell state survives to the last: ||dc_T / dc_0||_F, one number per sequence.

    dc_T / dc_0 is the (H x H) Jacobian of a one-layer LSTM's last cell state with respect to its initial one
    (h_0 = c_0 = 0). Along the direct path c_t = f_t c_{t-1} + i_t g_t it is the product of the forget gates,
    so with a forget-gate bias b it is about sigma(b)^T times the identity at initialisation. ``lstm`` is a
    batch-first, one-layer, unidirectional ``nn.LSTM`` (or the book's); x: (N, T, I) -> norms: (N,).
    All H rows come from one backward pass, as in ``gradient_norms_through_time``.
    """
    if not getattr(lstm, "batch_first", False) or getattr(lstm, "bidirectional", False) or lstm.num_layers != 1:
        raise ValueError("cell_gradient_norms needs a batch-first, one-layer, unidirectional LSTM, such as "
                         "recurrent_layer('lstm', ...).")
    _check_input(x, lstm.input_size, "cell_gradient_norms")
    n, hidden = x.shape[0], lstm.hidden_size
    h0 = x.new_zeros(1, n * hidden, hidden)
    c0 = x.new_zeros(1, n * hidden, hidden).requires_grad_(True)
    with torch.enable_grad():
        _, (_, c_n) = lstm(x.detach().repeat_interleave(hidden, dim=0), (h0, c0))
        (grad,) = torch.autograd.grad(c_n[0], c0, grad_outputs=_unit_directions(n, hidden, c_n))
    return grad[0].reshape(n, -1).norm(dim=1)
