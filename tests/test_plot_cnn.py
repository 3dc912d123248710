"""Chapter 6's figures of trained CNNs: what they draw, the numbers in their titles and legends, their errors.

Every expected number is computed here from the inputs (max, mean, a formatted value), not read from the code.
"""


import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from figures import legend, renders

from helpers import plot


def test_every_figure_is_exported_through_helpers_plot():
    for name in plot.cnn.__all__:
        assert getattr(plot, name) is getattr(plot.cnn, name)
        assert name in plot.__all__


# ---------------------------------------------------------------- shift_accuracy
def test_shift_accuracy_draws_each_model_and_quotes_its_unshifted_and_plus_one_accuracy():
    shifts = [-2, -1, 0, 1, 2]
    horizontal = {"CNN": [0.3, 0.8, 0.986, 0.758, 0.45], "MLP": [0.2, 0.44, 0.972, 0.482, 0.21]}
    vertical = {"CNN": [0.15, 0.55, 0.986, 0.552, 0.09], "MLP": [0.08, 0.48, 0.972, 0.421, 0.12]}
    fig = plot.shift_accuracy(shifts, horizontal, vertical, title="shifted digits")
    left, right = fig.axes
    assert fig._suptitle.get_text() == "shifted digits"
    assert "horizontal" in left.get_xlabel() and "pixels" in left.get_xlabel() and "vertical" in right.get_xlabel()
    assert left.get_ylabel() == "test accuracy"
    assert legend(left)[:2] == ["CNN: 98.6% unshifted, 75.8% at +1", "MLP: 97.2% unshifted, 48.2% at +1"]
    assert legend(right)[:2] == ["CNN: 98.6% unshifted, 55.2% at +1", "MLP: 97.2% unshifted, 42.1% at +1"]
    assert list(left.lines[0].get_xdata()) == shifts and list(left.lines[0].get_ydata()) == horizontal["CNN"]
    chance = [line for line in left.lines if list(line.get_ydata()) == [0.1, 0.1]]
    assert len(chance) == 1
    assert renders(fig)


def test_shift_accuracy_without_vertical_has_one_panel():
    fig = plot.shift_accuracy([0, 1], {"CNN": [0.9, 0.7]})
    assert len(fig.axes) == 1
    plt.close(fig)


def test_shift_accuracy_errors():
    with pytest.raises(ValueError, match="include 0 and 1"):
        plot.shift_accuracy([-1, 0], {"CNN": [0.5, 0.9]})
    with pytest.raises(ValueError, match="2 accuracies for 3 shifts"):
        plot.shift_accuracy([-1, 0, 1], {"CNN": [0.5, 0.9]})
    plt.close("all")


# ---------------------------------------------------------------- filter_grid
def test_filter_grid_shows_every_kernel_with_its_numbers_on_one_symmetric_scale():
    torch.manual_seed(0)
    weight = torch.randn(10, 1, 3, 3)
    fig = plot.filter_grid(weight, title="filters")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 10 and len(fig.axes) == 16  # 2 rows of 8, the last 6 panels empty
    limit = weight.abs().max().item()
    assert all(im.get_clim() == pytest.approx((-limit, limit)) for im in images)
    np.testing.assert_allclose(images[4].get_array(), weight[4, 0].numpy())
    texts = [t.get_text() for t in fig.axes[4].texts]
    assert texts == [f"{v:.2f}" for v in weight[4, 0].flatten().tolist()]
    assert fig.axes[4].get_title() == "filter 4"
    assert fig._suptitle.get_text().startswith("filters") and f"{limit:.2f}" in fig._suptitle.get_text()
    assert renders(fig)


def test_filter_grid_rejects_more_than_one_input_channel():
    with pytest.raises(ValueError, match=r"\(C_out, 1, k, k\)"):
        plot.filter_grid(torch.zeros(4, 3, 3, 3))


# ---------------------------------------------------------------- feature_map_grid and filter_frame
def test_feature_map_grid_puts_each_image_before_its_chosen_maps():
    images, maps = torch.rand(3, 1, 8, 8), torch.rand(3, 16, 8, 8)
    fig = plot.feature_map_grid(images, maps, channels=[2, 5], title="maps")
    assert len(fig.axes) == 9  # 3 rows of (image, map 2, map 5)
    np.testing.assert_allclose(fig.axes[0].images[0].get_array(), images[0, 0].numpy())
    np.testing.assert_allclose(fig.axes[3 + 2].images[0].get_array(), maps[1, 5].numpy())
    assert [ax.get_title() for ax in fig.axes[:3]] == ["input", "map 2", "map 5"]
    assert renders(fig)
    with pytest.raises(ValueError, match="N = 3"):
        plot.feature_map_grid(images, torch.rand(2, 16, 8, 8))


