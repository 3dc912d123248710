"""Chapter 1 exercises: learning and estimation."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.common import F64, gen, variance
from helpers.exercises.compare import choice, close, describe, equal
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind
from helpers.models import PolynomialRegression, mse


def _without_answer(compare, what: str):
    """``compare``, but a wrong value is described without the expected one: for an exercise whose answer is a
    single number (or a formula probed at a few values), printing the expected value would hand it over."""

    def compare_hidden(expected, got):
        problem = compare(expected, got)
        if problem is None or problem.kind is not ResultKind.WRONG_VALUE:
            return problem
        value = float(got)
        verdict = "it is too high" if value > float(expected) else "it is too low"
        if value != value:
            verdict = "it is not a number"
        return Mismatch(f"{describe(got)} is not {what}: {verdict}", problem.item, problem.kind)

    return compare_hidden


# ---------------------------------------------------------------- Bayes' rule: a number
PREVALENCE, SENSITIVITY, FALSE_POSITIVE_RATE = 0.01, 0.95, 0.05


def _posterior_disease() -> float:
    """Bayes' rule with the two hypotheses written out: the sick positives over all positives."""
    sick_and_positive = SENSITIVITY * PREVALENCE
    healthy_and_positive = FALSE_POSITIVE_RATE * (1 - PREVALENCE)
    return sick_and_positive / (sick_and_positive + healthy_and_positive)


POSTERIOR = Exercise(
    id="01.posterior",
    title="Bayes' rule: a positive test",
    kind="number",
    points=2,
    prompt=(
        f"A disease affects {PREVALENCE:.0%} of people. A test detects it in {SENSITIVITY:.0%} of sick people "
        f"and wrongly flags {FALSE_POSITIVE_RATE:.0%} of healthy people. Return P(disease | positive test)."
    ),
    reference=_posterior_disease,
    cases=lambda: [Case("the numbers in the exercise", (), "A posterior is what you act on after seeing data.")],
    compare=_without_answer(close(rtol=1e-4, atol=1e-6), "P(disease | positive)"),
    forbidden=("helpers.stats.bayes_posterior",),
    instead="Multiply the likelihoods by the priors and divide by their sum.",
    hints=[
        "Write Bayes' rule with y = disease and x = positive: P(y|x) = P(x|y) P(y) / P(x).",
        "P(x) sums over both hypotheses: P(+) = P(+|sick) P(sick) + P(+|healthy) P(healthy).",
        f"P(+) = {SENSITIVITY} * {PREVALENCE} + {FALSE_POSITIVE_RATE} * {1 - PREVALENCE:.2f}; "
        "divide the sick part by it.",
    ],
    wrong={
        "This is P(positive | disease), the likelihood, not the posterior P(disease | positive).": lambda: SENSITIVITY,
        "This is the prior P(disease): the test result has not been used.": lambda: PREVALENCE,
        "This is the joint P(positive, disease): divide by the evidence P(positive).": (
            lambda: SENSITIVITY * PREVALENCE
        ),
        "The evidence must include the healthy people who test positive, weighted by P(healthy).": (
            lambda: SENSITIVITY * PREVALENCE / (SENSITIVITY * PREVALENCE + FALSE_POSITIVE_RATE)
        ),
        "This is P(healthy | positive), the other entry of the posterior: put the sick part in the numerator.": (
            lambda: FALSE_POSITIVE_RATE * (1 - PREVALENCE)
            / (SENSITIVITY * PREVALENCE + FALSE_POSITIVE_RATE * (1 - PREVALENCE))
        ),
        "This is a percentage: return the probability as a number between 0 and 1.": (
            lambda: 100 * SENSITIVITY * PREVALENCE / (SENSITIVITY * PREVALENCE + FALSE_POSITIVE_RATE * (1 - PREVALENCE))
        ),
    },
)


