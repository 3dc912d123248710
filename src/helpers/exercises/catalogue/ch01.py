"""Chapter 1 exercises: learning and estimation."""

from __future__ import annotations

import torch

from helpers import stats
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.compare import choice, close, equal
from helpers.exercises.spec import Case, Exercise
from helpers.models import PolynomialRegression, mse

# ---------------------------------------------------------------- Bayes' rule: a number
PREVALENCE, SENSITIVITY, FALSE_POSITIVE_RATE = 0.01, 0.95, 0.05


def _posterior_disease() -> float:
    prior = torch.tensor([PREVALENCE, 1 - PREVALENCE])
    likelihood = torch.tensor([SENSITIVITY, FALSE_POSITIVE_RATE])
    return stats.bayes_posterior(prior, likelihood)[0].item()


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
    compare=close(rtol=1e-4, atol=1e-6),
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
    },
)


# ---------------------------------------------------------------- expectation of f(X)
def _expectation(f, values: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    return (f(values) * probs).sum()


def _expectation_cases() -> list[Case]:
    g = gen(11)
    die = torch.arange(1, 7, dtype=F64)
    weights = torch.rand(5, generator=g, dtype=F64)
    return [
        Case("f(x) = x**2 on a fair six-sided die", (lambda x: x**2, die, torch.full((6,), 1 / 6, dtype=F64))),
        Case(
            "f(x) = x on a loaded die that shows 6 half the time",
            (lambda x: x, die, torch.tensor([0.1] * 5 + [0.5], dtype=F64)),
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
    hints=[
        "Apply f to every value first, then weight each result by its probability.",
        "f(values) is a tensor of shape (K,); multiply it elementwise by probs and sum.",
    ],
    wrong={
        "This ignores the probabilities (a plain average assumes all outcomes are equally likely).": (
            lambda f, v, p: f(v).mean()
        ),
        "This computes f(E[X]); for a non-linear f that is not E[f(X)].": lambda f, v, p: f((v * p).sum()),
        "This computes E[X] and never applies f.": lambda f, v, p: (v * p).sum(),
    },
)


# ---------------------------------------------------------------- the unbiased variance
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
    reference=stats.unbiased_variance,
    cases=_variance_cases,
    compare=close(rtol=1e-4, atol=1e-6),
    hints=[
        "Subtract the sample mean first (keep the dimension with keepdim=True), then square and sum.",
        "Reduce over the last dimension only: dim=-1. The sample size m is x.shape[-1].",
        "Divide the sum of squared deviations by m - 1, not by m.",
    ],
    wrong={
        "This divides by m: that is the maximum-likelihood estimator, biased low by a factor (m-1)/m.": (
            stats.biased_variance
        ),
        "This reduces over every dimension instead of the last one.": lambda x: x.var(),
        "E[x^2] - E[x]^2 is exact in algebra but cancels catastrophically in floating point: subtract the mean "
        "first.": lambda x: (
            ((x**2).sum(-1) - x.sum(-1) ** 2 / x.shape[-1]) / (x.shape[-1] - 1)
        ),
        "This is the standard deviation, not the variance.": lambda x: stats.unbiased_variance(x).sqrt(),
    },
)


# ---------------------------------------------------------------- standard error of the mean
SE_CASES = [
    ("a sample of 8 values", 8, ()),
    ("a batch of shape (6, 30), float32", 30, (6,)),
    ("a sample of 2 values", 2, ()),
]


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
    reference=stats.standard_error_of_mean,
    cases=_se_cases,
    compare=close(rtol=1e-4, atol=1e-7),
    hints=[
        "Var(mean of m independent values) = sigma^2 / m, so SE = sigma / sqrt(m); estimate sigma^2 from the sample.",
        "Use the unbiased variance (divide by m - 1), then divide by m and take the square root.",
    ],
    wrong={
        "This divides the standard deviation by m instead of sqrt(m).": (
            lambda x: stats.unbiased_variance(x).sqrt() / x.shape[-1]
        ),
        "This is the sample standard deviation: the spread of one value, not of the mean.": (
            lambda x: stats.unbiased_variance(x).sqrt()
        ),
        "This forgot the square root: it is the variance of the mean, not its standard error.": (
            lambda x: stats.unbiased_variance(x) / x.shape[-1]
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
            "An estimator that is systematically low has a negative bias.",
        ),
        Case("5 estimates [1, 2, 3, 4, 5] of a true value 2.0", (torch.arange(1.0, 6.0, dtype=F64), 2.0)),
        Case("1000 estimates of a true value -3.0", (-3 + torch.randn(1000, generator=g, dtype=F64), -3.0),
             hidden=True),
    ]


BIAS_VARIANCE = Exercise(
    id="01.bias_variance_mse",
    title="Bias, variance and MSE of an estimator, from simulated estimates",
    kind="implement",
    points=3,
    prompt=(
        "bias_variance_mse(estimates, true_value) returns (bias, variance, mse) as 0-dim tensors; the variance "
        "divides by the number of estimates, so mse == bias**2 + variance."
    ),
    reference=stats.bias_variance_mse,
    cases=_bvm_cases,
    compare=close(rtol=1e-6, atol=1e-9),
    hints=[
        "bias = mean of the estimates minus the true value.",
        "variance = mean squared distance of the estimates from their own mean (divide by the number of "
        "estimates); mse = mean squared distance from the true value.",
        "Check yourself: mse should equal bias**2 + variance up to rounding.",
    ],
    wrong={
        "The bias has the wrong sign: it is E[theta_hat] - theta, not theta - E[theta_hat].": lambda e, t: (
            t - e.mean(),
            e.var(correction=0),
            ((e - t) ** 2).mean(),
        ),
        "The variance divides by n - 1: here we want the plain mean over the simulated estimates.": lambda e, t: (
            e.mean() - t,
            e.var(correction=1),
            ((e - t) ** 2).mean(),
        ),
        "MSE is bias squared plus variance, not bias plus variance.": lambda e, t: (
            e.mean() - t,
            e.var(correction=0),
            (e.mean() - t) + e.var(correction=0),
        ),
    },
)


# ---------------------------------------------------------------- Monte-Carlo: MSE of the sample mean
MC_STD, MC_M = 2.0, 10


def _simulated_mse_of_mean() -> float:
    draw = stats.gaussian_draw(0.0, MC_STD, MC_M)
    return stats.monte_carlo(stats.sample_mean, draw, 0.0, trials=20_000, seed=0).mse.item()


def _a_simulation(expected: float, got: float) -> str | None:
    """Within 5% of a simulation (itself within about 1% of sigma^2 / m), but not the closed form itself."""
    problem = close(rtol=0.05, atol=0.0)(expected, got)
    if problem is None and abs(float(got) - MC_STD**2 / MC_M) < 1e-12:
        return "this is exactly the closed form sigma^2 / m; the exercise asks for a Monte-Carlo estimate"
    return problem

MSE_OF_MEAN = Exercise(
    id="01.mse_of_mean",
    title="Monte-Carlo: the MSE of the sample mean",
    kind="number",
    points=2,
    prompt=(
        f"Estimate by simulation (at least 10,000 trials) the MSE of the sample mean of m = {MC_M} draws from "
        f"N(0, {MC_STD:g}^2). Return the number."
    ),
    reference=_simulated_mse_of_mean,
    cases=lambda: [Case(f"m = {MC_M} draws from N(0, {MC_STD:g}^2)", (), "MSE = bias^2 + variance = 0 + sigma^2/m.")],
    compare=_a_simulation,
    hints=[
        "helpers.stats.monte_carlo(estimator, draw, true_value, trials) runs the simulation; "
        "helpers.stats.gaussian_draw(mean, std, m) makes the draw function.",
        "The estimator is the sample mean over the last dimension: lambda x: x.mean(dim=-1). The true value is 0.",
        "Return report.mse as a float: report.mse.item().",
    ],
    wrong={
        "This is sigma / m: the variance of the mean is sigma^2 / m.": lambda: MC_STD / MC_M,
        "This is the variance of a single draw, sigma^2, not of the mean of m draws.": lambda: MC_STD**2,
        "This is the standard error sigma / sqrt(m), not the MSE (its square).": lambda: MC_STD / MC_M**0.5,
        "This is the closed form sigma^2 / m typed in, not an estimate from a simulation.": lambda: MC_STD**2 / MC_M,
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
    compare=close(rtol=1e-9, atol=1e-12),
    hints=[
        "E[sum (x_i - mean)^2] = sum E[x_i^2] - m E[mean^2]. Use E[x^2] = sigma^2 + mu^2 and "
        "E[mean^2] = sigma^2/m + mu^2.",
        "The sum of squared deviations has expectation (m - 1) sigma^2; divide by m.",
    ],
    wrong={
        "This is the factor of the unbiased estimator, 1.": lambda m: 1.0,
        "This is upside down: m / (m - 1) is the correction that removes the bias.": lambda m: m / (m - 1),
        "The expected sum of squared deviations is (m - 1) sigma^2, and the estimator divides it by m once.": (
            lambda m: (m - 1) / m**2
        ),
    },
)


# ---------------------------------------------------------------- model selection with a validation set
def select_degree(x_train, y_train, x_val, y_val, degrees) -> int:
    """The degree in ``degrees`` whose least-squares polynomial fit has the lowest validation MSE."""
    errors = [mse(PolynomialRegression(d).fit(x_train, y_train).predict(x_val), y_val).item() for d in degrees]
    return list(degrees)[min(range(len(errors)), key=errors.__getitem__)]


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
        Case("15 training points, noise 0.3, degrees 2..10", (*task(4, 15, 0.3), range(2, 11)), hidden=True),
    ]


def _lowest_training_error(x_train, y_train, x_val, y_val, degrees) -> int:
    return select_degree(x_train, y_train, x_train, y_train, degrees)


def _position_not_degree(x_train, y_train, x_val, y_val, degrees) -> int:
    return list(degrees).index(select_degree(x_train, y_train, x_val, y_val, degrees))


SELECT_DEGREE = Exercise(
    id="01.select_degree",
    title="Choose a hyperparameter with a validation set",
    kind="implement",
    points=3,
    prompt=(
        "select_degree(x_train, y_train, x_val, y_val, degrees) fits PolynomialRegression(d) on the training "
        "data for each d in degrees and returns the d with the lowest validation MSE."
    ),
    reference=select_degree,
    cases=_selection_cases,
    compare=equal(),
    hints=[
        "Loop over degrees; for each, fit on (x_train, y_train) and measure mse(model.predict(x_val), y_val).",
        "Keep the degree with the smallest validation error, not the smallest training error.",
        "degrees may start above 0: return the degree, not the index where you found it.",
    ],
    wrong={
        "This picks the degree with the lowest training error, which is always (nearly) the largest degree.": (
            _lowest_training_error
        ),
        "This returns the position of the best degree in the list, not the degree.": _position_not_degree,
        "This always picks the most flexible model.": lambda xt, yt, xv, yv, degrees: max(degrees),
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
    ],
    wrong={
        "Underfitting shows as a high training error; here the training error is tiny.": lambda: "a",
        "A validation error 17 times the training error is not a good fit.": lambda: "c",
        "The training error is exactly the number that cannot reveal overfitting.": lambda: "d",
    },
)


EXERCISES = [
    POSTERIOR,
    EXPECTATION,
    VARIANCE,
    STANDARD_ERROR,
    BIAS_VARIANCE,
    MSE_OF_MEAN,
    BIAS_FACTOR,
    SELECT_DEGREE,
    DIAGNOSE,
]
