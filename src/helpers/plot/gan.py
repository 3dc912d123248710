"""Figures of chapter 10's generative adversarial networks: the optimal discriminator of two 1-D densities, the class
histograms of generated digits over training, the GAN explorer's frame, the training curves, and a conditional GAN's
samples by requested class.

For a fixed generator the best discriminator is D*(x) = p_data(x) / (p_data(x) + p_g(x)) (``helpers.models.gan``):
1 where only the data has mass, 0 where only the generator has, 1/2 where the densities are equal
(``optimal_discriminator_plot``). Mode collapse shows in a classifier's histogram of the generated digits: a uniform
generator puts 0.1 on each of the ten classes, a collapsed one leaves some classes (nearly) empty
(``class_histogram_bars``, ``gan_frame``). ``gan_losses_plot`` draws the losses and D's mean outputs on real and
generated batches, as running means: with the minimax generator loss D's output on the fakes sinks towards 0.

Images are in [0, 1] (map a generator's tanh output with (G(z) + 1) / 2, as ``GANHistory.snapshots`` already are) and
drawn with gray_r from 0 (white) to 1 (black), as in chapter 9. Every name in ``__all__`` is re-exported by
``helpers.plot``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

from helpers.plot import PALETTE
from helpers.plot.autoencoder import IMAGE_CMAP, _array, _images, image_rows, mosaic

__all__: list[str] = ["class_histogram_bars", "gan_frame", "gan_losses_plot", "optimal_discriminator_plot",
                      "samples_by_class"]

UNIFORM = "#7f7f7f"  # the dashed line of the uniform share 1 / K


def _vector(name: str, values, n: int | None = None) -> np.ndarray:
    v = _array(values)
    if v.ndim != 1 or len(v) == 0 or (n is not None and len(v) != n):
        size = "n" if n is None else str(n)
        raise ValueError(f"{name} must be a vector ({size},), got shape {v.shape}.")
    return v


def _histogram(name: str, values) -> np.ndarray:
    h = _vector(name, values)
    if np.any(h < 0) or abs(h.sum() - 1) > 1e-6:
        raise ValueError(f"{name} must hold class fractions (>= 0, summing to 1), e.g. class_histogram(classifier, "
                         f"images); got a sum of {h.sum():.4g}.")
    return h


def _class_bars(ax: plt.Axes, histogram: np.ndarray, top: float) -> None:
    k = len(histogram)
    ax.bar(np.arange(k), histogram, color=PALETTE[0], width=0.8)
    ax.axhline(1 / k, color=UNIFORM, linestyle="--", linewidth=1)
    ax.set(xticks=np.arange(k), ylim=(0, top), xlim=(-0.6, k - 0.4))


def optimal_discriminator_plot(x, p_data, p_g, d_star, title: str = "") -> plt.Figure:
    """Top: the densities p_data(x) and p_g(x); below, on the same x axis: D*(x) between 0 and 1, with the line 1/2.

    x, p_data, p_g, d_star: (n,) values at the same points (``helpers.models.gan.normal_pdf`` and
    ``optimal_discriminator``); D* is nan where both densities vanish (a gap in its curve).
    """
    x = _vector("optimal_discriminator_plot: x", x)
    p_data, p_g, d_star = (_vector(f"optimal_discriminator_plot: {name} (one value per x)", v, len(x))
                           for name, v in (("p_data", p_data), ("p_g", p_g), ("d_star", d_star)))
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 5.0), sharex=True, height_ratios=(3, 2))
    top.plot(x, p_data, color=PALETTE[0], label="$p_{data}(x)$")
    top.plot(x, p_g, color=PALETTE[1], label="$p_g(x)$")
    top.set(ylabel="density", ylim=(0, None), title=title)
    top.legend()
    bottom.plot(x, d_star, color=PALETTE[2], label="$D^*(x) = p_{data} / (p_{data} + p_g)$")
    bottom.axhline(0.5, color=UNIFORM, linestyle="--", linewidth=1, label="1/2")
    bottom.set(xlabel="x", ylabel="$D^*(x)$", ylim=(-0.03, 1.03))
    bottom.legend(loc="best")
    return fig


def class_histogram_bars(histograms: dict, title: str = "", share: float = 0.05, columns: int = 5) -> plt.Figure:
    """One bar panel per snapshot, ``histograms``: step -> (K,) class fractions (``class_histogram``), in step order.

    Each panel shows the fraction of generated images per predicted class on one y scale (0 to the largest
    fraction), the uniform share 1/K as a dashed line, and is titled with the step and how many classes reach
    ``share`` (a class below it is a missing or rare mode). ``columns`` panels a row.
    """
    if not isinstance(histograms, dict) or not histograms:
        raise ValueError("class_histogram_bars: pass a non-empty dict step -> (K,) class fractions, e.g. "
                         "{step: class_histogram(classifier, images) for step, images in history.snapshots.items()}.")
    bars = {int(step): _histogram(f"class_histogram_bars: histograms[{step!r}]", h)
            for step, h in sorted(histograms.items())}
    if len({len(h) for h in bars.values()}) != 1:
        raise ValueError("class_histogram_bars: every histogram needs the same number of classes.")
    k = len(next(iter(bars.values())))
    top = 1.1 * max(max(float(h.max()) for h in bars.values()), 1 / k)
    cols = min(columns, len(bars))
    rows = math.ceil(len(bars) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols + 0.4, 2.0 * rows + (0.5 if title else 0.2)),
                             squeeze=False, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= len(bars):
            ax.set_visible(False)
            continue
        step, h = list(bars.items())[i]
        _class_bars(ax, h, top)
        ax.tick_params(labelsize=8)
        ax.set_title(f"step {step}: {int((h >= share).sum())} of {k} >= {share:g}", fontsize=9)
        if i % cols == 0:
            ax.set_ylabel("fraction")
        if i >= len(bars) - cols:
            ax.set_xlabel("predicted class", fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def gan_frame(images, histogram, step: int, d_loss: float, g_loss: float) -> plt.Figure:
    """The GAN explorer's frame, a fixed layout. Left: the generated ``images`` (n, 8, 8) or (n, 1, 8, 8) in [0, 1]
    as a square mosaic, row by row; right: their class ``histogram`` (K,) on a fixed 0-1 scale with the uniform
    share 1/K dashed; titled with the ``step`` and the losses there."""
    x = _images("gan_frame: images", images)
    h = _histogram("gan_frame: histogram", histogram)
    side = math.ceil(math.sqrt(len(x)))
    fig = plt.figure(figsize=(8.4, 4.0), layout="none")
    left = fig.add_axes((0.02, 0.04, 0.46, 0.82))
    left.imshow(mosaic(x, math.ceil(len(x) / side), side), cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0,
                interpolation="nearest")
    left.set_axis_off()
    right = fig.add_axes((0.59, 0.14, 0.38, 0.72))
    _class_bars(right, h, 1.0)
    right.set(xlabel="predicted class", ylabel="fraction of the samples")
    fig.suptitle(f"step {step}: D loss {d_loss:.3f}, G loss {g_loss:.3f}", fontsize=11)
    return fig


def _running_mean(values, window: int) -> np.ndarray:
    """Mean of the last ``window`` values at each step (fewer at the start)."""
    v = np.asarray(values, dtype=np.float64)
    sums = np.cumsum(np.concatenate([[0.0], v]))
    ends = np.arange(1, len(v) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def gan_losses_plot(history, title: str = "", window: int = 25) -> plt.Figure:
    """Training curves of a ``GANHistory`` (or a dict label -> GANHistory, one row each), as running means over
    ``window`` steps. Left: D's loss and G's loss (the line log 4 ~ 1.386 marks D's loss at the equilibrium
    D = 1/2, where the non-saturating G loss is log 2 and the minimax one -log 2); right: D's mean output on the
    real batch, D(x), and on the generated one, D(G(z)), with the line 1/2."""
    runs = history if isinstance(history, dict) else {"": history}
    if not runs:
        raise ValueError("gan_losses_plot: pass a GANHistory or a non-empty dict label -> GANHistory.")
    for label, run in runs.items():
        if not all(hasattr(run, name) for name in ("d_loss", "g_loss", "d_real", "d_fake")) or not run.d_loss:
            raise TypeError(f"gan_losses_plot: {label or 'history'} must be a GANHistory from train_gan (with d_loss, "
                            f"g_loss, d_real, d_fake), got {type(run).__name__}.")
    if int(window) != window or window < 1:
        raise ValueError(f"gan_losses_plot: window must be a positive integer, got {window!r}.")
    fig, axes = plt.subplots(len(runs), 2, figsize=(9.0, 3.2 * len(runs) + (0.4 if title else 0)), squeeze=False)
    for (label, run), (losses, outputs) in zip(runs.items(), axes):
        steps = np.arange(1, len(run.d_loss) + 1)
        losses.plot(steps, _running_mean(run.d_loss, window), color=PALETTE[0], label="D loss")
        losses.plot(steps, _running_mean(run.g_loss, window), color=PALETTE[1], label="G loss")
        losses.axhline(math.log(4), color=UNIFORM, linestyle="--", linewidth=1, label="log 4 (D loss at D = 1/2)")
        losses.set(xlabel="step", ylabel="loss", title=f"{label}: losses" if label else "losses")
        losses.legend()
        outputs.plot(steps, _running_mean(run.d_real, window), color=PALETTE[0], label="D(x), real")
        outputs.plot(steps, _running_mean(run.d_fake, window), color=PALETTE[1], label="D(G(z)), generated")
        outputs.axhline(0.5, color=UNIFORM, linestyle="--", linewidth=1, label="1/2")
        outputs.set(xlabel="step", ylabel="mean output of D", ylim=(0, 1),
                    title=f"{label}: discriminator" if label else "discriminator")
        outputs.legend()
    if title:
        fig.suptitle(title)
    return fig


def samples_by_class(images, labels=None, title: str = "", n_classes: int = 10) -> plt.Figure:
    """A conditional GAN's samples, one row per requested class: ``images`` (n, 8, 8) or (n, 1, 8, 8) in [0, 1],
    ``labels`` (n,) the class each was generated for (None: image i was asked for class i % n_classes, the order of
    ``GANHistory.labels``). Row c, labelled "digit c", holds the images of class c in their order."""
    x = _images("samples_by_class: images", images)
    if labels is None:
        y = np.arange(len(x)) % n_classes
    else:
        y = _vector("samples_by_class: labels (one class per image)", labels, len(x))
        if np.any(y != np.round(y)):
            raise ValueError("samples_by_class: labels must be integer classes.")
        y = y.astype(int)
    rows = {f"digit {c}": x[y == c] for c in np.unique(y)}
    return image_rows(rows, title=title, frame=True)