# ---------------------------------------------------------------- expectation of f(X)
def _square(x: torch.Tensor) -> torch.Tensor:
    return x**2


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _expectation(f, values: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    return (f(values) * probs).sum()  # f at every value, weighted by its probability


def _expectation_cases() -> list[Case]:
    g = gen(11)
    die = torch.arange(1, 7, dtype=F64)
    weights = torch.rand(5, generator=g, dtype=F64)
    return [
        Case("f(x) = x**2 on a fair six-sided die", (_square, die, torch.full((6,), 1 / 6, dtype=F64))),
        Case(
            "f(x) = x on a loaded die that shows 6 half the time",
            (_identity, die, torch.tensor([0.1] * 5 + [0.5], dtype=F64)),
            "Outcomes are not equally likely: each value must be weighted by its probability.",
        ),
        Case(
            "f(x) = exp(x) on 5 random values with random probabilities",
            (torch.exp, torch.randn(5, generator=g, dtype=F64), weights / weights.sum()),
            "For a non-linear f, E[f(X)] differs from f(E[X]) (Jensen's inequality).",
        ),
        Case("f(x) = |x| on {-2, 2} with P = (0.3, 0.7)", (torch.abs, torch.tensor([-2.0, 2.0], dtype=F64),
                                                            torch.tensor([0.3, 0.7], dtype=F64)), hidden=True),
    ]


EXPECTATION = Exercise(
    id="01.expectation",
    title="Expectation of a function of a discrete random variable",
    kind="implement",
    points=2,
    prompt="expectation(f, values, probs) returns E[f(X)] = sum_x f(x) P(X = x) as a 0-dim tensor.",
    reference=_expectation,
    cases=_expectation_cases,
    compare=close(rtol=1e-9, atol=1e-12),
    forbidden=("helpers.stats.expectation", "scipy.stats.rv_discrete", "numpy.average"),
    instead="Apply f to the values, weight by the probabilities and sum.",
    hints=[
        "Apply f to every value first, then weight each result by its probability.",
        "f(values) is a tensor of shape (K,); multiply it elementwise by probs and sum.",
        "return (f(values) * probs).sum(): no division, the probabilities already do the averaging (.mean() "
        "would divide by K once more).",
    ],
    wrong={
        "This ignores the probabilities (a plain average assumes all outcomes are equally likely).": (
            lambda f, v, p: f(v).mean()
        ),
        "This computes f(E[X]); for a non-linear f that is not E[f(X)].": lambda f, v, p: f((v * p).sum()),
        "This computes E[X] and never applies f.": lambda f, v, p: (v * p).sum(),
        "This weights by the probabilities and then also averages (divides by K): the probabilities already do the "
        "averaging, so just sum.": lambda f, v, p: (f(v) * p).mean(),
        "This applies f to value times probability: apply f to the values first, then weight by the probabilities.": (
            lambda f, v, p: f(v * p).sum()
        ),
    },
)


# ---------------------------------------------------------------- the unbiased variance
VARIANCE_FUNCTIONS = (
    "torch.var", "torch.Tensor.var", "torch.var_mean", "torch.std", "torch.Tensor.std", "torch.std_mean",
    "torch.cov", "numpy.var", "numpy.std", "numpy.nanvar", "numpy.nanstd", "numpy.cov", "statistics.variance",
    "statistics.stdev", "scipy.stats.tvar", "scipy.stats.tstd", "scipy.stats.sem", "helpers.stats.unbiased_variance",
    "helpers.stats.biased_variance", "helpers.stats.standard_error_of_mean", "helpers.stats.gaussian_mle",
)


def _variance_cases() -> list[Case]:
    g = gen(12)
    return [
        Case("a sample of 10 values from N(2, 3^2), float64", (2 + 3 * torch.randn(10, generator=g, dtype=F64),)),
        Case(
            "a sample of just 2 values, [1.0, 3.0]",
            (torch.tensor([1.0, 3.0], dtype=F64),),
            "With tiny samples, dividing by m instead of m - 1 halves the estimate.",
        ),
        Case(
            "a batch of 4 samples, shape (4, 25), float32",
            (torch.randn(4, 25, generator=g),),
            "Estimators must work on a batch: one variance per row, over the last dimension.",
        ),
        Case(
            "a float32 sample of 1000 values around 10,000 with standard deviation 0.1",
            (10_000 + 0.1 * torch.randn(1000, generator=g),),
            "E[x^2] - E[x]^2 subtracts two huge, nearly equal numbers and loses every significant digit.",
        ),
        Case("a constant sample of 5 values", (torch.full((5,), 7.0, dtype=F64),), "A constant has no spread."),
        Case("a batch of shape (3, 2, 50), float64", (torch.randn(3, 2, 50, generator=g, dtype=F64),), hidden=True),
        Case("a float64 sample of 10,000 values", (5 - torch.randn(10_000, generator=g, dtype=F64),), hidden=True),
    ]


VARIANCE = Exercise(
    id="01.unbiased_variance",
    title="An unbiased variance estimator",
    kind="implement",
    points=3,
    prompt="unbiased_variance(x) returns (1/(m-1)) sum_i (x_i - mean)^2 over the last dimension. x: (..., m) -> (...).",
    reference=variance,  # common.variance: sum of squared deviations / (m - 1), over the last dimension
    cases=_variance_cases,
    compare=close(rtol=1e-4, atol=1e-6),
    forbidden=VARIANCE_FUNCTIONS,
    instead="Use .mean(), .sum(), subtraction and ** 2.",
    hints=[
        "Subtract the sample mean first (keep the dimension with keepdim=True), then square and sum.",
        "Reduce over the last dimension only: dim=-1. The sample size m is x.shape[-1].",
        "Divide the sum of squared deviations by m - 1, not by m.",
    ],
    wrong={
        "This divides by m: that is the maximum-likelihood estimator, biased low by a factor (m-1)/m.": (
            lambda x: variance(x, correction=0)
        ),
        "This reduces over every dimension instead of the last one.": lambda x: variance(x.flatten()),
        "E[x^2] - E[x]^2 is exact in algebra but cancels catastrophically in floating point: subtract the mean "
        "first.": lambda x: (
            ((x**2).sum(-1) - x.sum(-1) ** 2 / x.shape[-1]) / (x.shape[-1] - 1)
        ),
        "This is the standard deviation, not the variance.": lambda x: variance(x).sqrt(),
        "This subtracts the mean of the whole tensor: each sample (row) needs its own mean, "
        "x.mean(dim=-1, keepdim=True).": lambda x: ((x - x.mean()) ** 2).sum(-1) / (x.shape[-1] - 1),
        "len(x) counts the rows of a batch, not the values in a sample: m is x.shape[-1].": lambda x: (
            ((x - x.mean(-1, keepdim=True)) ** 2).sum(-1) / (len(x) - 1)
        ),
    },
)


# ---------------------------------------------------------------- standard error of the mean
SE_CASES = [
    ("a sample of 8 values", 8, ()),
    ("a batch of shape (6, 30), float32", 30, (6,)),
    ("a sample of 2 values", 2, ()),
]


def _standard_error(x: torch.Tensor) -> torch.Tensor:
    return (variance(x) / x.shape[-1]).sqrt()  # sqrt(s^2 / m), s^2 the unbiased variance


def _se_cases() -> list[Case]:
    g = gen(13)
    cases = [Case(label, (torch.randn(*batch, m, generator=g, dtype=F64 if not batch else torch.float32),))
             for label, m, batch in SE_CASES]
    cases[0].why = "The standard error shrinks like 1/sqrt(m): four times the data halves it."
    cases.append(Case("a sample of 500 values", (torch.randn(500, generator=g, dtype=F64),), hidden=True))
    return cases


STANDARD_ERROR = Exercise(
    id="01.standard_error",
    title="The standard error of the mean",
    kind="implement",
    points=2,
    prompt="standard_error(x) returns sqrt(s^2 / m), s^2 the unbiased sample variance over the last dimension.",
    reference=_standard_error,
    cases=_se_cases,
    compare=close(rtol=1e-4, atol=1e-7),
    forbidden=VARIANCE_FUNCTIONS,
    instead="Compute the unbiased variance with .mean(), .sum() and ** 2, then divide by m and take .sqrt().",
    hints=[
        "Var(mean of m independent values) = sigma^2 / m, so SE = sigma / sqrt(m); estimate sigma^2 from the sample.",
        "Use the unbiased variance (divide by m - 1), then divide by m and take the square root.",
        "s2 = ((x - x.mean(-1, keepdim=True)) ** 2).sum(-1) / (m - 1) with m = x.shape[-1]; "
        "return (s2 / m).sqrt().",
    ],
    wrong={
        "This divides the standard deviation by m instead of sqrt(m).": lambda x: variance(x).sqrt() / x.shape[-1],
        "This is the sample standard deviation: the spread of one value, not of the mean.": (
            lambda x: variance(x).sqrt()
        ),
        "This forgot the square root: it is the variance of the mean, not its standard error.": (
            lambda x: variance(x) / x.shape[-1]
        ),
        "The variance inside divides by m: the standard error uses the unbiased variance, s^2 with m - 1.": (
            lambda x: (variance(x, correction=0) / x.shape[-1]).sqrt()
        ),
    },
)


# ---------------------------------------------------------------- bias, variance and MSE from estimates
def _bvm_cases() -> list[Case]:
    g = gen(14)
    return [
        Case("40 estimates around 1.2 of a true value 1.0", (1.2 + 0.5 * torch.randn(40, generator=g, dtype=F64), 1.0)),
        Case(
            "20 estimates that are all below the true value 5.0",
            (4.0 + torch.rand(20, generator=g, dtype=F64) * 0.5, 5.0),
            {0: "An estimator that is systematically low has a negative bias."},
        ),
        Case("5 estimates [1, 2, 3, 4, 5] of a true value 2.0", (torch.arange(1.0, 6.0, dtype=F64), 2.0)),
        Case("1000 estimates of a true value -3.0", (-3 + torch.randn(1000, generator=g, dtype=F64), -3.0),
             hidden=True),
    ]


def _bias_variance_mse(estimates: torch.Tensor, true_value: float):
    bias = estimates.mean() - true_value
    return bias, variance(estimates, correction=0), ((estimates - true_value) ** 2).mean()


BIAS_VARIANCE = Exercise(
    id="01.bias_variance_mse",
    title="Bias, variance and MSE of an estimator, from simulated estimates",
    kind="implement",
    points=3,
    prompt=(
        "bias_variance_mse(estimates, true_value) returns (bias, variance, mse) as 0-dim tensors; the variance "
        "divides by the number of estimates, so mse == bias**2 + variance."
    ),
    reference=_bias_variance_mse,
    cases=_bvm_cases,
    compare=close(rtol=1e-6, atol=1e-9),
    items=("bias", "variance", "mse"),
    forbidden=(*VARIANCE_FUNCTIONS, "helpers.stats.bias_variance_mse", "helpers.stats.monte_carlo",
               "torch.nn.functional.mse_loss", "torch.nn.MSELoss", "helpers.nn.losses.mse"),
    instead="Use .mean(), subtraction and ** 2.",
    hints=[
        "bias = mean of the estimates minus the true value.",
        "variance = mean squared distance of the estimates from their own mean (divide by the number of "
        "estimates); mse = mean squared distance from the true value.",
        "Check yourself: mse should equal bias**2 + variance up to rounding.",
    ],
    wrong={
        "The bias has the wrong sign: it is E[theta_hat] - theta, not theta - E[theta_hat].": lambda e, t: (
            t - e.mean(),
            variance(e, correction=0),
            ((e - t) ** 2).mean(),
        ),
        "The variance divides by n - 1: here we want the plain mean over the simulated estimates.": lambda e, t: (
            e.mean() - t,
            variance(e),
            ((e - t) ** 2).mean(),
        ),
        "The variance is the spread around the estimates' own mean, not around the true value (that is the "
        "MSE).": lambda e, t: (e.mean() - t, ((e - t) ** 2).mean(), ((e - t) ** 2).mean()),
        "The MSE is the mean squared distance from the true value; this is bias plus variance (the bias is not "
        "squared).": lambda e, t: (
            e.mean() - t,
            variance(e, correction=0),
            (e.mean() - t) + variance(e, correction=0),
        ),
        "The MSE is the mean squared distance from the true value, not the root of it.": lambda e, t: (
            e.mean() - t,
            variance(e, correction=0),
            ((e - t) ** 2).mean().sqrt(),
        ),
    },
)


# ---------------------------------------------------------------- Monte-Carlo: the sample mean's estimates
MC_STD, MC_M = 2.0, 10  # sigma and m: the sample mean of m draws from N(0, sigma^2) has MSE sigma^2 / m = 0.4


def _draws(seed: int, trials: int, std: float = MC_STD) -> torch.Tensor:
    return std * torch.randn(trials, MC_M, generator=gen(seed), dtype=F64)


def _sample_means(seed: int, trials: int) -> torch.Tensor:
    return _draws(seed, trials).mean(dim=-1)


def _same_simulation(expected: torch.Tensor, got: object) -> Mismatch | None:
    """``got`` looks like ``expected`` as a simulation: same count, and a mean and a spread that agree within
    six standard errors of the difference (a false alarm about once in 10^8 checks)."""
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"returned {describe(got)}; return a float64 torch.Tensor of shape {tuple(expected.shape)}, "
                        "one estimate per trial", kind=ResultKind.WRONG_TYPE)
    problem = close(check_dtype=True)(expected[:1], got[:1])
    if problem is not None and problem.kind is ResultKind.WRONG_TYPE:
        return problem
    if got.shape != expected.shape:
        return Mismatch(f"expected one estimate per trial, shape {tuple(expected.shape)}; got shape "
                        f"{tuple(got.shape)}")
    n = expected.numel()
    mean_e, mean_g, var_e, var_g = expected.mean(), got.mean(), expected.var(), got.var()
    if var_g == 0 or var_e == 0:
        if var_g == var_e and mean_g == mean_e:
            return None
        return Mismatch(f"all {n} estimates are equal ({describe(got[0])}): each must come from its own sample")
    if (mean_g - mean_e).abs() > 6 * ((var_e + var_g) / n).sqrt():
        return Mismatch(f"your estimates average {mean_g.item():.4f}; a simulation of the sample mean averages "
                        f"{mean_e.item():.4f} (the sample mean is unbiased for the true mean 0)")
    if (var_g / var_e).log().abs() > 6 * (4 / n) ** 0.5:  # log of a variance ratio has sd about sqrt(4 / n)
        return Mismatch(f"your estimates have variance {var_g.item():.4f}; the sample mean of {MC_M} draws from "
                        f"N(0, {MC_STD:g}^2) has variance {var_e.item():.4f} in a simulation (sigma^2 / m = "
                        f"{MC_STD**2 / MC_M:g})")
    return None


