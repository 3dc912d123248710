"""helpers.stats.hypothesis against its oracles: scipy.stats.ttest_1samp / ttest_rel / ttest_ind (every alternative,
both equal_var, several sizes, 1-D and batched along axis 0, 1 and -2, confidence intervals included), the
z-test against the statsmodels formula written here with scipy.stats.norm, critical values against t.ppf /
norm.ppf, reject / decision against the critical region and the p-value, the Nadeau-Bengio test against its
formula with scipy.stats.t, normal_power against its closed form and a seeded simulation, ttest_power against
scipy.stats.nct and a seeded simulation; edge cases and the errors."""

import math

import numpy as np
import pytest
import scipy.stats as st
import torch
from tensors import DEVICES, F64

from helpers.stats.hypothesis import (
    TestResult,
    corrected_ttest_rel,
    normal_power,
    ttest_1samp,
    ttest_1samp_from_stats,
    ttest_ind,
    ttest_power,
    ttest_rel,
    ztest,
)

ALTS = ["two-sided", "greater", "less"]
TOL = {"rtol": 1e-10, "atol": 1e-12}
# (shape, axis): the observations along `axis`, n = shape[axis]
LAYOUTS = [((2,), 0), ((3,), 0), ((12,), 0), ((57,), 0), ((9, 4), 0), ((5, 7), 1), ((3, 6, 2), -2), ((4, 2), 1)]


def data(shape, seed, loc=0.3, scale=1.0):
    return np.random.default_rng(seed).normal(loc, scale, size=shape)


def same(ours, theirs, tol=TOL):
    theirs = np.asarray(theirs, dtype=float)
    assert tuple(ours.shape) == theirs.shape, (tuple(ours.shape), theirs.shape)
    assert ours.dtype == F64
    np.testing.assert_allclose(ours.cpu().numpy(), theirs, **tol)


def same_result(ours, theirs, ci_levels=(0.95, 0.8)):
    same(ours.statistic, theirs.statistic)
    same(ours.pvalue, theirs.pvalue)
    same(ours.df, theirs.df)
    for level in ci_levels:
        low, high = ours.confidence_interval(level)
        ref = theirs.confidence_interval(level)
        same(low, ref.low)
        same(high, ref.high)


# ---------------------------------------------------------------- the t-tests against scipy
@pytest.mark.parametrize("alternative", ALTS)
@pytest.mark.parametrize("shape, axis", LAYOUTS)
def test_ttest_1samp(shape, axis, alternative):
    a = data(shape, seed=sum(shape) + axis)
    for popmean in (0.0, 0.7):
        ours = ttest_1samp(torch.tensor(a), popmean, axis, alternative=alternative)
        same_result(ours, st.ttest_1samp(a, popmean, axis=axis, alternative=alternative))


def test_ttest_1samp_popmean_tensor_and_float32():
    a = data((10, 3), seed=1)
    popmean = np.array([0.0, 0.5, -1.0])
    same_result(ttest_1samp(torch.tensor(a), torch.tensor(popmean)), st.ttest_1samp(a, popmean))
    a32 = torch.tensor(a, dtype=torch.float32)  # computed in float64 from the float32 values
    same_result(ttest_1samp(a32, 0.2), st.ttest_1samp(a32.double().numpy(), 0.2))


@pytest.mark.parametrize("alternative", ALTS)
@pytest.mark.parametrize("shape, axis", LAYOUTS)
def test_ttest_rel(shape, axis, alternative):
    a = data(shape, seed=2)
    b = a + data(shape, seed=3, loc=-0.2, scale=0.5)  # correlated pairs
    same_result(ttest_rel(torch.tensor(a), torch.tensor(b), axis, alternative=alternative),
                st.ttest_rel(a, b, axis=axis, alternative=alternative))


@pytest.mark.parametrize("alternative", ALTS)
@pytest.mark.parametrize("equal_var", [True, False])
@pytest.mark.parametrize("n_a, n_b", [(2, 2), (3, 7), (10, 4), (30, 31)])
def test_ttest_ind_1d(n_a, n_b, equal_var, alternative):
    a, b = data(n_a, seed=n_a, loc=0.5), data(n_b, seed=100 + n_b, scale=3.0)  # unequal spreads
    ours = ttest_ind(torch.tensor(a), torch.tensor(b), equal_var=equal_var, alternative=alternative)
    same_result(ours, st.ttest_ind(a, b, equal_var=equal_var, alternative=alternative))


