"""helpers.plot.domain: what is drawn against the inputs. domain_regions: every pixel of the shading is the class a
model written here predicts at that pixel's centre (a threshold on x_1 or x_2, known in closed form), the source
and target points are drawn where they are, as dots and crosses in their class's colour, the titles carry the
accuracies counted here, a DANN (a tuple out) works; seed_accuracies: the dots are the values, the dashed lines
are the means, the legend names them, the seeds label the ticks."""

import statistics

import matplotlib
import numpy as np
import pytest
import torch
from figures import legend, renders
from torch import nn

from helpers.data.moons import rotate, two_moons
from helpers.models.domain_adversarial import DANN
from helpers.plot import PALETTE
from helpers.plot.domain import domain_regions, seed_accuracies


class Threshold(nn.Module):
    """Class 1 where x[:, axis] > at, class 0 elsewhere: logits (0, x_axis - at)."""

    def __init__(self, axis, at):
        super().__init__()
        self.axis, self.at = axis, at
        self.dummy = nn.Parameter(torch.zeros((), dtype=torch.float64))  # the plot reads the dtype from here

    def forward(self, x):
        return torch.stack([torch.zeros(len(x), dtype=x.dtype), x[:, self.axis] - self.at + self.dummy], dim=1)


def _data():
    sx, sy = two_moons(40, 0.1, seed=0)
    tx, ty = two_moons(30, 0.1, seed=100)
    return (sx, sy), (rotate(tx, 35), ty)


def test_the_shading_is_each_models_prediction_at_each_pixel():
    source, target = _data()
    models = {"vertical": Threshold(0, 0.3), "horizontal": Threshold(1, 0.1)}
    fig = domain_regions(models, source, target, title="moons", resolution=40)
    assert len(fig.axes) == 2 and fig.get_suptitle() == "moons"
    for ax, m in zip(fig.axes, models.values()):
        (image,) = ax.images
        regions = np.asarray(image.get_array())
        assert regions.shape == (40, 40) and image.origin == "lower"
        left, right, bottom, top = image.get_extent()
        width, height = (right - left) / 40, (top - bottom) / 40
        centres_x = left + width * (np.arange(40) + 0.5)
        centres_y = bottom + height * (np.arange(40) + 0.5)
        coordinate = centres_x[None, :] if m.axis == 0 else centres_y[:, None]
        expected = np.broadcast_to((coordinate > m.at).astype(int), (40, 40))
        assert np.array_equal(regions, expected)
        every = np.concatenate([source[0].numpy(), target[0].numpy()])
        assert left < every[:, 0].min() and right > every[:, 0].max()  # every point inside the shading
        assert bottom < every[:, 1].min() and top > every[:, 1].max()
        assert ax.get_xlim() == (left, right) and ax.get_ylim() == (bottom, top)
        assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"


def test_points_are_dots_and_crosses_in_their_class_colour_and_the_titles_count_the_hits():
    source, target = _data()
    m = Threshold(1, 0.25)
    fig = domain_regions({"plain": m}, source, target)
    ax = fig.axes[0]
    assert legend(ax) == ["source, class 0", "target, class 0", "source, class 1", "target, class 1"]
    collections = ax.collections
    for k, (c, (x, y)) in enumerate([(c, data) for c in (0, 1) for data in (source, target)]):
        points = collections[k]
        np.testing.assert_allclose(points.get_offsets(), x.numpy()[y.numpy() == c], rtol=0, atol=1e-6)
        np.testing.assert_allclose(points.get_facecolor()[0][:3], matplotlib.colors.to_rgb(PALETTE[c]))
    dot, cross = (collections[i].get_paths()[0] for i in (0, 1))
    assert len(dot.vertices) != len(cross.vertices)  # different markers
    hits = {name: np.mean([(p[1] > 0.25) == label for p, label in zip(x.numpy(), y.numpy())])
            for name, (x, y) in {"source": source, "target": target}.items()}
    assert ax.get_title() == f"plain\nsource accuracy {hits['source']:.2f}, target {hits['target']:.2f}"
    assert renders(fig)