MSE_OF_MEAN = Exercise(
    id="01.mse_of_mean",
    title="Monte-Carlo: simulate the sample mean",
    kind="implement",
    points=2,
    prompt=(
        f"sample_means(seed, trials) simulates `trials` samples of m = {MC_M} draws from N(0, {MC_STD:g}^2), using "
        "the generator torch.Generator().manual_seed(seed), and returns the sample mean of each: a float64 tensor "
        "of shape (trials,). The check judges the estimates by their count, their average and their spread."
    ),
    reference=_sample_means,
    cases=lambda: [
        Case("seed 0, 10,000 trials", (0, 10_000), f"The mean of m draws varies sigma^2 / m = {MC_STD**2 / MC_M:g}: "
             "ten draws are ten times steadier than one."),
        Case("seed 1, 20,000 trials", (1, 20_000)),
        Case("seed 2, 50,000 trials", (2, 50_000), hidden=True),
    ],
    compare=_same_simulation,
    forbidden=("helpers.stats.monte_carlo", "torch.Tensor.numpy", "torch.Tensor.__array__"),
    instead="Draw with helpers.stats.gaussian_draw (or torch.randn with generator=...) and average each row.",
    hints=[
        "helpers.stats.gaussian_draw(mean, std, m) returns draw(generator, trials), which gives a (trials, m) tensor "
        "of samples: one sample per row.",
        f"draw = stats.gaussian_draw(0.0, {MC_STD:g}, {MC_M}); samples = draw(torch.Generator().manual_seed(seed), "
        "trials); then average each row.",
        "The sample mean of each row is samples.mean(dim=-1): shape (trials,).",
    ],
    wrong={
        f"gaussian_draw(mean, std, m) takes the standard deviation sigma = {MC_STD:g}; passing the variance "
        f"sigma^2 = {MC_STD**2:g} makes the estimates spread 4 times too much.": (
            lambda seed, trials: _draws(seed, trials, std=MC_STD**2).mean(dim=-1)
        ),
        "These are single draws, not means of m = 10 draws: average each sample (row).": (
            lambda seed, trials: _draws(seed, trials)[:, 0]
        ),
        "This sums each sample: the sample mean divides the sum by m.": (
            lambda seed, trials: _draws(seed, trials).sum(dim=-1)
        ),
        "This averages over the trials (dim=0): average each sample over its m draws (dim=-1).": (
            lambda seed, trials: _draws(seed, trials).mean(dim=0)
        ),
        "Every estimate is the same number: a simulation draws a new sample for each trial.": (
            lambda seed, trials: torch.full((trials,), MC_STD**2 / MC_M, dtype=F64)
        ),
    },
)


