"""helpers.models.vae against its oracles: torch.distributions' KL and rsample (values and gradients), F.binary_cross_
entropy with its reduction written here, the closed-form derivatives of z = mu + sigma eps, and a hand-written
training loop."""

import math

import pytest
import torch
import torch.nn.functional as F
from tensors import DEVICES, F64, TOL, close, leaf, random
from torch import nn
from torch.distributions import Normal, kl_divergence

from helpers.models.vae import VAE, gaussian_kl, negative_elbo, reparameterize, train_vae

STRICT = {"rtol": 1e-12, "atol": 1e-12}


def torch_kl(mu, log_var):
    return kl_divergence(Normal(mu, torch.exp(0.5 * log_var)), Normal(torch.zeros_like(mu), torch.ones_like(mu)))


def probabilities(*shape, seed=0, device="cpu"):
    """Values strictly inside (0, 1), for x_hat."""
    return random(*shape, seed=seed, device=device).sigmoid()


# ------------------------------------------------------------------------------------------------ gaussian_kl
@pytest.mark.parametrize("device", DEVICES)
def test_gaussian_kl_is_torch_distributions_kl_values_and_gradients(device):
    mu = random(6, 5, seed=1, device=device) * 2
    log_var = random(6, 5, seed=2, device=device) * 3  # variances from about e^-9 to e^9
    ours_mu, ours_lv, their_mu, their_lv = leaf(mu), leaf(log_var), leaf(mu), leaf(log_var)
    ours, theirs = gaussian_kl(ours_mu, ours_lv), torch_kl(their_mu, their_lv)
    assert ours.shape == mu.shape and ours.dtype == F64 and ours.device.type == device
    torch.testing.assert_close(ours, theirs, **STRICT)
    weights = random(6, 5, seed=3, device=device)
    ours_grads = torch.autograd.grad((ours * weights).sum(), (ours_mu, ours_lv))
    their_grads = torch.autograd.grad((theirs * weights).sum(), (their_mu, their_lv))
    for a, b in zip(ours_grads, their_grads):
        assert close(a, b)


def test_gaussian_kl_edge_cases():
    zero = torch.zeros(3, dtype=F64)
    assert torch.equal(gaussian_kl(zero, zero), zero)  # q = p: no divergence
    big = torch.tensor([20.0, 50.0, -30.0], dtype=F64)  # very wide and very narrow q
    mu = torch.tensor([0.0, 1.0, -2.0], dtype=F64)
    torch.testing.assert_close(gaussian_kl(mu, big), torch_kl(mu, big), rtol=1e-12, atol=0)
    # the closed form written out: 1/2 (sigma^2 + mu^2 - 1 - log sigma^2) at sigma = 0.5, mu = 1
    s = 0.5
    expected = 0.5 * (s**2 + 1.0 - 1 - math.log(s**2))
    assert gaussian_kl(torch.tensor(1.0, dtype=F64), torch.tensor(math.log(s**2), dtype=F64)).item() == (
        pytest.approx(expected, rel=1e-14))
    assert (gaussian_kl(random(100, seed=4), random(100, seed=5)) >= 0).all()


def test_gaussian_kl_errors():
    with pytest.raises(ValueError, match=r"same shape.*\(3,\) and \(2,\)"):
        gaussian_kl(torch.zeros(3), torch.zeros(2))
    with pytest.raises(TypeError, match="floating-point"):
        gaussian_kl(torch.zeros(3, dtype=torch.int64), torch.zeros(3))


# ------------------------------------------------------------------------------------------------ reparameterize
@pytest.mark.parametrize("device", DEVICES)
def test_reparameterize_draws_what_rsample_draws_after_the_same_seed(device):
    mu, log_var = random(7, 3, seed=1, device=device), random(7, 3, seed=2, device=device)
    torch.manual_seed(11)
    ours = reparameterize(mu, log_var)
    torch.manual_seed(11)
    theirs = Normal(mu, torch.exp(0.5 * log_var)).rsample()
    torch.testing.assert_close(ours, theirs, **STRICT)
    assert ours.device.type == device and ours.dtype == F64


@pytest.mark.parametrize("device", DEVICES)
def test_reparameterize_gradients_are_one_and_half_sigma_eps(device):
    mu, log_var = random(5, 4, seed=3, device=device), random(5, 4, seed=4, device=device)
    weights = random(5, 4, seed=5, device=device)
    ours_mu, ours_lv, their_mu, their_lv = leaf(mu), leaf(log_var), leaf(mu), leaf(log_var)
    torch.manual_seed(2)
    z = reparameterize(ours_mu, ours_lv)
    torch.manual_seed(2)
    z_torch = Normal(their_mu, torch.exp(0.5 * their_lv)).rsample()
    d_mu, d_lv = torch.autograd.grad((z * weights).sum(), (ours_mu, ours_lv))
    t_mu, t_lv = torch.autograd.grad((z_torch * weights).sum(), (their_mu, their_lv))
    sigma = torch.exp(0.5 * log_var)
    eps = (z.detach() - mu) / sigma  # the noise that was drawn
    assert close(d_mu, weights)  # dz/dmu = 1
    assert close(d_lv, weights * 0.5 * sigma * eps)  # dz/dlog_var = 1/2 sigma eps
    assert close(d_mu, t_mu) and close(d_lv, t_lv)


def test_reparameterize_with_eps_given_and_the_sampler_that_has_no_gradient():
    mu, log_var, eps = leaf(random(4, 2, seed=1)), leaf(random(4, 2, seed=2)), random(4, 2, seed=3)
    z = reparameterize(mu, log_var, eps)
    expected = Normal(mu.detach(), (0.5 * log_var.detach()).exp())
    # the draw at eps is the eps-quantile map: Phi(eps) mapped back through q's inverse CDF
    torch.testing.assert_close(z.detach(), expected.icdf(torch.special.ndtr(eps)), rtol=1e-10, atol=1e-10)
    d_mu, d_lv = torch.autograd.grad(z.sum(), (mu, log_var))
    assert torch.equal(d_mu, torch.ones_like(mu)) and d_lv.abs().min() > 0
    # a sampler's draw carries no gradient back to mu and sigma: the reason for the trick
    assert not Normal(mu, (0.5 * log_var).exp()).sample().requires_grad
    s_mu, s_lv = torch.autograd.grad(torch.normal(mu, (0.5 * log_var).exp()).sum(), (mu, log_var))
    assert not s_mu.any() and not s_lv.any()


def test_reparameterize_generator_draws_on_its_own_device_reproducibly():
    mu, log_var = random(6, 2, seed=1), random(6, 2, seed=2)
    first = reparameterize(mu, log_var, generator=torch.Generator().manual_seed(3))
    again = reparameterize(mu, log_var, generator=torch.Generator().manual_seed(3))
    other = reparameterize(mu, log_var, generator=torch.Generator().manual_seed(4))
    assert torch.equal(first, again) and not torch.equal(first, other)
    if torch.cuda.is_available():  # a CPU generator, mu on the GPU: the same noise, moved
        on_gpu = reparameterize(mu.cuda(), log_var.cuda(), generator=torch.Generator().manual_seed(3))
        assert on_gpu.device.type == "cuda"
        torch.testing.assert_close(on_gpu.cpu(), first, **TOL)


def test_reparameterize_errors():
    with pytest.raises(ValueError, match=r"eps must be a tensor of mu's shape \(3, 2\).*eps=None"):
        reparameterize(torch.zeros(3, 2), torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="same shape"):
        reparameterize(torch.zeros(3, 2), torch.zeros(2, 3))


