"""CycleGAN (Zhu et al. 2017): translation between two domains X and Y learned from UNPAIRED examples.

Two generators G: X -> Y and F: Y -> X, and two discriminators: D_Y tells real y from translated G(x), D_X real x
from F(y). Each expectation is over its own domain (x ~ p_data(x), y ~ p_data(y)). The objective::

    L_GAN(G, D_Y, X, Y) = E_y[log D_Y(y)] + E_x[log(1 - D_Y(G(x)))]        (and L_GAN(F, D_X, Y, X) likewise)
    L_cyc(G, F)         = E_x[||F(G(x)) - x||_1] + E_y[||G(F(y)) - y||_1]
    L(G, F, D_X, D_Y)   = L_GAN(G, D_Y, X, Y) + L_GAN(F, D_X, Y, X) + lambda L_cyc(G, F),   lambda = 10

G and F minimise L, D_X and D_Y maximise it. The adversarial terms alone only ask that G(x) LOOK like a y: any map
that sends X onto Y's distribution wins, including one that ignores x (all of X to a few y: mode collapse). The
cycle terms ask that F undo G and G undo F, so the translation must keep enough of x to get it back.

As the chapter teaches GANs, ``adversarial="log"`` (the default) uses the log loss from logits: each discriminator
minimises BCE(D(real), 1) + BCE(D(fake), 0) and each generator the non-saturating -log sigmoid(D(fake)) (the
functions of ``helpers.models.gan``). The PAPER uses least squares instead (LSGAN, Mao et al. 2017), which it
found more stable: ``adversarial="least_squares"``, the discriminator's output a raw score s::

    discriminator: E_y[(s(y) - 1)^2] + E_x[s(G(x))^2]            generator: E_x[(s(G(x)) - 1)^2]

The paper also halves each discriminator's loss (with Adam that changes almost nothing), keeps a buffer of 50
earlier fakes for the discriminators, and for some tasks adds an identity term ||G(y) - y||_1; none of that here.

The demo (``unpaired_digits``, ``train_cyclegan``): X = 8x8 digits, Y = OTHER digits inverted (1 - x) or drawn
thicker, so no x has its partner in Y; the true map T is known, and the held-out pairs (x, T(x)) of the 359 test
digits measure what was learned. Measured (``/work/ch10_builders/measure/H4_cyclegan.py``, one thread, ~0.9 s a run
of 300 steps): two ``ConvTranslator()``, two ``DomainDiscriminator()``, log loss, lambda 10, inverted digits, seeds
0-4: |G(x) - T(x)| = 0.046-0.060 per pixel, against 0.245-0.253 for a random pairing of the same outputs; cycle
losses 0.056-0.079. What else was measured (3 seeds each):

- without the cycle term (lambda 0) F ended drawing blank images in 2 of 3 seeds (its sigmoid saturated, the
  discriminator won and no gradient came back); the local convolution alone kept G close to T (0.06-0.11);
- with fully connected generators (``MLPTranslator``) the cycle term is met (0.14-0.16) but G(x) is no closer to
  T(x) than a random pairing (0.22-0.29 against 0.22-0.25): an invertible map onto Y that scrambles which digit
  goes where. Cycle consistency does not single out the true map; the convolution's locality does;
- fully connected generators without the cycle term send every x to ONE image (outputs' spread 1-3% of the data's);
- thicker digits: the log loss left F blank in 3 of 3 seeds; the paper's least squares worked in 3 of 3
  (|G(x) - T(x)| 0.072-0.077 against 0.236-0.240).
"""

from __future__ import annotations

import torch
import torch.nn.functional as functional  # F is the second generator's name here
from torch import nn

from helpers._checks import whole_number
from helpers.models.gan import discriminator_loss, generator_loss

__all__ = ["ADVERSARIAL", "ConvTranslator", "DomainDiscriminator", "MLPTranslator", "cycle_consistency_loss",
           "cyclegan_losses", "invert", "thicken", "train_cyclegan", "unpaired_digits"]

ADVERSARIAL = ("log", "least_squares")
TRANSFORMS = ("invert", "thicken")


def cycle_consistency_loss(x: torch.Tensor, x_cycled: torch.Tensor) -> torch.Tensor:
    """The mean absolute error between x and its round trip, mean |x_cycled - x| over every entry: any shape -> ().

    With x_cycled = F(G(x)) this is E_x ||F(G(x)) - x||_1 divided by the number of entries per example (the
    paper's L1 norm, averaged as ``F.l1_loss`` does); 0 exactly when the round trip gives x back.
    """
    if not isinstance(x, torch.Tensor) or not isinstance(x_cycled, torch.Tensor):
        raise TypeError("cycle_consistency_loss: x and x_cycled must be tensors, e.g. x and F(G(x)).")
    if x.shape != x_cycled.shape:
        raise ValueError(f"cycle_consistency_loss: x and x_cycled must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(x_cycled.shape)}: the round trip F(G(x)) must return x's shape.")
    return (x_cycled - x).abs().mean()


