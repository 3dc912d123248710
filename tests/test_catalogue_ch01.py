"""The chapter 1 references against independent oracles: the book's own helpers.stats (a separate implementation,
tested against scipy in tests/test_stats.py), natural frequencies, numpy and scipy.stats, simulation, NumPy's
least-squares polynomial fit and sklearn's KFold; and the checks particular to chapter 1 (a simulation handed in
as typed numbers)."""

import numpy as np
import pytest
import scipy.stats
import torch
from catalogue_support import label
from sklearn.model_selection import KFold

from helpers import stats
from helpers.exercises import Outcome, assess
from helpers.exercises.catalogue import ch01
from helpers.models import PolynomialRegression, mse, select_polynomial_degree

# ---- Bayes' rule --------------------------------------------------------------------------------------------


def test_posterior_matches_the_books_bayes_posterior():
    prior = torch.tensor([ch01.PREVALENCE, 1 - ch01.PREVALENCE], dtype=torch.float64)
    likelihood = torch.tensor([ch01.SENSITIVITY, ch01.FALSE_POSITIVE_RATE], dtype=torch.float64)
    assert ch01.POSTERIOR.reference() == pytest.approx(stats.bayes_posterior(prior, likelihood)[0].item(), rel=1e-12)


def test_posterior_matches_natural_frequencies():
    people = 1_000_000
    sick = people * ch01.PREVALENCE
    true_pos, false_pos = sick * ch01.SENSITIVITY, (people - sick) * ch01.FALSE_POSITIVE_RATE
    assert ch01.POSTERIOR.reference() == pytest.approx(true_pos / (true_pos + false_pos), rel=1e-9)


# ---- expectation, variance, standard error, bias/variance/MSE against numpy and scipy -------------------------


@pytest.mark.parametrize("case", ch01.EXPECTATION.cases(), ids=label)
def test_expectation_matches_numpy_average(case):
    f, values, probs = case.args
    expected = np.average(f(values).numpy(), weights=probs.numpy())  # normalises by sum(probs) = 1
    assert ch01.EXPECTATION.reference(*case.args).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("case", ch01.VARIANCE.cases() + ch01.STANDARD_ERROR.cases(), ids=label)
def test_variance_and_standard_error_match_numpy_and_scipy(case):
    x = case.args[0].double()  # in float64, so that the comparison is tight
    assert np.allclose(ch01.VARIANCE.reference(x).numpy(), np.var(x.numpy(), axis=-1, ddof=1), rtol=1e-10)
    assert np.allclose(ch01.STANDARD_ERROR.reference(x).numpy(), scipy.stats.sem(x.numpy(), axis=-1), rtol=1e-10)


@pytest.mark.parametrize("case", ch01.BIAS_VARIANCE.cases(), ids=label)
def test_bias_variance_mse_match_numpy(case):
    estimates, true_value = case.args
    e = estimates.numpy()
    bias, variance, mse_ = ch01.BIAS_VARIANCE.reference(*case.args)
    assert bias.item() == pytest.approx(e.mean() - true_value, rel=1e-12, abs=1e-14)
    assert variance.item() == pytest.approx(np.var(e, ddof=0), rel=1e-12)
    assert mse_.item() == pytest.approx(np.mean((e - true_value) ** 2), rel=1e-12)
    assert mse_.item() == pytest.approx(bias.item() ** 2 + variance.item(), rel=1e-12)  # the decomposition


# ---- Monte-Carlo and the bias of the MLE variance, against theory and simulation --------------------------


def test_simulated_sample_means_match_theory():
    estimates = ch01.MSE_OF_MEAN.reference(0, 200_000)
    closed_form = ch01.MC_STD**2 / ch01.MC_M  # Var(mean of m draws) = sigma^2 / m, and the mean is unbiased
    assert estimates.shape == (200_000,) and estimates.dtype == torch.float64
    assert (estimates**2).mean().item() == pytest.approx(closed_form, rel=0.01)
    assert abs(estimates.mean().item()) < 4 * (closed_form / 200_000) ** 0.5
    for m in (2, 5):
        biased = stats.monte_carlo(stats.biased_variance, stats.gaussian_draw(0.0, 1.0, m), 1.0, 200_000, seed=m)
        assert ch01.BIAS_FACTOR.reference(m) == pytest.approx(biased.estimates.mean().item(), rel=0.02)


def test_simulation_check_rejects_typed_numbers_and_wrong_counts():
    typed = [lambda seed, trials: 0.404, lambda seed, trials: torch.tensor(0.4, dtype=torch.float32),
             lambda seed, trials: ch01._sample_means(seed, 100),  # a 100-trial simulation
             lambda seed, trials: ch01._sample_means(seed, trials).float()]
    for answer in typed:
        report = assess("01.mse_of_mean", answer)
        assert report.outcome is Outcome.INCORRECT and report.score == 0

    def honest(seed, trials):  # its own seeds: accepted as a simulation, not as a copy of the reference
        generator = torch.Generator().manual_seed(seed + 999)
        return (2 * torch.randn(trials, 10, dtype=torch.float64, generator=generator)).mean(-1)

    assert assess("01.mse_of_mean", honest, include_hidden=True).outcome is Outcome.CORRECT


# ---- choosing the degree, and the folds --------------------------------------------------------------------


@pytest.mark.parametrize("case", ch01.SELECT_DEGREE.cases(), ids=label)
def test_select_degree_matches_the_books_helper_and_numpy_polyfit(case):
    x_train, y_train, x_val, y_val, degrees = case.args
    chosen = ch01.SELECT_DEGREE.reference(*case.args)
    assert chosen == select_polynomial_degree(*case.args)
    # numpy's own least squares, degree by degree: the chosen degree's validation error is the smallest, up to the
    # rounding that separates two solvers (high degrees are ill-conditioned)
    errors = {}
    for degree in degrees:
        coefficients = np.polynomial.polynomial.polyfit(2 * x_train.numpy() - 1, y_train.numpy(), degree)
        fitted = np.polynomial.polynomial.polyval(2 * x_val.numpy() - 1, coefficients)
        errors[degree] = np.mean((fitted - y_val.numpy()) ** 2)
    assert errors[chosen] <= min(errors.values()) * (1 + 1e-6)
    ours = mse(PolynomialRegression(chosen).fit(x_train, y_train).predict(x_val), y_val).item()
    assert ours == pytest.approx(errors[chosen], rel=1e-6)


@pytest.mark.parametrize("case", ch01.KFOLD.cases(), ids=label)
def test_kfold_indices_match_sklearn(case):
    n, k = case.args
    ours = ch01.KFOLD.reference(n, k)
    theirs = list(KFold(n_splits=k).split(np.arange(n)))
    assert len(ours) == len(theirs) == k
    for (train, val), (their_train, their_val) in zip(ours, theirs):
        assert train.dtype == val.dtype == torch.int64
        assert train.tolist() == their_train.tolist() and val.tolist() == their_val.tolist()
