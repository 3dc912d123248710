"""Figures of chapter 6's first half: the convolution itself (windows, receptive fields, padding, pooling).

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.

Grids are drawn one square per pixel, pixel (i, j) centred at x = j, y = i (row 0 at the top), as one
``PolyCollection`` per kind of pixel: a few collections draw much faster than one ``Rectangle`` each.
Figures that put several maps side by side place every axes by hand, in inches, so that a pixel is the same
size in all of them and a smaller map (a 'valid' output) looks smaller.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from helpers.nn.conv import conv2d, conv_output_size
from helpers.nn.pooling import avg_pool2d, max_pool2d
from helpers.plot import PALETTE, _numpy

__all__ = ["maps_row", "pooling_windows", "receptive_field", "sliding_window"]

GRID = "#9a9a9a"  # the lines between pixels
PADDING = "#e3e3e3"  # zero padding
_CORNERS = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])


def _squares(rows, cols, **style) -> PolyCollection:
    """One unit square per pixel (rows[k], cols[k]), centred on it, as a single collection."""
    centres = np.stack([np.ravel(cols), np.ravel(rows)], axis=-1).astype(float)  # (M, 2) as (x, y)
    return PolyCollection(centres[:, None, :] + _CORNERS, edgecolor=style.pop("edgecolor", GRID), **style)


def _lines(first: int, end: int) -> LineCollection:
    """The lines between the pixels first .. end - 1 of a square grid (rows and columns alike), one collection."""
    edges = np.arange(first, end + 1) - 0.5
    low, high = np.full_like(edges, edges[0]), np.full_like(edges, edges[-1])
    vertical = np.stack([np.stack([edges, low], -1), np.stack([edges, high], -1)], 1)  # (M, 2 points, (x, y))
    return LineCollection(np.concatenate([vertical, vertical[:, :, ::-1]]), colors=GRID, linewidths=1, zorder=2)


def _grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of every pixel of a height x width map, each (height, width)."""
    return np.meshgrid(np.arange(height), np.arange(width), indexing="ij")


def _array(x, name: str, where: str) -> np.ndarray:
    """A numpy array or torch tensor of shape (H, W) -> float64 numpy (H, W)."""
    x = np.asarray(_numpy(x), dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{where}: {name} must be a 2-D map (H, W), got shape {x.shape}. For one channel of a "
                         "batch (N, C, H, W) pass x[n, c].")
    return x


def _fmt(value: float) -> str:
    """An integer without decimals, anything else with two."""
    value = float(value)
    return f"{value:.0f}" if value.is_integer() else f"{value:.2f}"


def _font(values: np.ndarray, cell: float) -> float:
    """A font size (points) at which the longest printed value fits in a cell of ``cell`` inches."""
    longest = max(len(_fmt(v)) for v in values.ravel())
    return min(11.0, 72 * cell / (0.62 * longest + 0.6))


def _write(ax: plt.Axes, values: np.ndarray, fontsize: float, **style) -> None:
    """Print every value of an (H, W) map in its pixel, in row-major order (the order of ``ax.texts``)."""
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, _fmt(v), ha="center", va="center", fontsize=fontsize, **style)


def _row_of_maps(shapes, cell: float, gap: float, margins=(0.6, 0.2, 0.6, 0.5)) -> tuple[plt.Figure, list]:
    """A figure with one axes per (H, W) shape, side by side, each pixel ``cell`` inches wide in all of them.

    The axes are placed by hand (no layout engine), centred vertically, ``gap`` inches apart; margins are
    (left, right, bottom, top) in inches. Each axes shows its map's pixels, row 0 at the top.
    """
    left, right, bottom, top = margins
    tallest = max(h for h, _ in shapes)
    width = left + right + cell * sum(w for _, w in shapes) + gap * (len(shapes) - 1)
    height = bottom + top + cell * tallest
    fig = plt.figure(figsize=(width, height))
    # a placeholder engine, not None: with None, the house style's figure.autolayout brings tight_layout back at
    # the first draw, and it warns about the hand-placed colourbar axes
    fig.set_layout_engine(PlaceHolderLayoutEngine(adjust_compatible=True, colorbar_gridspec=False))
    axes, x = [], left
    for h, w in shapes:
        y = bottom + cell * (tallest - h) / 2
        ax = fig.add_axes((x / width, y / height, cell * w / width, cell * h / height))
        ax.set(xlim=(-0.5, w - 0.5), ylim=(h - 0.5, -0.5))
        ax.grid(False)
        axes.append(ax)
        x += cell * w + gap
    return fig, axes


