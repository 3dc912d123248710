"""Chapter 11: the power of the one-sided z-test, a number. Under H1 the z statistic of n observations with
standardized effect d = (mu - mu0) / sigma is N(d sqrt(n), 1); the test "greater" at level alpha rejects when
z > z_{1-alpha}, so its power is 1 - beta = P(z > z_{1-alpha}) = 1 - Phi(z_{1-alpha} - d sqrt(n))."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.ch11.shared import POWER, normal_cdf, normal_quantile
from helpers.exercises.compare import as_mismatch, close, describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

EFFECT, NOBS, ALPHA = 0.5, 20, 0.05


def _power(effect=EFFECT, nobs=NOBS, alpha=ALPHA, tails=1, shift=None) -> float:
    """1 - Phi(z_crit - shift): z_crit = z_{1 - alpha / tails}, shift = d sqrt(n) unless given (a known mistake)."""
    critical = normal_quantile(1 - alpha / tails)
    return 1 - normal_cdf(critical - (effect * math.sqrt(nobs) if shift is None else shift))


def _t_test_power() -> float:
    """The one-sided one-sample t-test's power, sigma estimated: the noncentral t with df n - 1 and noncentrality
    d sqrt(n) beyond t_{1-alpha, n-1} (SciPy's, imported only where this mistake is diagnosed)."""
    from scipy import stats

    df = NOBS - 1
    return float(stats.nct.sf(stats.t.ppf(1 - ALPHA, df), df, EFFECT * math.sqrt(NOBS)))


_THREE_DIGITS = close(rtol=1e-3, atol=1e-9)  # 0.7228 or 0.723 typed in is the power; the known mistakes are 0.02+ away


def _power_compare(expected: float, got) -> Mismatch | None:
    """close() to 3 significant digits, without telling the number: the feedback says what is wrong with the one
    returned (not a probability, or not the power), and the diagnosis of the mistake it matches."""
    problem = as_mismatch(_THREE_DIGITS(expected, got))
    if problem is None or problem.kind is ResultKind.WRONG_TYPE:
        return problem
    value = got.item() if isinstance(got, torch.Tensor) else float(got)
    if not 0 <= value <= 1:
        return Mismatch(f"returned {describe(value)}, which is not a probability: the power lies between 0 and 1")
    return Mismatch(f"returned {describe(value)}, which is not the test's power to 3 significant digits")


POWER_EXERCISE = Exercise(
    id="11.power",
    title="The power of a one-sided z-test",
    kind="number",
    points=1,
    prompt=(
        f"A one-sided z-test of H0: mu = mu0 against H1: mu > mu0 (sigma known) at alpha = {ALPHA:g} uses n = {NOBS} "
        f"observations. The true mean lies d = (mu - mu0) / sigma = {EFFECT:g} standard deviations above mu0. "
        "z_test_power() returns, as a Python float, the probability that the test rejects H0: its power 1 - beta. "
        "The normal CDF and quantile are allowed (torch.special.ndtr / ndtri, scipy.stats.norm.cdf / ppf, "
        "statistics.NormalDist); no power function of statsmodels' or the book's."
    ),
    reference=_power,
    cases=lambda: [Case(f"d = {EFFECT:g}, n = {NOBS}, alpha = {ALPHA:g}, H1: mu > mu0", (),
                        "Two distributions of the same statistic z: N(0, 1) if H0 is true, which fixes the critical "
                        "value; N(d sqrt(n), 1) if the mean is d standard deviations above mu0, which gives the "
                        "power.")],
    compare=_power_compare,
    forbidden=POWER,
    instead="Write it with the normal CDF and quantile: the critical value from N(0, 1), the probability of exceeding "
    "it from N(d sqrt(n), 1).",
    hints=[
        "The test rejects when z > c, where c is chosen under H0 (z ~ N(0, 1)) so that P(z > c) = alpha, one-sided. "
        "The power is P(z > c) when H1 holds instead.",
        "Under H1, z = (x-bar - mu0) / (sigma / sqrt(n)) has mean (mu - mu0) / (sigma / sqrt(n)) = d sqrt(n) and "
        "standard deviation 1. So power = P(N(d sqrt(n), 1) > c) = 1 - Phi(c - d sqrt(n)).",
        "c = Phi^{-1}(0.95) = 1.645 (one-sided); d sqrt(n) = 0.5 sqrt(20) = 2.236; the power is 1 - Phi(1.645 - "
        "2.236), e.g. 1 - torch.special.ndtr(...).",
    ],
    wrong={
        "The critical value 1.96 is the two-sided test's, z_{1 - alpha/2}: this test is one-sided (H1: mu > mu0), "
        "so it rejects above z_{1 - alpha} = 1.645.": lambda: _power(tails=2),
        "That is beta, the probability of a type II error, Phi(c - d sqrt(n)): the power is 1 - beta, the "
        "probability of rejecting H0 when H1 holds.": lambda: 1 - _power(),
        "That is alpha, the probability of rejecting when H0 is TRUE (the type I error rate): the power is the "
        "probability of rejecting when the mean is d standard deviations above mu0.": lambda: ALPHA,
        "A power of (almost) 1 is too good for d = 0.5 and n = 20. Two mistakes give it: a shift of d n, where under "
        "H1 the z statistic's mean is d sqrt(n), the effect in units of the standard error sigma / sqrt(n); or a "
        "critical value with the wrong sign, Phi^{-1}(alpha) < 0, where the test rejects above Phi^{-1}(1 - alpha) > "
        "0, the point with probability alpha above it under H0.": lambda: _power(shift=EFFECT * NOBS),
        "The shift was d / sqrt(n): the standard error is sigma / sqrt(n), so the effect in standard errors is d "
        "sqrt(n), which grows with n.": lambda: _power(shift=EFFECT / math.sqrt(NOBS)),
        "The shift was d alone: in units of the standard error sigma / sqrt(n) the effect is d sqrt(n), not d.": (
            lambda: _power(shift=EFFECT)),
        "The shift went the wrong way, 1 - Phi(c + d sqrt(n)): with H1: mu > mu0 the statistic's distribution moves "
        "right, to N(d sqrt(n), 1), so P(z > c) = 1 - Phi(c - d sqrt(n)), more than alpha.": (
            lambda: _power(shift=-EFFECT * math.sqrt(NOBS))),
        "The shift was d sqrt(n - 1): with sigma known the standard error of the mean is sigma / sqrt(n), so the "
        "shift is d sqrt(n).": lambda: _power(shift=EFFECT * math.sqrt(NOBS - 1)),
        "That is the one-sample t-test's power (sigma estimated, the noncentral t with n - 1 degrees of freedom): "
        "here sigma is known, so the test is the z-test, and its statistic is normal.": _t_test_power,
    },
)

EXERCISES = [POWER_EXERCISE]