def _discriminator_term(real: torch.Tensor, fake: torch.Tensor, adversarial: str) -> torch.Tensor:
    if adversarial == "log":
        return discriminator_loss(real, fake)
    return ((real - 1) ** 2).mean() + (fake**2).mean()


def _generator_term(fake: torch.Tensor, adversarial: str) -> torch.Tensor:
    if adversarial == "log":
        return generator_loss(fake, saturating=False)
    return ((fake - 1) ** 2).mean()


def cyclegan_losses(G: nn.Module, F: nn.Module, D_X: nn.Module, D_Y: nn.Module, x: torch.Tensor, y: torch.Tensor,
                    cycle_weight: float = 10.0, adversarial: str = "log") -> dict[str, torch.Tensor]:
    """Every term of CycleGAN's objective on a batch x (N_x, ...) from X and y (N_y, ...) from Y; each 0-dim.

    Keys (``adversarial="log"``; "least_squares" puts the squared terms of the module docstring in their place):

        "adversarial_G"  -mean log sigmoid(D_Y(G(x)))          G's non-saturating generator loss
        "adversarial_F"  -mean log sigmoid(D_X(F(y)))          F's
        "cycle_x"        mean |F(G(x)) - x|                    ``cycle_consistency_loss``
        "cycle_y"        mean |G(F(y)) - y|
        "generators"     adversarial_G + adversarial_F + cycle_weight (cycle_x + cycle_y): what G and F minimise
        "D_Y"            BCE(D_Y(y), 1) + BCE(D_Y(G(x)), 0)    what D_Y minimises
        "D_X"            BCE(D_X(x), 1) + BCE(D_X(F(y)), 0)    what D_X minimises

    The discriminators' losses see the translations DETACHED (G(x).detach()), so they send no gradient to G or F.
    "generators" does reach the discriminators' parameters through D(G(x)): the paper's training (and
    ``train_cyclegan``) steps G and F on it with the discriminators left out (``backward(inputs=...)``).
    """
    if adversarial not in ADVERSARIAL:
        raise ValueError(f"cyclegan_losses: adversarial must be 'log' (the chapter's GAN loss) or 'least_squares' "
                         f"(the paper's), got {adversarial!r}.")
    if cycle_weight < 0:
        raise ValueError(f"cyclegan_losses: cycle_weight is lambda >= 0 (the paper's 10), got {cycle_weight}.")
    fake_y, fake_x = G(x), F(y)
    losses = {"adversarial_G": _generator_term(D_Y(fake_y), adversarial),
              "adversarial_F": _generator_term(D_X(fake_x), adversarial),
              "cycle_x": cycle_consistency_loss(x, F(fake_y)),
              "cycle_y": cycle_consistency_loss(y, G(fake_x))}
    losses["generators"] = (losses["adversarial_G"] + losses["adversarial_F"]
                            + cycle_weight * (losses["cycle_x"] + losses["cycle_y"]))
    losses["D_Y"] = _discriminator_term(D_Y(y), D_Y(fake_y.detach()), adversarial)
    losses["D_X"] = _discriminator_term(D_X(x), D_X(fake_x.detach()), adversarial)
    return losses


