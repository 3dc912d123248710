"""The reference losses agree with torch.nn.functional: values, gradients, extreme inputs, dtypes, devices."""

import math

import pytest
import torch
import torch.nn.functional as F

from helpers.nn import losses

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DTYPES = [torch.float32, torch.float64]
F64 = torch.float64
EXTREME = [[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0], [1000.0, 1000.0, 1000.0], [0.0, 0.0, 0.0]]


def tol(dtype):
    return {"rtol": 1e-5, "atol": 1e-6} if dtype == torch.float32 else {"rtol": 1e-10, "atol": 1e-12}


def random(*shape, seed=0, scale=3.0, dtype=F64, device="cpu"):
    x = scale * torch.randn(tuple(shape), generator=torch.Generator().manual_seed(seed), dtype=F64)
    return x.to(dtype=dtype, device=device)


def leaf(x):
    return x.detach().clone().requires_grad_(True)


def same_value_and_grad(ours, theirs, *inputs, dtype=F64, weight_seed=7):
    """ours(*inputs) == theirs(*inputs), and the gradients of a random weighting of the outputs agree.

    The library oracle runs in float64 (the inputs upcast), so a float32 answer is compared with the
    accurate value, not with another float32 computation's rounding errors.
    """
    mine, ref = [leaf(x) for x in inputs], [leaf(x.double()) for x in inputs]
    out_ours, out_ref = ours(*mine), theirs(*ref)
    assert out_ours.dtype == inputs[0].dtype == dtype and out_ours.shape == out_ref.shape
    assert out_ours.device == inputs[0].device
    assert torch.allclose(out_ours.double(), out_ref, **tol(dtype)), (out_ours, out_ref)
    w = random(*out_ref.shape, seed=weight_seed, dtype=F64, device=out_ref.device)
    (out_ours * w.to(dtype)).sum().backward()
    (out_ref * w).sum().backward()
    for a, b in zip(mine, ref):
        assert a.grad.dtype == dtype and torch.isfinite(a.grad).all()
        assert torch.allclose(a.grad.double(), b.grad, **tol(dtype)), (a.grad, b.grad)


# ---------------------------------------------------------------- logsumexp, log_softmax, softmax
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,dim", [((7,), -1), ((4, 5), -1), ((4, 5), 0), ((3, 4, 6), 1), ((2, 3, 4), -1)])
def test_logsumexp_matches_torch(device, dtype, shape, dim):
    x = random(*shape, seed=sum(shape), dtype=dtype, device=device)
    same_value_and_grad(lambda t: losses.logsumexp(t, dim), lambda t: torch.logsumexp(t, dim), x, dtype=dtype)
    kept = losses.logsumexp(x, dim, keepdim=True)
    assert torch.allclose(kept, torch.logsumexp(x, dim, keepdim=True), **tol(dtype))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "ours,theirs",
    [
        (losses.logsumexp, lambda t: torch.logsumexp(t, -1)),
        (losses.log_softmax, lambda t: F.log_softmax(t, -1)),
        (losses.softmax, lambda t: F.softmax(t, -1)),
    ],
    ids=["logsumexp", "log_softmax", "softmax"],
)
def test_extreme_logits_stay_finite(device, dtype, ours, theirs):
    x = torch.tensor(EXTREME, dtype=dtype, device=device)
    same_value_and_grad(ours, theirs, x, dtype=dtype)
    assert torch.isfinite(ours(x)).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_log_softmax_and_softmax_match_torch(device, dtype, dim):
    x = random(6, 5, seed=3, scale=10.0, dtype=dtype, device=device)
    same_value_and_grad(lambda t: losses.log_softmax(t, dim), lambda t: F.log_softmax(t, dim), x, dtype=dtype)
    same_value_and_grad(lambda t: losses.softmax(t, dim), lambda t: F.softmax(t, dim), x, dtype=dtype)
    assert torch.allclose(losses.softmax(x, dim).sum(dim), torch.ones((), dtype=dtype, device=device), **tol(dtype))


def test_softmax_is_shift_invariant_and_log_softmax_beats_log_of_softmax():
    x = random(3, 4, seed=1)
    assert torch.allclose(losses.softmax(x + 123.0), losses.softmax(x))
    far = torch.tensor([0.0, -1000.0], dtype=F64)
    assert torch.log(losses.softmax(far))[1] == -math.inf  # the naive route underflows
    assert losses.log_softmax(far)[1].item() == pytest.approx(-1000.0)