@pytest.mark.parametrize("alternative", ALTS)
@pytest.mark.parametrize("equal_var", [True, False])
def test_ttest_ind_batched(equal_var, alternative):
    a, b = data((6, 5), seed=4), data((6, 9), seed=5, scale=2.0)  # along axis 1: 6 tests, n_a = 5, n_b = 9
    same_result(ttest_ind(torch.tensor(a), torch.tensor(b), axis=1, equal_var=equal_var, alternative=alternative),
                st.ttest_ind(a, b, axis=1, equal_var=equal_var, alternative=alternative))
    a, b = data((8, 3, 2), seed=6), data((5, 3, 2), seed=7)  # along axis 0
    same_result(ttest_ind(torch.tensor(a), torch.tensor(b), equal_var=equal_var, alternative=alternative),
                st.ttest_ind(a, b, equal_var=equal_var, alternative=alternative))


def test_welch_df_is_fractional_and_student_allows_a_sample_of_one():
    a, b = data(6, seed=8), data(11, seed=9, scale=4.0)
    welch = ttest_ind(torch.tensor(a), torch.tensor(b), equal_var=False)
    assert welch.df.item() != round(welch.df.item())
    single = ttest_ind(torch.tensor([1.5]), torch.tensor(b))  # pooled variance from b alone, as in scipy
    same_result(single, st.ttest_ind([1.5], b))


def test_ttest_1samp_from_stats_equals_the_test_on_data():
    for n in (2, 5, 40):
        a = data(n, seed=n, loc=1.0)
        for alternative in ALTS:
            ours = ttest_1samp_from_stats(a.mean(), a.std(ddof=1), n, 0.4, alternative=alternative)
            same_result(ours, st.ttest_1samp(a, 0.4, alternative=alternative))
    batch = ttest_1samp_from_stats(torch.tensor([42.0, 28.2]), torch.tensor([6.0, 6.877]), torch.tensor([20, 10]),
                                   torch.tensor([44.0, 28.0]))
    assert batch.statistic.shape == (2,) and batch.df.tolist() == [19.0, 9.0]


def test_the_lecture_notes_examples():
    """Example 1 (n 20, mean 42, s 6, mu0 44) and example 2 (bulbs, from sum 282 and sum of squares 8378)."""
    one = ttest_1samp_from_stats(42.0, 6.0, 20, 44.0)
    t = (42 - 44) / (6 / math.sqrt(20))  # the standard error s / sqrt(n), s with divisor n - 1
    assert abs(one.statistic.item() - t) < 1e-12 and abs(t - (-1.4907)) < 1e-4
    assert abs(one.pvalue.item() - 2 * st.t.cdf(t, 19)) < 1e-12
    assert abs(one.critical_value().item() - st.t.ppf(0.975, 19)) < 1e-10 and one.decision() == "fail to reject H0"
    assert repr(one) == "TestResult(statistic=-1.4907, pvalue=0.1525, df=19, alternative='two-sided')"
    mean = 282 / 10
    s = math.sqrt((8378 - 10 * mean**2) / 9)
    for alternative, p in [("two-sided", 0.929), ("less", 0.536), ("greater", 0.464)]:
        two = ttest_1samp_from_stats(mean, s, 10, 28.0, alternative=alternative)
        assert abs(two.pvalue.item() - p) < 1e-3
    assert abs(ttest_1samp_from_stats(mean, s, 10, 28.0, "greater").critical_value().item() - 1.833) < 1e-3


