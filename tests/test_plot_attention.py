"""Chapter 8's figures: what they draw, the numbers in their titles, their errors.

Every expected value is computed here from the inputs (the entropy from its definition -sum p log p, the Gram
matrix pe @ pe.T, the points, the cosines, the weights), not read from the code under test.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import legend, renders  # noqa: E402

import helpers.plot.attention as attention_plots  # noqa: E402

TOKENS = ["the", "king", "sat", "down"]


def _weights(rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.softmax(torch.randn(rows, cols, generator=g, dtype=torch.float64) * 2, dim=-1)


def _ticks(labels) -> list[str]:
    return [t.get_text() for t in labels]


def test_every_figure_is_listed_and_exported_through_helpers_plot():
    from helpers import plot

    assert sorted(attention_plots.__all__) == ["attention_frame", "attention_map", "attention_maps",
                                               "embedding_frame", "memory_weights", "positional_encoding"]
    assert all(getattr(plot, name) is getattr(attention_plots, name) for name in attention_plots.__all__)
    assert set(attention_plots.__all__) <= set(plot.__all__)


# ---------------------------------------------------------------- attention_map, attention_maps
def test_attention_map_draws_the_weights_with_the_tokens_as_ticks():
    w = _weights(4, 4)
    fig = attention_plots.attention_map(w, queries=TOKENS, keys=TOKENS, title="map", vmax=1.0)
    assert len(fig.axes) == 2  # the map and its colour bar
    ax = fig.axes[0]
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), w.numpy())
    assert image.get_clim() == (0.0, 1.0)
    assert _ticks(ax.get_xticklabels()) == TOKENS and _ticks(ax.get_yticklabels()) == TOKENS
    assert ax.get_title() == "map" and fig.axes[1].get_ylabel() == "attention weight"
    assert renders(fig)


def test_attention_map_scales_to_the_largest_weight_numbers_positions_and_draws_into_an_axes():
    w = np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])
    fig, ax = plt.subplots()
    assert attention_plots.attention_map(w, ax=ax) is fig
    assert ax.images[0].get_clim() == (0.0, 0.6)
    assert _ticks(ax.get_xticklabels()) == ["0", "1", "2"] and _ticks(ax.get_yticklabels()) == ["0", "1"]


def test_attention_maps_one_panel_per_map_on_one_scale():
    maps = {"head 0": _weights(3, 3, 1), "head 1": _weights(3, 3, 2), "head 2": _weights(3, 3, 3) * 0.5}
    fig = attention_plots.attention_maps(maps, queries=TOKENS[:3], keys=TOKENS[:3], suptitle="heads")
    assert len(fig.axes) == 4  # three maps and one colour bar
    for ax, (title, w) in zip(fig.axes[:3], maps.items()):
        assert ax.get_title() == title
        np.testing.assert_array_equal(ax.images[0].get_array(), w.numpy())
        assert ax.images[0].get_clim() == (0.0, 1.0)
        assert _ticks(ax.get_xticklabels()) == TOKENS[:3]
    assert fig.axes[0].get_ylabel() and not fig.axes[1].get_ylabel()  # the y label once, on the left
    assert fig.get_suptitle() == "heads"
    top = max(float(w.max()) for w in maps.values())
    shared = attention_plots.attention_maps(maps, vmax=None)
    assert all(ax.images[0].get_clim() == (0.0, top) for ax in shared.axes[:3])
    assert renders(fig)


def test_attention_map_errors():
    with pytest.raises(ValueError, match=r"one \(L, S\) matrix.*weights\.mean\(0\)"):
        attention_plots.attention_map(torch.rand(2, 3, 3))
    with pytest.raises(ValueError, match="at least one"):
        attention_plots.attention_maps({})
    with pytest.raises(ValueError, match=r"attention_maps\['bad'\].*\(L, S\)"):
        attention_plots.attention_maps({"good": torch.rand(3, 3), "bad": torch.rand(3)})
    with pytest.raises(ValueError, match=r"attention_frame.*\(L, S\)"):
        attention_plots.attention_frame(torch.rand(4), TOKENS, 0)


# ---------------------------------------------------------------- attention_frame
@pytest.mark.parametrize("query", [0, 1, 3])
def test_attention_frame_shows_the_row_as_bars_and_its_entropy(query):
    w = _weights(4, 4, seed=query)
    w[query] = torch.tensor([0.0, 0.25, 0.75, 0.0], dtype=torch.float64) if query == 3 else w[query]
    fig = attention_plots.attention_frame(w, TOKENS, query, title="frame")
    assert len(fig.axes) == 2
    left, right = fig.axes
    np.testing.assert_array_equal(left.images[0].get_array(), w.numpy())
    assert left.images[0].get_clim() == (0.0, 1.0)
    assert _ticks(left.get_yticklabels()) == TOKENS and _ticks(right.get_xticklabels()) == TOKENS
    (outline,) = left.patches
    assert outline.get_xy() == (-0.5, query - 0.5) and outline.get_height() == 1
    np.testing.assert_allclose([bar.get_height() for bar in right.patches], w[query].numpy(), rtol=0, atol=1e-15)
    p = [float(v) for v in w[query]]
    entropy = -sum(v * np.log(v) for v in p if v > 0)  # 0 log 0 = 0
    assert right.get_title() == f"query {query} ({TOKENS[query]!r}): entropy {entropy:.2f} nats"
    assert right.get_ylim() == (0, 1.05) and fig.get_suptitle() == "frame"
    assert renders(fig)


def test_attention_frame_has_a_fixed_layout():
    first = attention_plots.attention_frame(_weights(4, 4, 0), TOKENS, 0)
    second = attention_plots.attention_frame(_weights(4, 4, 1) * 0.1, TOKENS, 2)
    for a, b in zip(first.axes, second.axes):
        assert a.get_position().bounds == b.get_position().bounds


# ---------------------------------------------------------------- positional_encoding
def test_positional_encoding_draws_the_encoding_and_its_gram_matrix():
    length, d = 12, 8
    pos = torch.arange(length, dtype=torch.float64)[:, None]
    rate = 10000 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)
    pe = torch.zeros(length, d, dtype=torch.float64)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * rate), torch.cos(pos * rate)
    fig = attention_plots.positional_encoding(pe, title="PE")
    assert len(fig.axes) == 4  # two panels, two colour bars
    left, right = fig.axes[:2]  # the colour bars come after the panels
    np.testing.assert_array_equal(left.images[0].get_array(), pe.numpy())
    assert left.images[0].get_clim() == (-1, 1)
    expected = pe.numpy() @ pe.numpy().T
    np.testing.assert_allclose(right.images[0].get_array(), expected, rtol=0, atol=1e-12)
    assert fig.get_suptitle() == "PE"
    assert renders(fig)


def test_positional_encoding_errors():
    with pytest.raises(ValueError, match=r"\(length, d_model\)"):
        attention_plots.positional_encoding(torch.rand(2, 3, 4))


# ---------------------------------------------------------------- embedding_frame
WORDS = ["king", "queen", "cat", "dog", "bread", "paris", "prince"]
GROUPS = ["royalty", "royalty", "animals", "animals", "food", "places", "royalty"]
NEIGHBOURS = [("queen", 0.91), ("prince", 0.62), ("dog", -0.13)]


def _points(seed: int = 0) -> torch.Tensor:
    return torch.randn(len(WORDS), 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_embedding_frame_draws_every_word_and_the_neighbours_cosines():
    points = _points()
    fig = attention_plots.embedding_frame(points, WORDS, GROUPS, "king", NEIGHBOURS, title="epoch 3")
    assert len(fig.axes) == 2
    left, right = fig.axes
    (scatter,) = left.collections
    np.testing.assert_array_equal(scatter.get_offsets(), points.numpy())
    assert [t.get_text() for t in left.texts] == ["king", "queen", "dog", "prince"]  # its group and neighbours
    assert legend(left) == ["royalty", "animals", "food", "places"]  # distinct groups, first seen first
    colors = [tuple(c) for c in scatter.get_facecolors()]
    assert colors[0] == colors[1] == colors[6] and colors[2] == colors[3]  # one colour per group
    assert len({colors[0], colors[2], colors[4], colors[5]}) == 4
    sizes = scatter.get_sizes()
    assert sizes[0] > sizes[1] and len(set(sizes[1:])) == 1  # the chosen word larger
    edges = scatter.get_edgecolors()
    np.testing.assert_array_equal(edges[0], [0, 0, 0, 1])  # a black ring on the chosen word
    ringed = {WORDS[i] for i, width in enumerate(scatter.get_linewidths()) if width > 0 and i != 0}
    assert ringed == {"queen", "prince", "dog"}
    assert len({tuple(edges[WORDS.index(w)]) for w in ringed}) == 1  # all in the same highlight colour
    assert left.get_xlabel() == "principal axis 1" and left.get_ylabel() == "principal axis 2"
    # the right panel: the cosines, most similar on top
    assert [bar.get_width() for bar in right.patches] == [0.91, 0.62, -0.13]
    assert [bar.get_y() + bar.get_height() / 2 for bar in right.patches] == [0, 1, 2]
    assert right.yaxis_inverted()
    assert _ticks(right.get_yticklabels()) == ["queen", "prince", "dog"]
    assert right.get_xlim() == (-1.0, 1.25) and list(right.get_xticks()) == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert [list(line.get_xdata()) for line in right.lines] == [[0, 0]]  # the vertical line at 0
    assert right.get_xlabel() == "cosine similarity to king" and right.get_title() == "king's nearest neighbours"
    assert fig.get_suptitle() == "epoch 3"
    assert renders(fig)


def test_embedding_frame_axis_limits_fixed_or_from_the_points_with_a_margin():
    points = _points(1).numpy()
    ax = attention_plots.embedding_frame(points, WORDS, GROUPS, "cat", [], limits=(-5, 5, -4, 4)).axes[0]
    assert ax.get_xlim() == (-5, 5) and ax.get_ylim() == (-4, 4)
    ax = attention_plots.embedding_frame(points, WORDS, GROUPS, "cat", [("dog", 0.5)]).axes[0]
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low)
    np.testing.assert_allclose(ax.get_xlim(), (low[0] - margin[0], high[0] + margin[0]), rtol=1e-12)
    np.testing.assert_allclose(ax.get_ylim(), (low[1] - margin[1], high[1] + margin[1]), rtol=1e-12)


def test_embedding_frame_has_a_fixed_layout():
    first = attention_plots.embedding_frame(_points(0), WORDS, GROUPS, "king", NEIGHBOURS, limits=(-3, 3, -3, 3))
    second = attention_plots.embedding_frame(_points(2) * 9, WORDS, GROUPS, "bread", [("paris", 1.0)],
                                             limits=(-3, 3, -3, 3))
    for a, b in zip(first.axes, second.axes):
        assert a.get_position().bounds == b.get_position().bounds


def test_embedding_frame_errors():
    points = _points()
    with pytest.raises(ValueError, match=r"\(n, 2\).*shape \(7, 3\)"):
        attention_plots.embedding_frame(torch.rand(7, 3), WORDS, GROUPS, "king", NEIGHBOURS)
    with pytest.raises(ValueError, match="7 points, 6 words and 7 groups"):
        attention_plots.embedding_frame(points, WORDS[:6], GROUPS, "king", NEIGHBOURS)
    with pytest.raises(ValueError, match="7 points, 7 words and 5 groups"):
        attention_plots.embedding_frame(points, WORDS, GROUPS[:5], "king", NEIGHBOURS)
    with pytest.raises(ValueError, match=r"'emperor' is not among the 7 words \('king', 'queen', 'cat'"):
        attention_plots.embedding_frame(points, WORDS, GROUPS, "emperor", NEIGHBOURS)
    with pytest.raises(ValueError, match=r"'queen' is 1\.01.*\[-1, 1\]"):
        attention_plots.embedding_frame(points, WORDS, GROUPS, "king", [("queen", 1.01)])
    with pytest.raises(ValueError, match=r"'dog' is nan.*\[-1, 1\]"):
        attention_plots.embedding_frame(points, WORDS, GROUPS, "king", [("dog", float("nan"))])
    with pytest.raises(ValueError, match=r"\(xmin, xmax, ymin, ymax\)"):
        attention_plots.embedding_frame(points, WORDS, GROUPS, "king", NEIGHBOURS, limits=(0, 1))
    # a cosine a rounding error past 1 is accepted
    attention_plots.embedding_frame(points, WORDS, GROUPS, "king", [("queen", 1 + 1e-9), ("cat", -1 - 1e-9)])


# ---------------------------------------------------------------- memory_weights
def test_memory_weights_draws_one_group_of_bars_per_slot():
    g = torch.Generator().manual_seed(3)
    scores = torch.randn(6, generator=g, dtype=torch.float64)
    weights = {f"β = {beta}": torch.softmax(beta * scores, 0) for beta in (0, 1, 10)}
    fig = attention_plots.memory_weights(weights)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert len(ax.containers) == 3
    for container, (label, w) in zip(ax.containers, weights.items()):
        assert container.get_label() == label
        np.testing.assert_allclose([bar.get_height() for bar in container], w.numpy(), rtol=0, atol=1e-15)
        centres = [bar.get_x() + bar.get_width() / 2 for bar in container]
        np.testing.assert_allclose(np.round(centres), np.arange(6), atol=0)  # one bar in each slot's group
    assert legend(ax) == list(weights)
    assert len({container.patches[0].get_facecolor() for container in ax.containers}) == 3
    assert _ticks(ax.get_xticklabels()) == [str(i) for i in range(6)]
    assert ax.get_ylim() == (0, 1.05)
    assert ax.get_xlabel() == "memory slot i" and ax.get_ylabel() == "read weight w_i"
    assert ax.get_title() == "Content-based addressing: read weights"
    assert renders(fig)


def test_memory_weights_slot_labels():
    ax = attention_plots.memory_weights({"w": np.array([0.5, 0.5])}, slots=["cat", "dog"], title="t").axes[0]
    assert _ticks(ax.get_xticklabels()) == ["cat", "dog"] and ax.get_title() == "t"


def test_memory_weights_errors():
    with pytest.raises(ValueError, match="at least one"):
        attention_plots.memory_weights({})
    with pytest.raises(ValueError, match=r"'b' must be 1-D.*shape \(2, 3\)"):
        attention_plots.memory_weights({"a": torch.rand(3), "b": torch.rand(2, 3)})
    with pytest.raises(ValueError, match=r"same number of slots M.*'a': 3, 'b': 4"):
        attention_plots.memory_weights({"a": torch.rand(3), "b": torch.rand(4)})
    with pytest.raises(ValueError, match="2 tick labels for M = 3"):
        attention_plots.memory_weights({"a": torch.rand(3)}, slots=["x", "y"])
