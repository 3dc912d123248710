"""helpers.search against sklearn.model_selection: the grid's order, length and indexing exactly; the sampler's
draws exactly where sklearn's algorithm is the same and statistically everywhere; the two search drivers."""

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn import model_selection as sk

from helpers.search import ParameterGrid, ParameterSampler, grid_search, random_search

GRIDS = {
    "one dict": {"lr": [0.1, 0.01, 0.001], "batch": [16, 64]},
    "unsorted keys": {"z": [1, 2], "a": ["x", "y", "w"], "m": [True, False]},
    "list of dicts": [{"kernel": ["linear"]}, {"kernel": ["rbf"], "gamma": [1, 10]}, {"c": [1, 2, 3], "b": [0]}],
    "with empty dict": [{}, {"a": [1, 2]}, {}],
    "numpy and tuples": {"alpha": np.logspace(-3, 0, 4), "depth": (1, 2), "act": [None, "relu"]},
    "single values": {"a": [5], "b": [6], "c": [7, 8]},
}


# ---------------------------------------------------------------- the grid
@pytest.mark.parametrize("name", GRIDS)
def test_grid_iterates_counts_and_indexes_exactly_like_sklearn(name):
    ours, theirs = ParameterGrid(GRIDS[name]), sk.ParameterGrid(GRIDS[name])
    assert list(ours) == list(theirs)
    assert [list(p) for p in ours] == [list(p) for p in theirs]  # keys in the same (sorted) order too
    assert len(ours) == len(theirs)
    assert [ours[i] for i in range(len(ours))] == [theirs[i] for i in range(len(theirs))] == list(theirs)
    with pytest.raises(IndexError, match="out of range"):
        ours[len(ours)]


def test_the_last_key_changes_fastest():
    assert list(ParameterGrid({"b": [1, 2], "a": ["x", "y"]})) == [
        {"a": "x", "b": 1}, {"a": "x", "b": 2}, {"a": "y", "b": 1}, {"a": "y", "b": 2}]


