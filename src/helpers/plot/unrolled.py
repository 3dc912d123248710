r"""Chapter 7's diagram of a recurrent network, folded and unrolled over time.

The RNN of 7.2, :math:`\boldsymbol h^{(t)} = \tanh(\boldsymbol b + W \boldsymbol h^{(t-1)} + U \boldsymbol x^{(t)})`
and :math:`\boldsymbol o^{(t)} = \boldsymbol c + V \boldsymbol h^{(t)}`, drawn twice: *folded*, one cell whose state
feeds back into itself through W (a loop), and *unrolled* over T steps, a chain
:math:`\boldsymbol h^{(0)} \to \boldsymbol h^{(1)} \to \dots \to \boldsymbol h^{(T)}` with one copy of the cell per
step. Every copy carries the same labels U, W and V: the weights are tied, which is why one model reads
sequences of any length and why a shared weight's gradient is a sum over the steps (7.4).

``helpers.plot.recurrent`` lists ``unrolled_rnn`` in its ``__all__``, so a notebook calls ``plot.unrolled_rnn``.
"""

from __future__ import annotations

import numbers

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch
from matplotlib.path import Path

from helpers.plot import PALETTE

__all__ = ["unrolled_rnn"]

MAX_STEPS = 12  # beyond this the labels no longer fit a page
RADIUS = 0.36  # of a node, in data units (the axes have an equal aspect, so circles stay round)
ROWS = {"x": 0.0, "h": 1.6, "o": 3.2}  # the height of the inputs, states and outputs
COLUMN = 1.7  # the distance between two steps of the unrolled chain
START = 2.9  # where h^(0) stands; the folded cell stands at 0
INCH = 0.62  # inches per data unit
FILL = {"x": "#dbe9f6", "h": "#fde2c8", "o": "#d9f0d3"}  # light versions of PALETTE's blue, orange, green
EDGE = {"x": PALETTE[0], "h": PALETTE[3], "o": PALETTE[2]}
ARROW = "#444444"


def _check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps is the number of time steps T to unroll, an int from 1 to {MAX_STEPS}, "
                         f"got {steps!r}: e.g. unrolled_rnn(steps=4).")
    return int(steps)


def _node(ax: plt.Axes, centre: tuple[float, float], kind: str, label: str, dashed: bool = False) -> None:
    """A circle of the kind 'x', 'h' or 'o' with its label inside; ``dashed`` for the given initial state."""
    ax.add_patch(Circle(centre, RADIUS, facecolor="#eeeeee" if dashed else FILL[kind],
                        edgecolor="grey" if dashed else EDGE[kind], linewidth=1.5,
                        linestyle="--" if dashed else "-", zorder=3))
    ax.text(*centre, label, ha="center", va="center", fontsize=11, zorder=4)


def _arrow(ax: plt.Axes, start: tuple[float, float], end: tuple[float, float], weight: str, side: str) -> None:
    """An arrow from the rim of one node to the rim of the other, its weight matrix written beside its middle
    (``side``: 'above' or 'right')."""
    a, b = np.asarray(start, dtype=float), np.asarray(end, dtype=float)
    unit = (b - a) / np.linalg.norm(b - a)
    ax.add_patch(FancyArrowPatch(tuple(a + RADIUS * unit), tuple(b - RADIUS * unit), arrowstyle="-|>",
                                 mutation_scale=14, color=ARROW, linewidth=1.4, zorder=2))
    middle = (a + b) / 2
    offset, align = ((0.0, 0.14), {"ha": "center", "va": "bottom"}) if side == "above" else \
        ((0.1, 0.0), {"ha": "left", "va": "center"})
    ax.text(middle[0] + offset[0], middle[1] + offset[1], f"${weight}$", fontsize=12, color=ARROW, **align)


