"""``RNN``, ``GRU`` and ``LSTM`` as ``nn.Module``s with torch's constructors, parameter names and results.

    input: (T, N, H_in), (N, T, H_in) with batch_first, or (T, H_in) unbatched
    hx:    (D L, N, H), or (D L, H) unbatched; for the LSTM the pair (h_0, c_0); zeros when not given
    ->     output: (T, N, D H) (batch_first: (N, T, D H)): the last layer's h_t, the directions concatenated
           h_n (and c_n): (D L, N, H), every layer's and direction's final state, row layer * D + direction

with L = num_layers, D = 2 if bidirectional else 1 and G = 1 (RNN), 3 (GRU), 4 (LSTM) gate blocks. Layer l
has weight_ih_l{l}: (G H, H_in if l = 0 else D H), weight_hh_l{l}: (G H, H), bias_ih_l{l}, bias_hh_l{l}:
(G H,), and the same with the suffix _reverse for the backward direction: torch's names and shapes, so
``load_state_dict`` works both ways. All are drawn from U(-1/sqrt(H), 1/sqrt(H)) in torch's order, so with the
same seed they are torch's very values.

Each layer and direction is one call of ``functional.rnn_layer`` / ``gru_layer`` / ``lstm_layer``: the input
projection xi = x W_ih^T + b_ih for all T steps in one matmul, then the loop over time, and backpropagation
through time written out (``bptt``). The backward direction runs on the time-reversed input, and its outputs
are reversed back: the output at t is (forward h_t, backward h_t), the backward state having read x_T, ...,
x_t. Between layers (not after the last), in training only, dropout with probability ``dropout`` on each
layer's output, as torch. Its masks come from torch's random generator but are not drawn as torch draws
them: with the same seed they differ from ``nn.LSTM``'s (their distribution is the same); in eval mode the
layers equal torch's.

Not here: ``proj_size`` > 0 (an LSTM with a projected state), ``PackedSequence`` inputs (pad the batch
instead), cuDNN.

``set_forget_bias`` sets the LSTM's forget-gate bias, the slice [H : 2H] of every bias_ih and bias_hh.
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
from torch import nn

from helpers.nn.dropout import dropout as _dropout
from helpers.nn.recurrent.functional import gru_layer, lstm_layer, rnn_layer

__all__ = ["GRU", "LSTM", "RNN", "set_forget_bias"]

State = tuple[torch.Tensor, ...]  # (h,) or, for the LSTM, (h, c)


def _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout) -> None:
    """torch's checks of the constructor's arguments, with torch's messages and what to do."""
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1:
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         f"being zeroed, got {dropout!r}.")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=3)
    for name, value in (("bias", bias), ("batch_first", batch_first)):
        if not isinstance(value, bool):
            raise TypeError(f"{name} should be of type bool, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be greater than zero, got {value}.")


