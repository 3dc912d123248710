"""helpers.models.som against independent oracles: the winner against torch.cdist's argmin and a brute-force loop
(ties to the lowest index), the update against the formula written out, the Gaussian neighbourhood against its
definition unit by unit, the schedules against their closed forms, the lecture notes' four-sample worked example
recomputed exactly with fractions.Fraction (no torch, no module code) and matched by the module step by step, and
a seeded training run on the 8x8 digits that lowers the quantization error and leaves neighbouring units similar."""

import itertools
import math
from fractions import Fraction

import pytest
import torch
from sklearn.datasets import load_digits

from helpers.models.som import (
    SelfOrganizingMap,
    best_matching_unit,
    gaussian_neighbourhood,
    grid_coordinates,
    som_update,
    squared_distances,
)

F64 = torch.float64
TOL = {"rtol": 1e-12, "atol": 1e-12}


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


def test_best_matching_unit_is_cdist_argmin_and_brute_force():
    W, X = randn(7, 5, seed=1), randn(30, 5, seed=2)
    assert torch.equal(best_matching_unit(W, X), torch.cdist(X, W).argmin(1))
    for x in X[:5]:
        brute = min(range(7), key=lambda j: (sum((x[i].item() - W[j, i].item()) ** 2 for i in range(5)), j))
        assert best_matching_unit(W, x).item() == brute and best_matching_unit(W, x).shape == ()
    assert torch.allclose(squared_distances(W, X), torch.cdist(X, W) ** 2, **TOL)


def test_ties_go_to_the_lowest_index():
    W = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, 1.0]], dtype=F64)
    x = torch.zeros(2, dtype=F64)  # equidistant from all four units
    assert best_matching_unit(W, x).item() == 0
    assert best_matching_unit(W[1:], x).item() == 0
    assert best_matching_unit(W, torch.tensor([0.0, 2.0], dtype=F64)).item() == 1  # units 1 and 3 tie


def test_som_update_is_the_formula_and_does_not_modify_weights():
    W, x, h = randn(6, 3, seed=3), randn(3, seed=4), torch.rand(6, generator=torch.Generator().manual_seed(5),
                                                                    dtype=F64)
    before = W.clone()
    new = som_update(W, x, 0.3, h)
    for j in range(6):
        for i in range(3):
            assert math.isclose(new[j, i].item(), W[j, i].item() + 0.3 * h[j].item() * (x[i].item() - W[j, i].item()),
                                rel_tol=1e-12, abs_tol=1e-12)
    assert torch.equal(W, before) and new is not W
    # no neighbourhood: only the winner moves
    winner = int(torch.cdist(x[None], W).argmin())
    plain = som_update(W, x, 0.3)
    assert torch.allclose(plain[winner], W[winner] + 0.3 * (x - W[winner]), **TOL)
    assert torch.equal(torch.cat([plain[:winner], plain[winner + 1:]]), torch.cat([W[:winner], W[winner + 1:]]))
    # eta = 1 puts the winner on the sample
    assert torch.allclose(som_update(W, x, 1.0)[winner], x, **TOL)


def test_grid_and_gaussian_neighbourhood_values():
    grid = grid_coordinates(3, 4)
    assert grid.shape == (12, 2)
    assert [tuple(map(int, r)) for r in grid] == list(itertools.product(range(3), range(4)))
    h = gaussian_neighbourhood(grid.double(), 5, 1.5)  # unit 5 sits at (1, 1)
    for j, (r, c) in enumerate(itertools.product(range(3), range(4))):
        assert math.isclose(h[j].item(), math.exp(-((r - 1) ** 2 + (c - 1) ** 2) / (2 * 1.5**2)), rel_tol=1e-14)
    assert h[5].item() == 1.0
    assert torch.equal(gaussian_neighbourhood(grid, 7, 0), torch.eye(12)[7])


