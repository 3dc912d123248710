"""Chapter 11: the t-tests, written by the reader. The one-sample t statistic t = (mean - mu0) / (s / sqrt n), with s
the sample standard deviation (divisor n - 1), and the two-sided paired t-test of two models' scores, the one-sample
test of their differences, with the t distribution's CDF given (the book's ``stats.stdtr``)."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.ch11.shared import T_TESTS, normal_cdf, t_lower_tail, t_two_sided_pvalue
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.compare import close
from helpers.exercises.spec import Case, Exercise

TOLERANCE = close(rtol=1e-9, atol=1e-12)  # the statistic and the p-value in float64 (p down to 1e-6 in the cases)


def _with_moments(values: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    """values shifted and scaled to have exactly this sample mean and sample standard deviation (divisor n - 1)."""
    centred = values - values.mean()
    return mean + std * centred / centred.pow(2).sum().div(len(values) - 1).sqrt()


def _sample_sd(x: torch.Tensor, divisor_offset: int = 1) -> torch.Tensor:
    """sqrt(sum (x - mean)^2 / (n - divisor_offset)): the sample standard deviation (1) or the biased one (0)."""
    return ((x - x.mean()) ** 2).sum().div(len(x) - divisor_offset).sqrt()


# ---------------------------------------------------------------- the one-sample t statistic
def _t_cases() -> list[Case]:
    g = gen(1101)

    def normal(n, mean, std):
        return mean + std * torch.randn(n, generator=g, dtype=F64)

    notes = _with_moments(normal(20, 0.0, 1.0), 42.0, 6.0)
    bulbs = _with_moments(normal(10, 0.0, 1.0), 28.2, math.sqrt(425.6 / 9))  # sum 282, sum of squares 8378
    return [
        Case("a sample of 20 values with mean 42 and s = 6 (the notes' example 1), popmean = 44", (notes, 44.0),
             "s is the sample standard deviation, divisor n - 1, so the standard error of the mean is s / sqrt(n): "
             "t = (42 - 44) / (6 / sqrt(20)). The mean lies below popmean, so t is negative."),
        Case("10 bulb lifetimes (sum 282, sum of squares 8378), popmean = 28", (bulbs, 28.0),
             "The mean 28.2 and s = sqrt((8378 - 10 * 28.2^2) / 9) = 6.877 give t = 0.2 / (6.877 / sqrt(10)): a small "
             "positive t."),
        Case("two values [3, 5], popmean = 1", (torch.tensor([3.0, 5.0], dtype=F64), 1.0),
             "The smallest sample with a standard deviation: mean 4, s = sqrt(((3 - 4)^2 + (5 - 4)^2) / (2 - 1)) = "
             "sqrt(2), standard error sqrt(2) / sqrt(2) = 1, so t = (4 - 1) / 1 = 3."),
        Case("15 values drawn around 9.5, popmean = 10", (normal(15, 9.5, 0.8), 10.0),
             "A mean below popmean gives a negative t: the sign says on which side of popmean the sample lies, which "
             "a one-sided test needs."),
        Case("[1, 2, 3, 4, 5], popmean = 3: the mean is popmean", (torch.arange(1.0, 6.0, dtype=F64), 3.0),
             "The sample mean equals popmean: t = 0."),
        Case("30 values drawn around 0.3 with standard deviation 2, popmean = 0", (normal(30, 0.3, 2.0), 0.0),
             "The standard deviation is estimated from the sample (s), not taken to be 1."),
        Case("a sample of 50 values, popmean = 5", (normal(50, 5.4, 1.5), 5.0), hidden=True),
        Case("three values, popmean = -1", (normal(3, -2.0, 1.0), -1.0), hidden=True),
        Case("a sample of 200 values, popmean = 100", (normal(200, 99.8, 3.0), 100.0), hidden=True),
    ]


def _t_statistic(a: torch.Tensor, popmean: float) -> torch.Tensor:
    return (a.mean() - popmean) / (_sample_sd(a) / math.sqrt(len(a)))


def _t_with(divisor_offset=1, root_n=True, n_minus_one=False, sign=1.0, absolute=False, sigma=None, variance=False):
    """The t statistic with one of the known mistakes: the biased standard deviation, the standard error without the
    square root or with sqrt(n - 1), the sign flipped or dropped, sigma = 1 assumed, the variance for the deviation."""

    def answer(a, popmean):
        n = len(a)
        spread = _sample_sd(a, divisor_offset) if sigma is None else torch.tensor(sigma, dtype=a.dtype)
        spread = spread**2 if variance else spread
        root = math.sqrt(n - 1) if n_minus_one else math.sqrt(n) if root_n else n
        t = sign * (a.mean() - popmean) / (spread / root)
        return t.abs() if absolute else t

    return answer


T_STATISTIC = Exercise(
    id="11.t_statistic",
    title="The one-sample t statistic",
    kind="implement",
    points=1,
    prompt=(
        "t_statistic(a, popmean) returns the one-sample t statistic of the sample a against the hypothesised mean "
        "popmean: t = (mean(a) - popmean) / (s / sqrt(n)), where n = len(a) and s is the sample standard deviation "
        "(divisor n - 1). a: (n,) float64 with n >= 2, popmean a float -> a 0-dim float64 tensor. torch.mean, "
        "torch.std and math.sqrt are allowed; no t-test of SciPy's or the book's, no ready-made standard error "
        "(scipy.stats.sem)."
    ),
    reference=_t_statistic,
    cases=_t_cases,
    compare=TOLERANCE,
    forbidden=T_TESTS,
    instead="Compute the mean, the sample standard deviation (a.std(), divisor n - 1) and the standard error s / "
    "sqrt(n) yourself: no scipy.stats.ttest_1samp / ttest_rel / ttest_ind / sem, nor the book's ttest_1samp or "
    "standard_error_of_mean.",
    hints=[
        "The t statistic measures how far the sample mean lies from popmean in units of its standard error, the "
        "standard deviation of the sample mean. Keep the sign: a mean below popmean gives a negative t.",
        "The standard error of the mean is s / sqrt(n), with s the sample standard deviation, sum of (x - mean)^2 "
        "over (n - 1), square-rooted: torch's a.std() divides by n - 1 already. Do not divide by sqrt(n - 1) as well.",
        "Three steps: the sample mean; s, the standard deviation with divisor n - 1 (a.std()); then the mean's "
        "distance from popmean divided by s / sqrt(n), sign kept.",
    ],
    wrong={
        "That is the lecture notes' s / sqrt(n - 1): with s the sample standard deviation (divisor n - 1) the "
        "standard error is s / sqrt(n). s / sqrt(n - 1) is right only for the standard deviation with divisor n: "
        "one n - 1, not two.": _t_with(n_minus_one=True),
        "The standard deviation has divisor n (torch.std(a, correction=0), NumPy's default): the sample standard "
        "deviation of the t statistic divides by n - 1 (torch's a.std()).": _t_with(divisor_offset=0),
        "The square root is missing: the standard error of the mean is s / sqrt(n), not s / n (the variance of the "
        "mean is s^2 / n).": _t_with(root_n=False),
        "The variance s^2 took the place of the standard deviation s: the standard error is s / sqrt(n), the square "
        "root of s^2 / n.": _t_with(variance=True),
        "The standard error is the square root of s^2 / n: divide by sqrt(s^2 / n) = s / sqrt(n), not by s^2 / n.":
            _t_with(variance=True, root_n=False),
        "The sign was dropped (|t|): a sample mean below popmean gives a negative t, and a one-sided test needs "
        "that sign.": _t_with(absolute=True),
        "The sign is flipped: t = (mean - popmean) / SE, the sample's mean minus the hypothesised one.": _t_with(
            sign=-1.0),
        "That is the z statistic with sigma = 1 assumed known, (mean - popmean) sqrt(n): the t statistic estimates "
        "the standard deviation from the sample, s.": _t_with(sigma=1.0),
    },
)


# ---------------------------------------------------------------- the paired t-test
def _paired_cases() -> list[Case]:
    g = gen(1104)

    def pairs(n, gap, shared=0.03, own=0.01, centre=0.85):
        """n paired scores: a common part per pair (the seed, the split) plus each model's own noise; a - b ~ gap."""
        common = centre + shared * torch.randn(n, generator=g, dtype=F64)
        a = common + gap + own * torch.randn(n, generator=g, dtype=F64)
        b = common + own * torch.randn(n, generator=g, dtype=F64)
        return a, b

    return [
        Case("two models' accuracies over 8 seeds, a better by about 0.01", pairs(8, 0.01),
             {0: "The paired statistic is the one-sample t of the differences d = a - b against 0: mean(d) / (s_d / "
                 "sqrt(n)), with s_d the standard deviation of the 8 differences (divisor n - 1).",
              1: "Two-sided, with n - 1 = 7 degrees of freedom: p = P(|T| >= |t|) = 2 P(T <= -|t|), from the t "
                 "distribution's CDF."}),
        Case("6 pairs where b is better: the differences are negative", pairs(6, -0.015),
             {0: "a - b, in that order: b better gives a negative t.",
              1: "Two-sided: the p-value of t and of -t are the same, 2 P(T <= -|t|)."}),
        Case("2 pairs: [0.9, 0.8] against [0.85, 0.78]",
             (torch.tensor([0.9, 0.8], dtype=F64), torch.tensor([0.85, 0.78], dtype=F64)),
             {0: "The smallest paired sample: the differences 0.05 and 0.02, mean 0.035, s_d = 0.0212.",
              1: "One degree of freedom: T is the Cauchy distribution, p = 1 - 2 arctan(|t|) / pi."}),
        Case("12 pairs that share most of their variation", pairs(12, 0.01, shared=0.05, own=0.002),
             {0: "The shared part cancels in a - b: the differences vary far less than either model's scores, which "
                 "is what makes the paired test sensitive. An unpaired statistic divides by the scores' spread.",
              1: "A large t: the p-value is small (about 1e-5), from the tail of the t distribution with 11 degrees "
                 "of freedom, not of the normal."}),
        Case("5 pairs with a small mean difference", pairs(5, 0.004, shared=0.02, own=0.01),
             {1: "4 degrees of freedom: the t distribution's tails are far heavier than the normal's, so its p-value "
                 "is larger."}),
        Case("30 pairs", pairs(30, 0.005), hidden=True),
        Case("100 pairs, b better", pairs(100, -0.002), hidden=True),
        Case("3 pairs", pairs(3, 0.02), hidden=True),
    ]


