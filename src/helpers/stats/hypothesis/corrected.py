"""The corrected resampled t-test of Nadeau and Bengio (2003), for comparing two models over folds or splits.

Two models A and B are scored on the same J resamples (the k folds of cross-validation, or J random
train/test splits): scores a_j, b_j, differences d_j = a_j - b_j. The paired t-test (ttest_rel) would use

    t = d_bar / sqrt(s_d^2 / J),   df = J - 1,

which assumes the d_j independent. They are not: every two training sets overlap (in k-fold, any two share
(k - 2)/(k - 1) of the data; random splits also share test points), so the d_j are positively correlated,
with some correlation rho. For equicorrelated d_j with variance sigma^2,

    Var(d_bar) = sigma^2 (1/J + rho (J - 1)/J),   while   E[s_d^2] = sigma^2 (1 - rho),

so s_d^2 / J underestimates Var(d_bar) twice over: it misses the rho term, which does not shrink as J grows,
and s_d^2 itself is too small, because correlated values scatter less around their mean. The naive t is too
large, and the test finds "significant" differences between equally good models far more often than alpha.
The two lines give, exactly, Var(d_bar) = (1/J + rho/(1 - rho)) E[s_d^2]. Nadeau and Bengio approximate
rho by n_test / (n_train + n_test), so rho / (1 - rho) = n_test / n_train:

    t = d_bar / sqrt((1/J + n_test/n_train) s_d^2),   df = J - 1.

For k-fold cross-validation n_test/n_train = 1/(k - 1). The correction is a heuristic (rho depends on the
models and the data too), but it brings the type I error close to alpha where the naive test exceeds it badly.
C. Nadeau and Y. Bengio, "Inference for the Generalization Error", Machine Learning 52 (2003) 239-281.
"""

from __future__ import annotations

import torch

from helpers.stats.hypothesis.result import TestResult, check_alternative, pvalue
from helpers.stats.hypothesis.ttests import STD_NEEDS_TWO, as_sample, check_count


def corrected_ttest_rel(a, b, n_train, n_test, alternative: str = "two-sided") -> TestResult:
    """Nadeau-Bengio corrected resampled paired t-test of H0: E[a - b] = 0 over J resamples.

        t = mean(d) / sqrt((1/J + n_test/n_train) var(d)),   d = a - b,   var with divisor J - 1,   df = J - 1.

    a, b: (J, ...) the two models' scores on the same J folds / splits (axis 0) -> statistic, pvalue, df of
    shape (...). n_train, n_test: the training and test set sizes of one resample (for k-fold, their ratio
    n_test/n_train = 1/(k - 1)). "greater" means H1: model a scores higher. As n_test/n_train -> 0 it becomes
    ttest_rel. confidence_interval() is for the mean difference, with the corrected standard error.
    """
    where = "corrected_ttest_rel"
    alternative = check_alternative(alternative, where)
    a, b = as_sample(a, "a", where), as_sample(b, "b", where)
    if a.shape != b.shape:
        raise ValueError(f"{where}: a {tuple(a.shape)} and b {tuple(b.shape)} must have the same shape: a[j] and "
                         "b[j] are the two models' scores on resample j.")
    for value, name in ((n_train, "n_train"), (n_test, "n_test")):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{where}: {name} must be a positive number (the size of one resample's "
                             f"{name[2:]}ing set), got {value!r}.")
    d = a - b
    J = d.shape[0]
    check_count(J, 2, "a - b", 0, where, STD_NEEDS_TWO)
    mean = d.mean(dim=0)
    var = ((d - mean) ** 2).sum(dim=0) / (J - 1)
    se = ((1.0 / J + n_test / n_train) * var).sqrt()
    statistic = mean / se
    df = torch.full_like(statistic, J - 1)
    return TestResult(statistic, pvalue(statistic, df, alternative), df, alternative, estimate=mean,
                      standard_error=se)
