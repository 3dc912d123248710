"""helpers.linear_model against sklearn.linear_model: Ridge and Lasso coefficients and intercepts, the paths,
and the optimality conditions (zero gradient for ridge, KKT with soft-thresholding for lasso)."""

import numpy as np
import pytest
import torch
from sklearn import linear_model as sk

from helpers.linear_model import ConvergenceWarning, Lasso, Ridge, lasso_path, ridge_path

F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}


def problem(n=60, p=8, targets=None, seed=0):
    """Correlated, unevenly scaled, off-centre features and a sparse truth, so that the intercept matters."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, p, generator=g, dtype=F64) @ (torch.eye(p, dtype=F64) + 0.3 * torch.randn(p, p, generator=g,
                                                                                                   dtype=F64))
    X = X * torch.linspace(0.5, 3.0, p, dtype=F64) + 2.0
    w = torch.zeros(p, dtype=F64)
    w[: p // 3] = torch.tensor([1.5, -2.0, 0.7, 1.0][: p // 3], dtype=F64)
    shape = (n,) if targets is None else (n, targets)
    noise = 0.5 * torch.randn(shape, generator=g, dtype=F64)
    y = (X @ w + 3.0 if targets is None else (X @ w + 3.0).unsqueeze(1) * torch.arange(1, targets + 1)) + noise
    return X, y


def close(ours, theirs, **tol):
    theirs = torch.as_tensor(np.array(theirs), dtype=F64)
    return ours.dtype == F64 and ours.shape == theirs.shape and torch.allclose(ours, theirs, **(tol or TOL))


# ---------------------------------------------------------------- ridge
@pytest.mark.parametrize("alpha", [1e-3, 0.5, 10.0, 1000.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("targets", [None, 3], ids=["y (n,)", "y (n, 3)"])
def test_ridge_matches_sklearn(alpha, fit_intercept, targets):
    X, y = problem(targets=targets)
    ours = Ridge(alpha, fit_intercept=fit_intercept).fit(X, y)
    theirs = sk.Ridge(alpha=alpha, fit_intercept=fit_intercept).fit(X.numpy(), y.numpy())
    # sklearn's intercept_ is the float 0.0 without an intercept, even for several targets; ours keeps the shape
    assert close(ours.coef_, theirs.coef_) and close(ours.intercept_, np.broadcast_to(theirs.intercept_,
                                                                                      ours.intercept_.shape))
    X_new, _ = problem(n=7, seed=1)
    assert close(ours.predict(X_new), theirs.predict(X_new.numpy()))
    assert ours.n_features_in_ == theirs.n_features_in_


def test_ridge_alpha_zero_is_least_squares_and_the_gradient_vanishes():
    X, y = problem()
    assert close(Ridge(0.0).fit(X, y).coef_, sk.LinearRegression().fit(X.numpy(), y.numpy()).coef_)
    model = Ridge(5.0).fit(X, y)
    w = model.coef_.clone().requires_grad_(True)
    b = model.intercept_.clone().requires_grad_(True)
    objective = ((y - X @ w - b) ** 2).sum() + 5.0 * (w**2).sum()  # the intercept is not penalised
    for grad in torch.autograd.grad(objective, (w, b)):
        assert grad.abs().max() < 1e-9


def test_ridge_shrinks_towards_zero_as_alpha_grows():
    X, y = problem()
    norms = [Ridge(a).fit(X, y).coef_.norm().item() for a in (0.0, 1.0, 10.0, 100.0, 1e4)]
    assert all(a > b for a, b in zip(norms, norms[1:])) and norms[-1] < 0.05 * norms[0]


# ---------------------------------------------------------------- lasso
@pytest.mark.parametrize("alpha", [1e-3, 0.05, 0.3, 1.0, 100.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_lasso_matches_sklearn(alpha, fit_intercept):
    X, y = problem()
    for tol, agreement in ((1e-12, 1e-9), (1e-4, 1e-6)):  # a tight tolerance, and the default
        ours = Lasso(alpha, fit_intercept=fit_intercept, tol=tol, max_iter=100_000).fit(X, y)
        theirs = sk.Lasso(alpha=alpha, fit_intercept=fit_intercept, tol=tol, max_iter=100_000).fit(X.numpy(),
                                                                                                   y.numpy())
        assert close(ours.coef_, theirs.coef_, rtol=0, atol=agreement)
        assert close(ours.intercept_, theirs.intercept_, rtol=0, atol=10 * agreement)
        assert torch.equal(ours.coef_ == 0, torch.as_tensor(theirs.coef_ == 0))  # the same weights are zero
        assert ours.dual_gap_ <= tol * (y - y.mean() * fit_intercept).square().sum().item() / len(y) + 1e-15
    assert close(ours.predict(X), theirs.predict(X.numpy()), rtol=0, atol=1e-5)


def test_lasso_with_several_targets_matches_sklearn():
    X, y = problem(targets=2)
    ours = Lasso(0.2, tol=1e-12, max_iter=100_000).fit(X, y)
    theirs = sk.Lasso(alpha=0.2, tol=1e-12, max_iter=100_000).fit(X.numpy(), y.numpy())
    assert close(ours.coef_, theirs.coef_, rtol=0, atol=1e-9) and close(ours.intercept_, theirs.intercept_,
                                                                        rtol=0, atol=1e-8)
    assert len(ours.n_iter_) == len(ours.dual_gap_) == 2


@pytest.mark.parametrize("alpha", [0.01, 0.2, 0.8])
def test_lasso_satisfies_the_kkt_conditions(alpha):
    """At the optimum, with r = yc - Xc w: X_j^T r / n = alpha sign(w_j) where w_j != 0, |X_j^T r / n| <= alpha else."""
    X, y = problem(seed=3)
    model = Lasso(alpha, tol=1e-14, max_iter=100_000).fit(X, y)
    Xc, yc = X - X.mean(0), y - y.mean()
    correlation = Xc.T @ (yc - Xc @ model.coef_) / len(y)
    active = model.coef_ != 0
    assert torch.allclose(correlation[active], alpha * model.coef_[active].sign(), rtol=0, atol=1e-9)
    assert (correlation[~active].abs() <= alpha + 1e-12).all()
    assert model.intercept_.item() == pytest.approx((y.mean() - X.mean(0) @ model.coef_).item(), abs=1e-12)


def test_lasso_is_sparse_and_alpha_max_zeroes_every_weight():
    X, y = problem()
    Xc, yc = X - X.mean(0), y - y.mean()
    alpha_max = (Xc.T @ yc).abs().max().item() / len(y)  # the smallest alpha with w = 0
    assert not Lasso(alpha_max * 1.0001).fit(X, y).coef_.any()
    assert Lasso(alpha_max * 0.99, tol=1e-12).fit(X, y).coef_.count_nonzero() == 1  # the first weight enters
    zeros = [int((Lasso(a, tol=1e-8, max_iter=100_000).fit(X, y).coef_ == 0).sum()) for a in (1e-3, 0.1, 0.5, 2.0)]
    assert zeros == sorted(zeros) and zeros[0] < zeros[-1]


# ---------------------------------------------------------------- paths
def test_lasso_path_matches_sklearn():
    X, y = problem(p=10)
    X, y = X - X.mean(0), y - y.mean()  # paths fit no intercept
    alphas = [0.5, 0.001, 0.05, 2.0, 0.2]
    ours_alphas, ours_coefs, ours_gaps = lasso_path(X, y, alphas=alphas, tol=1e-12, max_iter=100_000)
    theirs_alphas, theirs_coefs, theirs_gaps = sk.lasso_path(X.numpy(), y.numpy(), alphas=alphas, tol=1e-12,
                                                             max_iter=100_000)
    assert close(ours_alphas, theirs_alphas) and ours_alphas.tolist() == sorted(alphas, reverse=True)
    assert close(ours_coefs, theirs_coefs, rtol=0, atol=1e-9) and ours_coefs.shape == (10, 5)
    assert ours_gaps.shape == (5,) and (ours_gaps <= 1e-10).all()


def test_ridge_path_is_ridge_without_intercept_for_each_alpha():
    X, y = problem()
    alphas, coefs = ridge_path(X, y, alphas=[1.0, 100.0, 0.0, 10.0])
    assert alphas.tolist() == [100.0, 10.0, 1.0, 0.0] and coefs.shape == (8, 4)
    for k, a in enumerate(alphas.tolist()):
        theirs = sk.Ridge(alpha=a, fit_intercept=False).fit(X.numpy(), y.numpy()) if a else \
            sk.LinearRegression(fit_intercept=False).fit(X.numpy(), y.numpy())
        assert close(coefs[:, k], theirs.coef_, rtol=1e-9, atol=1e-9)


# ---------------------------------------------------------------- inputs, warnings, errors
def test_float32_inputs_give_float64_and_repr_reads_like_sklearn():
    X, y = problem()
    model = Lasso(0.1).fit(X.float(), y.float())
    assert model.coef_.dtype == F64 and model.predict(X.float()).dtype == F64
    assert repr(Ridge(2.0)) == "Ridge(alpha=2.0, fit_intercept=True)"
    assert repr(Lasso()) == "Lasso(alpha=1.0, fit_intercept=True, max_iter=1000, tol=0.0001)"


def test_constant_features_get_zero_weight():
    X, y = problem()
    X[:, 2] = 4.0  # zero variance: after centring the column is all zeros
    ours = Lasso(0.05, tol=1e-12, max_iter=10_000).fit(X, y)
    theirs = sk.Lasso(alpha=0.05, tol=1e-12, max_iter=10_000).fit(X.numpy(), y.numpy())
    assert ours.coef_[2] == 0 and close(ours.coef_, theirs.coef_, rtol=0, atol=1e-9)


def test_non_convergence_warns_and_errors_say_what_to_do():
    X, y = problem()
    with pytest.warns(ConvergenceWarning, match="Increase max_iter") as record:
        Lasso(1e-4, max_iter=1, tol=1e-12).fit(X, y)
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.raises(ValueError, match=">= 0"):
        Ridge(-1.0)
    with pytest.raises(ValueError, match=r"Ridge\(alpha=0\)"):
        Lasso(0.0)
    with pytest.raises(ValueError, match="unsqueeze"):
        Ridge().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="n_samples = 60"):
        Ridge().fit(X, y[:-1])
    with pytest.raises(TypeError, match="torch.as_tensor"):
        Lasso().fit(X.numpy(), y.numpy())
    with pytest.raises(RuntimeError, match="fit"):
        Lasso().predict(X)
    with pytest.raises(ValueError, match="fitted with 8"):
        Ridge().fit(X, y).predict(X[:, :3])
    with pytest.raises(ValueError, match="at least one alpha"):
        lasso_path(X, y, alphas=[])


def test_get_params_match_sklearn_for_the_mirrored_arguments():
    for ours, theirs in ((Ridge(), sk.Ridge()), (Lasso(), sk.Lasso())):
        mirrored = ours.get_params()
        assert mirrored == {k: v for k, v in theirs.get_params().items() if k in mirrored}
