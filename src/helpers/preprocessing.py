"""Feature scaling as in ``sklearn.preprocessing``, on torch tensors: z-score, min-max and max-abs.

Each scaler learns per-feature statistics from the training data with ``fit(X)`` and applies them, the same
ones, to any data with ``transform(X)``; X: (n_samples, n_features) -> (n_samples, n_features)::

    StandardScaler   z = (x - mean_) / scale_                      scale_ = sqrt(var_), var_ with 1/n
    MinMaxScaler     z = x * scale_ + min_ = a + (x - data_min_) (b - a) / (data_max_ - data_min_)
    MaxAbsScaler     z = x / scale_                                scale_ = max_abs_ = max |x|

StandardScaler gives every feature mean 0 and variance 1 (on the training data), MinMaxScaler puts it in
``feature_range`` = (a, b), MaxAbsScaler in [-1, 1] without shifting it (zeros stay zeros, so sparse data
stays sparse). Fit on the TRAINING set only and reuse the statistics for validation and test data:
fitting on all data leaks information about the test set into the model.

A constant feature would divide by zero; as in sklearn its scale is set to 1, so it maps to 0 (z-score),
to a (min-max) or stays as it is (max-abs). "Constant" means a spread at the level of rounding errors:
StandardScaler uses sklearn's bound var <= n eps var + (n mean eps)^2, the others range < 10 eps.
"""

from __future__ import annotations

import torch

__all__ = ["MaxAbsScaler", "MinMaxScaler", "StandardScaler"]

EPS64 = torch.finfo(torch.float64).eps  # sklearn accumulates variances in float64


def _check_X(X: torch.Tensor, where: str, n_features: int | None = None) -> torch.Tensor:
    if not isinstance(X, torch.Tensor) or not X.is_floating_point():
        got = X.dtype if isinstance(X, torch.Tensor) else type(X).__name__
        raise TypeError(f"{where}: X must be a floating-point torch tensor, got {got}. "
                        "Use torch.as_tensor(X).double().")
    if X.ndim != 2:
        raise ValueError(f"{where}: expected a 2D tensor (n_samples, n_features), got shape {tuple(X.shape)}. "
                         "Reshape your data: X.unsqueeze(1) for a single feature, X.unsqueeze(0) for a single sample.")
    if torch.isnan(X).any():
        raise ValueError(f"{where}: X contains NaN. (sklearn's scalers skip NaNs; these do not: fill or drop them.)")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{where}: X has {X.shape[1]} features, but the scaler was fitted with {n_features}.")
    return X


def _handle_zeros_in_scale(scale: torch.Tensor, constant_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The scales with those of (near-)constant features set to 1, as sklearn's helper of the same name."""
    if constant_mask is None:
        constant_mask = scale < 10 * torch.finfo(scale.dtype).eps
    return torch.where(constant_mask, torch.ones_like(scale), scale)


class _Scaler:
    """fit_transform, the fitted-check and the bookkeeping attributes the three scalers share."""

    def _check_fitted(self, where: str) -> None:
        if not hasattr(self, "n_features_in_"):
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call .fit(X_train) before .{where}.")

    def _fitted_X(self, X: torch.Tensor, where: str) -> torch.Tensor:
        self._check_fitted(where)
        return _check_X(X, f"{type(self).__name__}.{where}", self.n_features_in_)

    def _remember(self, X: torch.Tensor) -> None:
        self.n_features_in_, self.n_samples_seen_ = X.shape[1], X.shape[0]

    def fit(self, X: torch.Tensor, y: object = None) -> _Scaler:
        raise NotImplementedError

    def fit_transform(self, X: torch.Tensor, y: object = None) -> torch.Tensor:
        """fit(X).transform(X): for the training data only."""
        return self.fit(X).transform(X)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class StandardScaler(_Scaler):
    """z = (x - mean_) / scale_ per feature, as ``sklearn.preprocessing.StandardScaler``.

    mean_, var_, scale_: (n_features,), var_ the population variance (1/n). with_mean=False skips the
    centring, with_std=False the scaling (var_ = scale_ = None; mean_ = None too if both are False).
    ``copy`` is sklearn's argument, kept for the signature: these scalers never modify X in place.
    """

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True) -> None:
        self.copy, self.with_mean, self.with_std = copy, with_mean, with_std

    def get_params(self, deep: bool = True) -> dict:
        return {"copy": self.copy, "with_mean": self.with_mean, "with_std": self.with_std}

    def fit(self, X: torch.Tensor, y: object = None) -> StandardScaler:
        X = _check_X(X, "StandardScaler.fit")
        self._remember(X)
        n = X.shape[0]
        mean = X.mean(dim=0)
        self.mean_ = mean if self.with_mean or self.with_std else None
        if self.with_std:
            self.var_ = X.var(dim=0, correction=0)  # (1/n) sum (x - mean)^2
            constant = self.var_ <= n * EPS64 * self.var_ + (n * mean * EPS64) ** 2
            self.scale_ = _handle_zeros_in_scale(self.var_.sqrt(), constant)
        else:
            self.var_ = self.scale_ = None
        return self

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """z = (x - mean_) / scale_. (m, n_features) -> (m, n_features)."""
        X = self._fitted_X(X, "transform")
        if self.with_mean:
            X = X - self.mean_
        return X / self.scale_ if self.with_std else X.clone()

    def inverse_transform(self, X: torch.Tensor) -> torch.Tensor:
        """x = z * scale_ + mean_: back to the original units."""
        X = self._fitted_X(X, "inverse_transform")
        if self.with_std:
            X = X * self.scale_
        return X + self.mean_ if self.with_mean else X.clone()


