"""A self-organizing map (Kohonen): competitive learning of prototype vectors laid out on a 2-D grid.

A map has n_units = rows * cols units; unit j has a weight vector w_j (a row of ``weights``, (n_units,
n_features)) and a fixed position r_j on the grid (``grid_coordinates``). For one sample x (n_features,)::

    winner (best matching unit)   j* = argmin_j ||x - w_j||^2              ties go to the lowest index
    neighbourhood                 h_j = exp(-||r_j - r_j*||^2 / (2 sigma^2))   (h_j* = 1)
    update                        w_j <- w_j + eta h_j (x - w_j)          every unit, in proportion to h_j

With h one-hot on the winner (sigma = 0) this is plain competitive learning, the lecture notes' rule
w_j*(t+1) = w_j*(t) + eta (x - w_j*(t)): only the winner moves, a fraction eta of the way towards x. With a
Gaussian h the winner's grid neighbours move too, which is what makes neighbouring units learn similar
prototypes: the map becomes an ordered, 2-D picture of the data. Training shrinks both eta and sigma, from
(learning_rate, sigma) at step 0 towards (final_learning_rate, final_sigma) at the last step T::

    "exponential"   v_t = v_0 (v_T / v_0)^(t / T)       (geometric: the same factor every step)
    "linear"        v_t = v_0 + (v_T - v_0) t / T
    "none"          v_t = v_0                           (the notes' worked example: eta = 0.6 throughout)

Large sigma first orders the map globally; small sigma at the end fine-tunes each prototype.
The quality measures: the quantization error, the mean distance ||x - w_j*|| from each sample to its winner, and
the topographic error, the fraction of samples whose two best units are not grid neighbours.
"""

from __future__ import annotations

import torch

from helpers._checks import whole_number

__all__ = [
    "SelfOrganizingMap",
    "best_matching_unit",
    "gaussian_neighbourhood",
    "grid_coordinates",
    "som_update",
    "squared_distances",
]

DECAYS = ("exponential", "linear", "none")


def _check_pair(weights: torch.Tensor, x: torch.Tensor, where: str) -> None:
    if not isinstance(weights, torch.Tensor) or not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: weights and x must be torch tensors, got {type(weights).__name__} and "
                        f"{type(x).__name__}. Use torch.as_tensor(...).")
    if weights.ndim != 2 or x.ndim not in (1, 2) or x.shape[-1] != weights.shape[1]:
        raise ValueError(f"{where}: expected weights (n_units, n_features) and x (n_features,) or (N, n_features) "
                         f"with the same n_features, got weights {list(weights.shape)} and x {list(x.shape)}.")


