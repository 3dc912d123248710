"""Figures of chapter 9 (autoencoders, self-organizing maps, restricted Boltzmann machines): rows of images and
their reconstructions, sparse codes, the denoising explorer's frame, a reconstruction field, 2-D codes, anomaly
scores, and the prototypes of a self-organizing map.

An autoencoder maps x to a code h = f(x) and back to r(x) = g(f(x)); the figures' reconstruction error is the mean
squared error (1/D) ||x - r(x)||^2 over the D pixels. A denoising autoencoder learns r(x~) ~ x from corrupted x~,
so r(x) - x points from x towards the data (for small Gaussian noise it is proportional to the score d log p / dx).
A self-organizing map has rows x cols units with prototypes w_j; unit j = r * cols + c sits at (r, c) of the grid,
so a map of image prototypes is drawn as one mosaic of tiles; its quantization error is mean_x min_j ||x - w_j||.

Images are drawn with gray_r on a fixed scale (0 white, 1 black); the gaps between the tiles of a mosaic are NaN,
drawn in a pale blue-grey (the colour map's "bad" colour, no grey of an image) so that white-edged tiles stay apart.

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.patches import Rectangle

from helpers.plot import PALETTE, _numpy

__all__: list[str] = ["code_maps", "code_scatter", "denoising_frame", "image_rows", "mosaic", "reconstruction_field",
                      "score_histograms", "som_frame", "som_map"]

GAP = "#e2eaf2"  # the NaN gaps between the tiles of a mosaic
FRAME = "#9a9a9a"  # the thin border of a framed tile (image_rows(frame=True))
IMAGE_CMAP = plt.get_cmap("gray_r").with_extremes(bad=GAP)
CLASS_CMAP = plt.get_cmap("tab10")


def _array(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().double()  # bfloat16 and half have no NumPy twin
    return np.asarray(_numpy(values), dtype=np.float64)


def _images(name: str, images) -> np.ndarray:
    """(n, h, w), or (n, 1, h, w) with the channel dropped, as float64."""
    x = _array(images)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 3 or len(x) == 0:
        raise ValueError(f"{name}: images must be a non-empty (n, h, w) stack (or (n, 1, h, w)), got shape {x.shape}. "
                         "Reshape flat images first, e.g. x.reshape(-1, 8, 8).")
    return x


def _entries(name: str, entries, what: str) -> dict:
    if not isinstance(entries, dict):
        raise TypeError(f"{name}: pass a dict of label -> {what}, e.g. {{'test digits': x}}, got "
                        f"{type(entries).__name__}.")
    if not entries:
        raise ValueError(f"{name}: give at least one label -> {what}.")
    return entries


def _points(name: str, points, n: int | None = None) -> np.ndarray:
    xy = _array(points)
    if xy.ndim != 2 or xy.shape[1] != 2 or (n is not None and len(xy) != n):
        rows = "N" if n is None else str(n)
        raise ValueError(f"{name} must be ({rows}, 2), one 2-D point per row, got shape {xy.shape}.")
    return xy


def mosaic(images, rows: int, cols: int, pad: int = 1) -> np.ndarray:
    """Tile ``images: (n, h, w)`` into one (rows (h + pad) - pad, cols (w + pad) - pad) image, row by row: image i at
    tile (i // cols, i % cols). The ``pad``-pixel gaps, and the tiles left empty when n < rows cols, are NaN."""
    x = _images("mosaic", images)
    if int(rows) != rows or int(cols) != cols or rows < 1 or cols < 1 or int(pad) != pad or pad < 0:
        raise ValueError(f"mosaic: rows and cols must be positive integers and pad a non-negative integer, got "
                         f"rows={rows!r}, cols={cols!r}, pad={pad!r}.")
    n, h, w = x.shape
    if n > rows * cols:
        raise ValueError(f"mosaic: {n} images do not fit on {rows} x {cols} = {rows * cols} tiles; give more rows or "
                         f"cols, or fewer images (e.g. images[:{rows * cols}]).")
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    for i, image in enumerate(x):
        r, c = divmod(i, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = image
    return out


def _draw_rows(fig: plt.Figure, rows: dict[str, np.ndarray], rect: Sequence[float], vmin: float, vmax: float,
               frame: bool = False) -> None:
    """One axes per row inside ``rect`` (figure fractions), the label on its left, tiles aligned across the rows;
    ``frame``: a thin grey border around every tile."""
    sizes = {label: x.shape[1:] for label, x in rows.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"image_rows: every row needs images of one size (h, w), got {sizes}. Reshape or crop them "
                         "to one size.")
    h, w = next(iter(sizes.values()))
    widest = max(len(x) for x in rows.values())
    left, bottom, width, height = rect
    k = len(rows)
    for i, (label, x) in enumerate(rows.items()):
        ax = fig.add_axes((left, bottom + height * (k - 1 - i) / k, width, height / k * 0.92), anchor="W")
        ax.imshow(mosaic(x, 1, len(x)), cmap=IMAGE_CMAP, vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set(xlim=(-0.5, widest * (w + 1) - 1.5), ylim=(h - 0.5, -0.5))  # short rows: the tiles stay aligned
        ax.set_axis_off()
        ax.text(-0.02, 0.5, label, transform=ax.transAxes, ha="right", va="center", fontsize=9)
        for j in range(len(x) if frame else 0):  # tile j covers pixels j (w + 1) .. j (w + 1) + w - 1
            ax.add_patch(Rectangle((j * (w + 1) - 0.5, -0.5), w, h, fill=False, edgecolor=FRAME, linewidth=0.6,
                                   clip_on=False))


def image_rows(rows: dict, title: str = "", vmin: float = 0.0, vmax: float = 1.0,
               tile: float = 0.55, frame: bool = False) -> plt.Figure:
    """Labelled rows of same-size images, ``rows``: label -> (n, h, w) images (n may differ from row to row), one
    mosaic image per row, the label on its left, gray_r from vmin (white) to vmax (black). ``tile``: the width of
    one image in inches; ``frame``: a thin grey border around every tile (an all-white image stays visible, and
    neighbouring tiles do not run together)."""
    rows = {str(label): _images(f"image_rows[{label!r}]", x) for label, x in _entries("image_rows", rows,
                                                                                        "(n, h, w) images").items()}
    h, w = next(iter(rows.values())).shape[1:]
    widest = max(len(x) for x in rows.values())
    inch = min(tile, 9.0 / widest) / (w + 1)  # inches per pixel
    label_room = 0.25 + 0.075 * max(len(label) for label in rows)
    top_room = 0.45 if title else 0.1
    row_height = (h + 1) * inch / 0.92
    fig_w = max(label_room + widest * (w + 1) * inch + 0.15, 3.0, 0.1 * len(title))  # room for the title
    fig_h = len(rows) * row_height + top_room + 0.1
    fig = plt.figure(figsize=(fig_w, fig_h), layout="none")
    _draw_rows(fig, rows, (label_room / fig_w, 0.1 / fig_h, 1 - (label_room + 0.15) / fig_w,
                           len(rows) * row_height / fig_h), vmin, vmax, frame)
    if title:
        fig.suptitle(title, y=1 - 0.08 / fig_h, va="top")
    return fig


def code_maps(codes: dict, title: str = "", sample_labels: Sequence | None = None, xlabel: str = "test digit",
              cmap: str = "Blues", colorbar_label: str = "code value") -> plt.Figure:
    """One heat map per entry of ``codes`` (panel title -> (n, units) codes of n samples): units down, samples
    across, on one colour scale shared by every panel (the smallest to the largest code value), with a colour bar
    labelled ``colorbar_label``. ``sample_labels``: n x tick labels (e.g. the digits' classes; sample indices by
    default)."""
    maps = {}
    for key, c in _entries("code_maps", codes, "(n, units) codes").items():
        c = _array(c)
        if c.ndim != 2:
            raise ValueError(f"code_maps: the codes of {key!r} must be (n, units), one row per sample, got shape "
                             f"{c.shape}. Flatten each sample's code first, e.g. h.reshape(len(h), -1).")
        maps[str(key)] = c.T
    low, high = min(float(m.min()) for m in maps.values()), max(float(m.max()) for m in maps.values())
    fig, axes = plt.subplots(1, len(maps), figsize=(2.6 * len(maps) + 1.2, 4.4), squeeze=False, layout="constrained")
    for i, (ax, (key, m)) in enumerate(zip(axes[0], maps.items())):
        image = ax.imshow(m, cmap=cmap, vmin=low, vmax=high if high > low else low + 1, aspect="auto",
                          interpolation="nearest")
        ax.grid(False)
        ax.set_xticks(range(m.shape[1]))
        ax.set_xticklabels(list(sample_labels) if sample_labels is not None else range(m.shape[1]), fontsize=8)
        ax.set(title=key, xlabel=xlabel, ylabel="code unit" if i == 0 else "")
    fig.colorbar(image, ax=list(axes[0]), label=colorbar_label, shrink=0.9)
    if title:
        fig.suptitle(title)
    return fig


def denoising_frame(images: dict, levels: Sequence[float], errors: dict, level: float, noise: str) -> plt.Figure:
    """The denoising explorer's frame, a fixed layout. Left: ``images``, label -> (n, h, w) (clean / noisy / plain
    AE / denoising AE), one row each; right: for each entry of ``errors`` (label -> one test MSE per noise level of
    ``levels``), the MSE against the level, the current ``level`` marked by a dashed line."""
    rows = {str(k): _images(f"denoising_frame: images[{k!r}]", x)
            for k, x in _entries("denoising_frame", images, "(n, h, w) images").items()}
    levels = [float(v) for v in levels]
    curves = {str(k): [float(v) for v in e] for k, e in _entries("denoising_frame", errors, "errors").items()}
    for label, e in curves.items():
        if len(e) != len(levels):
            raise ValueError(f"denoising_frame: errors[{label!r}] has {len(e)} values for {len(levels)} levels; give "
                             "one test MSE per noise level, in the order of levels.")
    fig = plt.figure(figsize=(9.0, 3.6), layout="none")
    _draw_rows(fig, rows, (0.13, 0.04, 0.51, 0.8), 0.0, 1.0)
    ax = fig.add_axes((0.75, 0.16, 0.23, 0.68))
    for label, e in curves.items():
        ax.plot(levels, e, marker="o", markersize=3, linewidth=1.5, label=label)
    ax.axvline(level, color="grey", linestyle="--", linewidth=1)
    top = max(max(e) for e in curves.values())
    ax.set(xlabel=f"{noise} noise level", ylabel="test MSE to the clean digits", ylim=(0, 1.1 * top if top > 0 else 1))
    ax.legend(fontsize=8.5)
    fig.suptitle(f"{noise} noise, level {level:g}", fontsize=11)
    return fig


def reconstruction_field(points, grid, reconstructed, title: str = "") -> plt.Figure:
    """The training ``points: (N, 2)`` as small dots and, from each grid point x of ``grid: (M, 2)``, an arrow to its
    reconstruction r(x) (``reconstructed: (M, 2)``), drawn to scale in data units, on equal axes."""
    data = _points("reconstruction_field: points", points)
    start = _points("reconstruction_field: grid", grid)
    end = _points("reconstruction_field: reconstructed (one reconstruction per grid point)", reconstructed, len(start))
    fig, ax = plt.subplots(figsize=(5.4, 5.4))
    ax.scatter(data[:, 0], data[:, 1], s=4, color="black", alpha=0.5, linewidths=0, label="training points", zorder=3)
    ax.quiver(start[:, 0], start[:, 1], *(end - start).T, angles="xy", scale_units="xy", scale=1, color=PALETTE[0],
              width=0.003, label="grid point x to r(x)", zorder=2)
    every = np.concatenate([data, start, end])
    low, high = every.min(axis=0), every.max(axis=0)
    margin = 0.05 * (high - low).max() + 1e-9
    ax.set(xlim=(low[0] - margin, high[0] + margin), ylim=(low[1] - margin, high[1] + margin), aspect="equal",
           xlabel="$x_1$", ylabel="$x_2$", title=title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=8)  # arrows fill the axes
    return fig


def code_scatter(codes: dict, labels, title: str = "") -> plt.Figure:
    """One panel per entry of ``codes`` (panel title -> (N, 2) codes): the points coloured by their class
    (``labels: (N,)`` integers, tab10), and each class's digit written at its mean code."""
    y = _array(labels)
    if y.ndim != 1 or np.any(y != np.round(y)):
        raise ValueError(f"code_scatter: labels must be (N,) integer classes, got shape {y.shape}.")
    y = y.astype(int)
    panels = {str(k): _points(f"code_scatter: codes[{k!r}] (one code per label)", c, len(y))
              for k, c in _entries("code_scatter", codes, "(N, 2) codes").items()}
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 4.4), squeeze=False)
    outline = [patheffects.withStroke(linewidth=3, foreground="white")]
    for ax, (key, xy) in zip(axes[0], panels.items()):
        ax.scatter(xy[:, 0], xy[:, 1], c=CLASS_CMAP(y % 10), s=8, alpha=0.6, linewidths=0)
        for c in np.unique(y):
            mean = xy[y == c].mean(axis=0)
            ax.text(mean[0], mean[1], str(c), ha="center", va="center", fontsize=14, fontweight="bold",
                    color=CLASS_CMAP(c % 10), path_effects=outline)
        ax.set(title=key, xlabel="code 1", ylabel="code 2")
    if title:
        fig.suptitle(title)
    return fig


def score_histograms(scores: dict, xlabel: str = "reconstruction error", title: str = "",
                     bins: int = 30) -> plt.Figure:
    """One panel per model (``scores``: panel title -> {group: (n,) scores}): each group's scores as a density
    histogram (area 1), all the groups of a panel on the same ``bins`` bin edges, spanning their scores."""
    fig, axes = plt.subplots(1, len(_entries("score_histograms", scores, "{group: scores}")),
                             figsize=(4.6 * len(scores), 3.6), squeeze=False)
    for ax, (model, groups) in zip(axes[0], scores.items()):
        values = {}
        for group, s in _entries(f"score_histograms[{model!r}]", groups, "(n,) scores").items():
            s = _array(s)
            if s.ndim != 1 or len(s) == 0:
                raise ValueError(f"score_histograms: the scores of {model!r} / {group!r} must be a non-empty (n,) "
                                 f"vector, one score per example, got shape {s.shape}; e.g. errors.flatten().")
            values[str(group)] = s
        edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
        for j, (group, s) in enumerate(values.items()):
            density, _ = np.histogram(s, bins=edges, density=True)
            color = PALETTE[j % len(PALETTE)]
            ax.stairs(density, edges, fill=True, facecolor=(color, 0.3), edgecolor=color, linewidth=1.5, label=group)
        ax.set(title=str(model), xlabel=xlabel, ylabel="density")
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig


def _som_tiles(weights, rows: int, cols: int, image_shape: tuple[int, int]) -> np.ndarray:
    w = _array(weights)
    h, wd = image_shape
    if w.shape != (rows * cols, h * wd):
        raise ValueError(f"som_map: weights must be (rows * cols, h * w) = ({rows * cols}, {h * wd}), one flat "
                         f"prototype per unit, unit r * cols + c at (r, c), got shape {w.shape}. Check rows, cols and "
                         "image_shape, or reshape a (rows, cols, h * w) tensor with weights.reshape(rows * cols, -1).")
    return mosaic(w.reshape(-1, h, wd), rows, cols)


def som_map(weights, rows: int, cols: int, image_shape: tuple[int, int] = (8, 8), title: str = "",
            ax: plt.Axes | None = None) -> plt.Figure:
    """The prototypes ``weights: (rows * cols, h * w)`` of a self-organizing map as one mosaic image: unit r * cols
    + c at tile (r, c), each reshaped to ``image_shape`` (h, w), gray_r from 0 (white) to 1 (black)."""
    tiles = _som_tiles(weights, rows, cols, image_shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(0.5 * cols + 0.4, 0.5 * rows + (0.7 if title else 0.4)))
    ax.imshow(tiles, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


def som_frame(weights, rows: int, cols: int, step: int, total: int, learning_rate: float, sigma: float,
              quantization_error: float, image_shape: tuple[int, int] = (8, 8)) -> plt.Figure:
    """The SOM explorer's frame, a fixed layout: the map (``som_map``) after ``step`` of ``total`` training steps,
    titled with the step's learning rate, neighbourhood width sigma and quantization error."""
    if not 0 <= step <= total:
        raise ValueError(f"som_frame: step must lie between 0 and total = {total}, got {step}.")
    tiles = _som_tiles(weights, rows, cols, image_shape)
    width = 6.6
    height = 0.92 * width * tiles.shape[0] / tiles.shape[1] + 0.55
    fig = plt.figure(figsize=(width, height), layout="none")
    ax = fig.add_axes((0.04, 0.1 / height, 0.92, 1 - 0.55 / height))
    som_map(weights, rows, cols, image_shape, ax=ax)
    fig.suptitle(f"step {step} of {total}: learning rate {learning_rate:.3f}, sigma {sigma:.2f}, quantization error "
                 f"{quantization_error:.3f}", fontsize=10, y=1 - 0.1 / height, va="top")
    return fig
