"""Figures of chapter 11's hypothesis tests: the two sampling distributions of the z statistic (the explorer's frame),
the t densities against the normal, power against the sample size, the p-values of many tests, and one test drawn.

A one-sample z-test of H0: mu = mu0 with known sigma looks at z = (x_bar - mu0) / (sigma / sqrt(n)). Under H0,
z ~ N(0, 1); under H1 with standardized effect d = (mu - mu0) / sigma, z ~ N(d sqrt(n), 1). With critical value c
(``greater``: c = z_{1-alpha}, ``less``: c = z_alpha, ``two-sided``: +-z_{1-alpha/2}) the test rejects in the
rejection region R (z > c, z < c, |z| > c). Then

    alpha = P(z in R | H0)    (type I error rate: the H0 density's area over R)
    power = 1 - beta = P(z in R | H1),   e.g. greater: 1 - Phi(z_{1-alpha} - d sqrt(n))
    beta  = P(z not in R | H1)           (type II error rate)

``sampling_frame`` shades the three areas. A t-test replaces N(0, 1) by Student's t with n - 1 degrees of freedom,
heavier-tailed for small df (``t_densities``). The p-value is the H0 area beyond the observed statistic, in the
direction(s) of H1 (``test_picture``); under H0 it is uniform on [0, 1], so a fraction alpha of p-values falls at or
below alpha (``pvalue_histogram``).

Every name in ``__all__`` is re-exported by ``helpers.plot``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.plot import PALETTE, _numpy, panels
from helpers.stats.hypothesis import normal_power

__all__: list[str] = ["power_curves", "pvalue_histogram", "sampling_frame", "t_densities", "test_picture"]

H0_COLOR, H1_COLOR, CRITICAL_COLOR = PALETTE[0], PALETTE[1], "#444444"
ALPHA_SHADE, POWER_SHADE, BETA_SHADE, PVALUE_SHADE = PALETTE[0], PALETTE[2], PALETTE[7], PALETTE[3]
ALTERNATIVES = {"two-sided": "two-sided", "greater": "greater", "larger": "greater", "less": "less",
                "smaller": "less"}


def _alternative(name: str, alternative: str) -> str:
    if alternative not in ALTERNATIVES:
        raise ValueError(f"{name}: alternative must be one of {sorted(ALTERNATIVES)} ('larger' and 'smaller' are "
                         f"statsmodels' names for 'greater' and 'less'), got {alternative!r}.")
    return ALTERNATIVES[alternative]


def _alpha(name: str, alpha) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"{name}: alpha is a probability strictly between 0 and 1 (e.g. 0.05), got {alpha!r}.")
    return alpha


def _normal_pdf(x: np.ndarray, mean: float = 0.0) -> np.ndarray:
    return np.exp(-0.5 * (x - mean) ** 2) / math.sqrt(2 * math.pi)


def _t_pdf(x: np.ndarray, df: float) -> np.ndarray:
    """Student's t density Gamma((df+1)/2) / (sqrt(df pi) Gamma(df/2)) (1 + x^2/df)^(-(df+1)/2), df > 0 real."""
    log_c = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    return np.exp(log_c - (df + 1) / 2 * np.log1p(x**2 / df))


def _z_quantile(p: float) -> float:
    return float(torch.special.ndtri(torch.tensor(p, dtype=torch.float64)))


def _critical(alpha: float, alternative: str) -> float:
    """c of the z-test: greater z_{1-alpha}; less z_alpha (negative); two-sided z_{1-alpha/2} (reject |z| > c)."""
    return {"greater": _z_quantile(1 - alpha), "less": _z_quantile(alpha),
            "two-sided": _z_quantile(1 - alpha / 2)}[alternative]


def _regions(c: float, alternative: str, low: float, high: float) -> tuple[list, list]:
    """(rejection intervals, acceptance intervals) of the statistic's axis [low, high]."""
    if alternative == "greater":
        return [(c, high)], [(low, c)]
    if alternative == "less":
        return [(low, c)], [(c, high)]
    return [(low, -c), (c, high)], [(-c, c)]


