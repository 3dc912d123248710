"""The chapter 4 references against independent oracles: numpy, gradient descent itself, DataLoader,
torch.optim, torch.func, torch.nn.utils, torch.nn.init and F.batch_norm; and the checks that are particular
to chapter 4 (a float step count, clipping without the 1e-6, answers that update their inputs in place)."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_forbid import torch_adam_step

from helpers.exercises import Outcome, assess
from helpers.exercises.catalogue import ch04
from helpers.exercises.runner import call_all, judge
from helpers.exercises.spec import ResultKind

F64 = torch.float64


def all_cases(exercise):
    return exercise.cases()


# ---- the largest stable learning rate ---------------------------------------------------------------


@pytest.mark.parametrize("case", all_cases(ch04.GD_STABILITY), ids=lambda c: c.label)
def test_gd_stability_matches_numpy(case):
    (H,) = case.args
    lr, kappa = ch04.GD_STABILITY.reference(H)
    h = H.double().numpy()
    eigenvalues = np.linalg.eigvals(h).real
    assert lr == pytest.approx(2 / eigenvalues.max(), rel=1e-10)
    assert kappa == pytest.approx(np.linalg.cond(h), rel=1e-9)  # the 2-norm condition number of an SPD matrix


def gradient_descent(H, lr, steps, seed=0):
    """||x_k|| / ||x_0|| after ``steps`` steps of x <- x - lr H x (the gradient of 1/2 x^T H x is H x)."""
    x0 = torch.randn(H.shape[0], generator=torch.Generator().manual_seed(seed), dtype=F64)
    x = x0.clone()
    for _ in range(steps):
        x = x - lr * (H @ x)
    return (x.norm() / x0.norm()).item()


@pytest.mark.parametrize("case", all_cases(ch04.GD_STABILITY), ids=lambda c: c.label)
def test_gradient_descent_converges_below_the_limit_and_diverges_above(case):
    H = case.args[0].double()
    lr, kappa = ch04.GD_STABILITY.reference(case.args[0])
    steps = int(30 * kappa) + 2000  # the slowest direction shrinks by (1 - 1.98 / kappa) per step
    assert gradient_descent(H, 0.99 * lr, steps) < 1e-6
    assert gradient_descent(H, 1.01 * lr, 2000) > 1e6


# ---- steps per epoch ----------------------------------------------------------------------------------


def test_iterations_match_len_of_a_dataloader():
    grid = [(case.args[0], case.args[1], case.args[2]) for case in ch04.ITERATIONS.cases()]
    grid += [(n, b, d) for n in (1, 2, 7, 31, 32, 33, 100) for b in (1, 3, 32, 100, 101) for d in (False, True)]
    for n, b, drop_last in grid:
        loader = torch.utils.data.DataLoader(range(n), batch_size=b, drop_last=drop_last)
        assert ch04.ITERATIONS.reference(n, b, drop_last) == len(loader) == sum(1 for _ in loader)
        assert type(ch04.ITERATIONS.reference(n, b, drop_last)) is int


def test_a_float_step_count_is_rejected_with_a_reason():
    report = assess("04.iterations_per_epoch", lambda n, b, drop_last=False: float(ch04._iterations(n, b, drop_last)))
    assert report.outcome is Outcome.INCORRECT
    assert report.first_failure.kind is ResultKind.WRONG_TYPE and "a float" in report.first_failure.message
    integer = assess("04.iterations_per_epoch",
                     lambda n, b, drop_last=False: np.int64(ch04._iterations(n, b, drop_last)))
    assert integer.outcome is Outcome.CORRECT


# ---- momentum and Nesterov against torch.optim.SGD ----------------------------------------------------


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_momentum_steps_chain_like_torch_sgd(nesterov, dtype):
    step = ch04.NESTEROV.reference if nesterov else ch04.MOMENTUM.reference
    g = torch.Generator().manual_seed(1)
    lr, momentum = 0.05, 0.9
    p = torch.randn(3, 4, generator=g, dtype=dtype, requires_grad=True)
    optimizer = torch.optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    param, buf = p.detach().clone(), None
    for _ in range(6):
        grad = torch.randn(3, 4, generator=g, dtype=dtype)
        p.grad = grad.clone()
        optimizer.step()
        param, buf = step(param, grad, buf, lr, momentum)
        tol = dict(rtol=1e-12, atol=1e-12) if dtype == F64 else dict(rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(param, p.detach(), **tol)
        torch.testing.assert_close(buf, optimizer.state[p]["momentum_buffer"], **tol)


def test_plain_sgd_is_momentum_zero():
    case = next(c for c in ch04.MOMENTUM.cases() if "momentum 0" in c.label)
    param, grad, buf, lr, momentum = case.args
    p = param.clone().requires_grad_(True)
    p.grad = grad.clone()
    torch.optim.SGD([p], lr=lr).step()
    torch.testing.assert_close(ch04.MOMENTUM.reference(*case.args)[0], p.detach(), rtol=1e-12, atol=1e-12)


def test_an_answer_that_updates_its_inputs_in_place_is_told_so():
    def in_place(param, grad, buf, lr, momentum):
        buf = grad.clone() if buf is None else buf.mul_(momentum).add_(grad)
        return param.sub_(lr * buf), buf

    report = assess("04.momentum_step", in_place)
    assert report.outcome is Outcome.INCORRECT
    assert report.first_failure.kind is ResultKind.MODIFIED_INPUT


# ---- Adam against torch.optim.Adam ---------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 1e-9], ids=["ordinary gradients", "tiny gradients"])
@pytest.mark.parametrize("dtype", [F64, torch.float32])
def test_adam_steps_chain_like_torch_adam(scale, dtype):
    g = torch.Generator().manual_seed(2)
    lr, betas, eps = 0.01, (0.8, 0.99), 1e-8
    p = torch.randn(5, generator=g, dtype=dtype, requires_grad=True)
    optimizer = torch.optim.Adam([p], lr=lr, betas=betas, eps=eps)
    param, m, v = p.detach().clone(), torch.zeros(5, dtype=dtype), torch.zeros(5, dtype=dtype)
    for t in range(1, 6):
        grad = scale * torch.randn(5, generator=g, dtype=dtype)
        p.grad = grad.clone()
        optimizer.step()
        param, m, v = ch04.ADAM.reference(param, grad, m, v, t, lr, betas, eps)
        state = optimizer.state[p]
        tol = dict(rtol=1e-12, atol=0.0) if dtype == F64 else dict(rtol=1e-5, atol=1e-7)
        torch.testing.assert_close(param, p.detach(), **tol)
        torch.testing.assert_close(m, state["exp_avg"], **tol)
        torch.testing.assert_close(v, state["exp_avg_sq"], **tol)


@pytest.mark.parametrize("case", all_cases(ch04.ADAM), ids=lambda c: c.label)
def test_adam_cases_match_one_torch_adam_step_from_their_moments(case):
    param = case.args[0]
    expected = torch_adam_step(*case.args)  # torch.optim.Adam, one step from the case's moments
    for ours, theirs in zip(ch04.ADAM.reference(*case.args), expected):
        tol = dict(rtol=1e-12, atol=0.0) if param.dtype == F64 else dict(rtol=1e-6, atol=1e-8)
        torch.testing.assert_close(ours, theirs, **tol)


def test_the_tiny_gradient_case_tells_the_eps_placements_apart():
    case = next(c for c in ch04.ADAM.cases() if c.label.startswith("tiny gradients (about 1e-9)"))
    reference = ch04.ADAM.reference(*case.args)[0]
    for placement in ("inside", "before"):
        wrong = ch04._adam_with(eps_at=placement)(*case.args)[0]
        assert (wrong - reference).abs().max() > 1e3 * 1e-7 * reference.abs().max()


# ---- Newton's method against torch.func.hessian --------------------------------------------------------


@pytest.mark.parametrize("case", all_cases(ch04.NEWTON), ids=lambda c: c.label)
def test_newton_step_matches_torch_func(case):
    f, x = case.args
    hessian, gradient = torch.func.hessian(f)(x), torch.func.grad(f)(x)
    expected = x - torch.linalg.solve(hessian, gradient)
    torch.testing.assert_close(ch04.NEWTON.reference(f, x), expected, rtol=1e-10, atol=1e-12)


def test_one_newton_step_solves_a_quadratic():
    case = ch04.NEWTON.cases()[0]
    solution = torch.linalg.solve(ch04._A2, ch04._B2)
    torch.testing.assert_close(ch04.NEWTON.reference(*case.args), solution, rtol=1e-12, atol=1e-12)


# ---- clipping against torch.nn.utils.clip_grad_norm_ ---------------------------------------------------


@pytest.mark.parametrize("case", all_cases(ch04.CLIP), ids=lambda c: c.label)
def test_clipping_matches_clip_grad_norm_(case):
    grads, max_norm = case.args
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    clipped, ours = ch04.CLIP.reference(grads, max_norm)
    assert ours == pytest.approx(total.item(), rel=1e-12)
    assert isinstance(ours, float)
    for mine, p in zip(clipped, params):
        torch.testing.assert_close(mine, p.grad, rtol=1e-12 if mine.dtype == F64 else 1e-6, atol=0.0)


def test_clipping_without_the_small_constant_is_accepted():
    def without_eps(grads, max_norm):
        total = math.sqrt(sum((g.double() ** 2).sum().item() for g in grads))
        return [g * min(1.0, max_norm / total) for g in grads], total

    assert assess("04.clip_grad_norm", without_eps, include_hidden=True).outcome is Outcome.CORRECT


# ---- initialisation against torch.nn.init -------------------------------------------------------------


@pytest.mark.parametrize("case", all_cases(ch04.INIT_STD), ids=lambda c: c.label)
def test_init_std_matches_torch_formulas_and_draws(case):
    shape, scheme = case.args
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    if scheme == "he":
        formula = torch.nn.init.calculate_gain("relu") / math.sqrt(fan_in)
        draw = torch.nn.init.kaiming_normal_(torch.empty(shape, dtype=F64), nonlinearity="relu",
                                             generator=torch.Generator().manual_seed(3))
    else:
        formula = torch.nn.init.calculate_gain("linear") * math.sqrt(2.0 / (fan_in + fan_out))
        draw = torch.nn.init.xavier_normal_(torch.empty(shape, dtype=F64), generator=torch.Generator().manual_seed(3))
    std = ch04.INIT_STD.reference(shape, scheme)
    assert std == pytest.approx(formula, rel=1e-12)
    n = draw.numel()
    assert draw.std().item() == pytest.approx(std, rel=5 / math.sqrt(2 * n))  # 5 standard errors of a std


def test_init_std_from_large_draws():
    for shape in [(400, 300), (64, 32, 3, 3)]:
        for scheme, init in [("he", torch.nn.init.kaiming_normal_), ("xavier", torch.nn.init.xavier_normal_)]:
            weight = init(torch.empty(shape, dtype=F64), generator=torch.Generator().manual_seed(4))
            assert weight.std().item() == pytest.approx(ch04.INIT_STD.reference(shape, scheme), rel=0.01)


# ---- batch normalization against F.batch_norm ----------------------------------------------------------


@pytest.mark.parametrize("case", all_cases(ch04.BATCH_NORM), ids=lambda c: c.label)
def test_batch_norm_matches_functional_batch_norm(case):
    x, gamma, beta, running_mean, running_var, training, *rest = case.args
    momentum, eps = (rest + [0.1, 1e-5][len(rest):])
    mean, var = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, mean, var, gamma, beta, training, momentum, eps)
    ours = ch04.BATCH_NORM.reference(*case.args)
    tol = dict(rtol=1e-12, atol=1e-12) if x.dtype == F64 else dict(rtol=1e-5, atol=1e-6)
    for mine, theirs in zip(ours, (y, mean, var)):
        torch.testing.assert_close(mine, theirs, **tol)


def test_batch_norm_in_evaluation_does_not_look_at_the_rest_of_the_batch():
    x, gamma, beta, running_mean, running_var, _ = ch04.BATCH_NORM.cases()[1].args
    whole = ch04.BATCH_NORM.reference(x, gamma, beta, running_mean, running_var, False)[0]
    alone = ch04.BATCH_NORM.reference(x[:1], gamma, beta, running_mean, running_var, False)[0]
    torch.testing.assert_close(whole[:1], alone, rtol=0, atol=0)


# ---- every library answer, unguarded, agrees with the references ---------------------------------------


def test_the_library_answers_agree_with_the_references_when_allowed():
    from test_forbid import LIBRARY_ANSWERS

    for exercise in [ch04.GD_STABILITY, ch04.ITERATIONS, ch04.MOMENTUM, ch04.NESTEROV, ch04.ADAM, ch04.NEWTON,
                     ch04.CLIP, ch04.INIT_STD, ch04.BATCH_NORM]:
        cases = exercise.cases()
        report = judge(exercise, cases, call_all(LIBRARY_ANSWERS[exercise.id], cases, forbidden=()), True)
        assert report.outcome is Outcome.CORRECT, (exercise.id, report.first_failure)


def test_clipping_that_rescales_the_callers_list_in_place_is_told_so():
    def in_place(grads, max_norm):  # right values, but it changes the tensors inside the caller's list
        total = math.sqrt(sum(float((g.double() ** 2).sum()) for g in grads))
        for g in grads:
            g.mul_(min(1.0, max_norm / (total + 1e-6)))
        return grads, total

    report = assess("04.clip_grad_norm", in_place)
    assert report.outcome is Outcome.INCORRECT
    assert report.first_failure.kind is ResultKind.MODIFIED_INPUT


def test_an_init_std_returned_as_a_float32_tensor_is_accepted():
    def as_tensor(shape, scheme):
        fan_in = shape[1] * math.prod(shape[2:])
        fan_out = shape[0] * math.prod(shape[2:])
        return torch.tensor(2 / fan_in if scheme == "he" else 2 / (fan_in + fan_out)).sqrt()

    assert assess("04.init_std", as_tensor, include_hidden=True).outcome is Outcome.CORRECT
