"""Ridge (L2) and lasso (L1) regression, as ``sklearn.linear_model.Ridge`` and ``Lasso``, on torch tensors.

The two estimators minimise differently scaled objectives, exactly as scikit-learn does::

    Ridge:  ||y - X w - b||^2 + alpha ||w||_2^2                  (a plain sum of squares)
    Lasso:  (1 / (2n)) ||y - X w - b||^2 + alpha ||w||_1         (a MEAN of squares, halved)

so the same alpha means different amounts of shrinkage: Ridge's alpha must grow with n to keep its effect,
Lasso's need not. (With the mean squared error (1/n)||r||^2 of a network, Ridge's alpha is n times the
penalty coefficient, and the gradient of (lambda/2)||w||^2 is the weight decay lambda w of an optimiser.)

The intercept b is never penalised: with ``fit_intercept=True`` both centre X and y (subtract the column
means x_bar and y_bar), fit w on the centred data, and set b = y_bar - x_bar . w.

Ridge has a closed form (the normal equations with alpha added to the diagonal)::

    w = (Xc^T Xc + alpha I)^{-1} Xc^T yc

Lasso has none, because |w_j| has no derivative at 0; it is solved by cyclic coordinate descent. Holding
every other weight fixed, the objective in w_j alone is a one-dimensional quadratic plus alpha |w_j|, whose
minimiser is soft-thresholding (``helpers.nn.activations.softshrink``)::

    rho_j = X_j^T (r + X_j w_j)                       r = y - X w, the current residual
    w_j  <- softshrink(rho_j, n alpha) / ||X_j||^2    exactly 0 when |rho_j| <= n alpha: sparsity

Sweeps repeat until scikit-learn's stopping rule holds: the largest change of a sweep is at most
tol * max_j |w_j|, and the duality gap (a certified bound on the distance to the optimum) is at most
tol ||y||^2. X: (n, p), y: (n,) or (n, T) (one model per column of y); tensors in, float64 tensors out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch

__all__ = ["ConvergenceWarning", "Lasso", "Ridge", "lasso_coordinate_descent", "lasso_path", "ridge_path"]


class ConvergenceWarning(UserWarning):
    """Coordinate descent stopped at max_iter before the duality gap fell below tol (sklearn has the same)."""


# ---------------------------------------------------------------- inputs
def _check_alpha(alpha: float, where: str, positive: bool = False) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha < 0 or (positive and alpha == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{where}: alpha is the penalty strength and must be a number {bound}, got {alpha!r}."
                         + (" For plain least squares use Ridge(alpha=0)." if positive else ""))


def _check_Xy(X: torch.Tensor, y: torch.Tensor | None, where: str) -> tuple[torch.Tensor, torch.Tensor | None]:
    """float64 copies of X: (n, p) and y: (n,) or (n, T)."""
    if not isinstance(X, torch.Tensor) or (y is not None and not isinstance(y, torch.Tensor)):
        raise TypeError(f"{where}: X and y must be torch tensors; convert arrays with torch.as_tensor(...).")
    if X.ndim != 2:
        raise ValueError(f"{where}: X must be (n_samples, n_features), got shape {tuple(X.shape)}. "
                         "For a single feature use X.unsqueeze(1); for a single sample X.unsqueeze(0).")
    if y is not None and (y.ndim not in (1, 2) or len(y) != len(X)):
        raise ValueError(f"{where}: y must be (n_samples,) or (n_samples, n_targets) with n_samples = {len(X)}, "
                         f"got shape {tuple(y.shape)}.")
    return X.double(), (y.double() if y is not None else None)


def _centre(X: torch.Tensor, y: torch.Tensor, fit_intercept: bool):
    """(Xc, yc, x_bar, y_bar): the data minus its column means, or unchanged and zero means."""
    if not fit_intercept:
        return X, y, X.new_zeros(X.shape[1]), y.new_zeros(y.shape[1:])
    x_bar, y_bar = X.mean(dim=0), y.mean(dim=0)
    return X - x_bar, y - y_bar, x_bar, y_bar


class _LinearModel:
    """fit_intercept bookkeeping and predict, shared by Ridge and Lasso."""

    coef_: torch.Tensor  # (p,) for y (n,), (T, p) for y (n, T)
    intercept_: torch.Tensor  # 0-dim or (T,)

    def _set_intercept(self, x_bar: torch.Tensor, y_bar: torch.Tensor) -> None:
        self.intercept_ = y_bar - self.coef_ @ x_bar  # b = y_bar - w . x_bar

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """y_hat = X w + b. X: (m, p) -> (m,) or (m, T)."""
        if not hasattr(self, "coef_"):
            raise RuntimeError(f"This {type(self).__name__} is not fitted yet: call .fit(X, y) first.")
        X, _ = _check_Xy(X, None, f"{type(self).__name__}.predict")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} was fitted with "
                             f"{self.n_features_in_}.")
        return X @ (self.coef_.T if self.coef_.ndim == 2 else self.coef_) + self.intercept_

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------- ridge
def _ridge_solve(Xc: torch.Tensor, yc: torch.Tensor, alpha: float) -> torch.Tensor:
    """w = (Xc^T Xc + alpha I)^{-1} Xc^T yc. (n, p), (n,) or (n, T) -> (p,) or (p, T). alpha = 0: least squares."""
    if alpha == 0:  # X^T X may be singular: the minimum-norm least-squares solution
        return torch.linalg.pinv(Xc) @ yc
    p = Xc.shape[1]
    return torch.linalg.solve(Xc.T @ Xc + alpha * torch.eye(p, dtype=Xc.dtype, device=Xc.device), Xc.T @ yc)


class Ridge(_LinearModel):
    """L2-penalised least squares, as ``sklearn.linear_model.Ridge``: min_w ||y - X w - b||^2 + alpha ||w||^2.

    fit(X: (n, p), y: (n,) or (n, T)) -> self; coef_: (p,) or (T, p); intercept_: 0-dim or (T,).
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True) -> None:
        _check_alpha(alpha, "Ridge")
        self.alpha, self.fit_intercept = alpha, fit_intercept

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, as sklearn's get_params."""
        return {"alpha": self.alpha, "fit_intercept": self.fit_intercept}

    def fit(self, X: torch.Tensor, y: torch.Tensor) -> Ridge:
        X, y = _check_Xy(X, y, "Ridge.fit")
        Xc, yc, x_bar, y_bar = _centre(X, y, self.fit_intercept)
        w = _ridge_solve(Xc, yc, self.alpha)  # (p,) or (p, T)
        self.coef_ = w.T if w.ndim == 2 else w
        self.n_features_in_ = X.shape[1]
        self._set_intercept(x_bar, y_bar)
        return self


