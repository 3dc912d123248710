"""helpers.models.autoencoder against closed forms written here, autograd and torch.func.

Autoencoder: the layers and the forward pass against the equations written out with F.linear on the model's own
parameters (every activation and output), shapes, and the linear autoencoder's reconstruction as one affine map.
sparse_penalty against the Laplace prior's log-density (torch.distributions.Laplace). corrupt: the masking
fraction within a binomial tolerance, the Gaussian noise's mean and standard deviation, determinism with a
generator, level 0 = identity. contractive_penalty against the Frobenius norm of torch.func.jacrev's Jacobian, and
its gradients against autograd through jacrev, float64 at 1e-10; jacobian_penalty against a per-sample loop with
torch.autograd.functional.jacobian. The PCA link on the digits: a seeded linear 64-2-64 autoencoder reaches PCA's
MSE, its decoder spans PCA's plane (principal angles ~0) with columns that are not orthonormal."""

import math

import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from tensors import DEVICES, F64, TOL, close, leaf, random
from torch import nn
from torch.func import jacrev, vmap

from helpers.decomposition import PCA, subspace_angles
from helpers.models.autoencoder import (
    Autoencoder,
    contractive_penalty,
    corrupt,
    jacobian_penalty,
    reconstruction_error,
    sparse_penalty,
    train_autoencoder,
)

ACTS = {"sigmoid": torch.sigmoid, "relu": torch.relu, None: lambda z: z}
OUTS = {"linear": lambda z: z, "sigmoid": torch.sigmoid}


def model(*args, seed=0, device="cpu", **kwargs):
    torch.manual_seed(seed)
    return Autoencoder(*args, **kwargs).to(device=device, dtype=F64)


# ------------------------------------------------------------------------------------------------ the model
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("activation", ["sigmoid", "relu", None])
@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_forward_is_the_equations(device, activation, output):
    ae = model(10, 3, hidden=(7, 5), activation=activation, output=output, device=device)
    linears = [m for m in ae.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 7), (7, 5), (5, 3), (3, 5), (5, 7), (7, 10)]
    x = random(4, 10, seed=1, device=device)
    act, h = ACTS[activation], x
    for layer in linears[:3]:
        h = act(F.linear(h, layer.weight, layer.bias))
    code, y = h, h
    for layer in linears[3:5]:
        y = act(F.linear(y, layer.weight, layer.bias))
    y = OUTS[output](F.linear(y, linears[5].weight, linears[5].bias))
    assert torch.allclose(ae.encode(x), code, **TOL) and torch.allclose(ae.decode(code), y, **TOL)
    assert torch.allclose(ae(x), y, **TOL) and ae(x).shape == (4, 10) and ae(x).device == x.device
    assert torch.allclose(reconstruction_error(ae, x), ((y - x) ** 2).mean(dim=1), **TOL)


def test_no_hidden_layer_and_output_ranges():
    ae = model(6, 2)  # sigmoid by default: one Linear + Sigmoid each way
    assert [type(m) for m in ae.encoder] == [nn.Linear, nn.Sigmoid] and [type(m) for m in ae.decoder] == [nn.Linear]
    x = random(50, 6, seed=2) * 10
    assert ((ae.encode(x) > 0) & (ae.encode(x) < 1)).all()
    out = model(6, 2, output="sigmoid", activation="relu")(x)
    assert ((out > 0) & (out < 1)).all()
    assert (model(6, 2, activation="relu").encode(x) >= 0).all()
    assert model(8, 20, hidden=(12,)).encode(random(3, 8)).shape == (3, 20)  # over-complete is allowed


def test_the_linear_autoencoder_is_one_affine_map():
    # x_hat = W_d (W_e x + b_e) + b_d = (W_d W_e) x + (W_d b_e + b_d), a map of rank <= n_code
    ae = model(64, 2, activation=None)
    (enc,), (dec,) = list(ae.encoder), list(ae.decoder)
    x, y = random(5, 64, seed=3), random(5, 64, seed=4)
    M, c = dec.weight @ enc.weight, dec.weight @ enc.bias + dec.bias
    assert torch.allclose(ae(x), x @ M.T + c, **TOL) and torch.linalg.matrix_rank(M) == 2
    g = lambda v: ae(v) - ae(torch.zeros_like(v))  # noqa: E731  the linear part
    assert torch.allclose(g(2.5 * x - 0.7 * y), 2.5 * g(x) - 0.7 * g(y), **TOL)


