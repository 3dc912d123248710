"""The GAN's objective, its losses from logits, and the optimal discriminator (Goodfellow et al., 2014).

A generator G maps noise z ~ p(z) (the prior of its input, N(0, I) here) to samples G(z), whose distribution is
p_g; a discriminator D(x) in (0, 1) is the probability that x is real. They play the minimax game

    min_G max_D V(D, G),    V(D, G) = E_{x ~ p_data}[log D(x)] + E_{z ~ p(z)}[log(1 - D(G(z)))].

The optimal discriminator. For a fixed G, write the second expectation over x ~ p_g: V = int p_data(x) log D(x) +
p_g(x) log(1 - D(x)) dx. D can take any value at each x separately, so V is maximised pointwise: with a = p_data(x)
and b = p_g(x), f(y) = a log y + b log(1 - y) has f'(y) = a / y - b / (1 - y) = 0 at y = a / (a + b) and
f''(y) = -a / y^2 - b / (1 - y)^2 < 0, so

    D*(x) = p_data(x) / (p_data(x) + p_g(x))      (``optimal_discriminator``; its logit is log p_data - log p_g).

Where p_data = p_g = 0 the integrand does not depend on D and D* is not defined (``optimal_discriminator`` gives
nan there). Putting D* back in, with m = (p_data + p_g) / 2:

    V(D*, G) = E_data[log(p_data / (2m))] + E_g[log(p_g / (2m))] = -log 4 + KL(p_data || m) + KL(p_g || m)
             = -log 4 + 2 JSD(p_data || p_g),

so G's best response minimises the Jensen-Shannon divergence; the minimum -log 4 is reached at p_g = p_data, where
D* = 1/2 everywhere.

Losses from logits. D outputs a logit l, D = sigmoid(l); then log D = -softplus(-l) and log(1 - D) =
-softplus(l), with softplus(u) = log(1 + e^u) = logaddexp(u, 0) computed without overflow. Writing
log(sigmoid(l)) instead fails at |l| ~ 40 in float64 (sigmoid(40) rounds to 1, log(1 - 1) = -inf), and the
gradients through it turn to nan. In the means below the real logits come from D(x), the fake ones from D(G(z)):

    discriminator_loss = mean softplus(-l_real) + mean softplus(l_fake) = -V      (BCE(real, 1) + BCE(fake, 0))
    generator_loss, saturating=True:   -mean softplus(l_fake) = mean log(1 - D(G(z)))   (G minimises V's term)
    generator_loss, saturating=False:   mean softplus(-l_fake) = -mean log D(G(z))      (the non-saturating loss)

Why the minimax generator loss saturates. Early in training D rejects the fakes confidently: l_fake -> -inf. Then
d/dl log(1 - sigmoid(l)) = -sigmoid(l) -> 0, and G receives almost no gradient exactly when it is worst. The
non-saturating loss has d/dl [-log sigmoid(l)] = -(1 - sigmoid(l)) -> -1 there: a full-size push towards "real".
Both losses have the same fixed point (D(G(z)) = 1/2 with p_g = p_data); only the gradient's size away from it
differs. Training alternates: one step of D on ``discriminator_loss``, one step of G on ``generator_loss``
(``helpers.models.gan.train_gan``).
"""

from __future__ import annotations

import math

import torch

__all__ = ["discriminator_loss", "generator_loss", "normal_pdf", "optimal_discriminator", "softplus",
           "value_function"]


def _check_logits(name: str, logits: torch.Tensor, where: str) -> None:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{where}: {name} must be a torch.Tensor of logits (the discriminator's output), got "
                        f"{type(logits).__name__}.")
    if not logits.is_floating_point():
        raise TypeError(f"{where}: {name} must be a floating-point tensor, got {logits.dtype}: e.g. {name}.float().")
    if logits.numel() == 0:
        raise ValueError(f"{where}: {name} is empty; pass the discriminator's logits for at least one sample.")