class _RNNBase(nn.Module):
    """The parameters, the checks and the loop over layers and directions; a subclass runs one direction."""

    gates = 1  # G: the gate blocks stacked in the weights

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, bias: bool, batch_first: bool,
                 dropout: float, bidirectional: bool, device, dtype) -> None:
        super().__init__()
        _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bool(bidirectional), 0
        self._all_weights = []  # the parameters' names per layer and direction, as torch's
        for layer in range(num_layers):
            for direction in range(self.directions):
                width = input_size if layer == 0 else self.directions * hidden_size
                shapes = {"weight_ih": (self.gates * hidden_size, width),
                          "weight_hh": (self.gates * hidden_size, hidden_size)}
                if bias:
                    shapes |= {"bias_ih": (self.gates * hidden_size,), "bias_hh": (self.gates * hidden_size,)}
                names = []
                for kind, shape in shapes.items():
                    names.append(f"{kind}_l{layer}{'_reverse' if direction else ''}")
                    self.register_parameter(names[-1], nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """[weight_ih, weight_hh, bias_ih, bias_hh] of each layer and direction, as ``nn.LSTM.all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(H), 1/sqrt(H)), drawn in the order of ``parameters()``, as torch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def flatten_parameters(self) -> None:
        """Nothing to do: torch packs the weights for cuDNN here. Kept so that code written for torch runs."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0, "bidirectional": False}
        return s + "".join(f", {k}={getattr(self, k)}" for k, v in defaults.items() if getattr(self, k) != v)

    def _layer(self, x: torch.Tensor, state: State, weights: list[torch.Tensor]) -> tuple[torch.Tensor, State]:
        """One layer, one direction, over the sequence x (T, N, H_in) -> (output (T, N, H), final state)."""
        raise NotImplementedError

    def _states(self, input: torch.Tensor, hx) -> tuple[torch.Tensor, ...]:
        """The initial states as (h0,) or (h0, c0), each (D L, N, H), checked as torch does."""
        name, batched = type(self).__name__, input.ndim == 3
        shape = (self.num_layers * self.directions, input.shape[0 if self.batch_first else 1] if batched else 1,
                 self.hidden_size)
        count = 2 if isinstance(self, LSTM) else 1
        if hx is None:
            return (torch.zeros(shape, dtype=input.dtype, device=input.device),) * count
        states = tuple(hx) if count == 2 and isinstance(hx, (tuple, list)) else (hx,)
        if len(states) != count or not all(isinstance(s, torch.Tensor) for s in states):
            raise TypeError(f"{name}: hx must be " + ("the pair (h_0, c_0) of tensors" if count == 2 else "a tensor")
                            + f", got {type(hx).__name__}.")
        for k, s in enumerate(states):
            if s.ndim != input.ndim:
                raise ValueError(f"For {'batched 3' if batched else 'unbatched 2'}-D input, hx should also be "
                                 f"{input.ndim}-D but got {s.ndim}-D tensor: (num_layers * num_directions, N, "
                                 "hidden_size), without the N for an unbatched input.")
            s = s if batched else s.unsqueeze(1)
            if tuple(s.shape) != shape:
                which = f"hidden[{k}]" if count == 2 else "hidden"
                raise ValueError(f"Expected {which} size {shape if batched else (shape[0], shape[2])}, got "
                                 f"{list(states[k].shape)}: one row per layer and direction (layer * D + direction)"
                                 f", then the batch, then hidden_size.")
        return tuple(s if batched else s.unsqueeze(1) for s in states)

    def _check_input(self, input) -> None:
        name = type(self).__name__
        if isinstance(input, nn.utils.rnn.PackedSequence):
            raise TypeError(f"{name}: PackedSequence inputs are not supported here: pad the sequences to one length "
                            "(nn.utils.rnn.pad_packed_sequence) and pass the tensor, or use torch.nn." + name)
        if not isinstance(input, torch.Tensor):
            raise TypeError(f"{name}: input must be a tensor (T, N, H_in), got {type(input).__name__}.")
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead: (T, N, H_in), "
                             "(N, T, H_in) with batch_first=True, or (T, H_in) for one sequence.")
        if input.dtype != self.weight_ih_l0.dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({self.weight_ih_l0.dtype})"
                             f". Convert input: input.to({self.weight_ih_l0.dtype}), or convert model: "
                             f"model.to({input.dtype})")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                             f"{input.shape[-1]}: the features are the last dimension.")
        if input.shape[1 if self.batch_first and input.ndim == 3 else 0] == 0:
            raise ValueError("Expected sequence length to be larger than 0 in RNN.")

    def forward(self, input: torch.Tensor, hx=None):
        """input (T, N, H_in) -> (output (T, N, D H), h_n (D L, N, H)), or (output, (h_n, c_n)) for the LSTM."""
        self._check_input(input)
        states = self._states(input, hx)
        x = input if input.ndim == 2 else (input.transpose(0, 1) if self.batch_first else input)
        x = x if input.ndim == 3 else x.unsqueeze(1)  # (T, N, H_in)
        finals = []
        for layer in range(self.num_layers):
            if layer > 0:  # dropout on each layer's output but the last
                x = _dropout(x, self.dropout, self.training)
            outputs = []
            for direction in range(self.directions):
                k = layer * self.directions + direction
                state = tuple(s[k] for s in states)
                output, state = self._layer(x if direction == 0 else x.flip(0), state, self.all_weights[k])
                outputs.append(output if direction == 0 else output.flip(0))
                finals.append(state)
            x = outputs[0] if self.directions == 1 else torch.cat(outputs, dim=2)
        final = tuple(torch.stack(s) for s in zip(*finals))  # (h_n,) or (h_n, c_n), each (D L, N, H)
        if input.ndim == 2:
            x, final = x.squeeze(1), tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, (final if len(final) == 2 else final[0])


