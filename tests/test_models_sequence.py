"""helpers.models.sequence: the models' outputs against the same computation done with torch's layer and head by
hand, parameter counts against the closed forms written out here, the forget-gate bias checked by what it does
(a cell state carried unchanged), gradient norms through time against torch.autograd.functional.jacobian and a
closed form, and the error messages."""

import math

import pytest
import torch
from torch import nn

from helpers.models import (
    SequenceRegressor,
    SequenceTagger,
    cell_gradient_norms,
    count_parameters,
    gradient_norms_through_time,
    recurrent_layer,
)
from helpers.nn.recurrent import set_forget_bias

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
CELLS = ["rnn", "gru", "lstm"]


def randn(*shape, seed=0, device="cpu"):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64).to(device)


def recurrent_count(gates, input_size, hidden, num_layers=1, directions=1):
    """Per layer and direction: gates blocks of W_ih (H x I_l), W_hh (H x H), b_ih and b_hh (H each);
    layer l > 0 reads the D H outputs of the layer below."""
    total = 0
    for layer in range(num_layers):
        fan_in = input_size if layer == 0 else directions * hidden
        total += directions * gates * (hidden * (fan_in + hidden) + 2 * hidden)
    return total


GATES = {"rnn": 1, "gru": 3, "lstm": 4}


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, False), (2, True)])
def test_parameter_counts_match_the_closed_forms(cell, num_layers, bidirectional):
    kwargs = {"num_layers": num_layers, "bidirectional": bidirectional}
    d = 2 if bidirectional else 1
    rnn = recurrent_count(GATES[cell], 3, 8, num_layers, d)
    assert count_parameters(SequenceRegressor(3, 8, cell=cell, **kwargs)) == rnn + d * 8 + 1
    assert count_parameters(SequenceTagger(3, 8, 5, cell=cell, **kwargs)) == rnn + (d * 8 + 1) * 5