def test_bad_arguments():
    for kwargs, error, message in [
        ({"activation": "tanh"}, ValueError, "activation"), ({"output": "relu"}, ValueError, "output"),
        ({"hidden": 5}, TypeError, "tuple"), ({"hidden": (4, 0)}, ValueError, "at least 1"),
    ]:
        with pytest.raises(error, match=message):
            Autoencoder(6, 2, **kwargs)
    with pytest.raises(TypeError, match="whole number"):
        Autoencoder(6.0, 2)
    ae = Autoencoder(6, 2)
    with pytest.raises(ValueError, match="5 features.*expects 6"):
        ae(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="3 units"):
        ae.decode(torch.zeros(3, 3))


# ------------------------------------------------------------------------------------------- the penalties
def test_sparse_penalty_is_a_laplace_prior():
    # -log p(h) for h_j iid Laplace(0, scale 1/lambda) is lambda sum_j |h_j| - n_code log(lambda / 2)
    code, weight = random(8, 5, seed=5), 0.3
    laplace = torch.distributions.Laplace(torch.zeros((), dtype=F64), torch.tensor(1 / weight, dtype=F64))
    neg_log_prior = -laplace.log_prob(code).sum(dim=1).mean() + 5 * math.log(weight / 2)
    assert torch.allclose(sparse_penalty(code, weight), neg_log_prior, **TOL)
    h = leaf(code)
    sparse_penalty(h, weight).backward()
    assert torch.allclose(h.grad, weight * torch.sign(code) / 8, **TOL)
    assert sparse_penalty(code, 0.0) == 0
    with pytest.raises(ValueError, match="lambda >= 0"):
        sparse_penalty(code, -1.0)


def sigmoid_layer_jacobian_norm(x, W, b):
    """The test's oracle: ||dh/dx||_F^2 by torch.func.jacrev, one sample at a time (vmap), mean over the batch."""
    J = vmap(jacrev(lambda v: torch.sigmoid(v @ W.T + b)))(x)  # (N, n_code, n_features)
    return (J**2).sum(dim=(1, 2)).mean()


@pytest.mark.parametrize("device", DEVICES)
def test_contractive_penalty_is_the_jacobian_norm(device):
    x, W, b = random(6, 7, seed=6, device=device), random(3, 7, seed=7, device=device), random(3, seed=8,
                                                                                                 device=device)
    ours = contractive_penalty(x, W, b)
    assert ours.shape == () and torch.allclose(ours, sigmoid_layer_jacobian_norm(x, W, b), **TOL)
    # gradients with respect to W, b and x against autograd through jacrev
    grads = []
    for penalty in (contractive_penalty, sigmoid_layer_jacobian_norm):
        xs, Ws, bs = leaf(x), leaf(W), leaf(b)
        penalty(xs, Ws, bs).backward()
        grads.append((xs.grad, Ws.grad, bs.grad))
    for ours_grad, oracle_grad in zip(*grads):
        assert torch.allclose(ours_grad, oracle_grad, **TOL)


def test_contractive_penalty_saturated_units_contract():
    W, b = random(3, 4, seed=9), torch.full((3,), 40.0, dtype=F64)  # h = 1 to rounding: no sensitivity
    assert contractive_penalty(random(5, 4, seed=10), W, b) < 1e-30
    with pytest.raises(ValueError, match="n_code, n_features"):
        contractive_penalty(random(5, 4), W.T, b)


def test_jacobian_penalty_on_any_encoder():
    x = random(5, 6, seed=11)
    one_layer = model(6, 3).encoder  # Linear + Sigmoid: the contractive penalty's layer
    assert torch.allclose(jacobian_penalty(one_layer, x), contractive_penalty(x, one_layer[0].weight,
                                                                              one_layer[0].bias), **TOL)
    deep = model(6, 2, hidden=(4,), activation="relu").encoder
    # the oracle: each sample's Jacobian by torch.autograd.functional.jacobian, with a graph for the gradients
    oracle = torch.stack([torch.autograd.functional.jacobian(deep, x[n], create_graph=True).pow(2).sum()
                          for n in range(5)]).mean()
    ours = jacobian_penalty(deep, x)
    assert torch.allclose(ours, oracle, **TOL)
    params = list(deep.parameters())
    for g_ours, g_oracle in zip(torch.autograd.grad(ours, params), torch.autograd.grad(oracle, params)):
        assert torch.allclose(g_ours, g_oracle, **TOL)


