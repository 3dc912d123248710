"""The explorers' frames are palette PNGs: much smaller than matplotlib's own PNG and the same picture."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.widgets import FRAME_DPI, figure_png  # noqa: E402


def busy_figure() -> plt.Figure:
    """Lines, a scatter, a filled area, text and a colour map: what the book's explorer frames hold."""
    rng = np.random.default_rng(0)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    x = np.linspace(-3, 3, 200)
    for k in range(4):
        left.plot(x, np.sin(x * (k + 1)) / (k + 1), label=f"k = {k}")
    left.fill_between(x, 0, np.exp(-x**2), alpha=0.3)
    left.scatter(rng.normal(size=60), rng.normal(size=60) / 3, s=8)
    left.legend()
    left.set_title("degree 3, noise σ = 0.3")
    right.imshow(rng.random((8, 8)), cmap="viridis")
    return fig


def matplotlib_png(fig: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FRAME_DPI)
    return buffer.getvalue()


def test_frames_are_palette_pngs_of_the_same_picture_and_much_smaller():
    reference = matplotlib_png(busy_figure())
    frame = figure_png(busy_figure())
    original = Image.open(io.BytesIO(reference))
    small = Image.open(io.BytesIO(frame))
    assert small.format == "PNG" and small.mode == "P" and small.size == original.size
    before = np.asarray(original.convert("RGB"), dtype=int)
    after = np.asarray(small.convert("RGB"), dtype=int)
    difference = np.abs(before - after)
    assert difference.mean() < 0.5, "on average a pixel keeps its colour"
    assert (difference.max(axis=-1) > 24).mean() < 0.005, "hardly any pixel changes visibly"
    assert len(frame) < 0.6 * len(reference), (len(frame), len(reference))


def test_frames_are_deterministic_and_close_their_figure():
    fig = busy_figure()
    first = figure_png(fig)
    assert not plt.fignum_exists(fig.number)
    assert figure_png(busy_figure()) == first
