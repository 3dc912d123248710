import numpy as np
import pytest
import torch

from helpers import models
from helpers.data import noisy_sine


@pytest.mark.parametrize("degree", [0, 1, 3, 7])
def test_polynomial_fit_matches_numpy_polyfit(degree):
    x, y = noisy_sine(40, 0.2, seed=degree)
    ours = models.PolynomialRegression(degree).fit(x, y).predict(x)
    z = 2 * x.numpy() - 1
    theirs = np.polyval(np.polyfit(z, y.numpy(), degree), z)
    assert np.allclose(ours.numpy(), theirs, atol=1e-8)


def test_polynomial_interpolates_when_degree_reaches_n_minus_1():
    x, y = noisy_sine(8, 0.3, seed=0)
    fit = models.PolynomialRegression(7).fit(x, y)
    assert models.mse(fit.predict(x), y).item() < 1e-12


def test_polynomial_errors_are_clear():
    with pytest.raises(ValueError, match="non-negative integer"):
        models.PolynomialRegression(-1)
    with pytest.raises(RuntimeError, match="fit"):
        models.PolynomialRegression(2).predict(torch.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        models.PolynomialRegression(2).fit(torch.zeros(3), torch.zeros(4))


def test_mlp_shapes_and_parameter_count():
    net = models.MLP((64, 32, 10))
    assert net(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert models.count_parameters(net) == 64 * 32 + 32 + 32 * 10 + 10
    with pytest.raises(ValueError, match="at least an input and an output"):
        models.MLP((3,))