# ---------------------------------------------------------------- the z-test against statsmodels' formula
def z_reference(x1, x2, value, alternative, usevar, ddof):
    """statsmodels.stats.weightstats.ztest, written out (biased variances, then / (n - ddof))."""
    n1, m1, v1 = len(x1), x1.mean(0), x1.var(0)
    if x2 is None:
        m2, var = 0.0, v1 / (n1 - ddof)
    else:
        n2, m2, v2 = len(x2), x2.mean(0), x2.var(0)
        if usevar == "pooled":
            var = (n1 * v1 + n2 * v2) / (n1 + n2 - 2 * ddof) * (1 / n1 + 1 / n2)
        else:
            var = v1 / (n1 - ddof) + v2 / (n2 - ddof)
    z = (m1 - m2 - value) / np.sqrt(var)
    p = {"two-sided": 2 * st.norm.sf(np.abs(z)), "larger": st.norm.sf(z), "smaller": st.norm.cdf(z)}[alternative]
    return z, p, m1 - m2, np.sqrt(var)


@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
@pytest.mark.parametrize("usevar", ["pooled", "unequal"])
@pytest.mark.parametrize("ddof", [1.0, 0.0])
@pytest.mark.parametrize("two, shape", [(False, (15,)), (True, (15,)), (False, (8, 3)), (True, (8, 3))])
def test_ztest(two, shape, ddof, usevar, alternative):
    x1 = data(shape, seed=10, loc=0.4)
    x2 = data((11,) + shape[1:], seed=11, scale=2.0) if two else None
    z, p, diff, se = z_reference(x1, x2, 0.25, alternative, usevar, ddof)
    ours = ztest(torch.tensor(x1), None if x2 is None else torch.tensor(x2), 0.25, alternative, usevar, ddof)
    same(ours.statistic, z)
    same(ours.pvalue, p)
    assert ours.df is None and ours.alternative == {"larger": "greater", "smaller": "less"}.get(alternative,
                                                                                               alternative)
    scipy_name = {"larger": "greater", "smaller": "less"}.get(alternative, alternative)  # the same test
    same(ztest(torch.tensor(x1), None if x2 is None else torch.tensor(x2), 0.25, scipy_name, usevar, ddof).pvalue, p)
    low, high = ours.confidence_interval(0.9)  # statsmodels' zconfint: diff -+ z se
    if alternative == "two-sided":
        same(low, diff - st.norm.ppf(0.95) * se)
        same(high, diff + st.norm.ppf(0.95) * se)
    elif alternative == "larger":
        same(low, diff - st.norm.ppf(0.9) * se)
        assert torch.isinf(high).all()
    else:
        same(high, diff + st.norm.ppf(0.9) * se)


def test_ztest_statistic_equals_t_but_reference_is_normal():
    x = data(6, seed=12, loc=0.8)
    z, t = ztest(torch.tensor(x), value=0.1), ttest_1samp(torch.tensor(x), 0.1)
    assert abs(z.statistic.item() - t.statistic.item()) < 1e-12
    assert z.pvalue.item() < t.pvalue.item()  # the normal's lighter tails: the z-test rejects too easily at n = 6


# ---------------------------------------------------------------- critical values, reject, decision, intervals
@pytest.mark.parametrize("alpha", [0.01, 0.05, 0.1])
@pytest.mark.parametrize("alternative", ALTS)
def test_critical_values(alternative, alpha):
    a = data((40, 7), seed=13)
    result = ttest_1samp(torch.tensor(a), 0.0, axis=0, alternative=alternative)  # 7 tests, df 39
    ref = {"two-sided": st.t.ppf(1 - alpha / 2, 39), "greater": st.t.ppf(1 - alpha, 39),
           "less": st.t.ppf(alpha, 39)}[alternative]
    same(result.critical_value(alpha), np.full(7, ref))
    z = ztest(torch.tensor(a), alternative=alternative)
    zref = {"two-sided": st.norm.ppf(1 - alpha / 2), "greater": st.norm.ppf(1 - alpha),
            "less": st.norm.ppf(alpha)}[alternative]
    same(z.critical_value(alpha), np.full(7, zref))
    welch = ttest_ind(torch.tensor(a[:, :4]), torch.tensor(2 * a[:9, :4]), equal_var=False, alternative=alternative)
    p = {"two-sided": 1 - alpha / 2, "greater": 1 - alpha, "less": alpha}[alternative]
    same(welch.critical_value(alpha), st.t.ppf(p, welch.df.numpy()))  # fractional df