def _ticks(ax: plt.Axes, rows, cols) -> None:
    """Integer ticks at the given pixel indices: every one up to 10, else the multiples of a step (fewer labels
    draw faster)."""
    for values, setter in ((list(rows), ax.set_yticks), (list(cols), ax.set_xticks)):
        step = 1 if len(values) <= 10 else -(-len(values) // 8)
        setter([v for v in values if v % step == 0])


def receptive_field(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                    extent: int | None = None) -> plt.Figure:
    """The padded input with the kernel's taps for the first and the last output, and the output grid.

    H_out = floor((n + 2p - d (k - 1) - 1) / s) + 1 (``conv_output_size``); output (i, j) reads the padded
    input at rows i s - p + a d and columns j s - p + b d, a, b = 0 .. k - 1 (input coordinates: the padding
    is at -p .. -1 and n .. n + p - 1), a window of d (k - 1) + 1 pixels: the receptive field.

    Left: the (n + 2p)^2 padded input, padding hatched; the taps of output (0, 0) in blue and of output
    (H_out - 1, W_out - 1) in red, each window outlined (the collections of taps have gid "taps first" and
    "taps last"). Right: the H_out x W_out output, those two pixels coloured alike. Both panels show ``extent``
    pixels across (default n + 2p), at the same scale: give an explorer's largest n + 2p to keep every frame
    at one scale. When the kernel does not fit, the figure says so instead of raising.
    """
    for name, value, least in (("size", size, 1), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                               ("padding", padding, 0), ("dilation", dilation, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"receptive_field: {name} must be an int, got {value!r}.")
        if value < least:
            raise ValueError(f"receptive_field: {name} must be at least {least}, got {value}. A kernel has >= 1 "
                             "tap, stride and dilation are >= 1 (1 is the plain convolution), padding is >= 0.")
    n, k, s, p, d = size, kernel_size, stride, padding, dilation
    span, padded = d * (k - 1) + 1, n + 2 * p
    try:
        out = conv_output_size(n, k, s, p, d)
    except ValueError:  # the dilated kernel does not fit: an empty output, drawn as such
        out = (padded - span) // s + 1
    side = max(padded, span + 1 if out < 1 else 0, extent or 0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 4.6), layout="none")
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.2, top=0.82, wspace=0.2)

    if p:  # the padding as one hatched frame: one path to hatch, not one per pixel
        outer, inner = (n + 2 * p) * _CORNERS + (n - 1) / 2, n * _CORNERS + (n - 1) / 2
        frame = Path.make_compound_path(*(Path(np.vstack([ring, ring[:1]]), closed=True)  # (a closed path repeats
                                          for ring in (outer, inner[::-1])))  # its start); the hole runs backwards
        left.add_patch(PathPatch(frame, facecolor=PADDING, edgecolor=GRID, linewidth=0, hatch="///",
                                 label="zero padding"))
    if out >= 1:
        ends = [(0, "first", PALETTE[0])] + ([(out - 1, "last", PALETTE[1])] if out > 1 else [])
        for i, which, color in ends:
            taps = i * s - p + np.arange(k) * d
            tap_rows, tap_cols = np.meshgrid(taps, taps, indexing="ij")
            name = f"taps of output ({i}, {i})" + (", the only one" if out == 1 else "")
            taps_patch = _squares(tap_rows, tap_cols, facecolor=color, edgecolor="none", alpha=0.65, label=name)
            taps_patch.set_gid(f"taps {which}")
            left.add_collection(taps_patch)
            left.add_patch(Rectangle((taps[0] - 0.5, taps[0] - 0.5), span, span, fill=False, edgecolor=color,
                                     linewidth=2.5, zorder=3))
            right.add_collection(_squares([i], [i], facecolor=color, edgecolor="none", alpha=0.65))
        right.add_collection(_lines(0, out))
        _ticks(right, range(out), range(out))
        outcome = f"output {out}×{out}"
    else:
        left.add_patch(Rectangle((-p - 0.5, -p - 0.5), span, span, fill=False, edgecolor=PALETTE[1], linewidth=2.5,
                                 linestyle="--", label=f"the kernel's window, {span}×{span}: does not fit"))
        right.text((out - 1) / 2, (out - 1) / 2, f"no output:\nthe kernel spans {span} pixels,\n"
                   f"the padded input only {padded}", ha="center", va="center", fontsize=11)
        outcome = "no output"
        right.set_xticks([])
        right.set_yticks([])
        right.spines[:].set_visible(False)
    left.add_collection(_lines(-p, n + p))
    _ticks(left, range(-p, n + p), range(-p, n + p))
    left_centre = (n - 1) / 2 if out >= 1 else side / 2 - p - 1  # an empty frame: the window from the corner
    for ax, centre in ((left, left_centre), (right, (out - 1) / 2)):
        ax.set(xlim=(centre - side / 2, centre + side / 2), ylim=(centre + side / 2, centre - side / 2),
               aspect="equal")
        ax.grid(False)
    left.set(xlabel="input column (pixels)", ylabel="input row (pixels)",
             title=f"input {n}×{n}" + (f", zero-padded to {padded}×{padded}" if p else ""))
    right.set(xlabel="output column" if out >= 1 else "", ylabel="output row" if out >= 1 else "", title=outcome)
    formula = f"H_out = ⌊({n} + 2·{p} − {d}·({k} − 1) − 1) / {s}⌋ + 1 = {out}" + (
        "" if out >= 1 else " < 1: the output is empty")
    fig.suptitle(f"input {n}, kernel {k}, stride {s}, padding {p}, dilation {d} → {outcome}\n{formula};  "
                 f"receptive field d(k − 1) + 1 = {span} pixels", fontsize=11)
    pixel = Rectangle((0, 0), 1, 1, facecolor="white", edgecolor=GRID, label="input pixel")
    labelled = [pixel] + [artist for artist in [*left.patches, *left.collections]
                          if artist.get_label()[:1] not in ("", "_")]
    fig.legend(handles=labelled, loc="lower left", ncol=4, fontsize=9, bbox_to_anchor=(0.05, 0.0))
    return fig


