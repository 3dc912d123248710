"""Student's t-tests for means, scipy.stats' twins: ttest_1samp, ttest_rel, ttest_ind (+ ttest_1samp_from_stats).

One sample x_1..x_n, H0: mu = mu0. With the sample mean x_bar and the sample standard deviation
s = sqrt(sum (x_i - x_bar)^2 / (n - 1)) (divisor n - 1, Bessel's correction),

    t = (x_bar - mu0) / (s / sqrt(n)),    t ~ t_(n-1) under H0 when the x_i are i.i.d. normal.

s / sqrt(n) is the standard error of the mean. (The same number is sigma_hat / sqrt(n - 1) when sigma_hat is the
biased standard deviation, divisor n; mixing the two conventions, s / sqrt(n - 1) with s from divisor n - 1,
is a common slip.) By the central limit theorem the test is approximately right for non-normal data too, the
more so the larger n and the less skewed the data.

Paired samples (ttest_rel): the one-sample test of d_i = a_i - b_i against 0, df n - 1. Pairing removes the
variation the two measurements share (the same seed, the same subject), which is why it can detect a small
difference that an unpaired test on the same numbers cannot.

Two independent samples (ttest_ind), H0: mu_a = mu_b, t = (a_bar - b_bar) / se:

    Student (equal_var=True, scipy's default): s_p^2 = ((n_a - 1) s_a^2 + (n_b - 1) s_b^2) / (n_a + n_b - 2),
        se = s_p sqrt(1/n_a + 1/n_b),  df = n_a + n_b - 2
    Welch (equal_var=False): se = sqrt(s_a^2/n_a + s_b^2/n_b), and the Welch-Satterthwaite df
        df = (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2/(n_a - 1) + (s_b^2/n_b)^2/(n_b - 1)),  not a whole number.

Conventions are scipy's: the ``axis`` holds the observations (the result has the input's shape without it, so a
(N, n) tensor of N samples of size n tested along axis=1 gives N tests at once); the p-value follows
``alternative`` (see helpers.stats.hypothesis.result); zero variance gives t = +-inf or nan as in scipy.
Differences: no nan_policy (nan propagates), and fewer than 2 observations raise ValueError where scipy returns
nan. Inputs are converted to float64 (float32 is computed and returned in float64).
"""

from __future__ import annotations

import torch

from helpers.stats.distributions import _as_tensors as as_tensors
from helpers.stats.hypothesis.result import F64, TestResult, check_alternative, pvalue


def as_sample(a, name: str, where: str) -> torch.Tensor:
    """``a`` as a float64 tensor of at least one dimension (observations along some axis)."""
    if isinstance(a, torch.Tensor) and (a.is_complex() or a.dtype == torch.bool):
        raise TypeError(f"{where}: {name} must hold real numbers, got {a.dtype}.")
    a = torch.as_tensor(a, dtype=F64)
    if a.ndim == 0:
        raise ValueError(f"{where}: {name} is a single number; pass the observations as a 1-D tensor (or a batch "
                         f"with the observations along `axis`).")
    return a


def check_axis(a: torch.Tensor, axis: int, name: str, where: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int) or not -a.ndim <= axis < a.ndim:
        raise ValueError(f"{where}: axis={axis!r} is not an axis of {name} (shape {tuple(a.shape)}).")
    return axis % a.ndim


BATCH_HINT = "If the data are a batch, check the axis: a (N, n) tensor of N samples of size n is tested along axis=1."


def check_count(n: int, minimum: int, name: str, axis: int, where: str, why: str, hint: str = BATCH_HINT) -> None:
    if n < minimum:
        raise ValueError(f"{where}: {name} has {n} observation(s) along axis={axis}; the test needs at least "
                         f"{minimum}: {why} (scipy and statsmodels return nan here). {hint}")


STD_NEEDS_TWO = "the standard deviation of a single value is undefined (s has divisor n - 1 = 0)"


def _one_sample(a: torch.Tensor, popmean, axis: int, alternative: str, where: str, name: str = "a") -> TestResult:
    axis = check_axis(a, axis, name, where)
    n = a.shape[axis]
    check_count(n, 2, name, axis, where, STD_NEEDS_TWO)
    mean = a.mean(dim=axis)
    s2 = ((a - mean.unsqueeze(axis)) ** 2).sum(dim=axis) / (n - 1)
    se = (s2 / n).sqrt()
    statistic = (mean - torch.as_tensor(popmean, dtype=F64, device=a.device)) / se
    mean, se = torch.broadcast_to(mean, statistic.shape), torch.broadcast_to(se, statistic.shape)
    df = torch.full_like(statistic, n - 1)
    return TestResult(statistic, pvalue(statistic, df, alternative), df, alternative, estimate=mean,
                      standard_error=se)


def ttest_1samp(a, popmean, axis: int = 0, *, alternative: str = "two-sided") -> TestResult:
    """One-sample t-test of H0: mean = popmean (scipy.stats.ttest_1samp).

        t = (x_bar - popmean) / (s / sqrt(n)),   s the sample standard deviation (divisor n - 1),   df = n - 1.

    a: (..., n, ...) with the n observations along ``axis`` -> statistic, pvalue, df: a's shape without ``axis``
    (0-dim for 1-D a). popmean: a number or a tensor broadcastable to that shape. confidence_interval() is for
    the mean. alternative: "two-sided" | "greater" | "less" (keyword-only: scipy has nan_policy before it).
    """
    alternative = check_alternative(alternative, "ttest_1samp")
    return _one_sample(as_sample(a, "a", "ttest_1samp"), popmean, axis, alternative, "ttest_1samp")


