"""What a test returns, and the pieces every test shares: the alternative, the p-value, the quantiles.

A test of H0 against H1 computes a statistic whose distribution under H0 is known (Student's t with df degrees
of freedom, or N(0, 1) for a z-test) and asks how surprising the observed value is:

    alternative     H1 (for a mean mu)   p-value               reject at level alpha when    critical value c
    "two-sided"     mu != mu0            2 P(T >= |t|)         |t| >= c                      ppf(1 - alpha/2) > 0
    "greater"       mu > mu0             P(T >= t)             t >= c                        ppf(1 - alpha)
    "less"          mu < mu0             P(T <= t)             t <= c                        ppf(alpha) < 0

The two columns on the right always agree: p <= alpha exactly when the statistic lies in the critical region
(up to rounding at the boundary). The alternative is fixed by the question BEFORE the data are seen; choosing
the tail that the sample mean points to doubles the type I error rate of a one-sided test.

Spellings: scipy's "two-sided", "greater", "less"; statsmodels' "larger" and "smaller" are accepted as aliases
and stored as "greater" / "less".
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch

from helpers.stats.distributions import stdtr, stdtrit

F64 = torch.float64
ALTERNATIVES = ("two-sided", "greater", "less")
ALIASES = {"larger": "greater", "smaller": "less"}  # statsmodels' names


def check_alternative(alternative: str, where: str) -> str:
    """The canonical name ("two-sided", "greater" or "less") of ``alternative``; ValueError listing the choices."""
    canonical = ALIASES.get(alternative, alternative) if isinstance(alternative, str) else None
    if canonical not in ALTERNATIVES:
        raise ValueError(
            f"{where}: alternative must be one of {ALTERNATIVES} (or statsmodels' 'larger' / 'smaller'), got "
            f"{alternative!r}. It states H1: 'two-sided' mu != mu0, 'greater' mu > mu0, 'less' mu < mu0."
        )
    return canonical


def check_probability(value: float, name: str, where: str, hint: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{where}: {name} must be a number strictly between 0 and 1, got {value!r}. {hint}")


def pvalue(statistic: torch.Tensor, df: torch.Tensor | None, alternative: str) -> torch.Tensor:
    """The p-value of ``statistic`` under Student's t with ``df`` (the normal when df is None), by the table above.

    Upper tails are written as lower tails of -statistic (the distributions are symmetric), never as 1 - cdf,
    so p-values of 1e-15 keep their digits."""
    def cdf(x):
        return torch.special.ndtr(x) if df is None else stdtr(df, x)

    if alternative == "less":
        return cdf(statistic)
    if alternative == "greater":
        return cdf(-statistic)
    return 2 * cdf(-statistic.abs())


def quantile(df: torch.Tensor | None, p: float, like: torch.Tensor) -> torch.Tensor:
    """The p-quantile of t_df (of N(0, 1) when df is None), shaped like ``like``."""
    if df is None:
        return torch.special.ndtri(torch.full_like(like, p))
    return stdtrit(df, torch.full_like(like, p))


class ConfidenceInterval(NamedTuple):
    """(low, high), as scipy's ConfidenceInterval; one of them is infinite for a one-sided alternative."""

    low: torch.Tensor
    high: torch.Tensor


def _number(x: torch.Tensor, digits: int = 4) -> str:
    value = x.item()
    if math.isfinite(value) and value == round(value) and abs(value) < 1e15:
        return str(int(value))
    if value != 0 and math.isfinite(value) and (abs(value) < 1e-3 or abs(value) >= 1e6):
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


