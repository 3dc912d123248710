"""Chapter 10's pixel-by-pixel figure: every frame against the sample cut by hand (NaN after the first k pixels), the
outlined next pixel at its raster position, the conditionals' column against sigmoid(logits) computed here."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from figures import renders  # noqa: E402

import helpers.plot.autoregressive as ar_plots  # noqa: E402
from helpers.models.autoregressive import MADE  # noqa: E402


def _model():
    torch.manual_seed(0)
    return MADE(12, hidden=16).double()


def test_the_module_lists_its_figure():
    assert ar_plots.__all__ == ["autoregressive_frames"]  # helpers.plot re-exports the names in __all__


def test_frames_show_the_first_k_pixels_the_next_one_outlined_and_the_conditionals():
    model = _model()
    samples = model.sample(2, generator=torch.Generator().manual_seed(1))
    stages = [0, 5, 12]
    fig = ar_plots.autoregressive_frames(model, samples, stages=stages, image_shape=(3, 4), title="MADE")
    axes = np.array(fig.axes).reshape(2, 4)
    probs = torch.sigmoid(model(samples)).detach().numpy()
    for r in range(2):
        for c, k in enumerate(stages):
            expected = samples[r].numpy().copy()
            expected[k:] = np.nan
            drawn = axes[r, c].images[0].get_array().filled(np.nan)
            np.testing.assert_array_equal(drawn, expected.reshape(3, 4))
            *outline, border = axes[r, c].patches
            assert border.get_xy() == (-0.5, -0.5) and (border.get_width(), border.get_height()) == (4, 3)
            if k < 12:  # the next pixel: row k // 4, column k % 4, in red
                (outline,) = outline
                assert outline.get_xy() == (k % 4 - 0.5, k // 4 - 0.5)
                assert outline.get_width() == outline.get_height() == 1
                assert outline.get_edgecolor() == matplotlib.colors.to_rgba("#d62728")
            else:
                assert not outline
        np.testing.assert_allclose(axes[r, 3].images[0].get_array(), probs[r].reshape(3, 4), rtol=1e-15)
    assert [ax.get_title() for ax in axes[0]] == ["0 drawn", "5 drawn", "12 drawn", "$p(x_i = 1 \\mid x_{<i})$"]
    assert all(ax.get_title() == "" for ax in axes[1])
    assert all(ax.images[0].get_clim() == (0.0, 1.0) for ax in fig.axes)
    assert fig.get_suptitle() == "MADE"
    assert renders(fig)


def test_frames_errors():
    model = _model()
    with pytest.raises(ValueError, match=r"non-empty \(n, 64\) tensor.*image_shape \(8, 8\)"):
        ar_plots.autoregressive_frames(model, torch.zeros(2, 12))
    with pytest.raises(ValueError, match="0 to 12, got \\[0, 13\\]"):
        ar_plots.autoregressive_frames(model, torch.zeros(2, 12), stages=[0, 13], image_shape=(3, 4))