@pytest.mark.parametrize("alternative", ALTS)
def test_reject_agrees_with_pvalue_and_critical_region(alternative):
    g = torch.Generator().manual_seed(14)
    a = torch.randn(2000, 8, generator=g, dtype=F64) + 0.4 * torch.rand(2000, 1, generator=g, dtype=F64)
    for result in (ttest_1samp(a, 0.0, axis=1, alternative=alternative), ztest(a.T, alternative=alternative)):
        for alpha in (0.01, 0.05, 0.2):
            c, t = result.critical_value(alpha), result.statistic
            region = {"two-sided": t.abs() >= c, "greater": t >= c, "less": t <= c}[alternative]
            reject = result.reject(alpha)
            assert reject.dtype == torch.bool and torch.equal(reject, result.pvalue <= alpha)
            assert torch.equal(reject, region)
            assert 0 < int(reject.sum()) < len(reject)  # both outcomes occur: the comparison can fail


def test_decision_single_and_batched():
    a = torch.tensor(data(10, seed=15, loc=1.5))
    result = ttest_1samp(a, 0.0)
    assert result.pvalue.item() < 0.01 and result.decision(0.01) == "reject H0"
    assert ttest_1samp(a, 1.5).decision() == "fail to reject H0"
    with pytest.raises(ValueError, match="use reject|Use reject"):
        ttest_1samp(a.reshape(5, 2), 0.0).decision()


@pytest.mark.parametrize("alternative", ALTS)
def test_interval_contains_popmean_exactly_when_not_rejected(alternative):
    a = torch.tensor(data((500, 6), seed=16, loc=0.2))
    for popmean in (0.0, 0.2, 0.5):
        result = ttest_1samp(a, popmean, axis=1, alternative=alternative)
        low, high = result.confidence_interval(0.9)
        inside = (low < popmean) & (popmean < high)
        assert torch.equal(inside, ~result.reject(0.1))


def test_unpacking_indexing_and_repr():
    a = torch.tensor(data(20, seed=17))
    t, p = ttest_1samp(a, 0.0)
    ref = st.ttest_1samp(a.numpy(), 0.0)
    assert abs(t.item() - ref.statistic) < 1e-12 and abs(p.item() - ref.pvalue) < 1e-12
    result = ttest_ind(a[:8], a[8:], equal_var=False)
    assert len(result) == 2 and result[0] is result.statistic and result[1] is result.pvalue
    assert f"df={result.df.item():.4f}" in repr(result)
    assert repr(ttest_1samp(a.reshape(4, 5), 0.0, axis=1)) == (
        "TestResult(statistic=<(4,)>, pvalue=<(4,)>, df=<(4,)>, alternative='two-sided')")
    assert "df=None" in repr(ztest(a)) and isinstance(ztest(a), TestResult)


# ---------------------------------------------------------------- the corrected resampled t-test
@pytest.mark.parametrize("alternative", ALTS)
def test_corrected_ttest_rel_formula(alternative):
    a = data((10, 3), seed=18, loc=0.85, scale=0.02)  # 10 folds, 3 comparisons
    b = a - data((10, 3), seed=19, loc=0.01, scale=0.01)
    n_train, n_test = 900, 100  # 10-fold: n_test / n_train = 1/9
    d = a - b
    J = len(d)
    se = np.sqrt((1 / J + n_test / n_train) * d.var(0, ddof=1))
    t = d.mean(0) / se
    p = {"two-sided": 2 * st.t.sf(np.abs(t), J - 1), "greater": st.t.sf(t, J - 1), "less": st.t.cdf(t, J - 1)}
    ours = corrected_ttest_rel(torch.tensor(a), torch.tensor(b), n_train, n_test, alternative=alternative)
    same(ours.statistic, t)
    same(ours.pvalue, p[alternative])
    same(ours.df, np.full(3, J - 1.0))
    naive = ttest_rel(torch.tensor(a), torch.tensor(b), alternative=alternative)
    assert (ours.statistic.abs() < naive.statistic.abs()).all()  # the correction only ever shrinks |t|
    low, high = ours.confidence_interval(0.95)
    if alternative == "two-sided":
        same(high - low, 2 * st.t.ppf(0.975, J - 1) * se)


