"""helpers.nn.dropout against F.dropout and nn.Dropout: the mask's distribution over large draws (the random
streams differ, so masks cannot be compared one by one), exact eval/p=0/p=1 behaviour, gradients, the module,
and Monte-Carlo dropout against weight-scaling inference in closed form."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.nn.dropout import Dropout, dropout, dropout_mask, mc_dropout_predict

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]
F64 = torch.float64
N = 200_000  # draws per statistical test
Z = 5.0  # standard errors allowed: a false alarm about once in 3.5 million runs


def gen(seed):
    return torch.Generator().manual_seed(seed)


def random(*shape, seed=0, dtype=F64, device="cpu"):
    return torch.randn(tuple(shape), generator=gen(seed), dtype=F64).to(dtype=dtype, device=device)


# ---------------------------------------------------------------- the distribution of the mask
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_keep_rate_and_mean_are_preserved_like_torch(device, dtype, p):
    x = torch.ones(N, dtype=dtype, device=device)
    for y in (dropout(x, p, generator=gen(1)), F.dropout(x, p)):  # ours, and torch as a check of the test
        assert y.dtype == dtype and y.device == x.device and y.shape == x.shape
        kept = (y != 0).double().mean().item()
        assert abs(kept - (1 - p)) < Z * math.sqrt(p * (1 - p) / N)  # keep rate 1 - p
        assert abs(y.double().mean().item() - 1.0) < Z * math.sqrt(p / (1 - p) / N)  # E[y] = x
        values = torch.unique(y).tolist()  # every kept unit is scaled by exactly 1 / (1 - p)
        assert values == [0.0, pytest.approx(1 / (1 - p), rel=1e-6)]
    ours, theirs = dropout(x, p, generator=gen(2)), F.dropout(x, p)
    if device == "cpu":  # the same two values, bit for bit (CUDA's fused kernel may round 1/(1-p) differently)
        assert torch.equal(torch.unique(ours), torch.unique(theirs))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_units_are_dropped_independently(p):
    mask = dropout_mask((N, 2), p, gen(3), dtype=F64) != 0
    both = (mask[:, 0] & mask[:, 1]).double().mean().item()
    q = (1 - p) ** 2
    assert abs(both - q) < Z * math.sqrt(q * (1 - q) / N)  # P(both kept) = (1 - p)^2
    rows = dropout_mask((4, 50_000), p, gen(4), dtype=F64)  # a fresh mask per example, not one per batch
    assert not torch.equal(rows[0], rows[1])


@pytest.mark.parametrize("device", DEVICES)
def test_a_seeded_generator_repeats_the_mask_and_inplace_agrees(device):
    x = random(64, 10, seed=5, device=device)
    a, b = dropout(x, 0.3, generator=gen(6)), dropout(x, 0.3, generator=gen(6))
    assert torch.equal(a, b) and not torch.equal(a, dropout(x, 0.3, generator=gen(7)))
    y = x.clone()
    out = dropout(y, 0.3, inplace=True, generator=gen(6))
    assert out is y and torch.equal(y, a)
    z = x.clone()
    assert F.dropout(z, 0.3, inplace=True) is z  # torch returns the input too


# ---------------------------------------------------------------- exact behaviour
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_eval_and_p_zero_are_the_identity_and_p_one_gives_zeros_like_torch(device, dtype):
    x = random(5, 7, seed=8, dtype=dtype, device=device)
    for p in (0.0, 0.3, 1.0):
        assert dropout(x, p, training=False) is x and F.dropout(x, p, training=False) is x
    assert dropout(x, 0.0) is x and F.dropout(x, 0.0) is x
    ours, theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y_ours, y_theirs = dropout(ours, 1.0), F.dropout(theirs, 1.0)
    assert torch.equal(y_ours, y_theirs) and torch.equal(y_ours.signbit(), y_theirs.signbit())  # -0. for x < 0
    y_ours.sum().backward(), y_theirs.sum().backward()
    assert torch.equal(ours.grad, theirs.grad) and not ours.grad.any()
    y = x.clone()
    assert dropout(y, 1.0, inplace=True) is y and not y.any()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_the_gradient_is_the_scaled_mask(device, p):
    x = (random(300, seed=9, device=device).abs() + 0.1).requires_grad_(True)
    y = dropout(x, p, generator=gen(10))
    w = random(300, seed=11, device=device)
    (y * w).sum().backward()
    mask = dropout_mask(x.shape, p, gen(10), dtype=F64, device=device)  # the same draws again
    assert torch.allclose(y, x.detach() * mask, rtol=1e-15, atol=0)
    assert torch.allclose(x.grad, w * mask, rtol=1e-15, atol=0)  # dy_i/dx_i = m_i / (1 - p)


def test_errors_follow_torchs_wording():
    x = torch.zeros(3)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError) as theirs:
            F.dropout(x, p)
        with pytest.raises(ValueError, match="probability of DROPPING") as ours:
            dropout(x, p)
        assert str(ours.value).startswith(str(theirs.value))
        with pytest.raises(ValueError, match="between 0 and 1"):
            Dropout(p)
    with pytest.raises(TypeError, match="torch.Tensor"):
        dropout([1.0, 2.0])


# ---------------------------------------------------------------- the module
def test_module_matches_nn_dropout_in_constructor_repr_modes_and_state():
    ours, theirs = Dropout(), nn.Dropout()
    assert (ours.p, ours.inplace) == (theirs.p, theirs.inplace) == (0.5, False)
    assert repr(Dropout(0.3, inplace=True)) == repr(nn.Dropout(0.3, inplace=True)) == "Dropout(p=0.3, inplace=True)"
    assert ours.state_dict() == theirs.state_dict() == {}
    x = torch.ones(N, dtype=F64)
    layer = Dropout(0.4, generator=gen(12))
    y = layer(x)
    assert abs((y != 0).double().mean().item() - 0.6) < Z * math.sqrt(0.24 / N)
    assert not torch.equal(y, layer(x))  # a new mask every call
    layer.eval()
    assert layer(x) is x
    layer.train()
    z = x.clone()
    assert Dropout(0.4, inplace=True)(z) is z


# ---------------------------------------------------------------- weight scaling vs Monte-Carlo dropout
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_weight_scaling_is_the_exact_average_for_a_linear_layer(device, p):
    torch.manual_seed(0)
    linear = nn.Linear(6, 3, dtype=F64, device=device)
    model = nn.Sequential(Dropout(p, generator=gen(13)), linear)
    x = random(4, 6, seed=14, device=device)
    exact = x @ linear.weight.T + linear.bias  # E[W (m * x / (1 - p)) + b] = W x + b
    model.eval()
    assert torch.allclose(model(x), exact, rtol=1e-14, atol=1e-14)  # weight scaling: one eval pass
    samples = 20_000
    mc = mc_dropout_predict(model, x, samples)
    variance = p / (1 - p) * (x**2) @ (linear.weight**2).T  # Var[y_j] = p/(1-p) sum_i W_ji^2 x_i^2
    assert (mc - exact).abs().max() < Z * (variance / samples).sqrt().max()
    assert not model.training and not model[0].training  # modes restored


@pytest.mark.parametrize("p", [0.3, 0.6])
def test_monte_carlo_differs_from_weight_scaling_after_a_nonlinearity(p):
    class Square(nn.Module):
        def forward(self, h):
            return h**2

    model = nn.Sequential(nn.Dropout(p), Square())  # torch's layer works too
    x = random(50, seed=15)
    samples = 20_000
    mc = mc_dropout_predict(model, x.expand(samples, 50), 1)  # one pass of many copies: `samples` masks
    expected = x**2 / (1 - p)  # E[(m x / (1 - p))^2] = x^2 / (1 - p), while weight scaling gives x^2
    sd = (x**4 * ((1 / (1 - p) ** 3) - 1 / (1 - p) ** 2)).sqrt()  # sd of one draw
    assert ((mc.mean(0) - expected).abs() <= Z * sd / math.sqrt(samples) + 1e-12).all()
    model.eval()
    assert torch.allclose(model(x), x**2)


def test_mc_dropout_keeps_batch_norm_in_eval_applies_the_transform_and_restores_modes():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), Dropout(0.5), nn.Linear(8, 3)).double()
    model.train()
    before = model[1].running_mean.clone()
    x = random(10, 5, seed=16)
    probs = mc_dropout_predict(model, x, samples=30, transform=lambda z: z.softmax(-1))
    assert probs.shape == (10, 3) and torch.allclose(probs.sum(-1), torch.ones(10, dtype=F64))
    assert torch.equal(model[1].running_mean, before)  # batch norm ran in eval: no buffer update
    assert all(m.training for m in model.modules())  # train mode restored everywhere
    with pytest.raises(ValueError, match="no dropout layer"):
        mc_dropout_predict(nn.Linear(5, 3), x)
    with pytest.raises(ValueError, match="samples"):
        mc_dropout_predict(model, x, samples=0)
