"""Student's t distribution in plain torch float64: scipy.special's ``betainc``, ``stdtr`` and ``stdtrit``.

torch has the normal CDF and quantile (``torch.special.ndtr``, ``ndtri``) but not Student's t, which every
t-test needs for its p-value and critical value. This module computes it from the regularized incomplete beta

    I_x(a, b) = B(x; a, b) / B(a, b) = (1 / B(a, b)) integral_0^x u^(a-1) (1-u)^(b-1) du,   0 <= x <= 1.

The t CDF. T = Z / sqrt(V / nu) with Z ~ N(0, 1), V ~ chi^2_nu independent. Substituting x = nu / (nu + s^2)
into the density of T turns the tail integral into a beta integral:

    P(T <= -|t|) = 1/2 I_x(nu/2, 1/2),   x = nu / (nu + t^2),
    P(T <= t)    = 1/2 I_x(nu/2, 1/2)       for t <= 0,   1 - 1/2 I_x(nu/2, 1/2)   for t > 0   (T is symmetric).

nu need not be a whole number (Welch's test has fractional degrees of freedom), and nu -> inf gives N(0, 1).

The continued fraction. I_x(a, b) = x^a (1-x)^b / (a B(a, b)) * 1 / (1 + d_1 / (1 + d_2 / (1 + ...))) with

    d_(2m+1) = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),   d_(2m) = m (b - m) x / ((a + 2m - 1)(a + 2m)),

evaluated from the front by the modified Lentz method (Numerical Recipes, section 6.4): each step multiplies
the running value by a factor, and we stop when that factor is 1 to machine precision. It converges fast for
x < (a + 1) / (a + b + 2); beyond that point we use the symmetry

    I_x(a, b) = 1 - I_(1-x)(b, a),

so the fraction is always evaluated where it converges (in O(sqrt(max(a, b))) steps at worst). The quantity
computed directly by the fraction is accurate RELATIVE to itself (~1e-13), so tails as small as 1e-300 come out
right; the other one (1 minus it) is accurate in absolute terms. For large a (the t CDF at df beyond ~1e4) the
fraction's value is sensitive to the rounding of x itself, and the relative error grows roughly like
df * 1e-16 (1e-10 at df = 1e6; the normal is then a fine approximation anyway). For the t CDF, 1 - x = t^2 / (nu + t^2)
is passed in separately (never formed as 1 - x), so the centre (t near 0) keeps full precision too.
The prefactor is computed in logs; log B(a, b) uses a Stirling difference when one argument is large, so that
lgamma(a) - lgamma(a + b) does not cancel catastrophically (nu = 1e6 stays accurate).

The quantile. No closed form inverts I_x, so ``stdtrit`` finds t with stdtr(nu, t) = p by Newton's method.
It solves for s = log|t| on the lower half (t <= 0, q = min(p, 1 - p), the sign restored at the end), on

    log P(T <= -e^s) = log q          when q <= 1/4 (a tail: log F is nearly linear in s there, slope -nu),
    log P(-e^s < T <= 0) = log(1/2 - q)   otherwise  (the centre: nearly linear in s, slope 1),

starting from the normal quantile |ndtri(q)| (the t quantile is always farther out). Working in logs of
whichever probability is small keeps tiny tail probabilities and p close to 1/2 both at full relative
precision, and makes the Newton steps nearly exact, so a handful of them suffice.

Every function takes tensors or numbers, broadcasts them, computes in float64 (float32 input is converted and
the answer is float64) on the device of its tensor inputs. Invalid parameters (df <= 0, p outside [0, 1],
a or b <= 0, x outside [0, 1]) raise ValueError where scipy would quietly return nan; nan inputs give nan.
"""

from __future__ import annotations

import math

import torch

F64 = torch.float64
EPS = torch.finfo(F64).eps
TINY = 1e-300  # Lentz's guard against dividing by an exact zero
MAX_TERMS = 20_000  # continued-fraction steps; ~sqrt(max(a, b)) are needed, so df up to ~1e8 converge
MAX_NEWTON = 100
LOG_MAX = math.log(torch.finfo(F64).max)  # log|t| beyond this: |t| overflows to inf


