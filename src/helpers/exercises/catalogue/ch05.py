"""Chapter 5 exercises: regularization (weight decay, the L1 proximal step, priors as penalties, ridge regression,
early stopping, label smoothing, dropout and its test-time rule, log-uniform random search)."""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.common import F64, SGD_FORBIDDEN, close_by_dtype, gen
from helpers.exercises.compare import choice, close, describe
from helpers.exercises.forbid import NUMPY_ESCAPE
from helpers.exercises.spec import Case, Compare, Exercise, Mismatch, ResultKind

# Exercises that draw random numbers (dropout, log-uniform) take a torch.Generator, and every case carries its own
# seeded one. That is enough to make the draws repeat: the runner deep-copies a case's arguments before every call
# (runner.fresh), and a deep copy of a torch.Generator has the same state. So the answer, the reference and each
# known-wrong answer all draw the same u from the same state, however often they are called, and the generator in
# the case itself is never advanced.


# ---------------------------------------------------------------- one SGD step with weight decay
def _weight_decay_cases() -> list[Case]:
    g = gen(51)

    def pair(*shape, dtype=F64):
        return torch.randn(*shape, generator=g, dtype=dtype), torch.randn(*shape, generator=g, dtype=dtype)

    return [
        Case("5 float64 weights, lr=0.1, weight_decay=0.5", (*pair(5), 0.1, 0.5),
             "The penalty (weight_decay / 2) ||w||^2 adds its own gradient to grad before the step; hint(...) "
             "shows which."),
        Case("a (3, 4) float64 weight matrix, lr=0.05, weight_decay=0.2", (*pair(3, 4), 0.05, 0.2),
             "Weight decay acts entry by entry, on a weight of any shape."),
        Case("6 float32 weights, lr=0.2, weight_decay=0.1", (*pair(6, dtype=torch.float32), 0.2, 0.1),
             "Any dtype: the new weights keep the input's."),
        Case("weight_decay=0 (plain SGD): 4 float64 weights, lr=0.3", (*pair(4), 0.3, 0.0),
             "Without decay the step is plain SGD, w - lr g."),
        Case("(2, 3, 4) float64 weights, lr=1.0, weight_decay=0.3", (*pair(2, 3, 4), 1.0, 0.3), hidden=True),
        Case("a (16, 8) float32 layer, lr=0.01, weight_decay=1e-4", (*pair(16, 8, dtype=torch.float32), 0.01, 1e-4),
             hidden=True),
        Case("10 float64 weights, lr=0.5, weight_decay=1.5", (*pair(10), 0.5, 1.5), hidden=True),
    ]


def _sgd_weight_decay_step(param, grad, lr, weight_decay):
    return param - lr * (grad + weight_decay * param)  # torch.optim.SGD: g <- g + weight_decay w, then w - lr g


WEIGHT_DECAY = Exercise(
    id="05.weight_decay_step",
    title="One SGD step with weight decay",
    kind="implement",
    points=1,
    prompt=(
        "sgd_weight_decay_step(param, grad, lr, weight_decay) returns the weights after one plain SGD step on the "
        "loss plus (weight_decay / 2) ||w||^2, torch.optim.SGD(lr=lr, weight_decay=weight_decay)'s step: "
        "(1 - lr * weight_decay) * param - lr * grad, where grad is the gradient of the loss alone. Return a new "
        "tensor; do not modify the inputs."
    ),
    reference=_sgd_weight_decay_step,
    cases=_weight_decay_cases,
    compare=close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-5, 1e-6)),
    forbidden=SGD_FORBIDDEN,
    instead="One line of tensor arithmetic: the decay term joins the gradient, then the step.",
    hints=[
        "The penalty (weight_decay / 2) ||w||^2 has the gradient weight_decay * w: add it to the loss's gradient.",
        "Then take one SGD step with the total gradient: w - lr (g + weight_decay w).",
        "return param - lr * (grad + weight_decay * param), which is (1 - lr weight_decay) w - lr g: the weights "
        "shrink by a constant factor every step. Build a new tensor (no param.mul_(...) or -=, which would change "
        "the caller's weights).",
    ],
    wrong={
        "The decay was not multiplied by the learning rate: the penalty's gradient weight_decay * w joins the loss's "
        "gradient, and the step scales both by lr: w - lr (g + weight_decay w) = (1 - lr weight_decay) w - lr g.": (
            lambda param, grad, lr, weight_decay: (1 - weight_decay) * param - lr * grad
        ),
        "The decay is twice too strong: torch's weight_decay=lam is the gradient of (lam / 2) ||w||^2, i.e. lam * w, "
        "not the 2 lam w that lam ||w||^2 would give.": (
            lambda param, grad, lr, weight_decay: param - lr * (grad + 2 * weight_decay * param)
        ),
        "The decay has the wrong sign: the penalty pulls the weights toward 0, so w shrinks, "
        "(1 - lr weight_decay) w - lr g.": (
            lambda param, grad, lr, weight_decay: (1 + lr * weight_decay) * param - lr * grad
        ),
        "The decay was applied after the gradient step, (1 - lr weight_decay)(w - lr g), which shrinks the step "
        "lr g as well. torch adds weight_decay * w to the gradient, so only w itself shrinks: "
        "(1 - lr weight_decay) w - lr g.": (
            lambda param, grad, lr, weight_decay: (1 - lr * weight_decay) * (param - lr * grad)
        ),
        "The weight decay is missing: that is plain SGD, w - lr g. Add weight_decay * w to the gradient first.": (
            lambda param, grad, lr, weight_decay: param - lr * grad
        ),
        "The decay is half as strong as torch's: weight_decay = lam already IS the gradient lam * w of the penalty "
        "(lam / 2) ||w||^2 (the 1/2 cancels the 2 of the derivative), so add weight_decay * w, not "
        "weight_decay / 2 * w.": (
            lambda param, grad, lr, weight_decay: param - lr * (grad + weight_decay / 2 * param)
        ),
        "The learning rate multiplies the whole gradient, the loss's part included: (1 - lr weight_decay) w - lr g, "
        "not (1 - lr weight_decay) w - g.": (
            lambda param, grad, lr, weight_decay: (1 - lr * weight_decay) * param - grad
        ),
    },
)


