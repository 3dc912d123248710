"""One house style for every figure in the book, and the plots the chapters share.

The figures of one chapter that no other chapter draws live in a module of their own (``regularization``), and
are re-exported here, so a notebook calls every figure as ``plot.<name>``.
"""

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


def panels(columns: int = 2, figsize: tuple[float, float] = (9.0, 3.4)) -> tuple[plt.Figure, list[plt.Axes]]:
    """A figure of ``columns`` side-by-side axes with fixed margins.

    Explorer frames use it: a fixed layout (no autolayout) keeps every frame the same size and the axes in
    the same place as a slider moves, and draws faster.
    """
    fig, axes = plt.subplots(1, columns, figsize=figsize, layout="none")
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.25)
    return fig, list(np.atleast_1d(axes))


def value_bars(ax: plt.Axes, values: dict[str, float], top: float, colors: Sequence[str] | None = None,
               fmt: str = "{:.3f}") -> None:
    """One labelled bar per named value, the value written above it, on a fixed scale from 0 to ``top``.

    A bar taller than ``top`` is cut at ``top``, hatched, and its label says "off the scale", so that the
    scale stays the same in every frame of an explorer.
    """
    names, heights = list(values), [float(v) for v in values.values()]
    bars = ax.bar(names, [min(h, top) for h in heights], color=list(colors or PALETTE[: len(names)]))
    for bar, height in zip(bars, heights, strict=True):
        label = fmt.format(height)
        if height > top:
            bar.set_hatch("//")
            label += " (off the scale)"
        ax.text(bar.get_x() + bar.get_width() / 2, min(height, top) + 0.02 * top, label, ha="center", va="bottom",
                fontsize=9)
    ax.set_ylim(0, 1.15 * top)


def computation_graph(root, title: str = "Computation graph", show_grad: bool = True) -> plt.Figure:
    """Draw the graph of a ``helpers.nn.autograd.Value``: one box per node with its value and gradient.

    Nodes are placed in columns by their depth in the graph (inputs and constants on the left, in blue;
    operations in orange), each input just left of the first operation that uses it; an arrow goes from
    each node to every node that uses it, bent when it skips a column. With ``show_grad=False`` the boxes
    show the forward values only (before a backward pass, or to leave the gradients to the reader).
    """
    from helpers.nn import autograd

    nodes, edges = autograd.graph(root)
    column: dict[int, int] = {}
    for node in nodes:  # a topological order: every node comes after its children
        column[id(node)] = 1 + max((column[id(child)] for child in node.children), default=-1)
    for node in nodes:
        users = [column[id(parent)] for child, parent in edges if child is node]
        if not node.children and users:
            column[id(node)] = min(users) - 1
    by_column: dict[int, list] = {}
    for node in nodes:
        by_column.setdefault(column[id(node)], []).append(node)
    position = {id(node): (c, k - (len(group) - 1) / 2)  # centre each column vertically
                for c, group in by_column.items() for k, node in enumerate(group)}
    fig, ax = plt.subplots(figsize=(12, 4.2))
    for child, parent in edges:
        long = column[id(parent)] - column[id(child)] > 1
        ax.annotate("", xy=position[id(parent)], xytext=position[id(child)],
                    arrowprops={"arrowstyle": "->", "color": "grey", "shrinkA": 24, "shrinkB": 24,
                                "connectionstyle": f"arc3,rad={-0.35 if long else 0.0}"})
    for node in nodes:
        name = f"{node.label} = {node.op}" if node.label and node.op else (node.label or node.op or f"{node.data:g}")
        color = "#dbe9f6" if not node.children else "#fde2c8"
        text = f"{name}\n{node.data:.4f}" + (f"\ngrad {node.grad:.4f}" if show_grad else "")
        ax.text(*position[id(node)], text, ha="center", va="center",
                fontsize=8, bbox={"boxstyle": "round", "facecolor": color, "edgecolor": "grey"})
    heights = [abs(y) for _, y in position.values()]
    ax.set(title=title, xlabel="depth in the graph (inputs and constants blue, operations orange)",
           xlim=(-0.6, max(column.values()) + 0.6), ylim=(-max(heights) - 0.6, max(heights) + 0.6))
    ax.set_yticks([])
    ax.grid(False)
    return fig


# the chapters' own figures, imported last: they build on the style and helpers above
from helpers.plot import attention, autoencoder, cnn, conv, recurrent  # noqa: E402,I001
from helpers.plot import autoregressive, domain, gan, translation, vae  # noqa: E402,I001  (chapter 10)
from helpers.plot import evaluation, hypothesis  # noqa: E402,I001  (chapter 11)
from helpers.plot.attention import *  # noqa: E402,F403  (chapter 8: names listed in attention.__all__)
from helpers.plot.autoencoder import *  # noqa: E402,F403  (chapter 9: names listed in autoencoder.__all__)
from helpers.plot.cnn import *  # noqa: E402,F403  (chapter 6: trained CNNs; names listed in cnn.__all__)
from helpers.plot.conv import *  # noqa: E402,F403  (chapter 6: the convolution; names listed in conv.__all__)
from helpers.plot.domain import *  # noqa: E402,F403  (chapter 10: names listed in domain.__all__)
from helpers.plot.gan import *  # noqa: E402,F403  (chapter 10: GANs; names listed in gan.__all__)
from helpers.plot.recurrent import *  # noqa: E402,F403  (chapter 7: names listed in recurrent.__all__)
from helpers.plot.regularization import (  # noqa: E402
    constraint_picture,
    decision_regions,
    dropout_rate_frame,
    early_stopping_vs_ridge,
    paired_runs,
    penalty_frame,
    search_trials,
    train_held_curves,
    weight_paths,
)
from helpers.plot.vae import *  # noqa: E402,F403  (chapter 10: names listed in vae.__all__)
from helpers.plot.autoregressive import *  # noqa: E402,F403  (chapter 10: names listed in autoregressive.__all__)
from helpers.plot.translation import *  # noqa: E402,F403  (chapter 10: names listed in translation.__all__)
from helpers.plot.evaluation import *  # noqa: E402,F403  (chapter 11: names listed in evaluation.__all__)
from helpers.plot.hypothesis import *  # noqa: E402,F403  (chapter 11: names listed in hypothesis.__all__)

__all__ = [
    "PALETTE", "STYLE", "computation_graph", "constraint_picture", "decision_regions", "dropout_rate_frame",
    "early_stopping_vs_ridge", "function_plot", "image_grid", "learning_curves", "paired_runs", "panels",
    "penalty_frame", "search_trials", "train_held_curves", "use_style", "value_bars", "weight_paths",
]
__all__ += cnn.__all__ + conv.__all__ + recurrent.__all__ + attention.__all__ + autoencoder.__all__
__all__ += vae.__all__ + gan.__all__ + domain.__all__ + translation.__all__ + autoregressive.__all__  # chapter 10
__all__ += evaluation.__all__ + hypothesis.__all__  # chapter 11