# ---------------------------------------------------------------- derivation: bias of the MLE variance
BIAS_FACTOR = Exercise(
    id="01.mle_variance_factor",
    title="Derivation: how biased is the maximum-likelihood variance?",
    kind="derive",
    points=2,
    prompt=(
        "The derivation shows E[(1/m) sum (x_i - mean)^2] = c(m) * sigma^2. Fill in c(m): "
        "mle_variance_factor(m) returns c(m)."
    ),
    reference=lambda m: (m - 1) / m,
    cases=lambda: [
        Case("m = 2", (2,), "With two values the MLE variance is on average half the true variance."),
        Case("m = 10", (10,)),
        Case("m = 1000", (1000,), "The bias vanishes as m grows: the estimator is asymptotically unbiased."),
        Case("m = 7", (7,), hidden=True),
    ],
    compare=_without_answer(close(rtol=1e-9, atol=1e-12), "c(m) = E[biased variance] / sigma^2"),
    hints=[
        "E[sum (x_i - mean)^2] = sum E[x_i^2] - m E[mean^2]. Use E[x^2] = sigma^2 + mu^2 and "
        "E[mean^2] = sigma^2/m + mu^2.",
        "The sum of squared deviations has expectation m (sigma^2 + mu^2) - m (sigma^2 / m + mu^2).",
        "That is (m - 1) sigma^2, and the estimator divides it by m: c(m) = (m - 1) / m.",
    ],
    wrong={
        "This is the factor of the unbiased estimator, 1.": lambda m: 1.0,
        "This is upside down: m / (m - 1) is the correction that removes the bias.": lambda m: m / (m - 1),
        "The expected sum of squared deviations is (m - 1) sigma^2, and the estimator divides it by m once.": (
            lambda m: (m - 1) / m**2
        ),
        "This is the relative bias c(m) - 1: return the factor c(m) = E[biased variance] / sigma^2 itself.": (
            lambda m: -1 / m
        ),
        "This is the size of the relative bias, 1/m; c(m) is what is left of sigma^2 on average, 1 minus it.": (
            lambda m: 1 / m
        ),
        "Integer division: (m - 1) // m is 0 for every m; divide with / to get a float.": lambda m: (m - 1) // m,
    },
)


