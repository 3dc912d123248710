"""One house style for every figure in the book, and the plots the chapters share."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"]

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.autolayout": True,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "image.cmap": "viridis",
}


def use_style() -> None:
    """Apply the book's matplotlib style (called on import; call again after plt.style changes)."""
    matplotlib.rcParams.update(STYLE)


use_style()


def _numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def learning_curves(history, title: str = "Learning curves", ax: plt.Axes | None = None) -> plt.Figure:
    """Training and validation loss per epoch from a ``helpers.train.History``; marks the best epoch."""
    if ax is None:
        _, ax = plt.subplots()
    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.train_loss, label="training loss")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, label="validation loss")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch + 1, color="grey", linestyle="--", linewidth=1, label="best validation epoch")
    ax.set(xlabel="epoch", ylabel="loss (mean per example)", title=title)
    ax.legend()
    return ax.figure


def function_plot(
    curves: dict[str, tuple],
    points: dict[str, tuple] | None = None,
    title: str = "",
    xlabel: str = "x",
    ylabel: str = "y",
    ylim: tuple[float, float] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """Plot named curves {label: (x, y)} as lines and named data {label: (x, y)} as dots."""
    if ax is None:
        _, ax = plt.subplots()
    for label, (x, y) in curves.items():
        order = np.argsort(_numpy(x))
        ax.plot(_numpy(x)[order], _numpy(y)[order], label=label)
    for label, (x, y) in (points or {}).items():
        ax.scatter(_numpy(x), _numpy(y), s=18, color="black", alpha=0.7, label=label, zorder=3)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.legend()
    return ax.figure


def image_grid(
    images: torch.Tensor | np.ndarray,
    labels: Sequence | None = None,
    columns: int = 8,
    title: str = "",
    cmap: str = "gray_r",
) -> plt.Figure:
    """Show images (N, H, W) or (N, 1, H, W) in a grid, each titled with its label."""
    images = _numpy(images)
    if images.ndim == 4:
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(f"image_grid expects (N, H, W) or (N, 1, H, W), got shape {images.shape}.")
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.1 * columns, 1.25 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=9)
    if title:
        fig.suptitle(title)
    return fig
