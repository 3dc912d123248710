"""helpers.optim agrees with torch.optim: trajectories and state to 1e-10 in float64, clipping, schedules, Newton."""

import copy
import math

import pytest
import torch
from torch import nn

from helpers import data, optim
from helpers.train import fit

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
F64 = torch.float64
STEPS = 120
TOL = {"rtol": 1e-10, "atol": 1e-12}
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")  # inside torch.func


# ---------------------------------------------------------------- three problems, as (initial parameters, loss)
def rosenbrock(params, t):
    x, y = params[0]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


ROTATION = torch.tensor([[1.0, -1.0], [1.0, 1.0]], dtype=F64) / math.sqrt(2)  # 45 degrees
CURVATURE = ROTATION @ torch.diag(torch.tensor([1.0, 100.0], dtype=F64)) @ ROTATION.T  # condition number 100


def quadratic(params, t):
    x = params[0]
    return 0.5 * x @ CURVATURE.to(x.device) @ x  # (1/2) x^T R diag(1, 100) R^T x


class Digits:
    """A 64-16-10 tanh MLP on a fixed sequence of 32-image minibatches of scikit-learn's digits."""

    split = data.digits(dtype=F64)

    def __init__(self, device):
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(64, 16), nn.Tanh(), nn.Linear(16, 10)).to(F64)
        self.x, self.y = self.split.x_train[:320].to(device), self.split.y_train[:320].to(device)

    def initial(self):
        return [p.detach().clone() for p in self.model.parameters()]

    def __call__(self, params, t):
        b = slice(32 * (t % 10), 32 * (t % 10 + 1))
        w1, b1, w2, b2 = params
        logits = torch.tanh(self.x[b] @ w1.T + b1) @ w2.T + b2
        return nn.functional.cross_entropy(logits, self.y[b])


def problem(name, device):
    """(initial parameters, loss(params, t)) of a problem, in float64 on ``device``."""
    if name == "rosenbrock":
        return [torch.tensor([-1.5, 2.0], dtype=F64, device=device)], rosenbrock
    if name == "quadratic":
        return [torch.tensor([3.0, 1.0], dtype=F64, device=device)], quadratic
    digits = Digits(device)
    return [p.to(device) for p in digits.initial()], digits


PROBLEMS = ["rosenbrock", "quadratic", "digits"]
LR = {  # a learning rate that makes progress without diverging, per optimizer and problem
    "SGD": {"rosenbrock": 2e-4, "quadratic": 5e-3, "digits": 0.1},
    "Adagrad": {"rosenbrock": 0.1, "quadratic": 0.2, "digits": 0.05},
    "RMSprop": {"rosenbrock": 1e-3, "quadratic": 1e-2, "digits": 1e-3},
    "Adam": {"rosenbrock": 1e-2, "quadratic": 2e-2, "digits": 1e-2},
    "AdamW": {"rosenbrock": 1e-2, "quadratic": 2e-2, "digits": 1e-2},
}
OPTIONS = {  # the option grid of each optimizer (the learning rate comes from LR)
    "SGD": [{}, {"momentum": 0.9}, {"momentum": 0.9, "dampening": 0.5}, {"momentum": 0.9, "nesterov": True},
            {"weight_decay": 0.1}, {"momentum": 0.8, "nesterov": True, "weight_decay": 0.05},
            {"momentum": 0.9, "maximize": True}],
    "Adagrad": [{}, {"lr_decay": 0.01}, {"weight_decay": 0.1}, {"initial_accumulator_value": 0.5, "eps": 1e-6},
                {"maximize": True}],
    "RMSprop": [{}, {"alpha": 0.9, "eps": 1e-6}, {"centered": True}, {"momentum": 0.9},
                {"centered": True, "momentum": 0.5, "weight_decay": 0.1}, {"maximize": True}],
    "Adam": [{}, {"betas": (0.8, 0.99), "eps": 1e-6}, {"weight_decay": 0.1}, {"amsgrad": True},
             {"amsgrad": True, "weight_decay": 0.05, "betas": (0.5, 0.9)}, {"maximize": True}],
    "AdamW": [{}, {"weight_decay": 0.0}, {"weight_decay": 0.3, "betas": (0.8, 0.99)}, {"amsgrad": True},
              {"maximize": True}],
}
CASES = [(name, options) for name, grid in OPTIONS.items() for options in grid]