def test_parameter_counts_at_the_chapters_sizes():
    # input 2, hidden 32: RNN 32 * 34 + 64 = 1152, GRU 3x, LSTM 4x, plus the head's 33
    assert count_parameters(SequenceRegressor(2, 32, cell="rnn")) == 1152 + 33
    assert count_parameters(SequenceRegressor(2, 32, cell="gru")) == 3456 + 33
    assert count_parameters(SequenceRegressor(2, 32, cell="lstm")) == 4608 + 33


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_regressor_reads_the_last_hidden_state(cell, num_layers, device):
    torch.manual_seed(0)
    model = SequenceRegressor(3, 6, cell=cell, num_layers=num_layers, device=device, dtype=F64)
    assert isinstance(model.rnn, {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]) and model.rnn.batch_first
    x = randn(4, 7, 3, device=device)
    y = model(x)
    assert y.shape == (4,) and y.dtype == F64 and y.device.type == device
    outputs, _ = model.rnn(x)  # (N, T, H): the top layer's h_t at every step
    expected = outputs[:, -1] @ model.head.weight.T + model.head.bias
    torch.testing.assert_close(y, expected[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("num_layers", [1, 2])
def test_bidirectional_regressor_reads_both_directions_final_states(cell, num_layers):
    torch.manual_seed(1)
    model = SequenceRegressor(2, 5, cell=cell, num_layers=num_layers, bidirectional=True, dtype=F64)
    x = randn(3, 6, 2, seed=1)
    outputs, _ = model.rnn(x)  # (N, T, 2 H), top layer: forward h_t in [:H], backward h_t in [H:]
    last = torch.cat([outputs[:, -1, :5], outputs[:, 0, 5:]], dim=1)  # forward after x_T, backward after x_1
    torch.testing.assert_close(model(x), model.head(last)[:, 0], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cell", CELLS)
def test_tagger_outputs_every_step_and_can_be_fed_one_step_at_a_time(cell, device):
    torch.manual_seed(2)
    model = SequenceTagger(3, 6, 4, cell=cell, device=device, dtype=F64)
    x = randn(2, 5, 3, seed=2, device=device)
    y, final = model(x, return_state=True)
    assert y.shape == (2, 5, 4) and y.device.type == device
    outputs, expected_final = model.rnn(x)
    torch.testing.assert_close(y, outputs @ model.head.weight.T + model.head.bias, rtol=1e-12, atol=1e-12)
    state, steps = None, []
    for t in range(5):
        y_t, state = model(x[:, t : t + 1], state, return_state=True)
        steps.append(y_t)
    torch.testing.assert_close(torch.cat(steps, dim=1), y, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(state, expected_final, rtol=1e-12, atol=1e-12)  # h_n, or (h_n, c_n)


def test_cell_may_be_a_class_and_layer_options_pass_through():
    model = SequenceTagger(2, 4, cell=nn.GRU, num_layers=2, dropout=0.5)
    assert isinstance(model.rnn, nn.GRU) and model.rnn.num_layers == 2 and model.rnn.dropout == 0.5
    relu = recurrent_layer("RNN", 2, 4, nonlinearity="relu")
    assert isinstance(relu, nn.RNN) and relu.nonlinearity == "relu" and relu.batch_first


@pytest.mark.parametrize("value", [0.0, 1.0, 3.0])
def test_set_forget_bias_sets_the_sum_of_the_two_forget_biases_of_a_deep_bidirectional_lstm(value):
    torch.manual_seed(3)
    lstm = nn.LSTM(2, 5, num_layers=2, bidirectional=True)
    before = {name: p.detach().clone() for name, p in lstm.named_parameters()}
    assert set_forget_bias(lstm, value) is lstm
    for where in ["l0", "l0_reverse", "l1", "l1_reverse"]:
        b_ih, b_hh = getattr(lstm, f"bias_ih_{where}"), getattr(lstm, f"bias_hh_{where}")
        torch.testing.assert_close(b_ih[5:10] + b_hh[5:10], torch.full((5,), value))  # gates i, f, g, o
    for name, p in lstm.named_parameters():
        rows = [0, 1, 2, 3, 4] + list(range(10, 20)) if name.startswith("bias_") else list(range(20))
        torch.testing.assert_close(p[rows], before[name][rows], rtol=0, atol=0)  # nothing else changes


def test_a_large_forget_bias_carries_the_cell_state_unchanged():
    """With the forget gate at sigmoid(40) = 1 and the input gate at sigmoid(-40) = 0, c_t = f c_{t-1} + i g = c_0:
    this only holds if rows [H:2H] are the forget gate, as in torch's i, f, g, o order."""
    torch.manual_seed(4)
    model = SequenceRegressor(3, 4, cell="lstm", forget_bias=40.0, dtype=F64)
    with torch.no_grad():
        model.rnn.weight_ih_l0[:8] = 0  # i and f rows see neither input nor hidden state
        model.rnn.weight_hh_l0[:8] = 0
        model.rnn.bias_ih_l0[:4] = -40.0
        model.rnn.bias_hh_l0[:4] = 0.0
    c0 = randn(1, 2, 4, seed=4)
    _, (_, c_n) = model.rnn(randn(2, 9, 3, seed=5), (torch.zeros(1, 2, 4, dtype=F64), c0))
    torch.testing.assert_close(c_n, c0, rtol=1e-12, atol=1e-12)


def test_forget_bias_argument_of_the_models():
    model = SequenceTagger(2, 3, cell="lstm", forget_bias=2.0)
    torch.testing.assert_close(model.rnn.bias_ih_l0[3:6] + model.rnn.bias_hh_l0[3:6], torch.full((3,), 2.0))
    with pytest.raises(ValueError, match="expects an LSTM"):
        SequenceRegressor(2, 3, cell="gru", forget_bias=1.0)
    with pytest.raises(ValueError, match="no bias_ih/bias_hh parameters"):
        SequenceRegressor(2, 3, cell="lstm", forget_bias=1.0, bias=False)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cell", CELLS)
def test_gradient_norms_through_time_match_autograds_jacobian(cell, device):
    torch.manual_seed(5)
    layer = recurrent_layer(cell, 2, 6, num_layers=2, device=device, dtype=F64)
    x = randn(3, 8, 2, seed=6, device=device)
    norms = gradient_norms_through_time(layer, x)
    assert norms.shape == (3, 8)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(lambda s: layer(s[None])[0][0, -1], x[i])  # (H, T, I)
        torch.testing.assert_close(norms[i], jac.permute(1, 0, 2).flatten(1).norm(dim=1), rtol=1e-10, atol=1e-14)
    assert not x.requires_grad and all(p.grad is None for p in layer.parameters())


@pytest.mark.parametrize("device", DEVICES)
def test_cell_gradient_norms_match_autograds_jacobian(device):
    torch.manual_seed(7)
    layer = recurrent_layer("lstm", 2, 5, device=device, dtype=F64)
    x = randn(3, 9, 2, seed=8, device=device)
    norms = cell_gradient_norms(layer, x)
    assert norms.shape == (3,)
    for i in range(3):
        def last_cell(c0, i=i):
            return layer(x[i][None], (torch.zeros_like(c0), c0))[1][1][0, 0]
        jac = torch.autograd.functional.jacobian(last_cell, torch.zeros(1, 1, 5, dtype=F64, device=device))
        torch.testing.assert_close(norms[i], jac.norm(), rtol=1e-10, atol=1e-14)
    assert not x.requires_grad and all(p.grad is None for p in layer.parameters())


def test_cell_gradient_norms_are_the_forget_gate_to_the_power_t():
    """All weights 0 and only the forget gate's bias b: f = sigmoid(b) at every step and the gates do not read the
    cell, so dc_T/dc_0 = sigmoid(b)^T I and its Frobenius norm is sqrt(H) sigmoid(b)^T."""
    layer = recurrent_layer("lstm", 1, 3, dtype=F64)
    with torch.no_grad():
        for p in layer.parameters():
            p.zero_()
        layer.bias_ih_l0[3:6] = 2.0
    norms = cell_gradient_norms(layer, torch.randn(2, 12, 1, dtype=F64))
    expected = math.sqrt(3) * (1 / (1 + math.exp(-2.0))) ** 12
    torch.testing.assert_close(norms, torch.full((2,), expected, dtype=F64), rtol=1e-12, atol=0)


def test_cell_gradient_norms_refuse_what_they_cannot_measure():
    with pytest.raises(ValueError, match="one-layer"):
        cell_gradient_norms(nn.LSTM(2, 3, num_layers=2, batch_first=True), torch.zeros(1, 4, 2))
    with pytest.raises(ValueError, match="batch-first"):
        cell_gradient_norms(nn.LSTM(2, 3), torch.zeros(1, 4, 2))


def test_gradient_norms_of_a_scalar_linear_regime_rnn_are_geometric():
    """Hidden size 1, zero biases, zero inputs: every pre-activation is 0, tanh' = 1, and
    dh_T/dx_t = w_ih w_hh^(T - t): the norm shrinks by |w_hh| per step back."""
    layer = recurrent_layer("rnn", 1, 1, dtype=F64)
    with torch.no_grad():
        layer.weight_ih_l0.fill_(0.7)
        layer.weight_hh_l0.fill_(-0.5)
        layer.bias_ih_l0.zero_()
        layer.bias_hh_l0.zero_()
    norms = gradient_norms_through_time(layer, torch.zeros(1, 10, 1, dtype=F64))
    expected = 0.7 * 0.5 ** torch.arange(9, -1, -1, dtype=F64)
    torch.testing.assert_close(norms[0], expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda: SequenceRegressor(2, 4, cell="transformer"), ValueError, "cell must be one of"),
        (lambda: SequenceRegressor(2, 4, cell=42), TypeError, "cell must be 'rnn'"),
        (lambda: SequenceRegressor(2, 0), ValueError, "hidden_size must be a positive int"),
        (lambda: SequenceRegressor(2, 4, num_layers=0), ValueError, "num_layers must be a positive int"),
        (lambda: SequenceTagger(2, 4, batch_first=False), ValueError, "batch first"),
        (lambda: SequenceTagger(2, 4, 0), ValueError, "output_size must be a positive int"),
        (lambda: SequenceRegressor(2, 4)(torch.zeros(5, 2)), ValueError, r"One sequence .* is x\[None\]"),
        (lambda: SequenceTagger(2, 4)(torch.zeros(1, 5, 3)), ValueError, "input_size=2"),
        (lambda: gradient_norms_through_time(nn.LSTM(2, 3), torch.zeros(1, 4, 2)), ValueError, "batch-first"),
        (lambda: gradient_norms_through_time(recurrent_layer("gru", 2, 3, bidirectional=True), torch.zeros(1, 4, 2)),
         ValueError, "unidirectional"),
    ],
)
def test_errors_say_what_to_do(call, error, match):
    with pytest.raises(error, match=match):
        call()
