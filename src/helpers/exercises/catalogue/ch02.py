"""Chapter 2 exercises: maximum likelihood."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.common import F64, gen, variance
from helpers.exercises.compare import choice, close
from helpers.exercises.forbid import AUTOGRAD, NUMPY_ESCAPE
from helpers.exercises.spec import Case, Exercise


def _flips(n: int, p: float, g: torch.Generator, dtype: torch.dtype = F64) -> torch.Tensor:
    return (torch.rand(n, generator=g, dtype=F64) < p).to(dtype)


# What a student writes: the references and the known-wrong answers build on these, never on the book's own
# helpers.stats or helpers.nn.losses, which the exercises forbid.
def _bernoulli_ll(theta: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    heads = x.sum(-1)
    return torch.xlogy(heads, theta) + torch.xlogy(x.shape[-1] - heads, 1 - theta)


def _softplus(u: torch.Tensor) -> torch.Tensor:
    return u.clamp(min=0) + torch.log1p(torch.exp(-u.abs()))


def _bce(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return y * _softplus(-z) + (1 - y) * _softplus(z)


def _lse(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    top = x.amax(dim, keepdim=True)
    out = top + (x - top).exp().sum(dim, keepdim=True).log()
    return out if keepdim else out.squeeze(dim)


def _ce_per_example(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return _lse(z) - z[torch.arange(len(y)), y]


def _stable_softmax(x: torch.Tensor) -> torch.Tensor:
    e = (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdim=True)


def _std(x: torch.Tensor, correction: int = 0, dim: int = -1) -> torch.Tensor:
    return variance(x, correction, dim).sqrt()


def _gaussian_mle(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return x.mean(-1), _std(x)  # the maximum-likelihood sigma divides by m, not m - 1


def _log_softmax(x: torch.Tensor) -> torch.Tensor:
    return x - _lse(x, keepdim=True)


LOGSUMEXP_FUNCTIONS = ("torch.logsumexp", "torch.Tensor.logsumexp", "torch.special.logsumexp",
                       "scipy.special.logsumexp", "numpy.logaddexp", "torch.logaddexp", "torch.Tensor.logaddexp",
                       "torch.logcumsumexp", "torch.Tensor.logcumsumexp", "helpers.nn.losses.logsumexp",
                       *NUMPY_ESCAPE)
LOG_SOFTMAX_FUNCTIONS = ("torch.log_softmax", "torch.Tensor.log_softmax", "torch.nn.functional.log_softmax",
                         "torch.special.log_softmax", "torch.nn.LogSoftmax", "scipy.special.log_softmax",
                         "helpers.nn.losses.log_softmax")
SOFTMAX_FUNCTIONS = ("torch.softmax", "torch.Tensor.softmax", "torch.nn.functional.softmax", "torch.special.softmax",
                     "torch.nn.Softmax", "scipy.special.softmax", "helpers.nn.losses.softmax")
CROSS_ENTROPY_FUNCTIONS = ("torch.nn.functional.cross_entropy", "torch.nn.CrossEntropyLoss",
                           "torch.nn.functional.nll_loss", "torch.nn.NLLLoss", "torch.distributions.Categorical",
                           "helpers.nn.losses.cross_entropy")
GAUSSIAN_DENSITY_FUNCTIONS = ("torch.distributions.Normal", "scipy.stats.rv_continuous.pdf",
                              "scipy.stats.rv_continuous.logpdf", "helpers.stats.gaussian_log_likelihood",
                              "helpers.nn.losses.gaussian_nll", "torch.nn.functional.gaussian_nll_loss",
                              "torch.nn.GaussianNLLLoss")


# ---------------------------------------------------------------- the Bernoulli log-likelihood
def _bernoulli_ll_cases() -> list[Case]:
    g = gen(21)
    return [
        Case(
            "20 coin flips, 9 candidate values theta = 0.1, 0.2, ..., 0.9 (float64)",
            (torch.linspace(0.1, 0.9, 9, dtype=F64), _flips(20, 0.35, g)),
            "The log-likelihood is a function of theta for fixed data: one value per candidate.",
        ),
        Case(
            "2,000 coin flips, theta = 0.3, 0.5, 0.6, 0.7",
            (torch.tensor([0.3, 0.5, 0.6, 0.7], dtype=F64), _flips(2000, 0.6, g)),
            "The likelihood of 2,000 flips is about exp(-1350): a product of probabilities underflows to 0.",
        ),
        Case(
            "5 heads in 5 flips, theta = 0, 0.5, 1",
            (torch.tensor([0.0, 0.5, 1.0], dtype=F64), torch.ones(5, dtype=F64)),
            "With all heads the likelihood at theta = 1 is 1, so log L(1) = 0; 0 * log(0) must count as 0.",
        ),
        Case(
            "30 flips in float32, 5 candidates in float32",
            (torch.linspace(0.2, 0.8, 5), _flips(30, 0.5, g, torch.float32)),
            "Answer in the dtype of the data.",
        ),
        Case("500 flips, 99 candidates", (torch.linspace(0.01, 0.99, 99, dtype=F64), _flips(500, 0.2, g)),
             hidden=True),
        Case("no heads in 8 flips, theta = 0, 0.25", (torch.tensor([0.0, 0.25], dtype=F64), torch.zeros(8, dtype=F64)),
             hidden=True),
    ]


def _ll_by_product(theta, x):
    t = theta[:, None]
    return torch.log(torch.prod(t**x * (1 - t) ** (1 - x), dim=-1))


def _ll_naive_zero_log_zero(theta, x):
    t = theta[:, None]
    return (x * torch.log(t) + (1 - x) * torch.log(1 - t)).sum(dim=-1)


BERNOULLI_LL = Exercise(
    id="02.bernoulli_log_likelihood",
    title="The log-likelihood of coin flips",
    kind="implement",
    points=2,
    prompt=(
        "bernoulli_log_likelihood(theta, x) returns log L(theta) = sum_i [x_i log theta + (1 - x_i) log(1 - theta)] "
        "for every candidate in theta. theta: (T,), x: (m,) of 0s and 1s -> (T,)."
    ),
    reference=_bernoulli_ll,
    cases=_bernoulli_ll_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    forbidden=("helpers.stats.bernoulli_log_likelihood", "torch.distributions.Bernoulli",
               "torch.distributions.Binomial", "torch.nn.functional.binary_cross_entropy",
               "torch.nn.functional.binary_cross_entropy_with_logits", "scipy.stats.rv_discrete", *NUMPY_ESCAPE),
    instead="Count the heads and combine torch.log (or torch.xlogy) terms yourself.",
    hints=[
        "Only the number of heads k = x.sum() and the number of flips m matter: "
        "log L(theta) = k log theta + (m - k) log(1 - theta).",
        "Work with sums of logs, never with the product of the probabilities.",
        "torch.xlogy(a, b) computes a * log(b) with the convention 0 * log(0) = 0: "
        "torch.xlogy(k, theta) + torch.xlogy(m - k, 1 - theta).",
    ],
    wrong={
        "The product of 2,000 probabilities underflows to 0 before the log is taken, giving -inf: "
        "sum the log-probabilities instead of multiplying the probabilities.": _ll_by_product,
        "0 * log(0) is nan in floating point, but the term is 0 (its limit): at theta = 1 with no tails, "
        "log L should be 0. Counting heads and tails first does not help (0 * log(0) is still nan): use "
        "torch.xlogy(a, b), which returns 0 wherever a = 0.": _ll_naive_zero_log_zero,
        "This keeps only the heads: the tails contribute (m - k) log(1 - theta).": (
            lambda theta, x: torch.xlogy(x.sum(), theta)
        ),
        "This is the average log-likelihood per flip (same argmax, but not the log-likelihood): sum, "
        "do not average.": lambda theta, x: _bernoulli_ll(theta, x) / x.shape[-1],
        "Heads and tails are swapped: theta is the probability of a head (x = 1).": (
            lambda theta, x: _bernoulli_ll(1 - theta, x)
        ),
    },
)


# ---------------------------------------------------------------- the Gaussian MLE
def _gaussian_mle_cases() -> list[Case]:
    g = gen(22)
    return [
        Case("a sample of 10 values from N(3, 2^2), float64", (3 + 2 * torch.randn(10, generator=g, dtype=F64),)),
        Case(
            "the sample [1.0, 4.0]",
            (torch.tensor([1.0, 4.0], dtype=F64),),
            {1: "The MLE divides by m: here sigma_hat = 1.5, while the 1/(m - 1) estimate would be 2.12."},
        ),
        Case(
            "a batch of 5 samples, shape (5, 40), float32",
            (torch.randn(5, 40, generator=g) * 0.5 - 1,),
            "One estimate per sample, over the last dimension, in the input's dtype.",
        ),
        Case("a batch of shape (3, 2, 30), float64", (torch.randn(3, 2, 30, generator=g, dtype=F64) * 4,),
             hidden=True),
        Case("a sample of 10,000 values", (10 + torch.randn(10_000, generator=g, dtype=F64),), hidden=True),
    ]


GAUSSIAN_MLE = Exercise(
    id="02.gaussian_mle",
    title="Maximum-likelihood estimates of a Gaussian",
    kind="implement",
    points=2,
    prompt=(
        "gaussian_mle(x) returns (mu_hat, sigma_hat), the maximum-likelihood estimates of N(mu, sigma^2) over "
        "the last dimension. x: (..., m) -> two tensors of shape (...)."
    ),
    reference=_gaussian_mle,
    cases=_gaussian_mle_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    items=("mu_hat", "sigma_hat"),
    forbidden=("torch.var", "torch.Tensor.var", "torch.var_mean", "torch.std", "torch.Tensor.std", "torch.std_mean",
               "numpy.var", "numpy.std", "statistics.stdev", "statistics.pstdev", "scipy.stats.rv_continuous.fit",
               "scipy.stats.norm.fit",
               "helpers.stats.gaussian_mle", "helpers.stats.biased_variance", "helpers.stats.unbiased_variance",
               "torch.distributions.Normal"),
    instead="Use .mean(), subtraction, ** 2 and .sqrt().",
    hints=[
        "Setting the derivative of the log-likelihood with respect to mu to zero gives the sample mean.",
        "For sigma, set the derivative to zero with mu = mu_hat: sigma_hat^2 = (1/m) sum_i (x_i - mu_hat)^2. "
        "Return sigma_hat, the square root.",
        "Reduce over dim=-1 only (keepdim=True when you subtract the mean), and divide by m, not m - 1.",
    ],
    wrong={
        "This divides by m - 1: that is the unbiased variance estimator, not the maximum-likelihood one.": (
            lambda x: (x.mean(-1), _std(x, correction=1))
        ),
        "The second value is the variance sigma^2; return the standard deviation sigma.": (
            lambda x: (x.mean(-1), _std(x) ** 2)
        ),
        "This measures the spread around 0, not around mu_hat: subtract the mean first.": (
            lambda x: (x.mean(-1), (x**2).mean(-1).sqrt())
        ),
        "Subtract each sample's own mean, x.mean(dim=-1, keepdim=True), not the mean of the whole tensor: "
        "with a batch of samples the two differ.": (
            lambda x: (x.mean(-1), ((x - x.mean()) ** 2).mean(-1).sqrt())
        ),
        "This pools every dimension into one estimate: reduce over the last dimension only.": (
            lambda x: (x.mean(), _std(x.flatten()))
        ),
    },
)


# ---------------------------------------------------------------- derivation: Gaussian NLL = a * SSE + b
def _nll_constants(m: int, sigma: float) -> tuple[float, float]:
    return 1 / (2 * sigma**2), m * math.log(sigma) + m / 2 * math.log(2 * math.pi)


NLL_CONSTANTS = Exercise(
    id="02.gaussian_nll_constants",
    title="Derivation: the Gaussian negative log-likelihood is a scaled sum of squares",
    kind="derive",
    points=2,
    prompt=(
        "For m examples and y_i ~ N(f(x_i), sigma^2), -sum_i log p(y_i | x_i) = a * sum_i (y_i - f(x_i))^2 + b. "
        "gaussian_nll_constants(m, sigma) returns the pair (a, b)."
    ),
    reference=_nll_constants,
    cases=lambda: [
        Case("m = 10, sigma = 3", (10, 3.0), {0: "a > 0 does not depend on the data, so the NLL and the sum of "
                                                  "squares have the same minimiser."}),
        Case("m = 1, sigma = 1", (1, 1.0)),
        Case("m = 100, sigma = 0.5", (100, 0.5), {1: "A small sigma makes log sigma negative: b can be negative."}),
        Case("m = 7, sigma = 2", (7, 2.0), hidden=True),
        Case("m = 3, sigma = 0.1", (3, 0.1), hidden=True),
    ],
    compare=close(rtol=1e-9, atol=1e-12),
    items=("a", "b"),
    forbidden=GAUSSIAN_DENSITY_FUNCTIONS,
    instead="Derive a and b from the Gaussian density on paper and write them with math.log and math.pi.",
    hints=[
        "log N(y; mu, sigma^2) = -log sigma - (1/2) log(2 pi) - (y - mu)^2 / (2 sigma^2). Negate it and sum over i.",
        "The squared errors are multiplied by 1 / (2 sigma^2); the other two terms appear once per example.",
        "a = 1 / (2 sigma^2) and b = m log sigma + (m / 2) log(2 pi); return them as (a, b).",
    ],
    wrong={
        "The factor is 1 / (2 sigma^2): the Gaussian exponent is -(y - mu)^2 / (2 sigma^2).": (
            lambda m, s: (1 / s**2, m * math.log(s) + m / 2 * math.log(2 * math.pi))
        ),
        "a = 1 / (2 sigma^2): the exponent divides the squared error by the variance sigma^2, not by sigma.": (
            lambda m, s: (1 / (2 * s), m * math.log(s) + m / 2 * math.log(2 * math.pi))
        ),
        "b is missing the (m/2) log(2 pi) from the density's normaliser 1 / sqrt(2 pi sigma^2).": (
            lambda m, s: (1 / (2 * s**2), m * math.log(s))
        ),
        "-log N(y; f, sigma^2) contains (1/2) log(2 pi sigma^2) = log sigma + (1/2) log(2 pi): the log of "
        "sigma^2 keeps its factor 1/2.": (
            lambda m, s: (1 / (2 * s**2), m * math.log(s**2) + m / 2 * math.log(2 * math.pi))
        ),
        "The normaliser is 1 / sqrt(2 pi sigma^2): its log gives (1/2) log(2 pi) per example, not log(2 pi).": (
            lambda m, s: (1 / (2 * s**2), m * math.log(s) + m * math.log(2 * math.pi))
        ),
        "The density divides by sigma, so -log p contains +log sigma: b = m log sigma + (m/2) log(2 pi).": (
            lambda m, s: (1 / (2 * s**2), -m * math.log(s) + m / 2 * math.log(2 * math.pi))
        ),
        "a multiplies the sum of squared errors, not their mean: each example's squared error is divided by "
        "2 sigma^2, whatever m is.": (
            lambda m, s: (1 / (2 * m * s**2), m * math.log(s) + m / 2 * math.log(2 * math.pi))
        ),
        "b is the constant of one example: each of the m terms contributes log sigma + (1/2) log(2 pi).": (
            lambda m, s: (1 / (2 * s**2), math.log(s) + 0.5 * math.log(2 * math.pi))
        ),
        "These are the constants of the log-likelihood; the negative log-likelihood flips both signs.": (
            lambda m, s: (-1 / (2 * s**2), -(m * math.log(s) + m / 2 * math.log(2 * math.pi)))
        ),
    },
)


# ---------------------------------------------------------------- choice: NLL versus MSE
NLL_MSE_OPTIONS = {
    "a": "The same parameters: for a fixed sigma the NLL equals a * MSE + b with a > 0, so both objectives have "
    "the same minimisers.",
    "b": "The same parameters only when sigma = 1; for any other sigma the NLL prefers different parameters.",
    "c": "The same parameters, and the two losses are also equal at the optimum.",
    "d": "Different parameters: with sigma = 0.1 the NLL punishes errors 50 times harder, so its fit follows "
    "the training data more closely.",
}

NLL_VS_MSE = Exercise(
    id="02.nll_vs_mse",
    title="Gaussian NLL or mean squared error?",
    kind="choice",
    points=1,
    prompt=(
        "A regression network f(x; theta) is trained twice to its global minimum: once on the mean squared "
        "error, once on the Gaussian negative log-likelihood -sum_i log N(y_i; f(x_i; theta), sigma^2) with "
        "sigma = 0.1 held fixed. Which statement is true? Return the letter."
    ),
    reference=lambda: "a",
    cases=lambda: [Case("the two training runs", (), "Scaling a loss and adding a constant keep its minimisers.")],
    compare=choice(NLL_MSE_OPTIONS),
    options=NLL_MSE_OPTIONS,
    hints=[
        "Write the NLL out: which terms depend on theta, and how?",
        "Multiplying a function by a positive number and adding a constant does not move its minimum.",
        "With sigma fixed, the NLL is sum_i (y_i - f(x_i))^2 / (2 sigma^2) + m log sigma + (m/2) log(2 pi): "
        "m / (2 sigma^2) times the MSE, plus a constant. Same minimisers, different values.",
    ],
    wrong={
        "sigma only scales the sum of squares and shifts it by a constant; any fixed sigma > 0 gives the same "
        "minimiser.": lambda: "b",
        "The minimisers agree, but the values do not: the NLL is a * MSE + b, and b contains log sigma and "
        "log(2 pi).": lambda: "c",
        "A positive factor makes every error count more, equally: the ranking of parameter values, and hence "
        "the minimiser, is unchanged.": lambda: "d",
    },
)


# ---------------------------------------------------------------- binary cross-entropy from logits
def _bce_cases() -> list[Case]:
    g = gen(23)
    return [
        Case(
            "8 random logits and 0/1 labels, float64",
            (3 * torch.randn(8, generator=g, dtype=F64), _flips(8, 0.5, g)),
        ),
        Case(
            "logits [1000, -1000, 1000, -1000] with labels [1, 0, 0, 1]",
            (
                torch.tensor([1000.0, -1000.0, 1000.0, -1000.0], dtype=F64),
                torch.tensor([1.0, 0.0, 0.0, 1.0], dtype=F64),
            ),
            "Confident and right costs 0, confident and wrong costs |z| = 1000: the mean is 500, not inf or nan.",
        ),
        Case(
            "6 logits with soft targets in [0, 1]",
            (2 * torch.randn(6, generator=g, dtype=F64), torch.rand(6, generator=g, dtype=F64)),
            "The loss is defined for any target probability, not only 0 and 1 (label smoothing uses this).",
        ),
        Case(
            "a batch of shape (4, 6), float32",
            (4 * torch.randn(4, 6, generator=g), _flips(24, 0.3, g, torch.float32).reshape(4, 6)),
            "Average over every element, and answer in the input's dtype.",
        ),
        Case("1,000 logits of scale 30", (30 * torch.randn(1000, generator=g, dtype=F64), _flips(1000, 0.5, g)),
             hidden=True),
        Case("logits of exactly 0", (torch.zeros(5, dtype=F64), _flips(5, 0.5, g)), hidden=True),
    ]


def _bce_naive(logits, target):
    p = torch.sigmoid(logits)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


def _bce_clamped(logits, target):
    p = torch.sigmoid(logits).clamp(1e-7, 1 - 1e-7)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


BCE = Exercise(
    id="02.binary_cross_entropy",
    title="Binary cross-entropy from logits, stable",
    kind="implement",
    points=3,
    prompt=(
        "binary_cross_entropy_with_logits(logits, target) returns the mean over all elements of "
        "-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], finite for any logits z. "
        "logits, target: (...) of one shape -> 0-dim tensor."
    ),
    reference=lambda logits, target: _bce(logits, target).mean(),
    cases=_bce_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    forbidden=("torch.nn.functional.binary_cross_entropy_with_logits", "torch.nn.functional.binary_cross_entropy",
               "torch.nn.BCEWithLogitsLoss", "torch.nn.BCELoss", "torch.nn.functional.softplus", "torch.nn.Softplus",
               "torch.nn.functional.logsigmoid", "torch.nn.LogSigmoid", "torch.logaddexp", "torch.Tensor.logaddexp",
               "numpy.logaddexp", "torch.distributions.Bernoulli", "helpers.nn.losses.binary_cross_entropy_with_logits",
               "helpers.nn.losses.softplus", *LOGSUMEXP_FUNCTIONS, *LOG_SOFTMAX_FUNCTIONS),
    instead="Write softplus yourself with torch.exp, torch.log1p, .abs() and .clamp().",
    hints=[
        "Write both logs with softplus(u) = log(1 + exp(u)): -log sigmoid(z) = softplus(-z) and "
        "-log(1 - sigmoid(z)) = softplus(z).",
        "softplus(u) = max(u, 0) + log(1 + exp(-|u|)) never exponentiates a positive number "
        "(torch.log1p(torch.exp(-u.abs())) + u.clamp(min=0)).",
        "The loss is y * softplus(-z) + (1 - y) * softplus(z), averaged with .mean().",
    ],
    wrong={
        "sigmoid(1000) rounds to exactly 1, so log(1 - sigmoid(z)) = log(0) = -inf (and 0 * -inf = nan). "
        "Never take the log of a sigmoid: -log sigmoid(z) = softplus(-z).": _bce_naive,
        "Clamping the probability to [1e-7, 1 - 1e-7] hides the inf but caps the loss at 16.1: a confidently "
        "wrong logit of 1000 should cost 1000. Use the softplus form instead.": _bce_clamped,
        "log(1 + exp(z)) overflows: exp(1000) = inf. Write softplus(z) = max(z, 0) + log(1 + exp(-|z|)).": (
            lambda z, y: (torch.log1p(torch.exp(z)) - y * z).mean()
        ),
        "This sums the losses; the binary cross-entropy here is the mean over all elements.": (
            lambda z, y: _bce(z, y).sum()
        ),
        "The labels are swapped: sigmoid(z) is the probability of y = 1.": (
            lambda z, y: _bce(z, 1 - y).mean()
        ),
        "The max(z, 0) term is missing: the stable form is max(z, 0) - z y + log(1 + exp(-|z|)), since "
        "softplus(z) = max(z, 0) + log(1 + exp(-|z|)).": (
            lambda z, y: (-z * y + torch.log1p(torch.exp(-z.abs()))).mean()
        ),
        "This is the squared error of sigmoid(z), not the negative log-likelihood.": (
            lambda z, y: ((torch.sigmoid(z) - y) ** 2).mean()
        ),
    },
)


# ---------------------------------------------------------------- a number: the saturated gradient
SATURATION_LOGIT = -4.0


def _s(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _sigmoid_mse_gradient() -> float:
    p = _s(SATURATION_LOGIT)
    return (p - 1) * p * (1 - p)  # dL/dp = p - y with y = 1, times dp/dz = p (1 - p)


SIGMOID_MSE_GRADIENT = Exercise(
    id="02.sigmoid_mse_gradient",
    title="The gradient of squared error after a sigmoid",
    kind="number",
    points=2,
    prompt=(
        f"A sigmoid output p = sigmoid(z) is trained with L = (1/2)(p - y)^2. The label is y = 1 and the logit "
        f"is z = {SATURATION_LOGIT:g}, a confident wrong prediction. Return dL/dz, worked out with the chain rule "
        f"(the function itself may not call autograd)."
    ),
    reference=_sigmoid_mse_gradient,
    forbidden=AUTOGRAD,
    instead="Apply the chain rule by hand.",
    cases=lambda: [Case(f"y = 1, z = {SATURATION_LOGIT:g}", (), "The sigmoid's slope sigmoid(z)(1 - sigmoid(z)) "
                                                                  "multiplies the error and almost cancels it.")],
    compare=close(rtol=1e-3, atol=1e-7),
    hints=[
        "Chain rule: dL/dz = dL/dp * dp/dz with dL/dp = p - y.",
        "The sigmoid's derivative is dp/dz = sigmoid(z) (1 - sigmoid(z)).",
        "Compute p = sigmoid(-4) = 1 / (1 + e^4) = 0.0179862 (with math.exp, at full precision) and multiply "
        "(p - 1) by p (1 - p).",
    ],
    wrong={
        "This is the gradient of the binary cross-entropy, sigmoid(z) - y; the squared error has an extra "
        "factor sigmoid'(z).": lambda: _s(SATURATION_LOGIT) - 1,
        "The sigmoid's derivative is sigmoid(z)(1 - sigmoid(z)), not sigmoid(z).": (
            lambda: (_s(SATURATION_LOGIT) - 1) * _s(SATURATION_LOGIT)
        ),
        "The sign is wrong: increasing z moves p towards y = 1 and lowers the loss, so dL/dz < 0.": (
            lambda: -(_s(SATURATION_LOGIT) - 1) * _s(SATURATION_LOGIT) * (1 - _s(SATURATION_LOGIT))
        ),
        "This is only the sigmoid's slope dp/dz = p (1 - p); multiply it by dL/dp = p - y.": (
            lambda: _s(SATURATION_LOGIT) * (1 - _s(SATURATION_LOGIT))
        ),
        "The loss has a factor 1/2, which cancels the 2 from the square.": (
            lambda: 2 * (_s(SATURATION_LOGIT) - 1) * _s(SATURATION_LOGIT) * (1 - _s(SATURATION_LOGIT))
        ),
    },
)


# ---------------------------------------------------------------- log-sum-exp
def _logsumexp_cases() -> list[Case]:
    g = gen(24)
    return [
        Case("a (4, 5) float64 tensor of random values", (3 * torch.randn(4, 5, generator=g, dtype=F64),)),
        Case(
            "rows [1000, 1000, 999] and [-1000, -1001, -1002]",
            (torch.tensor([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1002.0]], dtype=F64),),
            "exp(1000) overflows to inf and exp(-1000) underflows to 0; the answers are 1000.86 and -999.59.",
        ),
        Case(
            "a (3, 6) float32 tensor",
            (10 * torch.randn(3, 6, generator=g),),
            "Answer in the input's dtype.",
        ),
        Case("one value per row, shape (5, 1)", (torch.randn(5, 1, generator=g, dtype=F64),),
             "The log-sum-exp of a single value is the value itself."),
        Case("a (2, 3, 50) float64 tensor of scale 500", (500 * torch.randn(2, 3, 50, generator=g, dtype=F64),),
             hidden=True),
        Case("a vector of 1,000 values, float32", (100 * torch.randn(1000, generator=g),), hidden=True),
    ]


LOGSUMEXP = Exercise(
    id="02.logsumexp",
    title="A numerically stable log-sum-exp",
    kind="implement",
    points=3,
    prompt=(
        "logsumexp(x) returns log(sum_k exp(x_k)) over the last dimension without overflow or underflow. "
        "x: (..., K) -> (...)."
    ),
    reference=_lse,
    cases=_logsumexp_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    forbidden=(*LOGSUMEXP_FUNCTIONS, *LOG_SOFTMAX_FUNCTIONS, *SOFTMAX_FUNCTIONS, *CROSS_ENTROPY_FUNCTIONS),
    instead="torch.exp, .amax (or .max), .sum and .log are the building blocks.",
    hints=[
        "For any constant m, log sum_k exp(x_k) = m + log sum_k exp(x_k - m).",
        "Choose m = the maximum of each row (x.amax(dim=-1, keepdim=True)): then every exponent is <= 0 and "
        "the largest term is exactly 1.",
        "Add m back after the log, and squeeze the kept dimension: m.squeeze(-1).",
    ],
    wrong={
        "log(sum(exp(x))) overflows to inf at x = 1000 (and gives log(0) = -inf at x = -1000): subtract the "
        "row maximum first, then add it back.": lambda x: x.exp().sum(-1).log(),
        "This is only the maximum. Log-sum-exp is a smooth maximum: max + log(sum(exp(x - max))).": (
            lambda x: x.amax(-1)
        ),
        "After shifting by the maximum m you must add m back: log sum exp(x) = m + log sum exp(x - m).": (
            lambda x: (x - x.amax(-1, keepdim=True)).exp().sum(-1).log()
        ),
        "This reduces over every dimension: reduce over the last one only (dim=-1).": (
            lambda x: _lse(x.flatten())
        ),
    },
)


# ---------------------------------------------------------------- log-softmax
def _log_softmax_cases() -> list[Case]:
    g = gen(25)
    return [
        Case("a (4, 5) float64 tensor of random values", (3 * torch.randn(4, 5, generator=g, dtype=F64),)),
        Case(
            "rows [1000, 0, -1000] and [-1000, -1000, -999]",
            (torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=F64),),
            "The answer is finite, [0, -1000, -2000] in the first row, though softmax rounds two of its "
            "probabilities to 0.",
        ),
        Case("a (3, 6) float32 tensor", (10 * torch.randn(3, 6, generator=g),), "Answer in the input's dtype."),
        Case("a (2, 4, 7) float64 tensor of scale 50", (50 * torch.randn(2, 4, 7, generator=g, dtype=F64),),
             hidden=True),
        Case("a vector of 10 values", (torch.randn(10, generator=g, dtype=F64),), hidden=True),
    ]


def _log_of_naive_softmax(x):
    e = x.exp()
    return torch.log(e / e.sum(-1, keepdim=True))


LOG_SOFTMAX = Exercise(
    id="02.log_softmax",
    title="A numerically stable log-softmax",
    kind="implement",
    points=2,
    prompt=(
        "log_softmax(x) returns log softmax(x) = x_k - log sum_j exp(x_j) over the last dimension, finite for any "
        "finite x. x: (..., K) -> (..., K)."
    ),
    reference=_log_softmax,
    cases=_log_softmax_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    forbidden=(*LOG_SOFTMAX_FUNCTIONS, *LOGSUMEXP_FUNCTIONS),
    instead="Compute the log-sum-exp yourself, with the row maximum subtracted, inside this function.",
    hints=[
        "log softmax(x)_k = x_k - logsumexp(x): no division, no log of a probability.",
        "Compute the log-sum-exp stably, with the row maximum m subtracted, and keep its dimension "
        "(keepdim=True) so it broadcasts against x.",
        "m = x.amax(-1, keepdim=True); return x - (m + (x - m).exp().sum(-1, keepdim=True).log()).",
    ],
    wrong={
        "exp(1000) = inf, and inf / inf = nan: the naive softmax fails before the log is even taken.": (
            _log_of_naive_softmax
        ),
        "log(softmax(x)) takes the log of probabilities that have underflowed to 0, giving -inf; compute "
        "x - logsumexp(x) instead.": lambda x: torch.log(_stable_softmax(x)),
        "x - log(sum(exp(x))) is the right formula, but exp(1000) = inf and exp(-1000) = 0: subtract the row "
        "maximum m inside the log-sum-exp, m + log(sum(exp(x - m))).": (
            lambda x: x - x.exp().sum(-1, keepdim=True).log()
        ),
        "Subtracting the maximum is only half of it: subtract the whole log-sum-exp, so that the "
        "probabilities sum to 1.": lambda x: x - x.amax(-1, keepdim=True),
        "This normalises over the first dimension: the classes are along the last one (dim=-1).": (
            lambda x: x - _lse(x, dim=0, keepdim=True)
        ),
    },
)


# ---------------------------------------------------------------- cross-entropy with integer targets
def _cross_entropy_cases() -> list[Case]:
    g = gen(26)
    return [
        Case(
            "5 examples, 3 classes, float64",
            (2 * torch.randn(5, 3, generator=g, dtype=F64), torch.randint(0, 3, (5,), generator=g)),
        ),
        Case(
            "logits [[1000, 0, -1000], [-1000, -1000, -999]] with targets [2, 0]",
            (torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=F64), torch.tensor([2, 0])),
            "The true class of the first example has log-probability -2000: its loss is 2000, not inf.",
        ),
        Case(
            "6 examples, 4 classes, float32",
            (3 * torch.randn(6, 4, generator=g), torch.randint(0, 4, (6,), generator=g)),
            "Answer in the logits' dtype.",
        ),
        Case("64 examples, 10 classes", (5 * torch.randn(64, 10, generator=g, dtype=F64),
                                         torch.randint(0, 10, (64,), generator=g)), hidden=True),
        Case("one example, 7 classes", (torch.randn(1, 7, generator=g, dtype=F64), torch.tensor([6])), hidden=True),
    ]


def _ce_naive(logits, target):
    e = logits.exp()
    p = e / e.sum(1, keepdim=True)
    return -torch.log(p[torch.arange(len(target)), target]).mean()


CROSS_ENTROPY = Exercise(
    id="02.cross_entropy",
    title="Cross-entropy from logits and class indices",
    kind="implement",
    points=3,
    prompt=(
        "cross_entropy(logits, target) returns the mean over the batch of -log softmax(logits_i)[target_i]. "
        "logits: (N, K) float, target: (N,) int64 class indices -> 0-dim tensor."
    ),
    reference=lambda logits, target: _ce_per_example(logits, target).mean(),
    cases=_cross_entropy_cases,
    compare=close(rtol=1e-5, atol=1e-8),
    forbidden=(*CROSS_ENTROPY_FUNCTIONS, *LOG_SOFTMAX_FUNCTIONS),
    instead="torch.logsumexp (or your own logsumexp), indexing and .mean() are allowed.",
    hints=[
        "For one example, -log softmax(z)[y] = logsumexp(z) - z[y].",
        "torch.logsumexp(logits, dim=1) gives one value per row; logits[torch.arange(N), target] picks z[y] "
        "from each row (or use logits.gather(1, target[:, None])).",
        "Average the N losses with .mean().",
    ],
    wrong={
        "-log(softmax(z)[y]) takes the log of a probability that has underflowed to 0 (-inf): use "
        "logsumexp(z) - z[y].": lambda z, y: -torch.log(_stable_softmax(z)[torch.arange(len(y)), y]).mean(),
        "The sign is flipped: z[y] - logsumexp(z) is the log-probability; the loss is its negative, "
        "logsumexp(z) - z[y], which is never negative.": lambda z, y: -_ce_per_example(z, y).mean(),
        "This averages over all N * K entries of the one-hot product, so it is K times too small: sum over the "
        "classes, then average over the N examples.": (
            lambda z, y: -(torch.nn.functional.one_hot(y, z.shape[1]) * (z - _lse(z, keepdim=True))).mean()
        ),
        "The naive softmax overflows: exp(1000) = inf and inf / inf = nan. Work with logsumexp(z) - z[y].": (
            _ce_naive
        ),
        "-z[y] alone is not a log-probability: subtract it from the log-sum-exp of the row (the log of the "
        "normaliser).": lambda z, y: -z[torch.arange(len(y)), y].mean(),
        "This sums over the batch; the loss is the mean.": (
            lambda z, y: _ce_per_example(z, y).sum()
        ),
        "z[:, y] picks the target columns for every row (an N x N matrix): pair each row with its own target, "
        "z[torch.arange(N), y].": lambda z, y: -(z - _lse(z, keepdim=True))[:, y].mean(),
    },
)


# ---------------------------------------------------------------- derivation: generative model -> logistic form
def _generative_logit(mu0: float, mu1: float, sigma: float, prior1: float) -> tuple[float, float]:
    w = (mu1 - mu0) / sigma**2
    b = (mu0**2 - mu1**2) / (2 * sigma**2) + math.log(prior1 / (1 - prior1))
    return w, b


GENERATIVE_LOGIT = Exercise(
    id="02.generative_logit",
    title="Derivation: a Gaussian generative classifier has a logistic posterior",
    kind="derive",
    points=3,
    prompt=(
        "With P(y = 1) = prior1 and x | y ~ N(mu_y, sigma^2) (one sigma for both classes), the posterior is "
        "P(y = 1 | x) = sigmoid(w x + b). generative_logit(mu0, mu1, sigma, prior1) returns (w, b)."
    ),
    reference=_generative_logit,
    items=("w", "b"),
    cases=lambda: [
        Case("mu0 = -1, mu1 = 2, sigma = 1.5, P(y=1) = 0.3", (-1.0, 2.0, 1.5, 0.3),
             "Every part of the generative model shows up in the logit: means, shared variance and prior."),
        Case("mu0 = 0, mu1 = 1, sigma = 1, P(y=1) = 0.5", (0.0, 1.0, 1.0, 0.5)),
        Case("mu0 = 2, mu1 = -1, sigma = 0.5, P(y=1) = 0.8", (2.0, -1.0, 0.5, 0.8),
             {0: "When class 1 lies to the left, w is negative."}),
        Case("mu0 = 0.5, mu1 = 0.7, sigma = 2, P(y=1) = 0.1", (0.5, 0.7, 2.0, 0.1), hidden=True),
    ],
    compare=close(rtol=1e-9, atol=1e-12),
    forbidden=GAUSSIAN_DENSITY_FUNCTIONS,
    instead="Expand the two Gaussian log-densities on paper and write w and b with math.log.",
    hints=[
        "P(y=1|x) = sigmoid(a) with a = log [p(x|y=1) P(y=1)] - log [p(x|y=0) P(y=0)] (divide numerator and "
        "denominator of Bayes' rule by the numerator).",
        "In the difference of the two Gaussian log-densities, log sigma and the x^2 terms cancel; collect the "
        "terms in x (that is w) and the constant terms (with log(prior1 / (1 - prior1)), that is b).",
        "w = (mu1 - mu0) / sigma^2 and b = (mu0^2 - mu1^2) / (2 sigma^2) + log(prior1 / (1 - prior1)).",
    ],
    wrong={
        "The weight divides by the variance sigma^2, not by sigma.": lambda m0, m1, s, p: (
            (m1 - m0) / s, (m0**2 - m1**2) / (2 * s**2) + math.log(p / (1 - p))
        ),
        "The prior is missing: b also contains the prior log-odds log(P(y=1) / P(y=0)).": lambda m0, m1, s, p: (
            (m1 - m0) / s**2, (m0**2 - m1**2) / (2 * s**2)
        ),
        "The sign of the mean term in b is wrong: it is (mu0^2 - mu1^2) / (2 sigma^2).": lambda m0, m1, s, p: (
            (m1 - m0) / s**2, (m1**2 - m0**2) / (2 * s**2) + math.log(p / (1 - p))
        ),
        "The mean term in b keeps the 2 of 2 sigma^2: (x - mu)^2 / (2 sigma^2) gives (mu0^2 - mu1^2) / "
        "(2 sigma^2).": lambda m0, m1, s, p: (
            (m1 - m0) / s**2, (m0**2 - m1**2) / s**2 + math.log(p / (1 - p))
        ),
        "b needs the prior log-odds log(P(y=1) / P(y=0)) = log(prior1 / (1 - prior1)), not log(prior1) alone: "
        "P(y=0) appears in the denominator.": lambda m0, m1, s, p: (
            (m1 - m0) / s**2, (m0**2 - m1**2) / (2 * s**2) + math.log(p)
        ),
        "The prior log-odds are upside down: log(P(y=1) / P(y=0)) favours class 1 when it is common.": (
            lambda m0, m1, s, p: ((m1 - m0) / s**2, (m0**2 - m1**2) / (2 * s**2) + math.log((1 - p) / p))
        ),
        "These are the logit coefficients of class 0: sigmoid(w x + b) should be P(y = 1 | x).": (
            lambda m0, m1, s, p: tuple(-v for v in _generative_logit(m0, m1, s, p))
        ),
    },
)


EXERCISES = [
    BERNOULLI_LL,
    GAUSSIAN_MLE,
    NLL_CONSTANTS,
    NLL_VS_MSE,
    BCE,
    SIGMOID_MSE_GRADIENT,
    LOGSUMEXP,
    LOG_SOFTMAX,
    CROSS_ENTROPY,
    GENERATIVE_LOGIT,
]
