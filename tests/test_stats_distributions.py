"""helpers.stats.distributions against scipy.special (stdtr, stdtrit, betainc) and scipy.stats.t, and against
closed forms (df = 1: the Cauchy CDF arctan; df = 2: t / sqrt(2 + t^2)): float64 at 1e-10 relative, lower tails
down to 1e-300, fractional df, df = inf, broadcasting, the errors, devices."""

import math

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
import torch
from tensors import DEVICES, F64

from helpers.stats.distributions import betainc, stdtr, stdtrit

RTOL = 1e-10
DFS = [0.5, 1.0, 2.5, 5.0, 19.0, 30.0, 1000.0]
T_GRID = np.concatenate([-np.logspace(-6, 8, 57), [0.0], np.logspace(-6, 8, 57)])
P_GRID = np.concatenate([np.logspace(-12, -1, 23), np.linspace(0.1, 0.9, 17), 1 - np.logspace(-12, -1, 23)])


def relerr(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    return np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300)


@pytest.mark.parametrize("df", DFS)
def test_stdtr_lower_tail_relative_to_scipy(df):
    lower = T_GRID[T_GRID <= 0]
    ours = stdtr(df, torch.tensor(lower)).numpy()
    ref = sp.stdtr(df, lower)
    if df == 1.0:  # scipy's df = 1 loses digits near t = 0 (3e-9 at t = -1e-8); the Cauchy CDF is the oracle
        ref = np.arctan2(1.0, -lower) / math.pi  # 1/2 + arctan(t)/pi for t <= 0, without cancellation
    assert relerr(ours, ref).max() < RTOL
    assert ours.min() < (1e-12 if df > 2 else 1e-4)  # the tails reached (df <= 1: heavy, ~|t|^-df)
    assert relerr(ours, st.t.cdf(lower, df)).max() < (RTOL if df != 1.0 else 1e-7)


@pytest.mark.parametrize("df", DFS)
def test_stdtr_upper_half_and_symmetry(df):
    upper = T_GRID[T_GRID > 0]
    ours = stdtr(df, torch.tensor(upper))
    assert relerr(ours.numpy(), st.t.cdf(upper, df)).max() < RTOL
    sf = stdtr(df, -torch.tensor(upper)).numpy()  # the upper tail the right way: P(T > t) = P(T < -t)
    assert relerr(sf, st.t.sf(upper, df)).max() < (RTOL if df != 1.0 else 1e-7)


def test_stdtr_closed_forms_df1_df2():
    t = torch.tensor(T_GRID)
    neg = -t.abs()
    cauchy = torch.atan2(torch.ones_like(neg), -neg) / math.pi
    assert relerr(stdtr(1.0, neg).numpy(), cauchy.numpy()).max() < RTOL
    root = torch.sqrt(2 + neg**2)
    df2 = 1 / (root * (root + neg.abs()))  # 1/2 (1 - |t| / sqrt(2 + t^2)), rationalised
    assert relerr(stdtr(2.0, neg).numpy(), df2.numpy()).max() < RTOL


def test_stdtr_huge_t_tails():
    for df, t in [(5.0, -1e3), (19.0, -40.0), (30.0, -20.0), (2.5, -1e6), (1000.0, -9.0)]:
        ours, ref = stdtr(df, t).item(), sp.stdtr(df, t)
        assert ref < 1e-14 and abs(ours - ref) <= RTOL * ref


@pytest.mark.parametrize("df", [0.7, 3.3, 17.83, 123.456])
def test_stdtr_fractional_df(df):
    x = np.linspace(-30, 30, 61)
    assert relerr(stdtr(df, torch.tensor(x)).numpy(), sp.stdtr(df, x)).max() < RTOL


def test_stdtr_large_df_and_normal_limit():
    x = np.linspace(-8, 8, 33)
    assert relerr(stdtr(1e5, torch.tensor(x)).numpy(), sp.stdtr(1e5, x)).max() < 1e-10
    assert torch.equal(stdtr(math.inf, torch.tensor(x)), torch.special.ndtr(torch.tensor(x)))


def test_stdtr_special_values_broadcasting_and_dtype():
    out = stdtr(torch.tensor([[1.0], [5.0], [30.0]]), torch.tensor([-math.inf, 0.0, math.inf, math.nan]))
    assert out.shape == (3, 4) and out.dtype == F64
    assert torch.equal(out[:, :3], torch.tensor([[0.0, 0.5, 1.0]] * 3, dtype=F64))
    assert torch.isnan(out[:, 3]).all()
    assert stdtr(4, torch.tensor([-1.0], dtype=torch.float32)).dtype == F64
    assert abs(stdtr(4, -1).item() - sp.stdtr(4, -1.0)) < 1e-15


@pytest.mark.parametrize("df", DFS)
def test_stdtrit_against_scipy(df):
    ours = stdtrit(df, torch.tensor(P_GRID)).numpy()
    assert relerr(ours, sp.stdtrit(df, P_GRID)).max() < RTOL
    assert relerr(ours, st.t.ppf(P_GRID, df)).max() < (RTOL if df != 1.0 else 1e-6)


def test_stdtrit_closed_forms():
    p = torch.tensor(P_GRID)
    cauchy = torch.where(p < 0.5, -1 / torch.tan(math.pi * p), 1 / torch.tan(math.pi * (1 - p)))  # tan(pi (p - 1/2))
    cauchy[p == 0.5] = 0.0
    assert relerr(stdtrit(1.0, p).numpy(), cauchy.numpy()).max() < RTOL
    assert relerr(stdtrit(2.0, p).numpy(), ((2 * p - 1) / torch.sqrt(2 * p * (1 - p))).numpy()).max() < RTOL