def run(make_optimizer, name, options, device, steps=STEPS, with_closure=False):
    """Minimise the problem ``name`` from its start; maximize=True climbs -loss (the same path). -> optimizer."""
    start, loss_fn = problem(name, device)
    params = [p.clone().requires_grad_(True) for p in start]
    optimizer = make_optimizer(params, **options)
    sign = -1.0 if options.get("maximize") else 1.0
    for t in range(steps):
        def closure(t=t):
            optimizer.zero_grad()
            loss = sign * loss_fn(params, t)
            loss.backward()
            return loss

        if with_closure:
            optimizer.step(closure)
        else:
            closure()
            optimizer.step()
    return params, optimizer


def assert_same_state(ours, theirs):
    for p_ours, p_theirs in zip(ours.param_groups[0]["params"], theirs.param_groups[0]["params"]):
        mine, ref = ours.state[p_ours], theirs.state[p_theirs]
        assert set(mine) == set(ref), (set(mine), set(ref))
        for key in ref:
            assert torch.is_tensor(mine[key]) and mine[key].dtype == ref[key].dtype, key
            assert torch.allclose(mine[key], ref[key], **TOL), key


# ---------------------------------------------------------------- trajectories
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_trajectory_and_state_match_torch(device, name, options):
    """120 steps on Rosenbrock, a rotated ill-conditioned quadratic and an MLP on digits: same w, same state."""
    for prob in PROBLEMS:
        opts = {"lr": LR[name][prob], **options}
        mine, ours = run(getattr(optim, name), prob, opts, device)
        ref, theirs = run(getattr(torch.optim, name), prob, {**opts, "foreach": False}, device)
        start, _ = problem(prob, device)
        assert any((a - b).abs().max() > 1e-3 for a, b in zip(ref, start)), "the test must move the parameters"
        for a, b in zip(mine, ref):
            assert torch.isfinite(b).all() and a.device == b.device
            assert torch.allclose(a, b, **TOL), (prob, (a - b).abs().max().item())
        assert_same_state(ours, theirs)


@pytest.mark.parametrize("name", OPTIONS)
def test_defaults_and_param_groups_mirror_torch(name):
    ours = getattr(optim, name)([torch.zeros(2, requires_grad=True)], lr=0.1)
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], lr=0.1)
    assert ours.defaults == theirs.defaults
    assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()


@pytest.mark.parametrize("name", OPTIONS)
def test_closure_and_state_dict_swap_with_torch(name):
    """step(closure) returns the loss; torch's state_dict loads into ours midway and the paths stay equal."""
    opts = {"lr": LR[name]["digits"]}
    _, ours = run(getattr(optim, name), "digits", opts, "cpu", steps=3, with_closure=True)
    params, theirs = run(getattr(torch.optim, name), "digits", opts, "cpu", steps=3)
    resumed = getattr(optim, name)(params, **opts)
    resumed.load_state_dict(copy.deepcopy(theirs.state_dict()))  # its own tensors, not torch's
    _, loss_fn = problem("digits", "cpu")
    for t in range(3, 6):
        for optimizer in (theirs, resumed):
            optimizer.zero_grad()
            loss_fn(params, t).backward()
        before = [p.clone() for p in params]
        theirs.step()
        after_torch = [p.clone() for p in params]
        for p, b in zip(params, before):
            p.data.copy_(b)
        loss = resumed.step(lambda: torch.tensor(1.5))
        assert loss == 1.5
        for p, a in zip(params, after_torch):
            assert torch.allclose(p, a, **TOL)
            p.data.copy_(a)


@pytest.mark.parametrize("name,options,match", [
    ("SGD", {"nesterov": True}, "Nesterov"),
    ("SGD", {"lr": -1.0}, "lr must be >= 0"),
    ("Adam", {"betas": (0.9, 1.0)}, "betas"),
    ("Adam", {"fused": True}, "fused=True is not implemented"),
    ("AdamW", {"foreach": True}, "foreach=True is not implemented"),
    ("RMSprop", {"capturable": True}, "capturable=True"),
    ("Adagrad", {"eps": -1.0}, "eps must be >= 0"),
])
def test_bad_options_say_what_to_do(name, options, match):
    with pytest.raises(ValueError, match=match):
        getattr(optim, name)([torch.zeros(2, requires_grad=True)], **options)


