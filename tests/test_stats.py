"""The estimators agree with torch's and scipy's, and Monte-Carlo matches the closed forms."""

import numpy as np
import pytest
import scipy.stats
import torch

from helpers import stats

F64 = torch.float64


@pytest.fixture
def sample():
    return torch.randn(7, 13, generator=torch.Generator().manual_seed(0), dtype=F64) * 3 + 1


def test_estimators_match_torch_and_scipy(sample):
    assert torch.allclose(stats.sample_mean(sample), sample.mean(-1))
    assert torch.allclose(stats.biased_variance(sample), sample.var(-1, correction=0))
    assert torch.allclose(stats.unbiased_variance(sample), torch.tensor(np.var(sample.numpy(), -1, ddof=1)))
    sem = torch.tensor(scipy.stats.sem(sample.numpy(), axis=-1))
    assert torch.allclose(stats.standard_error_of_mean(sample), sem)


def test_estimators_reject_too_small_samples():
    with pytest.raises(ValueError, match="at least 2"):
        stats.unbiased_variance(torch.tensor([1.0]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        stats.sample_mean([1.0, 2.0])


def test_bias_variance_mse_identity():
    estimates = torch.randn(50, generator=torch.Generator().manual_seed(1), dtype=F64) + 0.3
    bias, variance, mse = stats.bias_variance_mse(estimates, 0.0)
    assert bias.item() == pytest.approx(estimates.mean().item())
    assert variance.item() == pytest.approx(np.var(estimates.numpy()))
    assert mse.item() == pytest.approx(bias.item() ** 2 + variance.item(), rel=1e-12)


@pytest.mark.parametrize("m", [2, 5, 20])
def test_monte_carlo_matches_closed_forms(m):
    sigma, trials = 2.0, 200_000
    draw = stats.gaussian_draw(1.0, sigma, m)
    mean = stats.monte_carlo(stats.sample_mean, draw, 1.0, trials, seed=m)
    # sample mean: unbiased, variance sigma^2 / m; allow 4 Monte-Carlo standard errors
    assert abs(mean.bias.item()) < 4 * sigma / np.sqrt(m * trials)
    var_se = (sigma**2 / m) * np.sqrt(2 / trials)
    assert abs(mean.variance.item() - sigma**2 / m) < 4 * var_se

    biased = stats.monte_carlo(stats.biased_variance, draw, sigma**2, trials, seed=m + 100)
    unbiased = stats.monte_carlo(stats.unbiased_variance, draw, sigma**2, trials, seed=m + 100)
    # Var(s^2) = 2 sigma^4 / (m - 1) for Gaussian data
    sd_of_mean = np.sqrt(2 * sigma**4 / (m - 1) / trials)
    assert abs(unbiased.bias.item()) < 4 * sd_of_mean
    assert biased.bias.item() == pytest.approx(-(sigma**2) / m, abs=4 * sd_of_mean)
    assert unbiased.variance.item() == pytest.approx(2 * sigma**4 / (m - 1), rel=0.05)
    assert unbiased.mse.item() == pytest.approx(unbiased.bias.item() ** 2 + unbiased.variance.item())
    assert unbiased.standard_error.item() == pytest.approx(unbiased.variance.sqrt().item())


def test_monte_carlo_checks_the_estimator_shape():
    draw = stats.gaussian_draw(0.0, 1.0, 4)
    with pytest.raises(ValueError, match="one value per sample"):
        stats.monte_carlo(lambda x: x.mean(), draw, 0.0, trials=10)


def test_bayes_posterior_against_direct_formula():
    prior = torch.tensor([0.2, 0.5, 0.3])
    likelihood = torch.tensor([0.9, 0.1, 0.4])
    joint = [0.2 * 0.9, 0.5 * 0.1, 0.3 * 0.4]
    expected = torch.tensor([j / sum(joint) for j in joint], dtype=F64)
    assert torch.allclose(stats.bayes_posterior(prior, likelihood), expected)
    with pytest.raises(ValueError, match="sum to 1"):
        stats.bayes_posterior(torch.tensor([0.5, 0.6]), torch.tensor([0.1, 0.1]))
    with pytest.raises(ValueError, match="evidence"):
        stats.bayes_posterior(torch.tensor([0.5, 0.5]), torch.tensor([0.0, 0.0]))


def test_expectation_matches_scipy_rv_discrete():
    g = torch.Generator().manual_seed(3)
    for f in (torch.exp, lambda x: x**2, torch.abs):
        values = torch.randn(6, generator=g, dtype=torch.float64)
        probs = torch.rand(6, generator=g, dtype=torch.float64)
        probs /= probs.sum()
        oracle = scipy.stats.rv_discrete(values=(np.arange(6), probs.numpy()))
        outcomes = f(values).numpy()
        expected = oracle.expect(lambda k, outcomes=outcomes: outcomes[np.asarray(k, dtype=int)])
        assert stats.expectation(f, values, probs).item() == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="one shape"):
        stats.expectation(torch.exp, torch.zeros(3), torch.ones(2) / 2)


@pytest.mark.parametrize("n,k", [(10, 2), (10, 3), (11, 4), (23, 5), (7, 7), (101, 10), (5, 2)])
def test_kfold_indices_match_sklearn_kfold(n, k):
    from sklearn.model_selection import KFold

    ours = stats.kfold_indices(n, k)
    theirs = list(KFold(n_splits=k).split(np.zeros(n)))
    assert len(ours) == len(theirs) == k
    for (train, val), (sk_train, sk_val) in zip(ours, theirs):
        assert train.dtype == val.dtype == torch.int64
        assert train.tolist() == sk_train.tolist() and val.tolist() == sk_val.tolist()
    assert sorted(torch.cat([val for _, val in ours]).tolist()) == list(range(n))  # each validated once


def test_kfold_indices_reject_what_kfold_rejects():
    from sklearn.model_selection import KFold

    for n, k in [(10, 1), (3, 4)]:
        with pytest.raises(ValueError):
            list(KFold(n_splits=k).split(np.zeros(n)))
        with pytest.raises(ValueError, match="n_splits"):
            stats.kfold_indices(n, k)
    assert len(stats.kfold_indices(20)) == KFold().get_n_splits() == 5