def test_logsumexp_special_values():
    minus_inf = torch.full((2, 3), -math.inf, dtype=F64)
    assert torch.equal(losses.logsumexp(minus_inf), torch.logsumexp(minus_inf, -1))
    mixed = torch.tensor([-math.inf, 0.0, 0.0], dtype=F64)
    assert losses.logsumexp(mixed).item() == pytest.approx(math.log(2))
    assert losses.logsumexp(torch.tensor([math.inf, 1.0])).item() == math.inf
    assert losses.logsumexp(torch.tensor([5.0])).item() == 5.0


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_matches_torch_and_its_gradient_is_the_sigmoid(device, dtype):
    x = torch.cat([random(50, seed=2, scale=20.0, dtype=dtype), torch.tensor([0.0, 1000.0, -1000.0], dtype=dtype)])
    x = x.to(device)
    exact = lambda t: torch.logaddexp(torch.zeros_like(t), t)  # noqa: E731 (F.softplus is linear above 20)
    same_value_and_grad(losses.softplus, exact, x, dtype=dtype)
    assert torch.allclose(losses.softplus(x), F.softplus(x), **tol(dtype))
    z = leaf(x)
    losses.softplus(z).sum().backward()
    assert torch.allclose(z.grad, torch.sigmoid(x), **tol(dtype))
    assert z.grad[50].item() == 0.5  # exactly at 0, where max(0, x)-based formulas get the slope wrong


# ---------------------------------------------------------------- binary cross-entropy
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_matches_torch(device, dtype, reduction):
    logits = random(8, 3, seed=4, scale=5.0, dtype=dtype, device=device)
    hard = (random(8, 3, seed=5, dtype=dtype, device=device) > 0).to(dtype)
    soft = torch.rand(8, 3, generator=torch.Generator().manual_seed(6), dtype=F64).to(dtype=dtype, device=device)
    for target in (hard, soft):
        same_value_and_grad(
            lambda z, y: losses.binary_cross_entropy_with_logits(z, y, reduction),
            lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction=reduction),
            logits,
            target,
            dtype=dtype,
        )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_extreme_logits(device, dtype):
    logits = torch.tensor([1000.0, 1000.0, -1000.0, -1000.0, 0.0], dtype=dtype, device=device)
    target = torch.tensor([1.0, 0.0, 1.0, 0.0, 1.0], dtype=dtype, device=device)
    same_value_and_grad(
        lambda z, y: losses.binary_cross_entropy_with_logits(z, y, "none"),
        lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"),
        logits,
        target,
        dtype=dtype,
    )
    per_example = losses.binary_cross_entropy_with_logits(logits, target, "none")
    expected = torch.tensor([0.0, 1000.0, 1000.0, 0.0, math.log(2)], dtype=dtype, device=device)
    assert torch.allclose(per_example, expected, **tol(dtype))
    z = leaf(logits)
    losses.binary_cross_entropy_with_logits(z, target, "sum").backward()
    assert torch.allclose(z.grad, torch.sigmoid(logits) - target)  # d loss / dz = sigmoid(z) - y