# ---------------------------------------------------------------- lasso
def _duality_gap(X: torch.Tensor, y: torch.Tensor, w: torch.Tensor, r: torch.Tensor, l1: float) -> float:
    """Gap of P(w) = (1/2)||r||^2 + l1 ||w||_1 (n times sklearn's objective) and its dual at v = s r.

    s = min(1, l1 / ||X^T r||_inf) makes v dual-feasible; D(v) = -(1/2)||v||^2 + y . v <= min P, so
    P(w) - D(v) >= P(w) - min P >= 0, and it is 0 at the optimum.
    """
    dual_norm = (X.T @ r).abs().max().item() if X.shape[1] else 0.0
    s = l1 / dual_norm if dual_norm > l1 else 1.0
    r2 = (r @ r).item()
    primal = 0.5 * r2 + l1 * w.abs().sum().item()
    dual = -0.5 * s**2 * r2 + s * (r @ y).item()
    return primal - dual


def lasso_coordinate_descent(
    X: torch.Tensor, y: torch.Tensor, alpha: float, w: torch.Tensor, max_iter: int = 1000, tol: float = 1e-4
) -> tuple[torch.Tensor, float, int]:
    """Cyclic coordinate descent for (1/(2n))||y - X w||^2 + alpha ||w||_1, starting from w (updated in place).

    X: (n, p), y: (n,), w: (p,) -> (w, gap, n_iter); gap is the duality gap on sklearn's (1/(2n)) scale.
    """
    n, p = X.shape
    l1 = alpha * n  # the objective times n: (1/2)||r||^2 + n alpha ||w||_1
    col_norm2 = (X**2).sum(dim=0)  # ||X_j||^2
    r = y - X @ w
    tol_gap = tol * (y @ y).item()
    gap = _duality_gap(X, y, w, r, l1)
    n_iter = 0
    if gap <= tol_gap:
        return w, gap / n, n_iter
    for n_iter in range(1, max_iter + 1):
        w_max = d_w_max = 0.0
        for j in range(p):
            if col_norm2[j] == 0:  # a constant (all-zero after centring) feature stays at 0
                continue
            w_old = w[j].item()
            rho = (X[:, j] @ r).item() + w_old * col_norm2[j].item()  # X_j^T (r + X_j w_j)
            w_new = max(abs(rho) - l1, 0.0) * (1.0 if rho > 0 else -1.0) / col_norm2[j].item()  # soft-threshold
            if w_new != w_old:
                r -= (w_new - w_old) * X[:, j]
                w[j] = w_new
            d_w_max, w_max = max(d_w_max, abs(w_new - w_old)), max(w_max, abs(w_new))
        if w_max == 0.0 or d_w_max / w_max <= tol or n_iter == max_iter:
            gap = _duality_gap(X, y, w, r, l1)
            if gap <= tol_gap:
                return w, gap / n, n_iter
    warnings.warn(f"Lasso did not converge in max_iter={max_iter} sweeps: duality gap {gap:.3e} > tolerance "
                  f"{tol_gap:.3e}. Increase max_iter, loosen tol, or standardise the features.", ConvergenceWarning,
                  stacklevel=3)
    return w, gap / n, n_iter


