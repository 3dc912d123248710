"""One recurrent layer, one direction, over a whole sequence: the cells' arguments with a time axis.

    input: (T, N, H_in), h0, c0: (N, H), w_ih: (G H, H_in), w_hh: (G H, H), b_ih, b_hh: (G H,) or None
    rnn_layer(input, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity)  -> (output, h_T)
    gru_layer(input, h0, w_ih, w_hh, b_ih, b_hh)                -> (output, h_T)
    lstm_layer(input, (h0, c0), w_ih, w_hh, b_ih, b_hh)         -> (output, (h_T, c_T))
    output: (T, N, H), the states h_1 ... h_T

Each computes the input projection xi = x W_ih^T + b for all T steps in one matmul, then runs the loop of
``bptt`` (``*_forward``); its backward pass is ``bptt``'s ``*_backward`` followed by the projection's
gradients, each again one matmul over all T N rows. For the RNN and the LSTM only b_ih + b_hh matters, so
both go into xi; in the GRU the candidate's b_hn is multiplied by the reset gate, so it stays in the loop.
Under ``create_graph=True`` (a gradient of a gradient) the backward pass differentiates a loop over the
cells with autograd instead, so that second derivatives are right too.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.nn.recurrent.bptt import (
    gru_backward,
    gru_forward,
    lstm_backward,
    lstm_forward,
    rnn_backward,
    rnn_forward,
    weight_grad,
)
from helpers.nn.recurrent.cells import NONLINEARITIES, gru_cell, lstm_cell, rnn_cell

__all__ = ["gru_layer", "lstm_layer", "rnn_layer"]


def _bias(b_ih: torch.Tensor | None, b_hh: torch.Tensor | None) -> torch.Tensor | None:
    return b_hh if b_ih is None else (b_ih if b_hh is None else b_ih + b_hh)


def _for_biases(grad, b_ih: torch.Tensor | None, b_hh: torch.Tensor | None) -> tuple:
    """(dL/db_ih, dL/db_hh): grad for both (or the pair grad), None for a bias that is None."""
    grad_ih, grad_hh = grad if isinstance(grad, tuple) else (grad, grad)
    return (None if b_ih is None else grad_ih), (None if b_hh is None else grad_hh)


def _projection_backward(grad_xi: torch.Tensor, input: torch.Tensor, w_ih: torch.Tensor, needs: tuple[bool, ...]
                         ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
    """xi = x W_ih^T + b over all T N rows: (dL/dx = dL/dxi W_ih, dL/dW_ih = dL/dxi^T x, dL/db = sum dL/dxi)."""
    grad_input = (grad_xi.flatten(0, 1) @ w_ih).view(input.shape) if needs[0] else None
    grad_w_ih = weight_grad(grad_xi, input) if needs[1] else None
    return grad_input, grad_w_ih, (grad_xi.sum((0, 1)) if needs[2] else None)


def _autograd(forward, inputs: tuple, grads: tuple) -> tuple:
    """The gradients of forward(*inputs) by autograd, keeping the graph (create_graph=True): a second derivative."""
    wanted = [x for x in inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    with torch.enable_grad():
        found = iter(torch.autograd.grad(forward(*inputs), wanted, grads, create_graph=True, allow_unused=True))
    return tuple(next(found) if isinstance(x, torch.Tensor) and x.requires_grad else None for x in inputs)


def _cell_loop(cell, input: torch.Tensor, state, *weights, **options) -> tuple[torch.Tensor, ...]:
    """The layer as a loop over the (differentiable) cell, for second derivatives: (output, final state...)."""
    output = []
    for x_t in input.unbind(0):
        state = cell(x_t, state, *weights, **options)
        output.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(output), *(state if isinstance(state, tuple) else (state,))


class _RNNLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity):
        output = rnn_forward(F.linear(input, w_ih, _bias(b_ih, b_hh)), h0, w_hh, nonlinearity)
        ctx.save_for_backward(input, h0, w_ih, w_hh, b_ih, b_hh, output)
        ctx.nonlinearity = nonlinearity
        return output, output[-1].clone()

    @staticmethod
    def backward(ctx, grad_output, grad_h_n):
        input, h0, w_ih, w_hh, b_ih, b_hh, output = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True
            def forward(*args):
                return _cell_loop(rnn_cell, *args, nonlinearity=ctx.nonlinearity)
            return (*_autograd(forward, (input, h0, w_ih, w_hh, b_ih, b_hh), (grad_output, grad_h_n)), None)
        grad_xi, grad_h0, grad_w_hh = rnn_backward(grad_output, grad_h_n, h0, w_hh, output, ctx.nonlinearity)
        needs = ctx.needs_input_grad
        grad_input, grad_w_ih, grad_b = _projection_backward(grad_xi, input, w_ih, (needs[0], needs[2], True))
        return grad_input, grad_h0, grad_w_ih, grad_w_hh, *_for_biases(grad_b, b_ih, b_hh), None


class _LSTMLayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, h0, c0, w_ih, w_hh, b_ih, b_hh):
        saved = lstm_forward(F.linear(input, w_ih, _bias(b_ih, b_hh)), h0, c0, w_hh)
        ctx.save_for_backward(input, h0, c0, w_ih, w_hh, b_ih, b_hh, *saved)
        output, cells = saved[:2]
        return output, output[-1].clone(), cells[-1].clone()

    @staticmethod
    def backward(ctx, grad_output, grad_h_n, grad_c_n):
        input, h0, c0, w_ih, w_hh, b_ih, b_hh, *saved = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True
            def forward(input, h0, c0, *weights):
                return _cell_loop(lstm_cell, input, (h0, c0), *weights)
            return _autograd(forward, (input, h0, c0, w_ih, w_hh, b_ih, b_hh), (grad_output, grad_h_n, grad_c_n))
        grad_xi, grad_h0, grad_c0, grad_w_hh = lstm_backward(grad_output, grad_h_n, grad_c_n, h0, c0, w_hh, *saved)
        needs = ctx.needs_input_grad
        grad_input, grad_w_ih, grad_b = _projection_backward(grad_xi, input, w_ih, (needs[0], needs[3], True))
        return grad_input, grad_h0, grad_c0, grad_w_ih, grad_w_hh, *_for_biases(grad_b, b_ih, b_hh)


class _GRULayer(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, h0, w_ih, w_hh, b_ih, b_hh):
        output, gates, hidden_n = gru_forward(F.linear(input, w_ih, b_ih), h0, w_hh, b_hh)
        ctx.save_for_backward(input, h0, w_ih, w_hh, b_ih, b_hh, output, gates, hidden_n)
        return output, output[-1].clone()

    @staticmethod
    def backward(ctx, grad_output, grad_h_n):
        input, h0, w_ih, w_hh, b_ih, b_hh, output, gates, hidden_n = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True
            def forward(*args):
                return _cell_loop(gru_cell, *args)
            return _autograd(forward, (input, h0, w_ih, w_hh, b_ih, b_hh), (grad_output, grad_h_n))
        grad_xi, grad_h0, grad_w_hh, grad_b_hh = gru_backward(grad_output, grad_h_n, h0, w_hh, output, gates,
                                                              hidden_n)
        needs = ctx.needs_input_grad
        grad_input, grad_w_ih, grad_b_ih = _projection_backward(grad_xi, input, w_ih, (needs[0], needs[2], True))
        return grad_input, grad_h0, grad_w_ih, grad_w_hh, *_for_biases((grad_b_ih, grad_b_hh), b_ih, b_hh)


def _check(where: str, gates: int, input: torch.Tensor, states: tuple, w_ih: torch.Tensor, w_hh: torch.Tensor,
           b_ih: torch.Tensor | None, b_hh: torch.Tensor | None) -> None:
    hidden = w_hh.shape[-1]
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * hidden or w_ih.ndim != 2 or w_ih.shape[0] != gates * hidden:
        raise ValueError(f"{where}: w_ih must be ({gates} H, H_in) and w_hh ({gates} H, H), the {gates} gate blocks "
                         f"stacked, got {list(w_ih.shape)} and {list(w_hh.shape)}.")
    if input.ndim != 3 or input.shape[0] == 0 or input.shape[2] != w_ih.shape[1]:
        raise ValueError(f"{where}: input must be (T, N, H_in) = (T, N, {w_ih.shape[1]}) with T > 0, got "
                         f"{list(input.shape)}. For one sequence use input[:, None].")
    for state in states:
        if tuple(state.shape) != (input.shape[1], hidden):
            raise ValueError(f"{where}: the initial states must be (N, H) = ({input.shape[1]}, {hidden}), got "
                             f"{list(state.shape)}.")
    for name, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and tuple(b.shape) != (gates * hidden,):
            raise ValueError(f"{where}: {name} must be ({gates} H,) = ({gates * hidden},), got {list(b.shape)}.")


def rnn_layer(input: torch.Tensor, hx: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None, nonlinearity: str = "tanh"
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """``rnn_cell`` over t = 1..T: input (T, N, H_in), hx (N, H) -> (output (T, N, H), h_T (N, H))."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"Unknown nonlinearity {nonlinearity!r}. Select from 'tanh' or 'relu'.")
    _check("rnn_layer", 1, input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return _RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, nonlinearity)


def lstm_layer(input: torch.Tensor, hx: tuple[torch.Tensor, torch.Tensor], w_ih: torch.Tensor, w_hh: torch.Tensor,
               b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """``lstm_cell`` over t = 1..T: input (T, N, H_in), hx = (h0, c0), each (N, H) -> (output (T, N, H), (h_T, c_T))."""
    h0, c0 = hx
    _check("lstm_layer", 4, input, (h0, c0), w_ih, w_hh, b_ih, b_hh)
    output, h_n, c_n = _LSTMLayer.apply(input, h0, c0, w_ih, w_hh, b_ih, b_hh)
    return output, (h_n, c_n)


def gru_layer(input: torch.Tensor, hx: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``gru_cell`` over t = 1..T: input (T, N, H_in), hx (N, H) -> (output (T, N, H), h_T (N, H))."""
    _check("gru_layer", 3, input, (hx,), w_ih, w_hh, b_ih, b_hh)
    return _GRULayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh)
