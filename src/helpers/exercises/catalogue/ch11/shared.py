"""What the chapter 11 exercises share: the library functions and the book's own helpers they forbid, under every name
an answer can reach them by, and the two distributions their references need, written here in closed form so that the
catalogue depends on nothing it checks:

- the standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2, and its quantile (``statistics.NormalDist``);
- the two-sided p-value of Student's t with an integer number of degrees of freedom nu, P(|T| >= t) = 1 - A(t | nu),
  by Abramowitz and Stegun 26.7.3-4: with theta = arctan(t / sqrt nu), s = sin theta, c = cos theta,
      nu odd:  A = 2/pi [theta + s (c + 2/3 c^3 + (2 4)/(3 5) c^5 + ... + (2 4 ... (nu-3))/(3 5 ... (nu-2)) c^(nu-2))]
      nu even: A = s [1 + 1/2 c^2 + (1 3)/(2 4) c^4 + ... + (1 3 ... (nu-3))/(2 4 ... (nu-2)) c^(nu-2)]
  (nu = 1 leaves 2 theta / pi, the Cauchy). Every exercise's case has nu = n - 1 for an integer n.

The book's own modules of this chapter (helpers.stats.hypothesis, .metrics, .model_selection) are forbidden by their
public names; optional libraries (statsmodels, torchmetrics) only where they are installed.
"""

from __future__ import annotations

import importlib.util
import math
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()


