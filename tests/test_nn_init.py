"""helpers.nn.init against torch.nn.init: gains, fans, the very same draws, and the statistics of large draws."""

import math

import pytest
import torch
from torch import nn

from helpers.nn import init

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
WEIGHT_SHAPES = [(30, 20), (1, 7), (16, 3, 5), (8, 4, 3, 3), (6, 2, 3, 3, 2)]  # linear, conv1d/2d/3d
SHAPE_IDS = ["linear", "row", "conv1d", "conv2d", "conv3d"]
INITS = ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]


# ---------------------------------------------------------------- gains and fans
@pytest.mark.parametrize("nonlinearity", init.NONLINEARITIES)
def test_gain_of_every_nonlinearity_matches_torch(nonlinearity):
    assert init.calculate_gain(nonlinearity) == nn.init.calculate_gain(nonlinearity)
    assert type(init.calculate_gain(nonlinearity)) is type(nn.init.calculate_gain(nonlinearity))


@pytest.mark.parametrize("param", [None, 0, 0.2, 1, -0.5, math.sqrt(5)])
def test_leaky_relu_gain_follows_its_slope(param):
    assert init.calculate_gain("leaky_relu", param) == nn.init.calculate_gain("leaky_relu", param)
    slope = 0.01 if param is None else param
    assert init.calculate_gain("leaky_relu", param) == pytest.approx(math.sqrt(2 / (1 + slope**2)), rel=1e-15)


def test_gain_errors_match_torch_and_list_the_choices():
    for args in [("swish",), ("leaky_relu", True), ("leaky_relu", "0.2")]:
        with pytest.raises(ValueError) as theirs:
            nn.init.calculate_gain(*args)
        with pytest.raises(ValueError) as ours:
            init.calculate_gain(*args)
        assert str(ours.value).startswith(str(theirs.value))
    with pytest.raises(ValueError, match="use one of linear, conv1d"):
        init.calculate_gain("swish")


@pytest.mark.parametrize("shape", [*WEIGHT_SHAPES, (5, 0), (3, 4, 1, 1)], ids=[*SHAPE_IDS, "empty", "1x1-conv"])
def test_fans_match_torch(shape):
    w = torch.empty(shape)
    assert init.fan_in_and_fan_out(w) == nn.init._calculate_fan_in_and_fan_out(w)


def test_fans_of_a_conv_weight_count_channels_times_receptive_field():
    assert init.fan_in_and_fan_out(torch.empty(64, 3, 5, 5)) == (3 * 25, 64 * 25)
    assert init.fan_in_and_fan_out(nn.Linear(10, 4).weight) == (10, 4)  # weight is (out_features, in_features)


@pytest.mark.parametrize("name", ["fan_in_and_fan_out", *INITS])
@pytest.mark.parametrize("shape", [(), (5,)], ids=["scalar", "bias"])
def test_fewer_than_two_dimensions_are_refused_like_torch(name, shape):
    theirs_fn = nn.init._calculate_fan_in_and_fan_out if name == "fan_in_and_fan_out" else getattr(nn.init, name)
    with pytest.raises(ValueError) as theirs:
        theirs_fn(torch.empty(shape))
    with pytest.raises(ValueError, match="A bias has no fans") as ours:
        getattr(init, name)(torch.empty(shape))
    assert str(ours.value).startswith(str(theirs.value))