# ---------------------------------------------------------------- the proximal (ISTA) step for an L1 penalty
def _l1_prox_cases() -> list[Case]:
    g = gen(52)

    def pair(*shape, dtype=F64, scale=1.0):
        return (scale * torch.randn(*shape, generator=g, dtype=dtype),
                torch.randn(*shape, generator=g, dtype=dtype))

    return [
        Case("param = (0.5, -0.5, 0.15, -0.12, 0.02, 0), grad = 0, lr = 0.1, lambd = 1 (threshold 0.1)",
             (torch.tensor([0.5, -0.5, 0.15, -0.12, 0.02, 0.0], dtype=F64), torch.zeros(6, dtype=F64), 0.1, 1.0),
             "With grad = 0, z = param: every entry moves lr * lambd = 0.1 toward 0, on either side of 0, and an "
             "entry with |z| <= 0.1 stops at exactly 0 (0.02 becomes 0, not -0.08)."),
        Case("8 float64 weights, lr = 0.1, lambd = 2 (threshold 0.2)", (*pair(8, scale=0.5), 0.1, 2.0),
             "First the gradient step z = param - lr * grad, then the shrinkage of z: sign(z) max(|z| - 0.2, 0)."),
        Case("a (3, 4) float32 matrix, lr = 0.05, lambd = 4 (threshold 0.2)",
             (*pair(3, 4, dtype=torch.float32, scale=0.5), 0.05, 4.0),
             "Any shape, in the input's dtype."),
        Case("lambd = 0 (no penalty): 5 float64 weights, lr = 0.2", (*pair(5), 0.2, 0.0),
             "Without the penalty the step is the plain gradient step param - lr * grad."),
        Case("1000 float64 weights, lr = 0.01, lambd = 30 (threshold 0.3)", (*pair(1000, scale=0.4), 0.01, 30.0),
             hidden=True),
        Case("a (2, 5) float32 matrix, lr = 1, lambd = 0.3", (*pair(2, 5, dtype=torch.float32), 1.0, 0.3), hidden=True),
    ]


def _l1_prox_step(param, grad, lr, lambd):
    z = param - lr * grad  # the gradient step on the smooth loss
    return torch.sign(z) * torch.clamp(z.abs() - lr * lambd, min=0.0)  # soft-thresholding at lr * lambd


def _l1_prox_with(threshold=lambda lr, lambd: lr * lambd, shrink_first=False, keep_sign=True, soft=True):
    """The proximal step with one of the known mistakes."""

    def answer(param, grad, lr, lambd):
        t = threshold(lr, lambd)
        if shrink_first:
            return torch.sign(param) * torch.clamp(param.abs() - t, min=0.0) - lr * grad
        z = param - lr * grad
        if not soft:
            return z * (z.abs() > t).to(z.dtype)
        return torch.sign(z) * torch.clamp(z.abs() - t, min=0.0) if keep_sign else torch.clamp(z - t, min=0.0)

    return answer


L1_PROX = Exercise(
    id="05.l1_prox_step",
    title="The proximal gradient step for an L1 penalty",
    kind="implement",
    points=2,
    prompt=(
        "l1_prox_step(param, grad, lr, lambd) returns one proximal gradient (ISTA) step for the loss plus "
        "lambd * ||w||_1, where grad is the gradient of the loss alone: a gradient step z = param - lr * grad, then "
        "soft thresholding, sign(z) * max(|z| - lr * lambd, 0). Return a new tensor."
    ),
    reference=_l1_prox_step,
    cases=_l1_prox_cases,
    compare=close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-5, 1e-6)),
    forbidden=("torch.nn.functional.softshrink", "torch._C._nn.softshrink", "torch.nn.Softshrink",
               "helpers.nn.activations.softshrink"),
    instead="torch.sign, .abs() and torch.clamp(..., min=0) (or torch.where) make the soft threshold.",
    hints=[
        "Split the step in two: a gradient step on the smooth loss, z = param - lr * grad; then the L1 term.",
        "The proximal operator of lr * lambd * |w| is soft thresholding: move each z toward 0 by t = lr * lambd, "
        "and stop at 0 (an entry with |z| <= t becomes exactly 0).",
        "return torch.sign(z) * torch.clamp(z.abs() - lr * lambd, min=0)",
    ],
    wrong={
        "The threshold is lr * lambd, not lambd: the proximal step minimises (1 / (2 lr)) ||w - z||^2 + "
        "lambd ||w||_1, and its answer shrinks z by lr * lambd.": _l1_prox_with(threshold=lambda lr, lambd: lambd),
        "That is a subgradient step, w - lr (g + lambd sign(w)): it jitters around 0 and never lands on it (an "
        "entry smaller than lr * lambd overshoots to the other side). The proximal step sets every |z| <= "
        "lr * lambd to exactly 0: sign(z) max(|z| - lr lambd, 0).": (
            lambda param, grad, lr, lambd: param - lr * (grad + lambd * torch.sign(param))
        ),
        "The negative entries were lost: max(z - t, 0) is 0 for every z < 0. Shrink the magnitude and keep the "
        "sign: sign(z) * max(|z| - t, 0).": _l1_prox_with(keep_sign=False),
        "param was shrunk before the gradient step: take the gradient step first, z = param - lr * grad, then "
        "soft-threshold z.": _l1_prox_with(shrink_first=True),
        "That is hard thresholding: the entries with |z| <= lr * lambd are zeroed, but the others must also move "
        "lr * lambd toward 0 (soft thresholding): sign(z) max(|z| - lr lambd, 0).": _l1_prox_with(soft=False),
        "The L1 penalty is missing: that is the plain gradient step z = param - lr * grad. Soft-threshold z at "
        "lr * lambd.": lambda param, grad, lr, lambd: param - lr * grad,
    },
)


# ---------------------------------------------------------------- priors as penalties: the MAP estimate
def _map_penalty_cases() -> list[Case]:
    return [
        Case("noise_std = 3, prior_std = 0.5, laplace_scale = 0.25", (3.0, 0.5, 0.25),
             {0: "-log p(w | X, y) = ||y - Xw||^2 / (2 sigma^2) + ||w||^2 / (2 tau^2) + const; multiplied by "
                 "2 sigma^2 it is ||y - Xw||^2 + (sigma^2 / tau^2) ||w||^2.",
              1: "The Laplace prior adds ||w||_1 / b to the negative log-posterior; times 2 sigma^2 that is "
                 "(2 sigma^2 / b) ||w||_1."}),
        Case("noise_std = 0.4, prior_std = 4, laplace_scale = 0.1", (0.4, 4.0, 0.1),
             {0: "A wide prior (large tau) is a weak belief that w is small: a small penalty.",
              1: "A narrow Laplace prior (small b) is a strong belief that w is near 0: a large penalty."}),
        Case("noise_std = 1.5, prior_std = 0.7, laplace_scale = 3", (1.5, 0.7, 3.0),
             "More noise makes the data less trustworthy, so the prior weighs more: both penalties grow with sigma^2."),
        Case("noise_std = 0.1, prior_std = 0.3, laplace_scale = 0.05", (0.1, 0.3, 0.05), hidden=True),
        Case("noise_std = 4, prior_std = 10, laplace_scale = 7", (4.0, 10.0, 7.0), hidden=True),
    ]


def _map_penalties(noise_std: float, prior_std: float, laplace_scale: float) -> tuple[float, float]:
    noise_var = noise_std**2  # the negative log-posterior times 2 sigma^2 has ||y - Xw||^2 with coefficient 1
    return noise_var / prior_std**2, 2 * noise_var / laplace_scale


def _penalties_with(l2=None, l1=None):
    """map_penalties with lambda_2 and/or lambda_1 replaced by l2(sigma, tau, b) and l1(sigma, tau, b)."""

    def answer(noise_std, prior_std, laplace_scale):
        right = _map_penalties(noise_std, prior_std, laplace_scale)
        return (l2(noise_std, prior_std, laplace_scale) if l2 else right[0],
                l1(noise_std, prior_std, laplace_scale) if l1 else right[1])

    return answer


