"""Figures of chapter 10's variational autoencoder: the decoded latent grid, the encoder's means, the latent explorer's
frame, and samples from the prior.

A VAE decodes a latent point z to pixel probabilities x_hat = decode(z); its encoder maps x to q(z | x) = N(mu(x),
diag(sigma^2(x))). With a 2-D latent space, decoding a grid of z shows the whole space at once (``latent_grid``):
neighbouring points decode to similar digits because the KL term pulls every q(z | x) towards N(0, I), so the codes
fill one connected region instead of scattered islands. ``latent_scatter`` draws the means mu of a data set;
``latent_frame`` puts the digit decoded at one z beside that map; ``prior_samples`` decodes z ~ N(0, I), the same
z for every model, row by row.

Images are drawn with gray_r from 0 (white) to 1 (black), the tiles of a mosaic apart by a pale blue-grey gap, as in
chapter 9's figures (``helpers.plot.autoencoder``). Every name in ``__all__`` is re-exported by ``helpers.plot``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patheffects

from helpers.plot.autoencoder import (
    CLASS_CMAP,
    FRAME,
    IMAGE_CMAP,
    _array,
    _entries,
    _points,
    code_scatter,
    image_rows,
    mosaic,
)

__all__: list[str] = ["latent_frame", "latent_grid", "latent_scatter", "prior_samples"]


def _parameter(model) -> torch.Tensor:
    try:
        return next(model.parameters())
    except (AttributeError, StopIteration):
        raise TypeError(f"expected a model with parameters, a decode(z) method and a latent size (e.g. "
                        f"helpers.models.vae.VAE), got {type(model).__name__}.") from None


def _latent(name: str, model, needed: int | None = None) -> int:
    latent = getattr(model, "latent", None)
    if not isinstance(latent, int) or not hasattr(model, "decode"):
        raise TypeError(f"{name}: expected a VAE with .latent and .decode(z) (helpers.models.vae.VAE), got "
                        f"{type(model).__name__}.")
    if needed is not None and latent != needed:
        raise ValueError(f"{name} draws a {needed}-D latent space, this model's has latent={latent}: train a "
                         f"VAE(..., latent={needed}) for the picture (or look at its codes by other means, e.g. PCA).")
    return latent


def _shape(name: str, model, n_pixels: int, image_shape: Sequence[int] | None) -> tuple[int, int]:
    if image_shape is None:
        side = math.isqrt(n_pixels)
        if side * side != n_pixels:
            raise ValueError(f"{name}: the decoder gives {n_pixels} values, not a square image; pass "
                             f"image_shape=(h, w) with h * w = {n_pixels}.")
        return side, side
    h, w = (int(v) for v in image_shape)
    if h * w != n_pixels:
        raise ValueError(f"{name}: image_shape {tuple(image_shape)} has {h * w} pixels, the decoder gives {n_pixels}.")
    return h, w


def _decode(name: str, model, z: torch.Tensor, image_shape: Sequence[int] | None) -> np.ndarray:
    """model.decode(z) without grad, on the model's device and dtype: (n, latent) -> (n, h, w) float64."""
    weight = _parameter(model)
    with torch.no_grad():
        x_hat = model.decode(z.to(device=weight.device, dtype=weight.dtype))
    x_hat = _array(x_hat.cpu()).reshape(len(z), -1)
    return x_hat.reshape(len(z), *_shape(name, model, x_hat.shape[1], image_shape))


def _limits(name: str, limits: Sequence[float]) -> tuple[float, float]:
    low, high = (float(v) for v in limits)
    if not low < high:
        raise ValueError(f"{name}: limits must be (low, high) with low < high, got {tuple(limits)}.")
    return low, high


def latent_grid(model, limits: tuple[float, float] = (-3.0, 3.0), n: int = 15, title: str = "",
                image_shape: Sequence[int] | None = None) -> plt.Figure:
    """The digits a 2-D VAE decodes on an n x n grid of z, as one mosaic with its axes in z units.

    The grid's values along each axis are ``torch.linspace(low, high, n)``; the tile in column c and row r (from the
    top) is decode(z) at z = (value c, value n - 1 - r), so z_1 grows to the right and z_2 upwards, and each tile's
    centre sits at its z on the axes ("$z_1$", "$z_2$"). ``image_shape``: (h, w) of a decoded image (None: square).
    Raises ValueError for a model whose latent space is not 2-D.
    """
    _latent("latent_grid", model, needed=2)
    low, high = _limits("latent_grid", limits)
    if int(n) != n or n < 2:
        raise ValueError(f"latent_grid: n is the number of grid values per axis, at least 2, got {n!r}.")
    n = int(n)
    axis = torch.linspace(low, high, n, dtype=torch.float64)
    z = torch.stack([axis.repeat(n), axis.flip(0).repeat_interleave(n)], dim=1)  # row by row, top row = high z_2
    images = _decode("latent_grid", model, z, image_shape)
    h, w = images.shape[1:]
    step = (high - low) / (n - 1)  # one tile and its gap, in z units
    px, py = step / (w + 1), step / (h + 1)  # one pixel, in z units
    left, top = low - px * w / 2, high + py * h / 2  # so that tile centres land on the grid values
    extent = (left, left + px * (n * (w + 1) - 1), top - py * (n * (h + 1) - 1), top)
    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    ax.imshow(mosaic(images, n, n), cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, extent=extent, interpolation="nearest",
              aspect=px / py)
    ax.grid(False)
    ax.set(xlabel="$z_1$", ylabel="$z_2$", title=title)
    return fig


