"""Chapter 6's convolution figures: every number they print is checked against torch."""

import io
import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from figures import renders

from helpers import plot


def _torch_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """H_out as torch computes it: the shape of a real convolution's output."""
    return F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]


def _centres(collection) -> set[tuple[int, int]]:
    """The (row, col) of every unit square in a collection: the centre of each path, (x, y) = (col, row)."""
    return {(round(y), round(x)) for x, y in (path.vertices[:4].mean(0) for path in collection.get_paths())}


def _by_gid(fig, gid: str):
    return [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]


def _numbers(texts) -> list[float]:
    return [float(t.get_text()) for t in texts]


# ---------------------------------------------------------------- receptive_field
@pytest.mark.parametrize("n, k, s, p, d", [(7, 3, 2, 1, 1), (8, 3, 1, 0, 1), (8, 5, 1, 2, 1), (9, 3, 2, 2, 2),
                                           (6, 2, 3, 1, 3), (5, 5, 1, 0, 1)])
def test_receptive_field_states_torchs_output_size_and_the_field(n, k, s, p, d):
    out = _torch_size(n, k, s, p, d)
    fig = plot.receptive_field(n, k, s, p, d)
    title = fig._suptitle.get_text()
    assert len(fig.axes) == 2
    assert f"input {n}, kernel {k}, stride {s}, padding {p}, dilation {d} → output {out}×{out}" in title
    assert re.search(rf"H_out = ⌊.*⌋ \+ 1 = {out}\b", title)
    assert f"receptive field d(k − 1) + 1 = {d * (k - 1) + 1} pixels" in title
    assert fig.axes[1].get_title() == f"output {out}×{out}"
    plt.close(fig)


@pytest.mark.parametrize("n, k, s, p, d", [(9, 3, 2, 2, 2), (10, 3, 3, 1, 3), (7, 2, 1, 0, 4), (8, 4, 2, 3, 1)])
def test_receptive_field_colours_exactly_the_taps_of_the_first_and_last_output(n, k, s, p, d):
    out = _torch_size(n, k, s, p, d)
    fig = plot.receptive_field(n, k, s, p, d)
    for gid, i in (("taps first", 0), ("taps last", out - 1)):
        taps = [i * s - p + a * d for a in range(k)]  # rows (and columns) output i reads, in input coordinates
        (collection,) = _by_gid(fig, gid)
        assert _centres(collection) == {(r, c) for r in taps for c in taps}
    if p:
        assert "zero padding" in [t.get_text() for t in fig.legends[0].get_texts()]
    plt.close(fig)


def test_receptive_field_with_a_single_output_draws_one_set_of_taps():
    assert _torch_size(5, 3, 4, 0, 2) == 1
    fig = plot.receptive_field(5, 3, 4, 0, 2)
    (first,) = _by_gid(fig, "taps first")
    assert _centres(first) == {(r, c) for r in (0, 2, 4) for c in (0, 2, 4)} and not _by_gid(fig, "taps last")
    plt.close(fig)


@pytest.mark.parametrize("n, k, s, p, d", [(4, 5, 1, 0, 1), (4, 3, 1, 0, 3), (2, 4, 2, 0, 1)])
def test_receptive_field_draws_an_empty_output_instead_of_raising(n, k, s, p, d):
    with pytest.raises(RuntimeError):  # torch refuses: the kernel does not fit
        _torch_size(n, k, s, p, d)
    fig = plot.receptive_field(n, k, s, p, d)
    assert "no output" in fig._suptitle.get_text() and "empty" in fig._suptitle.get_text()
    assert not _by_gid(fig, "taps first") and renders(fig)
    plt.close(fig)


def test_receptive_field_keeps_one_scale_with_a_fixed_extent():
    small, large = plot.receptive_field(5, 3, 1, 0, 1, extent=12), plot.receptive_field(5, 3, 1, 3, 1, extent=12)
    for a, b in zip(small.axes, large.axes):
        assert np.ptp(a.get_xlim()) == np.ptp(b.get_xlim()) == 12
    plt.close("all")