def sliding_window(image, kernel, position: tuple[int, int]) -> plt.Figure:
    """The input, the kernel and the valid cross-correlation, with output ``position`` = (i, j) worked out.

    y[i, j] = sum_{a, b} x[i + a, j + b] K[a, b];  image: (H, W), kernel: (kH, kW) -> y: (H - kH + 1, W - kW + 1),
    the chapter's notation. The window of (i, j) is outlined on the input, the pixel highlighted in the output,
    and the sum written out term by term under the figure (one line per kernel row; the text has gid "sum").
    """
    x, w = _array(image, "image", "sliding_window"), _array(kernel, "kernel", "sliding_window")
    if w.shape[0] > x.shape[0] or w.shape[1] > x.shape[1]:
        raise ValueError(f"sliding_window: the kernel {w.shape} is larger than the image {x.shape}: a valid "
                         "cross-correlation needs kH <= H and kW <= W.")
    y = _numpy(conv2d(torch.from_numpy(x)[None, None], torch.from_numpy(w)[None, None]))[0, 0]
    a, b = position
    if not (0 <= a < y.shape[0] and 0 <= b < y.shape[1]):
        raise ValueError(f"sliding_window: position {position} is outside the {y.shape[0]}×{y.shape[1]} output; "
                         f"use 0 <= a < {y.shape[0]} and 0 <= b < {y.shape[1]}.")
    (kh, kw), cell = w.shape, 0.45
    fig, (left, middle, right) = _row_of_maps([x.shape, w.shape, y.shape], cell, gap=0.7,
                                              margins=(0.6, 0.5, 0.75 + 0.22 * kh, 0.5))
    fontsize = _font(np.concatenate([x.ravel(), w.ravel(), y.ravel()]), cell)
    window_rows, window_cols = np.meshgrid(np.arange(a, a + kh), np.arange(b, b + kw), indexing="ij")
    left.add_collection(_squares(*_grid(*x.shape), facecolor="white"))
    left.add_collection(_squares(window_rows, window_cols, facecolor=PALETTE[0], alpha=0.25))
    left.add_patch(Rectangle((b - 0.5, a - 0.5), kw, kh, fill=False, edgecolor=PALETTE[0], linewidth=2.5))
    middle.add_collection(_squares(*_grid(*w.shape), facecolor=PALETTE[3], alpha=0.3))
    right.add_collection(_squares(*_grid(*y.shape), facecolor="white"))
    right.add_collection(_squares([a], [b], facecolor=PALETTE[0], alpha=0.45))
    for ax, values in ((left, x), (middle, w), (right, y)):
        _write(ax, values, fontsize)
        _ticks(ax, range(values.shape[0]), range(values.shape[1]))
    left.set(title=f"input {x.shape[0]}×{x.shape[1]}", xlabel="column", ylabel="row")
    middle.set(title=f"kernel {kh}×{kw}", xlabel="column b", ylabel="row a")
    right.set(title=f"output {y.shape[0]}×{y.shape[1]}", xlabel="column j", ylabel="row i")
    patch = x[a : a + kh, b : b + kw]
    lines = [" + ".join(f"{_fmt(v)}×{_fmt(k) if k >= 0 else f'({_fmt(k)})'}" for v, k in zip(pr, kr))
             for pr, kr in zip(patch, w)]
    text = f"y[{a}, {b}] = " + "\n         + ".join(lines) + f"\n         = {_fmt((patch * w).sum())}"
    fig.text(0.6 / fig.get_figwidth(), 0.12 / fig.get_figheight(), text, family="monospace", fontsize=10,
             va="bottom", gid="sum")
    return fig