# ------------------------------------------------------------------------------------------------ negative_elbo
def elbo_inputs(n=5, d=7, j=3, seed=0, device="cpu"):
    x_hat = probabilities(n, d, seed=seed, device=device)
    x = torch.rand(n, d, generator=torch.Generator().manual_seed(seed + 1), dtype=F64).to(device)
    return x_hat, x, random(n, j, seed=seed + 2, device=device), random(n, j, seed=seed + 3, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("beta", [1.0, 0.25])
def test_negative_elbo_is_summed_bce_plus_kl_per_example(device, beta):
    x_hat, x, mu, log_var = elbo_inputs(device=device)
    n = len(x)
    ours_args, their_args = [leaf(t) for t in (x_hat, mu, log_var)], [leaf(t) for t in (x_hat, mu, log_var)]
    ours = negative_elbo(ours_args[0], x, *ours_args[1:], beta=beta)
    th, tm, tl = their_args
    theirs = F.binary_cross_entropy(th, x, reduction="sum") / n + beta * torch_kl(tm, tl).sum() / n
    assert ours.shape == () and ours.device.type == device
    torch.testing.assert_close(ours, theirs, **STRICT)
    # the Bernoulli log-likelihood written out, a second oracle for the reconstruction term
    by_hand = -(x * x_hat.log() + (1 - x) * (1 - x_hat).log()).sum() / n + beta * torch_kl(mu, log_var).sum() / n
    torch.testing.assert_close(ours.detach(), by_hand, **STRICT)
    for a, b in zip(torch.autograd.grad(ours, ours_args), torch.autograd.grad(theirs, their_args)):
        assert close(a, b)


def test_negative_elbo_mean_reconstruction_averages_the_bce_over_pixels():
    x_hat, x, mu, log_var = elbo_inputs(n=4, d=64, j=2, seed=5)
    ours = negative_elbo(x_hat, x, mu, log_var, reconstruction="mean")
    theirs = F.binary_cross_entropy(x_hat, x) + torch_kl(mu, log_var).sum() / 4  # torch's default: the mean
    torch.testing.assert_close(ours, theirs, **STRICT)
    summed = negative_elbo(x_hat, x, mu, log_var)
    kl = torch_kl(mu, log_var).sum() / 4
    torch.testing.assert_close(summed - kl, 64 * (ours - kl), **STRICT)  # the pixels' sum is 64 times their mean


def test_negative_elbo_takes_images_and_probabilities_at_0_and_1():
    x_hat, x, mu, log_var = elbo_inputs(n=3, d=16, seed=7)
    flat = negative_elbo(x_hat, x, mu, log_var)
    images = negative_elbo(x_hat.reshape(3, 1, 4, 4), x.reshape(3, 1, 4, 4), mu, log_var)
    torch.testing.assert_close(images, flat, **STRICT)
    x_hat = torch.tensor([[0.0, 1.0, 0.5]], dtype=F64)
    x = torch.tensor([[1.0, 0.0, 1.0]], dtype=F64)
    zero = torch.zeros(1, 2, dtype=F64)
    # torch clamps each log at -100: two saturated wrong pixels cost 100 nats each
    assert negative_elbo(x_hat, x, zero, zero).item() == pytest.approx(200 + math.log(2), rel=1e-14)


def test_negative_elbo_errors():
    x_hat, x, mu, log_var = elbo_inputs()
    with pytest.raises(ValueError, match=r"same shape, got \(5, 7\) and \(5, 6\).*reshape"):
        negative_elbo(x_hat, x[:, :6], mu, log_var)
    with pytest.raises(ValueError, match=r"same N.*x \(5, 7\) and mu \(4, 3\)"):
        negative_elbo(x_hat, x, mu[:4], log_var[:4])
    with pytest.raises(ValueError, match=r"x in \[0, 1\], got values from [0-9.]+ to 16;.*pixels / 16"):
        negative_elbo(x_hat, (x * 16).round().clamp(0, 16).index_fill(1, torch.tensor([0]), 16.0), mu, log_var)
    with pytest.raises(ValueError, match=r"x in \[0, 1\], got values from -0.93"):
        negative_elbo(x_hat, x - 1, mu, log_var)
    with pytest.raises(ValueError, match=r"x_hat must be probabilities.*torch.sigmoid\(logits\)"):
        negative_elbo(x_hat * 3 - 1, x, mu, log_var)
    with pytest.raises(FloatingPointError, match=r"x_hat contains nan.*lower the learning rate"):
        negative_elbo(x_hat.index_fill(1, torch.tensor([2]), math.nan), x, mu, log_var)
    with pytest.raises(ValueError, match=r"'sum'.*or 'mean'.*got 'none'"):
        negative_elbo(x_hat, x, mu, log_var, reconstruction="none")
    with pytest.raises(ValueError, match="mu and log_var must have the same shape"):
        negative_elbo(x_hat, x, mu, log_var[:, :2])


# ------------------------------------------------------------------------------------------------ VAE
def model(*args, seed=0, device="cpu", **kwargs):
    torch.manual_seed(seed)
    return VAE(*args, **kwargs).to(device=device, dtype=F64)


@pytest.mark.parametrize("device", DEVICES)
def test_vae_is_the_equations(device):
    vae = model(10, 6, 3, device=device)
    linears = [m for m in vae.modules() if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(10, 6), (6, 3), (6, 3), (3, 6), (6, 10)]
    first, to_mu, to_lv, dec1, dec2 = linears
    x = torch.rand(4, 10, generator=torch.Generator().manual_seed(1), dtype=F64).to(device)
    h = torch.relu(x @ first.weight.T + first.bias)
    mu, log_var = vae.encode(x)
    assert close(mu, h @ to_mu.weight.T + to_mu.bias) and close(log_var, h @ to_lv.weight.T + to_lv.bias)
    z = random(4, 3, seed=2, device=device)
    expected = torch.sigmoid(torch.relu(z @ dec1.weight.T + dec1.bias) @ dec2.weight.T + dec2.bias)
    assert close(vae.decode(z), expected)
    x_hat, f_mu, f_lv = vae(x, generator=torch.Generator().manual_seed(5))
    eps = torch.randn(4, 3, generator=torch.Generator().manual_seed(5), dtype=F64).to(device)
    assert close(f_mu, mu) and close(f_lv, log_var)
    assert close(x_hat, vae.decode(mu + torch.exp(0.5 * log_var) * eps))


@pytest.mark.parametrize("device", DEVICES)
def test_vae_samples_decode_the_prior(device):
    vae = model(device=device)
    assert (vae.n_features, vae.hidden, vae.latent) == (64, 128, 2)
    samples = vae.sample(9, generator=torch.Generator().manual_seed(3))
    z = torch.randn(9, 2, generator=torch.Generator().manual_seed(3), dtype=F64).to(device)
    assert samples.shape == (9, 64) and samples.device.type == device and not samples.requires_grad
    with torch.no_grad():
        assert close(samples, vae.decode(z))
    assert ((samples > 0) & (samples < 1)).all()


def test_vae_errors():
    with pytest.raises(ValueError, match="latent must be at least 1"):
        VAE(64, 128, 0)
    with pytest.raises(TypeError, match="hidden must be a whole number"):
        VAE(64, 12.5)
    vae = VAE(64, 8, 2)
    with pytest.raises(ValueError, match=r"x has 8 features.*expects 64.*x.flatten\(1\)"):
        vae.encode(torch.rand(3, 8, 8))
    with pytest.raises(ValueError, match="z has 3 entries.*latent space has 2"):
        vae.decode(torch.zeros(1, 3))


# ------------------------------------------------------------------------------------------------ train_vae
def hand_written_training(vae, x, epochs, lr, batch_size, reconstruction, beta, seed):
    """The loop train_vae documents, written out: one CPU generator draws each epoch's permutation and then each
    batch's eps; the loss is the BCE (summed or averaged over pixels) plus beta times torch's KL."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(vae.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        order, total = torch.randperm(len(x), generator=generator), 0.0
        for start in range(0, len(x), batch_size):
            batch = x[order[start:start + batch_size]]
            h = vae.encoder(batch)
            mu, log_var = vae.to_mu(h), vae.to_log_var(h)
            eps = torch.randn(mu.shape, generator=generator, dtype=x.dtype)
            x_hat = vae.decoder(mu + torch.exp(0.5 * log_var) * eps)
            bce = F.binary_cross_entropy(x_hat, batch, reduction="none")
            recon = bce.sum(dim=1) if reconstruction == "sum" else bce.mean(dim=1)
            loss = (recon + beta * torch_kl(mu, log_var).sum(dim=1)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(x))
    return losses


@pytest.mark.parametrize("reconstruction, beta, batch_size", [("sum", 1.0, 4), ("mean", 1.0, 5), ("sum", 0.5, 13)])
def test_train_vae_is_the_documented_loop(reconstruction, beta, batch_size):
    x = torch.rand(13, 6, generator=torch.Generator().manual_seed(1), dtype=F64)
    ours, theirs = model(6, 5, 2, seed=3), model(6, 5, 2, seed=3)
    losses = train_vae(ours, x, epochs=4, lr=0.01, batch_size=batch_size, reconstruction=reconstruction, beta=beta,
                       seed=7, device="cpu", progress=False)
    expected = hand_written_training(theirs, x, 4, 0.01, batch_size, reconstruction, beta, 7)
    assert losses == pytest.approx(expected, rel=1e-12, abs=1e-14)
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert close(a, b)


def test_train_vae_is_deterministic_and_the_seed_matters():
    x = torch.rand(40, 8, generator=torch.Generator().manual_seed(2))
    runs = []
    for seed in (0, 0, 1):
        torch.manual_seed(0)
        runs.append(train_vae(VAE(8, 6, 2), x, epochs=3, batch_size=16, seed=seed, progress=False))
    assert runs[0] == runs[1] and runs[0] != runs[2]


@pytest.mark.parametrize("device", DEVICES)
def test_train_vae_trains_on_the_device_and_brings_the_model_back(device):
    x = torch.rand(30, 8, generator=torch.Generator().manual_seed(0))
    seen = set()
    vae = VAE(8, 6, 2)
    vae.decoder.register_forward_hook(lambda m, args, out: seen.add((args[0].device.type, out.device.type)))
    cpu_run = VAE(8, 6, 2)
    cpu_run.load_state_dict(vae.state_dict())
    losses = train_vae(vae, x, epochs=3, batch_size=8, device=device, progress=False)
    assert seen == {(device, device)}
    assert {p.device.type for p in vae.parameters()} == {"cpu"}
    # the permutations and eps are drawn on the CPU: the same run as on the CPU
    assert losses == pytest.approx(train_vae(cpu_run, x, epochs=3, batch_size=8, device="cpu", progress=False),
                                   rel=1e-5)


def test_the_summed_elbo_keeps_a_code_and_the_mean_reduced_one_collapses():
    from helpers.data import digits

    data = digits()
    kl = {}
    for reconstruction in ("sum", "mean"):
        torch.manual_seed(0)
        vae = VAE()
        losses = train_vae(vae, data.x_train, epochs=25, reconstruction=reconstruction, progress=False)
        assert losses[-1] < losses[0]
        with torch.no_grad():
            mu, log_var = vae.encode(data.x_test)
        kl[reconstruction] = gaussian_kl(mu, log_var).sum(dim=1).mean().item() / 2  # nats per latent dimension
    assert kl["sum"] > 0.4 and kl["mean"] < 0.01  # measured: about 0.7 and 1e-4 after 30 epochs


def test_train_vae_errors():
    x = torch.rand(10, 4)
    with pytest.raises(ValueError, match=r"x in \[0, 1\].*pixels / 16"):
        train_vae(VAE(4, 3, 2), x * 16)
    with pytest.raises(ValueError, match=r"x must be \(N, 4\).*\(10, 2, 2\).*flatten"):
        train_vae(VAE(4, 3, 2), x.reshape(10, 2, 2))
    with pytest.raises(ValueError, match="'sum' .*'mean'.*got 'avg'"):
        train_vae(VAE(4, 3, 2), x, reconstruction="avg")
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        train_vae(VAE(4, 3, 2), x, epochs=0)
    vae = VAE(4, 3, 2)
    with torch.no_grad():
        vae.to_mu.weight.fill_(math.nan)
    with pytest.raises(FloatingPointError, match="lower lr"):
        train_vae(vae, x, epochs=1, device="cpu", progress=False)
