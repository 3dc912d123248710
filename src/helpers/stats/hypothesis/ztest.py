"""The z-test for means, statsmodels.stats.weightstats.ztest's twin.

    one sample:   z = (x_bar - value) / sqrt(v_1 / (n_1 - ddof))
    two samples:  z = (x1_bar - x2_bar - value) / se,   usevar="pooled":   se^2 = (n_1 v_1 + n_2 v_2) /
                  (n_1 + n_2 - 2 ddof) (1/n_1 + 1/n_2);   usevar="unequal":  se^2 = v_1/(n_1 - ddof) + v_2/(n_2 - ddof)

with v the biased variance (divisor n), so that with the default ddof = 1, v / (n - 1) = s^2 / n: the same
statistic as the t-test. The only difference is the reference distribution: N(0, 1) instead of t_(n-1).
That is exact when sigma is KNOWN; with sigma estimated by s it is a large-sample approximation that rejects
too often for small n (t has heavier tails: its 97.5% point is 2.776 at df = 4, 2.042 at df = 30, 1.960 only
as df -> inf). The rule of thumb "z for n > 30, t for n <= 30" works because the two agree closely from n ~ 30;
the t-test is right at every n.

statsmodels' conventions: the observations are along axis 0 (the result has the input's shape without it),
the one-sided alternatives are spelled "larger" / "smaller" (scipy's "greater" / "less" are accepted too, and
the result stores scipy's spelling), and the result's df is None (a normal reference).
"""

from __future__ import annotations

import torch

from helpers.stats.hypothesis.result import F64, TestResult, check_alternative, pvalue
from helpers.stats.hypothesis.ttests import as_sample, check_count

USEVARS = ("pooled", "unequal")


def _mean_and_biased_var(x: torch.Tensor, name: str, ddof: float) -> tuple[int, torch.Tensor, torch.Tensor]:
    n = x.shape[0]
    check_count(n, 2, name, 0, "ztest", "the standard deviation of a single value cannot be estimated",
                "ztest takes the observations along axis 0, as statsmodels: pass x.T for a (N, n) batch.")
    if n <= ddof:
        raise ValueError(f"ztest: ddof={ddof} must be below the number of observations of {name} ({n}).")
    mean = x.mean(dim=0)
    return n, mean, ((x - mean) ** 2).mean(dim=0)


def ztest(x1, x2=None, value: float = 0.0, alternative: str = "two-sided", usevar: str = "pooled",
          ddof: float = 1.0) -> TestResult:
    """z-test of H0: mean(x1) - mean(x2) = value (one sample: mean(x1) = value), normal reference distribution.

    As statsmodels.stats.weightstats.ztest (equations in the module docstring): the standard deviation is
    estimated from the data with ``ddof`` (default 1: s, divisor n - 1). x1: (n_1, ...), x2: (n_2, ...) or None,
    observations along axis 0 -> statistic, pvalue of shape (...); df is None. alternative: "two-sided",
    "larger" or "greater" (H1: mean(x1) - mean(x2) > value), "smaller" or "less". usevar: "pooled" (one common
    variance) or "unequal". confidence_interval() is statsmodels' zconfint: for mean(x1) - mean(x2).
    """
    alternative = check_alternative(alternative, "ztest")
    if usevar not in USEVARS:
        raise ValueError(f"ztest: usevar must be one of {USEVARS}, got {usevar!r}: 'pooled' assumes one common "
                         "variance for the two samples, 'unequal' estimates each.")
    x1 = as_sample(x1, "x1", "ztest")
    n1, mean1, var1 = _mean_and_biased_var(x1, "x1", ddof)
    if x2 is None:
        mean2, se2 = torch.zeros((), dtype=F64, device=x1.device), var1 / (n1 - ddof)
    else:
        x2 = as_sample(x2, "x2", "ztest")
        n2, mean2, var2 = _mean_and_biased_var(x2, "x2", ddof)
        if usevar == "pooled":
            se2 = (n1 * var1 + n2 * var2) / (n1 + n2 - 2 * ddof) * (1.0 / n1 + 1.0 / n2)
        else:
            se2 = var1 / (n1 - ddof) + var2 / (n2 - ddof)
    se = se2.sqrt()
    statistic = (mean1 - mean2 - torch.as_tensor(value, dtype=F64, device=x1.device)) / se
    return TestResult(statistic, pvalue(statistic, None, alternative), None, alternative,
                      estimate=torch.broadcast_to(mean1 - mean2, statistic.shape),
                      standard_error=torch.broadcast_to(se, statistic.shape))