@pytest.mark.parametrize("df, smallest", [(0.5, -120), (1.0, -300), (2.5, -300), (19.0, -300), (1000.0, -300)])
def test_stdtrit_inverts_stdtr_deep_in_the_tails(df, smallest):
    """Beyond scipy's reach (its stdtrit is off by 2x at df = 2.5, p = 3e-221): the round trip, |t| up to 1e300."""
    p = torch.logspace(smallest, -1, 60, dtype=F64)
    t = stdtrit(df, p)
    assert torch.isfinite(t).all() and t.max() < 0
    assert relerr(stdtr(df, t).numpy(), p.numpy()).max() < 1e-12
    assert stdtrit(0.5, 1e-300).item() == -math.inf  # |t| ~ 1e600 does not exist in float64


def test_stdtrit_special_values_and_shapes():
    out = stdtrit(torch.tensor([1.0, 7.5]), torch.tensor([[0.0], [0.5], [1.0], [math.nan]]))
    assert out.shape == (4, 2)
    assert torch.equal(out[:3], torch.tensor([[-math.inf] * 2, [0.0] * 2, [math.inf] * 2], dtype=F64))
    assert torch.isnan(out[3]).all()
    assert torch.equal(stdtrit(math.inf, torch.tensor([0.025, 0.975], dtype=F64)),
                       torch.special.ndtri(torch.tensor([0.025, 0.975], dtype=F64)))
    # the centre at full relative precision (scipy's stdtrit loses digits there: 2e-8 at df = 3, p = 1/2 - 1e-9)
    near_half = 0.5 + torch.tensor([-1e-3, -1e-9, -1e-14, 1e-14, 1e-9, 1e-3], dtype=F64)
    exact = (2 * near_half - 1) / torch.sqrt(2 * near_half * (1 - near_half))  # df = 2; 2p - 1 is exact
    assert relerr(stdtrit(2.0, near_half).numpy(), exact.numpy()).max() < 1e-13


def test_critical_values_table():
    """The values every t table prints (two-sided 5%): t_{0.975, df} = t.ppf(0.975, df)."""
    dfs = torch.tensor([1.0, 2, 5, 9, 10, 19, 30, 100])
    assert relerr(stdtrit(dfs, 0.975).numpy(), st.t.ppf(0.975, dfs.numpy())).max() < RTOL
    assert abs(stdtrit(19, 0.975).item() - 2.093) < 5e-4 and abs(stdtrit(9, 0.95).item() - 1.833) < 5e-4


def test_betainc_against_scipy():
    g = np.random.default_rng(0)
    a = np.exp(g.uniform(np.log(0.05), np.log(300), 3000))
    b = np.exp(g.uniform(np.log(0.05), np.log(300), 3000))
    x = np.concatenate([g.uniform(0, 1, 2000), 10 ** g.uniform(-12, -1, 1000)])
    ours = betainc(torch.tensor(a), torch.tensor(b), torch.tensor(x)).numpy()
    ref = sp.betainc(a, b, x)
    small = ref < 0.5  # relative accuracy where I is small, absolute (1e-13) where it is near 1
    assert relerr(ours[small & (ref > 1e-300)], ref[small & (ref > 1e-300)]).max() < 1e-10
    assert np.abs(ours[~small] - ref[~small]).max() < 1e-12


def test_betainc_edges_and_closed_forms():
    x = torch.linspace(0, 1, 11, dtype=F64)
    assert torch.allclose(betainc(1.0, 1.0, x), x, rtol=1e-13, atol=1e-15)  # uniform CDF
    assert torch.allclose(betainc(2.0, 1.0, x), x**2, rtol=1e-13, atol=1e-15)  # I_x(a, 1) = x^a
    assert torch.allclose(betainc(1.0, 3.0, x), 1 - (1 - x) ** 3, rtol=1e-13, atol=1e-15)
    assert betainc(3.0, 4.0, 0.0).item() == 0.0 and betainc(3.0, 4.0, 1.0).item() == 1.0


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: stdtr(0.0, 1.0), "df must be > 0"),
        (lambda: stdtr(torch.tensor([3.0, -1.0]), 1.0), "n >= 2"),
        (lambda: stdtrit(-2.0, 0.5), "df must be > 0"),
        (lambda: stdtrit(5.0, 1.5), "must lie in [0, 1]"),
        (lambda: stdtrit(5.0, torch.tensor([0.5, -0.1])), "1 - alpha"),
        (lambda: betainc(0.0, 1.0, 0.5), "a must be > 0"),
        (lambda: betainc(1.0, -1.0, 0.5), "b must be > 0"),
        (lambda: betainc(1.0, 1.0, 1.5), "x must lie in [0, 1]"),
    ],
)
def test_errors_say_what_to_do(call, words):
    with pytest.raises(ValueError, match=None) as info:
        call()
    assert words in str(info.value)


@pytest.mark.parametrize("device", DEVICES)
def test_device(device):
    df = torch.tensor([1.0, 4.5, 30.0], device=device)
    t = torch.tensor([-50.0, -2.0, 3.0], dtype=F64, device=device)
    cdf = stdtr(df, t)
    assert cdf.device.type == device and cdf.dtype == F64
    assert relerr(cdf.cpu().numpy(), sp.stdtr(df.cpu().numpy(), t.cpu().numpy())).max() < RTOL
    q = stdtrit(df, torch.tensor([1e-9, 0.3, 0.975], dtype=F64, device=device))
    assert q.device.type == device
    assert relerr(q.cpu().numpy(), sp.stdtrit(df.cpu().numpy(), [1e-9, 0.3, 0.975])).max() < RTOL
