"""Chapter 7's figures: what they draw, the numbers in their legends, their errors.

Every expected number is computed here from the inputs (NumPy's mean of logarithms, min, max, a formatted
value), not read from the code under test.
"""

import math
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from figures import legend, renders

import helpers.plot.recurrent as recurrent_plots


def test_every_figure_is_listed_and_callable():
    assert sorted(recurrent_plots.__all__) == ["gradient_through_time", "score_against_length", "training_curves",
                                               "unrolled_rnn"]
    for name in recurrent_plots.__all__:
        assert callable(getattr(recurrent_plots, name))


# ---------------------------------------------------------------- gradient_through_time
def test_gradient_through_time_draws_the_geometric_mean_and_a_min_max_band_on_a_log_scale():
    g = torch.Generator().manual_seed(0)
    rows = torch.exp(torch.randn(4, 6, generator=g, dtype=torch.float64) * 5)  # four sequences, T = 6
    single = torch.tensor([1e-20, 1e-10, 1e-3, 0.5], dtype=torch.float64)
    fig = recurrent_plots.gradient_through_time({"RNN": rows, "LSTM": single}, title="grads")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_title() == "grads"
    values = rows.numpy()
    expected = np.exp(np.log(values).mean(axis=0))  # the mean of the logarithms at each t
    rnn_line, lstm_line = ax.lines
    np.testing.assert_allclose(rnn_line.get_xdata(), [1, 2, 3, 4, 5, 6])
    np.testing.assert_allclose(rnn_line.get_ydata(), expected, rtol=1e-12)
    np.testing.assert_allclose(lstm_line.get_ydata(), single.numpy())
    assert legend(ax) == [f"RNN: {expected[0]:.1e} at t = 1", "LSTM: 1.0e-20 at t = 1"]
    # the legend's title says what the line and the band are; the curves average different numbers of rows
    assert ax.get_legend().get_title().get_text() == (
        f"line: geometric mean over each curve's sequences (RNN: {rows.shape[0]}, LSTM: 1)\n"
        "band: their range (smallest to largest)")
    (band,) = ax.collections  # only the curve with several rows has a band
    corners = band.get_paths()[0].vertices
    assert corners[:, 1].min() == pytest.approx(values.min(axis=0).min())
    assert corners[:, 1].max() == pytest.approx(values.max(axis=0).max())
    assert renders(fig)


def test_gradient_through_time_says_over_how_many_sequences_and_says_nothing_without_a_band():
    g = torch.Generator().manual_seed(1)
    norms = {"RNN": torch.rand(8, 5, generator=g) + 0.1, "GRU": torch.rand(8, 5, generator=g) + 0.1}
    ax = recurrent_plots.gradient_through_time(norms).axes[0]
    assert len(ax.collections) == 2  # two bands
    assert ax.get_legend().get_title().get_text() == ("line: geometric mean over the 8 sequences\n"
                                                      "band: their range (smallest to largest)")
    single = recurrent_plots.gradient_through_time({"a": [1.0, 0.1], "b": [[2.0, 3.0]]}).axes[0]
    assert not single.collections and single.get_legend().get_title().get_text() == ""  # one sequence: no note
    plt.close("all")


def test_gradient_through_time_fixed_limits_colors_and_an_existing_axis():
    fig, ax = plt.subplots()
    out = recurrent_plots.gradient_through_time({"a": [1.0, 0.1], "b": np.array([2.0, 3.0])}, ylim=(1e-30, 10),
                                                colors=["#000000", "#ff0000"], ax=ax)
    assert out is fig
    assert ax.get_ylim() == pytest.approx((1e-30, 10))
    assert [line.get_color() for line in ax.lines] == ["#000000", "#ff0000"]


def test_gradient_through_time_errors():
    with pytest.raises(ValueError, match="empty"):
        recurrent_plots.gradient_through_time({})
    with pytest.raises(ValueError, match="float64"):
        recurrent_plots.gradient_through_time({"RNN": torch.tensor([0.0, 1.0])})  # an underflow
    with pytest.raises(ValueError, match="finite and > 0"):
        recurrent_plots.gradient_through_time({"RNN": [math.nan, 1.0]})
    with pytest.raises(ValueError, match=r"\(T,\) or \(N, T\)"):
        recurrent_plots.gradient_through_time({"RNN": torch.ones(2, 3, 4)})
    with pytest.raises(ValueError, match="2 curves, 1 colours"):
        recurrent_plots.gradient_through_time({"a": [1.0], "b": [1.0]}, colors=["red"])


