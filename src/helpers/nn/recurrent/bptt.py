"""Backpropagation through time, written out: the loop of one recurrent layer over a sequence, and its backward.

A layer (``functional.rnn_layer``, ``gru_layer``, ``lstm_layer``) first projects its whole input, xi_t =
x_t W_ih^T + b_ih for all T steps in one matmul (it does not depend on the state); only h_{t-1} W_hh^T
has to wait for the previous step. ``*_forward(xi, h0, ...)`` is that loop, one line per equation of the cell,
and returns what the backward pass needs::

    xi: (T, N, G H), h0, c0: (N, H), w_hh: (G H, H)  ->  output: (T, N, H), the states h_1 ... h_T, ...

Backpropagation through time (BPTT) is the chain rule on the unrolled loop: h_t reaches the loss through its
own output and through the next step, so the gradient flows backwards in time. For the plain RNN, with the
pre-activation a_t = xi_t + h_{t-1} W_hh^T and g_t = dL/doutput_t (plus dL/dh_T at t = T)::

    dL/dh_t  = g_t + dL/da_{t+1} W_hh          (the second term is 0 at t = T)
    dL/da_t  = dL/dh_t * phi'(a_t)             phi' = 1 - h_t^2 for tanh, [h_t > 0] for relu
    dL/dh_0  = dL/da_1 W_hh,   dL/dW_hh = sum_t (dL/da_t)^T h_{t-1},   dL/dxi_t = dL/da_t

and then dL/dW_ih = sum_t (dL/da_t)^T x_t, dL/db = sum_t dL/da_t, dL/dx_t = dL/da_t W_ih, for all t at once.
The repeated factor W_hh^T diag(phi'(a_t)) is why gradients vanish or explode over long spans; the LSTM passes
its cell state's gradient back multiplied by the forget gate alone, dL/dc_{t-1} = dL/dc_t * f_t + ...

Only the first two lines are sequential. ``*_backward`` does the rest for all steps at once, outside its loop:
the local derivatives (phi', the gates' sigmoid' = s (1 - s) and tanh' = 1 - g^2, from the activations the
forward loop kept) before it, and dL/dW_hh after it, one matmul over all T N rows instead of T small ones.

The loops write into tensors allocated once (``out=``, in-place ops): at the chapter's sizes a step is a few
microseconds of arithmetic, and allocating fresh tensors and stacking them costs as much. So they run without
autograd, as the layers call them; autograd differentiates the cells (``cells``), the same equations.
"""

from __future__ import annotations

import torch

__all__ = ["gru_backward", "gru_forward", "lstm_backward", "lstm_forward", "rnn_backward", "rnn_forward",
           "weight_grad"]


