"""Likelihoods and maximum-likelihood estimates (Chapter 2).

For a sample x_1..x_m drawn independently from p(x; theta), the log-likelihood is
log L(theta) = sum_i log p(x_i; theta), and the maximum-likelihood estimate is its arg-max:

    Bernoulli(theta)      log L = k log theta + (m - k) log(1 - theta)      theta_hat = k / m
    Gaussian(mu, sigma)   log L = -m log sigma - (m/2) log(2 pi) - sum_i (x_i - mu)^2 / (2 sigma^2)
                          mu_hat = mean, sigma_hat^2 = the biased (1/m) variance
"""

from __future__ import annotations

import torch

from helpers.stats.estimators import _check_sample, biased_variance, sample_mean

HALF_LOG_2PI = 0.5 * float(torch.log(torch.tensor(2 * torch.pi, dtype=torch.float64)))  # (1/2) log(2 pi)


def bernoulli_log_likelihood(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """log L(theta) = sum_i [x_i log theta + (1 - x_i) log(1 - theta)] = k log theta + (m - k) log(1 - theta).

    x: (m,) observed 0/1 outcomes (k ones); theta: any shape of candidate values in [0, 1] -> theta's shape,
    one log-likelihood of the whole sample per candidate. Uses 0 log 0 = 0 (torch.xlogy), so the ends
    theta = 0 and theta = 1 are handled: log L(1) = 0 when every outcome is 1.
    """
    _check_sample(x, 1, "bernoulli_log_likelihood")
    if x.ndim != 1:
        raise ValueError(f"bernoulli_log_likelihood: x must be one sample of shape (m,), got {tuple(x.shape)}.")
    theta = torch.as_tensor(theta, dtype=x.dtype if x.is_floating_point() else torch.float64, device=x.device)
    if ((x != 0) & (x != 1)).any():
        raise ValueError("bernoulli_log_likelihood: x must hold the outcomes 0 and 1 only.")
    k, m = x.sum(), x.shape[-1]
    return torch.xlogy(k, theta) + torch.xlogy(m - k, 1 - theta)


def bernoulli_mle(x: torch.Tensor) -> torch.Tensor:
    """The maximum-likelihood estimate of P(x = 1) from 0/1 outcomes: theta_hat = k / m, the fraction of ones.

    x: (..., m) -> (...).
    """
    _check_sample(x, 1, "bernoulli_mle")
    return x.to(torch.float64 if not x.is_floating_point() else x.dtype).mean(dim=-1)


def gaussian_log_likelihood(x: torch.Tensor, mu: float | torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """log L(mu, sigma) = sum_i log N(x_i; mu, sigma^2).

        log L = -m log sigma - (m/2) log(2 pi) - sum_i (x_i - mu)^2 / (2 sigma^2)

    x: (m,) a sample; mu and sigma: numbers or tensors that broadcast to a common shape S (a grid of
    candidates, say) -> S, one log-likelihood of the whole sample per candidate.
    """
    _check_sample(x, 1, "gaussian_log_likelihood")
    if not x.is_floating_point():
        raise TypeError(f"gaussian_log_likelihood: x must be a floating-point tensor, got {x.dtype}; use x.double().")
    if x.ndim != 1:
        raise ValueError(f"gaussian_log_likelihood: x must be one sample of shape (m,), got {tuple(x.shape)}.")
    mu = torch.as_tensor(mu, dtype=x.dtype, device=x.device)[..., None]
    sigma = torch.as_tensor(sigma, dtype=x.dtype, device=x.device)[..., None]
    if (sigma <= 0).any():
        raise ValueError("gaussian_log_likelihood: sigma is a standard deviation and must be positive.")
    log_density = -sigma.log() - HALF_LOG_2PI - (x - mu) ** 2 / (2 * sigma**2)
    return log_density.sum(dim=-1)


def gaussian_mle(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The maximum-likelihood (mu_hat, sigma_hat) of N(mu, sigma^2) over the last dimension.

    x: (..., m) -> (mu_hat: (...), sigma_hat: (...)).

    mu_hat = (1/m) sum_i x_i and sigma_hat = sqrt((1/m) sum_i (x_i - mu_hat)^2): the 1/m (biased) variance of
    Chapter 1, not the 1/(m - 1) one. scipy.stats.norm.fit returns the same pair.
    """
    _check_sample(x, 1, "gaussian_mle")
    return sample_mean(x), biased_variance(x).sqrt()