def test_unknown_mode_is_refused_like_torch():
    with pytest.raises(ValueError, match=r"please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_normal_(torch.empty(3, 4), mode="fan_avg")
    assert init.kaiming_normal_(torch.empty(3, 4), mode="FAN_OUT").shape == (3, 4)  # case-insensitive, as torch


# ---------------------------------------------------------------- the same draws as nn.init
CASES = [
    ("xavier_uniform_", {}), ("xavier_uniform_", {"gain": 5 / 3}),
    ("xavier_normal_", {}), ("xavier_normal_", {"gain": math.sqrt(2)}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": math.sqrt(5)}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {}), ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_normal_", {"nonlinearity": "tanh"}),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", WEIGHT_SHAPES, ids=SHAPE_IDS)
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}{k}" for n, k in CASES])
def test_same_generator_gives_the_same_tensor_as_torch(device, shape, name, kwargs):
    ours = torch.empty(shape, dtype=torch.float64, device=device)
    theirs = torch.empty_like(ours)
    result = getattr(init, name)(ours, **kwargs, generator=torch.Generator(device=device).manual_seed(3))
    getattr(nn.init, name)(theirs, **kwargs, generator=torch.Generator(device=device).manual_seed(3))
    assert result is ours and torch.equal(ours, theirs)


def test_a_parameter_is_filled_in_place_without_autograd_and_the_global_seed_works_too():
    w = nn.Parameter(torch.zeros(4, 6))
    with torch.random.fork_rng():
        torch.manual_seed(11)
        init.kaiming_uniform_(w)
        torch.manual_seed(11)
        expected = nn.init.kaiming_uniform_(torch.empty(4, 6))
    assert w.grad_fn is None and w.requires_grad and torch.equal(w.detach(), expected)


def test_nn_linear_default_is_kaiming_uniform_with_a_sqrt5():
    with torch.random.fork_rng():
        torch.manual_seed(5)
        layer = nn.Linear(50, 30)
        torch.manual_seed(5)
        w = init.kaiming_uniform_(torch.empty(30, 50), a=math.sqrt(5))
    assert torch.equal(w, layer.weight.detach())
    assert w.abs().max() <= 1 / math.sqrt(50)  # bound = gain sqrt(3 / fan_in) = 1 / sqrt(fan_in)


def test_zero_element_tensors_are_a_no_op_with_a_warning():
    for name in ("kaiming_uniform_", "kaiming_normal_"):
        with pytest.warns(UserWarning, match="zero-element"):
            assert getattr(init, name)(torch.empty(0, 3)).shape == (0, 3)


# ---------------------------------------------------------------- statistics of large draws against the formulas
def expected_std(name, shape, **kwargs):
    fan_in, fan_out = math.prod(shape[1:]), shape[0] * math.prod(shape[2:])
    if name.startswith("xavier"):
        return kwargs.get("gain", 1.0) * math.sqrt(2 / (fan_in + fan_out))
    fan = fan_out if kwargs.get("mode") == "fan_out" else fan_in
    return init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"), kwargs.get("a", 0)) / math.sqrt(fan)


@pytest.mark.parametrize("shape", [(1000, 400), (200, 64, 3, 3)], ids=["linear", "conv2d"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}{k}" for n, k in CASES])
def test_large_draws_have_the_formula_std(shape, name, kwargs):
    std = expected_std(name, shape, **kwargs)
    w = getattr(init, name)(torch.empty(shape, dtype=torch.float64), **kwargs,
                            generator=torch.Generator().manual_seed(0))
    n = w.numel()
    # standard error of the sample std: sqrt(Var(s^2)) / (2 std), Var(s^2) = (mu_4 - std^4) / n with the
    # fourth moment mu_4 = 3 std^4 (normal) or 9/5 std^4 (uniform on (-sqrt(3) std, sqrt(3) std))
    kurtosis = 9 / 5 if name.endswith("uniform_") else 3.0
    standard_error = std * math.sqrt((kurtosis - 1) / n) / 2
    assert abs(w.std().item() - std) < 5 * standard_error
    assert abs(w.mean().item()) < 5 * std / math.sqrt(n)
    if name.endswith("uniform_"):
        bound = math.sqrt(3) * std
        assert w.abs().max().item() <= bound * (1 + 1e-12)
        assert w.abs().max().item() > bound * (1 - 1e-3)  # and fills the interval up to the bound


def test_he_initialisation_keeps_the_signal_variance_through_relu_layers():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2000, 256, generator=g, dtype=torch.float64)
    second_moment = x.pow(2).mean().item()
    for _ in range(10):
        w = init.kaiming_normal_(torch.empty(256, 256, dtype=torch.float64), nonlinearity="relu", generator=g)
        x = torch.relu(x @ w.T)
    assert 0.5 < x.pow(2).mean().item() / second_moment < 2  # E[x^2] preserved (a 1/2 gain would give 2^-10)
