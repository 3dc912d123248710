"""Maximum-likelihood helpers agree with scipy.stats and with numerical optimisation; the chapter 2
catalogue's number and derivation answers agree with independent computations."""

import math

import numpy as np
import pytest
import scipy.optimize
import scipy.stats
import torch

from helpers import stats

F64 = torch.float64
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def flips(n, p, seed):
    return (torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=F64) < p).to(F64)


# ---------------------------------------------------------------- Bernoulli
@pytest.mark.parametrize("n,p,seed", [(20, 0.3, 0), (200, 0.5, 1), (7, 0.9, 2)])
def test_bernoulli_log_likelihood_matches_scipy(n, p, seed):
    x = flips(n, p, seed)
    theta = torch.linspace(0.01, 0.99, 25, dtype=F64)
    expected = [scipy.stats.bernoulli.logpmf(x.numpy(), t).sum() for t in theta.tolist()]
    assert np.allclose(stats.bernoulli_log_likelihood(theta, x).numpy(), expected, rtol=1e-12)


def test_bernoulli_log_likelihood_at_the_ends_uses_0_log_0_equal_0():
    heads, tails = torch.ones(4, dtype=F64), torch.zeros(4, dtype=F64)
    ends = torch.tensor([0.0, 1.0], dtype=F64)
    assert stats.bernoulli_log_likelihood(ends, heads).tolist() == [-math.inf, 0.0]
    assert stats.bernoulli_log_likelihood(ends, tails).tolist() == [0.0, -math.inf]


@pytest.mark.parametrize("n,p,seed", [(20, 0.3, 3), (50, 0.62, 4), (1000, 0.1, 5)])
def test_bernoulli_mle_is_k_over_n_and_maximises_the_likelihood(n, p, seed):
    x = flips(n, p, seed)
    closed_form = stats.bernoulli_mle(x).item()
    assert closed_form == pytest.approx(x.sum().item() / n)
    found = scipy.optimize.minimize_scalar(
        lambda t: -stats.bernoulli_log_likelihood(torch.tensor(t, dtype=F64), x).item(),
        bounds=(1e-9, 1 - 1e-9), method="bounded", options={"xatol": 1e-10},
    )
    assert found.x == pytest.approx(closed_form, abs=1e-6)
    grid = torch.linspace(0.0005, 0.9995, 1999, dtype=F64)
    assert grid[stats.bernoulli_log_likelihood(grid, x).argmax()].item() == pytest.approx(closed_form, abs=5e-4)


def test_bernoulli_mle_batches_and_integer_inputs():
    x = torch.tensor([[1, 0, 1, 1], [0, 0, 0, 1]])
    assert stats.bernoulli_mle(x).tolist() == [0.75, 0.25]


