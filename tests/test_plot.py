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


# ---------------------------------------------------------------- chapter 5's figures
def _run(offset: float) -> dict:
    return {"epoch": [1, 5, 10], "train_loss": [2.0, 0.5, 0.1], "held_loss": [2.0 + offset, 0.6, 0.7],
            "train_acc": [0.1, 0.9, 1.0], "held_acc": [0.1, 0.8, 0.85]}


def test_train_held_curves_draw_both_losses_the_held_out_loss_alone_and_the_accuracies():
    fig = plot.train_held_curves({"a": _run(0.0), "b": _run(0.1)}, title="t")
    both, held, accuracy = fig.axes
    assert len(both.lines) == 4 and len(held.lines) == 2 and len(accuracy.lines) == 4
    assert both.get_yscale() == "log" and held.get_yscale() == "linear"
    assert held.get_ylim()[0] < 0.6 < held.get_ylim()[1]  # the zoom is around the lowest held-out loss
    plt.close(fig)


def test_weight_paths_draw_one_line_per_weight_and_the_true_weights():
    lambdas = torch.logspace(-2, 1, 5)
    fig = plot.weight_paths(lambdas, {"L2": torch.randn(3, 5), "L1": torch.randn(3, 5)}, torch.tensor([1.0, 0.0, 2.0]))
    for ax in fig.axes:
        assert len(ax.lines) == 3 + 1  # three weights and the zero line
        assert ax.collections[0].get_offsets().shape == (3, 2)  # the true weights
    plt.close(fig)


def test_penalty_frame_counts_the_exact_zeros_in_its_title():
    lambdas = torch.logspace(-2, 1, 4)
    errors = torch.ones(4)
    fig = plot.penalty_frame(torch.tensor([1.0, 0.0, 0.0]), torch.zeros(3), lambdas, errors, errors, 2, "L1")
    assert "2 weights exactly 0" in fig.axes[0].get_title()
    fig = plot.penalty_frame(torch.tensor([1.0, 0.0, 2.0]), torch.zeros(3), lambdas, errors, errors, 2, "L1")
    assert "1 weight exactly 0" in fig.axes[0].get_title()
    plt.close("all")


def test_paired_runs_join_each_seed_and_label_ties_once():
    fig = plot.paired_runs({"without": torch.tensor([0.90, 0.91, 0.92]), "with": torch.tensor([0.93, 0.93, 0.91])},
                           ylabel="accuracy")
    ax = fig.axes[0]
    assert len(ax.lines) == 3 + 1  # one per seed and the mean
    assert sorted(t.get_text() for t in ax.texts) == ["seed 2", "seeds 0, 1"]
    plt.close(fig)


def test_dropout_rate_frame_draws_the_reference_run_once_at_p_zero():
    runs = {p: _run(p) for p in (0.0, 0.5)}
    assert len(plot.dropout_rate_frame(runs, 0.5).axes[0].lines) == 4
    assert len(plot.dropout_rate_frame(runs, 0.0).axes[0].lines) == 2
    plt.close("all")


def test_constraint_picture_marks_each_constrained_minimum():
    center = torch.tensor([2.0, 0.4], dtype=torch.float64)

    def bowl(w):
        return 0.5 * ((w - center) ** 2).sum(-1)

    solutions = {"L2 ball": torch.tensor([0.98, 0.2]), "L1 ball": torch.tensor([1.0, 0.0])}
    fig = plot.constraint_picture(bowl, center, 1.0, solutions)
    assert [ax.get_title() for ax in fig.axes] == ["L2 ball", "L1 ball"]
    assert all("constrained minimum" in " ".join(t.get_text() for t in ax.get_legend().get_texts()) for ax in fig.axes)
    plt.close(fig)


@pytest.mark.parametrize("module", ["vae", "gan", "domain", "translation", "autoregressive", "evaluation",
                                    "hypothesis"])
def test_chapter_figures_are_exported_through_helpers_plot(module):
    import importlib

    from helpers import plot

    figures = importlib.import_module(f"helpers.plot.{module}")
    assert figures.__all__, f"helpers.plot.{module} lists no figures"
    assert all(getattr(plot, name) is getattr(figures, name) for name in figures.__all__)
    assert set(figures.__all__) <= set(plot.__all__)
