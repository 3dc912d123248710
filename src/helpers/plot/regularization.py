"""Figures of chapter 5 (regularization): learning curves of several runs, weight paths, the constraint picture,
paired runs over seeds, decision regions, search trials, and the frames of its two explorers."""

from __future__ import annotations

from collections.abc import Callable

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.plot import PALETTE, _numpy, panels


def train_held_curves(runs: dict[str, dict], title: str = "", accuracy: bool = True) -> plt.Figure:
    """Loss (and accuracy) on the training and held-out sets against the epoch, for one or more runs.

    runs: name -> {"epoch": [...], "train_loss": [...], "held_loss": [...], "train_acc": [...], "held_acc": [...]}.
    Each run has one colour; training curves are dashed, held-out curves solid. The first panel shows both losses
    on a log scale, the second the held-out loss alone on a linear scale (where a slow rise is visible).
    """
    columns = 3 if accuracy else 2
    fig, axes = plt.subplots(1, columns, figsize=(4.6 * columns, 3.8), squeeze=False)
    both, held, acc = axes[0, 0], axes[0, 1], axes[0, 2] if accuracy else None
    for color, (name, run) in zip(PALETTE, runs.items()):
        both.plot(run["epoch"], run["train_loss"], "--", color=color, label=f"{name}: training")
        both.plot(run["epoch"], run["held_loss"], color=color, label=f"{name}: held-out")
        held.plot(run["epoch"], run["held_loss"], color=color, label=name)
        if acc is not None:
            acc.plot(run["epoch"], run["train_acc"], "--", color=color, label=f"{name}: training")
            acc.plot(run["epoch"], run["held_acc"], color=color, label=f"{name}: held-out")
    both.set(xlabel="epoch", ylabel="cross-entropy (mean per image)", yscale="log", title="loss (log scale)")
    both.legend(fontsize=8)
    lowest = min(min(run["held_loss"]) for run in runs.values())
    held.set(xlabel="epoch", ylabel="cross-entropy (mean per image)", ylim=(0.8 * lowest, 2.0 * lowest),
             title="held-out loss (linear scale)")
    held.legend(fontsize=8)
    if acc is not None:
        acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0.5, 1.01), title="accuracy")
        acc.legend(loc="lower right", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def weight_paths(lambdas, paths: dict[str, torch.Tensor], true_weights=None) -> plt.Figure:
    """One panel per penalty: each weight (a row of the (p, k) path) against the penalty strength (log axis)."""
    fig, axes = plt.subplots(1, len(paths), figsize=(5.0 * len(paths), 3.8), sharey=True, squeeze=False)
    lambdas = _numpy(lambdas)
    for ax, (name, coefs) in zip(axes[0], paths.items()):
        for j, row in enumerate(_numpy(coefs)):
            ax.plot(lambdas, row, color=PALETTE[j % len(PALETTE)], label=f"$w_{j + 1}$")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set(xscale="log", xlabel="penalty strength λ", ylabel="weight", title=f"{name} weight path")
        if true_weights is not None:  # the true weights as open circles at the left edge
            ax.scatter(np.full(len(_numpy(true_weights)), lambdas[0]), _numpy(true_weights), facecolors="none",
                       edgecolors="black", zorder=3, label="true weights")
    axes[0, 0].legend(ncol=2, fontsize=8)
    return fig


def penalty_frame(weights, true_weights, lambdas, train_error, val_error, k: int, penalty: str) -> plt.Figure:
    """An explorer frame: the weights at one penalty strength, and the error curves with that strength marked."""
    fig, (left, right) = panels(2, figsize=(9.0, 3.4))
    positions = np.arange(1, len(_numpy(weights)) + 1)
    left.bar(positions, _numpy(weights), color=PALETTE[0], label="fitted")
    left.scatter(positions, _numpy(true_weights), facecolors="none", edgecolors="black", zorder=3, label="true")
    left.axhline(0.0, color="black", linewidth=0.8)
    zeros = int((_numpy(weights) == 0).sum())
    left.set(xlabel="feature j", ylabel="weight $w_j$", ylim=(-2.6, 3.6), xticks=positions,
             title=f"{penalty}, λ = {float(_numpy(lambdas)[k]):.3g}: {zeros} weight{'' if zeros == 1 else 's'} "
                   "exactly 0")
    left.legend(loc="upper right")
    lambdas = _numpy(lambdas)
    right.plot(lambdas, _numpy(train_error), "--", label="training")
    right.plot(lambdas, _numpy(val_error), label="validation")
    right.axvline(lambdas[k], color="grey", linewidth=1)
    right.set(xscale="log", yscale="log", ylim=(0.5, 20), xlabel="penalty strength λ", ylabel="mean squared error",
              title="error along the path")
    right.legend(loc="upper left")
    return fig


def constraint_picture(loss, center, radius: float, solutions: dict[str, torch.Tensor]) -> plt.Figure:
    """Contours of a 2-D loss with the L2 disk and the L1 diamond of the given radius and the constrained minima.

    loss: f(w: (..., 2)) -> (...); center: the unconstrained minimum (2,); solutions: name -> point (2,).
    """
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.6))
    grid = torch.linspace(-1.6, 3.0, 300, dtype=torch.float64)
    w1, w2 = torch.meshgrid(grid, grid, indexing="xy")
    values = loss(torch.stack([w1, w2], -1))
    angle = torch.linspace(0, 2 * np.pi, 401, dtype=torch.float64)
    circle = radius * torch.stack([angle.cos(), angle.sin()], -1)
    balls = {"L2 ball": circle, "L1 ball": circle / circle.abs().sum(-1, keepdim=True)}
    for ax, (name, boundary) in zip(axes, balls.items()):
        point = _numpy(solutions[name])
        levels = sorted({float(loss(solutions[name])), 0.25, 1.0, 2.0, 4.0, 8.0})
        ax.contour(_numpy(w1), _numpy(w2), _numpy(values), levels=levels, colors="grey", linewidths=1)
        ax.fill(*_numpy(boundary).T, color=PALETTE[0], alpha=0.25, label=f"{name}: ‖w‖ ≤ {radius:g}")
        ax.scatter(*_numpy(center), color="black", zorder=3, label="unconstrained minimum")
        ax.scatter(*point, color=PALETTE[1], zorder=4, s=50,
                   label=f"constrained minimum ({point[0]:.2f}, {point[1]:.2f})")
        ax.axhline(0, color="black", linewidth=0.6)
        ax.axvline(0, color="black", linewidth=0.6)
        ax.set(aspect="equal", xlabel="$w_1$", ylabel="$w_2$", title=name)
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle("Minimising a loss inside a ball: the contour that just touches it")
    return fig


def early_stopping_vs_ridge(steps, gd_path, ridge_path) -> plt.Figure:
    """Each weight along gradient descent (solid) and along ridge with alpha = 1/(lr * steps) (dotted)."""
    fig, ax = plt.subplots(figsize=(7.0, 4.0))
    steps = _numpy(steps)
    for j, (gd, ridge) in enumerate(zip(_numpy(gd_path), _numpy(ridge_path))):
        color = PALETTE[j % len(PALETTE)]
        ax.plot(steps, gd, color=color, label=f"$w_{j + 1}$" if j < 3 else None)
        ax.plot(steps, ridge, ":", color=color, linewidth=2.5)
    ax.plot([], [], color="grey", label="gradient descent after τ steps")
    ax.plot([], [], ":", color="grey", linewidth=2.5, label="ridge with α = 1/(ε τ)")
    ax.set(xscale="log", xlabel="steps τ (log scale)", ylabel="weight",
           title="Early stopping and L2: the two weight paths")
    ax.legend(fontsize=8, ncol=2)
    return fig


def paired_runs(results: dict[str, torch.Tensor], ylabel: str, title: str = "") -> plt.Figure:
    """Two conditions measured on the same seeds: one dot per seed and condition, a line joining each pair."""
    (name_a, a), (name_b, b) = results.items()
    a, b = _numpy(a), _numpy(b)
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    labels: dict[float, list[str]] = {}  # seeds that end at the same value share one label
    for seed, (va, vb) in enumerate(zip(a, b)):
        color = PALETTE[2] if vb > va else PALETTE[1] if vb < va else PALETTE[7]
        ax.plot([0, 1], [va, vb], color=color, alpha=0.7, linewidth=1.5, marker="o")
        labels.setdefault(round(float(vb), 6), []).append(str(seed))
    for value, seeds in labels.items():
        ax.annotate(f"seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)}", (1.03, value), fontsize=7,
                    va="center")
    ax.plot([0, 1], [a.mean(), b.mean()], color="black", linewidth=3, marker="s", label="mean")
    ax.set(xticks=[0, 1], xticklabels=[name_a, name_b], xlim=(-0.3, 1.4), ylabel=ylabel, title=title)
    ax.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=2))
    ax.legend(loc="lower left")
    return fig


def dropout_rate_frame(runs: dict[float, dict], p: float) -> plt.Figure:
    """An explorer frame: loss curves at drop probability p (and at 0 in grey), final accuracies against p."""
    fig, (left, right) = panels(2, figsize=(9.0, 3.4))
    colors = {0.0: PALETTE[7]}
    colors[p] = PALETTE[0]  # at p = 0 only one run is drawn
    for rate, color in colors.items():
        run = runs[rate]
        label = "no dropout" if rate == 0 else f"p = {rate:g}"
        left.plot(run["epoch"], run["train_loss"], "--", color=color, label=f"{label}: training")
        left.plot(run["epoch"], run["held_loss"], color=color, label=f"{label}: held-out")
    left.set(yscale="log", ylim=(3e-3, 3), xlabel="epoch", ylabel="cross-entropy", title=f"loss, p = {p:g}")
    left.legend(loc="lower left", fontsize=8)
    rates = sorted(runs)
    right.plot(rates, [runs[r]["train_acc"][-1] for r in rates], "--o", label="training")
    right.plot(rates, [runs[r]["held_acc"][-1] for r in rates], "-o", label="held-out")
    right.axvline(p, color="grey", linewidth=1)
    right.set(xlabel="drop probability p", ylabel="accuracy after training", ylim=(0.5, 1.02),
              title="final accuracy")
    right.legend(loc="lower left")
    return fig


