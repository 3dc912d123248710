"""The chapter 5 references against independent oracles: torch.optim.SGD, autograd, F.softshrink and the proximal
objective, torch.distributions' log-densities, sklearn's Ridge, helpers.train.fit, F.cross_entropy,
helpers.nn.dropout, scipy's log-uniform distribution and the average over every dropout mask. And the checks that
tests/test_catalogue.py and tests/test_forbid.py make of every chapter in CHAPTERS, run on this module directly:
chapter 5 joins CHAPTERS together with its notebook."""

import copy
import itertools
import math

import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from catalogue_support import label
from sklearn.linear_model import Ridge
from test_forbid import LIBRARY_ANSWERS, fit_on_a_scripted_curve
from torch.utils.data import DataLoader, TensorDataset

from helpers.exercises import Outcome, feedback
from helpers.exercises.catalogue import ch05
from helpers.exercises.runner import call_all, judge, run
from helpers.exercises.spec import ResultKind
from helpers.nn.dropout import dropout
from helpers.train import fit

F64 = torch.float64
EXERCISES = {exercise.id: exercise for exercise in ch05.EXERCISES}


def tolerance(dtype):
    return dict(rtol=1e-12, atol=1e-14) if dtype == F64 else dict(rtol=1e-6, atol=1e-7)


# ---- the chapter's list (tests/test_catalogue.py checks every exercise: references, wrong answers, stubs) ----


def test_the_chapter_has_six_or_more_exercises_of_three_or_more_kinds():
    assert len(EXERCISES) == len(ch05.EXERCISES) >= 6, "exercise ids are unique"
    assert all(exercise_id.startswith("05.") for exercise_id in EXERCISES)
    assert len({e.kind for e in ch05.EXERCISES}) >= 3


# ---- the library answers (test_forbid.py checks that every one is caught) ------------------------------


def test_the_library_answers_agree_with_the_references_when_allowed():
    """F.dropout and scipy's loguniform draw other random numbers: those two are compared below by other means."""
    for exercise_id in ["05.weight_decay_step", "05.l1_prox_step", "05.ridge_fit", "05.early_stopping",
                        "05.label_smoothing"]:
        exercise = EXERCISES[exercise_id]
        cases = exercise.cases()
        report = judge(exercise, cases, call_all(LIBRARY_ANSWERS[exercise_id], cases, forbidden=()), True)
        assert report.outcome is Outcome.CORRECT, (exercise_id, report.first_failure)


def test_the_books_own_dropout_is_forbidden_and_agrees_when_allowed():
    def ours(x, p, training, generator):
        return dropout(x, p, training, generator=generator)

    cases = ch05.DROPOUT.cases()
    assert judge(ch05.DROPOUT, cases, call_all(ours, cases, forbidden=()), True).outcome is Outcome.CORRECT
    report = run(ch05.DROPOUT, ours)
    assert report.score == 0 and report.first_failure.kind is ResultKind.FORBIDDEN


# ---- weight decay against torch.optim.SGD and autograd ------------------------------------------------


@pytest.mark.parametrize("case", ch05.WEIGHT_DECAY.cases(), ids=label)
def test_weight_decay_step_is_torch_sgds(case):
    param, grad, lr, weight_decay = case.args
    p = param.clone().requires_grad_(True)
    p.grad = grad.clone()
    torch.optim.SGD([p], lr=lr, weight_decay=weight_decay).step()
    torch.testing.assert_close(ch05.WEIGHT_DECAY.reference(*case.args), p.detach(), **tolerance(param.dtype))


@pytest.mark.parametrize("case", ch05.WEIGHT_DECAY.cases(), ids=label)
def test_weight_decay_is_the_gradient_of_half_lambda_w_squared(case):
    param, grad, lr, weight_decay = case.args
    w = param.double().requires_grad_(True)
    loss = (grad.double() * w).sum()  # a loss whose gradient is grad
    (loss + weight_decay / 2 * (w**2).sum()).backward()
    expected = (param.double() - lr * w.grad).to(param.dtype)
    torch.testing.assert_close(ch05.WEIGHT_DECAY.reference(*case.args), expected, **tolerance(param.dtype))


def test_a_weight_decay_step_that_updates_param_in_place_is_told_so():
    def in_place(param, grad, lr, weight_decay):
        return param.mul_(1 - lr * weight_decay).sub_(lr * grad)

    report = run(ch05.WEIGHT_DECAY, in_place)
    assert report.outcome is Outcome.INCORRECT
    assert report.first_failure.kind is ResultKind.MODIFIED_INPUT