def _h_prev(h0: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """h_0, ..., h_{T-1}: the state each step started from, (T, N, H)."""
    return torch.cat([h0[None], output[:-1]])


def weight_grad(grad_a: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
    """dL/dW = sum over the T N rows of (dL/da)^T x, for a = x W^T: (T, N, G H), (T, N, K) -> (G H, K), one matmul.

    Computed as (X^T G)^T, the same product: MKL is faster that way round for these shapes.
    """
    return (inputs.reshape(-1, inputs.shape[-1]).t() @ grad_a.reshape(-1, grad_a.shape[-1])).t()


def _shifted(grad_output: torch.Tensor) -> torch.Tensor:
    """0, g_1, ..., g_{T-1}: row t is dL/doutput at the step before t, what h_{t-1} receives directly."""
    return torch.cat([torch.zeros_like(grad_output[:1]), grad_output[:-1]])


def rnn_forward(xi: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, nonlinearity: str = "tanh"
                ) -> torch.Tensor:
    """h_t = phi(xi_t + h_{t-1} W_hh^T) for t = 1..T. xi: (T, N, H), h0: (N, H) -> output (T, N, H)."""
    phi_, w, h = {"tanh": torch.tanh_, "relu": torch.relu_}[nonlinearity], w_hh.t(), h0
    output = xi.clone()  # row t starts as xi_t
    for h_t in output:  # row t (iterating a tensor unbinds its first dimension: views)
        h = phi_(h_t.addmm_(h, w))  # h_t = phi(xi_t + h_{t-1} W_hh^T), in place
    return output


def rnn_backward(grad_output: torch.Tensor, grad_h_n: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor,
                 output: torch.Tensor, nonlinearity: str = "tanh") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """BPTT through ``rnn_forward``: dL/doutput (T, N, H), dL/dh_T (N, H)
    -> (dL/dxi (T, N, H), dL/dh0 (N, H), dL/dW_hh (H, H))."""
    local = 1 - output**2 if nonlinearity == "tanh" else (output > 0).to(output.dtype)  # phi'(a_t), from h_t
    grad_h, grad_xi = grad_output[-1] + grad_h_n, torch.empty_like(output)  # dL/dh_T
    for local_t, g_before, grad_a in reversed(list(zip(local, _shifted(grad_output), grad_xi))):
        torch.mul(grad_h, local_t, out=grad_a)  # dL/da_t = dL/dh_t * phi'(a_t)
        grad_h = g_before.addmm_(grad_a, w_hh)  # dL/dh_{t-1} = g_{t-1} + dL/da_t W_hh
    return grad_xi, grad_h, weight_grad(grad_xi, _h_prev(h0, output))


def lstm_forward(xi: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, w_hh: torch.Tensor
                 ) -> tuple[torch.Tensor, ...]:
    """The LSTM loop. xi: (T, N, 4H), h0, c0: (N, H), w_hh: (4H, H) -> (output h_1..h_T, cells c_1..c_T,
    tanh(cells), candidates g, each (T, N, H), gates: sigmoid of the pre-activations, (T, N, 4H), of which the
    blocks i, f and o are used), all kept for ``lstm_backward``."""
    w, h, c = w_hh.t(), h0, c0
    output, cells, tanh_cells, candidates = (xi.new_empty(len(xi), *h0.shape) for _ in range(4))
    gates = xi.clone()  # row t starts as xi_t; the step adds h_{t-1} W_hh^T, then applies sigmoid, in place
    i, f, a_g, o = gates.chunk(4, dim=2)  # views of the four blocks, (T, N, H) each
    steps = zip(gates, i, f, a_g, o, candidates, cells, tanh_cells, output)  # rows t (iterating unbinds dim 0)
    for a, i_t, f_t, a_g_t, o_t, g_t, c_t, tanh_c, h_t in steps:
        a.addmm_(h, w)  # a = xi_t + h W_hh^T: the pre-activations of i, f, g, o
        g = torch.tanh(a_g_t, out=g_t)  # g = tanh(a_g)
        a.sigmoid_()  # i, f, o = sigmoid(a_i, a_f, a_o): all four blocks at once (g was read before)
        c = torch.addcmul(f_t * c, i_t, g, out=c_t)  # c_t = f c_{t-1} + i g
        h = torch.mul(o_t, torch.tanh(c, out=tanh_c), out=h_t)  # h_t = o tanh(c_t)
    return output, cells, tanh_cells, candidates, gates


def lstm_backward(grad_output: torch.Tensor, grad_h_n: torch.Tensor, grad_c_n: torch.Tensor, h0: torch.Tensor,
                  c0: torch.Tensor, w_hh: torch.Tensor, output: torch.Tensor, cells: torch.Tensor,
                  tanh_cells: torch.Tensor, candidates: torch.Tensor, gates: torch.Tensor
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """BPTT through ``lstm_forward``: dL/doutput (T, N, H), dL/dh_T, dL/dc_T (N, H)
    -> (dL/dxi (T, N, 4H), dL/dh0, dL/dc0 (N, H), dL/dW_hh (4H, H)). c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""
    (i, f, _, o), g, H = gates.chunk(4, dim=2), candidates, h0.shape[1]
    dh_dc = o * (1 - tanh_cells**2)  # h_t = o tanh(c_t)
    # d(c_t, c_t, c_t, h_t)/d(a_i, a_f, a_g, a_o): each gate's derivative times what the gate multiplies
    local = torch.addcmul(gates, gates, gates, value=-1)  # sigma'(a) = s (1 - s), for i, f, o
    local[:, :, 2 * H : 3 * H] = 1 - g**2  # tanh'(a_g) = 1 - g^2
    local *= torch.cat([g, _h_prev(c0, cells), i, tanh_cells], dim=2)  # times g, c_{t-1}, i, tanh(c_t)
    grad_h, grad_c, grad_xi = grad_output[-1] + grad_h_n, grad_c_n, torch.empty_like(gates)  # dL/dh_T, dL/dc_T
    for dh_dc_t, local_t, f_t, g_before, grad_a in reversed(list(zip(dh_dc, local, f, _shifted(grad_output),
                                                                      grad_xi))):
        grad_c = torch.addcmul(grad_c, grad_h, dh_dc_t)  # c_t feeds h_t and c_{t+1}
        torch.mul(torch.cat([grad_c, grad_c, grad_c, grad_h], dim=1), local_t, out=grad_a)  # dL/da_t
        grad_h = g_before.addmm_(grad_a, w_hh)  # dL/dh_{t-1} = g_{t-1} + dL/da_t W_hh
        grad_c = grad_c * f_t  # dL/dc_{t-1}, but for h_{t-1}'s share: the forget gate alone
    return grad_xi, grad_h, grad_c, weight_grad(grad_xi, _h_prev(h0, output))


def gru_forward(xi: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The GRU loop. xi: (T, N, 3H), h0: (N, H), w_hh: (3H, H) -> (output h_1..h_T, (T, N, H),
    gates: r, z, n of every step, (T, N, 3H), hidden_n: h_{t-1} W_hn^T + b_hn, (T, N, H))."""
    w, h = w_hh.t(), h0
    output, hidden_n, gates = xi.new_empty(len(xi), *h0.shape), xi.new_empty(len(xi), *h0.shape), torch.empty_like(xi)
    for xi_t, gates_t, h_n_t, h_t in zip(xi, gates, hidden_n, output):  # row t of each
        hh = torch.mm(h, w) if b_hh is None else torch.addmm(b_hh, h, w)  # h W_hh^T + b_hh, (N, 3H)
        (x_r, x_z, x_n), (h_r, h_z, h_n), (r, z, n) = xi_t.chunk(3, 1), hh.chunk(3, 1), gates_t.chunk(3, 1)
        r = torch.sigmoid(x_r + h_r, out=r)
        z = torch.sigmoid(x_z + h_z, out=z)
        n = torch.tanh(torch.addcmul(x_n, r, h_n), out=n)  # n = tanh(x_n + r * h_n)
        h = torch.add((1 - z) * n, z * h, out=h_t)
        h_n_t.copy_(h_n)
    return output, gates, hidden_n


def gru_backward(grad_output: torch.Tensor, grad_h_n: torch.Tensor, h0: torch.Tensor, w_hh: torch.Tensor,
                 output: torch.Tensor, gates: torch.Tensor, hidden_n: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """BPTT through ``gru_forward``: dL/doutput (T, N, H), dL/dh_T (N, H)
    -> (dL/dxi (T, N, 3H), dL/dh0 (N, H), dL/dW_hh (3H, H), dL/db_hh (3H,)). h_t = (1 - z) n + z h_{t-1}."""
    (r, z, n), h_n, h_prev = gates.chunk(3, dim=2), hidden_n, _h_prev(h0, output)
    dh_dan = (1 - z) * (1 - n**2)  # a_n = x_n + r * h_n, the candidate's pre-activation
    local = torch.cat([dh_dan * h_n * r * (1 - r), (h_prev - n) * z * (1 - z), dh_dan], dim=2)  # dh_t/da_r, a_z, a_n
    to_hidden = torch.cat([torch.ones_like(r), torch.ones_like(z), r], dim=2)  # da/d(hh): 1, 1 and r
    grad_h, grad_xi, grad_hidden = grad_output[-1] + grad_h_n, torch.empty_like(gates), torch.empty_like(gates)
    for local_t, to_hidden_t, z_t, g_before, grad_a, grad_hh in reversed(list(zip(
            local, to_hidden, z, _shifted(grad_output), grad_xi, grad_hidden))):
        torch.mul(grad_h.repeat(1, 3), local_t, out=grad_a)  # dL/d(a_r, a_z, a_n) = dL/dxi_t
        torch.mul(grad_a, to_hidden_t, out=grad_hh)  # dL/d(h_{t-1} W_hh^T + b_hh)
        grad_h = g_before.addcmul_(grad_h, z_t).addmm_(grad_hh, w_hh)  # g_{t-1} + z dL/dh_t + dL/dhh W_hh
    return grad_xi, grad_h, weight_grad(grad_hidden, h_prev), grad_hidden.sum((0, 1))
