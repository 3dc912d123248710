"""helpers.nn.recurrent against torch: the cells against nn.RNNCell/GRUCell/LSTMCell, the layers against nn.RNN/
GRU/LSTM (same seed -> same parameters, load_state_dict both ways, outputs, final states and every gradient in
float64 at 1e-10, second derivatives too), BPTT against autograd through torch's cells, the peephole cell
against a hand-unrolled computation, dropout between layers, set_forget_bias, and the errors."""

import math
import random as pyrandom

import pytest
import torch
from tensors import DEVICES, F64, close, leaf, random
from torch import nn

from helpers.nn.recurrent import (
    GRU,
    LSTM,
    RNN,
    gru_backward,
    gru_cell,
    gru_forward,
    gru_layer,
    lstm_backward,
    lstm_cell,
    lstm_forward,
    lstm_layer,
    peephole_lstm_cell,
    rnn_backward,
    rnn_cell,
    rnn_forward,
    rnn_layer,
    set_forget_bias,
)

# name -> (ours, torch's, extra constructor arguments, states per layer: 1, or 2 for (h, c))
KINDS = {
    "rnn-tanh": (RNN, nn.RNN, {}, 1),
    "rnn-relu": (RNN, nn.RNN, {"nonlinearity": "relu"}, 1),
    "gru": (GRU, nn.GRU, {}, 1),
    "lstm": (LSTM, nn.LSTM, {}, 2),
}
# layouts: every option both ways, across the configurations (random sizes are drawn per test)
LAYOUTS = {
    "plain": {"num_layers": 1, "bidirectional": False, "bias": True, "batch_first": False, "hx": False,
              "batched": True},
    "given-hx": {"num_layers": 1, "bidirectional": False, "bias": False, "batch_first": True, "hx": True,
                 "batched": True},
    "bidirectional": {"num_layers": 1, "bidirectional": True, "bias": True, "batch_first": True, "hx": True,
                      "batched": True},
    "two-layers": {"num_layers": 2, "bidirectional": False, "bias": True, "batch_first": False, "hx": True,
                   "batched": True},
    "two-bidirectional": {"num_layers": 2, "bidirectional": True, "bias": False, "batch_first": False, "hx": False,
                          "batched": True},
    "unbatched": {"num_layers": 2, "bidirectional": True, "bias": True, "batch_first": True, "hx": True,
                  "batched": False},
    "unbatched-default-hx": {"num_layers": 1, "bidirectional": False, "bias": True, "batch_first": False,
                             "hx": False, "batched": False},
}


def states_tuple(state):
    return state if isinstance(state, tuple) else (state,)


def pair(kind, seed=0, device="cpu", dtype=F64, **kwargs):
    """Ours and torch's, built from the same seed."""
    ours_cls, torch_cls, extra, _ = KINDS[kind]
    torch.manual_seed(seed)
    theirs = torch_cls(**kwargs, **extra, device=device, dtype=dtype)
    torch.manual_seed(seed)
    ours = ours_cls(**kwargs, **extra, device=device, dtype=dtype)
    return ours, theirs