# ---- the proximal L1 step against F.softshrink and its defining objective -----------------------------


@pytest.mark.parametrize("case", ch05.L1_PROX.cases(), ids=label)
def test_l1_prox_step_is_softshrink_of_the_gradient_step(case):
    param, grad, lr, lambd = case.args
    expected = F.softshrink(param - lr * grad, lr * lambd)
    torch.testing.assert_close(ch05.L1_PROX.reference(*case.args), expected, **tolerance(param.dtype))


@pytest.mark.parametrize("case", ch05.L1_PROX.cases(), ids=label)
def test_l1_prox_step_minimises_the_proximal_objective(case):
    """prox(z) = argmin_w (1 / (2 lr)) ||w - z||^2 + lambd ||w||_1, coordinate by coordinate: no point of a fine
    grid around the answer does better."""
    param, grad, lr, lambd = (a.double() if isinstance(a, torch.Tensor) else a for a in case.args)
    z = (param - lr * grad).flatten()
    w = ch05.L1_PROX.reference(param, grad, lr, lambd).flatten()
    candidates = w[:, None] + torch.linspace(-1, 1, 4001, dtype=F64)  # steps of 5e-4 on either side

    def objective(v):
        return (v - z[:, None]) ** 2 / (2 * lr) + lambd * v.abs()

    assert (objective(w[:, None])[:, 0] <= objective(candidates).min(dim=1).values + 1e-12).all()
    assert ((w == 0) == ((z.abs() <= lr * lambd) & (lambd > 0) | (z == 0))).all(), "exact zeros below the threshold"


# ---- priors as penalties, against torch.distributions --------------------------------------------------


@pytest.mark.parametrize("case", ch05.MAP_PENALTY.cases(), ids=label)
def test_penalised_least_squares_is_the_negative_log_posterior(case):
    """-log p(w | X, y) = (||y - Xw||^2 + lambda * penalty(w)) / (2 sigma^2) + a constant, for every w."""
    sigma, tau, b = case.args
    lambda_2, lambda_1 = ch05.MAP_PENALTY.reference(*case.args)
    assert isinstance(lambda_2, float) and isinstance(lambda_1, float)
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(20, 3, generator=g, dtype=F64), torch.randn(20, generator=g, dtype=F64)
    ws = [torch.randn(3, generator=g, dtype=F64) for _ in range(6)]
    zero, sigma, tau, b = (torch.tensor(v, dtype=F64) for v in (0.0, sigma, tau, b))  # float64 distributions
    priors = [(torch.distributions.Normal(zero, tau), lambda w: lambda_2 * (w**2).sum()),
              (torch.distributions.Laplace(zero, b), lambda w: lambda_1 * w.abs().sum())]
    for prior, penalty in priors:
        def negative_log_posterior(w, prior=prior):
            return -(torch.distributions.Normal(X @ w, sigma).log_prob(y).sum() + prior.log_prob(w).sum()).item()

        def objective(w, penalty=penalty):
            return (((y - X @ w) ** 2).sum() + penalty(w)).item() / (2 * sigma.item() ** 2)

        for w in ws[1:]:
            assert negative_log_posterior(w) - negative_log_posterior(ws[0]) == pytest.approx(
                objective(w) - objective(ws[0]), rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("case", ch05.MAP_PENALTY.cases(), ids=label)
def test_the_ridge_solution_is_the_gaussian_posterior_mean(case):
    sigma, tau, _ = case.args
    lambda_2, _ = ch05.MAP_PENALTY.reference(*case.args)
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(15, 4, generator=g, dtype=F64), torch.randn(15, generator=g, dtype=F64)
    precision = X.T @ X / sigma**2 + torch.eye(4, dtype=F64) / tau**2  # the posterior N(mean, precision^-1)
    posterior_mean = torch.linalg.solve(precision, X.T @ y / sigma**2)
    ridge = torch.linalg.solve(X.T @ X + lambda_2 * torch.eye(4, dtype=F64), X.T @ y)
    torch.testing.assert_close(ridge, posterior_mean, rtol=1e-9, atol=1e-12)


# ---- ridge against sklearn ----------------------------------------------------------------------------


@pytest.mark.parametrize("case", ch05.RIDGE.cases(), ids=label)
def test_ridge_matches_sklearn(case):
    X, y, alpha = case.args
    model = Ridge(alpha=alpha, fit_intercept=True).fit(X.double().numpy(), y.double().numpy())
    coef, intercept = ch05.RIDGE.reference(*case.args)
    assert coef.shape == (X.shape[1],) and intercept.ndim == 0 and coef.dtype == intercept.dtype == X.dtype
    rtol = 1e-8 if X.dtype == F64 else 1e-4
    np.testing.assert_allclose(coef.double().numpy(), model.coef_, rtol=rtol, atol=rtol)
    assert intercept.item() == pytest.approx(model.intercept_, rel=rtol, abs=rtol)


def test_the_ridge_intercept_is_not_penalised():
    X, y, alpha = ch05.RIDGE.cases()[2].args  # alpha = 100
    coef, intercept = ch05.RIDGE.reference(X, y, alpha)
    shifted_coef, shifted_intercept = ch05.RIDGE.reference(X, y + 1000.0, alpha)
    torch.testing.assert_close(shifted_coef, coef, rtol=1e-9, atol=1e-9)
    assert shifted_intercept.item() == pytest.approx(intercept.item() + 1000.0, rel=1e-12)


# ---- early stopping against helpers.train.fit ----------------------------------------------------------


@pytest.mark.parametrize("case", ch05.EARLY_STOPPING.cases(), ids=label)
def test_early_stopping_replays_fit(case):
    assert ch05.EARLY_STOPPING.reference(*case.args) == fit_on_a_scripted_curve(*case.args)


def test_one_case_has_its_lowest_loss_after_the_stop():
    for case in ch05.EARLY_STOPPING.cases():
        curve, patience = case.args
        if curve.index(min(curve)) >= ch05.EARLY_STOPPING.reference(curve, patience)[1]:
            return
    pytest.fail("no case whose global minimum comes after training stops")


def test_early_stopping_on_a_real_training_run():
    """A wide network overfits 12 noisy points; fit stops on the validation loss, and the reference agrees."""
    g = torch.Generator().manual_seed(0)

    def data(n):
        x = 4 * torch.rand(n, 1, generator=g) - 2
        return x, torch.sin(2 * x).squeeze(1) + 0.3 * torch.randn(n, generator=g)

    torch.manual_seed(0)
    train, val = DataLoader(TensorDataset(*data(12)), batch_size=12), DataLoader(TensorDataset(*data(100)), 50)
    model = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 1), torch.nn.Flatten(0))
    history = fit(model, train, F.mse_loss, torch.optim.Adam(model.parameters(), lr=0.02), 500, val_loader=val,
                  patience=10, device="cpu", progress=False)
    assert history.stopped_early
    assert ch05.EARLY_STOPPING.reference(history.val_loss, 10) == (history.best_epoch, history.epochs)