def _class_scatter(ax: plt.Axes, xy: np.ndarray, y: np.ndarray) -> None:
    """The points coloured by class (tab10), each class's digit written at its mean (white outline)."""
    ax.scatter(xy[:, 0], xy[:, 1], c=CLASS_CMAP(y % 10), s=8, alpha=0.6, linewidths=0)
    outline = [patheffects.withStroke(linewidth=3, foreground="white")]
    for c in np.unique(y):
        mean = xy[y == c].mean(axis=0)
        ax.text(mean[0], mean[1], str(c), ha="center", va="center", fontsize=14, fontweight="bold",
                color=CLASS_CMAP(c % 10), path_effects=outline, clip_on=True)


def _labels(name: str, labels) -> np.ndarray:
    y = _array(labels)
    if y.ndim != 1 or np.any(y != np.round(y)):
        raise ValueError(f"{name}: labels must be (N,) integer classes, got shape {y.shape}.")
    return y.astype(int)


def latent_scatter(codes: dict, labels, title: str = "", same_scale: bool = True) -> plt.Figure:
    """``plot.code_scatter`` for a VAE's means: one panel per entry of ``codes`` (panel title -> (N, 2) mu), points
    coloured by class, each digit at its class mean, axes "$\\mu_1$" and "$\\mu_2$". ``same_scale``: every panel
    shows the same square range (the largest |mu| over all panels, 5% margin), so a collapsed posterior (every mu
    near 0) looks collapsed instead of being zoomed in on."""
    fig = code_scatter(codes, labels, title=title)
    reach = max(np.abs(_array(c)).max() for c in codes.values()) * 1.05 or 1.0
    for ax in fig.axes:
        ax.set(xlabel="$\\mu_1$", ylabel="$\\mu_2$")
        if same_scale:
            ax.set(xlim=(-reach, reach), ylim=(-reach, reach), aspect="equal")
    return fig


def latent_frame(model, z1: float, z2: float, codes, labels, limits: tuple[float, float] = (-3.0, 3.0),
                 image_shape: Sequence[int] | None = None) -> plt.Figure:
    """The latent explorer's frame, a fixed layout. Left: the image decoded at z = (z1, z2); right: ``codes``
    (N, 2), the encoder's means of a data set, coloured by ``labels`` (N,) with each class's digit at its mean, on
    square axes from limits[0] to limits[1], and a black cross at (z1, z2)."""
    _latent("latent_frame", model, needed=2)
    low, high = _limits("latent_frame", limits)
    y = _labels("latent_frame", labels)
    xy = _points("latent_frame: codes (one code per label)", codes, len(y))
    image = _decode("latent_frame", model, torch.tensor([[float(z1), float(z2)]], dtype=torch.float64), image_shape)
    fig = plt.figure(figsize=(8.4, 4.2), layout="none")
    left = fig.add_axes((0.04, 0.12, 0.36, 0.72))
    left.imshow(image[0], cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    left.set(xticks=[], yticks=[])
    left.grid(False)
    for spine in left.spines.values():  # a thin frame: the white edges of a digit stay visible
        spine.set(visible=True, color=FRAME, linewidth=0.6)
    left.set_title(f"decoded at z = ({float(z1):.2f}, {float(z2):.2f})", fontsize=11)
    right = fig.add_axes((0.55, 0.12, 0.4, 0.8))
    _class_scatter(right, xy, y)
    right.plot([float(z1)], [float(z2)], marker="X", markersize=13, color="black", markeredgecolor="white",
               linestyle="none", zorder=5)
    right.set(xlim=(low, high), ylim=(low, high), aspect="equal", xlabel="$z_1$ (codes: $\\mu_1$)",
              ylabel="$z_2$ (codes: $\\mu_2$)")
    return fig


def prior_samples(models: dict, n: int = 12, seed: int = 0, title: str = "",
                  image_shape: Sequence[int] | None = None) -> plt.Figure:
    """New images from each model (label -> VAE), one row each: decode(z) for z ~ N(0, I), n of them, drawn from a
    CPU ``torch.Generator`` seeded with ``seed`` (``model.sample(n, generator)``), so models with the same latent
    size decode the same z. ``plot.image_rows`` draws the rows, framed."""
    if int(n) != n or n < 1:
        raise ValueError(f"prior_samples: n is the number of samples per model, at least 1, got {n!r}.")
    rows = {}
    for label, model in _entries("prior_samples", models, "VAE").items():
        _latent("prior_samples", model)
        x = model.sample(int(n), generator=torch.Generator().manual_seed(seed)).cpu()
        rows[str(label)] = _array(x).reshape(int(n), *_shape("prior_samples", model, x.shape[1], image_shape))
    return image_rows(rows, title=title, frame=True)