# ---------------------------------------------------------------- the two distributions
def normal_cdf(x: float) -> float:
    """Phi(x) = P(Z <= x) for Z ~ N(0, 1)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def normal_quantile(p: float) -> float:
    """Phi^{-1}(p): 1.6449 for p = 0.95."""
    return _STANDARD_NORMAL.inv_cdf(p)


def t_two_sided_pvalue(t: float, df: int) -> float:
    """P(|T| >= |t|) for T ~ Student's t with an integer df >= 1 (Abramowitz and Stegun 26.7.3-4)."""
    if int(df) != df or df < 1:
        raise ValueError(f"the closed form needs an integer df >= 1, got {df!r}")
    df = int(df)
    theta = math.atan(abs(t) / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2:  # odd: 2/pi (theta + s c (1 + 2/3 c^2 + (2 4)/(3 5) c^4 + ...))
        series, term = 0.0, math.cos(theta)
        for k in range(1, (df - 1) // 2 + 1):
            series += term
            term *= c2 * (2 * k) / (2 * k + 1)
        inside = 2 / math.pi * (theta + s * series)
    else:  # even: s (1 + 1/2 c^2 + (1 3)/(2 4) c^4 + ...)
        series, term = 0.0, 1.0
        for k in range(1, df // 2 + 1):
            series += term
            term *= c2 * (2 * k - 1) / (2 * k)
        inside = s * series
    return min(1.0, max(0.0, 1.0 - inside))


def t_lower_tail(t: float, df: int) -> float:
    """P(T <= t) = 1 - P(|T| >= |t|)/2 for t >= 0, P(|T| >= |t|)/2 for t < 0."""
    half = t_two_sided_pvalue(t, df) / 2
    return half if t < 0 else 1.0 - half


# ---------------------------------------------------------------- forbidden names
def _present(module: str) -> bool:
    """Whether ``module`` is installed (an optional library)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package missing
        return False


def books(module: str, *names: str) -> tuple[str, ...]:
    """``module.name`` for each name: the book's own functions, forbidden like the library's."""
    return tuple(f"{module}.{name}" for name in names)


def if_installed(package: str, *names: str) -> tuple[str, ...]:
    """Dotted names of an optional library (statsmodels), forbidden where it is installed."""
    return names if _present(package) else ()


HYPOTHESIS = "helpers.stats.hypothesis"
DISTRIBUTIONS = "helpers.stats.distributions"
METRICS = "helpers.stats.metrics"
MODEL_SELECTION = "helpers.stats.model_selection"
BOOKS_MODULES = (HYPOTHESIS, METRICS, MODEL_SELECTION)  # the modules of this chapter whose names are forbidden
BOOKS_TESTS = ("ttest_1samp", "ttest_1samp_from_stats", "ttest_rel", "ttest_ind", "ztest", "corrected_ttest_rel")

# Every t and z test of SciPy's (scipy.stats and its masked-array twins), the standard error of the mean (s / sqrt n
# is the point of the exercise), statsmodels' where it is installed, and the book's: the t statistic and the paired
# test are the reader's own. The t distribution's CDF (scipy.stats.t.cdf, scipy.special.stdtr, the book's stdtr)
# stays allowed: it is given.
T_TESTS = (
    "scipy.stats.ttest_1samp", "scipy.stats.ttest_rel", "scipy.stats.ttest_ind", "scipy.stats.ttest_ind_from_stats",
    "scipy.stats.mstats.ttest_1samp", "scipy.stats.mstats.ttest_rel", "scipy.stats.mstats.ttest_ind",
    "scipy.stats.sem", "scipy.stats.mstats.sem", "helpers.stats.standard_error_of_mean",
    *if_installed("statsmodels", "statsmodels.stats.weightstats.ztest", "statsmodels.stats.weightstats.ttest_ind",
                  "statsmodels.stats.weightstats.DescrStatsW.ttest_mean",
                  "statsmodels.stats.weightstats.DescrStatsW.ztest_mean"),
    *books(HYPOTHESIS, *BOOKS_TESTS),
    f"{HYPOTHESIS}.ttests._one_sample",  # the private function every t-test of the book's calls
)

# The power of a z-test (and of the t-test): statsmodels' where it is installed, and the book's.
POWER = (
    *if_installed("statsmodels", "statsmodels.stats.power.normal_power", "statsmodels.stats.power.NormalIndPower",
                  "statsmodels.stats.power.zt_ind_solve_power", "statsmodels.stats.power.TTestPower",
                  "statsmodels.stats.power.ttest_power"),
    *books(HYPOTHESIS, "normal_power", "ttest_power"),
)

# The confusion matrix: scikit-learn's (and its multilabel form), torchmetrics' where installed, the book's.
CONFUSION = (
    "sklearn.metrics.confusion_matrix", "sklearn.metrics.multilabel_confusion_matrix",
    *if_installed("torchmetrics", "torchmetrics.functional.confusion_matrix",
                  "torchmetrics.functional.classification.binary_confusion_matrix",
                  "torchmetrics.functional.classification.multiclass_confusion_matrix"),
    *books(METRICS, "confusion_matrix"),
)

# Precision, recall and F1: scikit-learn's scores, the function they share and the report that prints them,
# torchmetrics' where installed, the book's twins. Counting TP, FP, FN with a confusion matrix stays allowed.
PRECISION_RECALL = (
    "sklearn.metrics.precision_score", "sklearn.metrics.recall_score", "sklearn.metrics.f1_score",
    "sklearn.metrics.fbeta_score", "sklearn.metrics.precision_recall_fscore_support",
    "sklearn.metrics.classification_report",
    *if_installed("torchmetrics", "torchmetrics.functional.precision", "torchmetrics.functional.recall",
                  "torchmetrics.functional.f1_score"),
    *books(METRICS, "precision_recall_fscore_support", "precision_score", "recall_score", "f1_score"),
)

# k-fold splits: scikit-learn's splitters and the functions that split for you, the array splitters that cut n
# into k near-equal blocks (the fold sizes are part of the exercise), the book's chapter-1 kfold_indices and its
# splitters.
FOLDS = (
    "sklearn.model_selection.KFold", "sklearn.model_selection.StratifiedKFold", "sklearn.model_selection.GroupKFold",
    "sklearn.model_selection.StratifiedGroupKFold", "sklearn.model_selection.RepeatedKFold",
    "sklearn.model_selection.RepeatedStratifiedKFold", "sklearn.model_selection.LeaveOneOut",
    "sklearn.model_selection.cross_val_score", "sklearn.model_selection.cross_validate",
    "sklearn.model_selection.cross_val_predict", "sklearn.model_selection.train_test_split",
    "sklearn.model_selection.StratifiedShuffleSplit", "sklearn.model_selection.ShuffleSplit",
    "numpy.array_split", "torch.tensor_split", "torch.Tensor.tensor_split", "helpers.stats.kfold_indices",
    *books(MODEL_SELECTION, "KFold", "StratifiedKFold", "cross_val_score"),
)