def test_conventions_of_the_library():
    """The surprises the modules note: first buffer = g; eps outside the root; AdamW decays w directly."""
    w = torch.tensor([1.0], dtype=F64, requires_grad=True)
    sgd = optim.SGD([w], lr=1.0, momentum=0.9, dampening=0.5)
    w.grad = torch.tensor([2.0], dtype=F64)
    sgd.step()
    assert sgd.state[w]["momentum_buffer"].item() == 2.0 and w.item() == -1.0  # b_1 = g, not (1 - tau) g
    w = torch.tensor([0.0], dtype=F64, requires_grad=True)
    rms = optim.RMSprop([w], lr=1.0, alpha=0.0, eps=1.0)
    w.grad = torch.tensor([4.0], dtype=F64)
    rms.step()
    assert w.item() == -4.0 / (4.0 + 1.0)  # g / (sqrt(g^2) + eps), not g / sqrt(g^2 + eps)
    w = torch.tensor([2.0], dtype=F64, requires_grad=True)
    adamw = optim.AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = torch.tensor([0.0], dtype=F64)
    adamw.step()
    assert w.item() == pytest.approx(2.0 * (1 - 0.1 * 0.5))  # decoupled: w (1 - eta lambda), g untouched


def test_usable_with_fit():
    split = data.digits()
    train, val, _ = data.loaders(split, batch_size=128)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.Tanh(), nn.Linear(32, 10))
    history = fit(model, train, nn.functional.cross_entropy, optim.Adam(model.parameters(), lr=1e-2), epochs=3,
                  val_loader=val, device="cpu", progress=False)
    assert history.train_loss[-1] < history.train_loss[0] and history.val_loss[-1] < 1.0


# ---------------------------------------------------------------- clipping
def grads_pair(seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    ours = [torch.zeros(s, dtype=F64, requires_grad=True) for s in shapes]
    theirs = [torch.zeros(s, dtype=F64, requires_grad=True) for s in shapes]
    for a, b in zip(ours, theirs):
        a.grad = scale * torch.randn(a.shape, generator=g, dtype=F64)
        b.grad = a.grad.clone()
    ours.append(torch.zeros(2, requires_grad=True))  # no gradient: skipped by both
    theirs.append(torch.zeros(2, requires_grad=True))
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, "inf", math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [1.0, 1e3])  # clipping, and a norm already below the cap
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = grads_pair()
    total = optim.clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type, foreach=False)
    assert torch.is_tensor(total) and torch.allclose(total, expected, **TOL)  # the norm before clipping
    for a, b in zip(ours, theirs):
        assert (a.grad is None and b.grad is None) or torch.allclose(a.grad, b.grad, **TOL)


def test_clip_grad_norm_edge_cases():
    p = torch.zeros(3, requires_grad=True)
    assert optim.clip_grad_norm_(p, 1.0).item() == 0.0  # no gradients at all
    p.grad = torch.tensor([3.0, 4.0, 0.0])
    assert optim.clip_grad_norm_(p, 1.0).item() == 5.0  # a single tensor, not a list
    assert torch.allclose(p.grad.norm(), torch.tensor(1.0), atol=1e-5)
    p.grad = torch.tensor([1.0, math.nan, 0.0])
    with pytest.raises(RuntimeError, match="error_if_nonfinite=False"):
        optim.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert optim.clip_grad_norm_([p], 1.0).isnan()  # and, like torch's, no error by default


def test_clip_grad_value_matches_torch():
    ours, theirs = grads_pair()
    optim.clip_grad_value_(ours, 2.0)
    torch.nn.utils.clip_grad_value_(theirs, 2.0, foreach=False)
    for a, b in zip(ours[:-1], theirs[:-1]):
        assert torch.equal(a.grad, b.grad) and a.grad.abs().max() <= 2.0


# ---------------------------------------------------------------- schedules
SCHEDULES = [
    ("LinearLR", {"start_factor": 1.0, "end_factor": 0.0, "total_iters": 50}),  # linear decay to 0
    ("LinearLR", {"start_factor": 0.1, "total_iters": 30}),  # linear warm-up
    ("LinearLR", {}),
    ("StepLR", {"step_size": 7, "gamma": 0.5}),
    ("CosineAnnealingLR", {"T_max": 40, "eta_min": 1e-4}),
    ("LambdaLR", {"lr_lambda": lambda t: 1 / (1 + t) ** 0.5}),
]