class Lasso(_LinearModel):
    """L1-penalised least squares, as ``sklearn.linear_model.Lasso``: min_w (1/(2n))||y - X w - b||^2 + alpha ||w||_1.

    fit(X: (n, p), y: (n,) or (n, T)) -> self; coef_: (p,) or (T, p); intercept_: 0-dim or (T,);
    n_iter_ (sweeps) and dual_gap_ per target. Coordinate descent, see the module docstring.
    """

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 1000,
                 tol: float = 1e-4) -> None:
        _check_alpha(alpha, "Lasso", positive=True)
        if max_iter < 1 or tol < 0:
            raise ValueError(f"Lasso: max_iter must be >= 1 and tol >= 0, got max_iter={max_iter}, tol={tol}.")
        self.alpha, self.fit_intercept, self.max_iter, self.tol = alpha, fit_intercept, max_iter, tol

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments, as sklearn's get_params."""
        return {"alpha": self.alpha, "fit_intercept": self.fit_intercept, "max_iter": self.max_iter, "tol": self.tol}

    def fit(self, X: torch.Tensor, y: torch.Tensor) -> Lasso:
        X, y = _check_Xy(X, y, "Lasso.fit")
        Xc, yc, x_bar, y_bar = _centre(X, y, self.fit_intercept)
        columns = yc.unsqueeze(1) if yc.ndim == 1 else yc
        fits = []  # one independent fit per target
        for col in columns.T:
            fits.append(lasso_coordinate_descent(Xc, col.contiguous(), self.alpha, X.new_zeros(X.shape[1]),
                                                 self.max_iter, self.tol))
        coef = torch.stack([w for w, _, _ in fits])  # (T, p)
        self.coef_ = coef[0] if y.ndim == 1 else coef
        self.dual_gap_ = fits[0][1] if y.ndim == 1 else [gap for _, gap, _ in fits]
        self.n_iter_ = fits[0][2] if y.ndim == 1 else [it for _, _, it in fits]
        self.n_features_in_ = X.shape[1]
        self._set_intercept(x_bar, y_bar)
        return self


# ---------------------------------------------------------------- weight paths
def _path_alphas(alphas: Sequence[float], where: str, positive: bool) -> torch.Tensor:
    alphas = torch.as_tensor(alphas, dtype=torch.float64).flatten()
    if alphas.numel() == 0:
        raise ValueError(f"{where}: give at least one alpha, e.g. alphas=torch.logspace(-3, 1, 30).")
    for a in alphas.tolist():
        _check_alpha(a, where, positive)
    return alphas.sort(descending=True).values  # strongest penalty first, as sklearn


def ridge_path(X: torch.Tensor, y: torch.Tensor, *, alphas: Sequence[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge weights for every alpha, largest first: (alphas (k,), coefs (p, k)), like ``lasso_path``.

    No intercept, as sklearn's paths: centre (or standardise) X and y first. X: (n, p), y: (n,).
    """
    X, y = _check_Xy(X, y, "ridge_path")
    alphas = _path_alphas(alphas, "ridge_path", positive=False)
    coefs = torch.stack([_ridge_solve(X, y, a) for a in alphas.tolist()], dim=-1)
    return alphas, coefs


def lasso_path(
    X: torch.Tensor, y: torch.Tensor, *, alphas: Sequence[float], max_iter: int = 1000, tol: float = 1e-4
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Lasso weights for every alpha, as ``sklearn.linear_model.lasso_path(X, y, alphas=...)``.

    Returns (alphas sorted largest first (k,), coefs (p, k), dual_gaps (k,)). Each fit starts from the
    previous one (a warm start), so the path from strong to weak penalty is cheap. No intercept: centre
    (or standardise) X and y first. X: (n, p), y: (n,).
    """
    X, y = _check_Xy(X, y, "lasso_path")
    if y.ndim != 1:
        raise ValueError(f"lasso_path: y must be (n_samples,), got {tuple(y.shape)}; run it once per column.")
    alphas = _path_alphas(alphas, "lasso_path", positive=True)
    w = X.new_zeros(X.shape[1])
    coefs, gaps = [], []
    for a in alphas.tolist():
        w, gap, _ = lasso_coordinate_descent(X, y, a, w.clone(), max_iter, tol)
        coefs.append(w)
        gaps.append(gap)
    return alphas, torch.stack(coefs, dim=-1), torch.tensor(gaps, dtype=torch.float64)