def squared_distances(weights: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """||x - w_j||^2 for every unit j: weights (n_units, F), x (F,) -> (n_units,), or x (N, F) -> (N, n_units).

    Computed from the differences (not ||x||^2 - 2 x.w + ||w||^2), so it is exact up to rounding and never negative.
    """
    _check_pair(weights, x, "squared_distances")
    return ((x.unsqueeze(-2) - weights) ** 2).sum(-1)


def best_matching_unit(weights: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The winner argmin_j ||x - w_j||^2: x (F,) -> () int64, or a batch x (N, F) -> (N,) int64.

    Ties go to the lowest index (``torch.argmin`` returns the first minimum).
    """
    return squared_distances(weights, x).argmin(-1)


def grid_coordinates(rows: int, cols: int) -> torch.Tensor:
    """The positions r_j = (j // cols, j % cols) of the units on a rows x cols grid, row-major: (rows * cols, 2)."""
    whole_number("rows", rows)
    whole_number("cols", cols)
    r, c = torch.meshgrid(torch.arange(rows), torch.arange(cols), indexing="ij")
    return torch.stack([r.reshape(-1), c.reshape(-1)], dim=1).to(torch.get_default_dtype())


def gaussian_neighbourhood(grid: torch.Tensor, winner: int | torch.Tensor, sigma: float) -> torch.Tensor:
    """h_j = exp(-||r_j - r_winner||^2 / (2 sigma^2)): grid (n_units, 2), winner an index -> (n_units,).

    ``sigma = 0`` gives the one-hot vector on the winner (the limit sigma -> 0): plain competitive learning.
    """
    if not isinstance(grid, torch.Tensor) or grid.ndim != 2:
        raise ValueError("gaussian_neighbourhood: grid must be a (n_units, 2) tensor of unit positions, e.g. "
                         "grid_coordinates(rows, cols).")
    if not sigma >= 0:
        raise ValueError(f"gaussian_neighbourhood: sigma must be >= 0 (grid units), got {sigma!r}.")
    d2 = ((grid - grid[winner]) ** 2).sum(-1)
    if 2 * sigma**2 == 0:  # sigma = 0 (or so small that sigma^2 underflows): the winner only
        return (d2 == 0).to(grid.dtype)
    return torch.exp(-d2 / (2 * sigma**2))


def som_update(weights: torch.Tensor, x: torch.Tensor, learning_rate: float,
               neighbourhood: torch.Tensor | None = None) -> torch.Tensor:
    """One step w_j <- w_j + eta h_j (x - w_j): weights (n_units, F), x (F,) -> NEW weights (n_units, F).

    ``neighbourhood`` h (n_units,) defaults to the one-hot vector on the winner ``best_matching_unit(weights,
    x)``: only the winner moves (the lecture notes' competitive update). Returns a new tensor; ``weights`` is
    not modified in place.
    """
    _check_pair(weights, x, "som_update")
    if x.ndim != 1:
        raise ValueError(f"som_update: x must be ONE sample (n_features,), got shape {list(x.shape)}; "
                         "loop over the rows of a batch (the map is trained online, one sample at a time).")
    if neighbourhood is None:
        neighbourhood = torch.zeros(weights.shape[0], dtype=weights.dtype, device=weights.device)
        neighbourhood[best_matching_unit(weights, x)] = 1
    elif neighbourhood.shape != (weights.shape[0],):
        raise ValueError(f"som_update: neighbourhood must have shape (n_units,) = ({weights.shape[0]},), "
                         f"got {list(neighbourhood.shape)}.")
    return weights + learning_rate * neighbourhood.unsqueeze(1) * (x - weights)


def decayed(start: float, end: float, t: int, total: int, decay: str) -> float:
    """The value at step t of T = ``total`` steps of a schedule from ``start`` (t = 0) to ``end`` (t = T)."""
    if decay == "none" or total == 0:
        return start
    if decay == "linear":
        return start + (end - start) * t / total
    return start * (end / start) ** (t / total)


class SelfOrganizingMap:
    """A rows x cols Kohonen map of n_features-dimensional prototypes, trained online (one sample per step).

    ``weights`` (rows * cols, n_features): None until ``fit`` initialises it from randomly chosen samples, or
    set it yourself before fitting. ``grid`` (rows * cols, 2): the units' grid positions (row-major).
    ``sigma`` defaults to max(rows, cols) / 2; ``sigma=0`` is winner-only (competitive) learning. Both eta and
    sigma decay from their initial values to ``final_learning_rate`` and ``final_sigma`` over the whole run
    (``decay``: "exponential", "linear" or "none"; see the module's docstring).
    After ``fit``: ``history_`` (S, n_units, n_features), snapshots of the weights every ``history_every``
    steps (the initial and the final weights always included), and ``history_steps_``, their step numbers.
    """

    def __init__(self, rows: int, cols: int, n_features: int, learning_rate: float = 0.5,
                 sigma: float | None = None, final_learning_rate: float = 0.01, final_sigma: float = 0.5,
                 decay: str = "exponential"):
        whole_number("n_features", n_features)
        self.grid = grid_coordinates(rows, cols)
        if decay not in DECAYS:
            raise ValueError(f"decay must be one of {DECAYS}, got {decay!r}.")
        sigma = max(rows, cols) / 2 if sigma is None else sigma
        for name, value in (("learning_rate", learning_rate), ("final_learning_rate", final_learning_rate)):
            if not value > 0:
                raise ValueError(f"{name} must be > 0, got {value!r}.")
        if not (sigma >= 0 and final_sigma > 0):
            raise ValueError(f"sigma must be >= 0 and final_sigma > 0 (grid units), got {sigma!r}, {final_sigma!r}.")
        self.rows, self.cols, self.n_features = rows, cols, n_features
        self.learning_rate, self.sigma, self.decay = learning_rate, sigma, decay
        self.final_learning_rate, self.final_sigma = final_learning_rate, final_sigma
        self.weights: torch.Tensor | None = None

    @property
    def n_units(self) -> int:
        return self.rows * self.cols

    def _check_X(self, X: torch.Tensor, where: str) -> torch.Tensor:
        if not isinstance(X, torch.Tensor) or not X.is_floating_point() or X.ndim != 2 \
                or X.shape[1] != self.n_features or X.shape[0] == 0:
            got = f"shape {list(X.shape)} {X.dtype}" if isinstance(X, torch.Tensor) else type(X).__name__
            raise ValueError(f"SelfOrganizingMap.{where}: X must be a non-empty floating-point tensor (N, "
                             f"{self.n_features}), got {got}. One sample is x[None]; integers: X.double().")
        if where != "fit" and self.weights is None:
            raise RuntimeError(f"This SelfOrganizingMap has no weights yet: call .fit(X) before .{where}.")
        return X

    def schedule(self, t: int, total: int) -> tuple[float, float]:
        """(eta_t, sigma_t) at step t of a run of ``total`` steps; sigma = 0 (winner only) stays 0."""
        sigma = decayed(self.sigma, self.final_sigma, t, total, self.decay) if self.sigma > 0 else 0.0
        return decayed(self.learning_rate, self.final_learning_rate, t, total, self.decay), sigma

    def fit(self, X: torch.Tensor, epochs: int = 1, generator: torch.Generator | None = None, shuffle: bool = True,
            history_every: int | None = None) -> SelfOrganizingMap:
        """Train on X (N, n_features) for ``epochs`` passes, one sample per step: T = epochs * N steps.

        Each epoch visits the samples in a random order from ``generator`` (in the given order with
        ``shuffle=False``). Initial weights, when none are set: distinct random samples of X (with repetition
        if there are more units than samples). Every call runs the whole schedule again, from (learning_rate,
        sigma), starting from the current weights.
        """
        X = self._check_X(X, "fit")
        whole_number("epochs", epochs)
        if history_every is not None:
            whole_number("history_every", history_every)
        n = X.shape[0]
        if self.weights is None:
            picks = torch.randperm(n, generator=generator) if n >= self.n_units \
                else torch.randint(n, (self.n_units,), generator=generator)
            self.weights = X[picks[: self.n_units]].clone()
        elif self.weights.shape != (self.n_units, self.n_features):
            raise ValueError(f"SelfOrganizingMap.fit: weights must have shape ({self.n_units}, {self.n_features}), "
                             f"got {list(self.weights.shape)}.")
        grid = self.grid.to(device=X.device, dtype=X.dtype)
        w, total, t = self.weights.to(X), epochs * n, 0
        snapshots, steps = [w.clone()], [0]
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
            for i in order.tolist():
                eta, sigma = self.schedule(t, total)
                h = gaussian_neighbourhood(grid, best_matching_unit(w, X[i]), sigma)
                w = som_update(w, X[i], eta, h)
                t += 1
                if history_every is not None and t % history_every == 0:
                    snapshots.append(w.clone())
                    steps.append(t)
        if steps[-1] != total:
            snapshots.append(w.clone())
            steps.append(total)
        self.weights = w
        self.history_, self.history_steps_ = torch.stack(snapshots), steps
        return self

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """The winning unit of each sample: X (N, n_features) -> (N,) int64; its grid position is grid[j]."""
        X = self._check_X(X, "predict")
        return best_matching_unit(self.weights.to(X), X)

    def quantization_error(self, X: torch.Tensor) -> torch.Tensor:
        """mean_n ||x_n - w_j*(x_n)||, the mean Euclidean distance of the samples to their winners: a scalar."""
        X = self._check_X(X, "quantization_error")
        d2 = squared_distances(self.weights.to(X), X)
        return d2.min(-1).values.sqrt().mean()

    def topographic_error(self, X: torch.Tensor) -> torch.Tensor:
        """The fraction of samples whose best and second-best units are not grid neighbours (8-neighbourhood)."""
        X = self._check_X(X, "topographic_error")
        d2 = squared_distances(self.weights.to(X), X)
        if self.n_units < 2:
            return torch.zeros((), dtype=X.dtype, device=X.device)
        two = d2.topk(2, dim=-1, largest=False).indices
        grid = self.grid.to(X.device)
        step = (grid[two[:, 0]] - grid[two[:, 1]]).abs().amax(-1)
        return (step > 1).to(X.dtype).mean()

    def __repr__(self) -> str:
        return (f"SelfOrganizingMap(rows={self.rows}, cols={self.cols}, n_features={self.n_features}, "
                f"learning_rate={self.learning_rate:g}, sigma={self.sigma:g}, decay={self.decay!r})")
