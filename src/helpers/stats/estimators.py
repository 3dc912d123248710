"""Point estimators and how to judge them.

An estimator maps a sample x^(1..m) to a guess theta_hat of a fixed, unknown theta. Because the sample
is random, so is theta_hat, and we judge it by

    bias(theta_hat)   = E[theta_hat] - theta
    var(theta_hat)    = E[(theta_hat - E[theta_hat])^2]
    SE(theta_hat)     = sqrt(var(theta_hat))
    MSE(theta_hat)    = E[(theta_hat - theta)^2] = bias^2 + var

``monte_carlo`` estimates all four by drawing many samples and applying the estimator to each.
``kfold_indices`` gives the folds of k-fold cross-validation, which estimates a model's error without a
separate validation set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch


def _check_sample(x: torch.Tensor, minimum: int, what: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} expects a torch.Tensor, got {type(x).__name__}. Wrap data with torch.tensor(...).")
    if x.ndim == 0 or x.shape[-1] < minimum:
        raise ValueError(
            f"{what} needs at least {minimum} value(s) along the last dimension, got shape {tuple(x.shape)}."
        )


def sample_mean(x: torch.Tensor) -> torch.Tensor:
    """mu_hat = (1/m) sum_i x_i over the last dimension. x: (..., m) -> (...)."""
    _check_sample(x, 1, "sample_mean")
    return x.mean(dim=-1)


def biased_variance(x: torch.Tensor) -> torch.Tensor:
    """The maximum-likelihood variance (1/m) sum_i (x_i - mu_hat)^2. x: (..., m) -> (...).

    Its bias is -sigma^2 / m: it underestimates, because mu_hat sits closer to the data than mu does.
    """
    _check_sample(x, 1, "biased_variance")
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).mean(dim=-1)


def unbiased_variance(x: torch.Tensor) -> torch.Tensor:
    """Bessel-corrected variance (1/(m-1)) sum_i (x_i - mu_hat)^2. x: (..., m) -> (...)."""
    _check_sample(x, 2, "unbiased_variance")
    m = x.shape[-1]
    return ((x - x.mean(dim=-1, keepdim=True)) ** 2).sum(dim=-1) / (m - 1)


def standard_error_of_mean(x: torch.Tensor) -> torch.Tensor:
    """SE(mu_hat) estimated from one sample: sqrt(unbiased_variance(x) / m). x: (..., m) -> (...)."""
    _check_sample(x, 2, "standard_error_of_mean")
    return (unbiased_variance(x) / x.shape[-1]).sqrt()


def expectation(f: Callable[[torch.Tensor], torch.Tensor], values: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """E[f(X)] = sum_k f(values[k]) P(X = values[k]) for a discrete X. values, probs: (K,) -> 0-dim tensor."""
    if values.shape != probs.shape:
        raise ValueError(f"values {tuple(values.shape)} and probs {tuple(probs.shape)} must have one shape.")
    return (f(values) * probs).sum()


class EstimatorReport(NamedTuple):
    """What a Monte-Carlo study found about an estimator (all 0-dim tensors but ``estimates``)."""

    bias: torch.Tensor
    variance: torch.Tensor
    mse: torch.Tensor
    standard_error: torch.Tensor
    estimates: torch.Tensor  # (trials,)


def bias_variance_mse(estimates: torch.Tensor, true_value: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Bias, variance and MSE of an estimator from its values on many independent samples.

    estimates: (trials,) -> three 0-dim tensors. The variance divides by the number of trials, so
    mse == bias**2 + variance holds exactly, not only on average.
    """
    _check_sample(estimates, 1, "bias_variance_mse")
    bias = estimates.mean() - true_value
    variance = ((estimates - estimates.mean()) ** 2).mean()
    mse = ((estimates - true_value) ** 2).mean()
    return bias, variance, mse