def _as_tensors(*values) -> list[torch.Tensor]:
    """The values as broadcast float64 tensors on the device of the first tensor among them."""
    device = next((v.device for v in values if isinstance(v, torch.Tensor)), None)
    tensors = [torch.as_tensor(v, dtype=F64, device=device) for v in values]
    return list(torch.broadcast_tensors(*tensors))


def _check_positive(x: torch.Tensor, name: str, where: str, hint: str) -> None:
    if bool((x <= 0).any()):
        bad = x[x <= 0].flatten()[0].item()
        raise ValueError(f"{where}: {name} must be > 0, got {bad!r}. {hint}")


def _check_unit_interval(x: torch.Tensor, name: str, where: str, hint: str) -> None:
    outside = (x < 0) | (x > 1)
    if bool(outside.any()):
        bad = x[outside].flatten()[0].item()
        raise ValueError(f"{where}: {name} must lie in [0, 1], got {bad!r}. {hint}")


# ---------------------------------------------------------------- the regularized incomplete beta
def _stirling_correction(z: torch.Tensor) -> torch.Tensor:
    """lgamma(z) - [(z - 1/2) log z - z + log(2 pi)/2], the Stirling series; accurate to ~1e-16 for z >= 10."""
    r = 1.0 / (z * z)
    series = 1 / 12 + r * (-1 / 360 + r * (1 / 1260 + r * (-1 / 1680 + r * (1 / 1188 + r * (-691 / 360360
                                                                                      + r / 156)))))
    return series / z


def _log_beta(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b), without cancellation when max(a, b) is large.

    With big = max(a, b), small = min(a, b) and big >= 10, Stirling's formula gives
    lgamma(big) - lgamma(big + small) = -(big + small - 1/2) log1p(small / big) - small log(big) + small
    + corr(big) - corr(big + small), every term of moderate size.
    """
    big, small = torch.maximum(a, b), torch.minimum(a, b)
    direct = torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b)
    safe = torch.where(big >= 10, big, torch.full_like(big, 10.0))  # keep the unused branch finite
    ratio = (-(safe + small - 0.5) * torch.log1p(small / safe) - small * torch.log(safe) + small
             + _stirling_correction(safe) - _stirling_correction(safe + small))
    return torch.where(big >= 10, torch.lgamma(small) + ratio, direct)


def _continued_fraction(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The continued fraction of I_x(a, b) (modified Lentz), elementwise; converges fast for x < (a+1)/(a+b+2)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = torch.ones_like(x)
    d = 1.0 - qab * x / qap
    d = 1.0 / torch.where(d.abs() < TINY, torch.full_like(d, TINY), d)
    h = d.clone()
    done = torch.isnan(h)
    for m in range(1, MAX_TERMS + 1):
        for numerator in (m * (b - m) * x / ((qam + 2 * m) * (a + 2 * m)),  # even step d_2m
                          -(a + m) * (qab + m) * x / ((a + 2 * m) * (qap + 2 * m))):  # odd step d_2m+1
            d = 1.0 + numerator * d
            d = 1.0 / torch.where(d.abs() < TINY, torch.full_like(d, TINY), d)
            c = 1.0 + numerator / c
            c = torch.where(c.abs() < TINY, torch.full_like(c, TINY), c)
            factor = torch.where(done, torch.ones_like(c), c * d)
            h = h * factor
        done = done | ((factor - 1.0).abs() <= 2 * EPS) | torch.isnan(factor)
        if m % 4 == 0 and bool(done.all()):
            break
    return h


def _betainc_pair(a: torch.Tensor, b: torch.Tensor, x: torch.Tensor, y: torch.Tensor, log_x=None, log_y=None):
    """(I_x(a, b), 1 - I_x(a, b)) given x and y = 1 - x separately (and their logs, when x or y underflows);
    whichever one the continued fraction computes directly is accurate relative to itself, the other is 1 minus it."""
    if log_x is None:
        log_x = torch.where(x > 0.5, torch.log1p(-y), torch.log(x))
        log_y = torch.where(y > 0.5, torch.log1p(-x), torch.log(y))
    front = torch.exp(a * log_x + b * log_y - _log_beta(a, b))  # x^a (1-x)^b / B(a, b)
    flip = x > (a + 1.0) / (a + b + 2.0)
    first, second = torch.where(flip, b, a), torch.where(flip, a, b)
    part = front * _continued_fraction(first, second, torch.where(flip, y, x)) / first
    return torch.where(flip, 1.0 - part, part), torch.where(flip, part, 1.0 - part)


def betainc(a, b, x) -> torch.Tensor:
    """The regularized incomplete beta function I_x(a, b) (scipy.special.betainc). a, b, x broadcast -> float64.

        I_x(a, b) = (1 / B(a, b)) integral_0^x u^(a-1) (1-u)^(b-1) du,   a, b > 0,   0 <= x <= 1.

    The CDF of a Beta(a, b) variable at x. Continued fraction with the symmetry I_x(a, b) = 1 - I_(1-x)(b, a)
    (module docstring); relative error below ~1e-12 for a, b up to a few hundred (absolute where I is near 1).
    """
    a, b, x = _as_tensors(a, b, x)
    hint = "The incomplete beta I_x(a, b) is defined for a > 0, b > 0 and 0 <= x <= 1."
    _check_positive(a, "a", "betainc", hint)
    _check_positive(b, "b", "betainc", hint)
    _check_unit_interval(x, "x", "betainc", hint)
    return _betainc_pair(a, b, x, 1.0 - x)[0]


# ---------------------------------------------------------------- Student's t: CDF and quantile
def _check_df(df: torch.Tensor, where: str) -> None:
    _check_positive(df, "df", where, "The t distribution has df > 0 degrees of freedom (a sample of n values "
                    "gives df = n - 1, so it needs n >= 2); df may be fractional (Welch) or inf (the normal).")


def _softplus(z: torch.Tensor) -> torch.Tensor:
    """log(1 + e^z) to full precision for every z (torch's softplus returns z itself beyond z = 20)."""
    return torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs()))


