"""Figures of chapter 10's domain adaptation: decision regions over the source and target domains, and the target
accuracy of several methods seed by seed.

``domain_regions`` shades the plane by the class each model predicts (a light colour per class) and draws the
labelled source points as filled dots and the target points as crosses, both coloured by their true class, so a
target cross on the other class's shade is a target point the model gets wrong. ``seed_accuracies`` shows one dot
per seed for each method and a dashed line at its mean: with a handful of seeds the spread matters as much as the
mean.

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import ListedColormap

from helpers.plot import PALETTE, _numpy

__all__: list[str] = ["domain_regions", "seed_accuracies"]

SHADES = ["#d5e3f3", "#f6d5d5", "#d8eed8", "#fde5cc", "#e6dcf0", "#e8dcd8", "#d3f0f3", "#e5e5e5"]  # PALETTE, light


def _labelled(name: str, data) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, 2), y (N,) integer classes) as NumPy, checked."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"domain_regions: {name} must be a pair (x, y) of points (N, 2) and their classes (N,).")
    x, y = (np.asarray(_numpy(v.detach() if isinstance(v, torch.Tensor) else v)) for v in data)
    if x.ndim != 2 or x.shape[1] != 2 or y.shape != (len(x),):
        raise ValueError(f"domain_regions: {name} must be x (N, 2) and y (N,), got shapes {x.shape} and {y.shape}.")
    return x.astype(np.float64), y.astype(int)


def _class_logits(model, x: torch.Tensor) -> torch.Tensor:
    """model(x), or its first output when it returns several (a DANN returns (class_logits, domain_logits))."""
    out = model(x)
    return out[0] if isinstance(out, tuple) else out


@torch.no_grad()
def _predicted(model, x: np.ndarray) -> np.ndarray:
    """The argmax of the model's class logits at the points x (M, 2), in the model's dtype and on its device."""
    parameter = next(model.parameters())
    return _numpy(_class_logits(model, torch.as_tensor(x, dtype=parameter.dtype, device=parameter.device))
                  .argmax(dim=-1)).astype(int)


def domain_regions(models: dict, source, target, title: str = "", resolution: int = 150) -> plt.Figure:
    """One panel per model (``models``: panel title -> a classifier of 2-D points, e.g. {"plain": m0, "DANN": m1}):
    the plane shaded by the predicted class on a resolution x resolution grid over all the points (a 10% margin),
    the ``source`` = (x (N, 2), y (N,)) points as filled dots and the ``target`` = (x, y) points as crosses, coloured
    by their true class. Each panel's title adds, on a second line, the model's source and target accuracy. A model
    returns class logits (M, K), or a tuple whose first item they are."""
    if int(resolution) != resolution or resolution < 2:
        raise ValueError(f"domain_regions: resolution must be a whole number >= 2, got {resolution!r}.")
    if not isinstance(models, dict) or not models:
        raise ValueError("domain_regions: pass a dict of name -> model, e.g. {'plain': plain, 'DANN': dann}.")
    (sx, sy), (tx, ty) = _labelled("source", source), _labelled("target", target)
    every = np.concatenate([sx, tx])
    low, high = every.min(axis=0), every.max(axis=0)
    margin = 0.1 * (high - low)
    xs = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    ys = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid = np.stack(np.meshgrid(xs, ys, indexing="xy"), axis=-1).reshape(-1, 2)  # row i: y = ys[i]
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    extent = (xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy)
    n_classes = int(max(sy.max(), ty.max())) + 1
    fig, axes = plt.subplots(1, len(models), figsize=(4.3 * len(models), 4.1), squeeze=False)
    for ax, (name, model) in zip(axes[0], models.items()):
        regions = _predicted(model, grid).reshape(resolution, resolution)
        k = max(n_classes, int(regions.max()) + 1)
        ax.imshow(regions, origin="lower", extent=extent, cmap=ListedColormap(SHADES[:k]), vmin=-0.5, vmax=k - 0.5,
                  interpolation="nearest", aspect="auto")  # pixel (i, j) centred on the grid point (xs[j], ys[i])
        for c in range(n_classes):
            color = PALETTE[c % len(PALETTE)]
            ax.scatter(sx[sy == c, 0], sx[sy == c, 1], s=14, color=color, marker="o", edgecolors="white",
                       linewidths=0.3, label=f"source, class {c}", zorder=3)
            ax.scatter(tx[ty == c, 0], tx[ty == c, 1], s=18, color=color, marker="x", linewidths=1.0,
                       label=f"target, class {c}", zorder=3)
        source_accuracy = float(np.mean(_predicted(model, sx) == sy))
        target_accuracy = float(np.mean(_predicted(model, tx) == ty))
        ax.set(title=f"{name}\nsource accuracy {source_accuracy:.2f}, target {target_accuracy:.2f}", xlabel="$x_1$",
               ylabel="$x_2$", xlim=extent[:2], ylim=extent[2:])
        ax.set_aspect("equal")
        ax.grid(False)
    axes[0][0].legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize=8, ncols=2)  # below the crowded axes
    if title:
        fig.suptitle(title)
    return fig


def seed_accuracies(table: dict, title: str = "", seeds: Sequence | None = None,
                    ylabel: str = "target accuracy") -> plt.Figure:
    """One dot per seed for each method (``table``: method -> one accuracy per seed, the same seeds in the same order)
    and a dashed line at each method's mean, named in the legend; the methods' dots sit side by side at each seed.
    ``seeds``: the seeds' tick labels (0, 1, ... by default)."""
    if not isinstance(table, dict) or not table:
        raise ValueError("seed_accuracies: pass a dict of method -> accuracies, e.g. {'plain': [...], 'DANN': [...]}.")
    values = {str(k): np.asarray(_numpy(v), dtype=np.float64) for k, v in table.items()}
    shapes = {k: v.shape for k, v in values.items()}
    if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 1 or not next(iter(shapes.values()))[0]:
        raise ValueError(f"seed_accuracies: every method needs one accuracy per seed (a flat list), the same number "
                         f"of seeds for each, got shapes {shapes}.")
    n = len(next(iter(values.values())))
    seeds = list(range(n)) if seeds is None else list(seeds)
    if len(seeds) != n:
        raise ValueError(f"seed_accuracies: {len(seeds)} seed labels for {n} accuracies per method.")
    fig, ax = plt.subplots(figsize=(max(4.5, 0.8 * n + 2.5), 3.6))
    width = 0.6 / len(values)
    for j, (method, v) in enumerate(values.items()):
        color = PALETTE[j % len(PALETTE)]
        offset = (j - (len(values) - 1) / 2) * width
        ax.plot(np.arange(n) + offset, v, linestyle="none", marker="o", markersize=7, color=color, label=method)
        ax.axhline(v.mean(), color=color, linestyle="--", linewidth=1.2, label=f"{method}: mean {v.mean():.3f}")
    lowest = min(float(v.min()) for v in values.values())
    ax.set_xticks(np.arange(n), [str(s) for s in seeds])
    ax.set(xlabel="seed", ylabel=ylabel, title=title, ylim=(min(0.5, lowest - 0.05), 1.02), xlim=(-0.6, n - 0.4))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig
