"""Recurrent networks, as ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` and their cells, in plain torch.

``cells``: one time step, ``rnn_cell``, ``gru_cell``, ``lstm_cell`` (torch's equations and gate orders; the
docstring says where papers differ) and ``peephole_lstm_cell``. ``functional``: one layer, one direction,
over a whole sequence (``rnn_layer``, ``gru_layer``, ``lstm_layer``): the input projection for all steps at
once, then the loop over time of ``bptt`` (``*_forward``), and backpropagation through time written out
(``*_backward``). ``layers``: ``RNN``, ``GRU``, ``LSTM`` with torch's constructors and parameter names, so
that ``ours.load_state_dict(theirs.state_dict())`` works, and ``set_forget_bias``.
"""

from helpers.nn.recurrent.bptt import gru_backward, gru_forward, lstm_backward, lstm_forward, rnn_backward, rnn_forward
from helpers.nn.recurrent.cells import gru_cell, lstm_cell, peephole_lstm_cell, rnn_cell
from helpers.nn.recurrent.functional import gru_layer, lstm_layer, rnn_layer
from helpers.nn.recurrent.layers import GRU, LSTM, RNN, set_forget_bias

__all__ = ["GRU", "LSTM", "RNN", "gru_backward", "gru_cell", "gru_forward", "gru_layer", "lstm_backward",
           "lstm_cell", "lstm_forward", "lstm_layer", "peephole_lstm_cell", "rnn_backward", "rnn_cell",
           "rnn_forward", "rnn_layer", "set_forget_bias"]