def _tail_and_centre(df: torch.Tensor, t: torch.Tensor):
    """(P(T <= -|t|), P(-|t| < T <= 0)), each accurate relative to itself where it is the small one."""
    r = (t / df.sqrt()) ** 2  # t^2 / df; x = 1 / (1 + r), 1 - x = r / (1 + r), written to survive r = inf
    inv = 1.0 / r
    x = torch.where(r > 1, inv / (1.0 + inv), 1.0 / (1.0 + r))
    y = torch.where(r > 1, 1.0 / (1.0 + inv), r / (1.0 + r))
    log_x = torch.where(x > 0.5, torch.log1p(-y), torch.log(x))
    log_y = torch.where(y > 0.5, torch.log1p(-x), torch.log(y))
    # |t| > 1e154 sqrt(df): r overflows and x underflows to 0, but x^(df/2) may still be a representable tail
    log_r = 2 * (torch.log(t.abs()) - 0.5 * torch.log(df))
    overflow = torch.isinf(r) & torch.isfinite(t)
    log_x = torch.where(overflow, -_softplus(log_r), log_x)  # log(1 / (1 + r)) = -log(1 + e^log_r)
    log_y = torch.where(overflow, -_softplus(-log_r), log_y)
    ibeta, complement = _betainc_pair(df / 2, torch.full_like(df, 0.5), x, y, log_x, log_y)
    return 0.5 * ibeta, 0.5 * complement


