"""Hypothesis tests for means, scipy.stats' and statsmodels' twins, with the critical value and the decision.

``result``: ``TestResult`` (statistic, pvalue, df, alternative; critical_value, reject, decision,
confidence_interval) and the alternatives. ``ttests``: ``ttest_1samp``, ``ttest_1samp_from_stats``,
``ttest_rel``, ``ttest_ind`` (Student by default, Welch with equal_var=False). ``ztest``: statsmodels' ``ztest``.
``corrected``: ``corrected_ttest_rel``, the Nadeau-Bengio test for scores over overlapping resamples.
``power``: ``normal_power`` and ``ttest_power``.
"""

from helpers.stats.hypothesis.corrected import corrected_ttest_rel
from helpers.stats.hypothesis.power import normal_power, ttest_power
from helpers.stats.hypothesis.result import ALTERNATIVES, ConfidenceInterval, TestResult
from helpers.stats.hypothesis.ttests import ttest_1samp, ttest_1samp_from_stats, ttest_ind, ttest_rel
from helpers.stats.hypothesis.ztest import ztest

__all__ = ["ALTERNATIVES", "ConfidenceInterval", "TestResult", "corrected_ttest_rel", "normal_power", "ttest_1samp",
           "ttest_1samp_from_stats", "ttest_ind", "ttest_power", "ttest_rel", "ztest"]
