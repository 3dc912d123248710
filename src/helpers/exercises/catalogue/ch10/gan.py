"""Chapter 10: the GAN's two losses computed from the discriminator's logits (stably, with softplus), and the optimal
discriminator D* = p_data / (p_data + p_g) at a point, for two stated Gaussians."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.ch10.shared import DENSITIES, GAN_LOSSES, loss_compare, trainable, with_gradients
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.compare import as_mismatch, close, describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

F32 = torch.float32


# ---------------------------------------------------------------- the discriminator's loss
def _discriminator_cases() -> list[Case]:
    g = gen(105)

    def logits(n, dtype=F64, scale=2.0):
        return scale * torch.randn(n, generator=g, dtype=dtype)

    extreme = (torch.tensor([100.0, -100.0, 3.0, 0.5], dtype=F32), torch.tensor([100.0, -100.0, -2.0, 1.0], dtype=F32))
    return [
        Case("8 real and 8 fake logits, float64", (logits(8), logits(8)),
             "BCE with label 1 for each real image, mean softplus(-real), plus BCE with label 0 for each fake, mean "
             "softplus(fake): the SUM of the two means, as PyTorch's DCGAN tutorial's errD_real + errD_fake."),
        Case("5 real and 3 fake logits, float64", (logits(5), logits(3)),
             "Each batch has its own mean: with 5 real and 3 fake images, the mean over the 8 together weighs the "
             "real ones more."),
        Case("6 real and 6 fake logits, float32", (logits(6, F32), logits(6, F32)),
             "Any dtype: the loss keeps the logits' (float32 here)."),
        Case("confident logits, float32: real [100, -100, 3, 0.5], fake [100, -100, -2, 1]", extreme,
             "A fake with logit 100 has D = sigmoid(100) = 1 in floating point, and log(1 - D) = log(0) = -inf, "
             "though its loss is softplus(100) = 100. Compute from the logits: -log D = softplus(-l) and -log(1 - D) "
             "= softplus(l) (F.softplus, or -F.logsigmoid), never log(sigmoid(l))."),
        Case("logits being trained (requires grad): 4 real and 6 fake, float64",
             (trainable(logits(4), "real_logits"), trainable(logits(6), "fake_logits")),
             "The loss is minimised by backpropagating into the discriminator: its gradients must be the formula's."),
        Case("128 real and 128 fake logits, float64", (logits(128, scale=4.0), logits(128, scale=4.0)), hidden=True),
        Case("7 real and 2 fake logits, float32", (logits(7, F32), logits(2, F32)), hidden=True),
        Case("confident logits, float64: real [-800, 800], fake [800, -800]",
             (torch.tensor([-800.0, 800.0], dtype=F64), torch.tensor([800.0, -800.0], dtype=F64)), hidden=True),
    ]


def _discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def _naive_discriminator_loss(real_logits, fake_logits):
    """-log D(x) - log(1 - D(G(z))) with D = sigmoid(logit), as written on paper."""
    return -torch.log(torch.sigmoid(real_logits)).mean() - torch.log(1 - torch.sigmoid(fake_logits)).mean()


DISCRIMINATOR_LOSS = Exercise(
    id="10.discriminator_loss",
    title="The discriminator's loss, from logits",
    kind="implement",
    points=2,
    prompt=(
        "discriminator_loss(real_logits, fake_logits) returns the discriminator's loss from its logits (D = sigmoid of "
        "the logit, the probability that an image is real): the binary cross-entropy with label 1 on the real images "
        "plus the binary cross-entropy with label 0 on the fakes, each averaged over its own batch, -mean log D(x) - "
        "mean log(1 - D(G(z))). real_logits (N_real,), fake_logits (N_fake,) -> a 0-dim tensor in their dtype. It "
        "must stay finite for logits of any size (hundreds). F.softplus and F.logsigmoid are allowed; no binary "
        "cross-entropy of torch's or the book's."
    ),
    reference=_discriminator_loss,
    cases=_discriminator_cases,
    compare=with_gradients(loss_compare),
    forbidden=GAN_LOSSES,
    instead="Write the two terms with F.softplus (or F.logsigmoid): -log sigmoid(l) = softplus(-l) and "
    "-log(1 - sigmoid(l)) = softplus(l). No F.binary_cross_entropy(_with_logits), nn.BCELoss / nn.BCEWithLogitsLoss, "
    "nor the book's losses.",
    hints=[
        "Two terms, each a mean over its own batch: the real images should get D = 1, so their loss is -log D(x); "
        "the fakes should get D = 0, so theirs is -log(1 - D(G(z))). Add the two means.",
        "With D = sigmoid(l): -log sigmoid(l) = log(1 + exp(-l)) = softplus(-l), and -log(1 - sigmoid(l)) = "
        "softplus(l). F.softplus computes them without overflow; log(sigmoid(l)) gives -inf once sigmoid(l) rounds "
        "to 0 or 1.",
        "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean().",
    ],
    wrong={
        "The labels were swapped: the discriminator calls the real images real (label 1, loss -log D(x) = "
        "softplus(-l)) and the fakes fake (label 0, loss -log(1 - D) = softplus(l)).": (
            lambda real_logits, fake_logits: F.softplus(real_logits).mean() + F.softplus(-fake_logits).mean()
        ),
        "The sign is flipped: mean log D(x) + mean log(1 - D(G(z))) is the value function V(D, G), which the "
        "discriminator MAXIMISES; its loss, to minimise, is -V.": (
            lambda real_logits, fake_logits: -_discriminator_loss(real_logits, fake_logits)
        ),
        "The losses were summed over the images: each term is a MEAN over its batch, so that the loss does not grow "
        "with the batch size.": lambda real_logits, fake_logits: (
            F.softplus(-real_logits).sum() + F.softplus(fake_logits).sum()
        ),
        "The two terms were averaged, 1/2 (real + fake): the loss is their SUM, errD_real + errD_fake as in PyTorch's "
        "DCGAN tutorial (half of it has the same minimiser, but it is not the value asked for).": (
            lambda real_logits, fake_logits: 0.5 * _discriminator_loss(real_logits, fake_logits)
        ),
        "The BCE was averaged over the real and fake images together (one batch of N_real + N_fake): each term is "
        "averaged over its OWN batch, and the two means are added.": lambda real_logits, fake_logits: torch.cat(
            [F.softplus(-real_logits), F.softplus(fake_logits)]).mean(),
        "log(sigmoid(l)) overflows: sigmoid(100) rounds to 1, so log(1 - sigmoid(100)) = log(0) = -inf and the loss "
        "is inf, though the true loss is about 100. Compute from the logits: -log sigmoid(l) = F.softplus(-l), "
        "-log(1 - sigmoid(l)) = F.softplus(l).": _naive_discriminator_loss,
        "The fakes' term is missing: the discriminator must also call the fakes fake, + mean softplus(fake) = "
        "-mean log(1 - D(G(z))).": lambda real_logits, fake_logits: F.softplus(-real_logits).mean(),
    },
)


# ---------------------------------------------------------------- the generator's loss
def _generator_cases() -> list[Case]:
    g = gen(106)

    def logits(n, dtype=F64, scale=2.0, shift=0.0):
        return scale * torch.randn(n, generator=g, dtype=dtype) + shift

    rejected = torch.tensor([-10.0, -8.0, -12.0, -9.0], dtype=F64)
    return [
        Case("8 fake logits, float64", (logits(8),),
             "The non-saturating loss: the generator labels its fakes REAL, -mean log D(G(z)) = mean softplus(-l)."),
        Case("fakes the discriminator rejects: logits [-10, -8, -12, -9], float64", (rejected,),
             "Early in training D rejects the fakes (D(G(z)) = sigmoid(-10) = 4.5e-5). The non-saturating loss has "
             "slope -sigmoid(-l) / N = -0.99995 / N per logit there; the minimax mean log(1 - D(G(z))) has slope "
             "-sigmoid(l) / N = -0.000045 / N: its gradient vanishes exactly when the generator needs it."),
        Case("5 fake logits, float32", (logits(5, F32),),
             "Any dtype: the loss keeps the logits' (float32 here)."),
        Case("confident logits, float32: [-120, 5, 0]", (torch.tensor([-120.0, 5.0, 0.0], dtype=F32),),
             "sigmoid(-120) rounds to 0 in float32 and log(0) = -inf, though -log D = softplus(120) = 120: compute "
             "from the logits with F.softplus (or -F.logsigmoid)."),
        Case("logits being trained (requires grad): 6 fakes, float64", (trainable(logits(6, shift=-1.0),
                                                                                 "fake_logits"),),
             "The generator is trained through this loss (through D's logit into G): its gradient must be the "
             "formula's, -sigmoid(-l) / N per logit."),
        Case("256 fake logits, float64", (logits(256, scale=5.0),), hidden=True),
        Case("3 fake logits, float32", (logits(3, F32, shift=-4.0),), hidden=True),
        Case("confident logits, float64: [-900, 900]", (torch.tensor([-900.0, 900.0], dtype=F64),), hidden=True),
    ]


def _generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(-fake_logits).mean()


GENERATOR_LOSS = Exercise(
    id="10.generator_loss",
    title="The generator's non-saturating loss",
    kind="implement",
    points=1,
    prompt=(
        "generator_loss(fake_logits) returns the generator's non-saturating loss from the discriminator's logits on "
        "the fakes: the binary cross-entropy with label 1 (\"real\"), -mean log D(G(z)), with D = sigmoid of the "
        "logit. fake_logits (N,) -> a 0-dim tensor in its dtype, finite for logits of any size. F.softplus and "
        "F.logsigmoid are allowed; no binary cross-entropy of torch's or the book's."
    ),
    reference=_generator_loss,
    cases=_generator_cases,
    compare=with_gradients(loss_compare),
    forbidden=GAN_LOSSES,
    instead="-log sigmoid(l) = F.softplus(-l): take its mean. No F.binary_cross_entropy(_with_logits), "
    "nn.BCELoss / nn.BCEWithLogitsLoss, nor the book's losses.",
    hints=[
        "The generator wants D(G(z)) = 1: it minimises the BCE of its fakes with label 1, -log D(G(z)), averaged over "
        "the batch. (The minimax game's own term, log(1 - D(G(z))), is NOT what is minimised in practice.)",
        "-log sigmoid(l) = log(1 + exp(-l)) = softplus(-l), finite for any l with F.softplus.",
        "return F.softplus(-fake_logits).mean().",
    ],
    wrong={
        "That is the minimax (saturating) loss, mean log(1 - D(G(z))) = -mean softplus(l): when D rejects the fakes "
        "(l = -10, D = 4.5e-5) its slope is -sigmoid(l) / N, about 0.000045 / N per logit, and the generator barely "
        "learns. The non-saturating loss -mean log D(G(z)) = mean softplus(-l) has slope about 1 / N there.": (
            lambda fake_logits: -F.softplus(fake_logits).mean()
        ),
        "The sign is flipped: mean log D(G(z)) is what the generator MAXIMISES; the loss to minimise is its negative, "
        "-mean log D(G(z)) = mean softplus(-l).": lambda fake_logits: -F.softplus(-fake_logits).mean(),
        "That is the discriminator's loss on the fakes (label 0), -mean log(1 - D(G(z))) = mean softplus(l): "
        "minimising it would make the fakes look MORE fake. The generator labels its fakes 1: mean softplus(-l).": (
            lambda fake_logits: F.softplus(fake_logits).mean()
        ),
        "The loss was summed over the fakes: take the MEAN, so that it does not grow with the batch size.": (
            lambda fake_logits: F.softplus(-fake_logits).sum()
        ),
        "log(sigmoid(l)) underflows: sigmoid(-120) rounds to 0 in float32, and -log(0) = inf, though the loss is "
        "softplus(120) = 120. Compute from the logits: -log sigmoid(l) = F.softplus(-l) (or -F.logsigmoid(l)).": (
            lambda fake_logits: -torch.log(torch.sigmoid(fake_logits)).mean()
        ),
    },
)


# ---------------------------------------------------------------- the optimal discriminator at a point
X0, DATA, MODEL = 0.5, (0.0, 1.0), (1.0, 2.0)  # the point, p_data = N(0, 1^2), p_g = N(1, 2^2) as (mean, std)


def _density(x: float, mean: float, std: float, normalised: bool = True, square: bool = True) -> float:
    """The Gaussian density, or with one of the known mistakes: the 1 / (std sqrt(2 pi)) factor left out, the
    exponent's square left out."""
    distance = (x - mean) ** 2 if square else x - mean
    value = math.exp(-distance / (2 * std**2))
    return value / (std * math.sqrt(2 * math.pi)) if normalised else value