def test_schedules_follow_their_closed_forms():
    som = SelfOrganizingMap(4, 4, 2, learning_rate=0.5, sigma=2.0, final_learning_rate=0.02, final_sigma=0.5)
    for t in (0, 10, 37, 100):
        eta, sigma = som.schedule(t, 100)
        assert math.isclose(eta, 0.5 * (0.02 / 0.5) ** (t / 100)) and math.isclose(sigma, 2.0 * 0.25 ** (t / 100))
    som.decay = "linear"
    assert all(math.isclose(a, b) for a, b in zip(som.schedule(25, 100), (0.5 - 0.48 / 4, 2.0 - 1.5 / 4)))
    som.decay, som.sigma = "none", 0
    assert som.schedule(50, 100) == (0.5, 0.0)


# --- the lecture notes' worked example, by hand with exact fractions ------------------------------------------------

F = Fraction
NOTES_W = [[F(3, 10), F(5, 10), F(7, 10), F(2, 10)], [F(6, 10), F(7, 10), F(4, 10), F(3, 10)]]  # two units x 4
NOTES_X = [[1, 0, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1], [0, 1, 1, 0]]
ETA = F(6, 10)


def worked_example_by_hand():
    """[(d2 to unit 1, d2 to unit 2, winner, weights after)] for the four samples: winner-only, eta = 0.6."""
    w, steps = [row[:] for row in NOTES_W], []
    for x in NOTES_X:
        d2 = [sum((xi - wi) ** 2 for xi, wi in zip(x, row)) for row in w]
        j = d2.index(min(d2))
        w[j] = [wi + ETA * (xi - wi) for xi, wi in zip(x, w[j])]
        steps.append((d2[0], d2[1], j, [row[:] for row in w]))
    return steps


def test_worked_example_exact_numbers():
    steps = worked_example_by_hand()
    # the distances, as decimals (every one is exact: tenths squared times powers of 0.4)
    assert [(float(a), float(b), j) for a, b, j, _ in steps] == [
        (0.87, 1.1, 0), (0.8992, 0.9, 0), (2.215872, 1.1, 1), (2.055872, 1.296, 1)]
    after = [[[float(v) for v in row] for row in w] for *_, w in steps]
    assert after[0] == [[0.72, 0.2, 0.88, 0.08], [0.6, 0.7, 0.4, 0.3]]  # as in the notes
    assert after[1] == [[0.888, 0.08, 0.352, 0.032], [0.6, 0.7, 0.4, 0.3]]  # the notes: [-0.96 0.32 1.408 1.28]
    assert after[2] == [[0.888, 0.08, 0.352, 0.032], [0.84, 0.88, 0.76, 0.72]]
    assert after[3] == [[0.888, 0.08, 0.352, 0.032], [0.336, 0.952, 0.904, 0.288]]
    # the notes' second step, w - eta (x - w) with 0.08 copied as 0.8, is not the rule: it moves AWAY from x2
    w, x = [F(72, 100), F(2, 10), F(88, 100), F(8, 100)], NOTES_X[1]
    away = [wi - ETA * (xi - wi) for xi, wi in zip(x, w)]
    assert sum((xi - a) ** 2 for xi, a in zip(x, away)) > sum((xi - wi) ** 2 for xi, wi in zip(x, w))


def test_module_reproduces_the_worked_example():
    steps = worked_example_by_hand()
    W = torch.tensor([[float(v) for v in row] for row in NOTES_W], dtype=F64)
    X = torch.tensor(NOTES_X, dtype=F64)
    w = W
    for x, (d1, d2, j, after) in zip(X, steps):
        assert torch.allclose(squared_distances(w, x), torch.tensor([float(d1), float(d2)], dtype=F64), **TOL)
        assert best_matching_unit(w, x).item() == j
        w = som_update(w, x, 0.6)
        assert torch.allclose(w, torch.tensor([[float(v) for v in row] for row in after], dtype=F64), **TOL)
    # the same run through the class: a 1 x 2 map, winner only (sigma = 0), constant eta, samples in order
    som = SelfOrganizingMap(1, 2, 4, learning_rate=0.6, sigma=0, decay="none")
    som.weights = W.clone()
    som.fit(X, epochs=1, shuffle=False, history_every=1)
    expected = [W] + [torch.tensor([[float(v) for v in row] for row in after], dtype=F64) for *_, after in steps]
    assert som.history_steps_ == [0, 1, 2, 3, 4]
    assert torch.allclose(som.history_, torch.stack(expected), **TOL)
    assert torch.equal(som.weights, som.history_[-1])
    assert som.predict(X).tolist() == [0, 0, 1, 1]