def test_a_dann_is_read_through_its_class_logits():
    source, target = _data()
    torch.manual_seed(0)
    dann = DANN()
    fig = domain_regions({"DANN": dann}, source, target, resolution=20)
    left, right, bottom, top = fig.axes[0].images[0].get_extent()
    xs = left + (right - left) / 20 * (np.arange(20) + 0.5)
    ys = bottom + (top - bottom) / 20 * (np.arange(20) + 0.5)
    grid = torch.tensor([[x, y] for y in ys for x in xs], dtype=torch.float32)
    with torch.no_grad():
        expected = dann(grid)[0].argmax(dim=1).numpy().reshape(20, 20)
    assert np.array_equal(np.asarray(fig.axes[0].images[0].get_array()), expected)


def test_domain_regions_errors():
    source, target = _data()
    with pytest.raises(ValueError, match="dict of name -> model"):
        domain_regions({}, source, target)
    with pytest.raises(TypeError, match=r"target must be a pair \(x, y\)"):
        domain_regions({"m": Threshold(0, 0)}, source, target[0])
    with pytest.raises(ValueError, match=r"source must be x \(N, 2\) and y \(N,\)"):
        domain_regions({"m": Threshold(0, 0)}, (source[0], source[1][:-1]), target)
    with pytest.raises(ValueError, match="resolution"):
        domain_regions({"m": Threshold(0, 0)}, source, target, resolution=1)


TABLE = {"plain": [0.665, 0.655, 0.705, 0.68, 0.72], "DANN": [0.8, 0.905, 0.825, 0.78, 0.96]}


def test_seed_accuracies_draws_the_values_and_their_means():
    fig = seed_accuracies(TABLE, title="35 degrees", seeds=[10, 11, 12, 13, 14])
    ax = fig.axes[0]
    dots = [line for line in ax.lines if line.get_marker() == "o"]
    means = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert len(dots) == len(means) == 2
    for j, (dot, mean, values) in enumerate(zip(dots, means, TABLE.values())):
        np.testing.assert_array_equal(dot.get_ydata(), values)
        np.testing.assert_allclose(np.diff(dot.get_xdata()), 1.0)  # one seed per tick
        assert list(mean.get_ydata()) == pytest.approx([statistics.mean(values)] * 2, abs=1e-12)
        assert dot.get_color() == mean.get_color() == PALETTE[j]
    assert dots[0].get_xdata()[0] < 0 < dots[1].get_xdata()[0]  # side by side around each seed's tick
    assert legend(ax) == ["plain", "plain: mean 0.685", "DANN", "DANN: mean 0.854"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["10", "11", "12", "13", "14"]
    assert ax.get_title() == "35 degrees" and ax.get_xlabel() == "seed" and ax.get_ylabel() == "target accuracy"
    low, high = ax.get_ylim()
    assert low <= 0.5 and high >= 1.0
    assert renders(fig)


def test_seed_accuracies_reaches_down_to_the_lowest_value():
    fig = seed_accuracies({"a": torch.tensor([0.25, 0.3]), "b": np.array([0.9, 0.4])})
    assert fig.axes[0].get_ylim()[0] < 0.25
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["0", "1"]


def test_seed_accuracies_errors():
    with pytest.raises(ValueError, match="dict of method -> accuracies"):
        seed_accuracies({})
    with pytest.raises(ValueError, match="one accuracy per seed"):
        seed_accuracies({"a": [0.5, 0.6], "b": [0.7]})
    with pytest.raises(ValueError, match="one accuracy per seed"):
        seed_accuracies({"a": []})
    with pytest.raises(ValueError, match="2 seed labels for 3 accuracies"):
        seed_accuracies({"a": [0.5, 0.6, 0.7]}, seeds=[0, 1])