def _optimal_discriminator(data=DATA, model=MODEL, **mistake) -> float:
    p_data, p_g = _density(X0, *data, **mistake), _density(X0, *model, **mistake)
    return p_data / (p_data + p_g)


def _ratio() -> float:
    return _density(X0, *DATA) / _density(X0, *MODEL)


_FOUR_DIGITS = close(rtol=1e-4, atol=1e-9)  # 0.6455 typed in is D*; the known mistakes are 0.02 or more away


def _d_star_compare(expected: float, got) -> Mismatch | None:
    """close() to 4 significant digits, without telling the number: the feedback says what is wrong with the one
    returned (not a probability, or not D*(x0)), and the diagnosis of the mistake it matches."""
    problem = as_mismatch(_FOUR_DIGITS(expected, got))
    if problem is None or problem.kind is ResultKind.WRONG_TYPE:
        return problem
    value = got.item() if isinstance(got, torch.Tensor) else float(got)
    if not 0 < value < 1:
        return Mismatch(f"returned {describe(value)}, which is not a probability: D*(x0) lies between 0 and 1")
    return Mismatch(f"returned {describe(value)}, which is not D*({X0:g}) to 4 significant digits")


OPTIMAL_DISCRIMINATOR = Exercise(
    id="10.optimal_discriminator",
    title="The optimal discriminator at a point",
    kind="number",
    points=1,
    prompt=(
        f"The data are p_data = N({DATA[0]:g}, {DATA[1]:g}^2) (mean {DATA[0]:g}, standard deviation {DATA[1]:g}) and "
        f"the generator's samples follow p_g = N({MODEL[0]:g}, {MODEL[1]:g}^2) (mean {MODEL[0]:g}, standard deviation "
        f"{MODEL[1]:g}). d_star() returns, as a Python float, the output of the optimal discriminator at x0 = "
        f"{X0:g}, D*(x0) = p_data(x0) / (p_data(x0) + p_g(x0)), with the densities written out (math.exp, math.sqrt, "
        "math.pi): no density of SciPy's, the standard library's, torch's or the book's."
    ),
    reference=_optimal_discriminator,
    cases=lambda: [Case(f"x0 = {X0:g}, p_data = N({DATA[0]:g}, {DATA[1]:g}^2), p_g = N({MODEL[0]:g}, "
                        f"{MODEL[1]:g}^2)", (),
                        "The two densities have different widths, so their normalising factors 1 / (sigma "
                        "sqrt(2 pi)) differ (by a factor 2 here) and do not cancel in the ratio.")],
    compare=_d_star_compare,
    forbidden=DENSITIES,
    instead="Write the Gaussian density yourself: exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi)), with math.exp "
    "and math.sqrt.",
    hints=[
        "The Gaussian density is p(x) = exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi)). Evaluate it at x0 for each "
        "distribution, with its own mean and standard deviation.",
        "The factor 1 / sqrt(2 pi) cancels in the ratio, but 1 / std does not: p_g's standard deviation is "
        f"{MODEL[1]:g}, so its density is divided by {MODEL[1]:g} where p_data's is divided by {DATA[1]:g}.",
        f"p_data = math.exp(-({X0:g} - {DATA[0]:g}) ** 2 / 2) / math.sqrt(2 * math.pi), p_g = math.exp(-({X0:g} - "
        f"{MODEL[0]:g}) ** 2 / 8) / (2 * math.sqrt(2 * math.pi)); return p_data / (p_data + p_g).",
    ],
    wrong={
        "That is 1 - D*(x0) = p_g / (p_data + p_g), the probability that x0 is a FAKE: D outputs the probability "
        "that its input is real, p_data / (p_data + p_g).": lambda: 1 - _optimal_discriminator(),
        "That is the ratio p_data / p_g: D* is a probability, p_data / (p_data + p_g), between 0 and 1.": _ratio,
        "The normalising factors were left out: exp(-(x - mean)^2 / (2 std^2)) alone is not the density. 1 / sqrt(2 "
        f"pi) cancels in the ratio, but 1 / std does not when the widths differ ({DATA[1]:g} and {MODEL[1]:g}): here "
        "it even moves D* to the other side of 1/2.": lambda: _optimal_discriminator(normalised=False),
        "1/2 is D* where p_data = p_g, at the end of a perfect training (p_g = p_data everywhere). Here p_g is another "
        "Gaussian, so D*(x0) depends on the two densities at x0.": lambda: 0.5,
        "The exponent's square is missing: the Gaussian density is exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 "
        "pi)).": lambda: _optimal_discriminator(square=False),
        f"The standard deviation {MODEL[1]:g} was used as the variance: p_g = N({MODEL[0]:g}, {MODEL[1]:g}^2) has "
        f"variance {MODEL[1] ** 2:g}, so exp(-(x - {MODEL[0]:g})^2 / (2 * {MODEL[1] ** 2:g})) / ({MODEL[1]:g} "
        "sqrt(2 pi)).": lambda: _optimal_discriminator(model=(MODEL[0], math.sqrt(MODEL[1]))),
        f"The variance {MODEL[1] ** 2:g} was used as the standard deviation: N({MODEL[0]:g}, {MODEL[1]:g}^2) is "
        f"written with the variance, so its standard deviation is {MODEL[1]:g}.": (
            lambda: _optimal_discriminator(model=(MODEL[0], MODEL[1] ** 2))
        ),
    },
)

EXERCISES = [DISCRIMINATOR_LOSS, GENERATOR_LOSS, OPTIMAL_DISCRIMINATOR]
