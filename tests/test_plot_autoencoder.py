"""Chapter 9's figures: what they draw, against the inputs, and their errors.

Every expected value is computed here from the inputs (tiles cut and pasted by hand, transposes, differences,
class means by a loop, NumPy's histogram on the edges read from the figure, a formatted title), not read from the
code under test.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import legend, renders  # noqa: E402

import helpers.plot.autoencoder as ae_plots  # noqa: E402


def _images(n: int, h: int = 8, w: int = 8, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _by_hand(images: np.ndarray) -> np.ndarray:
    """One row of images, a column of NaN between neighbours."""
    gap = np.full((images.shape[1], 1), np.nan)
    return np.concatenate([part for image in images for part in (gap, image)][1:], axis=1)


def _texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


def test_every_figure_is_listed_and_exported_through_helpers_plot():
    from helpers import plot

    assert sorted(ae_plots.__all__) == ["code_maps", "code_scatter", "denoising_frame", "image_rows", "mosaic",
                                        "reconstruction_field", "score_histograms", "som_frame", "som_map"]
    assert all(getattr(plot, name) is getattr(ae_plots, name) for name in ae_plots.__all__)
    assert set(ae_plots.__all__) <= set(plot.__all__)


# ---------------------------------------------------------------- mosaic
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_mosaic_places_image_i_at_tile_i_divmod_cols_with_nan_elsewhere(pad):
    images = _images(5, 3, 4).numpy()
    out = ae_plots.mosaic(torch.from_numpy(images), rows=2, cols=3, pad=pad)
    assert out.shape == (2 * 3 + pad, 3 * 4 + 2 * pad)
    expected = np.full(out.shape, np.nan)
    for i, (r, c) in enumerate([(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]):
        top, left = r * (3 + pad), c * (4 + pad)
        expected[top:top + 3, left:left + 4] = images[i]
    np.testing.assert_array_equal(out, expected)  # NaN where expected is NaN: the gaps and the empty tile (1, 2)
    assert np.isnan(out[3 + pad:, 2 * (4 + pad):]).all()
    assert np.isfinite(out).sum() == images.size


def test_mosaic_takes_a_channel_dimension_and_no_figure():
    images = _images(4, 2, 2)
    np.testing.assert_array_equal(ae_plots.mosaic(images[:, None], 1, 4), _by_hand(images.numpy()))
    assert plt.get_fignums() == []


def test_mosaic_errors():
    with pytest.raises(ValueError, match=r"7 images do not fit on 2 x 3 = 6 tiles.*images\[:6\]"):
        ae_plots.mosaic(_images(7), 2, 3)
    with pytest.raises(ValueError, match=r"\(n, h, w\).*shape \(5, 64\).*reshape\(-1, 8, 8\)"):
        ae_plots.mosaic(torch.rand(5, 64), 1, 5)
    with pytest.raises(ValueError, match="rows and cols must be positive integers"):
        ae_plots.mosaic(_images(2), 0, 2)
    with pytest.raises(ValueError, match="pad a non-negative integer"):
        ae_plots.mosaic(_images(2), 1, 2, pad=-1)


# ---------------------------------------------------------------- image_rows
def test_image_rows_one_labelled_mosaic_per_row_tiles_aligned():
    rows = {"digit": _images(10, seed=1), "reconstruction": _images(10, seed=2), "RBM samples": _images(8, seed=3)}
    fig = ae_plots.image_rows(rows, title="compare", vmin=0.0, vmax=0.5)
    assert len(fig.axes) == 3 and fig.get_suptitle() == "compare"
    for ax, (label, images) in zip(fig.axes, rows.items()):
        (image,) = ax.images
        np.testing.assert_array_equal(image.get_array().filled(np.nan), _by_hand(images.numpy()))
        assert image.get_clim() == (0.0, 0.5) and image.get_cmap().name == "gray_r"
        assert [t.get_text() for t in ax.texts] == [label]
        assert ax.texts[0].get_position()[0] < 0  # left of the images
        assert not ax.axison
    # the short row keeps the long rows' x range, so its tiles have the same size and line up
    assert fig.axes[0].get_xlim() == fig.axes[2].get_xlim() == (-0.5, 10 * 9 - 1.5)
    assert renders(fig)
    first, second = (ax.get_position().bounds for ax in fig.axes[:2])
    assert first[1] > second[1]  # the first row on top


def test_image_rows_frame_draws_a_grey_border_on_every_tile_and_only_when_asked():
    rows = {"patterns": torch.zeros(4, 3, 3, dtype=torch.float64), "more": _images(6, 3, 3, seed=5)}  # all-white tiles
    plain = ae_plots.image_rows(rows)
    assert all(not ax.patches for ax in plain.axes)  # the default draws no frames
    fig = ae_plots.image_rows(rows, frame=True)
    for ax, x in zip(fig.axes, rows.values()):
        np.testing.assert_array_equal(ax.images[0].get_array().filled(np.nan), _by_hand(x.numpy()))  # unchanged
        assert len(ax.patches) == len(x)
        for j, patch in enumerate(ax.patches):
            # tile j's pixels are columns 4 j .. 4 j + 2 (3 wide, 1 gap), rows 0 .. 2: pixel centres at integers
            assert (patch.get_x(), patch.get_y(), patch.get_width(), patch.get_height()) == (4 * j - 0.5, -0.5, 3, 3)
            assert not patch.get_fill() and patch.get_linewidth() < 1
            r, g, b, _ = patch.get_edgecolor()
            assert r == g == b and 0.3 < r < 0.8  # grey: visible on white, unlike the white of an empty tile
            assert not patch.get_clip_on()  # the top and bottom edges lie on the axes' border
    assert renders(fig)


def test_image_rows_errors():
    with pytest.raises(ValueError, match="at least one"):
        ae_plots.image_rows({})
    with pytest.raises(TypeError, match=r"pass a dict of label -> \(n, h, w\) images"):
        ae_plots.image_rows(_images(3))
    with pytest.raises(ValueError, match=r"image_rows\['flat'\].*reshape\(-1, 8, 8\)"):
        ae_plots.image_rows({"ok": _images(3), "flat": torch.rand(3, 64)})
    with pytest.raises(ValueError, match=r"one size \(h, w\).*'a': \(8, 8\), 'b': \(7, 7\)"):
        ae_plots.image_rows({"a": _images(3), "b": _images(3, 7, 7)})


# ---------------------------------------------------------------- code_maps
def test_code_maps_units_down_samples_across_on_one_shared_scale():
    g = torch.Generator().manual_seed(4)
    codes = {"lambda = 0.001": torch.relu(torch.randn(12, 128, generator=g, dtype=torch.float64)),
             "lambda = 0.01": torch.relu(torch.randn(12, 128, generator=g, dtype=torch.float64) - 2) * 3}
    digits = [4, 8, 4, 9, 6, 8, 7, 7, 2, 1, 4, 3]
    fig = ae_plots.code_maps(codes, title="codes", sample_labels=digits)
    assert len(fig.axes) == 3  # two maps, one colour bar
    low = min(float(c.min()) for c in codes.values())
    high = max(float(c.max()) for c in codes.values())
    for ax, (key, c) in zip(fig.axes[:2], codes.items()):
        np.testing.assert_array_equal(ax.images[0].get_array(), c.numpy().T)
        assert ax.images[0].get_clim() == (low, high)
        assert ax.get_title() == key and ax.get_xlabel() == "test digit"
        assert _texts(ax.get_xticklabels()) == [str(d) for d in digits]
    assert fig.axes[0].get_ylabel() == "code unit" and fig.axes[1].get_ylabel() == ""
    assert fig.axes[2].get_ylabel() == "code value" and fig.get_suptitle() == "codes"
    assert renders(fig)
    scaled = ae_plots.code_maps(codes, colorbar_label="code value / the map's largest")
    assert scaled.axes[2].get_ylabel() == "code value / the map's largest"


def test_code_maps_errors():
    with pytest.raises(ValueError, match="at least one"):
        ae_plots.code_maps({})
    with pytest.raises(ValueError, match=r"'b' must be \(n, units\).*shape \(2, 3, 4\).*reshape\(len\(h\), -1\)"):
        ae_plots.code_maps({"a": torch.rand(2, 3), "b": torch.rand(2, 3, 4)})


# ---------------------------------------------------------------- denoising_frame
LEVELS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
ERRORS = {"noisy input": [v * v for v in LEVELS], "plain AE": [0.6 * v * v for v in LEVELS],
          "denoising AE": [0.01 + 0.1 * v for v in LEVELS]}


def _frame_images(seed: int) -> dict:
    return {name: _images(8, seed=seed + k) for k, name in enumerate(["clean", "noisy", "plain AE", "denoising AE"])}


def test_denoising_frame_draws_the_rows_the_error_curves_and_the_level():
    images = _frame_images(0)
    fig = ae_plots.denoising_frame(images, LEVELS, ERRORS, 0.3, "gaussian")
    *rows, curve = fig.axes
    assert [ax.texts[0].get_text() for ax in rows] == list(images)
    for ax, x in zip(rows, images.values()):
        np.testing.assert_array_equal(ax.images[0].get_array().filled(np.nan), _by_hand(x.numpy()))
    *lines, marker = curve.lines
    for line, e in zip(lines, ERRORS.values()):
        np.testing.assert_array_equal(line.get_xdata(), LEVELS)
        np.testing.assert_array_equal(line.get_ydata(), e)
    assert list(marker.get_xdata()) == [0.3, 0.3] and marker.get_linestyle() == "--"
    assert legend(curve) == list(ERRORS)
    assert all(8 <= text.get_fontsize() <= 9 for text in curve.get_legend().get_texts())  # readable in the explorer
    assert curve.get_xlabel() == "gaussian noise level" and "MSE" in curve.get_ylabel()
    assert curve.get_ylim()[0] == 0 and curve.get_ylim()[1] >= max(max(e) for e in ERRORS.values())
    assert not curve.spines["top"].get_visible()  # the book's style
    assert fig.get_suptitle() == "gaussian noise, level 0.3"
    assert renders(fig)


def test_denoising_frame_has_a_fixed_layout():
    first = ae_plots.denoising_frame(_frame_images(0), LEVELS, ERRORS, 0.0, "gaussian")
    second = ae_plots.denoising_frame(_frame_images(9), LEVELS, {k: [1e4 * v for v in e] for k, e in ERRORS.items()},
                                      0.5, "masking")
    assert second.get_suptitle() == "masking noise, level 0.5"
    assert renders(first) and renders(second)  # a layout engine would move the axes at drawing (wider tick labels)
    assert tuple(first.get_size_inches()) == tuple(second.get_size_inches())
    assert len(first.axes) == len(second.axes) == 5
    for a, b in zip(first.axes, second.axes):
        assert a.get_position().bounds == b.get_position().bounds


def test_denoising_frame_errors():
    with pytest.raises(ValueError, match=r"errors\['plain AE'\] has 5 values for 6 levels; give one test MSE"):
        ae_plots.denoising_frame(_frame_images(0), LEVELS, {**ERRORS, "plain AE": [0.1] * 5}, 0.3, "gaussian")
    with pytest.raises(ValueError, match="at least one label -> errors"):
        ae_plots.denoising_frame(_frame_images(0), LEVELS, {}, 0.3, "gaussian")
    with pytest.raises(ValueError, match=r"images\['clean'\].*\(n, h, w\)"):
        ae_plots.denoising_frame({"clean": torch.rand(8, 64)}, LEVELS, ERRORS, 0.3, "gaussian")


# ---------------------------------------------------------------- reconstruction_field
def test_reconstruction_field_draws_the_points_and_an_arrow_from_each_grid_point_to_its_reconstruction():
    g = torch.Generator().manual_seed(5)
    angle = torch.rand(50, generator=g, dtype=torch.float64) * 2 * torch.pi
    points = torch.stack([angle.cos(), angle.sin()], 1)
    axis = torch.linspace(-1.5, 1.5, 5, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    reconstructed = grid + torch.randn(25, 2, generator=g, dtype=torch.float64) * 0.1
    fig = ae_plots.reconstruction_field(points, grid, reconstructed, title="field")
    ax = fig.axes[0]
    scatter, quiver = sorted(ax.collections, key=lambda c: type(c).__name__ == "Quiver")
    np.testing.assert_array_equal(scatter.get_offsets(), points.numpy())
    np.testing.assert_array_equal(np.column_stack([quiver.X, quiver.Y]), grid.numpy())
    displacement = reconstructed.numpy() - grid.numpy()
    np.testing.assert_allclose(np.column_stack([quiver.U, quiver.V]), displacement, rtol=0, atol=1e-15)
    assert (quiver.angles, quiver.scale_units, quiver.scale) == ("xy", "xy", 1)
    assert ax.get_aspect() == 1.0
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$" and ax.get_title() == "field"
    tips = reconstructed.numpy()
    assert ax.get_xlim()[0] < tips[:, 0].min() and ax.get_xlim()[1] > tips[:, 0].max()  # every arrow head shown
    assert ax.get_ylim()[0] < tips[:, 1].min() and ax.get_ylim()[1] > tips[:, 1].max()
    assert len(legend(ax)) == 2
    assert renders(fig)


def test_reconstruction_field_errors():
    grid = torch.rand(9, 2)
    with pytest.raises(ValueError, match=r"reconstructed \(one reconstruction per grid point\) must be \(9, 2\)"):
        ae_plots.reconstruction_field(torch.rand(4, 2), grid, torch.rand(8, 2))
    with pytest.raises(ValueError, match=r"points must be \(N, 2\).*shape \(4, 3\)"):
        ae_plots.reconstruction_field(torch.rand(4, 3), grid, grid)


# ---------------------------------------------------------------- code_scatter
def test_code_scatter_colours_by_class_and_writes_each_digit_at_its_class_mean():
    g = torch.Generator().manual_seed(6)
    labels = torch.tensor([3, 0, 3, 7, 0, 0, 7, 3, 12])
    codes = {"PCA(2)": torch.randn(9, 2, generator=g, dtype=torch.float64),
             "deep AE (2)": torch.randn(9, 2, generator=g, dtype=torch.float64) * 4}
    fig = ae_plots.code_scatter(codes, labels, title="codes")
    assert len(fig.axes) == 2 and fig.get_suptitle() == "codes"
    tab10 = plt.get_cmap("tab10")
    for ax, (key, xy) in zip(fig.axes, codes.items()):
        (scatter,) = ax.collections
        np.testing.assert_array_equal(scatter.get_offsets(), xy.numpy())
        np.testing.assert_allclose(scatter.get_facecolors()[:, :3], [tab10(int(c) % 10)[:3] for c in labels])
        classes = sorted(set(labels.tolist()))
        assert [t.get_text() for t in ax.texts] == [str(c) for c in classes]
        for text, c in zip(ax.texts, classes):
            members = [xy[i].numpy() for i in range(len(labels)) if labels[i] == c]
            np.testing.assert_allclose(text.get_position(), sum(members) / len(members), rtol=1e-14)
            assert text.get_fontweight() == "bold" and text.get_path_effects()  # with a white outline
        assert ax.get_title() == key and ax.get_xlabel() == "code 1" and ax.get_ylabel() == "code 2"
    assert renders(fig)


def test_code_scatter_errors():
    with pytest.raises(ValueError, match=r"codes\['a'\] \(one code per label\) must be \(3, 2\).*shape \(4, 2\)"):
        ae_plots.code_scatter({"a": torch.rand(4, 2)}, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"labels must be \(N,\) integer classes"):
        ae_plots.code_scatter({"a": torch.rand(2, 2)}, torch.tensor([0.5, 1.0]))
    with pytest.raises(ValueError, match="at least one"):
        ae_plots.code_scatter({}, torch.tensor([0, 1]))


# ---------------------------------------------------------------- score_histograms
def test_score_histograms_share_bin_edges_within_a_panel_and_draw_densities():
    g = torch.Generator().manual_seed(7)
    scores = {"AE-16: AUC 0.87": {"digits 0-7": torch.rand(283, generator=g, dtype=torch.float64) * 0.05,
                                  "digits 8 and 9": torch.rand(76, generator=g, dtype=torch.float64) * 0.1 + 0.02},
              "DAE-128: AUC 0.94": {"digits 0-7": torch.rand(283, generator=g, dtype=torch.float64) * 3,
                                    "digits 8 and 9": torch.rand(76, generator=g, dtype=torch.float64) + 2.5}}
    fig = ae_plots.score_histograms(scores, xlabel="MSE", title="anomalies", bins=12)
    assert len(fig.axes) == 2 and fig.get_suptitle() == "anomalies"
    for ax, (model, groups) in zip(fig.axes, scores.items()):
        assert ax.get_title() == model and ax.get_xlabel() == "MSE" and ax.get_ylabel() == "density"
        assert legend(ax) == list(groups)
        steps = [p.get_data() for p in ax.patches]
        assert len(steps) == 2
        edges = steps[0].edges
        np.testing.assert_array_equal(steps[1].edges, edges)  # one set of edges per panel
        every = np.concatenate([s.numpy() for s in groups.values()])
        assert len(edges) == 13 and edges[0] == every.min() and edges[-1] == every.max()
        for step, s in zip(steps, groups.values()):
            counts, _ = np.histogram(s.numpy(), bins=edges)
            np.testing.assert_allclose(step.values, counts / (len(s) * np.diff(edges)), rtol=1e-12)
            assert np.sum(step.values * np.diff(edges)) == pytest.approx(1.0)
    assert renders(fig)


def test_score_histograms_errors():
    with pytest.raises(ValueError, match="at least one"):
        ae_plots.score_histograms({})
    with pytest.raises(ValueError, match=r"score_histograms\['m'\]: give at least one"):
        ae_plots.score_histograms({"m": {}})
    with pytest.raises(ValueError, match=r"'m' / 'b' must be a non-empty \(n,\) vector.*shape \(3, 2\).*flatten"):
        ae_plots.score_histograms({"m": {"a": torch.rand(5), "b": torch.rand(3, 2)}})


# ---------------------------------------------------------------- som_map, som_frame
@pytest.mark.parametrize("rows, cols, shape", [(3, 4, (8, 8)), (2, 5, (2, 3))])
def test_som_map_puts_unit_r_cols_plus_c_at_tile_r_c(rows, cols, shape):
    h, w = shape
    weights = torch.rand(rows * cols, h * w, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    fig = ae_plots.som_map(weights, rows, cols, image_shape=shape, title="map")
    ax = fig.axes[0]
    (image,) = ax.images
    picture = image.get_array().filled(np.nan)
    assert picture.shape == (rows * (h + 1) - 1, cols * (w + 1) - 1)
    for r in range(rows):
        for c in range(cols):
            tile = picture[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w]
            np.testing.assert_array_equal(tile, weights[r * cols + c].numpy().reshape(h, w))
    assert np.isnan(picture[h]).all() and np.isnan(picture[:, w]).all()  # the gaps
    assert image.get_clim() == (0.0, 1.0) and image.get_cmap().name == "gray_r"
    assert not ax.axison and ax.get_title() == "map"
    assert renders(fig)


def test_som_map_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert ae_plots.som_map(torch.rand(4, 64), 2, 2, ax=right) is fig
    assert len(right.images) == 1 and not left.images


def test_som_frame_title_and_fixed_layout():
    g = torch.Generator().manual_seed(9)
    before = len(plt.get_fignums())
    fig = ae_plots.som_frame(torch.rand(100, 64, generator=g), 10, 10, 500, 5395, 0.34812, 4.0431, 1.85249)
    assert len(plt.get_fignums()) == before + 1  # one figure, the map drawn into it
    assert fig.get_suptitle() == ("step 500 of 5395: learning rate 0.348, sigma 4.04, quantization error 1.852")
    assert len(fig.axes) == 1 and len(fig.axes[0].images) == 1
    later = ae_plots.som_frame(torch.rand(100, 64, generator=g), 10, 10, 5395, 5395, 0.01, 0.5, 1.376)
    assert tuple(fig.get_size_inches()) == tuple(later.get_size_inches())
    assert renders(fig) and renders(later)
    assert fig.axes[0].get_position().bounds == later.axes[0].get_position().bounds


def test_som_errors():
    with pytest.raises(ValueError, match=r"\(rows \* cols, h \* w\) = \(12, 64\).*shape \(10, 64\)"):
        ae_plots.som_map(torch.rand(10, 64), 3, 4)
    with pytest.raises(ValueError, match=r"= \(4, 64\).*shape \(2, 2, 64\).*weights\.reshape\(rows \* cols, -1\)"):
        ae_plots.som_map(torch.rand(2, 2, 64), 2, 2)
    with pytest.raises(ValueError, match="step must lie between 0 and total = 100, got 101"):
        ae_plots.som_frame(torch.rand(4, 64), 2, 2, 101, 100, 0.1, 1.0, 0.5)
