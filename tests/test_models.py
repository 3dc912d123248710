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


@pytest.mark.parametrize("seed,n_train,noise,degrees", [(1, 20, 0.25, range(13)), (2, 12, 0.4, range(1, 10)),
                                                        (3, 60, 0.1, range(16)), (4, 15, 0.3, range(2, 11))])
def test_select_polynomial_degree_matches_numpy_polyfit(seed, n_train, noise, degrees):
    x_train, y_train = noisy_sine(n_train, noise, seed=seed)
    x_val, y_val = noisy_sine(200, noise, seed=seed + 1000)
    zt, zv = 2 * x_train.numpy() - 1, 2 * x_val.numpy() - 1
    errors = [np.mean((np.polyval(np.polyfit(zt, y_train.numpy(), d), zv) - y_val.numpy()) ** 2) for d in degrees]
    chosen = models.select_polynomial_degree(x_train, y_train, x_val, y_val, degrees)
    assert chosen == list(degrees)[int(np.argmin(errors))]
    with pytest.raises(ValueError, match="empty"):
        models.select_polynomial_degree(x_train, y_train, x_val, y_val, [])


@pytest.mark.parametrize("hidden", [(3,), (2, 2), (3, 1)])
def test_weight_space_symmetries_by_enumeration(hidden):
    """Permute and sign-flip the hidden units of a random tanh network in every way: count the distinct weight
    vectors, and check each computes the same function."""
    import itertools

    g = torch.Generator().manual_seed(0)
    sizes = (2, *hidden, 2)
    weights = [torch.randn(n_out, n_in, generator=g, dtype=torch.float64) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [torch.randn(n_out, generator=g, dtype=torch.float64) for n_out in sizes[1:]]
    x = torch.randn(7, 2, generator=g, dtype=torch.float64)

    def forward(ws, bs):
        h = x
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            h = torch.tanh(h) if i < len(ws) - 1 else h
        return h

    per_layer = [list(itertools.product(itertools.permutations(range(m)), itertools.product((1.0, -1.0), repeat=m)))
                 for m in hidden]
    seen = set()
    for choice in itertools.product(*per_layer):
        ws, bs = [w.clone() for w in weights], [b.clone() for b in biases]
        for layer, (perm, signs) in enumerate(choice):
            p, s = list(perm), torch.tensor(signs, dtype=torch.float64)
            ws[layer], bs[layer] = ws[layer][p] * s[:, None], bs[layer][p] * s  # units in: reorder and flip
            ws[layer + 1] = ws[layer + 1][:, p] * s  # units out: the same
        assert torch.allclose(forward(ws, bs), forward(weights, biases), atol=1e-12)
        seen.add(tuple(torch.cat([t.flatten() for t in ws + bs]).round(decimals=12).tolist()))
    assert len(seen) == models.weight_space_symmetries(hidden)
