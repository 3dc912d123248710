"""Figures of chapter 6's second half: trained CNNs (filters, feature maps, saliency, shifted digits, transfer).

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.plot import PALETTE, _numpy

__all__: list[str] = [
    "class_images",
    "dream_figure",
    "feature_map_grid",
    "filter_frame",
    "filter_grid",
    "parameter_bars",
    "saliency_grid",
    "shift_accuracy",
    "transfer_comparison",
]


def _images(values, name: str) -> np.ndarray:
    """(N, H, W) or (N, 1, H, W) -> (N, H, W) as NumPy; anything else is an error that names the argument."""
    array = _numpy(values)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"{name} must be gray images (N, H, W) or (N, 1, H, W), got shape {array.shape}.")
    return array


def _one_image(value, name: str) -> np.ndarray:
    """One gray image given as (H, W), (1, H, W) or (1, 1, H, W) -> (H, W)."""
    array = _numpy(value)
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 2:
        raise ValueError(f"{name} must be one gray image, (H, W), (1, H, W) or (1, 1, H, W): got {array.shape}.")
    return array


def _bare(ax: plt.Axes) -> None:
    """An image panel: no ticks, no grid, no spines."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)


def _symmetric(ax: plt.Axes, image: np.ndarray, limit: float, numbers: bool = False) -> None:
    """Show one image on a blue (negative) / white (0) / red (positive) scale from -limit to limit."""
    ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
    if numbers:
        for (i, j), value in np.ndenumerate(image):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7)
    _bare(ax)


def shift_accuracy(
    shifts: Sequence[int],
    horizontal: dict[str, Sequence[float]],
    vertical: dict[str, Sequence[float]] | None = None,
    title: str = "Test accuracy on shifted digits",
    chance: float = 0.1,
) -> plt.Figure:
    """Accuracy against the shift in pixels, one line per model; a second panel for vertical shifts if given.

    shifts: the shifts (0 included), horizontal/vertical: model name -> one accuracy (a fraction) per shift.
    The legend gives each model's accuracy unshifted and one pixel to the right (down, in the second panel); a
    dotted line marks the accuracy of guessing, ``chance``.
    """
    shifts = [int(s) for s in shifts]
    if 0 not in shifts or 1 not in shifts:
        raise ValueError(f"shifts must include 0 and 1 (the legend quotes both), got {shifts}.")
    panels_data = {"horizontal shift (pixels, + = right)": horizontal}
    if vertical is not None:
        panels_data["vertical shift (pixels, + = down)"] = vertical
    fig, axes = plt.subplots(1, len(panels_data), figsize=(5.2 * len(panels_data), 3.8), squeeze=False)
    for ax, (xlabel, curves) in zip(axes[0], panels_data.items()):
        for color, (name, values) in zip(PALETTE, curves.items()):
            values = [float(v) for v in values]
            if len(values) != len(shifts):
                raise ValueError(f"{name!r} has {len(values)} accuracies for {len(shifts)} shifts.")
            label = f"{name}: {values[shifts.index(0)]:.1%} unshifted, {values[shifts.index(1)]:.1%} at +1"
            ax.plot(shifts, values, "o-", color=color, label=label)
        ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label=f"chance ({chance:.0%})")
        ax.set(xlabel=xlabel, ylabel="test accuracy", ylim=(0, 1.02), xticks=shifts)
        ax.legend(loc="lower center", fontsize=8)
    fig.suptitle(title)
    return fig


def filter_grid(weight: torch.Tensor, title: str = "First-layer filters", numbers: bool = True) -> plt.Figure:
    """The kernels of a convolution with one input channel, weight: (C_out, 1, k, k), on one shared colour scale.

    Blue is negative, red positive; each panel is titled with the filter's index (and shows its numbers).
    """
    kernels = _numpy(weight)
    if kernels.ndim != 4 or kernels.shape[1] != 1:
        raise ValueError(f"weight must be (C_out, 1, k, k) (a first layer on gray images), got {kernels.shape}.")
    kernels = kernels[:, 0]
    columns = min(8, len(kernels))
    rows = int(np.ceil(len(kernels) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns, 1.45 * rows + 0.5), squeeze=False)
    limit = float(np.abs(kernels).max()) or 1.0
    for i, ax in enumerate(axes.flat):
        if i < len(kernels):
            _symmetric(ax, kernels[i], limit, numbers)
            ax.set_title(f"filter {i}", fontsize=9)
        else:
            ax.axis("off")
    fig.suptitle(f"{title} (blue < 0 < red, |w| up to {limit:.2f})")
    return fig


