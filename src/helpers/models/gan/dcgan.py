"""A small DCGAN for the 8x8 digits, and its conditional version (Radford et al., 2016; Mirza and Osindero, 2014).

The generator upsamples with transposed convolutions; the discriminator is an ordinary strided CNN (not the other
way round). Images live in [-1, 1], the range of G's tanh: scale the digits with x * 2 - 1. With c = channels:

    Generator      z (N, latent) [+ one-hot label (N, K)]
                   -> Linear -> BatchNorm1d -> ReLU -> reshape        (N, c, 2, 2)
                   -> ConvTranspose2d(c, c/2, 4, stride 2, padding 1) -> BatchNorm2d -> ReLU   (N, c/2, 4, 4)
                   -> ConvTranspose2d(c/2, 1, 4, stride 2, padding 1) -> tanh                 (N, 1, 8, 8)
    Discriminator  x (N, 1, 8, 8) [+ K label planes, one-hot, (N, K, 8, 8)]
                   -> Conv2d(1 [+ K], c, 4, stride 2, padding 1) -> LeakyReLU(0.2)            (N, c, 4, 4)
                   -> Conv2d(c, 2c, 4, stride 2, padding 1) -> LeakyReLU(0.2)                 (N, 2c, 2, 2)
                   -> flatten -> Linear(8c, 1)                                                (N,) logits

A transposed convolution with kernel 4, stride 2 and padding 1 doubles the size: (H - 1) 2 - 2 + 4 = 2H; the
convolution with the same settings halves it. The discriminator returns logits (no sigmoid): the losses of
``helpers.models.gan.losses`` take logits. With ``n_classes`` = K > 0 both networks are conditional: G reads the
label as a one-hot vector next to z, D as K constant planes next to the image (plane y all ones), so D judges
"is this a real image OF CLASS y", and G must draw the digit it is asked for.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from helpers._checks import whole_number

__all__ = ["Discriminator", "Generator"]

IMAGE_SIZE = 8


def _one_hot(labels: torch.Tensor | None, n: int, n_classes: int, where: str) -> torch.Tensor | None:
    """labels (n,) integers in [0, n_classes) -> (n, n_classes) one-hot floats; None for an unconditional model."""
    if n_classes == 0:
        if labels is not None:
            raise ValueError(f"{where} was built with n_classes=0 (unconditional) and takes no labels; build it with "
                             "n_classes=10 for a conditional GAN.")
        return None
    if labels is None:
        raise ValueError(f"{where} is conditional (n_classes={n_classes}): pass labels, (N,) integers in "
                         f"[0, {n_classes}).")
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"{where}: labels must be an integer tensor (N,), e.g. torch.tensor([3, 1, 4]), got "
                        f"{labels.dtype if isinstance(labels, torch.Tensor) else type(labels).__name__}.")
    if labels.shape != (n,):
        raise ValueError(f"{where}: labels must be (N,) = ({n},), one label per sample, got {tuple(labels.shape)}.")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"{where}: labels must lie in [0, {n_classes}), got values from {int(labels.min())} to "
                         f"{int(labels.max())}.")
    return F.one_hot(labels.long(), n_classes)


def _check_sizes(latent: int, channels: int, n_classes: int) -> None:
    whole_number("latent", latent)
    whole_number("channels", channels, at_least=2)
    whole_number("n_classes", n_classes, at_least=0)
    if n_classes == 1:
        raise ValueError("n_classes must be 0 (unconditional) or at least 2 (one label per class), got 1.")


class Generator(nn.Module):
    """z (N, latent) [, labels (N,)] -> images (N, 1, 8, 8) in (-1, 1); the layers are in the module docstring.

    ``channels`` c: the width after the first (linear) layer, (N, c, 2, 2); c // 2 after the first transposed
    convolution. ``n_classes`` K > 0: conditional, ``forward(z, labels)`` with labels in [0, K).
    """

    def __init__(self, latent: int = 32, channels: int = 64, n_classes: int = 0):
        super().__init__()
        _check_sizes(latent, channels, n_classes)
        self.latent, self.channels, self.n_classes = latent, channels, n_classes
        self.project = nn.Sequential(nn.Linear(latent + n_classes, channels * 4), nn.BatchNorm1d(channels * 4),
                                     nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(channels, channels // 2, 4, stride=2, padding=1),
            nn.BatchNorm2d(channels // 2),
            nn.ReLU(),
            nn.ConvTranspose2d(channels // 2, 1, 4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """z: (N, latent) [, labels: (N,)] -> (N, 1, 8, 8)."""
        if not isinstance(z, torch.Tensor) or z.ndim != 2 or z.shape[1] != self.latent:
            shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
            raise ValueError(f"Generator: z must be (N, latent) = (N, {self.latent}), e.g. torch.randn(16, "
                             f"{self.latent}), got {shape}.")
        code = _one_hot(labels, len(z), self.n_classes, "Generator")
        if code is not None:
            z = torch.cat([z, code.to(z.device, z.dtype)], dim=1)
        h = self.project(z).reshape(-1, self.channels, 2, 2)
        return self.upsample(h)


class Discriminator(nn.Module):
    """x (N, 1, 8, 8) or (N, 64) [, labels (N,)] -> logits (N,); the layers are in the module docstring.

    ``channels`` c: the first convolution's width (2c for the second). ``n_classes`` K > 0: conditional,
    ``forward(x, labels)``. D(x) = sigmoid(logit) is the probability that x is a real image (of class label).
    """

    def __init__(self, channels: int = 32, n_classes: int = 0):
        super().__init__()
        _check_sizes(1, channels, n_classes)
        self.channels, self.n_classes = channels, n_classes
        self.features = nn.Sequential(
            nn.Conv2d(1 + n_classes, channels, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
        )
        self.classifier = nn.Linear(2 * channels * 4, 1)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """x: (N, 1, 8, 8) or (N, 64) [, labels: (N,)] -> logits (N,)."""
        if isinstance(x, torch.Tensor) and x.ndim == 2 and x.shape[1] == IMAGE_SIZE**2:
            x = x.reshape(-1, 1, IMAGE_SIZE, IMAGE_SIZE)
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (1, IMAGE_SIZE, IMAGE_SIZE):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"Discriminator reads 8x8 gray images: x must be (N, 1, 8, 8) or (N, 64), got {shape}.")
        code = _one_hot(labels, len(x), self.n_classes, "Discriminator")
        if code is not None:
            planes = code.to(x.device, x.dtype)[:, :, None, None].expand(-1, -1, IMAGE_SIZE, IMAGE_SIZE)
            x = torch.cat([x, planes], dim=1)
        return self.classifier(self.features(x).flatten(1)).squeeze(1)
