"""Figures of chapter 7 (recurrent networks): gradients through time, scores against the sequence length, and
scores against the training step; the diagram of an RNN folded and unrolled lives in ``helpers.plot.unrolled``.

Every name in ``__all__`` (``unrolled_rnn`` included) is re-exported by ``helpers.plot``, so a notebook calls
``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers.plot import PALETTE, _numpy
from helpers.plot.unrolled import unrolled_rnn

__all__: list[str] = ["gradient_through_time", "score_against_length", "training_curves", "unrolled_rnn"]

BASELINE_STYLES = ["--", ":", "-.", (0, (6, 2, 1, 2, 1, 2))]  # one per baseline line, in order


def _colors(count: int, colors: Sequence[str] | None) -> list[str]:
    if colors is None:
        return [PALETTE[i % len(PALETTE)] for i in range(count)]
    colors = list(colors)
    if len(colors) != count:
        raise ValueError(f"colors must give one colour per curve: {count} curves, {len(colors)} colours.")
    return colors


def _norm_rows(name: str, values) -> np.ndarray:
    """(T,) or (N, T) positive norms -> (N, T) as float64, with an error that says what to do."""
    rows = np.asarray(_numpy(values), dtype=np.float64)
    if rows.ndim == 1:
        rows = rows[None]
    if rows.ndim != 2 or rows.shape[1] == 0:
        raise ValueError(f"{name!r}: norms must be (T,) or (N, T), one value per time step, got shape {rows.shape}.")
    if not np.all(np.isfinite(rows)) or np.any(rows <= 0):
        raise ValueError(f"{name!r}: the norms must be finite and > 0 for the log scale. A norm of 0 is usually an "
                         "underflow: compute the gradients in float64 (dtype=torch.float64).")
    return rows


def _band_note(counts: dict[str, int]) -> str | None:
    """What the line and the band of ``gradient_through_time`` are, from the number of rows of each curve."""
    if max(counts.values()) == 1:
        return None  # one sequence per curve: no mean, no band
    sizes = set(counts.values())
    over = (f"the {sizes.pop()} sequences" if len(sizes) == 1 else
            "each curve's sequences (" + ", ".join(f"{name}: {n}" for name, n in counts.items()) + ")")
    return f"line: geometric mean over {over}\nband: their range (smallest to largest)"


def _baselines(baseline: float | None, baseline_label: str, baselines: dict[str, float] | None) -> dict[str, float]:
    """The single ``baseline`` (first) and the entries of ``baselines`` as one label -> finite float dict."""
    if baselines is not None and not isinstance(baselines, dict):
        raise TypeError(f"baselines maps a label to a value, e.g. {{'chance, 1/6': 1 / 6}}, got {type(baselines)}.")
    lines = {} if baseline is None else {baseline_label: baseline}
    if baseline is not None and baseline_label in (baselines or {}):
        raise ValueError(f"{baseline_label!r} is both baseline_label and a key of baselines: give it once.")
    lines.update(baselines or {})
    if len(lines) > len(BASELINE_STYLES):
        raise ValueError(f"{len(lines)} baselines, but only {len(BASELINE_STYLES)} distinct dash patterns: draw fewer.")
    for label, value in lines.items():
        if not np.isfinite(float(value)):
            raise ValueError(f"baseline {label!r} is {value}: a baseline must be a finite number.")
    return {label: float(value) for label, value in lines.items()}


def gradient_through_time(
    norms: dict[str, torch.Tensor | np.ndarray | Sequence[float]],
    title: str = "How much the last state depends on each input",
    ylabel: str = r"$\|\partial h_T / \partial x_t\|_F$",
    ylim: tuple[float, float] | None = None,
    colors: Sequence[str] | None = None,
    ax: plt.Axes | None = None,
) -> plt.Figure:
    """A gradient norm against the time step t = 1, ..., T of the input, on a log scale, one curve per label.

    norms: label -> (T,) or (N, T) positive values, e.g. ``models.gradient_norms_through_time(rnn, x)``: (N, T),
    one row per sequence. For several rows the line is their geometric mean at each t (the mean of the
    logarithms: these numbers span many orders of magnitude) and a shaded band runs from the smallest to the
    largest row; the legend's title says so, with the number of rows N. The legend quotes each curve at t = 1,
    the step furthest from the end. ``ylim`` fixes the axis (explorer frames that must line up); ``colors``
    gives one colour per curve.
    """
    if not norms:
        raise ValueError("norms is empty: give at least one label -> (T,) or (N, T) tensor of gradient norms.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 4.0))
    counts = {}
    for color, (name, values) in zip(_colors(len(norms), colors), norms.items()):
        rows = _norm_rows(name, values)
        counts[name] = len(rows)
        steps = np.arange(1, rows.shape[1] + 1)
        middle = np.exp(np.log(rows).mean(axis=0))
        ax.plot(steps, middle, color=color, label=f"{name}: {middle[0]:.1e} at t = 1")
        if len(rows) > 1:
            ax.fill_between(steps, rows.min(axis=0), rows.max(axis=0), color=color, alpha=0.2, linewidth=0)
    ax.set(yscale="log", xlabel="time step t of the input $x_t$ (the last state is $h_T$)", ylabel=ylabel,
           title=title)
    if ylim is not None:
        ax.set_ylim(*ylim)
    note = _band_note(counts)
    ax.legend(fontsize=8, loc="lower right", title=note, title_fontsize=7.5, alignment="left")
    return ax.figure


def score_against_length(
    lengths: Sequence[int],
    scores: dict[str, Sequence[float]],
    baseline: float | None = None,
    baseline_label: str = "baseline",
    ylabel: str = "validation MSE",
    title: str = "Score against the sequence length",
    xlabel: str = "sequence length T (time steps)",
    logy: bool = True,
    baselines: dict[str, float] | None = None,
) -> plt.Figure:
    """One line with markers per model: its score at each sequence length (or lag), and horizontal baselines.

    lengths: the x values; scores: label -> one score per length. The legend quotes each model's score at the
    longest length. ``baseline`` (e.g. the mean predictor's MSE), labelled ``baseline_label``, and every entry
    of ``baselines`` (label -> value, e.g. ``{"using neither marked value, 1/6": 1 / 6}``) are drawn as grey
    horizontal lines, each with its own dash pattern (dashed, dotted, dash-dotted, ...), ``baseline`` first;
    the legend quotes each value.
    """
    lengths = [int(t) for t in lengths]
    if not lengths or not scores:
        raise ValueError("give at least one length and one model: score_against_length([5, 10], {'LSTM': [...]}).")
    lines = _baselines(baseline, baseline_label, baselines)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    longest = int(np.argmax(lengths))
    for color, (name, values) in zip(_colors(len(scores), None), scores.items()):
        values = [float(v) for v in values]
        if len(values) != len(lengths):
            raise ValueError(f"{name!r} has {len(values)} scores for {len(lengths)} lengths: one score per length.")
        ax.plot(lengths, values, "o-", color=color, label=f"{name}: {values[longest]:.3g} at T = {lengths[longest]}")
    for style, (label, value) in zip(BASELINE_STYLES, lines.items()):
        ax.axhline(value, color="#555555", linestyle=style, linewidth=1.3, label=f"{label} ({value:.3g})")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title, xticks=lengths)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return fig


def training_curves(
    curves: dict[str, Sequence[float]],
    every: int = 1,
    baseline: float | None = None,
    baseline_label: str = "baseline",
    ylabel: str = "validation MSE",
    title: str = "Training",
    logy: bool = False,
    percent: bool = False,
) -> plt.Figure:
    """Scores recorded every ``every`` training steps, one curve per run, against the training step.

    curves: label -> the scores at steps every, 2 every, ...; runs may have different lengths (one that was
    stopped early), and non-finite values (a loss that became nan) are left out of the line. The legend quotes
    each run's last finite score (as a percentage with ``percent=True``); ``baseline`` is a dashed line.
    """
    if not curves:
        raise ValueError("curves is empty: give at least one label -> list of scores.")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every is the number of training steps between two scores, a positive int, got {every!r}.")
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for color, (name, values) in zip(_colors(len(curves), None), curves.items()):
        values = np.asarray([float(v) for v in values])
        steps = every * np.arange(1, len(values) + 1)
        finite = np.isfinite(values)
        if not finite.any():
            raise ValueError(f"{name!r} has no finite score to draw.")
        last = values[finite][-1]
        quoted = f"{last:.1%}" if percent else f"{last:.3g}"
        ax.plot(steps[finite], values[finite], color=color, label=f"{name}: {quoted} at step {steps[finite][-1]}")
    if baseline is not None:
        quoted = f"{baseline:.0%}" if percent else f"{baseline:.3g}"
        ax.axhline(baseline, color="grey", linestyle="--", linewidth=1.2, label=f"{baseline_label} ({quoted})")
    ax.set(xlabel="training step", ylabel=ylabel, title=title)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return fig