MAP_PENALTY = Exercise(
    id="05.map_penalty",
    title="Priors are penalties: the MAP estimate of linear regression",
    kind="derive",
    points=2,
    prompt=(
        "Linear regression y = Xw + eps with i.i.d. noise eps ~ N(0, noise_std^2). With a Gaussian prior "
        "w_j ~ N(0, prior_std^2) the MAP estimate minimises ||y - Xw||^2 + lambda_2 ||w||_2^2; with a Laplace prior "
        "w_j ~ Laplace(0, laplace_scale), density exp(-|w| / b) / (2 b), it minimises ||y - Xw||^2 + lambda_1 "
        "||w||_1. map_penalties(noise_std, prior_std, laplace_scale) returns (lambda_2, lambda_1) as two floats."
    ),
    reference=_map_penalties,
    cases=_map_penalty_cases,
    compare=close(rtol=1e-6, atol=0.0, check_dtype=False),  # float32 tensors pass; the mistakes are factors off
    items=("lambda_2 (Gaussian prior)", "lambda_1 (Laplace prior)"),
    hints=[
        "The MAP estimate maximises p(y | X, w) p(w), i.e. minimises -log p(y | X, w) - log p(w). Write both terms "
        "out, dropping what does not depend on w.",
        "-log p(y | X, w) = ||y - Xw||^2 / (2 sigma^2) + const; -log N(w_j; 0, tau^2) = w_j^2 / (2 tau^2) + const; "
        "-log Laplace(w_j; 0, b) = |w_j| / b + const.",
        "Multiply the whole sum by 2 sigma^2, so that ||y - Xw||^2 has coefficient 1, and read off the penalties: "
        "lambda_2 = sigma^2 / tau^2 and lambda_1 = 2 sigma^2 / b.",
    ],
    wrong={
        "The ratios are upside down: a NARROW prior (small prior_std or laplace_scale) is a strong belief that w is "
        "near 0 and must give a LARGE penalty: lambda_2 = sigma^2 / tau^2, lambda_1 = 2 sigma^2 / b.": (
            _penalties_with(l2=lambda s, t, b: t**2 / s**2, l1=lambda s, t, b: b / (2 * s**2))
        ),
        "The noise enters through its variance sigma^2, not sigma: the likelihood term is ||y - Xw||^2 / (2 sigma^2) "
        "and the Gaussian prior's ||w||^2 / (2 tau^2), so lambda_2 = sigma^2 / tau^2 is a ratio of variances, and "
        "lambda_1 = 2 sigma^2 / b.": _penalties_with(l2=lambda s, t, b: s / t, l1=lambda s, t, b: 2 * s / b),
        "The noise variance is missing: the likelihood term is ||y - Xw||^2 / (2 sigma^2). Multiply the whole "
        "negative log-posterior by 2 sigma^2, so that ||y - Xw||^2 has coefficient 1; the penalties are multiplied "
        "by 2 sigma^2 too: sigma^2 / tau^2 and 2 sigma^2 / b.": (
            _penalties_with(l2=lambda s, t, b: 1 / t**2, l1=lambda s, t, b: 2 / b)
        ),
        "lambda_1 lacks a factor 2: the Laplace prior contributes ||w||_1 / b, with no 1/2 in front, so after "
        "multiplying by 2 sigma^2 (to give ||y - Xw||^2 coefficient 1) lambda_1 = 2 sigma^2 / b. Only the Gaussian's "
        "1/2 cancels.": _penalties_with(l1=lambda s, t, b: s**2 / b),
        "Multiplying the negative log-posterior by sigma^2 leaves ||y - Xw||^2 / 2; the objective has ||y - Xw||^2 "
        "with coefficient 1, so multiply by 2 sigma^2: lambda_2 = sigma^2 / tau^2 and lambda_1 = 2 sigma^2 / b.": (
            _penalties_with(l2=lambda s, t, b: s**2 / (2 * t**2), l1=lambda s, t, b: s**2 / b)
        ),
        "By analogy with the Gaussian the scale was squared, but the Laplace log-density is -|w| / b, linear in 1/b: "
        "lambda_1 = 2 sigma^2 / b (no square, and a factor 2 since there is no 1/2 to cancel).": (
            _penalties_with(l1=lambda s, t, b: s**2 / b**2)
        ),
        "The Laplace log-density is -|w| / b, linear in 1/b: the scale is not squared. lambda_1 = 2 sigma^2 / b.": (
            _penalties_with(l1=lambda s, t, b: 2 * s**2 / b**2)
        ),
        "The Gaussian prior's 1/2 was forgotten: -log N(w; 0, tau^2) = w^2 / (2 tau^2) + const, and times 2 sigma^2 "
        "that is (sigma^2 / tau^2) w^2, so lambda_2 = sigma^2 / tau^2, not 2 sigma^2 / tau^2.": (
            _penalties_with(l2=lambda s, t, b: 2 * s**2 / t**2)
        ),
    },
)


# ---------------------------------------------------------------- ridge regression with an unpenalised intercept
def _ridge_cases() -> list[Case]:
    g = gen(53)

    def data(n: int, d: int, dtype=F64, constant: int | None = None):
        """X (n, d) whose columns are NOT centred (means of a few units), y = X w + 2 + noise."""
        X = torch.randn(n, d, generator=g, dtype=F64) + 3 * torch.randn(d, generator=g, dtype=F64)
        if constant is not None:
            X[:, constant] = 5.0
        y = X @ torch.randn(d, generator=g, dtype=F64) + 2.0 + 0.3 * torch.randn(n, generator=g, dtype=F64)
        return X.to(dtype), y.to(dtype)

    return [
        Case("30 points, 3 features (not centred), alpha = 1", (*data(30, 3), 1.0),
             {0: "Ridge's weights solve (Xc^T Xc + alpha I) w = Xc^T yc on the centred data.",
              1: "The intercept is not penalised: b = y_bar - x_bar . w, so the fit passes through the means."}),
        Case("alpha = 0: ordinary least squares with an intercept, 20 points, 2 features", (*data(20, 2), 0.0),
             "With alpha = 0 ridge is least squares; the intercept still has to be fitted."),
        Case("a strong penalty alpha = 100, 25 points, 3 features", (*data(25, 3), 100.0),
             {0: "A large alpha shrinks w toward 0 ...",
              1: "... but not b: as alpha grows the fit tends to the constant y_bar, not to 0."}),
        Case("8 points, 5 features, alpha = 0.5", (*data(8, 5), 0.5)),
        Case("40 points, 2 features, float32, alpha = 2", (*data(40, 2, torch.float32), 2.0),
             "Any dtype: return the coefficients and the intercept in the input's."),
        Case("more features than points: 6 points, 10 features, alpha = 1", (*data(6, 10), 1.0), hidden=True),
        Case("200 points, 4 features, alpha = 10", (*data(200, 4), 10.0), hidden=True),
        Case("a constant feature: 15 points, 3 features, the second always 5, alpha = 0.3",
             (*data(15, 3, constant=1), 0.3), hidden=True),
    ]


def _eye(d: int, X: torch.Tensor) -> torch.Tensor:
    return torch.eye(d, dtype=X.dtype, device=X.device)