# ---------------------------------------------------------------- score_against_length
def test_score_against_length_draws_each_model_quotes_the_longest_and_the_baseline():
    lengths = [5, 10, 20, 30]
    scores = {"RNN": [0.003, 0.012, 0.119, 0.152], "LSTM": [0.0005, 0.0013, 0.002, 0.0027]}
    fig = recurrent_plots.score_against_length(lengths, scores, baseline=1 / 6, baseline_label="mean predictor",
                                               title="adding problem")
    ax = fig.axes[0]
    assert ax.get_title() == "adding problem" and ax.get_yscale() == "log"
    assert list(ax.get_xticks()) == lengths
    assert list(ax.lines[0].get_xdata()) == lengths and list(ax.lines[0].get_ydata()) == scores["RNN"]
    assert list(ax.lines[1].get_ydata()) == scores["LSTM"]
    assert list(ax.lines[2].get_ydata()) == [1 / 6, 1 / 6]
    assert legend(ax) == ["RNN: 0.152 at T = 30", "LSTM: 0.0027 at T = 30", "mean predictor (0.167)"]
    assert renders(fig)


def test_score_against_length_draws_several_baselines_each_with_its_own_dashes():
    lengths, scores = [5, 10], {"LSTM": [0.01, 0.02]}
    baselines = {"using neither marked value, 1/6": 1 / 6, "only the recent value, 1/12": 1 / 12}
    fig = recurrent_plots.score_against_length(lengths, scores, baselines=baselines)
    ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in ax.lines[1:]] == [[1 / 6, 1 / 6], [1 / 12, 1 / 12]]
    assert legend(ax) == ["LSTM: 0.02 at T = 10", "using neither marked value, 1/6 (0.167)",
                          "only the recent value, 1/12 (0.0833)"]
    styles = [line.get_linestyle() for line in ax.lines[1:]]
    assert len(set(styles)) == 2 and "-" not in styles  # distinct, and neither solid like the models' lines
    assert renders(fig)
    # the single baseline still works beside them, and comes first
    ax = recurrent_plots.score_against_length(lengths, scores, baseline=0.5, baseline_label="chance",
                                              baselines={"oracle": 0.001}).axes[0]
    assert [line.get_ydata()[0] for line in ax.lines[1:]] == [0.5, 0.001]
    assert legend(ax)[1:] == ["chance (0.5)", "oracle (0.001)"]
    assert len({line.get_linestyle() for line in ax.lines[1:]}) == 2
    plt.close("all")


def test_score_against_length_linear_scale_without_baseline_and_unsorted_lengths():
    fig = recurrent_plots.score_against_length([30, 5], {"acc": [0.25, 1.0]}, logy=False)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and len(ax.lines) == 1
    assert legend(ax) == ["acc: 0.25 at T = 30"]  # the longest length, wherever it stands in the list


