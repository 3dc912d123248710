"""Chapter 10: the VAE's two pieces, the KL divergence of a diagonal Gaussian from the standard normal prior, and the
reparameterized sample (the negative ELBO and what its reduction does are in ``elbo``)."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch10.shared import GAUSSIAN_KL, REPARAMETERIZE, TOLERANCE, trainable, with_gradients
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


# ---------------------------------------------------------------- the KL term
def _kl_cases() -> list[Case]:
    g = gen(101)

    def pair(*shape, dtype=F64, scale=1.0):
        mu = torch.randn(*shape, generator=g, dtype=dtype)
        log_var = scale * torch.randn(*shape, generator=g, dtype=dtype)
        return mu, log_var

    zeros = torch.zeros(3, 2, dtype=F64)
    trained = pair(3, 2)
    extreme = (torch.tensor([[0.5, -1.0, 2.0], [0.0, 3.0, -0.5]], dtype=F64),
               torch.tensor([[-30.0, 20.0, -8.0], [30.0, -20.0, 8.0]], dtype=F64))
    return [
        Case("mu, log_var (4, 2) float64: a batch of 4 posteriors over 2 latent dimensions", pair(4, 2),
             "One KL per entry, KL(N(mu, sigma^2) || N(0, 1)) = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2), with sigma^2 "
             "= exp(log_var): the result has mu's shape."),
        Case("mu = 0, log_var = 0 (3, 2) float64: the posterior is the prior", (zeros, zeros.clone()),
             "N(0, 1) against itself: the KL of a distribution from itself is 0, every entry."),
        Case("one posterior: mu, log_var (5,) float64", pair(5),
             "Any shape: a single code vector (z,) gives (z,)."),
        Case("mu, log_var (6, 3) float32", pair(6, 3, dtype=F32),
             "Any dtype: the KL keeps the inputs' (float32 here)."),
        Case("large |log_var| (2, 3) float64: log_var from -30 to 30", extreme,
             "A posterior far narrower than the prior (log_var = -30) pays about -log_var / 2 = 15 nats; a far wider "
             "one (log_var = 30) pays exp(log_var) / 2, about 5e12. log_var is the log of the VARIANCE."),
        Case("mu and log_var being trained (requires grad): (3, 2) float64",
             (trainable(trained[0], "mu"), trainable(trained[1], "log_var")),
             "The KL is a term of the loss the encoder is trained on: it must stay differentiable with respect to mu "
             "and log_var (dKL/dmu = mu, dKL/dlog_var = (exp(log_var) - 1) / 2). Nothing may be detached or taken "
             "through NumPy."),
        Case("mu, log_var (64, 16) float64", pair(64, 16, scale=2.0), hidden=True),
        Case("mu, log_var (10, 2) float32", pair(10, 2, dtype=F32), hidden=True),
        Case("mu, log_var (1, 1) float64", pair(1, 1), hidden=True),
    ]


def _gaussian_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.exp(log_var) + mu**2 - 1 - log_var)


GAUSSIAN_KL_EXERCISE = Exercise(
    id="10.gaussian_kl",
    title="The KL term of the VAE",
    kind="implement",
    points=1,
    prompt=(
        "gaussian_kl(mu, log_var) returns, entry by entry, the KL divergence of the encoder's Gaussian N(mu, sigma^2) "
        "from the prior N(0, 1), where log_var = log sigma^2 is the log of the VARIANCE: KL = 1/2 (sigma^2 + mu^2 - 1 "
        "- log sigma^2). mu, log_var of any shape (the same) -> that shape, in their dtype, differentiable with "
        "respect to both (the sum over the latent dimensions comes in the ELBO, exercise 10.3). Write the formula: "
        "no KL of torch.distributions, no F.kl_div, nor the book's gaussian_kl."
    ),
    reference=_gaussian_kl,
    cases=_kl_cases,
    compare=with_gradients(TOLERANCE),
    forbidden=GAUSSIAN_KL,
    instead="Write the closed form with torch.exp and arithmetic: no torch.distributions.kl_divergence, no "
    "F.kl_div / nn.KLDivLoss, nor the book's gaussian_kl.",
    hints=[
        "For one dimension, KL(N(mu, sigma^2) || N(0, 1)) = log(1 / sigma) + (sigma^2 + mu^2) / 2 - 1/2. Write it "
        "with sigma^2 = exp(log_var) and log sigma = log_var / 2.",
        "log(1 / sigma) = -log_var / 2, so KL = 1/2 (exp(log_var) + mu^2 - 1 - log_var): no square root and no log "
        "needed. Check: mu = 0, log_var = 0 gives 0.",
        "return 0.5 * (torch.exp(log_var) + mu ** 2 - 1 - log_var).",
    ],
    wrong={
        "That is the lecture notes' sum(sigma^2 + mu^2 - log sigma - 1): it drops the 1/2 in front of sigma^2, mu^2 "
        "and 1. The KL is 1/2 (sigma^2 + mu^2 - 1) - log sigma = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2).": (
            lambda mu, log_var: torch.exp(log_var) + mu**2 - 0.5 * log_var - 1
        ),
        "That is -KL: the notes' 1/2 (1 + log sigma^2 - mu^2 - sigma^2) is the NEGATIVE of the divergence (it is "
        "<= 0; code that uses it puts a minus sign in front). The KL is >= 0, 0 only where the posterior is the "
        "prior.": lambda mu, log_var: 0.5 * (1 + log_var - mu**2 - torch.exp(log_var)),
        "log_var was read as the log of the standard deviation: it is log sigma^2, so sigma^2 = exp(log_var), not "
        "exp(2 log_var), and log sigma^2 = log_var, not 2 log_var.": (
            lambda mu, log_var: 0.5 * (torch.exp(2 * log_var) + mu**2 - 1 - 2 * log_var)
        ),
        "The factor 1/2 is missing: KL = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2), each term halved.": (
            lambda mu, log_var: torch.exp(log_var) + mu**2 - 1 - log_var
        ),
        "The -1 is missing: without it the KL of the prior from itself (mu = 0, log_var = 0) would be 1/2, not 0.": (
            lambda mu, log_var: 0.5 * (torch.exp(log_var) + mu**2 - log_var)
        ),
        "log_var has the wrong sign: the term is -log sigma^2 = -log_var (a narrow posterior, log_var < 0, costs "
        "more, not less).": lambda mu, log_var: 0.5 * (torch.exp(log_var) + mu**2 - 1 + log_var),
        "That is KL(N(0, 1) || N(mu, sigma^2)), the other direction: 1/2 (log sigma^2 + (1 + mu^2) / sigma^2 - 1). "
        "The KL is not symmetric; the VAE's term is KL(q(z|x) || p(z)), the posterior from the prior.": (
            lambda mu, log_var: 0.5 * (log_var + (1 + mu**2) * torch.exp(-log_var) - 1)
        ),
        "The KL was summed over the last (latent) dimension: return one KL per entry, mu's shape. The ELBO of "
        "exercise 10.3 sums them.": lambda mu, log_var: _gaussian_kl(mu, log_var).sum(dim=-1),
    },
)


# ---------------------------------------------------------------- the reparameterized sample
def _reparameterize_cases() -> list[Case]:
    g = gen(102)

    def triple(*shape, dtype=F64):
        return tuple(torch.randn(*shape, generator=g, dtype=dtype) for _ in range(3))

    mu, log_var, eps = triple(3, 2)
    unit_mu, _, unit_eps = triple(2, 3)
    return [
        Case("mu, log_var, eps (4, 2) float64", triple(4, 2),
             "z = mu + sigma * eps with sigma = exp(log_var / 2), the standard deviation: entry by entry, mu's "
             "shape."),
        Case("log_var = 0 (sigma = 1): mu, log_var, eps (2, 3) float64",
             (unit_mu, torch.zeros(2, 3, dtype=F64), unit_eps),
             "With sigma = 1 the sample is mu + eps: the noise is shifted, not scaled."),
        Case("eps = 0: mu, log_var, eps (3,) float64", (*triple(3)[:2], torch.zeros(3, dtype=F64)),
             "No noise: the sample is the mean mu, whatever the variance."),
        Case("mu, log_var, eps (5, 4) float32", triple(5, 4, dtype=F32),
             "Any dtype: the sample keeps the inputs' (float32 here)."),
        Case("mu and log_var being trained (requires grad): (3, 2) float64",
             (trainable(mu, "mu"), trainable(log_var, "log_var"), eps),
             "The point of the trick: z must stay differentiable with respect to mu and log_var (dz/dmu = 1, "
             "dz/dlog_var = sigma eps / 2), so the encoder learns through the sample. Nothing may be detached and eps "
             "is the given noise, not a new draw."),
        Case("mu, log_var, eps (32, 16) float64", triple(32, 16), hidden=True),
        Case("mu, log_var, eps (8, 2) float32", triple(8, 2, dtype=F32), hidden=True),
        Case("mu, log_var, eps (1, 1) float64", triple(1, 1), hidden=True),
    ]


def _reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    return mu + torch.exp(0.5 * log_var) * eps


REPARAMETERIZE_EXERCISE = Exercise(
    id="10.reparameterize",
    title="The reparameterization trick",
    kind="implement",
    points=1,
    prompt=(
        "reparameterize(mu, log_var, eps) returns the sample z = mu + sigma * eps of N(mu, sigma^2), where log_var = "
        "log sigma^2 is the log of the variance and eps ~ N(0, 1) is given (drawn by the caller, same shape). mu, "
        "log_var, eps (same shape) -> z, that shape, in their dtype, differentiable with respect to mu and log_var. "
        "Use the eps passed in: no torch.randn, torch.normal or Normal(...).rsample(), nor the book's reparameterize."
    ),
    reference=_reparameterize,
    cases=_reparameterize_cases,
    compare=with_gradients(TOLERANCE),
    forbidden=REPARAMETERIZE,
    instead="eps is given: z = mu + exp(log_var / 2) * eps with the eps passed in. A new draw (torch.randn, "
    "torch.normal, Normal(...).rsample()) would give another sample on every call and could not be checked; nor "
    "the book's reparameterize.",
    hints=[
        "A sample of N(mu, sigma^2) is a standard normal sample, scaled by the STANDARD DEVIATION sigma and shifted by "
        "mu. Here eps is the standard normal sample.",
        "sigma = sqrt(sigma^2) = sqrt(exp(log_var)) = exp(log_var / 2). Everything stays a torch operation on mu and "
        "log_var, so gradients flow to both.",
        "return mu + torch.exp(0.5 * log_var) * eps.",
    ],
    wrong={
        "eps was scaled by the variance exp(log_var): the standard deviation is its square root, sigma = "
        "exp(log_var / 2).": lambda mu, log_var, eps: mu + torch.exp(log_var) * eps,
        "log_var was used as the standard deviation: it is the log of the variance, so sigma = exp(log_var / 2) "
        "(log_var is negative for a narrow posterior, and a negative scale makes no sense).": (
            lambda mu, log_var, eps: mu + log_var * eps
        ),
        "eps was not scaled: z = mu + sigma * eps with sigma = exp(log_var / 2); mu + eps has variance 1, "
        "whatever log_var says.": lambda mu, log_var, eps: mu + eps,
        "torch.exp(log_var) / 2 is not exp(log_var / 2): the halving goes INSIDE the exponential (sigma = "
        "exp(log_var / 2), the square root of exp(log_var)).": (
            lambda mu, log_var, eps: mu + torch.exp(log_var) / 2 * eps
        ),
        "mu and eps were multiplied: the sample is the mean PLUS the scaled noise, mu + sigma * eps.": (
            lambda mu, log_var, eps: mu * torch.exp(0.5 * log_var) * eps
        ),
    },
)

EXERCISES = [GAUSSIAN_KL_EXERCISE, REPARAMETERIZE_EXERCISE]