def feature_map_grid(
    images: torch.Tensor, maps: torch.Tensor, channels: Sequence[int] | None = None, title: str = "Feature maps"
) -> plt.Figure:
    """One row per image: the image, then its feature maps, maps: (N, C, h, w); ``channels`` picks columns."""
    pictures = _images(images, "images")
    activations = _numpy(maps)
    if activations.ndim != 4 or len(activations) != len(pictures):
        raise ValueError(f"maps must be (N, C, h, w) with N = {len(pictures)} images, got {activations.shape}.")
    channels = list(range(activations.shape[1])) if channels is None else list(channels)
    columns = 1 + len(channels)
    fig, axes = plt.subplots(len(pictures), columns, figsize=(1.05 * columns, 1.1 * len(pictures) + 0.5),
                             squeeze=False)
    top = float(activations[:, channels].max()) or 1.0
    for n, row in enumerate(axes):
        row[0].imshow(pictures[n], cmap="gray_r")
        for ax, c in zip(row[1:], channels):
            ax.imshow(activations[n, c], cmap="magma", vmin=min(0.0, float(activations.min())), vmax=top)
        for ax in row:
            _bare(ax)
    axes[0, 0].set_title("input", fontsize=9)
    for ax, c in zip(axes[0, 1:], channels):
        ax.set_title(f"map {c}", fontsize=9)
    fig.suptitle(title)
    return fig


def filter_frame(weight: torch.Tensor, images: torch.Tensor, maps: torch.Tensor, index: int) -> plt.Figure:
    """An explorer frame: filter ``index`` of weight (C_out, 1, k, k), and its feature maps on each image.

    images: (N, 1, H, W), maps: (N, C_out, h, w). Fixed layout, fixed colour scales, so frames line up.
    """
    kernels, pictures, activations = _numpy(weight), _images(images, "images"), _numpy(maps)
    if not 0 <= index < len(kernels):
        raise ValueError(f"index must be in [0, {len(kernels)}), got {index}.")
    if activations.ndim != 4 or len(activations) != len(pictures) or activations.shape[1] != len(kernels):
        raise ValueError(f"maps must be (N, C_out, h, w) with N = {len(pictures)} and C_out = {len(kernels)}, "
                         f"got {activations.shape}.")
    n = len(pictures)
    fig = plt.figure(figsize=(2.2 + 1.5 * n, 3.4), layout="none")
    grid = fig.add_gridspec(2, n + 1, left=0.02, right=0.98, bottom=0.04, top=0.8, wspace=0.15, hspace=0.3,
                            width_ratios=[1.5] + [1] * n)
    kernel_ax = fig.add_subplot(grid[:, 0])
    _symmetric(kernel_ax, kernels[index, 0], float(np.abs(kernels).max()) or 1.0, numbers=True)
    kernel_ax.set_title(f"filter {index}", fontsize=10)
    top = float(activations.max()) or 1.0
    for i in range(n):
        image_ax, map_ax = fig.add_subplot(grid[0, i + 1]), fig.add_subplot(grid[1, i + 1])
        image_ax.imshow(pictures[i], cmap="gray_r")
        map_ax.imshow(activations[i, index], cmap="magma", vmin=0.0, vmax=top)
        map_ax.set_title(f"max {activations[i, index].max():.2f}", fontsize=8)
        _bare(image_ax)
        _bare(map_ax)
    fig.suptitle(f"Filter {index} (left) and its feature maps after ReLU (bottom row) on the digits above")
    return fig