def test_score_against_length_errors():
    with pytest.raises(ValueError, match="3 scores for 2 lengths"):
        recurrent_plots.score_against_length([5, 10], {"RNN": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="at least one"):
        recurrent_plots.score_against_length([], {})
    with pytest.raises(TypeError, match="maps a label to a value"):
        recurrent_plots.score_against_length([5], {"RNN": [0.1]}, baselines=[1 / 6])
    with pytest.raises(ValueError, match="finite"):
        recurrent_plots.score_against_length([5], {"RNN": [0.1]}, baselines={"chance": math.nan})
    with pytest.raises(ValueError, match="give it once"):
        recurrent_plots.score_against_length([5], {"RNN": [0.1]}, baseline=0.2, baseline_label="mean",
                                             baselines={"mean": 0.3})
    with pytest.raises(ValueError, match="draw fewer"):
        recurrent_plots.score_against_length([5], {"RNN": [0.1]}, baselines={str(k): 0.1 * k for k in range(1, 6)})


# ---------------------------------------------------------------- training_curves
def test_training_curves_places_scores_every_k_steps_and_drops_non_finite_values():
    curves = {"clipped": [2.0, 1.0, 0.5, 0.25], "not clipped": [3.0, 40.0, math.inf, math.nan]}
    fig = recurrent_plots.training_curves(curves, every=50, baseline=1 / 6, baseline_label="mean", logy=True,
                                          ylabel="loss", title="clipping")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "loss" and ax.get_xlabel() == "training step"
    clipped, unclipped, base = ax.lines
    assert list(clipped.get_xdata()) == [50, 100, 150, 200] and list(clipped.get_ydata()) == curves["clipped"][:4]
    assert list(unclipped.get_xdata()) == [50, 100] and list(unclipped.get_ydata()) == [3.0, 40.0]
    assert list(base.get_ydata()) == [1 / 6, 1 / 6]
    assert legend(ax) == ["clipped: 0.25 at step 200", "not clipped: 40 at step 100", "mean (0.167)"]
    assert renders(fig)


def test_training_curves_as_percentages():
    fig = recurrent_plots.training_curves({"LSTM": [0.25, 0.9731]}, every=100, baseline=0.25,
                                          baseline_label="chance", percent=True, ylabel="recall accuracy")
    assert legend(fig.axes[0]) == ["LSTM: 97.3% at step 200", "chance (25%)"]


def test_training_curves_errors():
    with pytest.raises(ValueError, match="empty"):
        recurrent_plots.training_curves({})
    with pytest.raises(ValueError, match="positive int"):
        recurrent_plots.training_curves({"a": [1.0]}, every=0)
    with pytest.raises(ValueError, match="no finite score"):
        recurrent_plots.training_curves({"a": [math.nan]})


# ---------------------------------------------------------------- unrolled_rnn
def _labels(ax: plt.Axes, name: str) -> dict[int | None, tuple[float, float]]:
    """Where each node labelled ``name`` (x, h or o) stands: step -> (x, y); the folded cell's unnumbered label
    under None."""
    found = {}
    for text in ax.texts:
        match = re.fullmatch(rf"\$\\boldsymbol\{{{name}\}}(?:\^\{{\((\d+)\)\}})?\$", text.get_text())
        if match:
            step = None if match.group(1) is None else int(match.group(1))
            assert step not in found, f"{name} label {step} drawn twice"
            found[step] = text.get_position()
    return found


@pytest.mark.parametrize("steps", [1, 4, 7])
def test_unrolled_rnn_draws_one_cell_per_step_with_the_same_weights_on_every_copy(steps):
    fig = recurrent_plots.unrolled_rnn(steps)
    ax = fig.axes[0]
    assert ax.get_title() == (f"An RNN, folded and unrolled over T = {steps} step{'s' if steps > 1 else ''} "
                              "(the same U, W, V at every step)")
    inputs, states, outputs = _labels(ax, "x"), _labels(ax, "h"), _labels(ax, "o")
    assert set(inputs) == set(outputs) == {None, *range(1, steps + 1)}  # the folded cell and one per step
    assert set(states) == {None, *range(0, steps + 1)}  # ... and the initial state h^(0)
    for t in range(1, steps + 1):  # each copy is a column: x below h below o, one step right of the last
        assert inputs[t][0] == states[t][0] == outputs[t][0] > states[t - 1][0]
        assert inputs[t][1] < states[t][1] < outputs[t][1]
    assert states[None][0] < states[0][0]  # the folded cell on the left
    weights = [text.get_text() for text in ax.texts]
    # the folded cell has one U, one V and its loop W; every step adds a U, a V and the W from the previous state
    assert [weights.count(f"${w}$") for w in "UVW"] == [steps + 1] * 3
    assert renders(fig)
    plt.close(fig)


def test_unrolled_rnn_draws_into_an_existing_axes_and_takes_a_numpy_int():
    fig, ax = plt.subplots(figsize=(9, 4))
    assert recurrent_plots.unrolled_rnn(3, ax=ax) is fig
    assert not ax.axison and ax.get_aspect() == 1.0
    assert set(_labels(ax, "h")) == {None, 0, 1, 2, 3}
    assert set(_labels(recurrent_plots.unrolled_rnn(np.int64(2)).axes[0], "h")) == {None, 0, 1, 2}
    plt.close("all")


@pytest.mark.parametrize("steps", [0, -1, 2.5, True, "4", 13])
def test_unrolled_rnn_rejects_a_bad_number_of_steps(steps):
    with pytest.raises(ValueError, match="an int from 1 to 12"):
        recurrent_plots.unrolled_rnn(steps)


def test_every_figure_is_exported_through_helpers_plot():
    from helpers import plot
    from helpers.plot import recurrent

    assert recurrent.__all__ and all(getattr(plot, name) is getattr(recurrent, name) for name in recurrent.__all__)
    assert set(recurrent.__all__) <= set(plot.__all__)