class RNN(_RNNBase):
    """Elman RNN, ``nn.RNN``: h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), phi = tanh or relu.

    input (T, N, H_in) -> (output (T, N, D H), h_n (D L, N, H)); see the module's docstring.
    """

    gates = 1

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
                         dtype)

    def _layer(self, x, state, weights):
        w_ih, w_hh, *biases = weights
        output, h = rnn_layer(x, state[0], w_ih, w_hh, *(biases or (None, None)), nonlinearity=self.nonlinearity)
        return output, (h,)


class GRU(_RNNBase):
    """GRU, ``nn.GRU``, gates r, z, n, the reset after the matmul, h_t = (1 - z) n + z h_{t-1} (``cells``).

    input (T, N, H_in) -> (output (T, N, D H), h_n (D L, N, H)); see the module's docstring.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
                         dtype)

    def _layer(self, x, state, weights):
        output, h = gru_layer(x, state[0], *weights)
        return output, (h,)


class LSTM(_RNNBase):
    """LSTM, ``nn.LSTM``, gates i, f, g, o: c_t = f c_{t-1} + i g, h_t = o tanh(c_t) (``cells``).

    input (T, N, H_in), hx = (h_0, c_0) -> (output (T, N, D H), (h_n, c_n)), each (D L, N, H).
    proj_size must be 0.
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None) -> None:
        if proj_size != 0:
            _check_arguments(input_size, hidden_size, num_layers, bias, batch_first, dropout)  # in torch's order
            if proj_size < 0:
                raise ValueError("proj_size should be a positive integer or zero to disable projections")
            if proj_size >= hidden_size:
                raise ValueError("proj_size has to be smaller than hidden_size")
            raise NotImplementedError(f"LSTM(proj_size={proj_size}): the projected state h_t = W_hr (o * tanh(c_t)) "
                                      "(Sak et al. 2014) is not implemented here. Use torch.nn.LSTM(..., proj_size="
                                      f"{proj_size}), or proj_size=0 (a smaller hidden_size, or a Linear layer on "
                                      "the outputs, which is not the same model).")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, device,
                         dtype)

    def _layer(self, x, state, weights):
        return lstm_layer(x, state, *weights)


def set_forget_bias(lstm: nn.Module, value: float) -> nn.Module:
    """Make every forget gate's bias ``value``: b_if = value, b_hf = 0 (only their sum counts). Returns ``lstm``.

    For ``LSTM``, ``nn.LSTM`` and ``nn.LSTMCell``: the slice [H : 2H] (the gate order is i, f, g, o) of every
    ``bias_ih*`` and ``bias_hh*``. With weights and state near 0, f = sigma(value): 1 keeps 73% of the cell
    per step, 3 keeps 95% (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1), so gradients through the
    cell state survive many steps at initialisation. Torch's default is the sum of two U(-1/sqrt(H), 1/sqrt(H))
    draws, about 0: f = 1/2, and the gradient halves at every step.
    """
    hidden = getattr(lstm, "hidden_size", None)
    biases = {name: p for name, p in lstm.named_parameters() if name.startswith(("bias_ih", "bias_hh"))}
    if not biases:
        raise ValueError(f"{type(lstm).__name__} has no bias_ih/bias_hh parameters (bias=False?): there is no "
                         "forget-gate bias to set. Build it with bias=True.")
    if hidden is None or any(p.shape != (4 * hidden,) for p in biases.values()):
        raise ValueError(f"set_forget_bias expects an LSTM (biases of 4 H = 4 x {hidden} entries, gates i, f, g, o), "
                         f"got {type(lstm).__name__} with biases of shapes {[list(p.shape) for p in biases.values()]}.")
    with torch.no_grad():
        for name, p in biases.items():
            p[hidden:2 * hidden] = value if name.startswith("bias_ih") else 0.0
    return lstm
