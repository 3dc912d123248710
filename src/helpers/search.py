"""Hyperparameter search: ``ParameterGrid`` and ``ParameterSampler`` as in ``sklearn.model_selection``, and
two small drivers, ``grid_search`` and ``random_search``.

A grid tries every combination::

    ParameterGrid({"lr": [0.1, 0.01], "decay": [0, 1e-4]})
    -> {decay: 0, lr: 0.1}, {decay: 0, lr: 0.01}, {decay: 1e-4, lr: 0.1}, {decay: 1e-4, lr: 0.01}

(keys in sorted order, the LAST key changing fastest, as sklearn). Random search draws ``n_iter`` settings:
a list is sampled uniformly, anything with an ``.rvs`` method (a ``scipy.stats`` distribution such as
``loguniform(1e-4, 1e-1)``) is sampled from. Bergstra and Bengio (2012): when only a few hyperparameters
matter, a grid of n points spends them on n^(1/d) distinct values of each, while random search tries n
distinct values of every continuous one, so it finds the good region of the important ones faster.

Randomness comes from a NumPy ``RandomState`` built from ``random_state`` (an int seed, a RandomState,
or None), the generator scipy's ``.rvs`` accepts, and is drawn in sklearn's order, so the same seed gives
sklearn's samples.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np

__all__ = ["ParameterGrid", "ParameterSampler", "grid_search", "random_search"]


def _as_list_of_dicts(params: Mapping | Iterable, what: str) -> list[dict]:
    if not isinstance(params, (Mapping, Iterable)):
        raise TypeError(f"Parameter {what} should be a dict or a list, got: {params!r} of type "
                        f"{type(params).__name__}")
    grids = [params] if isinstance(params, Mapping) else list(params)
    for grid in grids:
        if not isinstance(grid, dict):
            raise TypeError(f"Parameter {what} is not a dict ({grid!r})")
    return grids


class ParameterGrid:
    """Every combination of the values in a dict of lists (or in each dict of a list of dicts), in sklearn's order.

    Iteration: for each dict, keys sorted, ``itertools.product`` of their value lists (the last key varies
    fastest). ``len(grid)`` counts the combinations; ``grid[i]`` is ``list(grid)[i]`` without building the list.
    """

    def __init__(self, param_grid: Mapping[str, Sequence] | Sequence[Mapping[str, Sequence]]) -> None:
        self.param_grid = _as_list_of_dicts(param_grid, "grid")
        for grid in self.param_grid:
            for key, value in grid.items():
                if isinstance(value, np.ndarray) and value.ndim > 1:
                    raise ValueError(f"Parameter array for {key!r} should be one-dimensional, got: {value!r} "
                                     f"with shape {value.shape}")
                if isinstance(value, str) or not isinstance(value, (np.ndarray, Sequence)):
                    raise TypeError(f"Parameter grid for parameter {key!r} needs to be a list or a numpy array, "
                                    f"but got {value!r} (of type {type(value).__name__}) instead. Single values "
                                    "need to be wrapped in a list with one element.")
                if len(value) == 0:
                    raise ValueError(f"Parameter grid for parameter {key!r} need to be a non-empty sequence, "
                                     f"got: {value!r}")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for grid in self.param_grid:
            if not grid:
                yield {}  # an empty dict is one setting: the defaults
                continue
            keys, values = zip(*sorted(grid.items()))
            for combination in product(*values):
                yield dict(zip(keys, combination))

    def __len__(self) -> int:
        return sum(math.prod(len(v) for v in grid.values()) for grid in self.param_grid)

    def __getitem__(self, ind: int) -> dict[str, Any]:
        """The ind-th setting: ind written in the mixed radix of the value-list lengths (last key = last digit)."""
        for grid in self.param_grid:
            size = math.prod(len(v) for v in grid.values())  # 1 for the empty dict
            if ind >= size:
                ind -= size
                continue
            out = {}
            for key, values in reversed(sorted(grid.items())):  # the fastest-changing key first
                ind, offset = divmod(ind, len(values))
                out[key] = values[offset]
            return dict(sorted(out.items()))
        raise IndexError("ParameterGrid index out of range")


def _check_random_state(random_state: int | np.random.RandomState | None) -> np.random.RandomState:
    """sklearn's check_random_state: None -> numpy's global RandomState, an int -> a new seeded one."""
    if random_state is None:
        return np.random.mtrand._rand
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.RandomState(random_state)
    raise ValueError(f"random_state must be an int seed, a numpy RandomState or None, got {random_state!r}.")


class ParameterSampler:
    """``n_iter`` random settings from lists and distributions, as ``sklearn.model_selection.ParameterSampler``.

    - some value has ``.rvs``: each setting picks a dict (uniformly, for a list of dicts), then for every key in
      sorted order draws ``v.rvs(random_state=rng)`` or a uniformly chosen list element (with replacement);
    - only lists: ``n_iter`` DISTINCT settings of the ParameterGrid, a uniformly random subset without
      replacement (at most the grid's size; a UserWarning says when n_iter is larger).

    The draws are sklearn's, value for value, except for lists alone with n_iter / len(grid) <= 0.01 or
    >= 0.99, where sklearn switches to other subset algorithms (the whole grid then comes in grid order);
    here it is always the first n_iter entries of a random permutation: the same distribution.
    """

    def __init__(self, param_distributions: Mapping | Sequence[Mapping], n_iter: int,
                 *, random_state: int | np.random.RandomState | None = None) -> None:
        self.param_distributions = _as_list_of_dicts(param_distributions, "distribution")
        for dist in self.param_distributions:
            for key, value in dist.items():
                if not isinstance(value, Iterable) and not hasattr(value, "rvs"):
                    raise TypeError(f"Parameter grid for parameter {key!r} is not iterable or a distribution "
                                    f"(value={value})")
        self.n_iter, self.random_state = n_iter, random_state

    def _is_all_lists(self) -> bool:
        return all(not hasattr(v, "rvs") for dist in self.param_distributions for v in dist.values())

    def __iter__(self) -> Iterator[dict[str, Any]]:
        rng = _check_random_state(self.random_state)
        if self._is_all_lists():
            grid = ParameterGrid(self.param_distributions)
            n_iter = self.n_iter
            if len(grid) < n_iter:
                warnings.warn(f"The total space of parameters {len(grid)} is smaller than n_iter={n_iter}. Running "
                              f"{len(grid)} iterations. For exhaustive searches, use GridSearchCV.", UserWarning,
                              stacklevel=2)
                n_iter = len(grid)
            for i in rng.permutation(len(grid))[:n_iter]:  # a uniformly random subset, in random order
                yield grid[int(i)]
            return
        for _ in range(self.n_iter):
            dist = rng.choice(self.param_distributions)
            params = {}
            for key, value in sorted(dist.items()):
                params[key] = value.rvs(random_state=rng) if hasattr(value, "rvs") else value[rng.randint(len(value))]
            yield params

    def __len__(self) -> int:
        if self._is_all_lists():
            return min(self.n_iter, len(ParameterGrid(self.param_distributions)))
        return self.n_iter


# ---------------------------------------------------------------- the two searches
def _search(fn: Callable[..., float], settings: Iterable[dict], greater_is_better: bool):
    """Evaluate fn(**params) for every setting; (best_params, best_score, [(params, score), ...])."""
    results = [(params, float(fn(**params))) for params in settings]
    if not results:
        raise ValueError("The search has no settings to try: give at least one value per parameter.")
    sign = 1.0 if greater_is_better else -1.0
    best_params, best_score = results[0]
    for params, score in results[1:]:  # strictly better only: ties keep the first; nan is never best
        if sign * score > sign * best_score or math.isnan(best_score):
            best_params, best_score = params, score
    return best_params, best_score, results


def grid_search(fn: Callable[..., float], grid: Mapping | Sequence[Mapping], *, greater_is_better: bool = True):
    """Try every setting of ``ParameterGrid(grid)``: returns (best_params, best_score, [(params, score), ...]).

    fn(**params) -> a number, e.g. a validation accuracy (greater_is_better=True) or loss (False).
    """
    return _search(fn, ParameterGrid(grid), greater_is_better)


def random_search(fn: Callable[..., float], distributions: Mapping | Sequence[Mapping], n_iter: int,
                  seed: int | None = None, *, greater_is_better: bool = True):
    """Try ``n_iter`` settings of ``ParameterSampler(distributions, n_iter, random_state=seed)``; as grid_search."""
    return _search(fn, ParameterSampler(distributions, n_iter, random_state=seed), greater_is_better)