def test_bernoulli_helpers_refuse_bad_input():
    with pytest.raises(ValueError, match="0 and 1"):
        stats.bernoulli_log_likelihood(torch.tensor([0.5]), torch.tensor([0.0, 2.0]))
    with pytest.raises(ValueError, match=r"\(m,\)"):
        stats.bernoulli_log_likelihood(torch.tensor([0.5]), torch.zeros(2, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        stats.bernoulli_mle([1, 0, 1])


# ---------------------------------------------------------------- Gaussian
@pytest.fixture
def sample():
    return 2.5 + 1.7 * torch.randn(40, generator=torch.Generator().manual_seed(6), dtype=F64)


def test_gaussian_log_likelihood_matches_scipy_on_a_grid(sample):
    mu = torch.linspace(1.0, 4.0, 7, dtype=F64)
    sigma = torch.linspace(0.5, 3.0, 5, dtype=F64)[:, None]  # (5, 1) against (7,) -> a (5, 7) surface
    surface = stats.gaussian_log_likelihood(sample, mu, sigma)
    assert surface.shape == (5, 7)
    expected = scipy.stats.norm.logpdf(sample.numpy()[None, None, :], mu.numpy()[None, :, None],
                                       sigma.numpy()[:, :, None]).sum(-1)
    assert np.allclose(surface.numpy(), expected, rtol=1e-12)
    assert stats.gaussian_log_likelihood(sample, 2.0, 1.0).item() == pytest.approx(
        scipy.stats.norm.logpdf(sample.numpy(), 2.0, 1.0).sum(), rel=1e-12
    )


def test_gaussian_mle_matches_scipy_fit_and_numerical_optimisation(sample):
    mu_hat, sigma_hat = stats.gaussian_mle(sample)
    loc, scale = scipy.stats.norm.fit(sample.numpy())
    assert mu_hat.item() == pytest.approx(loc, rel=1e-12)
    assert sigma_hat.item() == pytest.approx(scale, rel=1e-12)

    def nll(params):  # optimise over (mu, log sigma) so that sigma stays positive
        return -stats.gaussian_log_likelihood(sample, params[0], math.exp(params[1])).item()

    found = scipy.optimize.minimize(nll, x0=[0.0, 0.0], method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    assert found.x[0] == pytest.approx(mu_hat.item(), abs=1e-6)
    assert math.exp(found.x[1]) == pytest.approx(sigma_hat.item(), abs=1e-6)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_gaussian_mle_batches_keep_dtype_and_device(device, dtype):
    x = torch.randn(3, 2, 50, generator=torch.Generator().manual_seed(7), dtype=F64).to(dtype=dtype, device=device)
    mu_hat, sigma_hat = stats.gaussian_mle(x)
    assert mu_hat.shape == sigma_hat.shape == (3, 2)
    assert mu_hat.dtype == sigma_hat.dtype == dtype and mu_hat.device.type == torch.device(device).type
    assert torch.allclose(sigma_hat.double().cpu(), torch.tensor(np.std(x.double().cpu().numpy(), axis=-1)),
                          rtol=1e-5)


def test_gaussian_log_likelihood_refuses_bad_input(sample):
    with pytest.raises(ValueError, match="positive"):
        stats.gaussian_log_likelihood(sample, 0.0, 0.0)
    with pytest.raises(TypeError, match="floating"):
        stats.gaussian_log_likelihood(torch.arange(5), 0.0, 1.0)


# ---------------------------------------------------------------- chapter 2 answers against oracles
def test_nll_constants_match_scipy():
    from helpers.exercises.catalogue import ch02

    g = torch.Generator().manual_seed(8)
    for case in ch02.NLL_CONSTANTS.cases():
        m, sigma = case.args
        y, f = torch.randn(m, generator=g, dtype=F64), torch.randn(m, generator=g, dtype=F64)
        a, b = ch02.NLL_CONSTANTS.reference(m, sigma)
        nll = -scipy.stats.norm.logpdf(y.numpy(), f.numpy(), sigma).sum()
        assert a * ((y - f) ** 2).sum().item() + b == pytest.approx(nll, rel=1e-12)


def test_sigmoid_mse_gradient_matches_the_closed_form_and_finite_differences():
    from helpers.exercises.catalogue import ch02

    z = ch02.SATURATION_LOGIT
    p = 1 / (1 + math.exp(-z))
    assert ch02.SIGMOID_MSE_GRADIENT.reference() == pytest.approx((p - 1) * p * (1 - p), rel=1e-12)

    def loss(t):
        return 0.5 * (1 / (1 + math.exp(-t)) - 1) ** 2

    h = 1e-6
    assert ch02.SIGMOID_MSE_GRADIENT.reference() == pytest.approx((loss(z + h) - loss(z - h)) / (2 * h), rel=1e-6)


def test_generative_logit_matches_bayes_rule_with_scipy_densities():
    from helpers.exercises.catalogue import ch02

    for case in ch02.GENERATIVE_LOGIT.cases():
        mu0, mu1, sigma, prior1 = case.args
        w, b = ch02.GENERATIVE_LOGIT.reference(*case.args)
        for x in (-3.0, -0.4, 0.0, 1.1, 2.7):
            joint1 = scipy.stats.norm.pdf(x, mu1, sigma) * prior1
            joint0 = scipy.stats.norm.pdf(x, mu0, sigma) * (1 - prior1)
            assert 1 / (1 + math.exp(-(w * x + b))) == pytest.approx(joint1 / (joint1 + joint0), rel=1e-9)


def test_choice_answer_is_backed_by_optimisation():
    """NLL with a fixed sigma and MSE pick the same least-squares fit (the 02.nll_vs_mse answer)."""
    from helpers.exercises.catalogue import ch02

    g = torch.Generator().manual_seed(9)
    x = torch.rand(30, generator=g, dtype=F64)
    y = 1.5 * x - 0.3 + 0.1 * torch.randn(30, generator=g, dtype=F64)

    def objective(sigma):
        if sigma is None:
            return lambda w: (((w[0] * x + w[1]) - y) ** 2).mean().item()
        return lambda w: -stats.gaussian_log_likelihood(y - (w[0] * x + w[1]), 0.0, sigma).item()

    fits = [scipy.optimize.minimize(objective(s), x0=[0.0, 0.0], method="BFGS").x for s in (None, 0.1, 3.0)]
    assert np.allclose(fits[0], fits[1], atol=1e-4) and np.allclose(fits[0], fits[2], atol=1e-4)
    assert ch02.NLL_VS_MSE.reference() == "a"
