"""Figures of chapter 8 (attention, transformers, word embeddings): attention maps, the attention explorer's frame,
the sinusoidal positional encoding, the embedding explorer's frame and the read weights of a memory.

Row i of an (L, S) attention matrix is query i's distribution over the S keys, w_ij >= 0 and sum_j w_ij = 1; its
entropy H_i = -sum_j w_ij log w_ij (nats, 0 log 0 = 0) runs from 0 (all weight on one key) to log S (uniform).
The sinusoidal encoding PE[pos, 2k] = sin(pos / 10000^(2k/d)), PE[pos, 2k+1] = cos(pos / 10000^(2k/d)) has dot
products PE[p] . PE[q] = sum_k cos((p - q) / 10000^(2k/d)) that depend only on p - q. Content-based addressing
reads a memory of M slots with weights w_i = softmax_i(beta cos(k, M_i)): beta = 0 spreads them evenly, a large
beta puts them on the best-matching slot.

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.lines import Line2D

from helpers.plot import PALETTE, _numpy

__all__: list[str] = ["attention_frame", "attention_map", "attention_maps", "embedding_frame", "memory_weights",
                      "positional_encoding"]

HIGHLIGHT = "#d62728"  # the chosen query's outline, the chosen word's neighbours (rings and bars)
GROUP_COLORS = [c for c in PALETTE if c != HIGHLIGHT]  # the embedding groups, never the highlight's red


def _float64(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.double()  # bfloat16 and half have no NumPy twin
    return np.asarray(_numpy(values), dtype=np.float64)


def _matrix(name: str, weights) -> np.ndarray:
    w = _float64(weights)
    if w.ndim != 2:
        raise ValueError(f"{name}: attention weights must be one (L, S) matrix (queries x keys), got shape {w.shape}. "
                         "Average over the batch or pick one sequence first, e.g. weights.mean(0) or weights[0].")
    return w


def _draw_map(ax: plt.Axes, w: np.ndarray, queries: Sequence[str] | None, keys: Sequence[str] | None,
              vmax: float | None, title: str, xlabel: str, ylabel: str):
    image = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=vmax if vmax is not None else max(float(w.max()), 1e-12),
                      aspect="auto", interpolation="nearest")
    ax.set_xticks(range(w.shape[1]))
    ax.set_yticks(range(w.shape[0]))
    ax.set_xticklabels(list(keys) if keys is not None else range(w.shape[1]), rotation=90 if keys is not None else 0,
                       fontsize=8)
    ax.set_yticklabels(list(queries) if queries is not None else range(w.shape[0]), fontsize=8)
    ax.grid(False)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return image


def attention_map(weights, queries: Sequence[str] | None = None, keys: Sequence[str] | None = None,
                  title: str = "Attention weights", vmax: float | None = None,
                  xlabel: str = "key position j (read)", ylabel: str = "query position i (reading)",
                  ax: plt.Axes | None = None) -> plt.Figure:
    """One matrix of attention weights ``weights: (L, S)`` as a heat map: row i is query i's distribution over the
    keys.

    queries, keys: tick labels (tokens, L and S of them), positions 0, 1, ... by default; vmax: top of the colour
    scale (the largest weight by default; 1 to compare maps). A colour bar labels the weight.
    """
    w = _matrix("attention_map", weights)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.6, 4.0))
    image = _draw_map(ax, w, queries, keys, vmax, title, xlabel, ylabel)
    ax.figure.colorbar(image, ax=ax, label="attention weight", shrink=0.85)
    return ax.figure


def attention_maps(maps: dict[str, object], queries: Sequence[str] | None = None, keys: Sequence[str] | None = None,
                   suptitle: str = "", vmax: float | None = 1.0, xlabel: str = "key position j (read)",
                   ylabel: str = "query position i (reading)") -> plt.Figure:
    """Several (L, S) attention maps side by side on one colour scale (0 to vmax, 1 by default; None: the largest
    weight of all), one panel per entry of ``maps`` (title -> (L, S) weights), with one colour bar."""
    if not maps:
        raise ValueError("attention_maps: give at least one title -> (L, S) weights.")
    matrices = {title: _matrix(f"attention_maps[{title!r}]", w) for title, w in maps.items()}
    top = vmax if vmax is not None else max(float(w.max()) for w in matrices.values())
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.3 * len(matrices) + 0.9, 3.6), squeeze=False,
                             layout="constrained")
    for i, (ax, (title, w)) in enumerate(zip(axes[0], matrices.items())):
        image = _draw_map(ax, w, queries, keys, top, title, xlabel, ylabel if i == 0 else "")
    fig.colorbar(image, ax=list(axes[0]), label="attention weight", shrink=0.85)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def attention_frame(weights, tokens: Sequence[str], query: int, title: str = "") -> plt.Figure:
    """The attention explorer's frame. Left: the (L, L) weights as a heat map on a 0-to-1 scale, row ``query``
    outlined; right: that row as L bars, titled with its entropy -sum_j w_j log w_j in nats. ``tokens``: the L tick
    labels. A fixed layout, so that frames line up as a slider moves."""
    w = _matrix("attention_frame", weights)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8), layout="none")
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.27, top=0.86, wspace=0.3)
    _draw_map(left, w, tokens, tokens, 1.0, "all the weights (colour: 0 to 1)", "key j (read)", "query i (reading)")
    left.add_patch(plt.Rectangle((-0.5, query - 0.5), w.shape[1], 1, fill=False, edgecolor=HIGHLIGHT, linewidth=2))
    row = w[query]
    entropy = float(-(row[row > 0] * np.log(row[row > 0])).sum())
    right.bar(range(len(row)), row, color=PALETTE[0])
    right.set_xticks(range(len(row)))
    right.set_xticklabels(list(tokens), rotation=90, fontsize=8)
    right.set_ylim(0, 1.05)
    right.set(xlabel="key j (read)", ylabel="attention weight",
              title=f"query {query} ({tokens[query]!r}): entropy {entropy:.2f} nats")
    if title:
        fig.suptitle(title)
    return fig


def positional_encoding(pe, title: str = "Sinusoidal positional encoding") -> plt.Figure:
    """Two panels of ``pe: (length, d_model)``. Left: the encoding as a heat map from -1 to 1 (positions down,
    features across); right: the (length, length) dot products PE[p] . PE[q] = pe @ pe.T, which depend only on
    p - q."""
    pe = _float64(pe)
    if pe.ndim != 2:
        raise ValueError(f"positional_encoding: pe must be (length, d_model), got shape {pe.shape}.")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.8))
    image = left.imshow(pe, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto", interpolation="nearest")
    left.grid(False)
    left.set(title="PE[pos, j]", xlabel="feature j (even: sin, odd: cos)", ylabel="position pos")
    fig.colorbar(image, ax=left, label="value", shrink=0.85)
    gram = pe @ pe.T
    image = right.imshow(gram, cmap="viridis", aspect="auto", interpolation="nearest")
    right.grid(False)
    right.set(title="PE[p] . PE[q]", xlabel="position q", ylabel="position p")
    fig.colorbar(image, ax=right, label="dot product", shrink=0.85)
    fig.suptitle(title)
    return fig


def _limits(points: np.ndarray, limits: Sequence[float] | None) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax): ``limits`` as given, or the points' range with a 10% margin on each side."""
    if limits is not None:
        if len(limits) != 4:
            raise ValueError(f"embedding_frame: limits is (xmin, xmax, ymin, ymax), got {limits!r}.")
        return tuple(float(v) for v in limits)
    bounds = []
    for low, high in zip(points.min(axis=0), points.max(axis=0)):
        margin = 0.1 * (high - low) if high > low else 1.0
        bounds += [float(low - margin), float(high + margin)]
    return tuple(bounds)