def _ridge_fit(X: torch.Tensor, y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    x_bar, y_bar = X.mean(dim=0), y.mean()
    Xc, yc = X - x_bar, y - y_bar  # centring takes the (unpenalised) intercept out of the problem
    w = torch.linalg.solve(Xc.T @ Xc + alpha * _eye(X.shape[1], X), Xc.T @ yc)
    return w, y_bar - x_bar @ w


def _ridge_penalised_intercept(X, y, alpha):
    A = torch.cat([X, torch.ones(len(X), 1, dtype=X.dtype)], dim=1)  # a column of ones, shrunk with the weights
    solution = torch.linalg.solve(A.T @ A + alpha * _eye(A.shape[1], X), A.T @ y)
    return solution[:-1], solution[-1]


def _ridge_through_origin(X, y, alpha):
    return torch.linalg.solve(X.T @ X + alpha * _eye(X.shape[1], X), X.T @ y), torch.zeros((), dtype=X.dtype)


def _ridge_uncentred_X(X, y, alpha):
    y_bar = y.mean()
    return torch.linalg.solve(X.T @ X + alpha * _eye(X.shape[1], X), X.T @ (y - y_bar)), y_bar


def _least_squares(X, y, alpha):
    x_bar, y_bar = X.mean(dim=0), y.mean()
    w = torch.linalg.pinv(X - x_bar) @ (y - y_bar)  # alpha ignored
    return w, y_bar - x_bar @ w


RIDGE = Exercise(
    id="05.ridge_fit",
    title="Ridge regression with an unpenalised intercept",
    kind="implement",
    points=2,
    prompt=(
        "ridge_fit(X, y, alpha) returns (coef, intercept) for X (n, d) and y (n,): coef (d,) and a 0-dim intercept "
        "that minimise ||y - X w - b||^2 + alpha ||w||^2, the intercept b NOT penalised (sklearn.linear_model.Ridge "
        "with fit_intercept=True), in the input's dtype."
    ),
    reference=_ridge_fit,
    cases=_ridge_cases,
    compare=close_by_dtype(float64=(1e-7, 1e-9), float32=(1e-4, 1e-5)),
    items=("coef", "intercept"),
    forbidden=("sklearn.linear_model.Ridge", "sklearn.linear_model.RidgeCV", "sklearn.linear_model.ridge_regression",
               "helpers.linear_model.Ridge", "helpers.linear_model.ridge_path", *NUMPY_ESCAPE),
    instead="torch.linalg.solve(A, v) solves A w = v; build A = Xc^T Xc + alpha I with torch.eye.",
    hints=[
        "The intercept is not penalised, so take it out: for given w its best value is b = y_bar - x_bar . w, and "
        "putting that back leaves ridge WITHOUT intercept on the centred data Xc = X - X.mean(0), yc = y - y.mean().",
        "Setting the gradient of ||yc - Xc w||^2 + alpha ||w||^2 to zero gives (Xc^T Xc + alpha I) w = Xc^T yc.",
        "w = torch.linalg.solve(Xc.T @ Xc + alpha * torch.eye(d, dtype=X.dtype), Xc.T @ yc); "
        "b = y.mean() - X.mean(0) @ w; return w, b.",
    ],
    wrong={
        "The intercept was penalised too (a column of ones appended to X and shrunk with the weights): ridge leaves b "
        "free, so that shifting every y by a constant shifts b and nothing else. Centre X and y, solve for w, then "
        "b = y_bar - x_bar . w.": _ridge_penalised_intercept,
        "alpha was multiplied by n, the penalty of a MEAN squared error (1/n)||r||^2 + alpha ||w||^2. The objective "
        "here (and sklearn's Ridge) uses the plain SUM of squares, ||y - Xw - b||^2 + alpha ||w||^2: add alpha, not "
        "n alpha, to the diagonal.": (
            lambda X, y, alpha: _ridge_fit(X, y, alpha * len(X))
        ),
        "There is no intercept: the model has one (b), and without it the fit is forced through the origin. Centre "
        "X and y (subtract their column means), solve for w on the centred data, then b = y_bar - x_bar . w.": (
            _ridge_through_origin
        ),
        "The intercept is y_bar - x_bar . w, not y_bar: the fitted plane passes through the point of means "
        "(x_bar, y_bar).": lambda X, y, alpha: (_ridge_fit(X, y, alpha)[0], y.mean()),
        "X was not centred: once b takes its best value, y_bar - x_bar . w, the problem is ridge on the centred data "
        "Xc = X - x_bar. Solve with Xc; the intercept is then y_bar - x_bar . w, not y_bar.": _ridge_uncentred_X,
        "alpha was ignored: that is ordinary least squares. Ridge adds alpha to the diagonal: solve "
        "(Xc^T Xc + alpha I) w = Xc^T yc.": _least_squares,
    },
)


# ---------------------------------------------------------------- early stopping, as helpers.train.fit does it
def _noisy_curve(epochs: int, seed: int, noise: float = 0.03) -> list[float]:
    """A validation loss that falls, then creeps up as the model overfits, with noise (4 decimals, so ties occur)."""
    t = torch.arange(epochs, dtype=F64)
    curve = 1 / (1 + 0.3 * t) + 0.004 * t + noise * torch.randn(epochs, generator=gen(seed), dtype=F64)
    return [round(v, 4) for v in curve.tolist()]


def _early_stopping_cases() -> list[Case]:
    def case(curve: list[float], patience: int, why="", hidden=False, label=""):
        shown = label or f"val_losses = {curve}, patience = {patience}"
        return Case(shown, (curve, patience), why, hidden)

    return [
        case([1.0, 0.8, 0.6, 0.65, 0.7, 0.72, 0.75, 0.8], 2,
             {0: "The best epoch is 0-based: the third epoch is epoch 2.",
              1: "Epochs 3 and 4 do not improve on epoch 2: after epoch 4 the patience of 2 is used up, so 5 epochs "
                 "ran."}),
        case([1.0, 0.7, 0.75, 0.8, 0.85, 0.5, 0.4], 3,
             {0: "Training stops after epoch 4, so the lower losses of epochs 5 and 6 are never seen: the best epoch "
                 "is the best among the epochs that ran.",
              1: "Three epochs in a row without improvement (2, 3, 4): stop after epoch 4."}),
        case([1.0, 0.6, 0.6, 0.6, 0.7, 0.8], 3,
             "A tie is not an improvement: only a STRICTLY lower loss counts, so the best epoch stays the first 0.6 "
             "and the ties use up the patience."),
        case([0.9, 0.8, 0.85, 0.7], 1,
             "With patience 1 training stops after the first epoch that does not improve."),
        case([1.0, 0.9, 0.8, 0.7, 0.6], 2,
             {1: "The loss improves every epoch, so training never stops early: every epoch runs."}),
        case([1.0, 1.1, 0.9, 1.0, 0.8, 0.85, 0.9, 0.95], 2,
             "The count of epochs without improvement restarts at every improvement (epochs 2 and 4)."),
        case([1.0, 0.5, 0.9, 0.8, 0.7, 0.6, 0.55, 0.9], 2,
             "Improvement is measured against the BEST loss so far, not the previous epoch's: falling from 0.9 to "
             "0.8 is no improvement while the best is 0.5."),
        case([1.0, 0.5, 0.4996, 0.6, 0.6, 0.6], 2,
             "Any strictly lower loss counts as an improvement, however small (no min_delta threshold): 0.4996 "
             "< 0.5 makes epoch 2 the best."),
        case([0.5, 0.6, 0.7], 10, "Patience longer than the curve: every epoch runs.", hidden=True),
        case([1.0, 1.1, 1.2, 0.9, 1.0, 1.0, 1.0], 3, hidden=True),
        case(_noisy_curve(50, 54), 5, hidden=True, label="a noisy 50-epoch curve, patience = 5"),
        case(_noisy_curve(100, 55, noise=0.02), 10, hidden=True, label="a noisy 100-epoch curve, patience = 10"),
        case(_noisy_curve(60, 56, noise=0.01), 3, hidden=True, label="a noisy 60-epoch curve, patience = 3"),
    ]


def _early_stopping(val_losses: list[float], patience: int) -> tuple[int, int]:
    best_loss, best_epoch, waited = math.inf, 0, 0
    for epoch, loss in enumerate(val_losses):
        if loss < best_loss:  # strictly lower: a tie is no improvement (helpers.train.fit's rule)
            best_loss, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
        if waited >= patience:  # patience epochs in a row without improvement: stop after this one
            return best_epoch, epoch + 1
    return best_epoch, len(val_losses)


def _stopping_with(ties_improve=False, reset=True, against_previous=False, extra_wait=0, index_not_count=False):
    """The early-stopping rule with one of the known mistakes."""

    def answer(val_losses, patience):
        best_loss, best_epoch, waited, previous = math.inf, 0, 0, math.inf
        for epoch, loss in enumerate(val_losses):
            better = loss <= best_loss if ties_improve else loss < best_loss
            if better:
                best_loss, best_epoch = loss, epoch
            progress = loss < previous if against_previous else better
            previous = loss
            if not progress:
                waited += 1
            elif reset:
                waited = 0
            if waited >= patience + extra_wait:
                return best_epoch, epoch if index_not_count else epoch + 1
        return best_epoch, len(val_losses)

    return answer


def _global_best(val_losses, patience):
    return min(range(len(val_losses)), key=val_losses.__getitem__), _early_stopping(val_losses, patience)[1]


def _whole_numbers(count: int) -> Compare:
    """A tuple of ``count`` whole numbers, item by item; a float with the right value is the wrong type."""

    def compare(expected, got):
        if not isinstance(got, (tuple, list)) or len(got) != count:
            return Mismatch(f"expected a tuple of {count} whole numbers, got {describe(got)}",
                            kind=ResultKind.WRONG_TYPE)
        for i, (e, g) in enumerate(zip(expected, got)):
            value = g.item() if isinstance(g, torch.Tensor) and g.numel() == 1 else g
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != e:
                return Mismatch(f"expected {e}, got {describe(value)}", i)
            if not isinstance(value, numbers.Integral):
                return Mismatch(f"returned {float(value)!r}, a float: epochs are counted in whole numbers, return an "
                                "int", i, ResultKind.WRONG_TYPE)
        return None

    return compare


EARLY_STOPPING = Exercise(
    id="05.early_stopping",
    title="When early stopping stops",
    kind="implement",
    points=2,
    prompt=(
        "early_stopping(val_losses, patience) replays helpers.train.fit's early stopping on a list of validation "
        "losses, one per epoch: an epoch improves when its loss is strictly lower than the best so far; training "
        "stops right after the epoch that makes `patience` epochs in a row without improvement. Returns "
        "(best_epoch, epochs_run) as ints: the 0-based epoch of the lowest loss among the epochs that ran (the first "
        "on ties), and how many epochs ran (len(val_losses) if it never stops)."
    ),
    reference=_early_stopping,
    cases=_early_stopping_cases,
    compare=_whole_numbers(2),
    items=("best epoch", "epochs run"),
    forbidden=("helpers.train.fit",),
    instead="One loop over the curve, keeping the best loss, its epoch and the number of epochs since it.",
    hints=[
        "Walk through the curve once, keeping three things: the best loss so far, its epoch, and how many epochs "
        "in a row have passed without improvement.",
        "An epoch improves only when its loss is STRICTLY lower than the best so far: then remember it and reset "
        "the count to 0; otherwise add 1 to the count. A tie is no improvement.",
        "Stop right after the epoch at which the count reaches patience: return (best_epoch, epoch + 1). If the loop "
        "ends without stopping, every epoch ran: return (best_epoch, len(val_losses)).",
    ],
    wrong={
        "That is the best epoch of the whole curve, but training stopped before the end: the epochs after the stop "
        "never ran, so the best epoch is the best among the epochs that did.": _global_best,
        "A tie was counted as an improvement (<=): fit improves only on a STRICTLY lower loss, so the first of equal "
        "losses stays the best and the ties use up the patience.": _stopping_with(ties_improve=True),
        "The best epoch is 0-based (the first epoch is epoch 0), as history.best_epoch: the model was trained for "
        "best_epoch + 1 epochs.": lambda val_losses, patience: (_early_stopping(val_losses, patience)[0] + 1,
                                                                _early_stopping(val_losses, patience)[1]),
        "That is the index of the last epoch, not the number of epochs run: stopping after epoch e (0-based) means "
        "e + 1 epochs ran.": _stopping_with(index_not_count=True),
        "Training went on one epoch too long: it stops as soon as patience epochs in a row have not improved "
        "(count >= patience), not after patience + 1.": _stopping_with(extra_wait=1),
        "The epochs without improvement were counted from the start: the count restarts at 0 at every improvement, "
        "so patience means patience epochs in a row since the best.": _stopping_with(reset=False),
        "Improvement is measured against the BEST loss so far, not the previous epoch's: a loss that falls back "
        "toward the best without beating it is no improvement.": _stopping_with(against_previous=True),
    },
)


# ---------------------------------------------------------------- cross-entropy with label smoothing
def _label_smoothing_cases() -> list[Case]:
    g = gen(57)

    def batch(n: int, k: int, dtype=F64, scale=2.0):
        return scale * torch.randn(n, k, generator=g, dtype=dtype), torch.randint(k, (n,), generator=g)

    huge = torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 10.0], [-500.0, 500.0, 1500.0],
                         [2.0, 1.0, 0.0]], dtype=F64)
    return [
        Case("4 examples, 3 classes, float64, label_smoothing = 0.1", (*batch(4, 3), 0.1),
             "q = (1 - eps) onehot + eps / K: the true class gets 1 - eps + eps / K = 0.9333, each of the others "
             "eps / K = 0.0333."),
        Case("8 examples, 5 classes, float32, label_smoothing = 0.2", (*batch(8, 5, torch.float32), 0.2),
             "Any batch and number of classes, in the logits' dtype."),
        Case("label_smoothing = 0 (plain cross-entropy): 6 examples, 4 classes", (*batch(6, 4), 0.0),
             "eps = 0 is the ordinary cross-entropy, -log softmax(z)[y] averaged over the batch."),
        Case("label_smoothing = 1: the labels are ignored, 5 examples, 4 classes", (*batch(5, 4), 1.0),
             "With eps = 1 the targets are uniform: the cross-entropy against the uniform distribution, whatever "
             "the labels."),
        Case("2 classes, 10 examples, label_smoothing = 0.3", (*batch(10, 2), 0.3),
             "With K = 2, eps / K = 0.15 goes to each class: the true class gets 0.85, the other 0.15."),
        Case("huge logits (up to 1500), float64, label_smoothing = 0.1",
             (huge, torch.tensor([0, 2, 1, 0]), 0.1), hidden=True),
        Case("large logits (about +-100), float32, label_smoothing = 0.05",
             (*batch(6, 4, torch.float32, scale=100.0), 0.05), hidden=True),
        Case("64 examples, 10 classes, float64, label_smoothing = 0.15", (*batch(64, 10), 0.15), hidden=True),
    ]