# ---------------------------------------------------------------- model selection with a validation set
def _best_position(x_fit, y_fit, x_eval, y_eval, degrees) -> int:
    """Position in ``degrees`` of the fit with the lowest error on (x_eval, y_eval), as a student writes it."""
    errors = [mse(PolynomialRegression(d).fit(x_fit, y_fit).predict(x_eval), y_eval).item() for d in degrees]
    return min(range(len(errors)), key=errors.__getitem__)


def _selection_cases() -> list[Case]:
    from helpers.data import noisy_sine

    def task(seed: int, n_train: int, noise: float):
        x_train, y_train = noisy_sine(n_train, noise, seed=seed)
        x_val, y_val = noisy_sine(200, noise, seed=seed + 1000)
        return x_train, y_train, x_val, y_val

    return [
        Case("20 training points, noise 0.25, degrees 0..12", (*task(1, 20, 0.25), range(13)),
             "Training error always falls with degree; only held-out data reveals overfitting."),
        Case("12 training points, noise 0.4, degrees 1..9", (*task(2, 12, 0.4), range(1, 10)),
             "Return the degree itself, not its position in the list."),
        Case("60 training points, noise 0.1, degrees 0..15", (*task(3, 60, 0.1), range(16))),
        Case("16 training points, noise 0.3, degrees in no order: 7, 2, 10, 4, 0, 6, 1",
             (*task(5, 16, 0.3), (7, 2, 10, 4, 0, 6, 1)),
             "Nothing says the degrees come sorted: keep the best validation error so far and compare each new "
             "one with it, wherever it stands in the list."),
        Case("15 training points, noise 0.3, degrees 2..10", (*task(4, 15, 0.3), range(2, 11)), hidden=True),
    ]