def embedding_frame(points, words: Sequence[str], groups: Sequence[str], word: str,
                    neighbours: Sequence[tuple[str, float]], title: str = "",
                    limits: Sequence[float] | None = None) -> plt.Figure:
    """The embedding explorer's frame: a word, its nearest neighbours, and a 2-D projection of the embeddings.

    points: (n, 2) coordinates (a PCA projection computed by the caller); words, groups: n words and their group
    names (one colour per distinct group, in the order first seen, with a legend); word: the chosen word, one of
    ``words``; neighbours: (word, cosine) pairs, most similar first.

    Left: the n points, with the words of the chosen word's group and its neighbours labelled (labelling every
    point crowds the clusters); the chosen word's point larger with a black ring, its
    neighbours' points (those among ``words``) ringed in red. ``limits = (xmin, xmax, ymin, ymax)`` fixes the axes,
    so that the frames of an explorer line up (default: the points' range and a 10% margin). Right: one horizontal
    bar per neighbour, its cosine similarity on a fixed scale from -1 to 1, the most similar on top. A fixed
    layout, so that frames line up as a slider moves.
    """
    xy = _float64(points)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"embedding_frame: points must be (n, 2), one 2-D point per word (project the embeddings "
                         f"first, e.g. with PCA), got shape {xy.shape}.")
    words, groups = [str(w) for w in words], [str(g) for g in groups]
    if not len(xy) == len(words) == len(groups):
        raise ValueError(f"embedding_frame: points, words and groups must have one entry per word, got {len(xy)} "
                         f"points, {len(words)} words and {len(groups)} groups.")
    if word not in words:
        shown = ", ".join(map(repr, words[:8])) + (", ..." if len(words) > 8 else "")
        raise ValueError(f"embedding_frame: word {word!r} is not among the {len(words)} words ({shown}).")
    pairs = [(str(w), float(c)) for w, c in neighbours]
    for other, cosine in pairs:
        if not -1 - 1e-6 <= cosine <= 1 + 1e-6:
            raise ValueError(f"embedding_frame: the cosine of neighbour {other!r} is {cosine}; a cosine similarity "
                             "lies in [-1, 1]. Normalise the vectors before the dot product.")
    names = list(dict.fromkeys(groups))  # distinct, in the order first seen
    color = {g: GROUP_COLORS[i % len(GROUP_COLORS)] for i, g in enumerate(names)}
    chosen, near = words.index(word), {w for w, _ in pairs}
    edges = ["black" if i == chosen else HIGHLIGHT if w in near else color[g]
             for i, (w, g) in enumerate(zip(words, groups))]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10.0, 4.2), gridspec_kw={"width_ratios": [1.6, 1.0]},
                                   layout="none")
    fig.subplots_adjust(left=0.07, right=0.97, bottom=0.14, top=0.86 if title else 0.9, wspace=0.38)
    left.scatter(xy[:, 0], xy[:, 1], c=[color[g] for g in groups], edgecolors=edges, zorder=3,
                 s=[120 if i == chosen else 30 for i in range(len(words))],
                 linewidths=[2.0 if e in ("black", HIGHLIGHT) else 0.0 for e in edges])
    labelled = [i for i, (w, g) in enumerate(zip(words, groups)) if g == groups[chosen] or w in near]
    for i in labelled:  # the chosen word, its group and its neighbours: every label would crowd the clusters
        left.annotate(words[i], (xy[i, 0], xy[i, 1]), xytext=(4, 3), textcoords="offset points", fontsize=8,
                      fontweight="bold" if i == chosen else "normal")
    xmin, xmax, ymin, ymax = _limits(xy, limits)
    left.set(xlim=(xmin, xmax), ylim=(ymin, ymax), xlabel="principal axis 1", ylabel="principal axis 2")
    handles = [Line2D([], [], marker="o", linestyle="", color=color[g], label=g) for g in names]
    left.legend(handles=handles, loc="best", fontsize=8)
    cosines = [c for _, c in pairs]
    right.barh(range(len(pairs)), cosines, color=HIGHLIGHT)
    for k, c in enumerate(cosines):
        right.text(c + (0.03 if c >= 0 else -0.03), k, f"{c:.2f}", va="center", ha="left" if c >= 0 else "right",
                   fontsize=8)
    right.axvline(0.0, color="black", linewidth=0.8)
    right.set_yticks(range(len(pairs)))
    right.set_yticklabels([w for w, _ in pairs], fontsize=8)
    right.set_ylim(max(len(pairs), 1) - 0.5, -0.5)  # the first (most similar) on top
    right.set(xlim=(-1.0, 1.25), xlabel=f"cosine similarity to {word}", title=f"{word}'s nearest neighbours")
    right.set_xticks([-1.0, -0.5, 0.0, 0.5, 1.0])  # room on the right for the value of a cosine near 1
    if title:
        fig.suptitle(title)
    return fig