def ttest_1samp_from_stats(mean, std, nobs, popmean, alternative: str = "two-sided") -> TestResult:
    """The one-sample t-test from summary statistics: t = (mean - popmean) / (std / sqrt(nobs)), df = nobs - 1.

    std is the SAMPLE standard deviation, divisor nobs - 1 (what "sample standard deviation" means in scipy,
    torch.std and most textbooks); with the biased one (divisor n), pass std * sqrt(n / (n - 1)).
    mean, std, nobs, popmean: numbers or tensors, broadcast together -> statistic, pvalue, df of that shape.
    (Like scipy.stats.ttest_ind_from_stats, for one sample; for worked examples that give only x_bar, s, n.)
    """
    where = "ttest_1samp_from_stats"
    alternative = check_alternative(alternative, where)
    mean, std, nobs, popmean = as_tensors(mean, std, nobs, popmean)
    if bool((nobs < 2).any()):
        raise ValueError(f"{where}: nobs must be at least 2, got {nobs.min().item():g}: {STD_NEEDS_TWO}.")
    if bool((std < 0).any()):
        raise ValueError(f"{where}: std must be >= 0, got {std.min().item():g}; pass the standard deviation, "
                         "not the variance or a difference.")
    se = std / nobs.sqrt()
    statistic = (mean - popmean) / se
    df = nobs - 1
    return TestResult(statistic, pvalue(statistic, df, alternative), df, alternative, estimate=mean,
                      standard_error=se)


def ttest_rel(a, b, axis: int = 0, *, alternative: str = "two-sided") -> TestResult:
    """Paired t-test of H0: mean(a - b) = 0 (scipy.stats.ttest_rel): the one-sample test of d = a - b.

        t = d_bar / (s_d / sqrt(n)),   df = n - 1,   n the number of pairs.

    a, b: the same shape, pair i of a with pair i of b along ``axis`` -> the shape without ``axis``.
    "greater" means H1: mean(a) > mean(b). confidence_interval() is for the mean difference.
    """
    where = "ttest_rel"
    alternative = check_alternative(alternative, where)
    a, b = as_sample(a, "a", where), as_sample(b, "b", where)
    if a.shape != b.shape:
        raise ValueError(f"{where}: a {tuple(a.shape)} and b {tuple(b.shape)} must have the same shape: the test "
                         "pairs a[i] with b[i]. For unpaired samples of different sizes use ttest_ind.")
    return _one_sample(a - b, 0.0, axis, alternative, where, name="a - b")


def ttest_ind(a, b, *, axis: int = 0, equal_var: bool = True, alternative: str = "two-sided") -> TestResult:
    """Two-sample t-test of H0: mean(a) = mean(b) for independent samples (scipy.stats.ttest_ind).

        t = (a_bar - b_bar) / se;   equal_var=True (Student, scipy's default): pooled variance, df = n_a + n_b - 2;
        equal_var=False (Welch): se = sqrt(s_a^2/n_a + s_b^2/n_b), Welch-Satterthwaite df (fractional).

    a: (..., n_a, ...), b: (..., n_b, ...), the observations along ``axis``, the other axes broadcast ->
    the broadcast shape without ``axis``. "greater" means H1: mean(a) > mean(b). confidence_interval() is for
    mean(a) - mean(b). Student needs n_a + n_b >= 3 (a sample of one is allowed, as in scipy); Welch needs each
    n >= 2. Prefer Welch when the spreads may differ; prefer ttest_rel when the observations come in pairs.
    """
    where = "ttest_ind"
    alternative = check_alternative(alternative, where)
    a, b = as_sample(a, "a", where), as_sample(b, "b", where)
    axis_a, axis_b = check_axis(a, axis, "a", where), check_axis(b, axis, "b", where)
    n_a, n_b = a.shape[axis_a], b.shape[axis_b]
    if equal_var:
        check_count(min(n_a, n_b), 1, "a" if n_a < n_b else "b", axis, where, "an empty sample has no mean")
        if n_a + n_b < 3:
            raise ValueError(f"{where}: Student's test needs n_a + n_b >= 3 observations (df = n_a + n_b - 2 >= 1), "
                             f"got {n_a} + {n_b}.")
    else:
        for n, name in ((n_a, "a"), (n_b, "b")):
            check_count(n, 2, name, axis, where, "Welch's test estimates each sample's own variance, and "
                        + STD_NEEDS_TWO)
    mean_a, mean_b = a.mean(dim=axis_a), b.mean(dim=axis_b)
    ss_a = ((a - mean_a.unsqueeze(axis_a)) ** 2).sum(dim=axis_a)  # sums of squared deviations
    ss_b = ((b - mean_b.unsqueeze(axis_b)) ** 2).sum(dim=axis_b)
    if equal_var:
        df = torch.tensor(float(n_a + n_b - 2), dtype=F64)
        se = ((ss_a + ss_b) / df * (1.0 / n_a + 1.0 / n_b)).sqrt()
    else:
        vn_a, vn_b = ss_a / (n_a - 1) / n_a, ss_b / (n_b - 1) / n_b  # s^2 / n, the squared standard errors
        df = (vn_a + vn_b) ** 2 / (vn_a**2 / (n_a - 1) + vn_b**2 / (n_b - 1))
        df = torch.where(torch.isnan(df), torch.ones_like(df), df)  # both variances 0: any df (scipy uses 1)
        se = (vn_a + vn_b).sqrt()
    statistic = (mean_a - mean_b) / se
    df = torch.broadcast_to(df.to(statistic.device), statistic.shape).clone()
    return TestResult(statistic, pvalue(statistic, df, alternative), df, alternative,
                      estimate=torch.broadcast_to(mean_a - mean_b, statistic.shape),
                      standard_error=torch.broadcast_to(se, statistic.shape))