def stdtr(df, t) -> torch.Tensor:
    """The CDF of Student's t with df degrees of freedom, P(T_df <= t) (scipy.special.stdtr; scipy.stats.t.cdf).

        P(T <= t) = 1/2 I_x(df/2, 1/2) for t <= 0,   1 - 1/2 I_x(df/2, 1/2) for t > 0,   x = df / (df + t^2).

    df, t: broadcast together -> float64 of the broadcast shape. df > 0 may be fractional; df = inf gives the
    normal CDF. The lower tail (t < 0) is accurate relative to itself down to ~1e-300; for an upper-tail
    probability P(T > t) use stdtr(df, -t), not 1 - stdtr(df, t).
    """
    df, t = _as_tensors(df, t)
    _check_df(df, "stdtr")
    finite = torch.where(torch.isinf(df), torch.ones_like(df), df)
    tail, centre = _tail_and_centre(finite, t)
    cdf = torch.where(t <= 0, tail, 1.0 - tail)
    return torch.where(torch.isinf(df), torch.special.ndtr(t), cdf)


def _log_density_times_abs(df: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """log(f(t) |t|) at |t| = e^s, f the t density: f(t) = Gamma((df+1)/2) / (Gamma(df/2) sqrt(df pi))
    (1 + t^2/df)^(-(df+1)/2); log(1 + t^2/df) = softplus(2 s - log df) never overflows."""
    log_norm = torch.lgamma((df + 1) / 2) - torch.lgamma(df / 2) - 0.5 * torch.log(df * math.pi)
    return log_norm - (df + 1) / 2 * _softplus(2 * s - torch.log(df)) + s


def stdtrit(df, p) -> torch.Tensor:
    """The quantile of Student's t: the t with P(T_df <= t) = p (scipy.special.stdtrit; scipy.stats.t.ppf(p, df)).

    df, p: broadcast together -> float64 of the broadcast shape; df > 0 (fractional allowed, inf = the normal),
    0 <= p <= 1 (p = 0 gives -inf, p = 1 gives inf). Newton's method on log|t| (module docstring); about
    ten stdtr evaluations. Critical values: two-sided at level alpha, stdtrit(df, 1 - alpha/2); one-sided
    "greater", stdtrit(df, 1 - alpha).
    """
    df, p = _as_tensors(df, p)
    _check_df(df, "stdtrit")
    _check_unit_interval(p, "p", "stdtrit", "p is a probability (for a critical value at level alpha, pass "
                         "1 - alpha or 1 - alpha/2, not alpha in percent).")
    normal = torch.isinf(df)
    df_finite = torch.where(normal, torch.ones_like(df), df)
    q = torch.where(p < 0.5, p, 1.0 - p)  # lower half: t <= 0; exact for p >= 1/2 (Sterbenz)
    in_tail = q <= 0.25
    target = torch.where(in_tail, torch.log(q), torch.log(0.5 - q))
    active = (q > 0) & (q < 0.5) & ~normal  # q = 0: +-inf, q = 1/2: 0, nan: nan, df = inf: ndtri
    start = torch.special.ndtri(torch.where(active, q, torch.full_like(q, 0.25))).abs()
    s = torch.log(start)
    for _ in range(MAX_NEWTON):
        tail, centre = _tail_and_centre(df_finite, -torch.exp(s))
        log_h = torch.where(in_tail, torch.log(tail), torch.log(centre))
        slope = torch.exp(_log_density_times_abs(df_finite, s) - log_h)  # |d log h / ds|
        step = torch.where(in_tail, 1.0, -1.0) * (log_h - target) / slope
        step = torch.where(torch.isnan(step), -torch.ones_like(step), step)  # a tail below 1e-308 underflowed
        step = torch.where(active & ~((s >= LOG_MAX) & (step > 0)), step, torch.zeros_like(step))
        s = torch.clamp(s + step, max=LOG_MAX)
        if not bool((step.abs() > 1e-12 * torch.clamp(s.abs(), min=1.0)).any()):
            break
    magnitude = torch.where(s >= LOG_MAX, torch.full_like(s, math.inf), torch.exp(s))
    magnitude = torch.where(q == 0, torch.full_like(s, math.inf), magnitude)
    magnitude = torch.where(q == 0.5, torch.zeros_like(s), magnitude)
    t = torch.where(p < 0.5, -magnitude, magnitude)
    t = torch.where(torch.isnan(p), p, t)
    return torch.where(normal, torch.special.ndtri(p), t)