def _smoothed_cross_entropy(logits: torch.Tensor, target: torch.Tensor, label_smoothing: float) -> torch.Tensor:
    k = logits.shape[1]
    q = (1 - label_smoothing) * F.one_hot(target, k).to(logits.dtype) + label_smoothing / k  # rows sum to 1
    return -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean()  # log_softmax: stable for huge logits


def _smoothing_with(targets=None, log_p=None, reduce=lambda loss: loss.mean()):
    """The smoothed cross-entropy with other targets q(onehot, eps, K), log-probabilities or reduction."""

    def answer(logits, target, label_smoothing):
        k = logits.shape[1]
        onehot = F.one_hot(target, k).to(logits.dtype)
        q = targets(onehot, label_smoothing, k) if targets else (1 - label_smoothing) * onehot + label_smoothing / k
        logp = log_p(logits) if log_p else F.log_softmax(logits, dim=1)
        return reduce(-(q * logp).sum(dim=1))

    return answer


def _naive_log_softmax(logits):
    e = logits.exp()
    return (e / e.sum(dim=1, keepdim=True)).log()


LABEL_SMOOTHING = Exercise(
    id="05.label_smoothing",
    title="Cross-entropy with label smoothing",
    kind="implement",
    points=2,
    prompt=(
        "smoothed_cross_entropy(logits, target, label_smoothing) returns F.cross_entropy(logits, target, "
        "label_smoothing=eps) as a 0-dim tensor: for logits (N, K) and class indices target (N,), the smoothed "
        "targets q = (1 - eps) onehot(target) + eps / K (eps / K on every class, the true one included) and the loss "
        "mean_n -sum_k q_nk log softmax(logits)_nk."
    ),
    reference=_smoothed_cross_entropy,
    cases=_label_smoothing_cases,
    compare=close_by_dtype(float64=(1e-9, 1e-12), float32=(1e-5, 1e-6)),
    forbidden=("torch.nn.functional.cross_entropy", "torch._C._nn.cross_entropy_loss", "torch.nn.CrossEntropyLoss",
               "helpers.nn.losses.cross_entropy", "helpers.nn.losses.smooth_targets"),
    instead="F.log_softmax(logits, dim=1) gives stable log-probabilities and F.one_hot(target, K) the one-hot rows.",
    hints=[
        "Build the smoothed targets q (N, K): (1 - eps) times a one-hot row (F.one_hot(target, K)), plus eps / K in "
        "every column, so that each row sums to 1.",
        "The loss of example n is -sum_k q_nk log p_nk with log p = F.log_softmax(logits, dim=1), which stays finite "
        "for huge logits (softmax(...).log() does not).",
        "return -(q * F.log_softmax(logits, dim=1)).sum(dim=1).mean(), with q in the logits' dtype "
        "(.to(logits.dtype)).",
    ],
    wrong={
        "torch spreads eps over ALL K classes, the true one included: q = (1 - eps) onehot + eps / K, so the true "
        "class gets 1 - eps + eps / K. (Giving eps / (K - 1) to the other classes only is another convention, not "
        "F.cross_entropy's.)": _smoothing_with(
            targets=lambda onehot, eps, k: (1 - eps) * onehot + eps / (k - 1) * (1 - onehot)),
        "The true class keeps only 1 - eps of its mass: q = (1 - eps) onehot + eps / K sums to 1, while onehot + "
        "eps / K sums to 1 + eps.": _smoothing_with(targets=lambda onehot, eps, k: onehot + eps / k),
        "The eps / K on every class is missing: (1 - eps) onehot just scales the plain cross-entropy down. Add "
        "eps / K to every entry of q.": _smoothing_with(targets=lambda onehot, eps, k: (1 - eps) * onehot),
        "q was built in float32 (F.one_hot gives int64, and int64 times a Python float is float32), so the float64 "
        "loss is off in the 8th digit: build q in the logits' dtype, F.one_hot(target, K).to(logits.dtype).": (
            _smoothing_with(targets=lambda onehot, eps, k: ((1 - eps) * onehot + eps / k).float())
        ),
        "That is the sum over the batch: F.cross_entropy averages, so divide by N (.mean()).": (
            _smoothing_with(reduce=lambda loss: loss.sum())
        ),
        "Huge logits overflow exp (exp(1000) is inf in float64, exp(89) already in float32) and inf / inf is nan: "
        "compute the log-probabilities stably, F.log_softmax(logits, dim=1), or z - logsumexp(z) with the row "
        "maximum subtracted before exp.": _smoothing_with(log_p=_naive_log_softmax),
        "softmax rounds tiny probabilities to exactly 0 and log(0) = -inf; since every class carries the weight "
        "eps / K, the loss becomes inf. Take F.log_softmax(logits, dim=1) (or z - logsumexp(z)), which never takes "
        "the log of a rounded 0.": _smoothing_with(log_p=lambda logits: logits.softmax(dim=1).log()),
    },
)