def test_epochs_as_floats_are_rejected_and_numpy_integers_accepted():
    def floats(val_losses, patience):
        return tuple(float(v) for v in ch05.EARLY_STOPPING.reference(val_losses, patience))

    report = run(ch05.EARLY_STOPPING, floats)
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "a float" in report.first_failure.message

    def numpy_ints(val_losses, patience):
        return tuple(np.int64(v) for v in ch05.EARLY_STOPPING.reference(val_losses, patience))

    assert run(ch05.EARLY_STOPPING, numpy_ints, include_hidden=True).outcome is Outcome.CORRECT


# ---- label smoothing against F.cross_entropy -----------------------------------------------------------


@pytest.mark.parametrize("case", ch05.LABEL_SMOOTHING.cases(), ids=label)
def test_label_smoothing_matches_functional_cross_entropy(case):
    logits, target, eps = case.args
    ours = ch05.LABEL_SMOOTHING.reference(*case.args)
    assert ours.ndim == 0 and ours.dtype == logits.dtype and torch.isfinite(ours)
    tol = dict(rtol=1e-12, atol=1e-12) if logits.dtype == F64 else dict(rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours, F.cross_entropy(logits, target, label_smoothing=eps), **tol)


def test_an_unstable_softmax_is_caught_by_the_hidden_cases_and_told_why():
    def unstable(logits, target, eps):
        k = logits.shape[1]
        q = (1 - eps) * F.one_hot(target, k).to(logits.dtype) + eps / k
        p = logits.exp() / logits.exp().sum(dim=1, keepdim=True)
        return -(q * p.log()).sum(dim=1).mean()

    assert run(ch05.LABEL_SMOOTHING, unstable).outcome is Outcome.CORRECT  # the public cases have small logits
    report = run(ch05.LABEL_SMOOTHING, unstable, include_hidden=True)
    assert report.outcome is Outcome.INCORRECT and "overflow" in report.detail
    assert f"likely cause: {report.detail}" in feedback.text(report)


# ---- dropout against helpers.nn.dropout ----------------------------------------------------------------