class MinMaxScaler(_Scaler):
    """z = x * scale_ + min_, mapping [data_min_, data_max_] onto feature_range, as ``sklearn``'s MinMaxScaler.

    scale_ = (b - a) / (data_max_ - data_min_), min_ = a - data_min_ * scale_ for feature_range = (a, b).
    New data outside the training range lands outside (a, b) unless clip=True.
    """

    def __init__(self, feature_range: tuple[float, float] = (0, 1), *, copy: bool = True, clip: bool = False) -> None:
        self.feature_range, self.copy, self.clip = feature_range, copy, clip

    def get_params(self, deep: bool = True) -> dict:
        return {"clip": self.clip, "copy": self.copy, "feature_range": self.feature_range}

    def fit(self, X: torch.Tensor, y: object = None) -> MinMaxScaler:
        a, b = self.feature_range
        if a >= b:
            raise ValueError("Minimum of desired feature range must be smaller than maximum. "
                             f"Got {self.feature_range}.")
        X = _check_X(X, "MinMaxScaler.fit")
        self._remember(X)
        self.data_min_, self.data_max_ = X.amin(dim=0), X.amax(dim=0)
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (b - a) / _handle_zeros_in_scale(self.data_range_)
        self.min_ = a - self.data_min_ * self.scale_
        return self

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """z = x * scale_ + min_ (clipped to feature_range with clip=True)."""
        X = self._fitted_X(X, "transform")
        Z = X * self.scale_ + self.min_
        return Z.clamp(*self.feature_range) if self.clip else Z

    def inverse_transform(self, X: torch.Tensor) -> torch.Tensor:
        """x = (z - min_) / scale_."""
        X = self._fitted_X(X, "inverse_transform")
        return (X - self.min_) / self.scale_


class MaxAbsScaler(_Scaler):
    """z = x / max_abs_ per feature, into [-1, 1] without centring, as ``sklearn.preprocessing.MaxAbsScaler``.

    clip=True clips new data to [-1, 1] (the training data never leaves it).
    """

    def __init__(self, *, copy: bool = True, clip: bool = False) -> None:
        self.copy, self.clip = copy, clip

    def get_params(self, deep: bool = True) -> dict:
        return {"clip": self.clip, "copy": self.copy}

    def fit(self, X: torch.Tensor, y: object = None) -> MaxAbsScaler:
        X = _check_X(X, "MaxAbsScaler.fit")
        self._remember(X)
        self.max_abs_ = X.abs().amax(dim=0)
        self.scale_ = _handle_zeros_in_scale(self.max_abs_)
        return self

    def transform(self, X: torch.Tensor) -> torch.Tensor:
        """z = x / scale_ (clipped to [-1, 1] with clip=True)."""
        Z = self._fitted_X(X, "transform") / self.scale_
        return Z.clamp(-1.0, 1.0) if self.clip else Z

    def inverse_transform(self, X: torch.Tensor) -> torch.Tensor:
        """x = z * scale_."""
        return self._fitted_X(X, "inverse_transform") * self.scale_
