"""Chapter 11's hypothesis-test figures: what they draw, against the inputs and scipy.stats, and their errors.

The power in sampling_frame's title is the closed form 1 - Phi(z_{1-a} - d sqrt n) (two tails for two-sided) computed
here with scipy.stats.norm; each shaded area's extent starts at the critical value norm.ppf / t.ppf, and its area
(the shoelace formula over the polygon's vertices) is the probability scipy gives for that interval; the densities
are scipy's pdfs; the histogram's bars are numpy's density histogram on bins computed here.
"""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import legend, renders  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from scipy import stats  # noqa: E402

from helpers import plot  # noqa: E402
from helpers.plot import hypothesis as hyp  # noqa: E402


def _power(d, n, alpha, alternative):
    shift = d * math.sqrt(n)
    if alternative == "greater":
        return stats.norm.sf(stats.norm.ppf(1 - alpha) - shift)
    if alternative == "less":
        return stats.norm.cdf(stats.norm.ppf(alpha) - shift)
    c = stats.norm.ppf(1 - alpha / 2)
    return stats.norm.sf(c - shift) + stats.norm.cdf(-c - shift)


def _areas(ax, gid):
    """The shaded polygons of one kind: [(x_min, x_max, area)], area by the shoelace formula."""
    out = []
    for collection in ax.collections:
        if collection.get_gid() != gid:
            continue
        (path,) = collection.get_paths()
        x, y = path.vertices[:, 0], path.vertices[:, 1]
        area = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        out.append((x.min(), x.max(), area))
    return sorted(out)


CASES = [(0.5, 20, 0.05, "greater"), (0.2, 10, 0.01, "two-sided"), (0.8, 5, 0.10, "two-sided"),
         (-0.5, 10, 0.05, "less"), (0.8, 40, 0.01, "greater")]