def _shade(ax: plt.Axes, pdf, intervals: list, color: str, label: str, gid: str, alpha: float = 0.45,
           hatch: str | None = None) -> None:
    """Fill under pdf over each interval [a, b] (exactly from a to b); the first interval carries the label."""
    for k, (a, b) in enumerate(intervals):
        if b <= a:
            continue
        x = np.linspace(a, b, 400)
        area = ax.fill_between(x, 0, pdf(x), color=color, alpha=alpha, linewidth=0, hatch=hatch,
                               label=label if k == 0 else "_nolegend_")
        area.set_gid(gid)


def sampling_frame(effect_size: float, nobs: int, alpha: float, alternative: str = "greater",
                   xlim: tuple[float, float] | None = None) -> plt.Figure:
    """The power explorer's frame: the z statistic's density under H0, N(0, 1), and under H1, N(d sqrt(n), 1).

    effect_size d = (mu - mu0) / sigma, nobs n, alpha the level, alternative "greater" | "less" | "two-sided".
    Shaded: the rejection region under H0 (area alpha), under H1 the power 1 - beta (over the rejection region)
    and beta (over the rest, hatched); the critical value(s) dashed. The title gives d, n, alpha and the power
    and beta (``helpers.stats.normal_power``, statsmodels' twin). The layout is fixed, and the x axis runs from -4
    to 9.5 (wider only when d sqrt(n) needs it), so that the frames line up when a slider moves; ``xlim`` overrides it.
    """
    alternative = _alternative("sampling_frame", alternative)
    alpha = _alpha("sampling_frame", alpha)
    if int(nobs) != nobs or nobs < 1:
        raise ValueError(f"sampling_frame: nobs is the sample size, a whole number >= 1, got {nobs!r}.")
    shift = float(effect_size) * math.sqrt(int(nobs))
    low, high = xlim if xlim is not None else (min(-4.0, shift - 4.0), max(9.5, shift + 4.0))
    c = _critical(alpha, alternative)
    power = float(normal_power(float(effect_size), int(nobs), alpha, alternative))
    reject, keep = _regions(c, alternative, low, high)

    fig, (ax,) = panels(1, figsize=(9.0, 3.4))
    fig.subplots_adjust(left=0.07, right=0.7, bottom=0.16, top=0.88)  # the legend to the right, off the curves
    x = np.linspace(low, high, 600)
    h0 = _normal_pdf
    h1 = lambda v: _normal_pdf(v, shift)  # noqa: E731
    _shade(ax, h1, reject, POWER_SHADE, f"power 1 − β = {power:.3f}", "power", alpha=0.4)
    _shade(ax, h1, keep, BETA_SHADE, f"β = {1 - power:.3f} (type II error)", "beta", alpha=0.3, hatch="//")
    _shade(ax, h0, reject, ALPHA_SHADE, f"α = {alpha:g} (type I error)", "alpha", alpha=0.6)
    ax.plot(x, h0(x), color=H0_COLOR, label="under H0: N(0, 1)")
    ax.plot(x, h1(x), color=H1_COLOR, label=f"under H1: N(d√n, 1), d√n = {shift:.2f}")
    two = alternative == "two-sided"
    edges, name = ([-c, c], f"critical values ±{c:.3f}") if two else ([c], f"critical value {c:.3f}")
    for k, edge in enumerate(edges):
        ax.axvline(edge, color=CRITICAL_COLOR, linestyle="--", linewidth=1.2, label=name if k == 0 else "_nolegend_")
    ax.set(xlim=(low, high), ylim=(0, 0.45), xlabel="z = (x̄ − μ0) / (σ / √n)   (standard errors from μ0)",
           ylabel="density",
           title=f"d = {float(effect_size):g}, n = {int(nobs)}, α = {alpha:g} ({alternative}): "
                 f"power {power:.3f}, β {1 - power:.3f}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


def t_densities(dfs: Sequence[float] = (1, 3, 10, 30)) -> plt.Figure:
    """Student's t densities for each df in ``dfs`` against the standard normal: left on a linear scale over
    [-5, 5], right the tail [0, 6] on a log scale, where the heavier tails of small df show."""
    dfs = [float(df) for df in dfs]
    if not dfs or min(dfs) <= 0:
        raise ValueError(f"t_densities: give one or more degrees of freedom, each > 0, got {dfs!r}.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.8))
    for ax, x in ((left, np.linspace(-5, 5, 501)), (right, np.linspace(0, 6, 301))):
        for k, df in enumerate(dfs):
            ax.plot(x, _t_pdf(x, df), color=PALETTE[(k + 1) % len(PALETTE)], label=f"t, df = {df:g}")
        ax.plot(x, _normal_pdf(x), color="black", linestyle="--", label="normal N(0, 1)")
        ax.set(xlabel="t", ylabel="density")
    left.set(title="t densities and the normal", ylim=(0, None))
    right.set(yscale="log", title="the right tail (log scale)")
    left.legend()
    return fig


def power_curves(nobs, curves: dict, title: str = "", simulated: dict | None = None,
                 target: float | None = 0.8) -> plt.Figure:
    """Power against the sample size: one line per entry of ``curves`` (label -> power at each n in ``nobs``),
    e.g. {"d = 0.5": normal_power(0.5, nobs)}. ``simulated``: label -> (n values, rejection fractions), drawn as
    dots in the colour of the line with the same label (the simulation that checks the formula). A dotted line marks
    ``target`` (None: none)."""
    n = _numpy(nobs).astype(np.float64)
    if n.ndim != 1 or len(n) == 0:
        raise ValueError(f"power_curves: nobs must be a vector of sample sizes, got shape {n.shape}.")
    if not isinstance(curves, dict) or not curves:
        raise ValueError("power_curves: pass a dict label -> power values (one per n), e.g. "
                         "{'d = 0.5': normal_power(0.5, nobs)}.")
    fig, ax = plt.subplots(figsize=(8.0, 4.0))
    colors = {}
    for k, (label, power) in enumerate(curves.items()):
        p = _numpy(power).astype(np.float64)
        if p.shape != n.shape:
            raise ValueError(f"power_curves: curves[{label!r}] has shape {p.shape}, one power per n needs {n.shape}.")
        colors[label] = PALETTE[k % len(PALETTE)]
        ax.plot(n, p, color=colors[label], label=str(label))
    for label, (sim_n, sim_p) in (simulated or {}).items():
        if label not in colors:
            raise ValueError(f"power_curves: simulated[{label!r}] has no line of that label in curves "
                             f"{list(curves)}.")
        ax.scatter(_numpy(sim_n), _numpy(sim_p), color=colors[label], edgecolors="black", linewidths=0.5, s=30,
                   zorder=3, label=f"{label}: simulated")
    if target is not None:
        ax.axhline(float(target), color="grey", linestyle=":", linewidth=1.5, label=f"power {float(target):g}")
    ax.set(xlabel="sample size n", ylabel="power (probability of rejecting H0)", ylim=(0, 1.02), title=title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))  # outside: no curve hidden behind it
    return fig


def pvalue_histogram(pvalues, alpha: float = 0.05, title: str = "") -> plt.Figure:
    """A density histogram of p-values on [0, 1] (bins of width 0.05, with alpha a bin edge), the bars at or below
    alpha coloured, the uniform density 1 (the p-values' law under H0) dashed; the legend gives the fraction of
    p-values <= alpha, the rejection rate (about alpha under H0, the power under H1)."""
    alpha = _alpha("pvalue_histogram", alpha)
    p = _numpy(pvalues).astype(np.float64).ravel()
    if len(p) == 0 or np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("pvalue_histogram: pvalues must be a non-empty set of numbers in [0, 1].")
    edges = np.unique(np.concatenate([np.linspace(0, 1, 21), [alpha]]))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    _, _, bars = ax.hist(p, bins=edges, density=True, color=PALETTE[0], edgecolor="white")
    rejected = float(np.mean(p <= alpha))
    for bar in bars:
        if bar.get_x() + bar.get_width() <= alpha + 1e-12:
            bar.set_facecolor(PALETTE[1])
    bars[0].set_label(f"p ≤ α = {alpha:g}: a fraction {rejected:.3f} of {len(p)} tests")
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1.2, label="uniform density 1 (p under H0)")
    top = max(1.0, max(bar.get_height() for bar in bars))
    ax.set(xlabel="p-value", ylabel="density", xlim=(0, 1), ylim=(0, 1.45 * top), title=title)  # room for the legend
    ax.legend(loc="upper right")
    return fig


