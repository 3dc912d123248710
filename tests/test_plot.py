import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from helpers import plot
from helpers.train import History


def test_house_style_is_applied():
    assert matplotlib.rcParams["axes.spines.top"] is False
    assert matplotlib.rcParams["axes.grid"] is True


def test_learning_curves_labels_and_best_epoch():
    fig = plot.learning_curves(History(train_loss=[3, 2, 1], val_loss=[3, 2.5, 2.7], best_epoch=1))
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and "loss" in ax.get_ylabel() and ax.get_title()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["training loss", "validation loss", "best validation epoch"]
    plt.close(fig)


def test_function_plot_sorts_x_and_draws_points():
    x = torch.tensor([0.5, 0.1, 0.9])
    fig = plot.function_plot({"f": (x, x**2)}, {"data": (x, x)}, title="t", xlabel="x (m)", ylabel="y (s)")
    line = fig.axes[0].lines[0]
    assert list(line.get_xdata()) == sorted(x.tolist())
    assert fig.axes[0].get_xlabel() == "x (m)"
    plt.close(fig)


def test_image_grid_layout_and_errors():
    fig = plot.image_grid(torch.rand(10, 1, 8, 8), labels=list(range(10)), columns=4, title="digits")
    assert len(fig.axes) == 12 and fig.axes[0].get_title() == "0"
    plt.close(fig)
    with pytest.raises(ValueError, match="expects"):
        plot.image_grid(torch.rand(8, 8))


def test_panels_have_a_fixed_layout():
    fig, axes = plot.panels(3, figsize=(9, 3))
    assert len(axes) == 3 and fig.get_layout_engine() is None
    plt.close(fig)


def test_value_bars_write_each_value_and_cut_the_tall_ones():
    fig, ax = plt.subplots()
    plot.value_bars(ax, {"bias²": 0.1, "variance": 5.0, "noise σ²": 0.09}, top=0.5)
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([0.1, 0.5, 0.09]) and ax.get_ylim()[1] >= 0.5
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bias²", "variance", "noise σ²"]
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["0.100", "5.000 (off the scale)", "0.090"] and ax.patches[1].get_hatch() == "//"
    plt.close(fig)


def test_computation_graph_draws_one_box_per_node_and_one_arrow_per_edge():
    from helpers.nn.autograd import Value, graph

    x, w = Value(2.0, label="x"), Value(-1.0, label="w")
    y = (x * w + x).tanh()
    y.backward()
    fig = plot.computation_graph(y, "y = tanh(xw + x)")
    ax = fig.axes[0]
    nodes, edges = graph(y)
    arrows = [t for t in ax.texts if type(t).__name__ == "Annotation"]
    boxes = [t for t in ax.texts if type(t).__name__ != "Annotation"]
    assert len(boxes) == len(nodes) and len(arrows) == len(edges) and ax.get_title() == "y = tanh(xw + x)"
    assert all("grad" in t.get_text() for t in boxes)
    plt.close(fig)


def test_computation_graph_can_leave_the_gradients_out():
    from helpers.nn.autograd import Value

    x = Value(0.5, label="x")
    y = (x * x).sigmoid()
    fig = plot.computation_graph(y, "forward only", show_grad=False)
    boxes = [t for t in fig.axes[0].texts if type(t).__name__ != "Annotation"]
    assert len(boxes) == 3 and not any("grad" in t.get_text() for t in boxes)
    assert any(t.get_text().endswith("0.5000") for t in boxes)  # the forward values are still there
    plt.close(fig)