def maps_row(images: list, titles: list[str], suptitle: str = "", cmap: str = "gray_r",
             diverging: bool | list[bool] = False) -> plt.Figure:
    """2-D maps side by side at one pixel scale, so a 6×6 'valid' output looks smaller than its 8×8 input.

    images: a list of (H, W) arrays or tensors (sizes may differ); titles: one per map, e.g. "input 8×8".
    A ``diverging`` map (True: all of them; or one bool per map) is drawn in RdBu_r, symmetric around 0
    (white = 0, limits ±max|value|), with its own colourbar; the others in ``cmap``.
    """
    maps = [_array(image, "each image", "maps_row") for image in images]
    if len(maps) == 0 or len(titles) != len(maps):
        raise ValueError(f"maps_row: give one title per map, got {len(maps)} maps and {len(titles)} titles.")
    signed = [diverging] * len(maps) if isinstance(diverging, bool) else list(diverging)
    if len(signed) != len(maps):
        raise ValueError(f"maps_row: diverging is one bool, or one per map; got {len(signed)} for {len(maps)} maps.")
    cell = min(0.4, 9.0 / sum(m.shape[1] for m in maps), 3.2 / max(m.shape[0] for m in maps))
    fig, axes = _row_of_maps([m.shape for m in maps], cell, gap=1.0 if any(signed) else 0.35,
                             margins=(0.3, 0.7 if signed[-1] else 0.3, 0.2, 0.85 if suptitle else 0.45))
    for ax, values, title, centred in zip(axes, maps, titles, signed):
        if centred:
            top = float(np.abs(values).max()) or 1.0
            image = ax.imshow(values, cmap="RdBu_r", vmin=-top, vmax=top)
            box, inch = ax.get_position(), 1 / fig.get_figwidth()
            fig.colorbar(image, cax=fig.add_axes((box.x1 + 0.08 * inch, box.y0, 0.12 * inch, box.height)))
            fig.axes[-1].tick_params(labelsize=8)
        else:
            ax.imshow(values, cmap=cmap)
        ax.set_title(title, fontsize=10)
        ax.set(xticks=[], yticks=[])
        for spine in ax.spines.values():  # a thin frame: where the map ends, even where it is white
            spine.set(visible=True, linewidth=0.8, color=GRID)
    if suptitle:
        fig.suptitle(suptitle, fontsize=12)
    return fig


