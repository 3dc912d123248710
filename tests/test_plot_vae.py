"""Chapter 10's VAE figures: what they draw, against the inputs, and their errors.

Every expected value is computed here: the z of each tile by a loop, the decoded images by calling the model's
layers on those z, tile centres from the image's extent, class colours and means by hand.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import renders  # noqa: E402

import helpers.plot.vae as vae_plots  # noqa: E402
from helpers.models.vae import VAE  # noqa: E402

F64 = torch.float64


def vae(latent=2, n_features=64, seed=0):
    torch.manual_seed(seed)
    return VAE(n_features, 16, latent).double()


def decoded(model, z) -> np.ndarray:
    """The decoder's layers on z, written out: sigmoid(W_2 relu(W_1 z + b_1) + b_2)."""
    first, _, second, _ = model.decoder
    with torch.no_grad():
        h = torch.relu(z @ first.weight.T + first.bias)
        return torch.sigmoid(h @ second.weight.T + second.bias).numpy()


def tiles(picture: np.ndarray, rows: int, cols: int, h: int, w: int) -> dict:
    """(r, c) -> the h x w tile of a mosaic with one-pixel gaps."""
    return {(r, c): picture[r * (h + 1): r * (h + 1) + h, c * (w + 1): c * (w + 1) + w]
            for r in range(rows) for c in range(cols)}


def test_every_figure_is_listed():
    assert sorted(vae_plots.__all__) == ["latent_frame", "latent_grid", "latent_scatter", "prior_samples"]


# ---------------------------------------------------------------- latent_grid
@pytest.mark.parametrize("n, limits", [(5, (-3.0, 3.0)), (4, (-1.0, 2.0))])
def test_latent_grid_puts_the_digit_decoded_at_z_where_z_is_on_the_axes(n, limits):
    model = vae()
    fig = vae_plots.latent_grid(model, limits=limits, n=n, title="grid")
    ax = fig.axes[0]
    (image,) = ax.images
    picture = image.get_array().filled(np.nan)
    assert picture.shape == (n * 9 - 1, n * 9 - 1)
    values = np.linspace(*limits, n)
    left, right, bottom, top = image.get_extent()
    pixel_x, pixel_y = (right - left) / picture.shape[1], (top - bottom) / picture.shape[0]
    for (r, c), tile in tiles(picture, n, n, 8, 8).items():
        z1, z2 = values[c], values[n - 1 - r]  # z_1 to the right, z_2 upwards
        np.testing.assert_allclose(tile, decoded(model, torch.tensor([[z1, z2]], dtype=F64)).reshape(8, 8),
                                   rtol=1e-12, atol=1e-12)
        centre_x = left + (c * 9 + 4) * pixel_x  # the tile spans pixels c * 9 .. c * 9 + 7
        centre_y = top - (r * 9 + 4) * pixel_y
        assert centre_x == pytest.approx(z1, abs=1e-12) and centre_y == pytest.approx(z2, abs=1e-12)
    assert np.isnan(picture[8]).all() and np.isnan(picture[:, 8]).all()  # the gaps
    assert pixel_x == pytest.approx(pixel_y)  # square pixels: the aspect is the pixels', drawn square
    assert image.get_clim() == (0.0, 1.0) and image.get_cmap().name == "gray_r"
    assert ax.get_xlabel() == "$z_1$" and ax.get_ylabel() == "$z_2$" and ax.get_title() == "grid"
    assert limits[0] in ax.get_xticks() and limits[1] in ax.get_yticks()  # the ticks are in z units
    assert renders(fig)


def test_latent_grid_image_shape_for_non_square_images():
    model = vae(n_features=12)
    fig = vae_plots.latent_grid(model, n=3, image_shape=(3, 4))
    picture = fig.axes[0].images[0].get_array().filled(np.nan)
    assert picture.shape == (3 * 4 - 1, 3 * 5 - 1)
    np.testing.assert_allclose(tiles(picture, 3, 3, 3, 4)[(2, 0)],
                               decoded(model, torch.tensor([[-3.0, -3.0]], dtype=F64)).reshape(3, 4), rtol=1e-12)


def test_latent_grid_errors():
    with pytest.raises(ValueError, match=r"2-D latent space, this model.s has latent=8: train a VAE\(.*latent=2\)"):
        vae_plots.latent_grid(vae(latent=8))
    with pytest.raises(ValueError, match=r"not a square image; pass image_shape=\(h, w\) with h \* w = 12"):
        vae_plots.latent_grid(vae(n_features=12))
    with pytest.raises(ValueError, match=r"image_shape \(3, 3\) has 9 pixels, the decoder gives 12"):
        vae_plots.latent_grid(vae(n_features=12), image_shape=(3, 3))
    with pytest.raises(ValueError, match="low < high"):
        vae_plots.latent_grid(vae(), limits=(3, -3))
    with pytest.raises(ValueError, match="at least 2"):
        vae_plots.latent_grid(vae(), n=1)
    with pytest.raises(TypeError, match=r"\.latent and \.decode"):
        vae_plots.latent_grid(torch.nn.Linear(2, 64))


