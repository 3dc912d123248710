"""RBF features agree with the direct formula and with scikit-learn's rbf_kernel; the XOR networks work."""

import math

import numpy as np
import pytest
import torch
from sklearn.metrics.pairwise import rbf_kernel

from helpers.nn import rbf

F64 = torch.float64


@pytest.mark.parametrize("gamma", [0.1, 0.5, 2.0])
def test_features_match_sklearn_and_the_formula(gamma):
    g = torch.Generator().manual_seed(0)
    x, centers = torch.randn(7, 3, generator=g, dtype=F64), torch.randn(4, 3, generator=g, dtype=F64)
    got = rbf.rbf_features(x, centers, gamma)
    assert got.shape == (7, 4) and got.dtype == F64
    np.testing.assert_allclose(got.numpy(), rbf_kernel(x.numpy(), centers.numpy(), gamma=gamma), rtol=1e-12)
    direct = [[math.exp(-gamma * sum((a - b) ** 2 for a, b in zip(xi, cj))) for cj in centers.tolist()]
              for xi in x.tolist()]
    np.testing.assert_allclose(got.numpy(), np.array(direct), rtol=1e-12)
    assert rbf.rbf_features(centers, centers, gamma).diagonal().eq(1).all()


def test_sigma_and_gamma_agree():
    x = torch.tensor([[0.0, 0.0]], dtype=F64)
    c = torch.tensor([[1.0, 1.0]], dtype=F64)  # squared distance 2
    for sigma in (0.5, 1.0, 3.0):
        value = rbf.rbf_features(x, c, rbf.gamma_from_sigma(sigma)).item()
        assert value == pytest.approx(math.exp(-2 / (2 * sigma**2)))
    with pytest.raises(ValueError):
        rbf.gamma_from_sigma(0.0)
    with pytest.raises(ValueError):
        rbf.rbf_features(x, c, gamma=-1.0)
    with pytest.raises(ValueError, match="centers"):
        rbf.rbf_features(x, torch.ones(2, 3, dtype=F64))


def test_xor_with_the_lecture_weights():
    """Centres at the four corners, gamma = 1/2, weights (-0.8, 0.9, 0.9, -0.8), recomputed by hand."""
    e_half, e_one = math.exp(-0.5), math.exp(-1.0)
    weights = torch.tensor([-0.8, 0.9, 0.9, -0.8], dtype=F64)
    y = rbf.rbf_network(rbf.XOR_INPUTS, rbf.XOR_INPUTS, weights, gamma=0.5)
    same = -0.8 * (1 + e_one) + 0.9 * 2 * e_half  # (0, 0) and (1, 1)
    different = -0.8 * 2 * e_half + 0.9 * (1 + e_one)  # (0, 1) and (1, 0)
    np.testing.assert_allclose(y.numpy(), [same, different, different, same], rtol=1e-12)
    assert same == pytest.approx(-0.002548, abs=1e-6) and different == pytest.approx(0.260642, abs=1e-6)
    assert ((y > 0.13) == rbf.XOR_TARGETS.bool()).all()  # a threshold between the two values computes XOR


def test_least_squares_weights_interpolate_xor():
    w = rbf.fit_output_weights(rbf.XOR_INPUTS, rbf.XOR_TARGETS, rbf.XOR_INPUTS, gamma=0.5)
    h = rbf.rbf_features(rbf.XOR_INPUTS, rbf.XOR_INPUTS, 0.5)
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(h.numpy(), rbf.XOR_TARGETS.numpy()), rtol=1e-10)
    torch.testing.assert_close(rbf.rbf_network(rbf.XOR_INPUTS, rbf.XOR_INPUTS, w, 0.5), rbf.XOR_TARGETS)
    # two centres and a bias are enough: XOR is linearly separable in the RBF feature space
    centers = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=F64)
    wb = rbf.fit_output_weights(rbf.XOR_INPUTS, rbf.XOR_TARGETS, centers, gamma=1.0, bias=True)
    y = rbf.rbf_network(rbf.XOR_INPUTS, centers, wb[:-1], 1.0, bias=wb[-1].item())
    assert ((y > 0.5) == rbf.XOR_TARGETS.bool()).all()