def test_filter_frame_shows_the_chosen_filter_and_its_maps_with_their_maxima():
    torch.manual_seed(1)
    weight, images, maps = torch.randn(16, 1, 3, 3), torch.rand(4, 1, 8, 8), torch.rand(4, 16, 8, 8).relu()
    fig = plot.filter_frame(weight, images, maps, 7)
    kernel_ax = fig.axes[0]
    assert kernel_ax.get_title() == "filter 7"
    np.testing.assert_allclose(kernel_ax.images[0].get_array(), weight[7, 0].numpy())
    map_titles = [ax.get_title() for ax in fig.axes[1:] if ax.get_title()]
    assert map_titles == [f"max {maps[i, 7].max().item():.2f}" for i in range(4)]
    assert fig.get_layout_engine() is None  # fixed layout: every explorer frame the same
    assert renders(fig)
    with pytest.raises(ValueError, match=r"index must be in \[0, 16\)"):
        plot.filter_frame(weight, images, maps, 16)
    with pytest.raises(ValueError, match="C_out = 16"):
        plot.filter_frame(weight, images, maps[:, :8], 0)


# ---------------------------------------------------------------- saliency_grid, class_images, dream_figure
def test_saliency_grid_draws_digits_over_their_maps():
    images, maps = torch.rand(5, 1, 8, 8), torch.rand(5, 8, 8)
    fig = plot.saliency_grid(images, maps, labels=[f"label {i}" for i in range(5)], title="saliency")
    assert len(fig.axes) == 10 and fig.axes[0].get_title() == "label 0"
    np.testing.assert_allclose(fig.axes[5].images[0].get_array(), maps[0].numpy())  # bottom row, column 0
    assert fig._suptitle.get_text().startswith("saliency") and "its own colour scale" in fig._suptitle.get_text()
    for i in range(5):  # each map from 0 to its own maximum
        assert fig.axes[5 + i].images[0].get_clim() == pytest.approx((0.0, maps[i].max().item()))
    assert renders(fig)
    with pytest.raises(ValueError, match="same shape"):
        plot.saliency_grid(images, torch.rand(4, 8, 8))


def test_class_images_titles_carry_the_scores_and_the_scale():
    images, scores = torch.randn(10, 1, 8, 8), [float(10 * i) + 0.4 for i in range(10)]
    fig = plot.class_images(images, scores, title="ascent")
    assert [ax.get_title() for ax in fig.axes] == [f"class {k}\nscore {10 * k}" for k in range(10)]
    limit = images.abs().max().item()
    assert f"{limit:.2f}" in fig._suptitle.get_text()
    assert all(ax.images[0].get_clim() == pytest.approx((-limit, limit)) for ax in fig.axes)
    assert renders(fig)
    with pytest.raises(ValueError, match="one value per image"):
        plot.class_images(images, scores[:9])


def test_dream_figure_shares_one_scale_draws_the_change_and_the_objective():
    before = torch.rand(1, 1, 8, 8)
    after = before + 0.5 * torch.randn(1, 1, 8, 8)
    steps, objective = [0, 5, 10], [319.5, 487.7, 717.8]
    fig = plot.dream_figure(before, after, steps, objective, title="dream")
    first, second, change, curve = fig.axes
    low, high = min(before.min(), after.min()).item(), max(before.max(), after.max()).item()
    assert first.images[0].get_clim() == pytest.approx((low, high)) == second.images[0].get_clim()
    np.testing.assert_allclose(change.images[0].get_array(), (after - before)[0, 0].numpy(), rtol=1e-6)
    assert list(curve.lines[0].get_ydata()) == objective and curve.get_title() == "objective 319.5 -> 717.8"
    assert "steps" in curve.get_xlabel() and curve.get_ylabel()
    assert renders(fig)
    with pytest.raises(ValueError, match="same length"):
        plot.dream_figure(before, after, [0, 5], objective)
    with pytest.raises(ValueError, match="one gray image"):
        plot.dream_figure(torch.rand(2, 1, 8, 8), after, steps, objective)


# ---------------------------------------------------------------- transfer_comparison, parameter_bars
def test_transfer_comparison_draws_the_mean_of_each_size_and_every_seed():
    results = {"scratch": torch.tensor([[0.6, 0.8], [0.9, 0.95]]), "frozen": torch.tensor([[0.7, 0.7], [0.92, 0.94]])}
    fig = plot.transfer_comparison([1, 10], results, title="transfer")
    ax = fig.axes[0]
    assert ax.get_title() == "transfer" and "per class" in ax.get_xlabel() and "accuracy" in ax.get_ylabel()
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.7, 0.925])
    np.testing.assert_allclose(ax.lines[1].get_ydata(), [0.7, 0.93])
    assert [len(c.get_offsets()) for c in ax.collections] == [4, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "10"] and legend(ax) == ["scratch", "frozen"]
    assert ax.get_ylim()[0] == pytest.approx(0.55)  # 5 points below the lowest accuracy
    assert renders(fig)
    with pytest.raises(ValueError, match=r"shape \(3, seeds\)"):
        plot.transfer_comparison([1, 3, 10], results)


def test_parameter_bars_label_each_bar_with_its_count():
    counts = {"LeNet-5": 61706, "VGG-16": 138357544}
    fig = plot.parameter_bars(counts, title="counts")
    ax = fig.axes[0]
    assert [bar.get_width() for bar in ax.patches] == [61706, 138357544]
    assert [t.get_text() for t in ax.texts] == ["61,706", "138,357,544"]
    assert ax.get_xscale() == "log" and ax.get_title() == "counts" and "parameters" in ax.get_xlabel()
    assert renders(fig)
    with pytest.raises(ValueError, match="positive"):
        plot.parameter_bars({"empty": 0})