def test_picture(result, alpha: float = 0.05, ax: plt.Axes | None = None) -> plt.Figure:
    """One test drawn: the statistic's density under H0 (Student's t with ``result.df`` degrees of freedom, or
    N(0, 1) when df is None), the critical region of area alpha (from ``result.critical_value(alpha)``), the
    p-value's area (beyond the observed statistic in the direction(s) of H1, hatched) and the observed statistic.

    result: a ``helpers.stats.TestResult`` (statistic, pvalue, df, alternative, critical_value(alpha)) of one
    test (0-dim statistic). The title gives the statistic, the p-value and the decision at alpha (reject H0 when
    p <= alpha; a test never accepts H0, it fails to reject it).
    """
    for name in ("statistic", "pvalue", "df", "alternative", "critical_value"):
        if not hasattr(result, name):
            raise TypeError(f"test_picture: expected a TestResult (helpers.stats.ttest_1samp(...) and friends), "
                            f"which has .{name}; got {type(result).__name__}.")
    alpha = _alpha("test_picture", alpha)
    if np.size(_numpy(result.statistic)) != 1:
        raise ValueError("test_picture draws one test: this result holds a batch of statistics; index one first.")
    t, p = float(_numpy(result.statistic)), float(_numpy(result.pvalue))
    df = None if result.df is None else float(_numpy(result.df))
    alternative = _alternative("test_picture", result.alternative)
    c = float(_numpy(result.critical_value(alpha)))
    reach = max(4.0, abs(t) + 1.0, abs(c) + 1.0)
    low, high = -reach, reach
    pdf = _normal_pdf if df is None else (lambda v: _t_pdf(v, df))
    symbol = "z" if df is None else "t"
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 3.8))
    x = np.linspace(low, high, 801)
    ax.plot(x, pdf(x), color="black", label=f"{symbol} under H0" + ("" if df is None else f", df = {df:.4g}"))
    reject, _ = _regions(abs(c) if alternative == "two-sided" else c, alternative, low, high)
    beyond = {"greater": [(t, high)], "less": [(low, t)], "two-sided": [(low, -abs(t)), (abs(t), high)]}[alternative]
    region = {"greater": f"{symbol} > {c:.3f}", "less": f"{symbol} < {c:.3f}",
              "two-sided": f"|{symbol}| > {abs(c):.3f}"}[alternative]
    _shade(ax, pdf, reject, PALETTE[1], f"critical region {region}: area α = {alpha:g}", "critical", alpha=0.5)
    _shade(ax, pdf, beyond, PVALUE_SHADE, f"p-value = {p:.4f} ({alternative})", "pvalue", alpha=0.3, hatch="//")
    ax.axvline(t, color=PALETTE[0], linewidth=2, label=f"observed {symbol} = {t:.4f}")
    decision = "reject H0" if p <= alpha else "fail to reject H0"
    ax.set(xlim=(low, high), ylim=(0, 1.5 * float(pdf(np.zeros(1))[0])), xlabel=f"test statistic {symbol}",
           ylabel="density",  # headroom: the legend sits above the density's peak
           title=f"{symbol} = {t:.4f}, p = {p:.4f}: {decision} at α = {alpha:g}")
    ax.legend(loc="upper right", fontsize=8)
    return ax.figure


test_picture.__test__ = False  # a figure, not a test: pytest must not collect it where it is imported