@pytest.mark.parametrize("arguments", [(5, 0), (5, 3, 0), (5, 3, 1, -1), (5, 3, 1, 0, 0), (0, 3)])
def test_receptive_field_rejects_impossible_arguments(arguments):
    with pytest.raises(ValueError, match="must be at least"):
        plot.receptive_field(*arguments)
    with pytest.raises(TypeError, match="must be an int"):
        plot.receptive_field(5, 2.5)


# ---------------------------------------------------------------- sliding_window
def _sum_value(fig) -> tuple[float, float, int]:
    """The written-out sum: (the value after its last '=', the sum of the products it lists, how many)."""
    (text,) = [t.get_text() for t in fig.texts if t.get_gid() == "sum"]
    terms = re.findall(r"(-?[\d.]+)×\(?(-?[\d.]+)\)?", text.split("=", 1)[1])
    return float(text.rsplit("=", 1)[1]), sum(float(v) * float(w) for v, w in terms), len(terms)


@pytest.mark.parametrize("position", [(0, 0), (1, 2), (3, 3)])
def test_sliding_window_writes_out_the_sum_torch_computes(position):
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 5, (6, 6), generator=g).double()
    w = torch.randint(-2, 3, (3, 3), generator=g).double()
    y = F.conv2d(x[None, None], w[None, None])[0, 0]
    fig = plot.sliding_window(x, w.numpy(), position)
    stated, products, count = _sum_value(fig)
    assert stated == products == y[position].item() and count == 9
    assert [ax.get_title() for ax in fig.axes] == ["input 6×6", "kernel 3×3", f"output {y.shape[0]}×{y.shape[1]}"]
    assert _numbers(fig.axes[2].texts) == y.flatten().tolist()
    assert _numbers(fig.axes[0].texts) == x.flatten().tolist()
    plt.close(fig)


def test_sliding_window_handles_fractions_and_rectangular_kernels():
    g = torch.Generator().manual_seed(1)
    x, w = torch.rand(5, 7, generator=g, dtype=torch.float64), torch.rand(2, 3, generator=g, dtype=torch.float64)
    y = F.conv2d(x[None, None], w[None, None])[0, 0]
    fig = plot.sliding_window(x, w, (3, 4))
    stated, _, count = _sum_value(fig)
    assert stated == pytest.approx(y[3, 4].item(), abs=0.005) and count == 6
    assert _numbers(fig.axes[2].texts) == pytest.approx(y.flatten().tolist(), abs=0.005)
    plt.close(fig)


def test_sliding_window_rejects_a_position_outside_the_output_and_a_large_kernel():
    with pytest.raises(ValueError, match="outside the 4×4 output"):
        plot.sliding_window(np.zeros((6, 6)), np.ones((3, 3)), (4, 0))
    with pytest.raises(ValueError, match="larger than the image"):
        plot.sliding_window(np.zeros((3, 3)), np.ones((4, 4)), (0, 0))
    with pytest.raises(ValueError, match="2-D map"):
        plot.sliding_window(np.zeros((1, 1, 6, 6)), np.ones((3, 3)), (0, 0))


# ---------------------------------------------------------------- maps_row
def test_maps_row_draws_every_map_at_one_pixel_scale():
    images = [torch.rand(8, 8), np.random.default_rng(0).random((6, 6)), torch.rand(10, 4)]
    fig = plot.maps_row(images, ["input 8×8", "valid 6×6", "tall"], suptitle="sizes")
    assert [ax.get_title() for ax in fig.axes] == ["input 8×8", "valid 6×6", "tall"]
    widths = [ax.get_position().width * fig.get_figwidth() / image.shape[1] for ax, image in zip(fig.axes, images)]
    heights = [ax.get_position().height * fig.get_figheight() / image.shape[0] for ax, image in zip(fig.axes, images)]
    assert np.allclose(widths, widths[0]) and np.allclose(heights, widths[0])
    assert fig._suptitle.get_text() == "sizes"
    plt.close(fig)