def monte_carlo(
    estimator: Callable[[torch.Tensor], torch.Tensor],
    draw: Callable[[torch.Generator, int], torch.Tensor],
    true_value: float,
    trials: int = 10_000,
    seed: int = 0,
) -> EstimatorReport:
    """Judge ``estimator`` by simulation.

    draw(generator, trials) -> samples: (trials, m), one sample of size m per row.
    estimator(samples: (trials, m)) -> estimates: (trials,).
    """
    if trials < 2:
        raise ValueError(f"trials must be at least 2 to estimate a variance, got {trials!r}.")
    samples = draw(torch.Generator().manual_seed(seed), trials)
    estimates = estimator(samples)
    if estimates.shape != (trials,):
        raise ValueError(
            f"The estimator must return one value per sample, shape ({trials},); got {tuple(estimates.shape)}. "
            "Reduce over the last dimension only (e.g. x.mean(dim=-1))."
        )
    bias, variance, mse = bias_variance_mse(estimates, true_value)
    return EstimatorReport(bias, variance, mse, variance.sqrt(), estimates)


def gaussian_draw(mean: float, std: float, m: int, dtype: torch.dtype = torch.float64) -> Callable:
    """A ``draw`` function for ``monte_carlo``: samples of size m from N(mean, std^2)."""

    def draw(generator: torch.Generator, trials: int) -> torch.Tensor:
        return mean + std * torch.randn(trials, m, generator=generator, dtype=dtype)

    return draw


def bayes_posterior(prior: torch.Tensor, likelihood: torch.Tensor) -> torch.Tensor:
    """Bayes' rule over a finite set of hypotheses y:  P(y|x) = P(x|y) P(y) / sum_y' P(x|y') P(y').

    prior: (K,) with P(y) summing to 1; likelihood: (K,) with P(x|y) for the observed x -> (K,).
    """
    prior, likelihood = torch.as_tensor(prior, dtype=torch.float64), torch.as_tensor(likelihood, dtype=torch.float64)
    if prior.shape != likelihood.shape:
        raise ValueError(f"prior {tuple(prior.shape)} and likelihood {tuple(likelihood.shape)} must have one shape.")
    if (prior < 0).any() or not torch.isclose(prior.sum(), torch.tensor(1.0, dtype=torch.float64)):
        raise ValueError(f"prior must be non-negative and sum to 1, got {prior.tolist()}.")
    joint = likelihood * prior
    evidence = joint.sum()
    if evidence <= 0:
        raise ValueError("The evidence P(x) is zero: every hypothesis gives the observation probability 0.")
    return joint / evidence


def kfold_indices(n_samples: int, n_splits: int = 5) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The (train, validation) index pairs of k-fold cross-validation, k = n_splits, in the data's order.

    The indices 0..n_samples-1 are cut into n_splits contiguous folds; the first n_samples % n_splits folds
    hold n_samples // n_splits + 1 indices, the others n_samples // n_splits. Pair j validates on fold j and
    trains on every other index, both in increasing order, so each example is validated exactly once.
    -> n_splits pairs (train: (n_samples - |fold j|,), val: (|fold j|,)) of int64 tensors: the indices that
    sklearn.model_selection.KFold(n_splits).split(range(n_samples)) yields (no shuffling).
    """
    if int(n_splits) != n_splits or n_splits < 2:
        raise ValueError(f"k-fold cross-validation needs n_splits >= 2 (an integer), got {n_splits!r}.")
    if n_splits > n_samples:
        raise ValueError(f"Cannot have n_splits={n_splits} greater than the number of samples n_samples={n_samples}.")
    size, extra = divmod(n_samples, n_splits)
    indices = torch.arange(n_samples)
    pairs, start = [], 0
    for j in range(n_splits):
        stop = start + size + (1 if j < extra else 0)
        pairs.append((torch.cat([indices[:start], indices[stop:]]), indices[start:stop]))
        start = stop
    return pairs