def decision_regions(
    predict: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    ax: plt.Axes | None = None,
    title: str = "",
    sizes: torch.Tensor | None = None,
    limits: tuple[float, float] = (-1.0, 1.0),
    resolution: int = 200,
) -> plt.Figure:
    """Shade the plane by the class a two-class model predicts, and scatter the labelled points on top.

    predict: (M, 2) float64 points -> (M,) scores; class +1 (blue) where the score is > 0, class -1 (red)
    elsewhere, so the decision boundary is where the shading changes. x: (N, 2), y: (N,) labels in {-1, +1};
    sizes: (N,) marker areas, e.g. proportional to the examples' weights (default: all 12). The square
    ``limits`` x ``limits`` is evaluated on a resolution x resolution grid.
    """
    if ax is None:
        _, ax = plt.subplots()
    side = torch.linspace(limits[0], limits[1], resolution, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(side, side, indexing="xy"), dim=-1).reshape(-1, 2)
    positive = _numpy(predict(grid) > 0).reshape(resolution, resolution).astype(float)
    ax.contourf(_numpy(side), _numpy(side), positive, levels=[-0.5, 0.5, 1.5], colors=["#f6d5d5", "#d5e3f3"])
    x, y = _numpy(x), _numpy(y)
    sizes = np.full(len(x), 12.0) if sizes is None else _numpy(sizes)
    for label, color, marker in ((1, PALETTE[0], "o"), (-1, PALETTE[1], "s")):
        mine = y == label
        ax.scatter(x[mine, 0], x[mine, 1], s=sizes[mine], color=color, marker=marker, edgecolors="white",
                   linewidths=0.3, label=f"class {label:+d}")
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$", xlim=limits, ylim=limits, aspect="equal")
    ax.grid(False)
    return ax.figure


def search_trials(
    trials: dict[str, tuple],
    important: Callable[[torch.Tensor], torch.Tensor],
    unimportant: Callable[[torch.Tensor], torch.Tensor],
    title: str = "",
) -> plt.Figure:
    """The trials of hyperparameter searches over the unit square, one panel per search, with each axis's view.

    trials: {name: (x, y)}, the settings one search tried, x the important hyperparameter and y the unimportant
    one, each (n,) in [0, 1]. Above each square: the objective as a function of x alone, important(x), with the
    trials' x values marked on it; to its right: unimportant(y), with the trials' y values. These are the
    projections of the trials onto the two axes, and the title counts the distinct x values among them.
    important, unimportant: (M,) float64 -> (M,).
    """
    fig = plt.figure(figsize=(4.8 * len(trials), 4.8), layout="constrained")
    outer = fig.add_gridspec(1, len(trials), wspace=0.08)
    curve = torch.linspace(0, 1, 401, dtype=torch.float64)
    for k, (name, (xs, ys)) in enumerate(trials.items()):
        xs, ys = torch.as_tensor(xs, dtype=torch.float64), torch.as_tensor(ys, dtype=torch.float64)
        inner = outer[k].subgridspec(2, 2, height_ratios=(1, 2.6), width_ratios=(2.6, 1))
        square = fig.add_subplot(inner[1, 0])
        top = fig.add_subplot(inner[0, 0], sharex=square)
        side = fig.add_subplot(inner[1, 1], sharey=square)
        square.scatter(_numpy(xs), _numpy(ys), s=40, color=PALETTE[0], zorder=3)
        square.set(xlim=(0, 1), ylim=(0, 1), xlabel="x: important hyperparameter", ylabel="y: unimportant")
        top.plot(_numpy(curve), _numpy(important(curve)), color="grey", linewidth=1.5)
        top.scatter(_numpy(xs), _numpy(important(xs)), s=30, color=PALETTE[1], zorder=3)
        top.set_title(f"{name}: {len(xs)} trials, {len(set(xs.tolist()))} distinct x", fontsize=11)
        top.set_ylabel("objective")
        top.tick_params(labelbottom=False)
        side.plot(_numpy(unimportant(curve)), _numpy(curve), color="grey", linewidth=1.5)
        side.scatter(_numpy(unimportant(ys)), _numpy(ys), s=30, color=PALETTE[1], zorder=3)
        side.set(xlabel="objective", xlim=top.get_ylim())  # the same scale as the important axis
        side.tick_params(labelleft=False)
    if title:
        fig.suptitle(title)
    return fig