def _select_degree(x_train, y_train, x_val, y_val, degrees) -> int:
    return list(degrees)[_best_position(x_train, y_train, x_val, y_val, degrees)]


def _lowest_training_error(x_train, y_train, x_val, y_val, degrees) -> int:
    return list(degrees)[_best_position(x_train, y_train, x_train, y_train, degrees)]


def _highest_validation_error(x_train, y_train, x_val, y_val, degrees) -> int:
    best_degree, best_error = None, float("-inf")
    for degree in degrees:
        error = mse(PolynomialRegression(degree).fit(x_train, y_train).predict(x_val), y_val).item()
        if error > best_error:  # the comparison the wrong way round
            best_degree, best_error = degree, error
    return best_degree


def _position_not_degree(x_train, y_train, x_val, y_val, degrees) -> int:
    return _best_position(x_train, y_train, x_val, y_val, degrees)


SELECT_DEGREE = Exercise(
    id="01.select_degree",
    title="Choose a hyperparameter with a validation set",
    kind="implement",
    points=3,
    prompt=(
        "select_degree(x_train, y_train, x_val, y_val, degrees) fits PolynomialRegression(d) on the training "
        "data for each d in degrees and returns the d with the lowest validation MSE."
    ),
    reference=_select_degree,
    cases=_selection_cases,
    compare=equal(),
    forbidden=("helpers.models.polynomial.select_polynomial_degree", "sklearn.model_selection.GridSearchCV",
               "sklearn.model_selection.validation_curve"),
    instead="Fit PolynomialRegression(d) for each degree in a loop and keep the best validation error.",
    hints=[
        "Loop over degrees; for each, fit on (x_train, y_train) and measure mse(model.predict(x_val), y_val).",
        "Keep the degree with the smallest validation error, not the smallest training error.",
        "degrees may start above 0: return the degree, not the index where you found it.",
    ],
    wrong={
        "This picks the degree with the lowest training error, which is always (nearly) the largest degree, the "
        "most flexible model: training error only falls with capacity, so judge the fits on the validation "
        "data.": _lowest_training_error,
        "This returns the position of the best degree in the list, not the degree.": _position_not_degree,
        "This returns the last degree tried: remember the best validation error so far and replace the chosen "
        "degree only when a new error beats it (if error < best_error).": (
            lambda xt, yt, xv, yv, degrees: list(degrees)[-1]
        ),
        "This keeps the degree with the highest validation error (max where min belongs, or a comparison the "
        "wrong way round).": _highest_validation_error,
    },
)