# ---------------------------------------------------------------- latent_scatter
def test_latent_scatter_is_code_scatter_on_mu_axes_with_one_scale():
    g = torch.Generator().manual_seed(1)
    labels = torch.tensor([0, 1, 1, 2, 0, 2])
    codes = {"BCE summed": torch.randn(6, 2, generator=g, dtype=F64) * 2,
             "BCE averaged": torch.randn(6, 2, generator=g, dtype=F64) * 0.01}
    fig = vae_plots.latent_scatter(codes, labels, title="means")
    reach = 1.05 * max(c.abs().max().item() for c in codes.values())
    assert fig.get_suptitle() == "means"
    for ax, (key, xy) in zip(fig.axes, codes.items()):
        np.testing.assert_array_equal(ax.collections[0].get_offsets(), xy.numpy())
        assert [t.get_text() for t in ax.texts] == ["0", "1", "2"]
        assert ax.get_title() == key and ax.get_xlabel() == "$\\mu_1$" and ax.get_ylabel() == "$\\mu_2$"
        assert ax.get_xlim() == pytest.approx((-reach, reach)) and ax.get_ylim() == pytest.approx((-reach, reach))
    assert renders(fig)
    zoomed = vae_plots.latent_scatter(codes, labels, same_scale=False)
    assert zoomed.axes[1].get_xlim()[1] < 0.1 < zoomed.axes[0].get_xlim()[1]  # each panel its own range


# ---------------------------------------------------------------- latent_frame
def test_latent_frame_draws_the_decoded_digit_and_a_cross_on_the_codes():
    model = vae(seed=2)
    g = torch.Generator().manual_seed(3)
    codes = torch.randn(20, 2, generator=g, dtype=F64)
    labels = torch.arange(20) % 4
    fig = vae_plots.latent_frame(model, 0.5, -1.25, codes, labels, limits=(-2.0, 2.0))
    image_ax, scatter_ax = fig.axes
    np.testing.assert_allclose(image_ax.images[0].get_array(),
                               decoded(model, torch.tensor([[0.5, -1.25]], dtype=F64)).reshape(8, 8), rtol=1e-12)
    assert image_ax.get_title() == "decoded at z = (0.50, -1.25)"
    (points,) = scatter_ax.collections
    np.testing.assert_array_equal(points.get_offsets(), codes.numpy())
    tab10 = plt.get_cmap("tab10")
    np.testing.assert_allclose(points.get_facecolors()[:, :3], [tab10(int(c))[:3] for c in labels])
    for text, c in zip(scatter_ax.texts, range(4)):
        assert text.get_text() == str(c)
        np.testing.assert_allclose(text.get_position(), codes[labels == c].mean(dim=0).numpy(), rtol=1e-14)
    (cross,) = scatter_ax.lines
    assert list(cross.get_xdata()) == [0.5] and list(cross.get_ydata()) == [-1.25] and cross.get_marker() == "X"
    assert scatter_ax.get_xlim() == (-2.0, 2.0) and scatter_ax.get_ylim() == (-2.0, 2.0)
    assert renders(fig)


def test_latent_frame_has_a_fixed_layout():
    model = vae()
    codes, labels = torch.rand(10, 2) * 100, torch.arange(10)
    first = vae_plots.latent_frame(model, -3.0, -3.0, codes, labels)
    second = vae_plots.latent_frame(model, 2.75, 0.0, codes * 0, labels)
    assert renders(first) and renders(second)
    assert tuple(first.get_size_inches()) == tuple(second.get_size_inches())
    for a, b in zip(first.axes, second.axes):
        assert a.get_position().bounds == b.get_position().bounds


def test_latent_frame_errors():
    codes, labels = torch.rand(5, 2), torch.arange(5)
    with pytest.raises(ValueError, match="latent=3"):
        vae_plots.latent_frame(vae(latent=3), 0.0, 0.0, codes, labels)
    with pytest.raises(ValueError, match=r"codes \(one code per label\) must be \(4, 2\)"):
        vae_plots.latent_frame(vae(), 0.0, 0.0, codes, labels[:4])
    with pytest.raises(ValueError, match=r"labels must be \(N,\) integer classes"):
        vae_plots.latent_frame(vae(), 0.0, 0.0, codes, labels + 0.5)


# ---------------------------------------------------------------- prior_samples
def test_prior_samples_decode_the_same_prior_draws_row_by_row():
    models = {"z2": vae(seed=1), "z2 again": vae(seed=2), "z8": vae(latent=8, seed=3)}
    fig = vae_plots.prior_samples(models, n=5, seed=4, title="prior")
    assert [ax.texts[0].get_text() for ax in fig.axes] == list(models)
    for ax, model in zip(fig.axes, models.values()):
        z = torch.randn(5, model.latent, generator=torch.Generator().manual_seed(4), dtype=F64)
        row = tiles(ax.images[0].get_array().filled(np.nan), 1, 5, 8, 8)
        for c in range(5):
            np.testing.assert_allclose(row[(0, c)], decoded(model, z[c:c + 1]).reshape(8, 8), rtol=1e-12)
        assert len(ax.patches) == 5  # framed tiles
    assert fig.get_suptitle() == "prior"
    assert renders(fig)


def test_prior_samples_errors():
    with pytest.raises(ValueError, match="at least one"):
        vae_plots.prior_samples({})
    with pytest.raises(ValueError, match="at least 1"):
        vae_plots.prior_samples({"a": vae()}, n=0)
    with pytest.raises(TypeError, match=r"\.latent and \.decode"):
        vae_plots.prior_samples({"a": torch.nn.Linear(2, 64)})
