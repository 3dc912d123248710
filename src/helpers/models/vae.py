"""The variational autoencoder (Kingma and Welling, 2014) for chapter 10: the ELBO, its closed-form KL, the
reparameterization trick, a small VAE and its training loop.

A latent-variable model draws a code z ~ p(z) = N(0, I) and then x ~ p_theta(x | z); its likelihood
p(x) = int p(x | z) p(z) dz has no closed form for a neural decoder, and neither has the posterior p(z | x).
The VAE brings in an encoder q_phi(z | x) = N(mu(x), diag(sigma^2(x))) and bounds log p(x) from below. For any q,

    log p(x) = E_q[log p(x)]                                              (log p(x) does not depend on z)
             = E_q[log p(x, z) / p(z | x)]                                (Bayes: p(x) = p(x, z) / p(z | x))
             = E_q[log p(x, z) / q(z | x)] + E_q[log q(z | x) / p(z | x)]
             = ELBO + KL(q(z | x) || p(z | x)),

and the KL is >= 0, so ELBO <= log p(x), with equality when q is the true posterior: raising the ELBO in phi makes
q a better posterior, raising it in theta raises (a bound on) the likelihood. Splitting p(x, z) = p(x | z) p(z),

    ELBO = E_q[log p(x | z)] - KL(q(z | x) || p(z))        (reconstruction minus the distance to the prior).

The prior's log p(z) sits inside the KL: writing E_q[log p(x, z)] for the first term would count it twice.
For a Bernoulli decoder with pixel probabilities x_hat = decode(z), -log p(x | z) = sum_d BCE(x_hat_d, x_d) summed
over the D pixels (used as well for grey levels x_d in [0, 1], as is usual). ``negative_elbo`` is the loss:

    -ELBO(x) ~ sum_d BCE(x_hat_d, x_d) + sum_j KL_j,    z = mu + sigma * eps: one sample of z per x.

The KL of q = N(mu, sigma^2) from p = N(0, 1), per latent dimension: with log q(z) = -1/2 log(2 pi sigma^2) -
(z - mu)^2 / (2 sigma^2), log p(z) = -1/2 log(2 pi) - z^2 / 2, E_q[(z - mu)^2] = sigma^2 and E_q[z^2] = mu^2 +
sigma^2,

    KL = E_q[log q(z) - log p(z)] = -1/2 log sigma^2 - 1/2 + (mu^2 + sigma^2) / 2
       = 1/2 (sigma^2 + mu^2 - 1 - log sigma^2)                     ``gaussian_kl``, >= 0, 0 only at mu=0, sigma=1.

A diagonal q sums this over the latent dimensions. The encoder outputs log_var = log sigma^2 (any real number;
sigma = exp(log_var / 2) > 0 needs no constraint).

The reparameterization trick. The ELBO's expectation is over q, whose parameters we train. A draw z ~ N(mu,
sigma^2) made by a sampler is a number, not a function of mu and sigma that autograd can follow:
``Normal(mu, sigma).sample()`` returns a tensor with no gradient at all, ``torch.normal(mu, sigma)`` one whose
gradients with respect to mu and sigma are zero; either way the encoder learns nothing from the reconstruction
term. Draw the noise from a fixed distribution instead and move it:

    z = mu + sigma * eps,  eps ~ N(0, 1):     dz/dmu = 1,  dz/dlog_var = 1/2 sigma eps,
    grad E_q[f(z)] = E_eps[grad f(mu + sigma eps)]   (an unbiased estimate from each eps),

which is ``Normal(mu, sigma).rsample()`` ("r" for reparameterized). ``reparameterize`` writes it out.

The classic bug. ``F.binary_cross_entropy(x_hat, x)`` averages over the pixels by default: the reconstruction term
is then the sum / D, which is the ELBO with the KL weighted D times more (beta = D = 64 on the 8x8 digits). The
cheapest way to lower that loss is KL = 0: q(z | x) = p(z) for every x, a decoder that ignores z and draws the mean
digit, a code that says nothing about x: posterior collapse. ``negative_elbo(..., reconstruction="mean")`` is that
bug, kept to show it. Measured on the digits (helpers.data.digits(): 1079 training images; torch.manual_seed(s)
then VAE(64, 128, 2), train_vae's defaults: 100 epochs, Adam 1e-3, batch 128, about 0.9 s on one thread; seeds 0-2):
with the summed BCE the test set keeps 0.93-1.05 nats of KL per latent dimension and a 5-nearest-neighbour
classifier on mu (train -> test) gets 0.66-0.70 of the digits; with the averaged BCE the KL is below 1e-4 nats, mu
is nearly the same point for every digit (standard deviation about 0.005), 5-NN falls to 0.15-0.25 (chance 0.1),
and the decoder draws the mean digit (test BCE 27.3 nats per image; the mean training digit's is 27.2).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import whole_number

__all__ = ["VAE", "gaussian_kl", "negative_elbo", "reparameterize", "train_vae"]

RECONSTRUCTIONS = ("sum", "mean")


def _check_pair(mu: torch.Tensor, log_var: torch.Tensor, where: str) -> None:
    for name, t in (("mu", mu), ("log_var", log_var)):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point():
            raise TypeError(f"{where}: {name} must be a floating-point tensor, got "
                            f"{getattr(t, 'dtype', type(t).__name__)}; e.g. torch.tensor(..., dtype=torch.float64).")
    if mu.shape != log_var.shape:
        raise ValueError(f"{where}: mu and log_var must have the same shape (the encoder's two heads), got "
                         f"{tuple(mu.shape)} and {tuple(log_var.shape)}.")


def gaussian_kl(mu: torch.Tensor, log_var: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(log_var)) || N(0, 1) ) elementwise: mu, log_var (...) -> (...), the same shape.

        KL = 1/2 (exp(log_var) + mu^2 - 1 - log_var)

    log_var is the log of the VARIANCE sigma^2. Sum over the last dimension for a diagonal Gaussian. Equals
    ``torch.distributions.kl_divergence(Normal(mu, exp(log_var / 2)), Normal(0, 1))``.
    """
    _check_pair(mu, log_var, "gaussian_kl")
    return 0.5 * (log_var.exp() + mu**2 - 1 - log_var)