# ---------------------------------------------------------------------------------------------- corruption
def test_masking_noise_statistics():
    x = random(1000, 1000, seed=12) + 5.0  # no zeros to begin with
    for level in (0.1, 0.5):
        out = corrupt(x, "masking", level, generator=torch.Generator().manual_seed(0))
        dropped = (out == 0).double().mean().item()
        assert abs(dropped - level) < 5 * math.sqrt(level * (1 - level) / x.numel())  # five binomial sigmas
        assert torch.equal(out[out != 0], x[out != 0])  # the others are kept as they are


def test_gaussian_noise_statistics():
    x, level = random(1000, 1000, seed=13), 0.3
    noise = corrupt(x, "gaussian", level, generator=torch.Generator().manual_seed(1)) - x
    n = x.numel()
    assert abs(noise.mean().item()) < 5 * level / math.sqrt(n)
    assert abs(noise.std().item() - level) < 5 * level / math.sqrt(2 * n)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_corrupt_is_reproducible_and_level_zero_is_identity(noise):
    x = random(20, 8, seed=14)
    a = corrupt(x, noise, 0.4, generator=torch.Generator().manual_seed(3))
    b = corrupt(x, noise, 0.4, generator=torch.Generator().manual_seed(3))
    c = corrupt(x, noise, 0.4, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c) and a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(corrupt(x, noise, 0.0, generator=torch.Generator().manual_seed(3)), x)


def test_corrupt_errors():
    x = random(3, 2)
    with pytest.raises(ValueError, match="'gaussian' or 'masking'"):
        corrupt(x, "salt", 0.1)
    with pytest.raises(ValueError, match="probability"):
        corrupt(x, "masking", 1.5)
    with pytest.raises(ValueError, match="standard deviation"):
        corrupt(x, "gaussian", -0.1)
    with pytest.raises(TypeError, match="floating-point"):
        corrupt(torch.ones(3, dtype=torch.int64))


# ----------------------------------------------------------------------------------------- the PCA link
def test_linear_autoencoder_learns_the_pca_subspace_on_digits():
    # Adam, full batch, lr 0.05 cosine-annealed over 2000 steps, float32, ~1.2 s. Measured over seeds 0-2:
    # MSE / PCA's MSE - 1 <= 5e-8, largest angle 0.076 degrees (seed 2; 2e-4 degrees for seed 0);
    # diag(W^T W) from 4.7 to 14.9. The tolerances below leave a wide margin.
    X = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
    Xd = X.double()
    pca = PCA(2).fit(Xd)
    pca_mse = ((Xd - pca.inverse_transform(pca.transform(Xd))) ** 2).mean().item()
    ae = model(64, 2, activation=None).float()
    optimizer = torch.optim.Adam(ae.parameters(), lr=0.05)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, 2000)
    for _ in range(2000):
        optimizer.zero_grad()
        F.mse_loss(ae(X), X).backward()
        optimizer.step()
        schedule.step()
    with torch.no_grad():
        mse = ((ae(X).double() - Xd) ** 2).mean().item()
    assert abs(mse / pca_mse - 1) < 1e-5
    W = ae.decoder[0].weight.detach().double()  # (64, 2): its columns span the learnt plane
    assert torch.rad2deg(subspace_angles(W, pca.components_.T)).max() < 0.5
    assert (W.T @ W - torch.eye(2, dtype=F64)).abs().max() > 1.0  # not PCA's orthonormal axes


# ----------------------------------------------------------------------------------------- the training loop
def hand_written_training(ae, x, steps, lr, batch_size, noise, level, penalty, seed, cosine):
    """The loop train_autoencoder documents, written out: Adam, rows then noise from one CPU generator, clean
    target, on the device of ``ae`` and ``x``."""
    device, x = x.device, x.cpu()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(ae.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    losses = []
    for _ in range(steps):
        target = x if batch_size is None else x[torch.randint(len(x), (batch_size,), generator=generator)]
        if noise == "gaussian":
            x_in = target + level * torch.randn(target.shape, generator=generator, dtype=x.dtype)
        elif noise == "masking":
            x_in = target * (torch.rand(target.shape, generator=generator, dtype=x.dtype) >= level)
        else:
            x_in = target
        target, x_in = target.to(device), x_in.to(device)
        h = ae.encoder(x_in)
        loss = ((ae.decoder(h) - target) ** 2).mean()
        if penalty:
            loss = loss + penalty * h.abs().sum(dim=1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if cosine:
            schedule.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch_size, noise, penalty, cosine", [
    (None, None, 0.0, True), (4, "gaussian", 0.0, False), (5, "masking", 1e-2, True)])