def softplus(u: torch.Tensor) -> torch.Tensor:
    """softplus(u) = log(1 + e^u), elementwise, exact for every u: logaddexp(u, 0) (no overflow at u = 1000).

    (torch's F.softplus returns u itself above u = 20, an error of e^-20 ~ 2e-9; this one has none.)
    """
    return torch.logaddexp(u, torch.zeros_like(u))


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V: mean softplus(-l_real) + mean softplus(l_fake) = -mean log D(x) - mean log(1 - D(G(z))).

    real_logits: (N,) logits of D on real samples, fake_logits: (M,) on generated ones (any shapes; each is
    averaged over all its entries) -> 0-dim. Equals F.binary_cross_entropy_with_logits(real, ones) +
    F.binary_cross_entropy_with_logits(fake, zeros): PyTorch's DCGAN tutorial's errD_real + errD_fake.
    """
    _check_logits("real_logits", real_logits, "discriminator_loss")
    _check_logits("fake_logits", fake_logits, "discriminator_loss")
    return softplus(-real_logits).mean() + softplus(fake_logits).mean()


def generator_loss(fake_logits: torch.Tensor, saturating: bool = False) -> torch.Tensor:
    """The generator's loss from D's logits on generated samples, fake_logits: (M,) -> 0-dim.

    saturating=False (the default, the non-saturating loss): mean softplus(-l) = -mean log D(G(z)), i.e.
    F.binary_cross_entropy_with_logits(fake, ones): G's samples are labelled "real".
    saturating=True (the minimax loss, V's second term): -mean softplus(l) = mean log(1 - D(G(z))); its gradient
    -sigmoid(l) / M vanishes when D rejects the fakes confidently (l -> -inf).
    """
    _check_logits("fake_logits", fake_logits, "generator_loss")
    if not isinstance(saturating, bool):
        raise TypeError(f"generator_loss: saturating must be True or False, got {saturating!r}.")
    if saturating:
        return -softplus(fake_logits).mean()
    return softplus(-fake_logits).mean()


def value_function(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """V(D, G) estimated on a batch: mean log D(x) + mean log(1 - D(G(z))) = -discriminator_loss. -> 0-dim.

    At most 0; -log 4 ~ -1.386 when D outputs 1/2 everywhere (the equilibrium).
    """
    _check_logits("real_logits", real_logits, "value_function")
    _check_logits("fake_logits", fake_logits, "value_function")
    return -softplus(-real_logits).mean() - softplus(fake_logits).mean()


def normal_pdf(x: torch.Tensor, mean: float | torch.Tensor = 0.0, std: float | torch.Tensor = 1.0) -> torch.Tensor:
    """The density of N(mean, std^2) at x, elementwise: exp(-(x - mean)^2 / (2 std^2)) / (std sqrt(2 pi)).

    x: any shape (mean and std broadcast against it) -> x's shape, in x's dtype. Equals scipy.stats.norm.pdf(x,
    loc=mean, scale=std).
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("normal_pdf: x must be a floating-point tensor, e.g. torch.linspace(-4, 4, 201).")
    std = torch.as_tensor(std, dtype=x.dtype, device=x.device)
    if not bool((std > 0).all()):
        raise ValueError(f"normal_pdf: std is a standard deviation and must be > 0, got {std.tolist()}.")
    mean = torch.as_tensor(mean, dtype=x.dtype, device=x.device)
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def optimal_discriminator(p_data: torch.Tensor, p_g: torch.Tensor) -> torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)) from the two densities at the same points, elementwise (broadcast).

    p_data, p_g: densities >= 0 -> their broadcast shape. Where both are 0 the objective does not depend on D and
    D* is not defined: the result is nan there (a plot leaves a gap).
    """
    for name, p in (("p_data", p_data), ("p_g", p_g)):
        if not isinstance(p, torch.Tensor) or not p.is_floating_point():
            raise TypeError(f"optimal_discriminator: {name} must be a floating-point tensor of densities, e.g. "
                            "normal_pdf(x, 0.0, 1.0).")
        if bool((p < 0).any()) or bool(p.isnan().any()):
            raise ValueError(f"optimal_discriminator: {name} holds densities, which are >= 0; got a negative value "
                             "or nan. Pass p(x), not log p(x).")
    total = p_data + p_g
    return torch.where(total > 0, p_data / total, torch.full_like(total, math.nan))