# ---------------------------------------------------------------- power
@pytest.mark.parametrize("alternative", ["two-sided", "larger", "smaller"])
def test_normal_power_closed_form(alternative):
    d = np.array([-0.8, -0.2, 0.0, 0.2, 0.5, 0.8])[:, None]
    n = np.array([2, 5, 20, 80])
    a = 0.05 / 2 if alternative == "two-sided" else 0.05
    delta = d * np.sqrt(n)
    power = np.zeros_like(delta)
    if alternative in ("two-sided", "larger"):
        power += st.norm.sf(st.norm.isf(a) - delta)
    if alternative in ("two-sided", "smaller"):
        power += st.norm.cdf(st.norm.ppf(a) - delta)
    same(normal_power(torch.tensor(d), torch.tensor(n), 0.05, alternative), power)


def test_normal_power_exercise_value():
    assert abs(normal_power(0.5, 20, alternative="greater").item() - 0.7228) < 1e-4  # exercise 11.power


def test_normal_power_by_simulation():
    """z = sqrt(n) mean(x), x ~ N(d, 1), sigma known: the rejection rate is the power, within 4 Monte Carlo SE."""
    g = torch.Generator().manual_seed(20)
    reps = 20000
    for d, n, alternative in [(0.5, 20, "greater"), (0.3, 10, "two-sided"), (-0.4, 15, "less")]:
        z = (torch.randn(reps, n, generator=g, dtype=F64) + d).mean(dim=1) * math.sqrt(n)
        crit = st.norm.ppf(0.975) if alternative == "two-sided" else st.norm.ppf(0.95)
        rejected = {"greater": z >= crit, "less": z <= -crit, "two-sided": z.abs() >= crit}[alternative]
        rate, power = rejected.double().mean().item(), normal_power(d, n, alternative=alternative).item()
        assert abs(rate - power) < 4 * math.sqrt(power * (1 - power) / reps)


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_ttest_power_against_noncentral_t(alternative):
    d = np.array([-1.0, -0.2, 0.0, 0.3, 0.8, 2.0])[:, None]
    n = np.array([2, 3, 5, 10, 40, 300])
    df = n - 1
    a = 0.05 / 2 if alternative == "two-sided" else 0.05
    nc = d * np.sqrt(n)
    power = np.zeros_like(nc)
    if alternative in ("two-sided", "greater"):
        power += st.nct.sf(st.t.isf(a, df), df, nc)
    if alternative in ("two-sided", "less"):
        power += st.nct.cdf(st.t.ppf(a, df), df, nc)
    same(ttest_power(torch.tensor(d), torch.tensor(n), 0.05, alternative), power, {"rtol": 1e-8, "atol": 1e-10})


def test_ttest_power_by_simulation_and_below_normal_power():
    g = torch.Generator().manual_seed(21)
    reps, d, n = 20000, 0.5, 10
    x = torch.randn(reps, n, generator=g, dtype=F64) + d
    rate = ttest_1samp(x, 0.0, axis=1).reject(0.05).double().mean().item()
    power = ttest_power(d, n).item()
    assert abs(rate - power) < 4 * math.sqrt(power * (1 - power) / reps)
    assert power < normal_power(d, n).item() - 0.02  # the t-test pays for estimating sigma


# ---------------------------------------------------------------- edge cases and errors
def test_huge_t_tiny_pvalues_match_scipy():
    a = np.array([10.0, 10.001, 10.002, 9.999, 10.0005, 10.0012])
    for alternative in ALTS:
        ours = ttest_1samp(torch.tensor(a), 9.9, alternative=alternative)
        ref = st.ttest_1samp(a, 9.9, alternative=alternative)
        same(ours.statistic, ref.statistic)
        same(ours.pvalue, ref.pvalue)
    p = ttest_1samp(torch.tensor(a), 9.98).pvalue.item()
    assert 1e-17 < p < 1e-6
    assert abs(p - st.ttest_1samp(a, 9.98).pvalue) < 1e-10 * p


def test_zero_variance_like_scipy():
    same(ttest_1samp(torch.tensor([2.0, 2.0, 2.0]), 1.0).statistic, np.inf)
    assert torch.isnan(ttest_1samp(torch.tensor([2.0, 2.0]), 2.0).pvalue)