@pytest.mark.parametrize("case", ch05.DROPOUT.cases(), ids=label)
def test_dropout_is_the_books_dropout_with_the_same_generator(case):
    x, p, training, generator = case.args
    ours = ch05.DROPOUT.reference(x, p, training, copy.deepcopy(generator))
    theirs = dropout(x, p, training, generator=copy.deepcopy(generator))
    assert ours.dtype == x.dtype and not ours.isnan().any()
    torch.testing.assert_close(ours, theirs, **tolerance(x.dtype))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_dropout_keeps_a_fraction_one_minus_p_and_keeps_the_mean(p):
    n = 200_000
    y = ch05.DROPOUT.reference(torch.ones(n, dtype=F64), p, True, torch.Generator().manual_seed(10))
    kept = y != 0
    assert torch.all(y[kept] == 1 / (1 - p))
    assert abs(kept.double().mean().item() - (1 - p)) < 5 * math.sqrt(p * (1 - p) / n)
    assert abs(y.mean().item() - 1.0) < 5 * math.sqrt(p / (1 - p) / n)  # Var(m / (1 - p)) = p / (1 - p)


def test_every_call_sees_the_generator_of_the_case_in_the_same_state():
    """The runner deep-copies a case's arguments for each call, the generator too: the same mask every time."""
    case = ch05.DROPOUT.cases()[0]
    state = case.args[3].get_state().clone()
    first, second = call_all(ch05.DROPOUT.reference, [case, case])
    assert torch.equal(first.value, second.value)
    assert torch.equal(case.args[3].get_state(), state)
    assert run(ch05.DROPOUT, ch05.DROPOUT.reference, include_hidden=True).outcome is Outcome.CORRECT


# ---- log-uniform samples against scipy.stats.loguniform ------------------------------------------------


@pytest.mark.parametrize("case", ch05.LOG_UNIFORM.cases(), ids=label)
def test_log_uniform_is_the_exponential_of_a_uniform_exponent(case):
    low, high, n, generator = case.args
    u = torch.rand(n, generator=copy.deepcopy(generator), dtype=F64)
    samples = ch05.LOG_UNIFORM.reference(low, high, n, copy.deepcopy(generator))
    expected = torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    torch.testing.assert_close(samples, expected, rtol=1e-13, atol=0.0)
    assert samples.dtype == F64 and samples.shape == (n,)
    assert ((samples >= low * (1 - 1e-15)) & (samples <= high * (1 + 1e-15))).all()


def test_log_uniform_samples_follow_scipys_loguniform():
    low, high = 1e-5, 1.0
    samples = ch05.LOG_UNIFORM.reference(low, high, 100_000, torch.Generator().manual_seed(11))
    assert scipy.stats.kstest(samples.numpy(), scipy.stats.loguniform(low, high).cdf).pvalue > 1e-3
    uniform = next(w for d, w in ch05.LOG_UNIFORM.wrong.items() if d.startswith("That is uniform"))
    wrong = uniform(low, high, 100_000, torch.Generator().manual_seed(11))
    assert scipy.stats.kstest(wrong.numpy(), scipy.stats.loguniform(low, high).cdf).pvalue < 1e-10
    assert (wrong > 0.1).double().mean() > 0.89  # the uniform draw lands in the top decade 90% of the time


# ---- the test-time rule of inverted dropout: the average over every mask -------------------------------


def test_eval_mode_is_the_exact_average_over_all_masks_of_a_linear_layer():
    n, p = 8, 0.3
    g = torch.Generator().manual_seed(12)
    h, w, b = torch.randn(n, generator=g, dtype=F64), torch.randn(n, generator=g, dtype=F64), 0.7
    average = relu_average = 0.0
    for mask in itertools.product([0.0, 1.0], repeat=n):
        m = torch.tensor(mask, dtype=F64)
        probability = math.prod(1 - p if kept else p for kept in mask)
        average += probability * ((w @ (m * h)) / (1 - p) + b).item()
        relu_average += probability * (w @ torch.relu(m * h / (1 - p) - 0.5)).item()
    rules = {"a": (w @ h).item() + b, "b": (1 - p) * (w @ h).item() + b, "c": (w @ h).item() / (1 - p) + b}
    assert rules[ch05.WEIGHT_SCALING.reference()] == pytest.approx(average, rel=1e-12)
    assert all(abs(value - average) > 1e-3 for key, value in rules.items() if key != "a")
    # with a nonlinearity after the dropped units the single eval pass is only an approximation (option d's case)
    assert abs((w @ torch.relu(h - 0.5)).item() - relu_average) > 1e-3