@pytest.mark.parametrize(("d", "n", "alpha", "alternative"), CASES)
def test_sampling_frame_prints_and_shades_the_power_of_the_closed_form(d, n, alpha, alternative):
    fig = hyp.sampling_frame(d, n, alpha, alternative)
    (ax,) = fig.axes
    power = _power(d, n, alpha, alternative)
    assert ax.get_title() == (f"d = {d:g}, n = {n}, α = {alpha:g} ({alternative}): power {power:.3f}, "
                              f"β {1 - power:.3f}")
    shift = d * math.sqrt(n)
    assert legend(ax)[:5] == [f"power 1 − β = {power:.3f}", f"β = {1 - power:.3f} (type II error)",
                              f"α = {alpha:g} (type I error)", "under H0: N(0, 1)",
                              f"under H1: N(d√n, 1), d√n = {shift:.2f}"]
    low, high = ax.get_xlim()
    assert (low, high) == (min(-4.0, shift - 4), max(9.5, shift + 4))
    # the rejection region: from the critical value(s) to the edge of the axes
    if alternative == "two-sided":
        c = stats.norm.ppf(1 - alpha / 2)
        reject, keep, edges = [(low, -c), (c, high)], [(-c, c)], [-c, c]
        assert legend(ax)[5] == f"critical values ±{c:.3f}"
    else:
        c = stats.norm.ppf(1 - alpha) if alternative == "greater" else stats.norm.ppf(alpha)
        reject, keep = ([(c, high)], [(low, c)]) if alternative == "greater" else ([(low, c)], [(c, high)])
        edges = [c]
        assert legend(ax)[5] == f"critical value {c:.3f}"
    dashed = sorted(line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--")
    np.testing.assert_allclose(dashed, edges, rtol=0, atol=1e-12)
    for gid, intervals, law in (("alpha", reject, stats.norm(0, 1)), ("power", reject, stats.norm(shift, 1)),
                                ("beta", keep, stats.norm(shift, 1))):
        shaded = _areas(ax, gid)
        assert len(shaded) == len(intervals)
        for (x0, x1, area), (a, b) in zip(shaded, intervals):
            assert x0 == pytest.approx(a, abs=1e-12) and x1 == pytest.approx(b, abs=1e-12)
            assert area == pytest.approx(law.cdf(b) - law.cdf(a), abs=2e-5)
    total_power = sum(area for *_, area in _areas(ax, "power"))
    assert total_power == pytest.approx(power, abs=2e-4)  # the region beyond the axes holds < 1e-4
    assert ax.get_xlabel().startswith("z = ") and ax.get_ylabel() == "density"
    assert renders(fig)


def test_sampling_frame_has_a_fixed_layout_for_the_explorer():
    sizes, positions = set(), set()
    for d, n, alpha in ((0.2, 5, 0.01), (0.8, 40, 0.1), (0.5, 10, 0.05)):
        fig = hyp.sampling_frame(d, n, alpha)
        assert fig.get_layout_engine() is None and fig.axes[0].get_xlim() == (-4.0, 9.5)
        sizes.add(tuple(fig.get_size_inches()))
        positions.add(tuple(np.round(fig.axes[0].get_position().bounds, 6)))
    assert len(sizes) == len(positions) == 1
    assert hyp.sampling_frame(0.5, 20, 0.05, xlim=(-3.0, 6.0)).axes[0].get_xlim() == (-3.0, 6.0)


def test_sampling_frame_accepts_statsmodels_names_and_rejects_nonsense():
    assert hyp.sampling_frame(0.5, 20, 0.05, "larger").axes[0].get_title() == \
        hyp.sampling_frame(0.5, 20, 0.05, "greater").axes[0].get_title()
    with pytest.raises(ValueError, match="alternative must be one of"):
        hyp.sampling_frame(0.5, 20, 0.05, "one-sided")
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        hyp.sampling_frame(0.5, 20, 5)
    with pytest.raises(ValueError, match="whole number >= 1"):
        hyp.sampling_frame(0.5, 2.5, 0.05)


def test_t_densities_are_scipys_and_the_normal():
    fig = hyp.t_densities((1, 2.5, 30))
    left, right = fig.axes
    for ax in (left, right):
        *ts, normal = ax.lines
        for line, df in zip(ts, (1, 2.5, 30)):
            np.testing.assert_allclose(line.get_ydata(), stats.t.pdf(line.get_xdata(), df), rtol=1e-12, atol=0)
        np.testing.assert_allclose(normal.get_ydata(), stats.norm.pdf(normal.get_xdata()), rtol=1e-12, atol=0)
        assert ax.get_xlabel() == "t" and ax.get_ylabel() == "density"
    assert left.get_xlim()[0] < -4.9 and right.get_yscale() == "log"
    assert legend(left) == ["t, df = 1", "t, df = 2.5", "t, df = 30", "normal N(0, 1)"]
    assert left.get_title() and right.get_title()
    with pytest.raises(ValueError, match="each > 0"):
        hyp.t_densities((0, 3))


def test_power_curves_draw_each_curve_and_the_simulated_points_in_its_colour():
    n = torch.arange(2, 41)
    curves = {f"d = {d}": torch.tensor([_power(d, k, 0.05, "greater") for k in n.tolist()]) for d in (0.2, 0.5)}
    fig = hyp.power_curves(n, curves, "Power", simulated={"d = 0.5": ([5, 20], [0.31, 0.72])})
    ax = fig.axes[0]
    lines = [line for line in ax.lines if line.get_linestyle() == "-"]
    for line, values in zip(lines, curves.values()):
        np.testing.assert_array_equal(line.get_xdata(), n.numpy())
        np.testing.assert_array_equal(line.get_ydata(), values.numpy())
    (dots,) = ax.collections
    np.testing.assert_array_equal(dots.get_offsets(), [[5, 0.31], [20, 0.72]])
    np.testing.assert_allclose(dots.get_facecolor()[0], to_rgba(lines[1].get_color()))
    assert legend(ax) == ["d = 0.2", "d = 0.5", "d = 0.5: simulated", "power 0.8"]
    assert ax.get_title() == "Power" and ax.get_xlabel() == "sample size n" and "power" in ax.get_ylabel()
    with pytest.raises(ValueError, match="one power per n"):
        hyp.power_curves(n, {"d": torch.zeros(3)})
    with pytest.raises(ValueError, match="no line of that label"):
        hyp.power_curves(n, curves, simulated={"d = 0.9": ([5], [0.5])})


@pytest.mark.parametrize("alpha", [0.05, 0.01, 0.12])
def test_pvalue_histogram_is_numpys_density_histogram_with_alpha_an_edge(alpha):
    p = np.random.default_rng(1).uniform(size=3000) ** 1.3
    fig = hyp.pvalue_histogram(torch.as_tensor(p), alpha, "p-values")
    ax = fig.axes[0]
    edges = np.unique(np.r_[np.arange(21) / 20, alpha])
    heights, _ = np.histogram(p, bins=edges, density=True)
    bars = ax.patches
    np.testing.assert_allclose([b.get_height() for b in bars], heights, rtol=1e-12)
    np.testing.assert_allclose([b.get_x() for b in bars], edges[:-1], atol=1e-12)
    red = [b.get_x() + b.get_width() <= alpha + 1e-12 for b in bars]
    assert [b.get_facecolor()[:3] == to_rgba(plot.PALETTE[1])[:3] for b in bars] == red and any(red)
    assert legend(ax) == [f"p ≤ α = {alpha:g}: a fraction {np.mean(p <= alpha):.3f} of 3000 tests",
                          "uniform density 1 (p under H0)"]
    assert ax.get_xlabel() == "p-value" and ax.get_ylabel() == "density" and ax.get_title() == "p-values"
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        hyp.pvalue_histogram([0.5, 1.5], alpha)


def _result(statistic, df, alternative, pvalue=None):
    """A stand-in TestResult: scipy's p-value and critical value for a t (df) or z (df None) statistic."""
    law = stats.norm if df is None else stats.t(df)
    if pvalue is None:
        pvalue = {"two-sided": 2 * law.sf(abs(statistic)), "greater": law.sf(statistic),
                  "less": law.cdf(statistic)}[alternative]

    def critical_value(alpha=0.05):
        return torch.tensor({"two-sided": law.ppf(1 - alpha / 2), "greater": law.ppf(1 - alpha),
                             "less": law.ppf(alpha)}[alternative], dtype=torch.float64)

    return SimpleNamespace(statistic=torch.tensor(statistic, dtype=torch.float64),
                           pvalue=torch.tensor(pvalue, dtype=torch.float64),
                           df=None if df is None else torch.tensor(float(df), dtype=torch.float64),
                           alternative=alternative, critical_value=critical_value)


# the notes' example 1 (mean 42, s = 6, n = 20, mu0 = 44), example 2 (bulbs) both ways, a z, a Welch df
PICTURES = [((42 - 44) / (6 / math.sqrt(20)), 19, "two-sided"), (0.0920, 9, "less"), (0.0920, 9, "two-sided"),
            (2.5, None, "greater"), (-3.0, 13.4, "greater")]


@pytest.mark.parametrize(("t", "df", "alternative"), PICTURES)
def test_test_picture_shades_the_critical_region_and_the_pvalue(t, df, alternative):
    result = _result(t, df, alternative)
    law = stats.norm if df is None else stats.t(df)
    fig = hyp.test_picture(result, 0.05)
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    (density,) = [line for line in ax.lines if line.get_linestyle() == "-" and len(line.get_xdata()) > 2]
    np.testing.assert_allclose(density.get_ydata(), law.pdf(density.get_xdata()), rtol=1e-12, atol=0)
    c = float(result.critical_value(0.05))
    critical = {"two-sided": [(low, -c), (c, high)], "greater": [(c, high)], "less": [(low, c)]}[alternative]
    beyond = {"two-sided": [(low, -abs(t)), (abs(t), high)], "greater": [(t, high)], "less": [(low, t)]}[alternative]
    for gid, intervals in (("critical", critical), ("pvalue", beyond)):
        shaded = _areas(ax, gid)
        assert len(shaded) == len(intervals)
        for (x0, x1, area), (a, b) in zip(shaded, intervals):
            assert x0 == pytest.approx(a, abs=1e-12) and x1 == pytest.approx(b, abs=1e-12)
            assert area == pytest.approx(law.cdf(b) - law.cdf(a), abs=5e-5)
    # inside the axes the critical region holds alpha less the tails cut off at the edges
    cut = {"two-sided": law.cdf(low) + law.sf(high), "greater": law.sf(high), "less": law.cdf(low)}[alternative]
    assert sum(a for *_, a in _areas(ax, "critical")) == pytest.approx(0.05 - cut, abs=1e-4)
    (observed,) = [line for line in ax.lines if len(line.get_xdata()) == 2]
    assert observed.get_xdata()[0] == pytest.approx(t, abs=1e-12)
    p = float(result.pvalue)
    symbol = "z" if df is None else "t"
    decision = "reject H0" if p <= 0.05 else "fail to reject H0"
    assert ax.get_title() == f"{symbol} = {t:.4f}, p = {p:.4f}: {decision} at α = 0.05"
    assert legend(ax)[1:] == [
        "critical region " + {"two-sided": f"|{symbol}| > {c:.3f}", "greater": f"{symbol} > {c:.3f}",
                              "less": f"{symbol} < {c:.3f}"}[alternative] + ": area α = 0.05",
        f"p-value = {p:.4f} ({alternative})", f"observed {symbol} = {t:.4f}"]
    assert ax.get_xlabel() == f"test statistic {symbol}" and ax.get_ylabel() == "density"
    assert renders(fig)


def test_test_picture_of_the_notes_example_one():
    fig = hyp.test_picture(_result((42 - 44) / (6 / math.sqrt(20)), 19, "two-sided"), 0.05)
    assert fig.axes[0].get_title() == "t = -1.4907, p = 0.1525: fail to reject H0 at α = 0.05"
    assert legend(fig.axes[0])[1] == "critical region |t| > 2.093: area α = 0.05"


def test_test_picture_with_the_books_test_result():
    hypothesis = pytest.importorskip("helpers.stats.hypothesis")
    x = torch.randn(20, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 0.4
    result = hypothesis.ttest_1samp(x, 0.0)
    scipy_result = stats.ttest_1samp(x.numpy(), 0.0)
    title = hyp.test_picture(result, 0.05).axes[0].get_title()
    assert title.startswith(f"t = {scipy_result.statistic:.4f}, p = {scipy_result.pvalue:.4f}: ")


def test_test_picture_errors_and_is_not_collected_as_a_test():
    assert hyp.test_picture.__test__ is False
    with pytest.raises(TypeError, match="expected a TestResult"):
        hyp.test_picture((1.0, 0.3), 0.05)
    batch = _result(1.0, 9, "two-sided")
    batch.statistic = torch.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match="one test"):
        hyp.test_picture(batch, 0.05)
    odd = _result(1.0, 9, "two-sided")
    odd.alternative = "both"
    with pytest.raises(ValueError, match="alternative must be one of"):
        hyp.test_picture(odd, 0.05)


def test_the_module_lists_its_figures():
    # helpers.plot re-exports the names in __all__ (the lead adds the import to helpers/plot/__init__.py)
    assert sorted(hyp.__all__) == ["power_curves", "pvalue_histogram", "sampling_frame", "t_densities",
                                   "test_picture"]