# ---------------------------------------------------------------- k-fold cross-validation: the folds
def _fold_sizes(n: int, k: int) -> list[int]:
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _folds_from_sizes(n: int, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Contiguous folds of the given sizes, as a student builds them (the known-wrong answers use it)."""
    pairs, start = [], 0
    for size in sizes:
        stop = min(start + size, n)
        pairs.append((torch.cat([torch.arange(0, start), torch.arange(stop, n)]), torch.arange(start, stop)))
        start = stop
    return pairs


def _kfold_indices(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return _folds_from_sizes(n, _fold_sizes(n, k))  # KFold's sizes: the first n % k folds one larger


def _remainder_last(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return _folds_from_sizes(n, [n // k] * (k - 1) + [n - (k - 1) * (n // k)])


def _ceil_sizes(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    size = -(-n // k)  # every fold ceil(n / k), the last one what is left
    return _folds_from_sizes(n, [size] * k)


def _floor_sizes(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return _folds_from_sizes(n, [n // k] * k)


def _overlapping(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    pairs, start = [], 0
    for size in _fold_sizes(n, k):
        stop = min(start + size + 1, n)  # one past the fold's end
        pairs.append((torch.cat([torch.arange(0, start), torch.arange(stop, n)]), torch.arange(start, stop)))
        start += size
    return pairs


def _train_keeps_val(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(torch.arange(n), val) for _, val in _folds_from_sizes(n, _fold_sizes(n, k))]


def _swapped(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(val, train) for train, val in _folds_from_sizes(n, _fold_sizes(n, k))]


def _strided(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    every = torch.arange(n)
    return [(every[every % k != j], every[every % k == j]) for j in range(k)]


def _train_after_then_before(n: int, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    pairs = []
    for train, val in _folds_from_sizes(n, _fold_sizes(n, k)):
        before, after = train[train < val[0]], train[train > val[-1]]
        pairs.append((torch.cat([after, before]), val))
    return pairs


def _as_lists(n: int, k: int) -> list[tuple[list[int], list[int]]]:
    return [(train.tolist(), val.tolist()) for train, val in _folds_from_sizes(n, _fold_sizes(n, k))]


def _same_folds(expected: list, got: object) -> Mismatch | None:
    """``got`` holds the same (train, val) index pairs as ``expected``: int64 tensors, equal element by element."""
    k = len(expected)
    n = sum(len(val) for _, val in expected)
    if not isinstance(got, (list, tuple)):
        return Mismatch(f"returned {describe(got)}; return a list of {k} (train, val) pairs, one per fold "
                        "(a generator must be wrapped in list(...))", kind=ResultKind.WRONG_TYPE)
    if len(got) != k:
        return Mismatch(f"expected {k} (train, val) pairs, one per fold; got {len(got)}")
    for j, pair in enumerate(got):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            return Mismatch(f"pair {j} should be a tuple (train_indices, val_indices); got {describe(pair)}")
        for name, indices in zip(("training", "validation"), pair):
            if isinstance(indices, (list, tuple)):
                return Mismatch(f"the {name} indices of fold {j} are a Python {type(indices).__name__}; return "
                                "int64 tensors (torch.arange(start, stop) gives one)")
            if not isinstance(indices, torch.Tensor):
                return Mismatch(f"returned {describe(indices)} as the {name} indices of fold {j}; return an int64 "
                                "torch.Tensor", kind=ResultKind.WRONG_TYPE)
            if indices.dtype != torch.int64 or indices.ndim != 1:
                return Mismatch(f"returned {name} indices of dtype {str(indices.dtype).replace('torch.', '')} and "
                                f"shape {tuple(indices.shape)} for fold {j}; indices are a 1-D int64 tensor (the "
                                "dtype torch.arange gives)", kind=ResultKind.WRONG_TYPE)
    sizes, got_sizes = [len(val) for _, val in expected], [pair[1].numel() for pair in got]
    if got_sizes != sizes:
        return Mismatch(f"your validation folds hold {got_sizes} examples; with n = {n} and k = {k} they hold "
                        f"{sizes} (the first n % k folds get one extra)")
    for j, ((train, val), (got_train, got_val)) in enumerate(zip(expected, got)):
        if not torch.equal(got_val.cpu(), val):
            return Mismatch(f"fold {j} validates on {describe(got_val)}; it should validate on {describe(val)}")
        if not torch.equal(got_train.cpu(), train):
            return Mismatch(f"fold {j} trains on {describe(got_train)}; it should train on {describe(train)}, every "
                            "index outside the fold, in increasing order")
    return None


KFOLD = Exercise(
    id="01.kfold_indices",
    title="k-fold cross-validation: the folds",
    kind="implement",
    points=3,
    prompt=(
        "kfold_indices(n, k) returns the k pairs (train_idx, val_idx) of k-fold cross-validation on n examples, "
        "as sklearn.model_selection.KFold(n_splits=k) (without shuffling) gives them: fold j is a contiguous "
        "block, the first n % k folds hold n // k + 1 examples and the others n // k, pair j validates on fold j "
        "and trains on every other index; both are int64 tensors in increasing order."
    ),
    reference=_kfold_indices,
    cases=lambda: [
        Case("n = 10 examples, k = 5 folds", (10, 5), "Each example must be validated exactly once."),
        Case("n = 11 examples, k = 4 folds", (11, 4),
             "When k does not divide n, KFold gives the first n % k folds one extra example each."),
        Case("n = 23 examples, k = 5 folds", (23, 5)),
        Case("n = 7 examples, k = 7 folds (leave-one-out)", (7, 7)),
        Case("n = 2 examples, k = 2 folds", (2, 2)),
        Case("n = 101 examples, k = 10 folds", (101, 10), hidden=True),
        Case("n = 13 examples, k = 6 folds", (13, 6), hidden=True),
        Case("n = 40 examples, k = 3 folds", (40, 3), hidden=True),
    ],
    compare=_same_folds,
    forbidden=(
        "sklearn.model_selection.KFold", "sklearn.model_selection.StratifiedKFold",
        "sklearn.model_selection.GroupKFold", "sklearn.model_selection.RepeatedKFold",
        "sklearn.model_selection.LeaveOneOut",
        "sklearn.model_selection.cross_val_score", "sklearn.model_selection.cross_validate",
        "sklearn.model_selection.cross_val_predict", "sklearn.model_selection.train_test_split",
        "numpy.array_split", "torch.tensor_split", "torch.Tensor.tensor_split", "helpers.stats.kfold_indices",
    ),
    instead="Compute the fold sizes with // and %, and build the indices with torch.arange and torch.cat.",
    hints=[
        "Fold sizes first: size, extra = divmod(n, k); fold j holds size + 1 examples if j < extra, else size.",
        "Keep a running start: fold j is torch.arange(start, stop) with stop = start + its size; the training "
        "indices are torch.cat([torch.arange(0, start), torch.arange(stop, n)]). Then start = stop.",
        "Return a list of k tuples (train, val). Check yourself: the validation folds together hold 0..n-1, "
        "each once.",
    ],
    wrong={
        "The remainder went into the last fold: KFold gives one extra example to each of the first n % k folds, "
        "so fold sizes differ by at most one.": _remainder_last,
        "Every fold got ceil(n / k) examples, leaving the last fold short: the first n % k folds get n // k + 1 "
        "examples, the others n // k.": _ceil_sizes,
        "Every fold got n // k examples, so the last n % k examples are never validated: give one extra example "
        "to each of the first n % k folds.": _floor_sizes,
        "Consecutive folds overlap (a slice that ends one index too far): each example belongs to exactly one "
        "validation fold.": _overlapping,
        "The training indices include the validation fold: the model would be validated on data it was trained "
        "on.": _train_keeps_val,
        "The pairs are (validation, training): return (train_indices, val_indices), in KFold's order.": _swapped,
        "Fold j takes every k-th example (j, j + k, ...): KFold's folds are contiguous blocks in the data's order.": (
            _strided
        ),
        "The training indices are out of order: list the indices before the fold, then those after it.": (
            _train_after_then_before
        ),
        "The indices are Python lists: return int64 tensors (torch.arange(start, stop) gives one).": _as_lists,
    },
)


# ---------------------------------------------------------------- diagnose a fit
DIAGNOSE_OPTIONS = {
    "a": "Underfitting: increase the capacity (e.g. a higher polynomial degree).",
    "b": "Overfitting: reduce the capacity, regularise, or collect more training data.",
    "c": "A good fit: both errors are low, nothing to change.",
    "d": "The validation set is broken: report the training error instead.",
}

DIAGNOSE = Exercise(
    id="01.diagnose_fit",
    title="Read the generalization gap",
    kind="choice",
    points=1,
    prompt=(
        "A model reaches training MSE 0.02 and validation MSE 0.35; a simpler model reaches 0.09 and 0.11. "
        "What describes the first model, and what should you do? Return the letter."
    ),
    reference=lambda: "b",
    cases=lambda: [Case("training MSE 0.02, validation MSE 0.35", (), "A large gap means the model memorised noise.")],
    compare=choice(DIAGNOSE_OPTIONS),
    options=DIAGNOSE_OPTIONS,
    hints=[
        "The generalization gap is validation error minus training error. Is it large or small here?",
        "Low training error with a large gap is the signature of too much capacity.",
        "0.35 - 0.02 = 0.33 is a large gap, while the simpler model's is 0.02: the first model has memorised its "
        "training data. The cure is less capacity, regularisation or more data.",
    ],
    wrong={
        "Underfitting shows as a high training error; here the training error is tiny.": lambda: "a",
        "A validation error 17 times the training error is not a good fit.": lambda: "c",
        "The training error is exactly the number that cannot reveal overfitting.": lambda: "d",
    },
)


EXERCISES = [  # in the order the chapter asks them (progress() lists them so)
    POSTERIOR,
    EXPECTATION,
    DIAGNOSE,
    SELECT_DEGREE,
    KFOLD,
    BIAS_FACTOR,
    VARIANCE,
    STANDARD_ERROR,
    BIAS_VARIANCE,
    MSE_OF_MEAN,
]