def _loop(ax: plt.Axes, centre: tuple[float, float], weight: str) -> None:
    """The folded cell's recurrence: an arrow that leaves the state on its left and comes back into it."""
    x, y = centre
    angles = np.radians([200.0, 160.0])
    leave, back = [(x + RADIUS * np.cos(a), y + RADIUS * np.sin(a)) for a in angles]
    path = Path([leave, (x - 1.5, y - 0.85), (x - 1.5, y + 0.85), back],
                [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4])
    ax.add_patch(FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=14, color=ARROW, linewidth=1.4,
                                 zorder=2))
    ax.text(x - 1.25, y, f"${weight}$", ha="right", va="center", fontsize=12, color=ARROW)


def _cell(ax: plt.Axes, x: float, suffix: str) -> None:
    """One copy of the cell at horizontal position x: input, state and output, and the arrows U and V."""
    for kind in ("x", "h", "o"):
        _node(ax, (x, ROWS[kind]), kind, rf"$\boldsymbol{{{kind}}}{suffix}$")
    _arrow(ax, (x, ROWS["x"]), (x, ROWS["h"]), "U", "right")
    _arrow(ax, (x, ROWS["h"]), (x, ROWS["o"]), "V", "right")


def unrolled_rnn(steps: int = 4, ax: plt.Axes | None = None) -> plt.Figure:
    r"""The classic diagram of an RNN: folded on the left, unrolled over ``steps`` time steps on the right.

    Folded: input :math:`\boldsymbol x`, state :math:`\boldsymbol h` with a loop through W back into itself,
    output :math:`\boldsymbol o`, with U on the arrow x -> h and V on h -> o. Unrolled: the given initial state
    :math:`\boldsymbol h^{(0)}` (dashed), then for t = 1, ..., T one copy of the cell, :math:`\boldsymbol x^{(t)}`
    -> :math:`\boldsymbol h^{(t)}` -> :math:`\boldsymbol o^{(t)}`, the states joined in a chain by W; every copy
    is labelled with the same U, W and V (tied weights). ``steps``: T, an int from 1 to 12. ``ax``: draw into
    this axes instead of a new figure (its aspect is set to equal and its axis hidden). Returns the figure.
    """
    steps = _check_steps(steps)
    left, right = -1.9, START + COLUMN * steps + 1.25
    bottom, top = ROWS["x"] - 1.0, ROWS["o"] + 0.55
    if ax is None:
        width = max(INCH * (right - left), 7.2)  # at least the title's width
        _, ax = plt.subplots(figsize=(width, INCH * (top - bottom) + 0.3))
    _cell(ax, 0.0, "")
    _loop(ax, (0.0, ROWS["h"]), "W")
    ax.add_patch(FancyArrowPatch((0.75, ROWS["h"]), (START - 0.75, ROWS["h"]), arrowstyle="simple",
                                 mutation_scale=22, color="#bbbbbb", zorder=1))
    ax.text(START / 2, ROWS["h"] + 0.3, "unfold", ha="center", va="bottom", fontsize=10, color="grey")
    _node(ax, (START, ROWS["h"]), "h", r"$\boldsymbol{h}^{(0)}$", dashed=True)
    for t in range(1, steps + 1):
        x = START + COLUMN * t
        _cell(ax, x, f"^{{({t})}}")
        _arrow(ax, (x - COLUMN, ROWS["h"]), (x, ROWS["h"]), "W", "above")
    last = START + COLUMN * steps
    for kind, name in (("x", "inputs"), ("h", "states"), ("o", "outputs")):
        ax.text(last + RADIUS + 0.15, ROWS[kind], name, ha="left", va="center", fontsize=9, color="grey")
    below = ROWS["x"] - RADIUS - 0.3
    ax.text(0.0, below, "folded", ha="center", va="top", fontsize=10, color="grey")
    ax.text((START + last) / 2, below, "unrolled", ha="center", va="top", fontsize=10, color="grey")
    ax.set(xlim=(left, right), ylim=(bottom, top), aspect="equal",
           title=f"An RNN, folded and unrolled over T = {steps} step{'s' if steps > 1 else ''} "
                 "(the same U, W, V at every step)")
    ax.axis("off")
    return ax.figure
