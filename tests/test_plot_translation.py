"""Chapter 10's translation figure: each row drawn against images computed here by hand (the models are simple maps
whose translations are written in the test: 1 - x and a left-right flip), the labels, the optional true rows."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import renders  # noqa: E402
from torch import nn  # noqa: E402

import helpers.plot.translation as translation_plots  # noqa: E402


class Invert(nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # a parameter, so the model has a device

    def forward(self, x):
        return 1 - x


class Flip(Invert):
    def forward(self, x):
        return x.flip(-1)


def _images(n, seed):
    return torch.rand(n, 1, 8, 8, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _by_hand(images: np.ndarray) -> np.ndarray:
    """One row of (n, h, w) images, a column of NaN between neighbours."""
    gap = np.full((images.shape[1], 1), np.nan)
    return np.concatenate([part for image in images for part in (gap, image)][1:], axis=1)


def _rows(fig):
    return {ax.texts[0].get_text(): ax.images[0].get_array().filled(np.nan) for ax in fig.axes}


def test_the_module_lists_its_figure():
    assert translation_plots.__all__ == ["translation_rows"]  # helpers.plot re-exports the names in __all__


def test_translation_rows_draw_each_image_its_translation_and_its_round_trip():
    x, y = _images(5, 0), _images(3, 1)
    fig = translation_plots.translation_rows(Invert(), Flip(), x, y, title="inverted digits")
    xs, ys = x[:, 0].numpy(), y[:, 0].numpy()
    expected = {"x": xs, "G(x)": 1 - xs, "F(G(x))": (1 - xs)[:, :, ::-1],
                "y": ys, "F(y)": ys[:, :, ::-1], "G(F(y))": 1 - ys[:, :, ::-1]}
    drawn = _rows(fig)
    assert list(drawn) == list(expected)
    for label, images in expected.items():
        np.testing.assert_allclose(drawn[label], _by_hand(images), rtol=0, atol=1e-15, err_msg=label)
    assert all(ax.images[0].get_clim() == (0.0, 1.0) for ax in fig.axes)
    assert fig.get_suptitle() == "inverted digits"
    assert renders(fig)


def test_translation_rows_put_the_true_translations_under_the_models():
    x, y = _images(4, 2), _images(4, 3)
    true_y, true_x = _images(4, 4), _images(4, 5)
    fig = translation_plots.translation_rows(Invert(), Invert(), x, y, true_y=true_y, true_x=true_x)
    drawn = _rows(fig)
    assert list(drawn) == ["x", "G(x)", "true T(x), unseen", "F(G(x))", "y", "F(y)", "true T^-1(y), unseen",
                           "G(F(y))"]
    np.testing.assert_array_equal(drawn["true T(x), unseen"], _by_hand(true_y[:, 0].numpy()))
    np.testing.assert_array_equal(drawn["true T^-1(y), unseen"], _by_hand(true_x[:, 0].numpy()))
    np.testing.assert_allclose(drawn["F(G(x))"], _by_hand(x[:, 0].numpy()), rtol=0, atol=1e-15)  # 1 - (1 - x)


def test_translation_rows_errors():
    x = _images(3, 6)
    with pytest.raises(ValueError, match=r"x must be an \(n, 1, h, w\) tensor"):
        translation_plots.translation_rows(Invert(), Invert(), x.flatten(1), x)
    with pytest.raises(ValueError, match=r"true_y must hold one true translation per image, shape \(3, 1, 8, 8\)"):
        translation_plots.translation_rows(Invert(), Invert(), x, x, true_y=_images(2, 7))
