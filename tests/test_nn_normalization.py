"""helpers.nn.normalization against F.batch_norm and nn.BatchNorm1d/2d: outputs, gradients, running buffers."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.nn import normalization
from helpers.nn.normalization import BatchNorm1d, BatchNorm2d, batch_norm, batch_norm_backward

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}
SHAPES = [(8, 3), (5, 4, 6), (4, 3, 5, 2)]  # (N, C), (N, C, L), (N, C, H, W)


def random(*shape, seed=0, scale=1.0, shift=0.0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return (shift + scale * torch.randn(tuple(shape), generator=g, dtype=F64)).to(device)


def close(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.device == b.device and torch.allclose(a, b, **TOL)


# ---------------------------------------------------------------- the functional form
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "3d", "4d"])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_training_output_gradients_and_running_buffers_match_torch(device, shape, affine, momentum):
    c = shape[1]
    x = random(*shape, seed=sum(shape), scale=2.0, shift=1.5, device=device)
    weight = random(c, seed=1, device=device) if affine else None
    bias = random(c, seed=2, device=device) if affine else None
    ours_buffers = [random(c, seed=3, device=device), random(c, seed=4, device=device).abs() + 0.5]
    torch_buffers = [b.clone() for b in ours_buffers]
    ours_in = [t.clone().requires_grad_(True) for t in (x, weight, bias) if t is not None]
    torch_in = [t.clone().requires_grad_(True) for t in (x, weight, bias) if t is not None]

    def call(fn, inputs, buffers):
        params = inputs[1:] if affine else [None, None]
        return fn(inputs[0], *buffers, *params, training=True, momentum=momentum, eps=1e-3)

    ours, theirs = call(batch_norm, ours_in, ours_buffers), call(F.batch_norm, torch_in, torch_buffers)
    assert close(ours, theirs)
    for a, b in zip(ours_buffers, torch_buffers):  # mean, and the unbiased variance averaged in place
        assert close(a, b)
    grad_output = random(*shape, seed=9, device=device)
    expected = torch.autograd.grad(theirs, torch_in, grad_output)
    for a, b in zip(torch.autograd.grad(ours, ours_in, grad_output), expected):  # input, weight, bias
        assert close(a, b)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "3d", "4d"])
def test_the_running_variance_is_unbiased_and_the_normalising_one_biased(device, shape):
    x = random(*shape, seed=5, scale=3.0, device=device)
    dims = [0, *range(2, x.ndim)]
    running_mean = torch.zeros(shape[1], dtype=F64, device=device)
    running_var = torch.zeros(shape[1], dtype=F64, device=device)
    y = batch_norm(x, running_mean, running_var, training=True, momentum=1.0, eps=1e-5)
    assert close(running_mean, x.mean(dims))
    assert close(running_var, x.var(dims, correction=1))  # m / (m - 1) times the batch's
    assert close(y.var(dims, correction=0), x.var(dims, correction=0) / (x.var(dims, correction=0) + 1e-5))
    assert torch.allclose(y.mean(dims), torch.zeros_like(running_mean), atol=1e-12)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", SHAPES, ids=["2d", "3d", "4d"])
@pytest.mark.parametrize("affine", [True, False])
def test_eval_mode_uses_the_running_statistics_and_leaves_them_alone(device, shape, affine):
    c = shape[1]
    x = random(*shape, seed=6, device=device).requires_grad_(True)
    running_mean, running_var = random(c, seed=7, device=device), random(c, seed=8, device=device).abs() + 0.1
    params = [random(c, seed=10, device=device).requires_grad_(True), random(c, seed=11, device=device)] if affine \
        else [None, None]
    before = running_mean.clone(), running_var.clone()
    ours = batch_norm(x, running_mean, running_var, *params)
    theirs = F.batch_norm(x, running_mean, running_var, *params)
    assert close(ours, theirs)
    assert torch.equal(running_mean, before[0]) and torch.equal(running_var, before[1])
    leaves = [x] + ([params[0]] if affine else [])
    for a, b in zip(torch.autograd.grad(ours.sum(), leaves), torch.autograd.grad(theirs.sum(), leaves)):
        assert close(a, b)


def test_no_running_buffers_in_training_normalises_with_the_batch():
    x = random(6, 3, 4, seed=12)
    assert close(batch_norm(x, None, None, training=True), F.batch_norm(x, None, None, training=True))


# ---------------------------------------------------------------- the backward pass the chapter derives
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape", [*SHAPES, (2, 1)], ids=["2d", "3d", "4d", "two-values"])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_backward_matches_autograd(device, shape, affine):
    c = shape[1]
    x = random(*shape, seed=13, scale=2.0, shift=-1.0, device=device).requires_grad_(True)
    weight = random(c, seed=14, device=device).requires_grad_(True) if affine else None
    bias = random(c, seed=15, device=device).requires_grad_(True) if affine else None
    y = F.batch_norm(x, None, None, weight, bias, training=True, eps=1e-4)
    grad_output = random(*shape, seed=16, device=device)
    expected = torch.autograd.grad(y, [t for t in (x, weight, bias) if t is not None], grad_output)
    grad_input, grad_weight, grad_bias = batch_norm_backward(grad_output, x.detach(), weight, eps=1e-4)
    assert close(grad_input, expected[0])
    if affine:
        assert close(grad_weight, expected[1]) and close(grad_bias, expected[2])
    else:
        assert grad_weight is None and close(grad_bias, grad_output.sum([0, *range(2, x.ndim)]))
    assert torch.allclose(grad_input.sum([0, *range(2, x.ndim)]), torch.zeros(c, dtype=F64, device=device),
                          atol=1e-12)  # the mean is removed, so a shift of a whole channel changes nothing


# ---------------------------------------------------------------- the modules
def pair(cls, theirs_cls, device, **kwargs):
    theirs = theirs_cls(3, dtype=F64, device=device, **kwargs)
    ours = cls(3, dtype=F64, device=device, **kwargs)
    if theirs.affine:  # not the default 1 and 0, so that a mix-up of weight and bias shows
        with torch.no_grad():
            theirs.weight.copy_(random(3, seed=17))
            theirs.bias.copy_(random(3, seed=18))
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


MODULES = [(BatchNorm1d, nn.BatchNorm1d, (10, 3)), (BatchNorm1d, nn.BatchNorm1d, (6, 3, 5)),
           (BatchNorm2d, nn.BatchNorm2d, (4, 3, 3, 5))]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("cls,theirs_cls,shape", MODULES, ids=["1d-2d", "1d-3d", "2d-4d"])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("momentum", [0.1, None], ids=["momentum=0.1", "cumulative"])
def test_modules_match_torch_over_training_steps_and_in_eval(device, cls, theirs_cls, shape, affine, momentum):
    ours, theirs = pair(cls, theirs_cls, device, affine=affine, momentum=momentum)
    for step in range(4):
        x = random(*shape, seed=20 + step, scale=1.0 + step, shift=step - 1.5, device=device)
        x_ours, x_theirs = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
        assert close(y_ours, y_theirs)
        grad_output = random(*shape, seed=30 + step, device=device)
        (y_ours * grad_output).sum().backward()
        (y_theirs * grad_output).sum().backward()
        assert close(x_ours.grad, x_theirs.grad)
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert close(a.grad, b.grad)
        for name in ("running_mean", "running_var"):
            assert close(getattr(ours, name), getattr(theirs, name)), name
        assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == step + 1
    ours.eval(), theirs.eval()
    x = random(*shape, seed=40, device=device)
    assert close(ours(x), theirs(x))
    assert ours.num_batches_tracked.item() == 4  # eval neither counts nor updates


@pytest.mark.parametrize("device", DEVICES)
def test_cumulative_momentum_averages_every_batch_equally(device):
    bn = BatchNorm1d(2, momentum=None, dtype=F64, device=device)
    batches = [random(7, 2, seed=50 + k, shift=k, device=device) for k in range(5)]
    for x in batches:
        bn(x)
    assert close(bn.running_mean, torch.stack([x.mean(0) for x in batches]).mean(0))
    assert close(bn.running_var, torch.stack([x.var(0) for x in batches]).mean(0))


@pytest.mark.parametrize("cls,theirs_cls,shape", MODULES, ids=["1d-2d", "1d-3d", "2d-4d"])
def test_without_running_statistics_eval_still_uses_the_batch(cls, theirs_cls, shape):
    ours, theirs = pair(cls, theirs_cls, "cpu", track_running_stats=False)
    assert ours.running_mean is None and ours.num_batches_tracked is None
    ours.eval(), theirs.eval()
    x = random(*shape, seed=60)
    assert close(ours(x), theirs(x))


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("track", [True, False])
def test_state_dict_round_trips_both_ways(affine, track):
    theirs = nn.BatchNorm2d(4, affine=affine, track_running_stats=track, dtype=F64)
    ours = BatchNorm2d(4, affine=affine, track_running_stats=track, dtype=F64)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.train()(random(5, 4, 2, 2, seed=61))  # move the buffers away from their initial values
    ours.load_state_dict(theirs.state_dict())
    for (name, a), b in zip(ours.state_dict().items(), theirs.state_dict().values()):
        assert torch.equal(a, b) and a.dtype == b.dtype, name
    theirs.load_state_dict(BatchNorm2d(4, affine=affine, track_running_stats=track, dtype=F64).state_dict())
    if track:
        assert theirs.num_batches_tracked.item() == 0


def test_defaults_and_repr_match_torch():
    ours, theirs = BatchNorm1d(5), nn.BatchNorm1d(5)
    for name in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
        assert getattr(ours, name) == getattr(theirs, name)
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        assert torch.equal(a, b) and a.dtype == b.dtype
    assert repr(ours).startswith("BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=True")


# ---------------------------------------------------------------- errors that say what to do
def test_modules_refuse_the_wrong_number_of_dimensions_like_torch():
    for ours, theirs, bad in [(BatchNorm1d(3), nn.BatchNorm1d(3), torch.zeros(2, 3, 4, 4)),
                              (BatchNorm1d(3), nn.BatchNorm1d(3), torch.zeros(3)),
                              (BatchNorm2d(3), nn.BatchNorm2d(3), torch.zeros(2, 3, 4))]:
        with pytest.raises(ValueError) as theirs_error:
            theirs(bad)
        with pytest.raises(ValueError, match="unsqueeze") as ours_error:
            ours(bad)
        assert str(ours_error.value).startswith(str(theirs_error.value))


def test_functional_errors_say_what_to_do():
    x = torch.zeros(4, 3)
    with pytest.raises(ValueError, match="more than 1 value per channel.*batch of at least 2"):
        batch_norm(torch.zeros(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match="one value per channel"):
        batch_norm(x, torch.zeros(4), torch.ones(4), training=True)
    with pytest.raises(ValueError, match="one value per channel"):
        batch_norm(x, None, None, weight=torch.ones(2), training=True)
    with pytest.raises(ValueError, match="evaluation mode"):
        batch_norm(x, None, None)
    with pytest.raises(ValueError, match="both be None"):
        batch_norm(x, torch.zeros(3), None, training=True)
    with pytest.raises(TypeError, match="momentum=None"):
        batch_norm(x, torch.zeros(3), torch.ones(3), training=True, momentum=None)
    with pytest.raises(ValueError, match="eps must be positive"):
        batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        batch_norm(torch.zeros(4), torch.zeros(4), torch.ones(4))
    with pytest.raises(ValueError, match="shape of input"):
        batch_norm_backward(torch.zeros(4, 2), x)
    assert normalization.__doc__ and "UNBIASED" in normalization.__doc__