# ---------------------------------------------------------------- categorical cross-entropy
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(device, dtype, reduction):
    logits = random(16, 5, seed=8, scale=4.0, dtype=dtype, device=device)
    target = torch.randint(0, 5, (16,), generator=torch.Generator().manual_seed(9)).to(device)
    same_value_and_grad(
        lambda z: losses.cross_entropy(z, target, reduction),
        lambda z: F.cross_entropy(z, target, reduction=reduction),
        logits,
        dtype=dtype,
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_extreme_logits(device, dtype):
    logits = torch.tensor(EXTREME, dtype=dtype, device=device)
    target = torch.tensor([2, 0, 1, 2], device=device)
    same_value_and_grad(
        lambda z: losses.cross_entropy(z, target, "none"),
        lambda z: F.cross_entropy(z, target, reduction="none"),
        logits,
        dtype=dtype,
    )
    per_example = losses.cross_entropy(logits, target, "none")
    assert torch.isfinite(per_example).all()
    assert per_example[0].item() == pytest.approx(2000.0)


def test_cross_entropy_accepts_int32_targets_and_one_row():
    logits = random(1, 4, seed=10)
    assert torch.allclose(losses.cross_entropy(logits, torch.tensor([3], dtype=torch.int32)),
                          F.cross_entropy(logits, torch.tensor([3])))


# ---------------------------------------------------------------- label smoothing
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.37, 1.0])
def test_label_smoothing_matches_torch(device, dtype, reduction, eps):
    logits = random(12, 6, seed=30, scale=4.0, dtype=dtype, device=device)
    target = torch.randint(0, 6, (12,), generator=torch.Generator().manual_seed(31)).to(device)
    same_value_and_grad(
        lambda z: losses.cross_entropy(z, target, reduction, label_smoothing=eps),
        lambda z: F.cross_entropy(z, target, reduction=reduction, label_smoothing=eps),
        logits,
        dtype=dtype,
    )
    extreme = torch.tensor(EXTREME, dtype=dtype, device=device)
    same_value_and_grad(
        lambda z: losses.cross_entropy(z, target[:4] % 3, reduction, label_smoothing=eps),
        lambda z: F.cross_entropy(z, target[:4] % 3, reduction=reduction, label_smoothing=eps),
        extreme,
        dtype=dtype,
    )


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.5, 1.0])
def test_smooth_targets_are_the_distribution_the_loss_uses(device, eps):
    k = 5
    target = torch.tensor([0, 4, 2, 2, 1, 3], device=device)
    q = losses.smooth_targets(target, k, eps, dtype=F64)
    assert q.shape == (6, k) and q.dtype == F64 and q.device == target.device
    assert torch.allclose(q.sum(1), torch.ones(6, dtype=F64, device=device), rtol=0, atol=1e-15)
    rows = torch.arange(6, device=device)
    assert torch.allclose(q[rows, target], torch.full((6,), 1 - eps + eps / k, dtype=F64, device=device))
    others = q.masked_fill(nn_one_hot(target, k), 0.0)
    assert torch.allclose(others.sum(1), torch.full((6,), eps * (k - 1) / k, dtype=F64, device=device))
    assert ((others == eps / k) | nn_one_hot(target, k)).all()  # every wrong class gets eps/K, exactly
    logits = random(6, k, seed=32, device=device).requires_grad_(True)
    for reduction in ("mean", "sum", "none"):  # torch's loss against the soft targets q is ours
        theirs = F.cross_entropy(logits, q, reduction=reduction)
        ours = losses.cross_entropy(logits, target, reduction, label_smoothing=eps)
        assert torch.allclose(ours, theirs, **tol(F64))
        (ours_grad,) = torch.autograd.grad(ours.sum(), logits)
        assert torch.allclose(ours_grad, torch.autograd.grad(theirs.sum(), logits)[0], **tol(F64))
    (grad,) = torch.autograd.grad(losses.cross_entropy(logits, target, "sum", label_smoothing=eps), logits)
    assert torch.allclose(grad, losses.softmax(logits.detach()) - q, **tol(F64))  # d loss_i / d z_i = p_i - q_i
    assert losses.smooth_targets(target, k, 0.1).dtype == torch.get_default_dtype()


def nn_one_hot(target, k):
    return F.one_hot(target, k).bool()


def test_label_smoothing_keeps_the_optimal_logits_finite():
    """With eps > 0 the loss is minimised at softmax(z) = q, whose logit gap is log((1 - eps + eps/K) / (eps/K))."""
    eps, k = 0.1, 4
    target = torch.tensor([2])
    q = losses.smooth_targets(target, k, eps, dtype=F64)
    best = q.log()  # softmax(log q) = q
    z = best.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(losses.cross_entropy(z, target, label_smoothing=eps), z)
    assert grad.abs().max() < 1e-15
    for scale in (2.0, 10.0):  # sharper logits cost more with smoothing, less without
        sharper = best * scale
        assert losses.cross_entropy(sharper, target, label_smoothing=eps) > losses.cross_entropy(best, target,
                                                                                                  label_smoothing=eps)
        assert losses.cross_entropy(sharper, target) < losses.cross_entropy(best, target)


def test_label_smoothing_errors_say_what_to_do():
    x, y = torch.randn(3, 4), torch.tensor([0, 1, 3])
    with pytest.raises(RuntimeError) as theirs:
        F.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="0.1 is usual") as ours:
        losses.cross_entropy(x, y, label_smoothing=1.5)
    assert str(ours.value).startswith(str(theirs.value))
    # torch silently treats a negative eps as 0 (torch 2.x); a negative probability mass is refused here
    assert F.cross_entropy(x, y, label_smoothing=-0.1) == F.cross_entropy(x, y)
    for eps in (-0.1, 1.5):
        with pytest.raises(ValueError, match="between 0.0 and 1.0"):
            losses.cross_entropy(x, y, label_smoothing=eps)
        with pytest.raises(ValueError, match="between 0.0 and 1.0"):
            losses.smooth_targets(y, 4, eps)
    with pytest.raises(ValueError, match=r"0\.\.3"):
        losses.smooth_targets(torch.tensor([0, 4]), 4, 0.1)
    with pytest.raises(TypeError, match="class indices"):
        losses.smooth_targets(torch.tensor([0.0, 1.0]), 4, 0.1)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        losses.smooth_targets(torch.tensor([[0, 1]]), 4, 0.1)
    with pytest.raises(ValueError, match="num_classes"):
        losses.smooth_targets(y, 0, 0.1)