@pytest.mark.parametrize("name,options", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
@pytest.mark.parametrize("optimizer_of", [optim, torch.optim], ids=["ours", "torch"])
def test_schedules_match_torch(name, options, optimizer_of):
    """Both schedulers drive their own optimizer (two param groups) for 100 steps: the same learning rates."""
    def make():
        a, b = torch.zeros(2, requires_grad=True), torch.zeros(3, requires_grad=True)
        return optimizer_of.SGD([{"params": [a]}, {"params": [b], "lr": 0.03}], lr=0.1, momentum=0.9)

    ours_opt, torch_opt = make(), make()
    ours = getattr(optim, name)(ours_opt, **options)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **options)
    for _ in range(100):
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-10, abs=1e-14)
        assert [g["lr"] for g in ours_opt.param_groups] == pytest.approx(ours.get_last_lr(), rel=1e-15)
        ours_opt.step()
        torch_opt.step()
        ours.step()
        theirs.step()
    assert ours.last_epoch == theirs.last_epoch == 100


def test_schedule_resumes_from_state_dict():
    sgd = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    first = optim.StepLR(sgd, step_size=3)
    for _ in range(5):
        first.step()
    again = optim.StepLR(sgd, step_size=3)
    again.load_state_dict(first.state_dict())
    again.step()
    assert again.last_epoch == 6 and again.get_last_lr() == pytest.approx([0.01])


# ---------------------------------------------------------------- Hessian and Newton
def random_function(seed, device):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(5, 5, generator=g, dtype=F64).to(device)
    c = torch.randn(5, generator=g, dtype=F64).to(device)
    return lambda x: torch.sin(a @ x).sum() + (x**2 * c).sum() * torch.exp(-x.sum() / 5) + x.prod()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", range(4))
def test_hessian_matches_torch_func(device, seed):
    f = random_function(seed, device)
    x = torch.randn(5, generator=torch.Generator().manual_seed(100 + seed), dtype=F64).to(device)
    assert torch.allclose(optim.hessian(f, x), torch.func.hessian(f)(x), **TOL)
    assert torch.allclose(optim.gradient(f, x), torch.func.grad(f)(x), **TOL)


def test_hessian_shapes_and_linear_functions():
    x = torch.randn(2, 3, dtype=F64)
    f = lambda x: (x**3).sum() + x[0, 0] * x[1, 2]  # noqa: E731
    assert optim.hessian(f, x).shape == (2, 3, 2, 3)
    assert torch.allclose(optim.hessian(f, x), torch.func.hessian(f)(x), **TOL)
    assert torch.equal(optim.hessian(lambda x: 3 * x.sum(), x), torch.zeros(2, 3, 2, 3, dtype=F64))  # H = 0
    with pytest.raises(ValueError, match="scalar"):
        optim.hessian(lambda x: x * 2, x)


@pytest.mark.parametrize("device", DEVICES)
def test_one_newton_step_is_exact_on_a_quadratic(device):
    g = torch.Generator().manual_seed(0)
    m = torch.randn(6, 6, generator=g, dtype=F64)
    a, b = (m @ m.T + 0.5 * torch.eye(6, dtype=F64)).to(device), torch.randn(6, generator=g, dtype=F64).to(device)
    f = lambda x: 0.5 * x @ a @ x - b @ x + 7.0  # noqa: E731
    x0 = 10 * torch.randn(6, generator=g, dtype=F64).to(device)
    x1 = optim.newton_step(f, x0)
    assert torch.allclose(x1, torch.linalg.solve(a, b), rtol=1e-10, atol=1e-10)  # the minimiser A^-1 b
    assert torch.allclose(optim.hessian(f, x0), a, **TOL)
    damped = optim.newton(f, x0, steps=30, damping=1.0)  # damped: no longer exact, but converging
    assert (f(damped[-1]) - f(x1)) < 1e-6 * (f(x0) - f(x1)) and damped.shape == (31, 6)


def test_newton_on_rosenbrock_and_a_singular_hessian():
    f = lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2  # noqa: E731
    path = optim.newton(f, torch.tensor([-1.2, 1.0], dtype=F64), steps=8)
    assert torch.allclose(path[-1], torch.ones(2, dtype=F64), atol=1e-10)  # GD needs thousands of steps
    with pytest.raises(ValueError, match="damping"):
        optim.newton_step(lambda x: x[0] ** 2, torch.ones(2, dtype=F64))
