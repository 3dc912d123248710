"""Chapter 10's GAN figures: what they draw, against the inputs, and their errors.

Every expected value is computed here from the inputs (scipy's densities, tiles pasted by hand, running means by a
loop, counts of classes above the share, rows grouped by a loop), not read from the code under test.
"""

import math
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import legend, renders  # noqa: E402
from scipy.stats import norm  # noqa: E402

import helpers.plot.gan as gan_plots  # noqa: E402


def _histogram(seed: int, k: int = 10) -> torch.Tensor:
    h = torch.rand(k, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) ** 3
    return h / h.sum()


def _images(n: int, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _pasted(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Tiles of 8x8 with one NaN pixel between them, image i at (i // cols, i % cols)."""
    out = np.full((rows * 9 - 1, cols * 9 - 1), np.nan)
    for i, image in enumerate(images):
        r, c = i // cols, i % cols
        out[9 * r: 9 * r + 8, 9 * c: 9 * c + 8] = image
    return out


def _bar_heights(ax) -> list[float]:
    return [p.get_height() for p in ax.patches]


def test_every_figure_is_listed():
    assert sorted(gan_plots.__all__) == ["class_histogram_bars", "gan_frame", "gan_losses_plot",
                                         "optimal_discriminator_plot", "samples_by_class"]
    assert all(callable(getattr(gan_plots, name)) for name in gan_plots.__all__)


# ---------------------------------------------------------------- optimal_discriminator_plot
def test_optimal_discriminator_plot_draws_the_densities_above_and_d_star_below():
    x = np.linspace(-4, 6, 101)
    p_data, p_g = norm.pdf(x, 0, 1), norm.pdf(x, 2, 0.7)
    d_star = p_data / (p_data + p_g)
    fig = gan_plots.optimal_discriminator_plot(torch.from_numpy(x), torch.from_numpy(p_data), torch.from_numpy(p_g),
                                               torch.from_numpy(d_star), title="D*")
    top, bottom = fig.axes
    assert top.get_position().y0 > bottom.get_position().y0  # the densities above
    for line, y in zip(top.lines, (p_data, p_g)):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_array_equal(line.get_ydata(), y)
    curve, half = bottom.lines
    np.testing.assert_array_equal(curve.get_ydata(), d_star)
    assert list(half.get_ydata()) == [0.5, 0.5] and half.get_linestyle() == "--"
    assert bottom.get_ylim()[0] < 0 and bottom.get_ylim()[1] > 1
    assert legend(top) == ["$p_{data}(x)$", "$p_g(x)$"] and len(legend(bottom)) == 2
    assert top.get_title() == "D*" and bottom.get_xlabel() == "x"
    assert top.get_shared_x_axes().joined(top, bottom)
    assert renders(fig)


def test_optimal_discriminator_plot_errors():
    x = torch.linspace(0, 1, 5)
    with pytest.raises(ValueError, match=r"d_star \(one value per x\) must be a vector \(5,\), got shape \(4,\)"):
        gan_plots.optimal_discriminator_plot(x, x, x, x[:4])
    with pytest.raises(ValueError, match=r"x must be a vector \(n,\)"):
        gan_plots.optimal_discriminator_plot(x[None], x, x, x)


# ---------------------------------------------------------------- class_histogram_bars
def test_class_histogram_bars_one_panel_per_step_in_order_with_the_uniform_line():
    histograms = {300: _histogram(3), 0: torch.eye(10, dtype=torch.float64)[8], 100: _histogram(1),
                  200: _histogram(2), 400: torch.full((10,), 0.1, dtype=torch.float64), 500: _histogram(5)}
    fig = gan_plots.class_histogram_bars(histograms, title="over training", columns=4)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6 and len(fig.axes) == 8  # 2 rows of 4, two panels left empty
    top = max(float(h.max()) for h in histograms.values())
    for ax, step in zip(visible, sorted(histograms)):
        h = histograms[step].numpy()
        np.testing.assert_allclose(_bar_heights(ax), h, rtol=0, atol=0)
        (uniform,) = ax.lines
        assert list(uniform.get_ydata()) == [0.1, 0.1] and uniform.get_linestyle() == "--"
        assert ax.get_title() == f"step {step}: {sum(v >= 0.05 for v in h)} of 10 >= 0.05"
        assert ax.get_ylim() == pytest.approx((0, 1.1 * top))  # one scale for every panel
    assert visible[0].get_title() == "step 0: 1 of 10 >= 0.05" and visible[4].get_title().startswith("step 400: 10")
    assert fig.get_suptitle() == "over training"
    assert renders(fig)


def test_class_histogram_bars_errors():
    with pytest.raises(ValueError, match="non-empty dict step"):
        gan_plots.class_histogram_bars({})
    with pytest.raises(ValueError, match=r"histograms\[5\] must hold class fractions.*sum of 2"):
        gan_plots.class_histogram_bars({5: torch.full((10,), 0.2)})
    with pytest.raises(ValueError, match="same number of classes"):
        gan_plots.class_histogram_bars({0: _histogram(0), 1: _histogram(1, k=5)})


# ---------------------------------------------------------------- gan_frame
def test_gan_frame_draws_the_mosaic_and_the_bars():
    images, h = _images(20), _histogram(7)
    fig = gan_plots.gan_frame(images, h, 300, 1.2345, 0.8766)
    left, right = fig.axes
    picture = left.images[0].get_array().filled(np.nan)
    np.testing.assert_array_equal(picture, _pasted(images[:, 0].numpy(), 4, 5))  # ceil(sqrt(20)) = 5 columns
    assert left.images[0].get_clim() == (0.0, 1.0)
    np.testing.assert_array_equal(_bar_heights(right), h.numpy())
    assert right.get_ylim() == (0.0, 1.0)
    assert list(right.lines[0].get_ydata()) == [0.1, 0.1]
    assert fig.get_suptitle() == "step 300: D loss 1.234, G loss 0.877"
    assert renders(fig)


def test_gan_frame_has_a_fixed_layout():
    first = gan_plots.gan_frame(_images(100, 1), torch.eye(10, dtype=torch.float64)[3], 0, 1.386, 0.693)
    second = gan_plots.gan_frame(_images(100, 2)[:, 0], _histogram(4), 800, 12.0, 100.0)
    assert renders(first) and renders(second)
    assert tuple(first.get_size_inches()) == tuple(second.get_size_inches())
    for a, b in zip(first.axes, second.axes):
        assert a.get_position().bounds == b.get_position().bounds


def test_gan_frame_errors():
    with pytest.raises(ValueError, match=r"images must be a non-empty \(n, h, w\)"):
        gan_plots.gan_frame(torch.rand(4, 64), _histogram(0), 0, 1.0, 1.0)
    with pytest.raises(ValueError, match="histogram must hold class fractions"):
        gan_plots.gan_frame(_images(4), torch.ones(10), 0, 1.0, 1.0)


# ---------------------------------------------------------------- gan_losses_plot
def _history(seed: int, steps: int = 40):
    g = torch.Generator().manual_seed(seed)
    draw = lambda: torch.rand(steps, generator=g, dtype=torch.float64).tolist()  # noqa: E731
    return SimpleNamespace(d_loss=draw(), g_loss=draw(), d_real=draw(), d_fake=draw())


def _running(values, window):
    return [sum(values[max(0, i + 1 - window): i + 1]) / (i + 1 - max(0, i + 1 - window)) for i in range(len(values))]


def test_gan_losses_plot_draws_running_means_of_the_losses_and_of_d():
    history = _history(0)
    fig = gan_plots.gan_losses_plot(history, title="run", window=7)
    losses, outputs = fig.axes
    d, g, line = losses.lines
    for drawn, values in ((d, history.d_loss), (g, history.g_loss)):
        np.testing.assert_array_equal(drawn.get_xdata(), np.arange(1, 41))
        np.testing.assert_allclose(drawn.get_ydata(), _running(values, 7), rtol=1e-13)
    assert line.get_ydata()[0] == pytest.approx(math.log(4))
    real, fake, half = outputs.lines
    np.testing.assert_allclose(real.get_ydata(), _running(history.d_real, 7), rtol=1e-13)
    np.testing.assert_allclose(fake.get_ydata(), _running(history.d_fake, 7), rtol=1e-13)
    assert list(half.get_ydata()) == [0.5, 0.5] and outputs.get_ylim() == (0.0, 1.0)
    assert legend(losses) == ["D loss", "G loss", "log 4 (D loss at D = 1/2)"] and len(legend(outputs)) == 3
    assert fig.get_suptitle() == "run"
    assert renders(fig)


def test_gan_losses_plot_one_row_per_run():
    runs = {"non-saturating": _history(1), "saturating": _history(2, 30)}
    fig = gan_plots.gan_losses_plot(runs)
    assert len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == ["non-saturating: losses", "non-saturating: discriminator",
                                                   "saturating: losses", "saturating: discriminator"]
    np.testing.assert_allclose(fig.axes[2].lines[0].get_ydata(), _running(runs["saturating"].d_loss, 25), rtol=1e-13)
    assert renders(fig)


def test_gan_losses_plot_errors():
    with pytest.raises(TypeError, match="must be a GANHistory from train_gan"):
        gan_plots.gan_losses_plot([1.0, 2.0])
    with pytest.raises(ValueError, match="window must be a positive integer"):
        gan_plots.gan_losses_plot(_history(0), window=0)
    with pytest.raises(ValueError, match="non-empty dict"):
        gan_plots.gan_losses_plot({})


# ---------------------------------------------------------------- samples_by_class
def test_samples_by_class_puts_the_images_of_each_requested_class_on_its_row():
    images = _images(30, 3)  # image i asked for class i % 10, the order of GANHistory.labels
    fig = gan_plots.samples_by_class(images, title="cGAN")
    assert [ax.texts[0].get_text() for ax in fig.axes] == [f"digit {c}" for c in range(10)]
    for c, ax in enumerate(fig.axes):
        members = [images[i, 0].numpy() for i in range(30) if i % 10 == c]
        np.testing.assert_array_equal(ax.images[0].get_array().filled(np.nan), _pasted(np.stack(members), 1, 3))
    assert fig.get_suptitle() == "cGAN"
    assert renders(fig)


def test_samples_by_class_with_given_labels():
    images = _images(5, 4)[:, 0]
    labels = torch.tensor([2, 0, 2, 2, 0])
    fig = gan_plots.samples_by_class(images, labels)
    assert [ax.texts[0].get_text() for ax in fig.axes] == ["digit 0", "digit 2"]
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array().filled(np.nan)[:, :26],
                                  _pasted(images[[0, 2, 3]].numpy(), 1, 3))
    with pytest.raises(ValueError, match=r"labels \(one class per image\) must be a vector \(5,\)"):
        gan_plots.samples_by_class(images, labels[:3])
    plt.close("all")