# ---------------------------------------------------------------- the layers against nn.RNN / nn.GRU / nn.LSTM
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kind", KINDS)
def test_layers_match_torch(device, layout, kind):
    """Same seed -> the same parameters; then outputs, final states and the gradients of a random weighting of
    them w.r.t. the input, hx and every parameter agree at 1e-10."""
    options = dict(LAYOUTS[layout])
    use_hx, batched = options.pop("hx"), options.pop("batched")
    seed = sum(map(ord, kind + layout))
    rng = pyrandom.Random(seed)
    steps, batch, inputs, hidden = rng.randint(1, 6), rng.randint(1, 4), rng.randint(1, 5), rng.randint(1, 5)
    ours, theirs = pair(kind, seed, device, input_size=inputs, hidden_size=hidden, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
    shape = ((batch, steps) if options["batch_first"] else (steps, batch)) if batched else (steps,)
    x = random(*shape, inputs, seed=seed, device=device)
    count = KINDS[kind][3]
    state_shape = (options["num_layers"] * (2 if options["bidirectional"] else 1), *((batch,) if batched else ()),
                   hidden)
    hx = tuple(random(*state_shape, seed=seed + 1 + k, device=device) for k in range(count)) if use_hx else None
    results = []
    for module in (ours, theirs):
        x_in = leaf(x)
        hx_in = tuple(leaf(h) for h in hx) if use_hx else None
        output, state = module(x_in, (hx_in if count == 2 else hx_in[0]) if use_hx else None)
        finals = states_tuple(state)
        weights = [random(*t.shape, seed=seed + 10 + k, device=device) for k, t in enumerate((output, *finals))]
        loss = sum((w * t).sum() for w, t in zip(weights, (output, *finals)))
        wrt = [x_in, *(hx_in or ()), *module.parameters()]
        results.append(((output, *finals), torch.autograd.grad(loss, wrt)))
    (ours_out, ours_grads), (their_out, their_grads) = results
    assert len(ours_out) == len(their_out) == 1 + count
    assert all(close(a, b) for a, b in zip(ours_out, their_out))
    assert len(ours_grads) == len(their_grads)
    assert all(close(a, b) for a, b in zip(ours_grads, their_grads))


@pytest.mark.parametrize("kind", KINDS)
def test_second_derivatives_match_torch(kind):
    """create_graph=True: the gradient of a function of the input gradient w.r.t. the weights, as torch."""
    ours, theirs = pair(kind, 3, input_size=2, hidden_size=3, num_layers=2, bidirectional=True)
    x = random(4, 2, 2, seed=5)
    results = []
    for module in (ours, theirs):
        x_in = leaf(x)
        output, state = module(x_in)
        loss = (output**2).sum() + states_tuple(state)[-1].sum()
        (grad_x,) = torch.autograd.grad(loss, x_in, create_graph=True)
        results.append(torch.autograd.grad((grad_x**2).sum(), [x_in, *module.parameters()]))
    assert all(close(a, b) for a, b in zip(*results))


@pytest.mark.parametrize("kind", KINDS)
def test_load_state_dict_both_ways(kind):
    kwargs = {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}
    for bias in (True, False):
        ours, theirs = pair(kind, 0, **kwargs, bias=bias)
        other, _ = pair(kind, 1, **kwargs, bias=bias)  # different values
        names = [(n, p.shape) for n, p in ours.named_parameters()]
        assert names == [(n, p.shape) for n, p in theirs.named_parameters()]
        other.load_state_dict(theirs.state_dict(), strict=True)
        _, fresh = pair(kind, 2, **kwargs, bias=bias)
        fresh.load_state_dict(other.state_dict(), strict=True)
        assert all(torch.equal(a, b) for a, b in zip(fresh.state_dict().values(), theirs.state_dict().values()))
    assert "_reverse" in "".join(ours.state_dict()) and "weight_hh_l1" in ours.state_dict()


def test_default_init_is_torchs_uniform():
    """Every parameter in [-1/sqrt(H), 1/sqrt(H)], spread over it (the same seed gives torch's values, above)."""
    lstm = LSTM(5, 16, num_layers=2)
    values = torch.cat([p.detach().flatten() for p in lstm.parameters()])
    bound = 1 / math.sqrt(16)
    assert values.abs().max() <= bound and values.min() < -0.9 * bound and values.max() > 0.9 * bound
    assert abs(values.mean()) < 0.05 * bound and abs(values.var() - bound**2 / 3) < 0.1 * bound**2


def test_repr_all_weights_and_flatten_parameters_as_torch():
    for kind, kwargs in (("lstm", {"num_layers": 2, "bias": False, "batch_first": True, "dropout": 0.5,
                                   "bidirectional": True}), ("rnn-relu", {}), ("gru", {"num_layers": 3})):
        ours, theirs = pair(kind, 0, input_size=3, hidden_size=4, **kwargs)
        assert repr(ours) == repr(theirs)
        assert [[tuple(p.shape) for p in ws] for ws in ours.all_weights] == \
            [[tuple(p.shape) for p in ws] for ws in theirs.all_weights]
        ours.flatten_parameters()


def test_empty_batch_and_float32():
    ours, theirs = pair("lstm", 0, input_size=3, hidden_size=4, dtype=torch.float32)
    empty = torch.randn(5, 0, 3)
    assert ours(empty)[0].shape == theirs(empty)[0].shape == (5, 0, 4)
    x = torch.randn(7, 3, 3)
    assert torch.allclose(ours(x)[0], theirs(x)[0], atol=1e-6)


# ---------------------------------------------------------------- dropout between layers
def test_dropout_in_eval_and_with_p_1_equals_torch():
    for p, training in ((0.5, False), (1.0, True)):  # p = 1 drops every unit: the masks are all zero in both
        ours, theirs = pair("lstm", 4, input_size=2, hidden_size=3, num_layers=3, dropout=p)
        ours.train(training), theirs.train(training)
        x = random(5, 2, 2, seed=6)
        for a, b in zip(ours(x)[0:1] + ours(x)[1], theirs(x)[0:1] + theirs(x)[1]):
            assert close(a, b)


def test_dropout_masks_layer_outputs_in_training():
    """A relu RNN whose second layer passes its input through (W_ih = I, W_hh = 0, no bias): in training its
    output is the first layer's (the eval output) times m / (1 - p), m ~ Bernoulli(1 - p) per entry."""
    p, hidden = 0.3, 50
    rnn = RNN(hidden, hidden, num_layers=2, nonlinearity="relu", bias=False, dropout=p, dtype=F64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(random(hidden, hidden, seed=1).abs() / hidden)  # positive, so every unit is on
        rnn.weight_hh_l0.fill_(0.01)
        rnn.weight_ih_l1.copy_(torch.eye(hidden))
        rnn.weight_hh_l1.zero_()
    x = random(40, 20, hidden, seed=2).abs()
    expected = rnn.eval()(x)[0]
    assert (expected > 0).all()
    torch.manual_seed(0)
    output = rnn.train()(x)[0]
    kept = output != 0
    assert torch.allclose(output[kept], expected[kept] / (1 - p), rtol=1e-12, atol=0)
    n = kept.numel()
    assert abs((~kept).sum().item() - p * n) < 5 * math.sqrt(n * p * (1 - p))
    torch.manual_seed(0)
    assert torch.equal(rnn(x)[0], output)  # torch's generator: the same seed, the same mask


def test_dropout_arguments_as_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        LSTM(2, 3, dropout=0.5)
    for bad in (-0.1, 1.5, True, "0.5"):
        with pytest.raises(ValueError, match=r"range \[0, 1\]"):
            GRU(2, 3, num_layers=2, dropout=bad)


# ---------------------------------------------------------------- the cells against nn.RNNCell / GRUCell / LSTMCell
CELLS = {
    "rnn-tanh": (rnn_cell, nn.RNNCell, {"nonlinearity": "tanh"}),
    "rnn-relu": (rnn_cell, nn.RNNCell, {"nonlinearity": "relu"}),
    "gru": (gru_cell, nn.GRUCell, {}),
    "lstm": (lstm_cell, nn.LSTMCell, {}),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", CELLS)
def test_cells_match_torch_cells(kind, bias, batched, device):
    ours, torch_cls, options = CELLS[kind]
    torch.manual_seed(7)
    cell = torch_cls(3, 4, bias=bias, device=device, dtype=F64, **options)
    lead = (5,) if batched else ()
    x = leaf(random(*lead, 3, seed=1, device=device))
    states = [leaf(random(*lead, 4, seed=2 + k, device=device)) for k in range(2 if kind == "lstm" else 1)]
    hx = tuple(states) if kind == "lstm" else states[0]
    weights = [cell.weight_ih, cell.weight_hh, *((cell.bias_ih, cell.bias_hh) if bias else ())]
    expected = states_tuple(cell(x, hx))
    got = states_tuple(ours(x, hx, *weights, **({"nonlinearity": options["nonlinearity"]} if options else {})))
    assert len(got) == len(expected) and all(close(a, b) for a, b in zip(got, expected))
    g = [random(*t.shape, seed=9 + k, device=device) for k, t in enumerate(expected)]
    wrt = [x, *states, *weights]
    for a, b in zip(torch.autograd.grad(got, wrt, g), torch.autograd.grad(expected, wrt, g)):
        assert close(a, b)


def test_gru_resets_after_the_matmul_and_keeps_the_old_state_with_z():
    """Torch's conventions, checked on the formula: with b_hn != 0 the reset multiplies h W_hn^T + b_hn (Cho et
    al.'s r * h before the matmul gives another value), and a saturated update gate z = 1 returns h."""
    x, h = random(2, 3, seed=1), random(2, 4, seed=2)
    w_ih, w_hh, b_hh = random(12, 3, seed=3), random(12, 4, seed=4), random(12, seed=5)
    r = torch.sigmoid(x @ w_ih[:4].T + h @ w_hh[:4].T + b_hh[:4])
    z = torch.sigmoid(x @ w_ih[4:8].T + h @ w_hh[4:8].T + b_hh[4:8])
    after = torch.tanh(x @ w_ih[8:].T + r * (h @ w_hh[8:].T + b_hh[8:]))
    before = torch.tanh(x @ w_ih[8:].T + (r * h) @ w_hh[8:].T + b_hh[8:])
    got = gru_cell(x, h, w_ih, w_hh, None, b_hh)
    assert close(got, (1 - z) * after + z * h) and not torch.allclose(got, (1 - z) * before + z * h)
    keep = b_hh.clone()
    keep[4:8] = 1e3  # z = 1
    assert close(gru_cell(x, h, w_ih, w_hh, None, keep), h)


def test_lstm_gate_order_is_i_f_g_o():
    """Only the forget gate's block open (bias +inf-like), the rest shut: c' = c, h' = 0."""
    x, h, c = random(2, 3, seed=1), random(2, 4, seed=2), random(2, 4, seed=3)
    b = torch.full((16,), -50.0, dtype=F64)
    b[4:8] = 50.0
    h1, c1 = lstm_cell(x, (h, c), torch.zeros(16, 3, dtype=F64), torch.zeros(16, 4, dtype=F64), b)
    assert close(c1, c) and close(h1, torch.zeros_like(h))


# ---------------------------------------------------------------- the peephole LSTM (no torch oracle)
def peephole_by_hand(x, h, c, w_ih, w_hh, w_peep, b):
    """Gers & Schmidhuber (2000), unrolled over x: (T, N, H_in), written per gate, independently of the module."""
    H = h.shape[-1]
    W = {gate: (w_ih[k * H:(k + 1) * H], w_hh[k * H:(k + 1) * H], b[k * H:(k + 1) * H]) for k, gate in
         enumerate("ifgo")}
    def pre(gate, x_t, h):
        w_x, w_h, bias = W[gate]
        return x_t @ w_x.T + h @ w_h.T + bias
    outputs = []
    for x_t in x:
        input_gate = torch.sigmoid(pre("i", x_t, h) + w_peep[0] * c)
        forget_gate = torch.sigmoid(pre("f", x_t, h) + w_peep[1] * c)
        c = forget_gate * c + input_gate * torch.tanh(pre("g", x_t, h))
        output_gate = torch.sigmoid(pre("o", x_t, h) + w_peep[2] * c)  # sees the new cell
        h = output_gate * torch.tanh(c)
        outputs.append(h)
    return torch.stack(outputs), c


def test_peephole_cell_matches_a_hand_unrolled_computation():
    x, h0, c0 = random(4, 3, 2, seed=1), random(3, 5, seed=2), random(3, 5, seed=3)
    w_ih, w_hh, w_peep = random(20, 2, seed=4), random(20, 5, seed=5), random(3, 5, seed=6)
    b_ih, b_hh = random(20, seed=7), random(20, seed=8)
    args = [leaf(t) for t in (x, h0, c0, w_ih, w_hh, w_peep, b_ih, b_hh)]
    h, c, outputs = args[1], args[2], []
    for x_t in args[0]:
        h, c = peephole_lstm_cell(x_t, (h, c), *args[3:6], args[6], args[7])
        outputs.append(h)
    ours = (torch.stack(outputs), c)
    ref_args = [leaf(t) for t in (x, h0, c0, w_ih, w_hh, w_peep, b_ih, b_hh)]
    expected = peephole_by_hand(*ref_args[:6], ref_args[6] + ref_args[7])
    assert all(close(a, b) for a, b in zip(ours, expected))
    g = [random(*t.shape, seed=20 + k) for k, t in enumerate(expected)]
    for a, b in zip(torch.autograd.grad(ours, args, g), torch.autograd.grad(expected, ref_args, g)):
        assert close(a, b)


def test_peephole_cell_with_zero_peepholes_is_lstm_cell():
    x, hx = leaf(random(3, 2, seed=1)), (leaf(random(3, 4, seed=2)), leaf(random(3, 4, seed=3)))
    w = [leaf(random(16, 2, seed=4)), leaf(random(16, 4, seed=5)), leaf(random(16, seed=6)), leaf(random(16, seed=7))]
    peep = torch.zeros(3, 4, dtype=F64, requires_grad=True)
    ours = peephole_lstm_cell(x, hx, w[0], w[1], peep, w[2], w[3])
    plain = lstm_cell(x, hx, *w)
    assert all(close(a, b) for a, b in zip(ours, plain))
    g = [random(3, 4, seed=8), random(3, 4, seed=9)]
    wrt = [x, *hx, *w]
    for a, b in zip(torch.autograd.grad(ours, wrt, g, retain_graph=True), torch.autograd.grad(plain, wrt, g)):
        assert close(a, b)
    assert torch.autograd.grad(ours, peep, g)[0].abs().sum() > 0  # the peepholes do get a gradient


# ---------------------------------------------------------------- BPTT against autograd through torch's cells
def torch_cell_loop(cell, xi, states):
    """Autograd through nn.*Cell with W_ih = I and no input bias, so that its input is xi itself."""
    output, state = [], states
    for xi_t in xi:
        state = cell(xi_t, state)
        output.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(output), *states_tuple(state)


@pytest.mark.parametrize("kind", ["rnn-tanh", "rnn-relu", "gru", "lstm"])
def test_bptt_backward_matches_autograd(kind):
    steps, batch, hidden = 6, 3, 4
    gates = {"gru": 3, "lstm": 4}.get(kind, 1)
    torch_cls, options = CELLS[kind][1], CELLS[kind][2]
    cell = torch_cls(gates * hidden, hidden, dtype=F64, **options)
    with torch.no_grad():
        cell.weight_ih.copy_(torch.eye(gates * hidden))
        cell.bias_ih.zero_()
    xi, h0, c0 = random(steps, batch, gates * hidden, seed=1), random(batch, hidden, seed=2), random(batch, hidden,
                                                                                                      seed=3)
    w_hh, b_hh = cell.weight_hh.detach(), cell.bias_hh.detach()
    grad_output, grad_h, grad_c = random(steps, batch, hidden, seed=4), random(batch, hidden, seed=5), random(
        batch, hidden, seed=6)
    inputs = [leaf(xi), leaf(h0), *([leaf(c0)] if kind == "lstm" else [])]
    expected = torch_cell_loop(cell, inputs[0], tuple(inputs[1:]) if kind == "lstm" else inputs[1])
    wanted = [*inputs, cell.weight_hh, *([cell.bias_hh] if kind == "gru" else [])]
    want = torch.autograd.grad(expected, wanted, [grad_output, grad_h, *([grad_c] if kind == "lstm" else [])])
    if kind == "lstm":
        saved = lstm_forward(xi + b_hh, h0, c0, w_hh)
        assert close(saved[0], expected[0]) and close(saved[1][-1], expected[2])
        got = lstm_backward(grad_output, grad_h, grad_c, h0, c0, w_hh, *saved)
    elif kind == "gru":
        output, *saved = gru_forward(xi, h0, w_hh, b_hh)
        assert close(output, expected[0])
        got = gru_backward(grad_output, grad_h, h0, w_hh, output, *saved)
    else:
        output = rnn_forward(xi + b_hh, h0, w_hh, options["nonlinearity"])
        assert close(output, expected[0])
        got = rnn_backward(grad_output, grad_h, h0, w_hh, output, options["nonlinearity"])
    assert len(got) == len(want) and all(close(a, b) for a, b in zip(got, want))


def test_layer_functions_without_biases_and_with_default_arguments():
    x, h0, c0 = random(5, 2, 3, seed=1), random(2, 4, seed=2), random(2, 4, seed=3)
    cell = nn.LSTMCell(3, 4, bias=False, dtype=F64)
    output, (h, c) = lstm_layer(x, (h0, c0), cell.weight_ih, cell.weight_hh)
    state = (h0, c0)
    for x_t in x:
        state = cell(x_t, state)
    assert close(h, state[0]) and close(c, state[1]) and close(output[-1], h)
    gru = nn.GRUCell(3, 4, dtype=F64)
    output, h = gru_layer(x, h0, gru.weight_ih, gru.weight_hh, gru.bias_ih)  # no b_hh
    state = h0
    with torch.no_grad():
        gru.bias_hh.zero_()
    for x_t in x:
        state = gru(x_t, state)
    assert close(h, state)
    output, h = rnn_layer(x, h0, random(4, 3, seed=4), random(4, 4, seed=5), b_hh=random(4, seed=6))
    assert output.shape == (5, 2, 4) and close(output[-1], h)


# ---------------------------------------------------------------- set_forget_bias
def test_set_forget_bias_opens_the_forget_gate():
    """With all weights 0 and the other biases 0: i = 1/2, g = 0, so c_1 = sigma(value) c_0 in torch's LSTM."""
    value = 1.5
    for module in (LSTM(2, 3, num_layers=2, dtype=F64), nn.LSTM(2, 3, num_layers=2, dtype=F64),
                   nn.LSTMCell(2, 3, dtype=F64)):
        with torch.no_grad():
            for p in module.parameters():
                p.zero_()
        assert set_forget_bias(module, value) is module
        theirs = module
        if isinstance(module, LSTM):
            theirs = nn.LSTM(2, 3, num_layers=2, dtype=F64)
            theirs.load_state_dict(module.state_dict())
        c0 = random(3, 3, seed=1)
        if isinstance(theirs, nn.LSTMCell):
            _, c1 = theirs(random(3, 2, seed=2), (torch.zeros(3, 3, dtype=F64), c0))
        else:
            _, (_, c_n) = theirs(random(1, 3, 2, seed=2), (torch.zeros(2, 3, 3, dtype=F64), c0.expand(2, 3, 3)))
            c1 = c_n[0]
        assert close(c1, c0 / (1 + math.exp(-value)))


def test_set_forget_bias_errors():
    with pytest.raises(ValueError, match="no bias"):
        set_forget_bias(LSTM(2, 3, bias=False), 1.0)
    with pytest.raises(ValueError, match="expects an LSTM"):
        set_forget_bias(GRU(2, 3), 1.0)


# ---------------------------------------------------------------- errors: torch's meaning, ValueError, what to do
@pytest.mark.parametrize("kind", KINDS)
def test_forward_errors_as_torch(kind):
    ours, theirs = pair(kind, 0, input_size=3, hidden_size=4, num_layers=2)
    count = KINDS[kind][3]

    def hx(*shape):
        return tuple(torch.zeros(shape, dtype=F64) for _ in range(count)) if count == 2 else torch.zeros(shape,
                                                                                                        dtype=F64)
    cases = [
        ((random(5, 2, 4),), "input_size"),  # the feature size
        ((random(2, 5, 2, 3),), "2D or 3D"),
        ((random(0, 2, 3),), "sequence length"),
        ((random(5, 2, 3), hx(2, 3, 4)), "size"),  # the batch
        ((random(5, 2, 3), hx(1, 2, 4)), "size"),  # the layers
        ((random(5, 2, 3), hx(2, 2, 5)), "size"),  # hidden_size
        ((random(5, 3), hx(2, 1, 4)), "2-D"),  # unbatched input, batched hx
        ((random(5, 2, 3), hx(2, 4)), "3-D"),
        ((random(5, 2, 3, dtype=torch.float32),), "dtype"),
    ]
    for args, match in cases:
        with pytest.raises((RuntimeError, ValueError)):
            theirs(*args)
        with pytest.raises(ValueError, match=match):
            ours(*args)
    with pytest.raises(TypeError, match="PackedSequence"):
        ours(nn.utils.rnn.pack_sequence([random(3, 3), random(2, 3)]))
    if count == 2:
        with pytest.raises(TypeError, match=r"\(h_0, c_0\)"):
            ours(random(5, 2, 3), torch.zeros(2, 2, 4, dtype=F64))


def test_constructor_errors_as_torch():
    for kwargs, error, match in (
        ({"input_size": 0, "hidden_size": 3}, ValueError, "greater than zero"),
        ({"input_size": 2, "hidden_size": 0}, ValueError, "greater than zero"),
        ({"input_size": 2, "hidden_size": 3, "num_layers": 0}, ValueError, "greater than zero"),
        ({"input_size": 2.0, "hidden_size": 3}, TypeError, "int"),
        ({"input_size": 2, "hidden_size": 3, "bias": 1}, TypeError, "bool"),
        ({"input_size": 2, "hidden_size": 3, "batch_first": None}, TypeError, "bool"),
    ):
        with pytest.raises(error):
            nn.LSTM(**kwargs)
        with pytest.raises(error, match=match):
            LSTM(**kwargs)
    with pytest.raises(ValueError, match="Select from 'tanh' or 'relu'"):
        RNN(2, 3, nonlinearity="sigmoid")
    with pytest.raises(NotImplementedError, match=r"torch.nn.LSTM\(\.\.\., proj_size=2\)"):
        LSTM(2, 5, proj_size=2)
    for proj_size in (-1, 5):
        with pytest.raises(ValueError, match="proj_size"):
            nn.LSTM(2, 5, proj_size=proj_size)
        with pytest.raises(ValueError, match="proj_size"):
            LSTM(2, 5, proj_size=proj_size)


def test_cell_and_layer_function_errors():
    x, h, w_ih, w_hh = random(5, 3), random(5, 4), random(4, 3), random(4, 4)
    with pytest.raises(ValueError, match="1D or 2D"):
        rnn_cell(random(2, 5, 3), h, w_ih, w_hh)
    with pytest.raises(ValueError, match="input_size"):
        rnn_cell(random(5, 2), h, w_ih, w_hh)
    with pytest.raises(ValueError, match="batch size"):
        rnn_cell(x, random(6, 4), w_ih, w_hh)
    with pytest.raises(ValueError, match="hidden_size"):
        rnn_cell(x, random(5, 3), w_ih, w_hh)
    with pytest.raises(ValueError, match="should also be 1-D"):
        rnn_cell(random(3), h, w_ih, w_hh)
    with pytest.raises(ValueError, match="Select from"):
        rnn_cell(x, h, w_ih, w_hh, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="3 gate blocks"):
        gru_cell(x, h, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"b_hh must be \(4 H,\)"):
        lstm_cell(x, (h, h), random(16, 3), random(16, 4), None, random(4))
    with pytest.raises(TypeError, match=r"pair \(h, c\)"):
        lstm_cell(x, h, random(16, 3), random(16, 4))
    with pytest.raises(ValueError, match=r"w_peep must be \(3, H\)"):
        peephole_lstm_cell(x, (h, h), random(16, 3), random(16, 4), random(4, 3))
    with pytest.raises(ValueError, match=r"\(T, N, H_in\)"):
        rnn_layer(x, h, w_ih, w_hh)
    with pytest.raises(ValueError, match=r"initial states must be \(N, H\)"):
        lstm_layer(random(2, 5, 3), (h, random(4, 4)), random(16, 3), random(16, 4))