def saliency_grid(
    images: torch.Tensor, maps: torch.Tensor, labels: Sequence | None = None, title: str = "Saliency maps"
) -> plt.Figure:
    """Images (top row) and their saliency maps (bottom row, each on its own scale from 0 to its maximum).

    The title says so: a map's colours compare its pixels with each other, not with another map's.
    """
    pictures, saliencies = _images(images, "images"), _images(maps, "maps")
    if pictures.shape != saliencies.shape:
        raise ValueError(f"images and maps must have the same shape, got {pictures.shape} and {saliencies.shape}.")
    n = len(pictures)
    fig, axes = plt.subplots(2, n, figsize=(1.3 * n, 3.2), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(pictures[i], cmap="gray_r")
        axes[1, i].imshow(saliencies[i], cmap="hot", vmin=0.0)
        if labels is not None:
            axes[0, i].set_title(str(labels[i]), fontsize=9)
        for ax in axes[:, i]:
            _bare(ax)
    axes[0, 0].set_ylabel("digit")
    axes[1, 0].set_ylabel("saliency")
    fig.suptitle(f"{title}\n(each map on its own colour scale, from 0 to its maximum)")
    return fig


def class_images(images: torch.Tensor, scores: Sequence[float], title: str = "Gradient ascent") -> plt.Figure:
    """One image per class, images: (K, 1, H, W) or (K, H, W), on one blue / white / red scale centred on 0.

    Each panel is titled with its class and its final score ``scores[k]``.
    """
    pictures = _images(images, "images")
    if len(scores) != len(pictures):
        raise ValueError(f"scores must have one value per image ({len(pictures)}), got {len(scores)}.")
    fig, axes = plt.subplots(1, len(pictures), figsize=(1.25 * len(pictures), 2.0), squeeze=False)
    limit = float(np.abs(pictures).max()) or 1.0
    for k, ax in enumerate(axes[0]):
        _symmetric(ax, pictures[k], limit)
        ax.set_title(f"class {k}\nscore {float(scores[k]):.0f}", fontsize=9)
    fig.suptitle(f"{title} (blue < 0 < red, |pixel| up to {limit:.2f})")
    return fig


def dream_figure(before: torch.Tensor, after: torch.Tensor, steps: Sequence[int], objective: Sequence[float],
                 title: str = "Deep dream") -> plt.Figure:
    """The image before and after deep dream on one shared scale, the change, and the objective per step.

    before, after: one image (1, 1, H, W), (1, H, W) or (H, W); objective: 1/2 sum a^2 after each of ``steps``.
    """
    first, last = _one_image(before, "before"), _one_image(after, "after")
    if first.shape != last.shape:
        raise ValueError(f"before and after must have the same shape, got {first.shape} and {last.shape}.")
    if len(steps) != len(objective):
        raise ValueError(f"steps and objective must have the same length, got {len(steps)} and {len(objective)}.")
    fig, axes = plt.subplots(1, 4, figsize=(11.5, 3.2), gridspec_kw={"width_ratios": [1, 1, 1, 1.7]})
    low, high = min(first.min(), last.min()), max(first.max(), last.max())
    for ax, image, name in ((axes[0], first, "before"), (axes[1], last, "after (same scale)")):
        ax.imshow(image, cmap="gray_r", vmin=low, vmax=high)
        ax.set_title(name, fontsize=10)
        _bare(ax)
    _symmetric(axes[2], last - first, float(np.abs(last - first).max()) or 1.0)
    axes[2].set_title("change (red: more ink)", fontsize=10)
    axes[3].plot(list(steps), [float(v) for v in objective], "o-")
    axes[3].set(xlabel="deep-dream steps", ylabel="objective 1/2 sum a^2",
                title=f"objective {float(objective[0]):.4g} -> {float(objective[-1]):.4g}")
    fig.suptitle(title)
    return fig


def transfer_comparison(sizes: Sequence[int], results: dict[str, torch.Tensor],
                        title: str = "Digits 5-9 from a few labelled examples") -> plt.Figure:
    """Test accuracy for each training-set size and method: every seed (small dots) and the mean (large dot).

    results: method name -> accuracies of shape (len(sizes), seeds). Sizes are evenly spaced groups on the x
    axis, methods side by side within a group; a line joins each method's means.
    """
    sizes = [int(s) for s in sizes]
    fig, ax = plt.subplots(figsize=(7.0, 4.2))
    width = 0.7 / max(len(results), 1)
    for i, (color, (name, values)) in enumerate(zip(PALETTE, results.items())):
        values = _numpy(values)
        if values.ndim != 2 or values.shape[0] != len(sizes):
            raise ValueError(f"results[{name!r}] must have shape ({len(sizes)}, seeds), got {values.shape}.")
        x = np.arange(len(sizes)) + width * (i - (len(results) - 1) / 2)
        ax.plot(x, values.mean(axis=1), "o-", color=color, markersize=7, label=name)
        ax.scatter(np.repeat(x, values.shape[1]), values.ravel(), s=10, color=color, alpha=0.45)
    lowest = min(float(_numpy(values).min()) for values in results.values())
    ax.set(xticks=range(len(sizes)), xticklabels=[str(s) for s in sizes], ylim=(max(0.0, lowest - 0.05), 1.01),
           xlabel="labelled training examples per class", ylabel="test accuracy on the new classes", title=title)
    ax.legend(loc="lower right")
    return fig


def parameter_bars(counts: dict[str, int], title: str = "Parameters per network") -> plt.Figure:
    """Horizontal bars on a log scale, one per named network, each labelled with its count."""
    if not counts or min(counts.values()) < 1:
        raise ValueError("counts must map each name to a positive number of parameters.")
    names, values = list(counts), [int(v) for v in counts.values()]
    fig, ax = plt.subplots(figsize=(6.8, 0.45 * len(names) + 1.2))
    ax.barh(names, values, color=PALETTE[0])
    for y, value in enumerate(values):
        ax.text(value * 1.15, y, f"{value:,}", va="center", fontsize=9)
    ax.set(xscale="log", xlim=(min(values) / 2, max(values) * 30), xlabel="trainable parameters (log scale)",
           title=title)
    ax.invert_yaxis()
    return fig
