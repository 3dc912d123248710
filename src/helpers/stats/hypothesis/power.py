"""The power of a test: the probability that it rejects H0 when the effect is real (statsmodels' conventions).

For the one-sample tests of H0: mu = mu0 with standardized effect size d = (mu - mu0) / sigma and n
observations, the statistic's mean moves from 0 to delta = d sqrt(n). Power = 1 - beta, beta the type II error.

z-test (sigma known, sigma = 1 in effect-size units), Z ~ N(delta, 1), Phi the normal CDF:

    "greater":    1 - Phi(z_(1-alpha) - delta)
    "less":       Phi(z_alpha - delta)
    "two-sided":  1 - Phi(z_(1-alpha/2) - delta) + Phi(-z_(1-alpha/2) - delta)   (both tails: the far one is tiny)

t-test: T = (Z + delta) / S with S = sqrt(V / nu), V ~ chi^2_nu, nu = n - 1, has the NONCENTRAL t distribution
(noncentrality delta). There is no closed form; we condition on S:

    P(T > c) = E_S[P(Z > c S - delta)] = integral Phi(delta - c s) f_S(s) ds,

and integrate over u = log s with the trapezoid rule on a fixed grid scaled to the width 1/sqrt(2 nu) of the
log-chi distribution: the integrand is smooth and decays fast at both ends, where the trapezoid rule converges
geometrically (float64, about 1e-12 here). The density of u is
log f(u) = nu u + (nu/2) log(nu/2) - (nu/2) e^(2u) - lgamma(nu/2) + log 2.

The t-test's power is lower than the z-test's at the same n (it pays for estimating sigma), by a lot at small n.
"""

from __future__ import annotations

import math

import torch

from helpers.stats.distributions import _as_tensors as as_tensors
from helpers.stats.distributions import stdtrit
from helpers.stats.hypothesis.result import check_alternative, check_probability

GRID = torch.linspace(-60.0, 12.0, 1441, dtype=torch.float64)  # in units of 1/sqrt(2 nu): the log-chi's width


def _check(alpha: float, nobs: torch.Tensor, minimum: float, where: str) -> None:
    check_probability(alpha, "alpha", where, "alpha is the significance level, e.g. 0.05 (not 5).")
    if bool((nobs < minimum).any()):
        raise ValueError(f"{where}: nobs must be at least {minimum:g}, got {nobs.min().item():g}"
                         + (": the t-test has df = nobs - 1 >= 1." if minimum == 2 else "."))


def normal_power(effect_size, nobs, alpha: float = 0.05, alternative: str = "two-sided") -> torch.Tensor:
    """Power of the one-sample z-test (statsmodels.stats.power.normal_power with sigma = 1).

        "greater": Phi(d sqrt(n) - z_(1-alpha));  "less": Phi(-z_(1-alpha) - d sqrt(n));
        "two-sided": Phi(d sqrt(n) - z_(1-alpha/2)) + Phi(-z_(1-alpha/2) - d sqrt(n)).

    effect_size d = (mu - mu0) / sigma, nobs n > 0: numbers or tensors, broadcast -> float64 power.
    alternative: "two-sided" | "greater" ("larger") | "less" ("smaller").
    """
    alternative = check_alternative(alternative, "normal_power")
    d, n = as_tensors(effect_size, nobs)
    _check(alpha, n, 0, "normal_power")
    crit = -torch.special.ndtri(torch.tensor(alpha / 2 if alternative == "two-sided" else alpha,
                                             dtype=d.dtype, device=d.device))  # z_(1 - alpha'), > 0
    delta = d * n.sqrt()
    power = torch.zeros_like(delta)
    if alternative in ("two-sided", "greater"):
        power = power + torch.special.ndtr(delta - crit)
    if alternative in ("two-sided", "less"):
        power = power + torch.special.ndtr(-crit - delta)
    return power


def _log_chi_weights(nu: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Nodes u (..., K) and weights w (..., K), sum w g(u) ~ E[g(log S)], S = sqrt(chi^2_nu / nu)."""
    scale = 1.0 / (2.0 * nu).sqrt()
    u = GRID.to(nu.device) * scale.unsqueeze(-1)
    half = (nu / 2).unsqueeze(-1)
    log_f = 2 * half * u + half * torch.log(half) - half * torch.exp(2 * u) - torch.lgamma(half) + math.log(2)
    w = torch.exp(log_f)
    return u, w / w.sum(dim=-1, keepdim=True)  # normalised: the rule integrates the density itself to 1


def ttest_power(effect_size, nobs, alpha: float = 0.05, alternative: str = "two-sided") -> torch.Tensor:
    """Power of the one-sample t-test (statsmodels' TTestPower().power / ttest_power, df = nobs - 1).

        P(T' >= c_upper) [+ P(T' <= c_lower)],   T' noncentral t with df = n - 1 and noncentrality d sqrt(n),

    c the critical values of the test at level alpha ("two-sided": both tails at alpha/2; "greater": the upper at
    alpha; "less": the lower at alpha). Computed by quadrature over the chi distribution (module docstring).
    effect_size d = (mu - mu0) / sigma, nobs n >= 2: numbers or tensors, broadcast -> float64 power.
    """
    alternative = check_alternative(alternative, "ttest_power")
    d, n = as_tensors(effect_size, nobs)
    _check(alpha, n, 2, "ttest_power")
    nu = n - 1
    crit = -stdtrit(nu, alpha / 2 if alternative == "two-sided" else alpha)  # t_(1 - alpha'), > 0
    delta = (d * n.sqrt()).unsqueeze(-1)
    u, w = _log_chi_weights(nu)
    s_times_crit = torch.exp(u) * crit.unsqueeze(-1)
    power = torch.zeros_like(d)
    if alternative in ("two-sided", "greater"):
        power = power + (w * torch.special.ndtr(delta - s_times_crit)).sum(dim=-1)  # P(Z + delta > c S)
    if alternative in ("two-sided", "less"):
        power = power + (w * torch.special.ndtr(-s_times_crit - delta)).sum(dim=-1)  # P(Z + delta < -c S)
    return power