def pooling_windows(x, kernel_size: int, stride: int | None = None, mode: str = "max") -> plt.Figure:
    """A small map with its pooling windows in alternating colours, and the pooled output, values printed.

    y[a, b] = max (or mean) of x[a s + i, b s + j], i, j = 0 .. k - 1 (``helpers.nn.pooling``), stride s
    defaults to k. x: (H, W) -> y: (H_out, W_out). For "max" each window's maximum is circled (torch's winner
    on ties: the first). Output pixels take the colour of their window.
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"pooling_windows: mode must be 'max' or 'avg', got {mode!r}.")
    values = _array(x, "x", "pooling_windows")
    stride = kernel_size if stride is None else stride
    t = torch.from_numpy(values)[None, None]
    if mode == "max":
        pooled, winners = max_pool2d(t, kernel_size, stride, return_indices=True)
        winners = _numpy(winners)[0, 0]
    else:
        pooled = avg_pool2d(t, kernel_size, stride)
    y, cell = _numpy(pooled)[0, 0], 0.45
    fig, (left, right) = _row_of_maps([values.shape, y.shape], cell, gap=0.8, margins=(0.6, 0.5, 0.6, 0.8))
    fontsize = _font(np.concatenate([values.ravel(), y.ravel()]), cell)
    left.add_collection(_squares(*_grid(*values.shape), facecolor="white"))
    inset = 0.06 if stride < kernel_size else 0.0  # overlapping windows: draw each a little inside the last
    for (a, b), _ in np.ndenumerate(y):
        color = PALETTE[(a + b) % 2]
        rows, cols = np.meshgrid(a * stride + np.arange(kernel_size), b * stride + np.arange(kernel_size),
                                 indexing="ij")
        left.add_collection(_squares(rows, cols, facecolor=color, alpha=0.18, edgecolor="none"))
        corner = (b * stride - 0.5 + inset * (b % 2), a * stride - 0.5 + inset * (a % 2))
        left.add_patch(Rectangle(corner, kernel_size - inset, kernel_size - inset, fill=False, edgecolor=color,
                                 linewidth=2))
        right.add_collection(_squares([a], [b], facecolor=color, alpha=0.3))
    if mode == "max":  # one ring per window around its winner, in the window's colour (gid "argmax")
        rows, cols = np.divmod(winners.ravel(), values.shape[1])
        left.scatter(cols, rows, s=(72 * cell * 0.95) ** 2, facecolors="none", linewidths=2, gid="argmax",
                     edgecolors=[PALETTE[(a + b) % 2] for (a, b), _ in np.ndenumerate(y)])
    _write(left, values, fontsize)
    _write(right, y, fontsize)
    for ax, v in ((left, values), (right, y)):
        _ticks(ax, range(v.shape[0]), range(v.shape[1]))
        ax.set(xlabel="column")
    left.set(ylabel="row", title=f"input {values.shape[0]}×{values.shape[1]}")
    name = "max" if mode == "max" else "average"
    right.set(title=f"output {y.shape[0]}×{y.shape[1]}")
    fig.suptitle(f"{name} pooling, window {kernel_size}×{kernel_size}, stride {stride}", fontsize=12)
    return fig