def test_maps_row_diverging_maps_are_symmetric_around_zero_with_a_colourbar_each():
    a, b = torch.tensor([[0.0, -3.0], [1.0, 2.0]]), np.array([[0.5, 1.0, 0.0]])
    fig = plot.maps_row([a, b], ["a", "b"], diverging=True)
    assert len(fig.axes) == 4  # two maps, two colourbars
    assert fig.axes[0].images[0].get_clim() == (-3.0, 3.0) and fig.axes[1].images[0].get_clim() == (-1.0, 1.0)
    assert fig.axes[0].images[0].get_cmap().name == "RdBu_r"
    plt.close(fig)
    fig = plot.maps_row([a, b], ["a", "b"], diverging=[False, True])
    assert len(fig.axes) == 3 and fig.axes[0].images[0].get_cmap().name == "gray_r"
    plt.close(fig)


def test_maps_row_needs_one_title_per_map():
    with pytest.raises(ValueError, match="one title per map"):
        plot.maps_row([np.zeros((3, 3))], ["a", "b"])
    with pytest.raises(ValueError, match="one per map"):
        plot.maps_row([np.zeros((3, 3))], ["a"], diverging=[True, False])


# ---------------------------------------------------------------- pooling_windows
@pytest.mark.parametrize("size, k, s", [(4, 2, None), (6, 2, None), (6, 3, 2), (6, 3, 3), (5, 2, 1)])
def test_pooling_windows_prints_torchs_max_and_circles_its_argmax(size, k, s):
    x = torch.randint(0, 10, (size, size), generator=torch.Generator().manual_seed(size + k)).double()
    y, index = F.max_pool2d(x[None, None], k, s, return_indices=True)
    fig = plot.pooling_windows(x, k, s)
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == f"output {y.shape[-2]}×{y.shape[-1]}"
    assert _numbers(fig.axes[1].texts) == y.flatten().tolist()
    (rings,) = _by_gid(fig, "argmax")
    winners = [divmod(i, size) for i in index.flatten().tolist()]  # torch's flat argmax -> (row, col)
    assert [(row, col) for col, row in rings.get_offsets().tolist()] == winners
    assert "max pooling" in fig._suptitle.get_text()
    plt.close(fig)


def test_pooling_windows_prints_torchs_average():
    x = torch.rand(6, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    y = F.avg_pool2d(x[None, None], 2)
    fig = plot.pooling_windows(x.numpy(), 2, mode="avg")
    assert _numbers(fig.axes[1].texts) == pytest.approx(y.flatten().tolist(), abs=0.005)
    assert "average pooling" in fig._suptitle.get_text()
    plt.close(fig)


def test_pooling_windows_rejects_an_unknown_mode_and_a_bad_window():
    with pytest.raises(ValueError, match="'max' or 'avg'"):
        plot.pooling_windows(np.zeros((4, 4)), 2, mode="min")
    with pytest.raises(ValueError):
        plot.pooling_windows(np.zeros((2, 2)), 3)


def test_maps_row_with_colourbars_saves_twice_without_a_tight_layout_warning():
    """IPython's inline backend saves with bbox_inches="tight" after a first draw: no layout warning may appear."""
    fig = plot.maps_row([np.ones((8, 8)), np.eye(6) - 0.5], ["input", "signed"], suptitle="s", diverging=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig.savefig(io.BytesIO(), format="png")
        fig.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    plt.close(fig)


def test_sliding_window_labels_follow_the_chapters_notation():
    """y[i, j] = sum_{a, b} x[i + a, j + b] K[a, b]: the output is indexed (i, j), the kernel (a, b)."""
    fig = plot.sliding_window(np.arange(36.0).reshape(6, 6), np.ones((3, 3)), (1, 2))
    _, kernel_ax, output_ax = fig.axes
    assert (kernel_ax.get_ylabel(), kernel_ax.get_xlabel()) == ("row a", "column b")
    assert (output_ax.get_ylabel(), output_ax.get_xlabel()) == ("row i", "column j")
    plt.close(fig)