# ---------------------------------------------------------------- inverted dropout with a reproducible mask
def _dropout_cases() -> list[Case]:
    g = gen(58)

    def x(*shape, dtype=F64):
        return torch.randn(*shape, generator=g, dtype=dtype)

    return [
        Case("x: (4, 5) float64, p = 0.5, training, generator seeded with 0", (x(4, 5), 0.5, True, gen(0)),
             "Each unit is kept where u < 1 - p, with u = torch.rand(x.shape, generator=generator, "
             "dtype=torch.float64), and the kept units are scaled by 1 / (1 - p) = 2, so that E[output] = x."),
        Case("x: 1000 float64 values, p = 0.2, training, generator seeded with 1", (x(1000), 0.2, True, gen(1)),
             "About 80% of the units are kept, each multiplied by 1 / 0.8 = 1.25."),
        Case("x: (3, 4) float32, p = 0.3, training, generator seeded with 2",
             (x(3, 4, dtype=torch.float32), 0.3, True, gen(2)),
             "Draw u in float64 whatever x's dtype (the float32 stream gives other numbers); return x's dtype."),
        Case("evaluation (training=False): x: (2, 3) float64, p = 0.5", (x(2, 3), 0.5, False, gen(3)),
             "In evaluation dropout is the identity: the 1 / (1 - p) scaling already happened in training."),
        Case("p = 1 (every unit dropped): x: (2, 3) float64, training", (x(2, 3), 1.0, True, gen(4)),
             "Nothing is kept: return zeros, not 0 / 0 = nan."),
        Case("p = 0 (nothing dropped): x: 5 float64 values, training", (x(5), 0.0, True, gen(5)),
             "With p = 0 every unit is kept and nothing is scaled: the output is x."),
        Case("x: (2, 3, 4) float64, p = 0.9, training", (x(2, 3, 4), 0.9, True, gen(6)), hidden=True),
        Case("x: 500 float32 values, p = 0.5, training", (x(500, dtype=torch.float32), 0.5, True, gen(7)), hidden=True),
        Case("evaluation: x: 4 float32 values, p = 0.3", (x(4, dtype=torch.float32), 0.3, False, gen(8)), hidden=True),
    ]