def memory_weights(weights: dict[str, object], slots: Sequence[str] | None = None,
                   title: str = "Content-based addressing: read weights") -> plt.Figure:
    """Read weights over the M slots of a memory, one bar colour per entry of ``weights`` (label -> (M,) weights,
    e.g. {"β = 0": w0, "β = 1": w1}), the bars of one slot side by side, on a fixed scale from 0 to 1.05.

    slots: the M tick labels (0, ..., M-1 by default).
    """
    if not weights:
        raise ValueError("memory_weights: give at least one label -> (M,) read weights.")
    rows = {label: _float64(w) for label, w in weights.items()}
    for label, w in rows.items():
        if w.ndim != 1:
            raise ValueError(f"memory_weights: the weights of {label!r} must be 1-D, one per memory slot (M,), got "
                             f"shape {w.shape}. Pick one read head and one example first, e.g. w[0].")
    sizes = {label: len(w) for label, w in rows.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"memory_weights: every entry needs the same number of slots M, got lengths {sizes}.")
    m, count = next(iter(sizes.values())), len(rows)
    if slots is not None and len(slots) != m:
        raise ValueError(f"memory_weights: slots gives {len(slots)} tick labels for M = {m} memory slots.")
    width = 0.8 / count
    fig, ax = plt.subplots(figsize=(max(5.0, 0.45 * m * count ** 0.5 + 2.0), 3.6))
    for k, (label, w) in enumerate(rows.items()):
        ax.bar(np.arange(m) + (k - (count - 1) / 2) * width, w, width=width, label=label,
               color=PALETTE[k % len(PALETTE)])
    ax.set_xticks(range(m))
    ax.set_xticklabels(list(slots) if slots is not None else range(m))
    ax.set_ylim(0, 1.05)
    ax.set(xlabel="memory slot i", ylabel="read weight w_i", title=title)
    ax.legend()
    return fig