@pytest.mark.parametrize("call", [
    lambda: ttest_1samp(torch.randn(5, dtype=F64), 0.0, alternative="bigger"),
    lambda: ttest_ind(torch.randn(5, dtype=F64), torch.randn(5, dtype=F64), alternative="two_sided"),
    lambda: ztest(torch.randn(5, dtype=F64), alternative="greater-than"),
    lambda: normal_power(0.5, 10, alternative="both"),
])
def test_misspelled_alternative_lists_the_choices(call):
    with pytest.raises(ValueError) as info:
        call()
    assert all(name in str(info.value) for name in ("two-sided", "greater", "less", "larger"))


def test_aliases_are_stored_in_scipy_spelling():
    a = torch.tensor(data(9, seed=22))
    assert ttest_1samp(a, 0.0, alternative="larger").alternative == "greater"
    assert torch.equal(ttest_rel(a, a.flip(0), alternative="smaller").pvalue,
                       ttest_rel(a, a.flip(0), alternative="less").pvalue)


@pytest.mark.parametrize("call, words", [
    (lambda: ttest_1samp(torch.tensor([1.0]), 0.0), "at least 2"),
    (lambda: ttest_1samp(torch.randn(1, 30, dtype=F64), 0.0), "axis=1"),
    (lambda: ttest_1samp(torch.tensor(3.0), 0.0), "single number"),
    (lambda: ttest_rel(torch.tensor([1.0]), torch.tensor([2.0])), "at least 2"),
    (lambda: ttest_rel(torch.randn(4, dtype=F64), torch.randn(5, dtype=F64)), "same shape"),
    (lambda: ttest_ind(torch.tensor([1.0]), torch.tensor([2.0, 3.0, 4.0]), equal_var=False), "Welch"),
    (lambda: ttest_ind(torch.tensor([1.0]), torch.tensor([2.0])), "n_a + n_b >= 3"),
    (lambda: ttest_1samp_from_stats(1.0, 1.0, 1, 0.0), "at least 2"),
    (lambda: ttest_1samp_from_stats(1.0, -1.0, 5, 0.0), "std must be >= 0"),
    (lambda: ztest(torch.tensor([1.0])), "at least 2"),
    (lambda: ztest(torch.randn(5, dtype=F64), usevar="equal"), "usevar"),
    (lambda: corrected_ttest_rel(torch.tensor([0.9]), torch.tensor([0.8]), 90, 10), "at least 2"),
    (lambda: corrected_ttest_rel(torch.rand(5, dtype=F64), torch.rand(5, dtype=F64), 0, 10), "n_train"),
    (lambda: ttest_power(0.5, 1), "df = nobs - 1"),
    (lambda: normal_power(0.5, 10, alpha=5), "not 5"),
    (lambda: ttest_1samp(torch.randn(5, dtype=F64), 0.0).critical_value(0.95 * 100), "alpha"),
    (lambda: ttest_1samp(torch.randn(5, dtype=F64), 0.0).confidence_interval(95), "not 95"),
])
def test_errors_explain(call, words):
    with pytest.raises(ValueError) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("device", DEVICES)
def test_devices(device):
    a = torch.tensor(data((6, 9), seed=23), device=device)
    b = torch.tensor(data((6, 9), seed=24, loc=0.8), device=device)
    for ours, ref in [
        (ttest_1samp(a, 0.1, axis=1, alternative="greater"), st.ttest_1samp(a.cpu(), 0.1, axis=1,
                                                                            alternative="greater")),
        (ttest_rel(a, b, axis=1), st.ttest_rel(a.cpu(), b.cpu(), axis=1)),
        (ttest_ind(a, b[:, :4], axis=1, equal_var=False), st.ttest_ind(a.cpu(), b[:, :4].cpu(), axis=1,
                                                                       equal_var=False)),
    ]:
        assert ours.statistic.device.type == device and ours.df.device.type == device
        same(ours.pvalue, ref.pvalue)
        same(ours.critical_value(), st.t.ppf(0.95 if ours.alternative == "greater" else 0.975, ref.df))
    z = ztest(a, b)
    assert z.pvalue.device.type == device
    assert ttest_power(torch.tensor([0.5], device=device), 20).device.type == device