def test_train_autoencoder_is_the_documented_loop(device, batch_size, noise, penalty, cosine):
    x = random(12, 6, seed=3, device=device).sigmoid()
    ours, theirs = model(6, 3, seed=1, device=device), model(6, 3, seed=1, device=device)
    sparse = (lambda m, x_in, h: sparse_penalty(h, penalty)) if penalty else None
    losses = train_autoencoder(ours, x, steps=7, lr=0.05, batch_size=batch_size, noise=noise, level=0.3,
                               penalty=sparse, seed=5, cosine=cosine, device=device, progress=False)
    expected = hand_written_training(theirs, x, 7, 0.05, batch_size, noise, 0.3, penalty, 5, cosine)
    assert losses == pytest.approx(expected, rel=1e-12, abs=1e-15)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert close(a, b)
    assert losses[-1] < losses[0]


def test_train_autoencoder_bce_and_learns_the_digits():
    digits = torch.tensor(load_digits().data / 16.0, dtype=torch.float32)
    train, test = digits[:1200], digits[1200:]
    torch.manual_seed(0)
    ae = Autoencoder(64, 8)
    train_autoencoder(ae, train, steps=600, progress=False)
    with torch.no_grad():
        mse = ((ae(test) - test) ** 2).mean().item()
    pca = PCA(8).fit(train.double())
    pca_mse = ((test.double() - pca.inverse_transform(pca.transform(test.double()))) ** 2).mean().item()
    baseline = ((test - train.mean(dim=0)) ** 2).mean().item()  # predicting the mean digit
    assert mse < 1.3 * pca_mse < 0.5 * baseline  # close to PCA(8), far below the mean digit
    torch.manual_seed(0)
    bce_model = Autoencoder(64, 8, output="sigmoid")
    losses = train_autoencoder(bce_model, train, steps=50, loss="bce", progress=False)
    with torch.no_grad():
        first = F.binary_cross_entropy(bce_model(train[:128]), train[:128])
    assert losses[-1] < losses[0] and first < losses[0]


def test_train_autoencoder_errors():
    x = torch.rand(10, 4)
    with pytest.raises(ValueError, match="output='sigmoid'"):
        train_autoencoder(Autoencoder(4, 2), x, loss="bce")
    with pytest.raises(ValueError, match="'mse' or 'bce'"):
        train_autoencoder(Autoencoder(4, 2), x, loss="l1")
    with pytest.raises(ValueError, match="'gaussian' or 'masking'"):
        train_autoencoder(Autoencoder(4, 2), x, noise="salt")
    with pytest.raises(ValueError, match="steps must be at least 1"):
        train_autoencoder(Autoencoder(4, 2), x, steps=0)
    with pytest.raises(FloatingPointError, match="lower lr"):
        train_autoencoder(Autoencoder(4, 2), x.masked_fill(x > 0.5, math.nan), steps=3, progress=False)


@pytest.mark.parametrize("device", DEVICES)
def test_train_autoencoder_trains_on_the_device_and_brings_the_model_back(device):
    x = torch.rand(20, 5, generator=torch.Generator().manual_seed(0))
    seen = set()

    def spy(m, x_in, h):  # a zero penalty that records where the step runs
        seen.add((x_in.device.type, h.device.type, next(m.parameters()).device.type))
        return h.sum() * 0

    ae = model(5, 2, seed=2).float()
    cpu_run = model(5, 2, seed=2).float()
    losses = train_autoencoder(ae, x, steps=4, batch_size=8, noise="masking", level=0.2, penalty=spy,
                               device=device, progress=False)
    assert seen == {(device, device, device)}
    assert {p.device.type for p in ae.parameters()} == {"cpu"}
    # the draws are made on the CPU: the same batches and noise as a run on the CPU
    expected = train_autoencoder(cpu_run, x, steps=4, batch_size=8, noise="masking", level=0.2, device="cpu",
                                 progress=False)
    assert losses == pytest.approx(expected, rel=1e-5)
