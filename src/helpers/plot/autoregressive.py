"""Figures of chapter 10's autoregressive models: a sample filled in pixel by pixel.

An autoregressive model draws pixel i from p(x_i | x_<i) in raster order (row by row, left to right). Pixel i
never changes once drawn, so the picture after k steps is the finished sample with pixels k, k + 1, ... not yet
drawn: they are shown as the pale blue-grey of the gaps (NaN), and the next pixel to draw is outlined in red. The
last column shows p(x_i = 1 | x_<i) for every pixel of the finished sample: how sure the model was when it drew it.

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.patches import Rectangle
from torch import nn

from helpers.plot import PALETTE
from helpers.plot.autoencoder import FRAME, IMAGE_CMAP

__all__: list[str] = ["autoregressive_frames"]


def autoregressive_frames(model: nn.Module, samples: torch.Tensor, stages: Sequence[int] = (4, 16, 32, 48, 64),
                          image_shape: tuple[int, int] = (8, 8), title: str = "") -> plt.Figure:
    """One row per sample of ``samples: (n, D)`` (binary, e.g. ``model.sample(n)``), one column per stage k of
    ``stages`` (0 <= k <= D): the sample with its first k pixels drawn (raster order) and the rest blank, the pixel
    drawn next (k < D) outlined in red; then a column of ``model.conditionals(samples)`` = p(x_i = 1 | x_<i),
    reshaped to ``image_shape`` (h, w), h w = D. gray_r from 0 (white) to 1 (black), each tile in a thin grey
    border."""
    x = samples.detach() if isinstance(samples, torch.Tensor) else None
    h, w = image_shape
    if x is None or x.ndim != 2 or x.shape[1] != h * w or len(x) == 0:
        raise ValueError(f"autoregressive_frames: samples must be a non-empty (n, {h * w}) tensor (h * w = D for "
                         f"image_shape {image_shape}), got {getattr(samples, 'shape', type(samples).__name__)}.")
    stages = [int(k) for k in stages]
    if not stages or any(k < 0 or k > h * w for k in stages):
        raise ValueError(f"autoregressive_frames: each stage is a number of pixels drawn, 0 to {h * w}, got {stages}.")
    device = next(model.parameters()).device
    with torch.no_grad():
        probs = model.conditionals(x.to(device=device, dtype=next(model.parameters()).dtype)).cpu().double().numpy()
    pixels = x.cpu().double().numpy()
    n, columns = len(pixels), len(stages) + 1
    fig, axes = plt.subplots(n, columns, figsize=(1.15 * columns, 1.15 * n + (0.5 if title else 0.25)),
                             squeeze=False, layout="constrained")
    for r in range(n):
        for c, k in enumerate(stages):
            frame = pixels[r].copy()
            frame[k:] = np.nan
            ax = axes[r, c]
            ax.imshow(frame.reshape(h, w), cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
            if k < h * w:
                row, col = divmod(k, w)
                ax.add_patch(Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=PALETTE[1], linewidth=1.5))
            if r == 0:
                ax.set_title(f"{k} drawn", fontsize=9)
        axes[r, -1].imshow(probs[r].reshape(h, w), cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
        if r == 0:
            axes[r, -1].set_title("$p(x_i = 1 \\mid x_{<i})$", fontsize=9)
    for ax in axes.flat:  # a thin grey border: white pixels stay visible against the page
        ax.add_patch(Rectangle((-0.5, -0.5), w, h, fill=False, edgecolor=FRAME, linewidth=0.6, clip_on=False))
        ax.set_axis_off()
    if title:
        fig.suptitle(title)
    return fig
