"""helpers.data.moons: two_moons against sklearn.datasets.make_moons (noise 0: the same points and labels, up to the
order of the rows; the noise's mean and spread), and rotate against a rotation matrix written here, with distances
kept, the centre fixed, and a turn by a then by b equal to a turn by a + b."""

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import make_moons
from tensors import DEVICES, F64, TOL, random

from helpers.data.moons import rotate, two_moons


def _sorted_rows(x, y):
    table = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
    return table[np.lexsort(table.T[::-1])]


@pytest.mark.parametrize("n", [200, 7, 2, 101])
def test_without_noise_the_points_and_labels_are_make_moons(n):
    x, y = two_moons(n, noise=0.0, seed=3)
    assert x.shape == (n, 2) and x.dtype == torch.float32 and y.shape == (n,) and y.dtype == torch.int64
    theirs_x, theirs_y = make_moons(n, shuffle=False, noise=None)
    np.testing.assert_allclose(_sorted_rows(x, y), _sorted_rows(theirs_x.astype(np.float32), theirs_y), rtol=0,
                               atol=1e-7)
    assert int((y == 0).sum()) == n // 2 and int((y == 1).sum()) == n - n // 2


def test_rows_are_shuffled_and_the_seed_decides():
    x, y = two_moons(200, noise=0.0, seed=0)
    assert not torch.equal(y, torch.sort(y).values)  # not make_moons' order (class 0 first)
    a, b, c = two_moons(200, 0.1, seed=1), two_moons(200, 0.1, seed=1), two_moons(200, 0.1, seed=2)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and not torch.equal(a[0], c[0])


def test_the_noise_is_gaussian_with_the_given_spread():
    noise = 0.2
    x, y = two_moons(20000, noise=noise, seed=5)
    clean, _ = two_moons(20000, noise=0.0, seed=5)  # same seed: the same shuffle of the same curve points
    residual = (x.double() - clean.double()).flatten()
    assert abs(residual.mean().item()) < 4 * noise / math.sqrt(len(residual))
    assert residual.std().item() == pytest.approx(noise, rel=0.02)


@pytest.mark.parametrize("bad, error", [({"n_samples": 1}, ValueError), ({"n_samples": 2.5}, TypeError),
                                        ({"noise": -0.1}, ValueError), ({"noise": float("nan")}, ValueError)])
def test_two_moons_errors(bad, error):
    with pytest.raises(error):
        two_moons(**bad)


def _distances(x):
    return (x[:, None, :] - x[None, :, :]).norm(dim=-1)


def _matrix(degrees):
    a = math.radians(degrees)
    return torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=F64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("degrees", [35, -20, 90, 0, 180.5])
def test_rotate_about_the_mean_is_the_rotation_matrix(device, degrees):
    x = random(30, 2, seed=1, device=device) + torch.tensor([3.0, -1.0], dtype=F64, device=device)
    turned = rotate(x, degrees)
    mean = x.mean(dim=0)
    expected = torch.stack([mean + _matrix(degrees).to(device) @ (p - mean) for p in x])
    assert torch.allclose(turned, expected, **TOL) and turned.dtype == F64 and turned.device == x.device
    assert torch.allclose(_distances(turned), _distances(x), **TOL)  # distances kept
    assert torch.allclose(turned.mean(dim=0), mean, **TOL)  # the centre stays put


def test_rotate_about_a_given_center_and_composition():
    x = random(10, 2, seed=2)
    center = torch.tensor([0.5, 0.25], dtype=F64)
    expected = center + (x - center) @ _matrix(35).T
    assert torch.allclose(rotate(x, 35, center=center), expected, **TOL)
    assert torch.allclose(rotate(x, 35, center=[0.5, 0.25]), expected, **TOL)
    origin = torch.zeros(2, dtype=F64)
    assert torch.allclose(rotate(rotate(x, 20, origin), 15, origin), rotate(x, 35, origin), **TOL)
    quarter = rotate(torch.tensor([[1.0, 0.0]], dtype=F64), 90, origin)  # counter-clockwise: (1, 0) -> (0, 1)
    assert torch.allclose(quarter, torch.tensor([[0.0, 1.0]], dtype=F64), **TOL)


def test_rotate_keeps_float32():
    x, _ = two_moons(50, 0.1, seed=0)
    turned = rotate(x, 35)
    assert turned.dtype == torch.float32
    assert torch.allclose(turned.double(), rotate(x.double(), 35), atol=1e-6, rtol=0)


def test_rotate_errors():
    with pytest.raises(ValueError, match=r"\(N, 2\) tensor"):
        rotate(torch.rand(4, 3), 10)
    with pytest.raises(ValueError, match=r"\(N, 2\) tensor"):
        rotate(torch.tensor([[1, 2]]), 10)
    with pytest.raises(TypeError, match="degrees must be a number"):
        rotate(torch.rand(4, 2), "35")
    with pytest.raises(ValueError, match=r"center must be one point \(2,\)"):
        rotate(torch.rand(4, 2), 10, center=torch.zeros(3))