def _inverted_dropout(x: torch.Tensor, p: float, training: bool, generator: torch.Generator) -> torch.Tensor:
    if not training:
        return x
    if p == 1:
        return torch.zeros_like(x)  # nothing is kept; x * 0 / (1 - p) would be 0 / 0 = nan
    u = torch.rand(x.shape, generator=generator, dtype=F64)  # helpers.nn.dropout.dropout_mask's draw
    keep = u < 1 - p
    return x * keep.to(x.dtype) / (1 - p)


def _dropout_with(keep=lambda u, p: u < 1 - p, factor=lambda p: 1 / (1 - p), draw_in_input_dtype=False,
                  scale_in_eval=False, eval_factor=None):
    """Inverted dropout with one of the known mistakes (p = 1 still gives zeros)."""

    def answer(x, p, training, generator):
        if not training:
            if eval_factor is not None:
                return x * eval_factor(p)
            return x / (1 - p) if scale_in_eval else x
        if p == 1:
            return torch.zeros_like(x)
        kept = keep(torch.rand(x.shape, generator=generator, dtype=x.dtype if draw_in_input_dtype else F64), p)
        return x * kept.to(x.dtype) * factor(p)

    return answer


def _dropout_nan_at_one(x, p, training, generator):
    if not training:
        return x
    keep = torch.rand(x.shape, generator=generator, dtype=F64) < 1 - p
    return x * keep.to(x.dtype) / (1 - p)  # p = 1: a tensor divided by 0.0, 0 / 0 = nan


DROPOUT_FORBIDDEN = (
    "torch.nn.functional.dropout", "torch.nn.Dropout", "torch.dropout", "torch.native_dropout", "torch.feature_dropout",
    "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d", "torch.nn.functional.dropout3d",
    "torch.nn.functional.alpha_dropout", "torch.nn.functional.feature_alpha_dropout", "torch.alpha_dropout",
    "torch.feature_alpha_dropout", "helpers.nn.dropout.dropout", "helpers.nn.dropout.Dropout",
    "helpers.nn.dropout.dropout_mask",
)

DROPOUT = Exercise(
    id="05.inverted_dropout",
    title="Inverted dropout with a reproducible mask",
    kind="implement",
    points=2,
    prompt=(
        "inverted_dropout(x, p, training, generator) applies dropout with drop probability p, torch's (inverted) "
        "way: in training, draw u = torch.rand(x.shape, generator=generator, dtype=torch.float64), keep the units "
        "where u < 1 - p and return x * keep / (1 - p) in x's dtype (zeros when p == 1); with training=False "
        "return x unchanged."
    ),
    reference=_inverted_dropout,
    cases=_dropout_cases,
    compare=close_by_dtype(float64=(1e-12, 1e-14), float32=(1e-6, 1e-7)),
    forbidden=DROPOUT_FORBIDDEN,
    instead="u = torch.rand(x.shape, generator=generator, dtype=torch.float64) and u < 1 - p make the mask; multiply "
    "and divide yourself.",
    hints=[
        "In training, draw u = torch.rand(x.shape, generator=generator, dtype=torch.float64) and keep the units where "
        "u < 1 - p: each is kept with probability 1 - p.",
        "Scale the kept units by 1 / (1 - p) so that E[output] = x: x * keep.to(x.dtype) / (1 - p). In evaluation "
        "(training=False) return x unchanged.",
        "Handle p == 1 before dividing (return torch.zeros_like(x)): nothing is kept, and 1 - p = 0 would give "
        "0 / 0 = nan.",
    ],
    wrong={
        "The kept units were not scaled up: inverted dropout divides them by 1 - p in training, so that "
        "E[output] = x and evaluation can be the identity.": _dropout_with(factor=lambda p: 1.0),
        "Multiplying by 1 - p shrinks the output even more (E[output] = (1 - p)^2 x): inverted dropout DIVIDES the "
        "kept units by 1 - p in training.": _dropout_with(factor=lambda p: 1 - p),
        "u < p keeps a fraction p of the units, but p is the probability of DROPPING a unit: keep where "
        "u < 1 - p.": _dropout_with(keep=lambda u, p: u < p),
        "In evaluation (training=False) return x unchanged: the 1 / (1 - p) scaling already happened in training, "
        "so the expected activation is already x.": _dropout_with(scale_in_eval=True),
        "With p = 1 nothing is kept and 1 / (1 - p) divides by zero: 0 / 0 = nan. Return zeros when p == 1 "
        "(torch.zeros_like(x)).": _dropout_nan_at_one,
        "u was drawn in float32 (torch.rand's default, or x's dtype): the generator's float32 stream gives other "
        "numbers, hence another mask. Draw u = torch.rand(x.shape, generator=generator, dtype=torch.float64) "
        "whatever x's dtype.": (
            _dropout_with(draw_in_input_dtype=True)
        ),
        "u >= p also keeps each unit with probability 1 - p, but it is another mask than the prompt's: keep where "
        "u < 1 - p, so that your mask can be compared with the reference's.": _dropout_with(keep=lambda u, p: u >= p),
        "Multiplying by 1 - p in evaluation is the ORIGINAL dropout's test rule, for units that were NOT rescaled in "
        "training. Inverted dropout rescales in training, so evaluation returns x unchanged.": (
            _dropout_with(eval_factor=lambda p: 1 - p)
        ),
    },
)


# ---------------------------------------------------------------- log-uniform samples for random search
def _log_uniform_cases() -> list[Case]:
    return [
        Case("5 learning rates between 1e-4 and 1e-1, generator seeded with 0", (1e-4, 1e-1, 5, gen(0)),
             "Log-uniform gives each decade the same share of the samples: [1e-4, 1e-3), [1e-3, 1e-2) and "
             "[1e-2, 1e-1) a third each. u = torch.rand(n, generator=generator, dtype=torch.float64)."),
        Case("1000 values between 1e-5 and 1, generator seeded with 1", (1e-5, 1.0, 1000, gen(1)),
             "log10 of the samples is uniform on [-5, 0)."),
        Case("4 values between 2 and 50, generator seeded with 2", (2.0, 50.0, 4, gen(2)),
             "Any range, not only powers of 10: low * (high / low) ** u."),
        Case("10000 values between 1e-6 and 1e-2", (1e-6, 1e-2, 10_000, gen(3)), hidden=True),
        Case("3 values between 0.5 and 0.8", (0.5, 0.8, 3, gen(4)), hidden=True),
        Case("low = high = 0.01: every sample is 0.01", (0.01, 0.01, 6, gen(5)), hidden=True),
    ]