class TestResult:
    """The result of a test: ``statistic``, ``pvalue``, ``df`` (None for a z-test) and ``alternative``.

    statistic, pvalue, df: tensors of the input's shape without the tested axis (0-dim for 1-D samples).
    Unpacks like scipy's result: ``t, p = ttest_1samp(a, 0.0)``. On top of scipy: ``critical_value(alpha)``,
    ``reject(alpha)`` and ``decision(alpha)``; ``confidence_interval(confidence_level)`` is scipy's
    TtestResult.confidence_interval (for a z-test: the same with normal quantiles, statsmodels' zconfint).
    """

    __test__ = False  # its name starts with "Test": tell pytest it is not a test class

    def __init__(self, statistic: torch.Tensor, pvalue: torch.Tensor, df: torch.Tensor | None, alternative: str,
                 *, estimate: torch.Tensor | None = None, standard_error: torch.Tensor | None = None):
        self.statistic, self.pvalue, self.df, self.alternative = statistic, pvalue, df, alternative
        self._estimate, self._standard_error = estimate, standard_error

    def __iter__(self):
        return iter((self.statistic, self.pvalue))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index):
        return (self.statistic, self.pvalue)[index]

    def critical_value(self, alpha: float = 0.05) -> torch.Tensor:
        """The boundary of the rejection region at level alpha (shape of ``statistic``).

        "two-sided": the positive c with P(|T| >= c) = alpha, ppf(1 - alpha/2) (reject when |t| >= c);
        "greater": ppf(1 - alpha) (reject when t >= c); "less": ppf(alpha), negative (reject when t <= c).
        ppf is Student's t quantile with this result's df, or the normal's for a z-test.
        """
        check_probability(alpha, "alpha", "critical_value", "alpha is the significance level, e.g. 0.05 (not 5).")
        if self.alternative == "two-sided":
            return -quantile(self.df, alpha / 2, self.statistic)  # = ppf(1 - alpha/2) by symmetry, more precise
        if self.alternative == "greater":
            return -quantile(self.df, alpha, self.statistic)
        return quantile(self.df, alpha, self.statistic)

    def reject(self, alpha: float = 0.05) -> torch.Tensor:
        """pvalue <= alpha, a bool tensor of the statistic's shape: True where H0 is rejected at level alpha.

        Equivalent to the statistic falling in the critical region (see ``critical_value``)."""
        check_probability(alpha, "alpha", "reject", "alpha is the significance level, e.g. 0.05 (not 5).")
        return self.pvalue <= alpha

    def decision(self, alpha: float = 0.05) -> str:
        """"reject H0" or "fail to reject H0" at level alpha, for a single test.

        Never "accept H0": a test that does not reject has only found the data compatible with H0."""
        if self.pvalue.ndim != 0:
            raise ValueError(
                f"decision() describes one test; this result holds {tuple(self.pvalue.shape)} tests. "
                "Use reject(alpha), a bool tensor, for a batch."
            )
        return "reject H0" if bool(self.reject(alpha)) else "fail to reject H0"

    def confidence_interval(self, confidence_level: float = 0.95) -> ConfidenceInterval:
        """(low, high) for the tested quantity (the mean; the mean difference for two samples), like scipy's.

            two-sided:  estimate + ppf((1 - cl)/2) se,  estimate + ppf((1 + cl)/2) se
            "greater":  (estimate + ppf(1 - cl) se, inf)        "less":  (-inf, estimate + ppf(cl) se)

        The interval holds the popmean (value) exactly when the test at alpha = 1 - cl does not reject.
        """
        check_probability(confidence_level, "confidence_level", "confidence_interval",
                          "It is 1 - alpha, e.g. 0.95 (not 95).")
        if self._estimate is None or self._standard_error is None:
            raise ValueError("confidence_interval: this result has no estimate and standard error to build it from.")
        est, se = self._estimate, self._standard_error
        inf = torch.full_like(est, math.inf)
        if self.alternative == "less":
            return ConfidenceInterval(-inf, est + quantile(self.df, confidence_level, est) * se)
        if self.alternative == "greater":
            return ConfidenceInterval(est + quantile(self.df, 1 - confidence_level, est) * se, inf)
        tail = (1 - confidence_level) / 2
        return ConfidenceInterval(est + quantile(self.df, tail, est) * se, est + quantile(self.df, 1 - tail, est) * se)

    def __repr__(self) -> str:
        if self.statistic.ndim == 0:
            df = "None" if self.df is None else _number(self.df)
            return (f"TestResult(statistic={_number(self.statistic)}, pvalue={_number(self.pvalue)}, df={df}, "
                    f"alternative={self.alternative!r})")
        shape = tuple(self.statistic.shape)
        df = "None" if self.df is None else f"<{shape}>"
        return f"TestResult(statistic=<{shape}>, pvalue=<{shape}>, df={df}, alternative={self.alternative!r})"