@pytest.mark.parametrize("bad", [{"a": "abc"}, {"a": 3}, {"a": []}, {"a": np.zeros((2, 2))}, [{"a": [1]}, 3], 7])
def test_grid_errors_are_sklearns(bad):
    with pytest.raises((TypeError, ValueError)) as theirs:
        sk.ParameterGrid(bad)
    with pytest.raises(theirs.type) as ours:
        ParameterGrid(bad)
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- the sampler
DISTRIBUTIONS = {
    "lists and a continuous": {"lr": stats.loguniform(1e-4, 1e-1), "batch": [16, 32, 64], "act": ["relu", "tanh"]},
    "integers": {"units": stats.randint(8, 128), "dropout": stats.uniform(0, 0.5)},
    "list of dicts": [{"kernel": ["rbf"], "gamma": stats.expon(scale=0.1)}, {"kernel": ["linear"], "c": [1, 10]}],
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
@pytest.mark.parametrize("seed", [0, 1, 42])
def test_sampler_with_distributions_draws_exactly_what_sklearn_draws(name, seed):
    dist = DISTRIBUTIONS[name]
    ours = list(ParameterSampler(dist, 25, random_state=seed))
    theirs = list(sk.ParameterSampler(dist, 25, random_state=seed))
    assert ours == theirs and len(ParameterSampler(dist, 25)) == 25
    rng_ours, rng_theirs = np.random.RandomState(seed), np.random.RandomState(seed)  # a RandomState works too
    assert list(ParameterSampler(dist, 5, random_state=rng_ours)) == list(sk.ParameterSampler(dist, 5,
                                                                                              random_state=rng_theirs))


@pytest.mark.parametrize("n_iter", [2, 5, 11])
def test_sampler_of_lists_draws_a_subset_without_replacement_like_sklearn(n_iter):
    grid = {"a": [1, 2, 3, 4], "b": ["x", "y", "z"]}  # 12 settings: sklearn permutes when 0.01 < n_iter/12 < 0.99
    ours = list(ParameterSampler(grid, n_iter, random_state=3))
    assert ours == list(sk.ParameterSampler(grid, n_iter, random_state=3))
    assert len({tuple(sorted(p.items())) for p in ours}) == n_iter  # distinct
    assert all(p in list(ParameterGrid(grid)) for p in ours)


def test_sampler_of_lists_larger_than_the_grid_warns_and_returns_the_whole_grid():
    grid = {"a": [1, 2], "b": [3, 4]}
    with pytest.warns(UserWarning, match="smaller than n_iter=10") as record:
        ours = list(ParameterSampler(grid, 10, random_state=0))
    with warnings.catch_warnings(record=True) as theirs_record:
        warnings.simplefilter("always")
        theirs = list(sk.ParameterSampler(grid, 10, random_state=0))
    assert str(record[0].message) == str(theirs_record[0].message)
    def as_set(settings):
        return {tuple(sorted(p.items())) for p in settings}

    assert as_set(ours) == as_set(theirs) and len(ours) == 4  # the same settings; sklearn's in grid order
    assert len(ParameterSampler(grid, 10)) == len(sk.ParameterSampler(grid, 10)) == 4


def test_lists_are_sampled_uniformly_and_distributions_follow_their_law():
    n = 20_000
    dist = {"batch": [16, 32, 64, 128], "lr": stats.loguniform(1e-4, 1e-1)}
    samples = list(ParameterSampler(dist, n, random_state=5))
    counts = np.array([sum(s["batch"] == b for s in samples) for b in dist["batch"]])
    assert (np.abs(counts - n / 4) < 5 * math.sqrt(n * 0.25 * 0.75)).all()
    log_lr = np.log10([s["lr"] for s in samples])  # log-uniform: uniform in log10 on [-4, -1]
    assert log_lr.min() >= -4 and log_lr.max() <= -1
    assert abs(log_lr.mean() - (-2.5)) < 5 * (3 / math.sqrt(12)) / math.sqrt(n)
    assert stats.kstest(log_lr, stats.uniform(-4, 3).cdf).pvalue > 1e-4
    without = [ParameterSampler({"a": list(range(10))}, 1, random_state=s) for s in range(n // 4)]
    firsts = np.bincount([next(iter(p))["a"] for p in without], minlength=10)  # each of 10 values equally likely
    assert (np.abs(firsts - n / 40) < 5 * math.sqrt(n / 4 * 0.1 * 0.9)).all()


def test_sampler_is_deterministic_with_a_seed_and_refuses_bad_input():
    dist = DISTRIBUTIONS["lists and a continuous"]
    assert list(ParameterSampler(dist, 8, random_state=7)) == list(ParameterSampler(dist, 8, random_state=7))
    assert list(ParameterSampler(dist, 8, random_state=7)) != list(ParameterSampler(dist, 8, random_state=8))
    with pytest.raises(TypeError) as theirs:
        sk.ParameterSampler({"a": 3}, 2)
    with pytest.raises(TypeError) as ours:
        ParameterSampler({"a": 3}, 2)
    assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="random_state"):
        list(ParameterSampler(dist, 2, random_state="seven"))


# ---------------------------------------------------------------- the searches
def bowl(lr, decay):
    """Peaks at lr = 0.01, decay = 1e-4 (in log10), score 1.0 there."""
    return 1.0 - (math.log10(lr) + 2) ** 2 - 0.1 * (math.log10(decay) + 4) ** 2


def test_grid_search_finds_the_best_setting_and_returns_every_result():
    grid = {"lr": [1e-3, 1e-2, 1e-1], "decay": [1e-5, 1e-4, 1e-3]}
    best, score, results = grid_search(bowl, grid)
    assert best == {"decay": 1e-4, "lr": 1e-2} and score == pytest.approx(1.0)
    assert [p for p, _ in results] == list(ParameterGrid(grid)) and len(results) == 9
    assert all(s == pytest.approx(bowl(**p)) for p, s in results)
    worst, worst_score, _ = grid_search(bowl, grid, greater_is_better=False)  # e.g. a loss
    assert worst_score == min(s for _, s in results) and worst in [{"decay": 1e-3, "lr": 1e-1},
                                                                   {"decay": 1e-5, "lr": 1e-1},
                                                                   {"decay": 1e-3, "lr": 1e-3},
                                                                   {"decay": 1e-5, "lr": 1e-3}]


def test_ties_keep_the_first_setting_and_nan_never_wins():
    best, _, _ = grid_search(lambda a: 1.0, {"a": [3, 1, 2]})
    assert best == {"a": 3}
    best, score, _ = grid_search(lambda a: math.nan if a == 2 else a, {"a": [2, 1, 0]})
    assert best == {"a": 1} and score == 1.0


def test_random_search_tries_more_values_of_the_one_parameter_that_matters():
    """Bergstra and Bengio's argument: 9 trials on a 3 x 3 grid try 3 learning rates; random search tries 9."""
    def only_lr_matters(lr, decay):
        return -((math.log10(lr) + 2.3) ** 2)

    grid = {"lr": [1e-4, 1e-2, 1], "decay": [1e-5, 1e-3, 1e-1]}
    _, grid_best, grid_results = grid_search(only_lr_matters, grid)
    dist = {"lr": stats.loguniform(1e-4, 1), "decay": stats.loguniform(1e-5, 1e-1)}
    wins = 0
    for seed in range(20):
        _, random_best, random_results = random_search(only_lr_matters, dist, 9, seed)
        assert len({p["lr"] for p, _ in random_results}) == 9 > len({p["lr"] for p, _ in grid_results}) == 3
        wins += random_best > grid_best
    assert wins >= 15  # random search gets closer to lr = 10^-2.3 on most seeds
    assert random_search(only_lr_matters, dist, 9, 0) == random_search(only_lr_matters, dist, 9, 0)
    with pytest.raises(ValueError, match="no settings"):
        random_search(only_lr_matters, dist, 0, 0)