# ---------------------------------------------------------------- Gaussian NLL and MSE
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gaussian_nll_matches_torch(device, dtype, reduction):
    pred = random(10, seed=11, dtype=dtype, device=device)
    target = random(10, seed=12, dtype=dtype, device=device)
    same_value_and_grad(
        lambda p, y: losses.gaussian_nll(p, y, 1.5, reduction),
        lambda p, y: F.gaussian_nll_loss(p, y, torch.full_like(p, 1.5**2), full=True, reduction=reduction),
        pred,
        target,
        dtype=dtype,
    )
    sigma = 0.5 + random(10, seed=13, dtype=dtype, device=device).abs()  # one sigma per example
    same_value_and_grad(
        lambda p, y, s: losses.gaussian_nll(p, y, s, reduction),
        lambda p, y, s: F.gaussian_nll_loss(p, y, s**2, full=True, reduction=reduction),
        pred,
        target,
        sigma,
        dtype=dtype,
    )


@pytest.mark.parametrize("sigma", [0.1, 1.0, 3.0])
def test_gaussian_nll_is_scaled_and_shifted_mse(sigma):
    pred, target = random(20, seed=14), random(20, seed=15)
    nll = losses.gaussian_nll(pred, target, sigma)
    expected = losses.mse(pred, target) / (2 * sigma**2) + math.log(sigma) + 0.5 * math.log(2 * math.pi)
    assert nll.item() == pytest.approx(expected.item(), rel=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_matches_torch(device, dtype, reduction):
    pred = random(4, 6, seed=16, dtype=dtype, device=device)
    target = random(4, 6, seed=17, dtype=dtype, device=device)
    same_value_and_grad(
        lambda p, y: losses.mse(p, y, reduction), lambda p, y: F.mse_loss(p, y, reduction=reduction), pred, target,
        dtype=dtype,
    )


# ---------------------------------------------------------------- dtypes, devices and helpful errors
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_function_keeps_dtype_and_device(device, dtype):
    x = random(3, 4, seed=18, dtype=dtype, device=device)
    y01 = (x > 0).to(dtype)
    labels = torch.tensor([0, 3, 1], device=device)
    outputs = [
        losses.logsumexp(x), losses.log_softmax(x), losses.softmax(x), losses.softplus(x),
        losses.binary_cross_entropy_with_logits(x, y01), losses.cross_entropy(x, labels),
        losses.gaussian_nll(x, y01, 2.0), losses.mse(x, y01),
    ]
    for out in outputs:
        assert out.dtype == dtype and out.device.type == torch.device(device).type


def test_errors_say_what_to_do():
    x = torch.randn(3, 4)
    with pytest.raises(TypeError, match=r"x.float\(\)"):
        losses.logsumexp(torch.arange(4))
    with pytest.raises(TypeError, match="torch.Tensor"):
        losses.softmax([1.0, 2.0])
    with pytest.raises(ValueError, match="at least one value"):
        losses.logsumexp(torch.zeros(2, 0))
    with pytest.raises(ValueError, match="same shape"):
        losses.mse(torch.zeros(5, 1), torch.zeros(5))
    with pytest.raises(ValueError, match="squeeze"):
        losses.binary_cross_entropy_with_logits(torch.zeros(5, 1), torch.zeros(5))
    with pytest.raises(TypeError, match=r"target.float\(\)"):
        losses.binary_cross_entropy_with_logits(torch.zeros(5), torch.zeros(5, dtype=torch.int64))
    with pytest.raises(TypeError, match="class indices"):
        losses.cross_entropy(x, torch.zeros(3))
    with pytest.raises(ValueError, match=r"0\.\.3"):
        losses.cross_entropy(x, torch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match=r"\(N, K\)"):
        losses.cross_entropy(x, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="positive"):
        losses.gaussian_nll(torch.zeros(3), torch.zeros(3), 0.0)
    with pytest.raises(ValueError, match="reduction"):
        losses.mse(torch.zeros(3), torch.zeros(3), reduction="average")


def test_softplus_keeps_relative_precision_far_below_zero_and_slope_half_at_zero():
    x = torch.tensor([-50.0, -40.0, 0.0], dtype=torch.float64, requires_grad=True)
    exact = torch.tensor([math.exp(-50.0), math.exp(-40.0)], dtype=torch.float64)  # log1p(e^x) ~ e^x there
    assert torch.allclose(losses.softplus(x)[:2], exact, rtol=1e-12, atol=0)
    losses.softplus(x).sum().backward()
    assert x.grad[2].item() == 0.5
