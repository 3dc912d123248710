"""What the chapter 7 exercises share: the recurrent cells and layers they forbid, under every name an answer can
reach them by, and the random weights of a cell laid out as torch lays them out."""

from __future__ import annotations

import torch

# torch's own recurrent cells and layers, as functions: in the torch namespace (torch._VF holds the same objects)
_CELLS = ("rnn_tanh_cell", "rnn_relu_cell", "gru_cell", "lstm_cell")
_LAYERS = ("rnn_tanh", "rnn_relu", "gru", "lstm")
_QUANTIZED = ("quantized_rnn_tanh_cell", "quantized_rnn_relu_cell", "quantized_gru_cell", "quantized_lstm_cell")
# torch.ops.aten.<op> and each of its overloads (.default, .input, .data) are separate objects to the checker.
_ATEN = (
    *(f"torch.ops.aten.{op}{overload}" for op in (*_CELLS, *_QUANTIZED) for overload in ("", ".default")),
    *(f"torch.ops.aten.{op}{overload}" for op in _LAYERS for overload in ("", ".input", ".data")),
    "torch.ops.aten.mkldnn_rnn_layer", "torch.ops.aten.mkldnn_rnn_layer.default",
)
RECURRENT_FUNCTIONS = (
    *(f"torch.{name}" for name in (*_CELLS, *_LAYERS, *_QUANTIZED, "mkldnn_rnn_layer")),
    *(f"torch._VF.{name}" for name in (*_CELLS, *_LAYERS)),
    *_ATEN,
)
# The modules: nn's, the base class that nn.RNN, nn.GRU and nn.LSTM are made of, and the quantization toolkit's
# float LSTM (written in Python) and dynamic cells.
RECURRENT_MODULES = (
    "torch.nn.RNNCell", "torch.nn.GRUCell", "torch.nn.LSTMCell", "torch.nn.RNN", "torch.nn.GRU", "torch.nn.LSTM",
    "torch.nn.RNNBase", "torch.ao.nn.quantizable.LSTMCell", "torch.ao.nn.quantizable.LSTM",
    *(f"torch.ao.nn.quantized.dynamic.{name}" for name in ("RNNCell", "GRUCell", "LSTMCell", "GRU", "LSTM")),
)
# The book's own (helpers.nn.recurrent): its cells, the loops over time that run them (one step of a sequence is a
# cell), their backward passes, and its layers.
BOOKS_BACKWARD = tuple(f"helpers.nn.recurrent.{kind}_backward" for kind in ("rnn", "gru", "lstm"))
BOOKS_RECURRENT = (
    *(f"helpers.nn.recurrent.{name}" for name in ("rnn_cell", "gru_cell", "lstm_cell", "peephole_lstm_cell")),
    *(f"helpers.nn.recurrent.{kind}_{part}" for kind in ("rnn", "gru", "lstm") for part in ("forward", "layer")),
    *BOOKS_BACKWARD, "helpers.nn.recurrent.RNN", "helpers.nn.recurrent.GRU", "helpers.nn.recurrent.LSTM",
)
# What a cell written by hand may not call: any recurrent cell or layer, torch's or the book's.
RECURRENT = (*RECURRENT_FUNCTIONS, *RECURRENT_MODULES, *BOOKS_RECURRENT)

INSTEAD_CELL = ("Write the step with matrix products (@ and .T, or F.linear), torch.sigmoid and torch.tanh: no "
                "recurrent cell or layer, torch's or the book's.")


def cell_weights(generator: torch.Generator, gates: int, input_size: int, hidden_size: int, dtype: torch.dtype,
                 scale: float = 1.0) -> tuple[torch.Tensor, ...]:
    """(w_ih (gates H, H_in), w_hh (gates H, H), b_ih (gates H,), b_hh (gates H,)) drawn from N(0, scale^2 / H):
    the layout of nn.RNNCell (1 gate), nn.GRUCell (3) and nn.LSTMCell (4), at a size where the gates neither
    saturate nor vanish, so every mistake shows."""
    std = scale / hidden_size**0.5
    rows = gates * hidden_size
    shapes = ((rows, input_size), (rows, hidden_size), (rows,), (rows,))
    return tuple(std * torch.randn(*shape, generator=generator, dtype=dtype) for shape in shapes)