# --- training ------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    return torch.tensor(load_digits().data / 16, dtype=F64)


def test_fit_lowers_the_quantization_error_on_digits(digits):
    g = torch.Generator().manual_seed(0)
    som = SelfOrganizingMap(5, 5, 64)
    som.weights = digits[torch.randperm(len(digits), generator=g)[:25]].clone()
    start = som.quantization_error(digits)
    manual = torch.cdist(digits, som.weights).min(1).values.mean()
    assert torch.allclose(start, manual, **TOL)
    som.fit(digits, epochs=2, generator=g, history_every=500)
    assert som.quantization_error(digits) < 0.9 * start
    assert som.history_steps_ == [0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 2 * len(digits)]
    assert som.history_.shape == (9, 25, 64) and torch.equal(som.history_[-1], som.weights)
    # ordered: grid neighbours are closer in weight space than units far apart on the grid
    grid, d = som.grid, torch.cdist(som.weights, som.weights)
    near = torch.cdist(grid, grid, p=float("inf")) == 1
    assert d[near].mean() < 0.7 * d[torch.cdist(grid, grid) >= 3].mean()
    assert som.topographic_error(digits) < 0.2
    assert set(som.predict(digits).tolist()) <= set(range(25))


def test_fit_on_a_ring_initialises_from_the_data_and_is_seeded():
    g = torch.Generator().manual_seed(1)
    angle = torch.rand(300, generator=g, dtype=F64) * 2 * math.pi
    ring = torch.stack([angle.cos(), angle.sin()], 1) + 0.05 * torch.randn(300, 2, generator=g, dtype=F64)
    runs = [SelfOrganizingMap(1, 20, 2, sigma=3.0).fit(ring, epochs=3, generator=torch.Generator().manual_seed(2))
            for _ in range(2)]
    assert torch.equal(runs[0].weights, runs[1].weights) and runs[0].history_steps_ == [0, 900]
    w = runs[0].weights
    assert runs[0].quantization_error(ring) < 0.15
    assert w.norm(dim=1).sub(1).abs().max() < 0.1  # the prototypes lie on the ring
    # a 1 x 20 chain laid along the ring in order: consecutive units a small step apart, all the same way round
    turn = torch.remainder(torch.diff(torch.atan2(w[:, 1], w[:, 0])) + math.pi, 2 * math.pi) - math.pi
    assert (turn.sign() == turn[0].sign()).all() and turn.abs().max() < 0.6


def test_errors():
    with pytest.raises(ValueError, match="n_features"):
        best_matching_unit(torch.zeros(3, 4), torch.zeros(5))
    with pytest.raises(TypeError, match="torch tensors"):
        som_update([[0.0]], torch.zeros(1), 0.1)
    with pytest.raises(ValueError, match="ONE sample"):
        som_update(torch.zeros(3, 2), torch.zeros(4, 2), 0.1)
    with pytest.raises(ValueError, match="neighbourhood"):
        som_update(torch.zeros(3, 2), torch.zeros(2), 0.1, torch.ones(4))
    with pytest.raises(ValueError, match="sigma"):
        gaussian_neighbourhood(grid_coordinates(2, 2), 0, -1.0)
    with pytest.raises(ValueError, match="decay"):
        SelfOrganizingMap(2, 2, 3, decay="cosine")
    with pytest.raises(TypeError, match="rows"):
        SelfOrganizingMap(2.0, 2, 3)
    som = SelfOrganizingMap(2, 2, 3)
    with pytest.raises(RuntimeError, match="fit"):
        som.predict(torch.zeros(1, 3))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        som.fit(torch.zeros(5, 4))
    som.weights = torch.zeros(3, 3)
    with pytest.raises(ValueError, match="weights must have shape"):
        som.fit(torch.zeros(5, 3))