def _log_uniform(low: float, high: float, n: int, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, generator=generator, dtype=F64)
    return low * (high / low) ** u  # = exp(log low + u (log high - log low)): uniform in log(value)


def _log_uniform_with(transform=None, draw=F64):
    """u from the generator (in ``draw``'s dtype, returned in float64), then transform(low, high, u)."""

    def answer(low, high, n, generator):
        u = torch.rand(n, generator=generator, dtype=draw).to(F64)
        return transform(low, high, u) if transform else low * (high / low) ** u

    return answer


LOG_UNIFORM = Exercise(
    id="05.log_uniform",
    title="Log-uniform samples for random search",
    kind="implement",
    points=1,
    prompt=(
        "log_uniform(low, high, n, generator) returns n float64 samples log-uniform on [low, high), 0 < low <= high, "
        "the way random search draws a learning rate: u = torch.rand(n, generator=generator, dtype=torch.float64), "
        "then the map increasing in u (u = 0 gives low) low * (high / low) ** u, which is "
        "exp(log(low) + u (log(high) - log(low)))."
    ),
    reference=_log_uniform,
    cases=_log_uniform_cases,
    compare=close(rtol=1e-10, atol=0.0),
    forbidden=("scipy.stats.loguniform", "scipy.stats.reciprocal", "scipy.stats.loguniform._argcheck",
               "scipy.stats.loguniform._get_support", "scipy.stats.loguniform._ppf", "helpers.search.ParameterSampler",
               "helpers.search.random_search", *NUMPY_ESCAPE),
    instead="u = torch.rand(n, generator=generator, dtype=torch.float64) and one line of arithmetic (torch.exp and "
    "math.log, or **).",
    hints=[
        "Log-uniform means that log(value) is uniform: draw the exponent uniformly between log(low) and log(high), "
        "then undo the log.",
        "The exponent log(low) + u (log(high) - log(low)) is uniform between log(low) and log(high) when u is "
        "uniform on [0, 1); u = 0 must give low.",
        "With u = torch.rand(n, generator=generator, dtype=torch.float64): "
        "torch.exp(math.log(low) + u * (math.log(high) - math.log(low))), or in one power low * (high / low) ** u.",
    ],
    wrong={
        "That is uniform on [low, high): almost every sample lands in the top decade (90% of them between 1e-2 and "
        "1e-1 for [1e-4, 1e-1)). Log-uniform is uniform in log(value): low * (high / low) ** u.": (
            _log_uniform_with(lambda low, high, u: low + u * (high - low))
        ),
        "low * 10 ** u covers one decade, [low, 10 low), whatever high is: the exponent must span the whole range, "
        "low * (high / low) ** u.": _log_uniform_with(lambda low, high, u: low * 10**u),
        "low * exp(u) covers only a factor e = 2.718 above low: the exponent must span the whole range, "
        "exp(log(low) + u (log(high) - log(low))).": _log_uniform_with(lambda low, high, u: low * u.exp()),
        "The bases do not match: exp undoes the natural log, 10 ** undoes log10. Use "
        "exp(log(low) + u (log(high) - log(low))) or 10 ** (log10(low) + u (log10(high) - log10(low))).": (
            _log_uniform_with(lambda low, high, u: torch.exp(math.log10(low) + u * math.log10(high / low)))
        ),
        "low and high are the values, not their exponents: 10 ** (low + u (high - low)) is about 1 for a range like "
        "[1e-4, 1e-1]. Take logs first: exp(log(low) + u (log(high) - log(low))).": (
            _log_uniform_with(lambda low, high, u: 10 ** (low + u * (high - low)))
        ),
        "u was drawn in float32: the generator's float32 stream gives other numbers. Draw "
        "u = torch.rand(n, generator=generator, dtype=torch.float64).": _log_uniform_with(draw=torch.float32),
        "high * (low / high) ** u has the right distribution too, but runs the other way (u = 0 gives high); the "
        "exercise asks for the increasing map, u = 0 -> low, so that your samples match the reference's one by one: "
        "low * (high / low) ** u.": _log_uniform_with(lambda low, high, u: high * (low / high) ** u),
    },
)


# ---------------------------------------------------------------- the weight-scaling rule for a linear output
WEIGHT_SCALING_OPTIONS = {
    "a": "Evaluate once in eval mode, with no scaling at all: y = w . h + b.",
    "b": "Multiply w by (1 - p) at test time: y = (1 - p) w . h + b.",
    "c": "Divide w by (1 - p) at test time: y = w . h / (1 - p) + b.",
    "d": "There is no closed form: only averaging many stochastic forward passes (Monte-Carlo dropout) computes it.",
}

WEIGHT_SCALING = Exercise(
    id="05.weight_scaling",
    title="The test-time rule of inverted dropout",
    kind="choice",
    points=1,
    prompt=(
        "A hidden layer h in R^n goes through dropout with drop probability p in PyTorch's inverted convention "
        "(kept units multiplied by 1 / (1 - p) in training), then a LINEAR output layer y = w . h_tilde + b with "
        "nothing after it. Which test-time computation gives exactly the average of y over all 2^n dropout masks, "
        "each weighted by its probability? Return the letter."
    ),
    reference=lambda: "a",
    cases=lambda: [Case("a linear output layer after inverted dropout", (),
                        "The average over all masks is an expectation, and an expectation passes through a linear "
                        "function: E[w . (m * h) / (1 - p)] = w . h E[m_i] / (1 - p) = w . h.")],
    compare=choice(WEIGHT_SCALING_OPTIONS),
    options=WEIGHT_SCALING_OPTIONS,
    hints=[
        "The average over all masks weighted by their probabilities is the expectation over m_i ~ Bernoulli(1 - p), "
        "independently for each unit.",
        "y is linear in h_tilde = m * h / (1 - p), so E[y] = w . E[h_tilde] + b. What is E[h_tilde_i], given "
        "E[m_i] = 1 - p?",
        "E[h_tilde] = h, so E[y] = w . h + b: one pass without dropout and without any scaling.",
    ],
    wrong={
        "Multiplying the weights by 1 - p is the rule of the ORIGINAL dropout, which did not rescale the kept units "
        "in training. Inverted dropout already divides by 1 - p in training, so nothing is scaled at test "
        "time.": lambda: "b",
        "That counts the scaling twice: inverted dropout's 1 / (1 - p) in training already makes E[h_tilde] = h, "
        "so dividing again at test time makes the output 1 / (1 - p) times too large.": lambda: "c",
        "For a layer that is linear in the dropped units the average passes through the layer: "
        "E[w . m * h / (1 - p)] = w . h, a single deterministic pass. Monte-Carlo averaging is needed only when a "
        "nonlinearity follows the dropped units.": lambda: "d",
    },
)


EXERCISES = [  # in the order the chapter asks them
    WEIGHT_DECAY,
    RIDGE,
    L1_PROX,
    MAP_PENALTY,
    EARLY_STOPPING,
    LABEL_SMOOTHING,
    DROPOUT,
    WEIGHT_SCALING,
    LOG_UNIFORM,
]