class ConvTranslator(nn.Module):
    """A small fully convolutional generator for 8x8 images: (N, 1, 8, 8) -> (N, 1, 8, 8) in (0, 1).

    conv k x k (1 -> channels) -> LeakyReLU(0.2) -> conv k x k (channels -> 1) -> sigmoid, 'same' padding. Each
    output pixel sees only a (2k - 1) x (2k - 1) patch around it: a local map, as the paper's ResNet generator is.
    """

    def __init__(self, channels: int = 8, kernel_size: int = 3):
        super().__init__()
        whole_number("channels", channels)
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"ConvTranslator: kernel_size must be odd (3, 5, ...) to keep 8x8, got {kernel_size!r}.")
        self.net = nn.Sequential(nn.Conv2d(1, channels, kernel_size, padding=kernel_size // 2), nn.LeakyReLU(0.2),
                                 nn.Conv2d(channels, 1, kernel_size, padding=kernel_size // 2), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPTranslator(nn.Module):
    """A fully connected generator: (N, 1, 8, 8) -> flatten -> Linear(64, hidden) -> LeakyReLU(0.2) ->
    Linear(hidden, 64) -> sigmoid -> (N, 1, 8, 8). Every output pixel sees the whole image: nothing in the
    architecture ties output pixel (i, j) to input pixel (i, j)."""

    def __init__(self, n_features: int = 64, hidden: int = 128):
        super().__init__()
        whole_number("n_features", n_features)
        whole_number("hidden", hidden)
        self.net = nn.Sequential(nn.Flatten(1), nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, n_features), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).reshape(x.shape)


class DomainDiscriminator(nn.Module):
    """Real or translated? (N, 1, 8, 8) -> flatten -> Linear(64, hidden) -> LeakyReLU(0.2) -> Linear(hidden, 1) ->
    (N,) logits (raw scores s for the least-squares loss)."""

    def __init__(self, n_features: int = 64, hidden: int = 64):
        super().__init__()
        whole_number("n_features", n_features)
        whole_number("hidden", hidden)
        self.net = nn.Sequential(nn.Flatten(1), nn.Linear(n_features, hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def invert(images: torch.Tensor) -> torch.Tensor:
    """1 - images: white digits on black for pixels in [0, 1]. Any shape -> the same shape."""
    return 1 - images


def thicken(images: torch.Tensor) -> torch.Tensor:
    """Strokes one pixel thicker: each pixel becomes the max over itself and its right, lower and lower-right
    neighbours (a 2 x 2 max-pool at stride 1, zero-padded right and below). (N, 1, H, W) -> (N, 1, H, W)."""
    if images.ndim != 4:
        raise ValueError(f"thicken: images must be (N, 1, H, W), got shape {tuple(images.shape)}.")
    return functional.max_pool2d(functional.pad(images, (0, 1, 0, 1)), 2, stride=1)


def unpaired_digits(images: torch.Tensor, transform: str = "invert",
                    seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two unpaired domains from images (N, 1, H, W): shuffle with ``seed``, X = the first half as they are, Y = the
    second half transformed (``"invert"`` or ``"thicken"``). No image of X has its own transform in Y.
    Returns (x (ceil(N / 2), 1, H, W), y (floor(N / 2), 1, H, W))."""
    if transform not in TRANSFORMS:
        raise ValueError(f"unpaired_digits: transform must be 'invert' or 'thicken', got {transform!r}.")
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"unpaired_digits: images must be (N, 1, H, W) with N >= 2, got shape {tuple(images.shape)}; "
                         "use data.digits(images=True).")
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(seed))
    half = (len(images) + 1) // 2
    other = images[order[half:]]
    return images[order[:half]], invert(other) if transform == "invert" else thicken(other)


def train_cyclegan(G: nn.Module, F: nn.Module, D_X: nn.Module, D_Y: nn.Module, x: torch.Tensor, y: torch.Tensor,
                   steps: int = 300, lr: float = 3e-3, betas: tuple[float, float] = (0.5, 0.999),
                   batch_size: int = 32, cycle_weight: float = 10.0, adversarial: str = "log", seed: int = 0,
                   device: torch.device | str | None = None, progress: bool | None = None) -> dict[str, list[float]]:
    """Train a CycleGAN on unpaired x (N_x, ...) and y (N_y, ...); returns each step's losses (the keys of
    ``cyclegan_losses``, as floats).

    Each step draws batch_size rows of x and of y (with replacement, from one ``torch.Generator`` seeded with
    ``seed`` on the CPU), computes ``cyclegan_losses``, then

        1. one Adam step of G and F on "generators", its gradient taken w.r.t. G's and F's parameters only, so the
           generators' loss never trains the discriminators;
        2. one Adam step of D_X and D_Y on "D_X" + "D_Y" (the translations detached: no gradient to G and F).

    Adam with ``lr`` and ``betas`` (the DCGAN settings 0.5, 0.999 as the paper). Seed the models' initial weights
    yourself. Trains on ``device`` (None: cuda > mps > cpu) and puts the four models back where they came from.
    """
    whole_number("steps", steps)
    whole_number("batch_size", batch_size)
    from tqdm.auto import tqdm

    from helpers.train import show_progress, to_training_device

    device, home = to_training_device(G, device)
    for model in (F, D_X, D_Y):
        model.to(device)
    x, y = x.cpu(), y.cpu()
    generator = torch.Generator().manual_seed(seed)
    generators = [*G.parameters(), *F.parameters()]
    g_optimizer = torch.optim.Adam(generators, lr=lr, betas=betas)
    d_optimizer = torch.optim.Adam([*D_X.parameters(), *D_Y.parameters()], lr=lr, betas=betas)
    history: dict[str, list[float]] = {}
    for _ in tqdm(range(steps), desc="steps", disable=not show_progress(progress)):
        x_batch = x[torch.randint(len(x), (batch_size,), generator=generator)].to(device)
        y_batch = y[torch.randint(len(y), (batch_size,), generator=generator)].to(device)
        losses = cyclegan_losses(G, F, D_X, D_Y, x_batch, y_batch, cycle_weight, adversarial)
        g_optimizer.zero_grad()
        losses["generators"].backward(inputs=generators)
        g_optimizer.step()
        d_optimizer.zero_grad()
        (losses["D_X"] + losses["D_Y"]).backward()
        d_optimizer.step()
        for key, value in losses.items():
            history.setdefault(key, []).append(value.item())
    for model in (G, F, D_X, D_Y):
        model.to(home)
    return history