def _paired_with(sd_offset=1, df_offset=-1, tails=2.0, normal=False, doubled_cdf=False, reversed_=False,
                 unpaired=False, se_n_minus_1=False):
    """The paired test with one of the known mistakes; the right one with the defaults."""

    def answer(a, b):
        n = len(a)
        if unpaired:  # Student's two-sample statistic (equal sizes: Welch's is the same number), df 2n - 2
            pooled = (_sample_sd(a) ** 2 + _sample_sd(b) ** 2) / 2
            t, df = (a.mean() - b.mean()) / (pooled * 2 / n).sqrt(), 2 * n - 2
        else:
            d = b - a if reversed_ else a - b
            root = math.sqrt(n - 1) if se_n_minus_1 else math.sqrt(n)
            t, df = d.mean() / (_sample_sd(d, sd_offset) / root), n + df_offset
        value = t.item()
        if normal:
            p = 2 * normal_cdf(-abs(value))
        elif doubled_cdf:
            p = 2 * t_lower_tail(value, df)
        else:
            p = t_two_sided_pvalue(value, df) * tails / 2
        return t, torch.tensor(p, dtype=F64)

    return answer


PAIRED_TTEST = Exercise(
    id="11.paired_ttest",
    title="The paired t-test",
    kind="implement",
    points=2,
    prompt=(
        "paired_ttest(a, b) returns (statistic, pvalue) of the two-sided paired t-test of H0: mean(a - b) = 0, for "
        "two models' scores a and b measured in pairs (the same seeds, or the same folds): the one-sample t statistic "
        "of the differences d = a - b, t = mean(d) / (s_d / sqrt(n)) with s_d their sample standard deviation "
        "(divisor n - 1), and p = P(|T| >= |t|) for T with n - 1 degrees of freedom. a, b: (n,) float64, n >= 2 -> "
        "two 0-dim float64 tensors (floats are accepted). The t distribution's CDF is given: stats.stdtr(df, t) = "
        "P(T <= t) (scipy.special.stdtr and scipy.stats.t.cdf too); no t-test of SciPy's or the book's."
    ),
    reference=_paired_with(),
    cases=_paired_cases,
    compare=TOLERANCE,
    forbidden=T_TESTS,
    instead="Take the differences d = a - b, compute their t statistic yourself and the p-value with stats.stdtr(df, "
    "t) (the CDF is given): no scipy.stats.ttest_rel / ttest_1samp / ttest_ind, nor the book's ttest_rel, "
    "ttest_1samp or corrected_ttest_rel.",
    items=("the statistic", "the p-value"),
    hints=[
        "Pairing turns two samples into one: the differences d = a - b, one per pair. The paired test is the "
        "one-sample t-test of d against 0 (your t_statistic of exercise 11.1 with popmean 0).",
        "t = mean(d) / (d.std() / sqrt(n)), with n - 1 degrees of freedom. Two-sided: p = P(T <= -|t|) + P(T >= |t|) "
        "= 2 P(T <= -|t|), the t distribution being symmetric.",
        "Take d = a - b and n = len(d); t is the mean of d over its standard error, d.std() / sqrt(n); the p-value "
        "doubles the lower tail at -|t| of the t distribution with n - 1 degrees of freedom (stats.stdtr).",
    ],
    wrong={
        "That is the unpaired two-sample statistic (Student's, as scipy.stats.ttest_ind; with equal sizes Welch's is "
        "the same number): it divides by the spread of the scores themselves, which holds the variation the two "
        "models share in each pair. The paired test takes the differences first: t = mean(d) / (s_d / sqrt(n)).": (
            _paired_with(unpaired=True)),
        "The standard deviation of the differences has divisor n: the t statistic uses the sample standard "
        "deviation, divisor n - 1 (torch's d.std()).": _paired_with(sd_offset=0),
        "The statistic has the wrong sign: the differences were taken as b - a, or the sign was dropped (|t|). Take "
        "d = a - b and keep the sign of mean(d): a positive t says that a scores higher (the p-value is the same).":
            _paired_with(reversed_=True),
        "The standard error was s_d / sqrt(n - 1), the lecture notes' slip of example 1 (section 11.4): with s_d the "
        "sample standard deviation (divisor n - 1), the standard error of the mean is s_d / sqrt(n).":
            _paired_with(se_n_minus_1=True),
        "That is a one-sided p-value, one tail P(T <= -|t|): the two-sided test counts both tails, 2 P(T <= -|t|).": (
            _paired_with(tails=1.0)),
        "The p-value came from the normal distribution, 2 Phi(-|t|): the statistic follows Student's t with n - 1 "
        "degrees of freedom, whose heavier tails give a larger p-value for small n.": _paired_with(normal=True),
        "The degrees of freedom are n: the t statistic of n differences has n - 1 (one is spent on their mean).": (
            _paired_with(df_offset=0)),
        "2 P(T <= t) is the two-sided p-value only when t is negative: for a positive t it exceeds 1. Use the tail "
        "beyond |t|, 2 P(T <= -|t|).": _paired_with(doubled_cdf=True),
    },
)

EXERCISES = [T_STATISTIC, PAIRED_TTEST]
