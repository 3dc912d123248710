"""Chapter 10: the VAE's loss, the negative ELBO with a Bernoulli decoder (the BCE summed over the pixels, the KL summed
over the latent dimensions, the mean over the batch), and, asked before the experiment, what averaging the BCE over the
pixels instead does to the model."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch10.shared import NEGATIVE_ELBO, loss_compare, trainable, with_gradients
from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.compare import choice
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


# ---------------------------------------------------------------- the negative ELBO
def _elbo_cases() -> list[Case]:
    g = gen(103)

    def batch(N, D, J, dtype=F64, binary=True):
        x_hat = torch.sigmoid(1.5 * torch.randn(N, D, generator=g, dtype=dtype))  # the decoder's probabilities
        x = torch.rand(N, D, generator=g, dtype=dtype)  # pixels in [0, 1], as the digits / 16
        x = (x < 0.5).to(dtype) if binary else x
        mu = torch.randn(N, J, generator=g, dtype=dtype)
        log_var = torch.randn(N, J, generator=g, dtype=dtype)
        return x_hat, x, mu, log_var

    x_hat, x, mu, log_var = batch(3, 8, 2)
    return [
        Case("a batch of 4 binary images of 64 pixels, 2 latent dimensions, float64", batch(4, 64, 2),
             "Per image, -ELBO = sum over its 64 pixels of BCE(x_hat, x) + sum over its 2 latent dimensions of the KL; "
             "then the mean over the 4 images."),
        Case("3 images of 16 grey pixels in [0, 1], 3 latent dimensions, float64", batch(3, 16, 3, binary=False),
             "The digits are grey levels in [0, 1] (pixels / 16): BCE(p, t) = -(t log p + (1 - t) log(1 - p)) works "
             "for any target t in [0, 1]."),
        Case("5 images of 10 pixels, 2 latent dimensions, float32", batch(5, 10, 2, dtype=F32),
             "Any dtype: the loss keeps the inputs' (float32 here)."),
        Case("a batch of one: 1 image of 12 pixels, 4 latent dimensions, float64", batch(1, 12, 4),
             "One image: the loss is that image's negative ELBO, its summed BCE plus its summed KL."),
        Case("x_hat, mu and log_var being trained (requires grad): 3 images of 8 pixels, 2 latent dimensions",
             (trainable(x_hat, "x_hat"), x, trainable(mu, "mu"), trainable(log_var, "log_var")),
             "The loss is minimised by backpropagating through it, into the decoder (x_hat) and the encoder (mu, "
             "log_var): its gradients must be those of the formula, nothing detached."),
        Case("a batch of 32 images of 64 pixels, 2 latent dimensions, float64", batch(32, 64, 2), hidden=True),
        Case("8 grey images of 64 pixels, 8 latent dimensions, float32", batch(8, 64, 8, dtype=F32, binary=False),
             hidden=True),
        Case("2 images of 5 pixels, 1 latent dimension, float64", batch(2, 5, 1), hidden=True),
    ]


def _bce(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """-(x log x_hat + (1 - x) log(1 - x_hat)) entry by entry (x_hat strictly inside (0, 1) in every case)."""
    return -(x * torch.log(x_hat) + (1 - x) * torch.log(1 - x_hat))


def _kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return 0.5 * (torch.exp(log_var) + mu**2 - 1 - log_var)


def _negative_elbo(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    return (_bce(x_hat, x).sum(dim=1) + _kl(mu, log_var).sum(dim=1)).mean()


def _elbo_with(reconstruction="sum", kl="sum", kl_sign=1.0, batch="mean", bce_sign=1.0, kl_of=_kl):
    """The negative ELBO with one of the known mistakes: how the BCE and the KL are reduced over an image ("sum",
    "mean", or for the reconstruction "rmse" / "squared error"), the sign of each term, and the batch reduction."""

    def answer(x_hat, x, mu, log_var):
        per_pixel = bce_sign * _bce(x_hat, x)
        recon = {"sum": lambda: per_pixel.sum(dim=1), "mean": lambda: per_pixel.mean(dim=1),
                 "squared error": lambda: ((x_hat - x) ** 2).sum(dim=1),
                 "rmse": lambda: ((x_hat - x) ** 2).mean().sqrt().expand(len(x))}[reconstruction]()
        divergence = kl_of(mu, log_var)
        divergence = divergence.sum(dim=1) if kl == "sum" else divergence.mean(dim=1) if kl == "mean" else 0
        per_image = recon + kl_sign * divergence
        return per_image.mean() if batch == "mean" else per_image.sum()

    return answer


NEGATIVE_ELBO_EXERCISE = Exercise(
    id="10.negative_elbo",
    title="The VAE's loss, the negative ELBO",
    kind="implement",
    points=2,
    prompt=(
        "negative_elbo(x_hat, x, mu, log_var) returns the VAE's loss with a Bernoulli decoder: for each image, the "
        "binary cross-entropy BCE(x_hat, x) = -(x log x_hat + (1 - x) log(1 - x_hat)) SUMMED over its pixels, plus the "
        "KL divergence 1/2 (exp(log_var) + mu^2 - 1 - log_var) SUMMED over its latent dimensions; then the MEAN of "
        "these per-image losses over the batch. x_hat (the decoder's probabilities, in (0, 1)) and x (in [0, 1]) are "
        "(N, D); mu, log_var are (N, J) -> a 0-dim tensor in their dtype. F.binary_cross_entropy is allowed (mind its "
        "reduction); write the KL yourself (your gaussian_kl of exercise 10.1 will do): no KL of "
        "torch.distributions, nor the book's negative_elbo."
    ),
    reference=_negative_elbo,
    cases=_elbo_cases,
    compare=with_gradients(loss_compare),
    forbidden=NEGATIVE_ELBO,
    instead="Sum the BCE over the pixels (F.binary_cross_entropy(x_hat, x, reduction='none').sum(dim=1) is allowed) "
    "and the KL of exercise 10.1 over the latent dimensions, then take the mean over the batch: no "
    "torch.distributions.kl_divergence, nor the book's negative_elbo or gaussian_kl.",
    hints=[
        "Two reductions, in this order: within each image, SUM (over its D pixels for the reconstruction, over its J "
        "latent dimensions for the KL), which gives one -ELBO per image, (N,); then the MEAN over the N images.",
        "F.binary_cross_entropy(x_hat, x) averages over every entry by default: ask for reduction='none' (N, D) and "
        "sum over dim=1 yourself. The KL per image is gaussian_kl(mu, log_var).sum(dim=1).",
        "bce = F.binary_cross_entropy(x_hat, x, reduction='none').sum(dim=1); kl = (0.5 * (torch.exp(log_var) + "
        "mu ** 2 - 1 - log_var)).sum(dim=1); return (bce + kl).mean().",
    ],
    wrong={
        "The BCE was averaged over the pixels (F.binary_cross_entropy's default reduction='mean'): that divides the "
        "reconstruction term by D while the KL stays summed, so the KL weighs D times more than in the ELBO (64 on "
        "the digits); exercise 10.4 asks what that does to the model. Sum over the pixels.": (
            _elbo_with(reconstruction="mean")),
        "The KL term is missing: without it the loss is a plain autoencoder's reconstruction error, nothing pulls the "
        "codes towards the prior, and sampling z ~ N(0, 1) decodes to nothing in particular.": _elbo_with(kl=None),
        "The KL was subtracted: the ELBO is E[log p(x|z)] - KL, so the NEGATIVE ELBO adds it, BCE + KL. (The notes' "
        "1/2 sum(1 + log sigma^2 - mu^2 - sigma^2) is -KL: subtracting it is adding the KL.)": _elbo_with(kl_sign=-1.0),
        "That is the lecture notes' LOSS = RMSE + KL: the reconstruction term of the ELBO is -log p(x|z), with a "
        "Bernoulli decoder the BCE summed over the pixels; the root mean squared error has another scale (and "
        "another gradient), so it does not weigh the KL as the ELBO does.": _elbo_with(reconstruction="rmse"),
        "The squared error was used for the reconstruction: that is -log p(x|z) of a Gaussian decoder (up to its "
        "variance and a constant). This decoder is Bernoulli, x_hat the pixels' probabilities: its -log p(x|z) is the "
        "binary cross-entropy, summed over the pixels.": _elbo_with(reconstruction="squared error"),
        "The per-image losses were summed over the batch: take their MEAN, so that the loss (and the learning rate "
        "it needs) does not depend on the batch size.": _elbo_with(batch="sum"),
        "The KL was averaged over the latent dimensions: each dimension's KL is a term of the ELBO, so they are "
        "SUMMED, as the pixels' BCE is.": _elbo_with(kl="mean"),
        "The BCE has the wrong sign: x log x_hat + (1 - x) log(1 - x_hat) is log p(x|z) (<= 0); the loss holds "
        "-log p(x|z) = BCE (>= 0).": _elbo_with(bce_sign=-1.0),
        "The KL is the lecture notes' sum(sigma^2 + mu^2 - log sigma - 1), which drops the 1/2 in front of sigma^2, "
        "mu^2 and 1: the KL is 1/2 (exp(log_var) + mu^2 - 1 - log_var).": _elbo_with(
            kl_of=lambda mu, log_var: torch.exp(log_var) + mu**2 - 0.5 * log_var - 1),
    },
)


# ---------------------------------------------------------------- what the mean-reduced BCE does (exercise 10.4)
AVERAGED_QUESTION = (
    "A VAE on the 8 x 8 digits (64 pixels, 2 latent dimensions) is trained with the BCE AVERAGED over the 64 pixels "
    "instead of summed (F.binary_cross_entropy's default), the KL term unchanged (summed over the 2 latent "
    "dimensions). What happens?"
)

AVERAGED_OPTIONS = {
    "a": "Nothing: averaging only divides the loss by a constant, so the optimum and the learned codes stay the same.",
    "b": "The KL weighs 64 times more against reconstruction: posteriors collapse onto the prior, samples look alike.",
    "c": "Reconstructions get sharper: the loss is smaller, so the gradients are gentler and training settles better.",
    "d": "Training diverges: one term divided by 64 and not the other leaves the loss unbounded below as it trains.",
}

AVERAGED_BCE = Exercise(
    id="10.averaged_bce",
    title="What the averaged BCE does to a VAE",
    kind="choice",
    points=1,
    prompt=f"{AVERAGED_QUESTION} Return the letter.",
    reference=lambda: "b",
    cases=lambda: [Case("a VAE on the digits with the BCE averaged over the 64 pixels, the KL summed", (),
                        "Write the loss with the averaged BCE as a multiple of a loss with the summed BCE, and compare "
                        "what it minimises with what the ELBO minimises.")],
    compare=choice(AVERAGED_OPTIONS),
    options=AVERAGED_OPTIONS,
    hints=[
        "Write the loss with the averaged BCE as a multiple of one with the summed BCE: BCE_mean = BCE_sum / 64. What "
        "is BCE_sum / 64 + KL, times 64?",
        "Minimising (BCE_sum + 64 KL) / 64 is minimising BCE_sum + 64 KL: a KL 64 times heavier than the ELBO's. "
        "What does the encoder do when describing the digit costs 64 times more than it gains?",
        "The KL is 0 exactly when every posterior is N(0, 1), whatever the image: codes that say nothing about the "
        "digit, and a decoder that can only output the average digit.",
    ],
    wrong={
        "Only one term is divided by 64, not the whole loss: BCE_sum / 64 + KL is not (BCE_sum + KL) / 64. Does its "
        "minimiser stay the same?": lambda: "a",
        "The size of the loss number says nothing about the reconstructions: a loss divided by a constant is not a "
        "better model, and a smaller gradient is not a gentler optimum.": lambda: "c",
        "Both terms are bounded below (the BCE by the pixels' own entropy, >= 0; the KL by 0), and so is any "
        "positive combination of them: training does not diverge.": lambda: "d",
    },
)

EXERCISES = [NEGATIVE_ELBO_EXERCISE, AVERAGED_BCE]