def _standard_normal(shape: torch.Size, like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """N(0, 1) draws of ``shape`` in like's dtype, on like's device. With a generator they are drawn on the
    generator's device and moved: a CPU generator gives the same numbers whatever device the model is on."""
    if generator is None:
        return torch.randn(shape, dtype=like.dtype, device=like.device)
    return torch.randn(shape, generator=generator, dtype=like.dtype, device=generator.device).to(like.device)


def reparameterize(mu: torch.Tensor, log_var: torch.Tensor, eps: torch.Tensor | None = None,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A differentiable sample z ~ N(mu, exp(log_var)): mu, log_var (...) -> z (...).

        z = mu + exp(log_var / 2) * eps,   eps ~ N(0, 1)      (dz/dmu = 1, dz/dlog_var = 1/2 sigma eps)

    ``eps``: the noise, same shape as mu; None: drawn here with ``torch.randn`` from ``generator`` (the global
    generator if None, so after ``torch.manual_seed(s)`` the value equals ``Normal(mu, sigma).rsample()`` after the
    same seed). A generator on another device than mu draws there and the noise is moved to mu's device.
    """
    _check_pair(mu, log_var, "reparameterize")
    if eps is None:
        eps = _standard_normal(mu.shape, mu, generator)
    elif not isinstance(eps, torch.Tensor) or eps.shape != mu.shape:
        raise ValueError(f"reparameterize: eps must be a tensor of mu's shape {tuple(mu.shape)}, got "
                         f"{tuple(getattr(eps, 'shape', ()))}; or pass eps=None to draw it.")
    return mu + torch.exp(0.5 * log_var) * eps


def negative_elbo(x_hat: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor,
                  reconstruction: str = "sum", beta: float = 1.0) -> torch.Tensor:
    """The VAE's loss, the mean over the batch of -ELBO: x_hat, x (N, D) (or (N, ...)), mu, log_var (N, J) -> ().

        loss = 1/N sum_n [ sum_d BCE(x_hat_nd, x_nd) + beta sum_j gaussian_kl(mu_nj, log_var_nj) ]
        BCE(p, t) = -(t log p + (1 - t) log(1 - p))      (F.binary_cross_entropy: logs clamped at -100)

    x_hat: the decoder's pixel probabilities in [0, 1]; x: the data in [0, 1]. ``reconstruction="mean"`` averages
    the BCE over the D pixels instead of summing it: the classic bug that weights the KL D times more and
    collapses the posterior (see the module docstring). ``beta`` weights the KL (beta-VAE; 1 is the ELBO).
    """
    _check_pair(mu, log_var, "negative_elbo")
    if reconstruction not in RECONSTRUCTIONS:
        raise ValueError(f"negative_elbo: reconstruction must be 'sum' (the ELBO: BCE summed over pixels) or 'mean' "
                         f"(averaged over pixels, the posterior-collapse bug), got {reconstruction!r}.")
    if x_hat.shape != x.shape:
        raise ValueError(f"negative_elbo: x_hat and x must have the same shape, got {tuple(x_hat.shape)} and "
                         f"{tuple(x.shape)}; reshape the decoder's output, e.g. x_hat.reshape(x.shape).")
    if x.ndim < 2 or mu.ndim != 2 or len(mu) != len(x):
        raise ValueError(f"negative_elbo: expected x (N, D) and mu, log_var (N, J) with the same N, got x "
                         f"{tuple(x.shape)} and mu {tuple(mu.shape)}.")
    if not ((x >= 0) & (x <= 1)).all():  # nan fails too
        raise ValueError(f"negative_elbo: the binary cross-entropy needs x in [0, 1], got values from "
                         f"{x.min().item():g} to {x.max().item():g}; scale the data first (digits: pixels / 16).")
    if not ((x_hat >= 0) & (x_hat <= 1)).all():
        if torch.isnan(x_hat).any():
            raise FloatingPointError("negative_elbo: x_hat contains nan: the model's weights went non-finite; lower "
                                     "the learning rate (or look for nan in the inputs).")
        raise ValueError("negative_elbo: x_hat must be probabilities in [0, 1], the decoder's sigmoid output; for "
                         "logits pass torch.sigmoid(logits).")
    bce = F.binary_cross_entropy(x_hat, x, reduction="none").flatten(1)  # (N, D)
    recon = bce.sum(dim=1) if reconstruction == "sum" else bce.mean(dim=1)
    kl = gaussian_kl(mu, log_var).sum(dim=1)
    return (recon + beta * kl).mean()


class VAE(nn.Module):
    """A fully connected VAE: x (N, n_features) -> (mu, log_var) (N, latent) -> z -> x_hat (N, n_features).

        encoder:  h = relu(W_1 x + b_1)                 ``encoder`` = Sequential(Linear(n_features, hidden), ReLU)
                  mu = W_mu h + b_mu,  log_var = W_v h + b_v        ``to_mu``, ``to_log_var``: Linear(hidden, latent)
        sample:   z = mu + exp(log_var / 2) * eps                   ``reparameterize``
        decoder:  x_hat = sigmoid(W_3 relu(W_2 z + b_2) + b_3)   ``decoder`` = Sequential(Linear, ReLU, Linear, Sigmoid)

    x_hat holds Bernoulli probabilities, for ``negative_elbo``'s binary cross-entropy.
    """

    def __init__(self, n_features: int = 64, hidden: int = 128, latent: int = 2):
        super().__init__()
        for name, value in (("n_features", n_features), ("hidden", hidden), ("latent", latent)):
            whole_number(name, value)
        self.n_features, self.hidden, self.latent = n_features, hidden, latent
        self.encoder = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU())
        self.to_mu = nn.Linear(hidden, latent)
        self.to_log_var = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, n_features), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x)'s parameters: x (N, n_features) -> mu (N, latent), log_var (N, latent)."""
        if x.shape[-1] != self.n_features:
            raise ValueError(f"VAE: x has {x.shape[-1]} features in its last dimension, the model expects "
                             f"{self.n_features}: flatten images first, e.g. x.flatten(1).")
        h = self.encoder(x)
        return self.to_mu(h), self.to_log_var(h)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """p(x | z)'s pixel probabilities: z (N, latent) -> x_hat (N, n_features), in (0, 1)."""
        if z.shape[-1] != self.latent:
            raise ValueError(f"VAE: z has {z.shape[-1]} entries in its last dimension, the model's latent space has "
                             f"{self.latent}.")
        return self.decoder(z)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(x_hat, mu, log_var) with x_hat = decode(mu + sigma * eps), one fresh eps per row (from ``generator``),
        in training and in eval mode alike; for a deterministic reconstruction use decode(encode(x)[0])."""
        mu, log_var = self.encode(x)
        return self.decode(reparameterize(mu, log_var, generator=generator)), mu, log_var

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n new images: z ~ p(z) = N(0, I) (n, latent), decoded to (n, n_features) probabilities, without grad.
        The z are drawn on the generator's device (the model's if None) and moved to the model's."""
        whole_number("n", n)
        weight = self.to_mu.weight
        return self.decode(_standard_normal(torch.Size((n, self.latent)), weight, generator))


def train_vae(model: VAE, x: torch.Tensor, epochs: int = 100, lr: float = 1e-3, batch_size: int = 128,
              reconstruction: str = "sum", beta: float = 1.0, seed: int = 0, device: torch.device | str | None = None,
              progress: bool | None = None) -> list[float]:
    """Train ``model`` on x (N, n_features) in [0, 1] by Adam on ``negative_elbo``; returns each epoch's mean loss.

    Each epoch shuffles the rows and walks through them in minibatches of ``batch_size`` (the last one smaller);
    each step draws eps for the reparameterized z, computes negative_elbo(x_hat, x_b, mu, log_var,
    reconstruction, beta) and takes one Adam step (learning rate ``lr``). An epoch's loss is the mean over its
    rows (each batch's loss weighted by its size). The permutations and the eps come from one CPU
    ``torch.Generator`` seeded with ``seed``, so a run is reproducible and every device sees the same draws; seed
    the initial weights yourself (``torch.manual_seed``) before building the model. Like ``helpers.train.fit`` it
    trains on ``device`` (by default the best there is: cuda > mps > cpu) and puts the model back where it came from.
    """
    whole_number("epochs", epochs)
    whole_number("batch_size", batch_size)
    if reconstruction not in RECONSTRUCTIONS:
        raise ValueError(f"train_vae: reconstruction must be 'sum' (the ELBO) or 'mean' (the posterior-collapse "
                         f"bug), got {reconstruction!r}.")
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != model.n_features:
        raise ValueError(f"train_vae: x must be (N, {model.n_features}), one flattened example per row, got "
                         f"{tuple(getattr(x, 'shape', ()))}; e.g. x.flatten(1).")
    if not ((x >= 0) & (x <= 1)).all():
        raise ValueError(f"train_vae: the binary cross-entropy needs x in [0, 1], got values from {x.min().item():g} "
                         f"to {x.max().item():g}; scale the data first (digits: pixels / 16).")
    from tqdm.auto import tqdm

    from helpers.train import show_progress, to_training_device

    device, home = to_training_device(model, device)
    x = x.cpu()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for epoch in tqdm(range(epochs), desc="epochs", disable=not show_progress(progress)):
        total = 0.0
        for rows in torch.randperm(len(x), generator=generator).split(batch_size):
            x_batch = x[rows].to(device)
            x_hat, mu, log_var = model(x_batch, generator=generator)
            try:
                value = negative_elbo(x_hat, x_batch, mu, log_var, reconstruction, beta)
            except FloatingPointError:
                value = torch.tensor(math.nan)
            if not torch.isfinite(value):
                model.to(home)
                raise FloatingPointError(f"train_vae: the loss became {value.item()} in epoch {epoch}: lower lr.")
            optimizer.zero_grad()
            value.backward()
            optimizer.step()
            total += value.item() * len(rows)
        losses.append(total / len(x))
    model.to(home)
    return losses
