"""Figures of chapter 10's unpaired translation (CycleGAN): each image next to its translation and its round trip.

With G: X -> Y and F: Y -> X, the rows are x, G(x), F(G(x)) and y, F(y), G(F(y)); the round trips are what the
cycle-consistency loss compares with x and y. When the true translation is known (the demo's inverted digits), a
row of it, never seen by the training, shows whether G learned THE map or only some map onto Y.

Every name in ``__all__`` is re-exported by ``helpers.plot``, so a notebook calls ``plot.<name>``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch
from torch import nn

from helpers.plot.autoencoder import image_rows

__all__: list[str] = ["translation_rows"]


def _on(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """model(images) without gradients, on the model's device, back on the CPU."""
    device = next(model.parameters(), torch.empty(0)).device
    with torch.no_grad():
        return model(images.to(device)).cpu()


def translation_rows(G: nn.Module, F: nn.Module, x: torch.Tensor, y: torch.Tensor, true_y: torch.Tensor | None = None,
                     true_x: torch.Tensor | None = None, title: str = "") -> plt.Figure:
    """Rows of 8x8 images (``plot.image_rows``, gray_r from 0 to 1): x (n, 1, h, w), G(x), [true_y], F(G(x)), then
    y (m, 1, h, w), F(y), [true_x], G(F(y)). ``true_y``: the true translations of x, if known (and ``true_x`` of y),
    drawn under the model's; leave them out for real unpaired data. Images of one row share a column with their
    translations."""
    for name, images in (("x", x), ("y", y), ("true_y", true_y), ("true_x", true_x)):
        if images is not None and (not isinstance(images, torch.Tensor) or images.ndim != 4):
            raise ValueError(f"translation_rows: {name} must be an (n, 1, h, w) tensor of images, got "
                             f"{getattr(images, 'shape', type(images).__name__)}.")
    for name, truth, images in (("true_y", true_y, x), ("true_x", true_x, y)):
        if truth is not None and truth.shape != images.shape:
            raise ValueError(f"translation_rows: {name} must hold one true translation per image, shape "
                             f"{tuple(images.shape)}, got {tuple(truth.shape)}.")
    g_x, f_y = _on(G, x), _on(F, y)
    rows = {"x": x, "G(x)": g_x}
    if true_y is not None:
        rows["true T(x), unseen"] = true_y
    rows["F(G(x))"] = _on(F, g_x)
    rows["y"], rows["F(y)"] = y, f_y
    if true_x is not None:
        rows["true T^-1(y), unseen"] = true_x
    rows["G(F(y))"] = _on(G, f_y)
    return image_rows({label: images.detach().cpu() for label, images in rows.items()}, title=title, frame=True)
