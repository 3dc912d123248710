"""Chapter 4 exercises: optimization (step sizes, momentum, Adam, Newton's method, clipping, initialisation,
batch normalization)."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.common import F64, SGD_FORBIDDEN, close_by_dtype, gen, variance, whole_number
from helpers.exercises.compare import choice, close
from helpers.exercises.forbid import NUMPY_ESCAPE
from helpers.exercises.spec import Case, Exercise


# ---------------------------------------------------------------- the largest stable learning rate
def _rotated(eigenvalues: list[float], seed: int, dtype=F64) -> torch.Tensor:
    """Q diag(eigenvalues) Q^T with a random orthogonal Q: a symmetric matrix with these eigenvalues."""
    q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues), generator=gen(seed), dtype=F64))
    h = q @ torch.diag(torch.tensor(eigenvalues, dtype=F64)) @ q.T
    return ((h + h.T) / 2).to(dtype)


def _gd_stability_cases() -> list[Case]:
    g = gen(41)
    a = torch.randn(3, 3, generator=g, dtype=F64)
    return [
        Case("H = diag(1, 100)", (torch.diag(torch.tensor([1.0, 100.0], dtype=F64)),),
             {0: "Along each eigenvector GD multiplies the error by (1 - lr lambda): it shrinks while "
                 "|1 - lr lambda| < 1, i.e. lr < 2 / lambda, for every lambda at once.",
              1: "The condition number is largest curvature over smallest, lambda_max / lambda_min."}),
        Case("diag(1, 100) rotated by 45 degrees: H = [[50.5, -49.5], [-49.5, 50.5]]",
             (torch.tensor([[50.5, -49.5], [-49.5, 50.5]], dtype=F64),),
             "Rotating the axes changes the entries of H but not its eigenvalues (still 1 and 100), and "
             "gradient descent does not care how the axes are drawn."),
        Case("a random 3 x 3 symmetric positive-definite H = A A^T + 0.5 I",
             (a @ a.T + 0.5 * torch.eye(3, dtype=F64),)),
        Case("a 4 x 4 symmetric positive-definite H with eigenvalues 2, 3, 5, 8, float32",
             (_rotated([2.0, 3.0, 5.0, 8.0], 42, torch.float32),),
             "Any symmetric positive-definite matrix, in any dtype: return Python floats."),
        Case("a 5 x 5 H with eigenvalues from 1 to 1000, rotated", (_rotated([1.0, 4.0, 30.0, 200.0, 1000.0], 43),),
             hidden=True),
        Case("a 1 x 1 Hessian [[4]]", (torch.tensor([[4.0]], dtype=F64),), hidden=True),
    ]


def _gd_stability(H: torch.Tensor) -> tuple[float, float]:
    eigenvalues = torch.linalg.eigvalsh(H.double())  # ascending; float64 gives the exact answer for this H
    low, high = eigenvalues[0].item(), eigenvalues[-1].item()
    return 2.0 / high, high / low


def _eigen_extremes(H: torch.Tensor) -> tuple[float, float]:
    eigenvalues = torch.linalg.eigvalsh(H)
    return eigenvalues[0].item(), eigenvalues[-1].item()


def _from_diagonal(H: torch.Tensor) -> tuple[float, float]:
    diagonal = H.diagonal()
    return 2.0 / diagonal.max().item(), (diagonal.max() / diagonal.min()).item()


def _from_entries(H: torch.Tensor) -> tuple[float, float]:
    entries = H.abs()
    return 2.0 / entries.max().item(), (entries.max() / entries.min()).item()  # an off-diagonal 0 gives inf


GD_STABILITY = Exercise(
    id="04.gd_stability",
    title="The largest stable learning rate and the condition number",
    kind="derive",
    points=2,
    prompt=(
        "Gradient descent x <- x - lr H x on f(x) = 1/2 x^T H x, for a symmetric positive-definite Hessian H "
        "(n, n). gd_stability(H) returns (the learning rate at the boundary of convergence: GD converges for "
        "every lr below it and not at it, the condition number kappa = lambda_max / lambda_min) as two floats."
    ),
    reference=_gd_stability,
    cases=_gd_stability_cases,
    compare=close(rtol=1e-6, atol=0.0),
    items=("max stable lr", "condition number"),
    forbidden=("torch.linalg.cond", "numpy.linalg.cond", *NUMPY_ESCAPE),
    instead="torch.linalg.eigvalsh(H) gives the eigenvalues of a symmetric matrix, in ascending order.",
    hints=[
        "Write x in the eigenvectors of H: each component is multiplied by (1 - lr lambda_i) per step.",
        "A component shrinks while |1 - lr lambda_i| < 1, i.e. 0 < lr < 2 / lambda_i. All of them must shrink, "
        "so the strictest one, the largest eigenvalue, sets the limit.",
        "eigenvalues = torch.linalg.eigvalsh(H) (ascending): return 2 / eigenvalues[-1] and "
        "eigenvalues[-1] / eigenvalues[0], as floats (.item()).",
    ],
    wrong={
        "1 / lambda_max is the rate that removes the steepest direction in one step, not the limit: that "
        "component is multiplied by (1 - lr lambda_max) each step, which stays inside (-1, 1) up to "
        "lr = 2 / lambda_max.": (
            lambda H: (1.0 / _eigen_extremes(H)[1], _gd_stability(H)[1])
        ),
        "The limit comes from the LARGEST eigenvalue: the steepest direction is the first to overshoot, and "
        "once |1 - lr lambda_max| > 1 it diverges whatever the others do. Use 2 / lambda_max.": (
            lambda H: (2.0 / _eigen_extremes(H)[0], _gd_stability(H)[1])
        ),
        "The diagonal entries of H are the curvatures along the coordinate axes; they are its eigenvalues only "
        "when H is diagonal. Rotate diag(1, 100) by 45 degrees and the diagonal becomes (50.5, 50.5) while the "
        "eigenvalues stay 1 and 100: use torch.linalg.eigvalsh(H).": _from_diagonal,
        "The condition number is upside down: kappa = lambda_max / lambda_min >= 1.": (
            lambda H: (_gd_stability(H)[0], 1.0 / _gd_stability(H)[1])
        ),
        "The entries of H are not its curvatures (an off-diagonal 0 is no curvature at all): the curvatures "
        "along the principal axes are the eigenvalues. Use torch.linalg.eigvalsh(H) for both numbers.": (
            _from_entries
        ),
    },
)


# ---------------------------------------------------------------- optimizer steps per epoch
def _iterations_cases() -> list[Case]:
    return [
        Case("1797 samples, batches of 32", (1797, 32, False),
             "1797 = 56 * 32 + 5: the last 5 samples still make a (smaller) batch."),
        Case("1797 samples, batches of 32, drop_last=True", (1797, 32, True),
             "drop_last=True throws the incomplete last batch away."),
        Case("100 samples, batches of 10", (100, 10, False), "When b divides n there is no partial batch."),
        Case("5 samples, batches of 10", (5, 10, False), "Fewer samples than a batch still make one batch."),
        Case("5 samples, batches of 10, drop_last=True", (5, 10, True),
             "With drop_last=True a batch that cannot be filled is dropped, even the only one."),
        Case("full batch: 1797 samples, batches of 1797", (1797, 1797, False),
             "Full-batch gradient descent takes one step per epoch."),
        Case("60000 samples, batches of 128", (60000, 128, False), hidden=True),
        Case("60000 samples, batches of 128, drop_last=True", (60000, 128, True), hidden=True),
        Case("12 samples, batches of 4, drop_last=True", (12, 4, True), hidden=True),
        Case("10 samples, batches of 3", (10, 3, False), hidden=True),
    ]


def _iterations(n_samples: int, batch_size: int, drop_last: bool = False) -> int:
    return n_samples // batch_size if drop_last else -(-n_samples // batch_size)


ITERATIONS = Exercise(
    id="04.iterations_per_epoch",
    title="Optimizer steps per epoch",
    kind="implement",
    points=2,
    prompt=(
        "iterations_per_epoch(n_samples, batch_size, drop_last=False) returns the number of optimizer steps in "
        "one epoch of minibatch SGD, as an int: the number of batches a DataLoader makes of n_samples samples."
    ),
    reference=_iterations,
    cases=_iterations_cases,
    compare=whole_number("a number of steps", "// and math.ceil give one"),
    forbidden=("torch.utils.data.DataLoader", "torch.utils.data.BatchSampler"),
    instead="Count with integer arithmetic: // and % (or math.ceil).",
    hints=[
        "Every batch holds batch_size samples except possibly the last, which holds what is left over "
        "(n_samples % batch_size).",
        "drop_last=False keeps the incomplete last batch: ceil(n / b) batches. drop_last=True drops it: n // b.",
        "Return an int: n // b and math.ceil(n / b) are ints, n / b is a float. (n + b - 1) // b is ceil(n / b) "
        "without floats.",
    ],
    wrong={
        "n // b rounds down and so drops the last, smaller batch; a DataLoader keeps it unless drop_last=True: "
        "use ceil(n / b) when drop_last is False.": lambda n, b, drop_last=False: n // b,
        "n / b is a fraction of a batch; the number of steps is a whole number: round up (math.ceil) when the "
        "last batch is kept, down (//) when it is dropped.": lambda n, b, drop_last=False: n / b,
        "drop_last=True drops the incomplete last batch, so the count rounds down: n // b. Your answer rounds "
        "up either way.": lambda n, b, drop_last=False: math.ceil(n / b),
        "(n - 1) // b is one short whenever b divides n or the last batch is partial: ceil(n / b) is "
        "(n + b - 1) // b.": lambda n, b, drop_last=False: (n - 1) // b,
    },
)


# ---------------------------------------------------------------- one step of SGD with momentum
def _momentum_cases(seed: int, nesterov: bool = False) -> list[Case]:
    g = gen(seed)

    def vectors(*shape, dtype=F64, buffer=True):
        param, grad = torch.randn(*shape, generator=g, dtype=dtype), torch.randn(*shape, generator=g, dtype=dtype)
        return param, grad, torch.randn(*shape, generator=g, dtype=dtype) if buffer else None

    first = ("On the first step the buffer is g, so the step is plain SGD: param - lr * g." if not nesterov else
             "On the first step b = g, so the look-ahead direction is g + mu g.")
    cases = [
        Case("the first step: 5 values, buf=None, lr=0.05, momentum=0.9", (*vectors(5, buffer=False), 0.05, 0.9),
             {0: first, 1: "torch's first buffer is the gradient itself (b = g, no factor 1 - mu)."}),
        Case("a later step: 5 values with a buffer, lr=0.1, momentum=0.9", (*vectors(5), 0.1, 0.9),
             {0: "The step uses the buffer updated with this gradient." if not nesterov else
                 "Nesterov's step looks ahead: g + mu b with the NEW buffer b.",
              1: "The buffer is a decaying sum of gradients: b = mu b + g."}),
        Case("(3, 4) tensors, float32, lr=0.01, momentum=0.5", (*vectors(3, 4, dtype=torch.float32), 0.01, 0.5),
             "Any shape, in the input's dtype."),
    ]
    if not nesterov:
        cases.append(Case("momentum 0 (plain SGD): 4 values with a buffer, lr=0.5", (*vectors(4), 0.5, 0.0),
                          "With momentum 0 the buffer is just g and the step is plain SGD, w - lr g."))
    else:
        cases.append(Case("momentum 0.99, 4 values with a buffer, lr=0.05", (*vectors(4), 0.05, 0.99),
                          "A large momentum weighs the look-ahead term heavily."))
    cases += [
        Case("(2, 3, 4) tensors with a buffer, lr=0.03, momentum=0.95", (*vectors(2, 3, 4), 0.03, 0.95), hidden=True),
        Case("the first step of (6,) float32 values, lr=1.0, momentum=0.8",
             (*vectors(6, dtype=torch.float32, buffer=False), 1.0, 0.8), hidden=True),
    ]
    return cases


def _momentum_step(param, grad, buf, lr, momentum):
    new_buf = grad.clone() if buf is None else momentum * buf + grad  # b = g on the first step, then mu b + g
    return param - lr * new_buf, new_buf


def _nesterov_step(param, grad, buf, lr, momentum):
    new_buf = grad.clone() if buf is None else momentum * buf + grad
    return param - lr * (grad + momentum * new_buf), new_buf  # look ahead: g + mu b with the new buffer


def _momentum_ema(param, grad, buf, lr, momentum):
    new_buf = momentum * (torch.zeros_like(grad) if buf is None else buf) + (1 - momentum) * grad
    return param - lr * new_buf, new_buf


def _momentum_velocity(param, grad, buf, lr, momentum):
    velocity = momentum * (torch.zeros_like(grad) if buf is None else buf) - lr * grad  # v = mu v - lr g
    return param + velocity, velocity


def _momentum_lr_inside(param, grad, buf, lr, momentum):
    velocity = momentum * (torch.zeros_like(grad) if buf is None else buf) + lr * grad  # b = mu b + lr g
    return param - velocity, velocity


def _momentum_old_buffer(param, grad, buf, lr, momentum):
    new_buf = grad.clone() if buf is None else momentum * buf + grad
    return param - lr * (grad if buf is None else buf), new_buf


MOMENTUM = Exercise(
    id="04.momentum_step",
    title="One step of SGD with momentum, torch's way",
    kind="implement",
    points=2,
    prompt=(
        "momentum_step(param, grad, buf, lr, momentum) returns (new_param, new_buf) for one step of "
        "torch.optim.SGD(momentum=momentum) (dampening 0, no Nesterov): new_buf = grad if buf is None else "
        "momentum * buf + grad; new_param = param - lr * new_buf. Return new tensors; do not modify the inputs."
    ),
    reference=_momentum_step,
    cases=lambda: _momentum_cases(44),
    compare=close_by_dtype(float64=(1e-7, 1e-12), float32=(1e-5, 1e-6)),
    items=("param", "momentum buffer"),
    forbidden=SGD_FORBIDDEN,
    instead="Two lines of tensor arithmetic: the buffer first, then the parameter.",
    hints=[
        "First the buffer: on the first step (buf is None) it is the gradient itself; afterwards "
        "momentum * buf + grad.",
        "Then the parameter moves against the new buffer: param - lr * new_buf.",
        "Write new tensors (b = momentum * buf + grad), not in-place updates (buf.mul_(...)), which would change "
        "the caller's tensors. On the first step return grad.clone().",
    ],
    wrong={
        "That is the exponential moving average b = mu b + (1 - mu) g. torch.optim.SGD keeps the sum "
        "b = mu b + g (starting at b = g), so its steps are 1 / (1 - mu) times larger: drop the (1 - mu).": (
            _momentum_ema
        ),
        "That is the velocity form v = mu v - lr g, w = w + v, whose v has the learning rate inside. torch's "
        "buffer has none: b = mu b + g, then w = w - lr b.": _momentum_velocity,
        "The learning rate went into the buffer (b = mu b + lr g, w = w - b): that is the velocity form again. "
        "torch keeps the plain sum of gradients, b = mu b + g, and multiplies by lr only in the step, "
        "w = w - lr b.": _momentum_lr_inside,
        "The parameter moved with the old buffer: update the buffer first (b = mu b + g), then step with the "
        "new one, w - lr b.": _momentum_old_buffer,
        "The sign is wrong: the parameter moves against the buffer, param - lr * new_buf, to go downhill.": (
            lambda param, grad, buf, lr, momentum: (param + lr * _momentum_step(param, grad, buf, lr, momentum)[1],
                                                    _momentum_step(param, grad, buf, lr, momentum)[1])
        ),
    },
)


# ---------------------------------------------------------------- one step of Nesterov momentum
def _nesterov_old_buffer(param, grad, buf, lr, momentum):
    new_buf = grad.clone() if buf is None else momentum * buf + grad
    old = grad if buf is None else buf
    return param - lr * (grad + momentum * old), new_buf


NESTEROV = Exercise(
    id="04.nesterov_step",
    title="One step of Nesterov momentum, torch's way",
    kind="implement",
    points=2,
    prompt=(
        "nesterov_step(param, grad, buf, lr, momentum) returns (new_param, new_buf) for one step of "
        "torch.optim.SGD(momentum=momentum, nesterov=True): new_buf = grad if buf is None else momentum * buf + "
        "grad; new_param = param - lr * (grad + momentum * new_buf). Return new tensors; do not modify the inputs."
    ),
    reference=_nesterov_step,
    cases=lambda: _momentum_cases(45, nesterov=True),
    compare=close_by_dtype(float64=(1e-7, 1e-12), float32=(1e-5, 1e-6)),
    items=("param", "momentum buffer"),
    forbidden=SGD_FORBIDDEN,
    instead="Two lines of tensor arithmetic: the buffer first, then the parameter.",
    hints=[
        "The buffer is the same as for classical momentum: grad on the first step, then momentum * buf + grad.",
        "Nesterov steps along grad + momentum * new_buf: the gradient plus where the momentum is about to carry "
        "the parameter.",
        "new_param = param - lr * (grad + momentum * new_buf), with the buffer updated first.",
    ],
    wrong={
        "The look-ahead uses the UPDATED buffer: d = g + mu b_new with b_new = mu b + g. g + mu b_old is just "
        "classical momentum's step.": _nesterov_old_buffer,
        "That is classical momentum, param - lr * new_buf. Nesterov adds the gradient to the look-ahead: "
        "param - lr * (grad + momentum * new_buf).": _momentum_step,
        "The gradient term is missing: the step is lr * (grad + momentum * new_buf), not lr * momentum * new_buf.": (
            lambda param, grad, buf, lr, momentum: (
                param - lr * momentum * _nesterov_step(param, grad, buf, lr, momentum)[1],
                _nesterov_step(param, grad, buf, lr, momentum)[1])
        ),
    },
)


# ---------------------------------------------------------------- one step of Adam
def _adam_cases() -> list[Case]:
    g = gen(46)

    def randn(*shape, dtype=F64, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=dtype)

    def zeros(n):
        return torch.zeros(n, dtype=F64), torch.zeros(n, dtype=F64)

    return [
        Case("the first step (t = 1) from zero moments: 5 values, default lr, betas and eps",
             (randn(5), randn(5), *zeros(5), 1),
             {0: "Bias correction divides m by 1 - beta1 and v by 1 - beta2, so the first step is about "
                 "lr * sign(g), whatever the size of g.",
              1: "exp_avg = beta1 exp_avg + (1 - beta1) grad.",
              2: "exp_avg_sq = beta2 exp_avg_sq + (1 - beta2) grad^2."}),
        Case("tiny gradients (about 1e-9) at t = 1 from zero moments, lr = 0.1",
             (randn(4), randn(4, scale=1e-9), *zeros(4), 1, 0.1),
             {0: "Here sqrt(v_hat) = |g| ~ 1e-9 is smaller than eps = 1e-8, so where eps goes matters: torch adds "
                 "it after the bias correction, sqrt(v) / sqrt(1 - beta2^t) + eps."}),
        Case("a later step, t = 10, with given moments, (2, 3) float32, lr = 0.01",
             (randn(2, 3, dtype=torch.float32), randn(2, 3, dtype=torch.float32),
              randn(2, 3, dtype=torch.float32, scale=0.1), randn(2, 3, dtype=torch.float32).abs() * 0.5, 10, 0.01),
             "At t = 10 the corrections are 1 - 0.9^10 = 0.65 and 1 - 0.999^10 = 0.01: far from 1."),
        Case("t = 3 with given moments, betas = (0.8, 0.99), eps = 1e-6, lr = 0.05",
             (randn(6), randn(6), randn(6, scale=0.3), randn(6).abs() * 0.2, 3, 0.05, (0.8, 0.99), 1e-6),
             "beta1 averages the gradients, beta2 their squares."),
        Case("t = 1000, (4, 5) values with given moments, lr = 0.01",
             (randn(4, 5), randn(4, 5), randn(4, 5, scale=0.1), randn(4, 5).abs(), 1000, 0.01), hidden=True),
        Case("tiny gradients (about 1e-10) at t = 5 with tiny moments",
             (randn(3), randn(3, scale=1e-10), randn(3, scale=1e-10), randn(3, scale=1e-20).abs(), 5, 0.1),
             hidden=True),
    ]


def _adam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    beta1, beta2 = betas
    m = beta1 * exp_avg + (1 - beta1) * grad
    v = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    denominator = v.sqrt() / math.sqrt(1 - beta2**step) + eps  # sqrt(v_hat) + eps: eps after the correction
    return param - lr / (1 - beta1**step) * m / denominator, m, v


def _adam_with(correct_m: bool = True, correct_v: bool = True, eps_at: str = "after", swap: bool = False):
    """An Adam step with one of the known mistakes."""

    def answer(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        beta1, beta2 = reversed(betas) if swap else betas
        m = beta1 * exp_avg + (1 - beta1) * grad
        v = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
        m_hat = m / (1 - beta1**step) if correct_m else m
        c2 = (1 - beta2**step) if correct_v else 1.0
        if eps_at == "inside":
            denominator = (v / c2 + eps).sqrt()
        elif eps_at == "before":
            denominator = (v.sqrt() + eps) / math.sqrt(c2)
        else:
            denominator = (v / c2).sqrt() + eps
        return param - lr * m_hat / denominator, m, v

    return answer


ADAM = Exercise(
    id="04.adam_step",
    title="One step of Adam, torch's way",
    kind="implement",
    points=2,
    prompt=(
        "adam_step(param, grad, exp_avg, exp_avg_sq, step, lr=1e-3, betas=(0.9, 0.999), eps=1e-8) returns "
        "(new_param, new_exp_avg, new_exp_avg_sq) for update number step (1 for the first) of torch.optim.Adam: "
        "m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; new_param = param - lr / (1 - b1^t) * m / "
        "(sqrt(v) / sqrt(1 - b2^t) + eps). Return new tensors; do not modify the inputs."
    ),
    reference=_adam_step,
    cases=_adam_cases,
    compare=close_by_dtype(float64=(1e-7, 0.0), float32=(1e-5, 1e-8)),
    items=("param", "exp_avg", "exp_avg_sq"),
    forbidden=("torch.optim.Adam", "torch.optim.AdamW", "torch.optim.adam.adam", "torch.optim._functional.adam",
               "torch.optim.adamw.adamw", "helpers.optim.Adam", "helpers.optim.AdamW",
               "helpers.optim.adam.adam_update"),
    instead="Write the moment updates and the step with tensor arithmetic and .sqrt().",
    hints=[
        "Update both moments first: m = beta1 * exp_avg + (1 - beta1) * grad and "
        "v = beta2 * exp_avg_sq + (1 - beta2) * grad**2.",
        "Bias correction: m_hat = m / (1 - beta1**step) and v_hat = v / (1 - beta2**step); both averages started "
        "at 0 and are too small early on.",
        "torch adds eps after the correction: param - lr * m_hat / (v_hat.sqrt() + eps). With tiny gradients "
        "(sqrt(v_hat) near eps) any other placement gives a different step.",
    ],
    wrong={
        "The bias correction is missing: m and v start at 0, so divide by 1 - beta1^t and 1 - beta2^t "
        "(the first step is then about lr * sign(g)).": _adam_with(correct_m=False, correct_v=False),
        "eps is inside the square root, sqrt(v_hat + eps); torch adds it outside, after the bias correction: "
        "sqrt(v_hat) + eps. With tiny gradients the two differ a lot.": _adam_with(eps_at="inside"),
        "eps was added before the bias correction, (sqrt(v) + eps) / sqrt(1 - beta2^t), which scales eps up by "
        "1 / sqrt(1 - beta2^t) (about 30 at t = 1); torch adds it after: sqrt(v) / sqrt(1 - beta2^t) + eps.": (
            _adam_with(eps_at="before")
        ),
        "Only m was bias-corrected: v starts at 0 too, so divide it by 1 - beta2^t as well (inside the square "
        "root: sqrt(v) / sqrt(1 - beta2^t)).": _adam_with(correct_v=False),
        "The betas are swapped: betas = (beta1, beta2), beta1 (0.9) averages the gradients into exp_avg, "
        "beta2 (0.999) their squares into exp_avg_sq.": _adam_with(swap=True),
    },
)


# ---------------------------------------------------------------- weight decay in Adam and AdamW
WEIGHT_DECAY_OPTIONS = {
    "a": "They are the same update: both subtract lr * lam * w from the weights at every step.",
    "b": "Adam adds lam * w to the gradient before the moment estimates, so the decay is divided by sqrt(v_hat) "
    "and weights with large gradients are barely decayed; AdamW multiplies w by (1 - lr * lam) separately, the "
    "same relative shrink for every weight.",
    "c": "AdamW adds lam * w to the gradient before the moment estimates, so its decay is divided by sqrt(v_hat); "
    "Adam multiplies w by (1 - lr * lam) separately, the same relative shrink for every weight.",
    "d": "In both, weight_decay=lam adds the gradient of lam * ||w||^2, i.e. 2 * lam * w, to the gradient.",
}

ADAM_WEIGHT_DECAY = Exercise(
    id="04.adam_weight_decay",
    title="Weight decay in Adam and in AdamW",
    kind="choice",
    points=1,
    prompt=(
        "How does torch.optim.Adam(params, weight_decay=lam) differ from torch.optim.AdamW(params, "
        "weight_decay=lam)? Return the letter."
    ),
    reference=lambda: "b",
    cases=lambda: [Case("Adam(weight_decay=lam) against AdamW(weight_decay=lam)", (),
                        "Where the decay enters decides whether Adam's per-weight scaling applies to it.")],
    compare=choice(WEIGHT_DECAY_OPTIONS),
    options=WEIGHT_DECAY_OPTIONS,
    hints=[
        "Adam divides whatever enters the gradient by sqrt(v_hat), weight by weight.",
        "Adam's weight_decay adds lam * w to g (coupled L2); AdamW's shrinks w directly (decoupled), outside the "
        "adaptive scaling.",
        "So in Adam the decay lam * w is divided by sqrt(v_hat) like the rest of the gradient: a weight with large "
        "gradients is barely decayed. AdamW's w <- (1 - lr lam) w treats every weight alike.",
    ],
    wrong={
        "They differ: with Adam the decay term lam * w passes through the adaptive scaling m_hat / sqrt(v_hat); "
        "with AdamW it does not. For plain SGD the two would coincide, for Adam they do not.": lambda: "a",
        "That is the other way round: Adam (coupled) adds lam * w to the gradient, AdamW (decoupled, the 'W') "
        "shrinks w by (1 - lr * lam) outside the moments.": lambda: "c",
        "torch's weight_decay=lam adds lam * w (the gradient of (lam / 2) ||w||^2), not 2 lam w; and in AdamW it "
        "is not added to the gradient at all.": lambda: "d",
    },
)


# ---------------------------------------------------------------- one Newton step
_A2 = torch.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=F64)
_B2 = torch.tensor([1.0, -1.0], dtype=F64)
_A3 = _rotated([1.0, 30.0, 1000.0], 47)
_B3 = torch.tensor([1.0, 2.0, 3.0], dtype=F64)


def _quadratic_2d(x: torch.Tensor) -> torch.Tensor:
    """1/2 x^T A x - b^T x with A = [[3, 1], [1, 2]], b = (1, -1): minimum at A^-1 b = (0.6, -0.8)."""
    return 0.5 * x @ _A2 @ x - _B2 @ x


def _ill_conditioned_3d(x: torch.Tensor) -> torch.Tensor:
    """1/2 x^T A x - b^T x, A with eigenvalues 1, 30, 1000 along rotated axes."""
    return 0.5 * x @ _A3 @ x - _B3 @ x


def _rosenbrock(x: torch.Tensor) -> torch.Tensor:
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _logsumexp_ridge(x: torch.Tensor) -> torch.Tensor:
    return torch.logsumexp(x, 0) + 0.5 * (x * x).sum()


def _quartic_bowl(x: torch.Tensor) -> torch.Tensor:
    return (x**4).sum() / 4 + (x[0] - x[1]) ** 2


def _newton_cases() -> list[Case]:
    g = gen(48)
    return [
        Case("f(x) = 1/2 x^T A x - b^T x, A = [[3, 1], [1, 2]], b = (1, -1), from x = (2, 2)",
             (_quadratic_2d, torch.tensor([2.0, 2.0], dtype=F64)),
             "On a quadratic the second-order model is exact: one Newton step lands on the minimum A^-1 b."),
        Case("a quadratic in 3-D with curvatures 1, 30 and 1000 along rotated axes, from x = (1, -1, 2)",
             (_ill_conditioned_3d, torch.tensor([1.0, -1.0, 2.0], dtype=F64)),
             "Newton divides each direction by its own curvature, which takes the whole Hessian when the axes "
             "are rotated; gradient descent would crawl along the flat direction."),
        Case("the Rosenbrock function (1 - x0)^2 + 100 (x1 - x0^2)^2 at (-1.2, 1.0)",
             (_rosenbrock, torch.tensor([-1.2, 1.0], dtype=F64)),
             "Not a quadratic: the step goes to the minimum of the local quadratic model, not of f."),
        Case("f(x) = logsumexp(x) + ||x||^2 / 2 at a random point in 4-D",
             (_logsumexp_ridge, torch.randn(4, generator=g, dtype=F64)),
             "The gradient and the Hessian both come from autograd: f is any differentiable scalar function."),
        Case("f(x) = sum(x^4) / 4 + (x0 - x1)^2 at (1, -2, 0.5)",
             (_quartic_bowl, torch.tensor([1.0, -2.0, 0.5], dtype=F64)), hidden=True),
        Case("f(x) = logsumexp(x) + ||x||^2 / 2 at a random point in 6-D",
             (_logsumexp_ridge, 2 * torch.randn(6, generator=g, dtype=F64)), hidden=True),
    ]


def _gradient_and_hessian(f, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """grad f(x) and the Hessian, by autograd twice (what a student writes; no forbidden helper)."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(f(x), x, create_graph=True)
        rows = [torch.autograd.grad(grad[i], x, retain_graph=True)[0] for i in range(x.numel())]
    return grad.detach(), torch.stack(rows).detach()


def _newton_step(f, x: torch.Tensor) -> torch.Tensor:
    grad, hessian = _gradient_and_hessian(f, x)
    return x.detach() - torch.linalg.solve(hessian, grad)  # solve H d = g rather than invert H


def _newton_row_sums(f, x):
    """The Hessian taken as grad(g, x, grad_outputs=ones): that is H @ 1, the row sums, not H."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(f(x), x, create_graph=True)
        (row_sums,) = torch.autograd.grad(grad, x, grad_outputs=torch.ones_like(grad))
    return (x - grad / row_sums).detach()


def _newton_with(step):
    """x + step(g, H), with g and H from autograd."""

    def answer(f, x):
        grad, hessian = _gradient_and_hessian(f, x)
        return x.detach() + step(grad, hessian)

    return answer


NEWTON = Exercise(
    id="04.newton_step",
    title="One step of Newton's method",
    kind="implement",
    points=2,
    prompt=(
        "newton_step(f, x) returns x - H^-1 grad f(x), one pure Newton step for a scalar function f of a 1-D "
        "float64 tensor x, with the gradient and the Hessian H from torch.autograd.grad (the second time "
        "differentiating the gradient, create_graph=True). Returns a tensor shaped like x."
    ),
    reference=_newton_step,
    cases=_newton_cases,
    compare=close(rtol=1e-7, atol=1e-9),
    forbidden=("torch.func.hessian", "torch.func.jacrev", "torch.func.jacfwd", "torch.autograd.functional.hessian",
               "torch.autograd.functional.jacobian", "helpers.optim.newton_step", "helpers.optim.newton",
               "helpers.optim.hessian", "helpers.optim.newton.newton_step", "helpers.optim.newton.newton",
               "helpers.optim.newton.hessian"),
    instead="torch.autograd.grad(f(x), x, create_graph=True) gives a gradient you can differentiate again, row by "
    "row; torch.linalg.solve(H, g) gives H^-1 g.",
    hints=[
        "Make x a leaf that records: x = x.detach().requires_grad_(True). Then "
        "g, = torch.autograd.grad(f(x), x, create_graph=True) keeps the graph of g.",
        "Row i of H is the gradient of g[i]: torch.autograd.grad(g[i], x, retain_graph=True)[0]; stack the rows.",
        "Solve rather than invert: step = torch.linalg.solve(H, g); return (x - step).detach().",
    ],
    wrong={
        "That is a gradient step x - g: Newton's method divides by the curvature, x - H^-1 g.": (
            _newton_with(lambda g, h: -g)
        ),
        "The Hessian multiplies the gradient instead of dividing it: solve H d = g (torch.linalg.solve(H, g)) "
        "and step x - d.": _newton_with(lambda g, h: -(h @ g)),
        "The step goes uphill: Newton's step is x - H^-1 g (the minimum of the quadratic model lies against "
        "the gradient).": _newton_with(lambda g, h: torch.linalg.solve(h, g)),
        "torch.autograd.grad(g, x, grad_outputs=ones) differentiates the SUM of the g_i: it gives H @ 1, the "
        "row sums of the Hessian, not H. Differentiate each g[i] separately (row i of H), stack the rows, "
        "and solve with the whole matrix.": _newton_row_sums,
        "Dividing by the diagonal of H only works when H is diagonal; here the curvature couples the "
        "coordinates: solve with the whole Hessian, torch.linalg.solve(H, g).": (
            _newton_with(lambda g, h: -g / h.diagonal())
        ),
    },
)


# ---------------------------------------------------------------- gradient clipping by total norm
def _clip_cases() -> list[Case]:
    g = gen(49)

    def randn(*shape, dtype=F64, scale=1.0):
        return scale * torch.randn(*shape, generator=g, dtype=dtype)

    return [
        Case("grads [3, 4] and [12] (total norm 13), max_norm = 5",
             ([torch.tensor([3.0, 4.0]), torch.tensor([12.0])], 5.0),
             {0: "The norm is over all gradients together, sqrt(3^2 + 4^2 + 12^2) = 13, and every gradient is scaled "
                 "by the same factor 5 / 13, so the direction of the update is kept.",
              1: "Return the total norm before clipping (13 here), as torch.nn.utils.clip_grad_norm_ does."}),
        Case("two float64 gradients with total norm below max_norm = 10", ([randn(3), randn(2, 2)], 10.0),
             "Clipping only ever scales down: a norm below max_norm leaves the gradients unchanged."),
        Case("three float32 gradients of shapes (4, 3), (3,) and (2, 2, 2) with a large norm, max_norm = 1",
             ([randn(4, 3, dtype=torch.float32, scale=10), randn(3, dtype=torch.float32, scale=10),
               randn(2, 2, 2, dtype=torch.float32, scale=10)], 1.0),
             {0: "Any number of gradients of any shapes: one factor for all of them."}),
        Case("a (5,) and a (2, 3) float64 gradient with a large norm, max_norm = 2.5",
             ([randn(5, scale=20), randn(2, 3, scale=20)], 2.5)),
        Case("a single (10,) float64 gradient, max_norm = 0.1", ([randn(10, scale=5)], 0.1), hidden=True),
        Case("four float32 gradients, one of them zero, max_norm = 3",
             ([randn(7, dtype=torch.float32, scale=4), torch.zeros(2, 2), randn(3, 1, dtype=torch.float32, scale=4),
               randn(1, dtype=torch.float32, scale=4)], 3.0), hidden=True),
    ]


def _clip_by_total_norm(grads: list[torch.Tensor], max_norm: float) -> tuple[list[torch.Tensor], float]:
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))  # ||all of g||_2
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)  # min(1, max_norm / (N + 1e-6)): never scales up
    return [g * scale for g in grads], total.item()


def _total_norm(grads) -> float:
    return math.sqrt(sum((g.double() ** 2).sum().item() for g in grads))


def _clip_each(grads, max_norm):
    return [g * min(1.0, max_norm / (_total_norm([g]) + 1e-6)) for g in grads], _total_norm(grads)


def _rescale_always(grads, max_norm):
    total = _total_norm(grads)
    return [g * (max_norm / total) for g in grads], total


def _norm_after(grads, max_norm):
    clipped, _ = _clip_by_total_norm(grads, max_norm)
    return clipped, _total_norm(clipped)


def _sum_of_norms(grads, max_norm):
    total = sum(_total_norm([g]) for g in grads)
    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total


CLIP = Exercise(
    id="04.clip_grad_norm",
    title="Clipping gradients by their total norm",
    kind="implement",
    points=2,
    prompt=(
        "clip_by_total_norm(grads, max_norm) returns (clipped, total) like torch.nn.utils.clip_grad_norm_, but "
        "with new tensors: total = the L2 norm of all the gradients together (as if concatenated), "
        "clipped = [g * min(1, max_norm / (total + 1e-6)) for g in grads], and total as a float (the norm "
        "before clipping)."
    ),
    reference=_clip_by_total_norm,
    cases=_clip_cases,
    compare=close_by_dtype(float64=(1e-7, 1e-12), float32=(1e-5, 1e-7)),
    items=("clipped gradients", "total norm"),
    forbidden=("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_norm", "torch.nn.utils.get_total_norm",
               "torch.nn.utils.clip_grads_with_norm_", "helpers.optim.clip_grad_norm_"),
    instead="Compute the norm with sums of squares (or torch.linalg.vector_norm per tensor) and scale with *.",
    hints=[
        "The total norm treats all the gradients as one long vector: sqrt of the sum over every tensor of "
        "(g ** 2).sum().",
        "One factor for every tensor: scale = min(1, max_norm / (total + 1e-6)). It is at most 1, so small "
        "gradients are left alone.",
        "Return ([g * scale for g in grads], float(total)): the norm before clipping.",
    ],
    wrong={
        "Each gradient was clipped on its own norm: clip_grad_norm_ computes ONE norm over all gradients "
        "together and scales them all by the same factor, which keeps the update's direction.": _clip_each,
        "Clipping never scales up: the factor is min(1, max_norm / total), so gradients whose total norm is "
        "below max_norm are returned unchanged.": _rescale_always,
        "That clips each coordinate to [-max_norm, max_norm] (clip_grad_value_), which changes the direction: "
        "clip by norm scales every gradient by the same factor max_norm / total.": (
            lambda grads, max_norm: ([g.clamp(-max_norm, max_norm) for g in grads], _total_norm(grads))
        ),
        "Return the total norm BEFORE clipping (what clip_grad_norm_ returns, to log how large the gradients "
        "were); after clipping it is just min(total, max_norm).": _norm_after,
        "The total norm is not the sum of the tensors' norms: it is the norm of all gradients as one vector, "
        "sqrt(sum of ||g_i||^2).": _sum_of_norms,
    },
)


# ---------------------------------------------------------------- the standard deviation of Xavier and He
def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    receptive_field = math.prod(shape[2:])  # 1 for a linear weight
    return shape[1] * receptive_field, shape[0] * receptive_field


def _init_std(shape: tuple[int, ...], scheme: str) -> float:
    fan_in, fan_out = _fans(shape)
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))  # Glorot normal, gain 1
    if scheme == "he":
        return math.sqrt(2.0 / fan_in)  # Kaiming normal, fan_in mode, ReLU gain sqrt(2)
    raise ValueError(f"scheme must be 'xavier' or 'he', got {scheme!r}")


def _init_std_cases() -> list[Case]:
    return [
        Case("a linear weight of shape (128, 256), He", ((128, 256), "he"),
             "A linear weight is (out, in): fan_in = 256 inputs feed every output."),
        Case("a linear weight of shape (128, 256), Xavier", ((128, 256), "xavier"),
             "Xavier averages the two fans: 2 / (fan_in + fan_out)."),
        Case("a conv weight of shape (16, 3, 5, 5), He", ((16, 3, 5, 5), "he"),
             "A conv filter sees in_channels * kh * kw = 3 * 5 * 5 = 75 inputs."),
        Case("a linear weight of shape (10, 64), Xavier", ((10, 64), "xavier")),
        Case("a conv weight of shape (16, 3, 5, 5), Xavier", ((16, 3, 5, 5), "xavier"),
             "Both fans count the kernel: fan_out = 16 * 25."),
        Case("a linear weight of shape (1000, 784), He", ((1000, 784), "he"), hidden=True),
        Case("a conv weight of shape (64, 32, 3, 3), Xavier", ((64, 32, 3, 3), "xavier"), hidden=True),
        Case("a 1-D conv weight of shape (8, 4, 7), He", ((8, 4, 7), "he"), hidden=True),
    ]


def _init_with(fans, he_numerator: float = 2.0, xavier=None, power: float = 0.5):
    """init_std with its fans from ``fans(shape)``, He's 2 replaced, or another Xavier formula."""

    def answer(shape, scheme):
        fan_in, fan_out = fans(tuple(shape))
        if scheme == "he":
            return (he_numerator / fan_in) ** power
        return (xavier(fan_in, fan_out) if xavier else 2.0 / (fan_in + fan_out)) ** power

    return answer


INIT_STD = Exercise(
    id="04.init_std",
    title="The standard deviation of Xavier and He initialisation",
    kind="implement",
    points=2,
    prompt=(
        "init_std(shape, scheme) returns the standard deviation of the normal initialisation of a weight of "
        "torch layout (out, in) or (out, in, *kernel), as a float: scheme 'xavier' is Glorot normal with gain 1, "
        "sqrt(2 / (fan_in + fan_out)); scheme 'he' is Kaiming normal for ReLU in fan_in mode, sqrt(2 / fan_in); "
        "fan_in = in * prod(kernel), fan_out = out * prod(kernel)."
    ),
    reference=_init_std,
    cases=_init_std_cases,
    compare=close(rtol=1e-6, atol=0.0, check_dtype=False),
    forbidden=("torch.nn.init.kaiming_normal_", "torch.nn.init.kaiming_uniform_", "torch.nn.init.xavier_normal_",
               "torch.nn.init.xavier_uniform_", "torch.nn.init.calculate_gain",
               "torch.nn.init._calculate_fan_in_and_fan_out", "torch.nn.init._calculate_correct_fan",
               "helpers.nn.init.kaiming_normal_", "helpers.nn.init.kaiming_uniform_", "helpers.nn.init.xavier_normal_",
               "helpers.nn.init.xavier_uniform_", "helpers.nn.init.calculate_gain",
               "helpers.nn.init.fan_in_and_fan_out"),
    instead="Compute the fans from the shape (math.prod for the kernel) and the formula with math.sqrt.",
    hints=[
        "torch stores a weight as (out, in, *kernel): fan_in = shape[1] * prod(shape[2:]) and "
        "fan_out = shape[0] * prod(shape[2:]) (math.prod(()) is 1 for a linear layer).",
        "He for ReLU: Var(w) = 2 / fan_in, because ReLU zeroes half of the signal. Xavier: "
        "Var(w) = 2 / (fan_in + fan_out).",
        "Return the standard deviation, the square root of the variance: math.sqrt(2 / fan_in).",
    ],
    wrong={
        "He's rule (fan_in mode) uses the number of INPUTS, fan_in = shape[1] * prod(kernel): torch's layout is "
        "(out, in, *kernel), so shape[0] counts the outputs (fan_out).": _init_with(lambda s: _fans(s)[::-1]),
        "The kernel counts: a conv unit sums over in_channels * kh * kw inputs, so fan_in = shape[1] * "
        "prod(shape[2:]) and fan_out = shape[0] * prod(shape[2:]).": _init_with(lambda s: (s[1], s[0])),
        "That is LeCun's 1 / sqrt(fan_in); He's rule for ReLU doubles the variance (ReLU zeroes half the signal): "
        "sqrt(2 / fan_in).": _init_with(_fans, he_numerator=1.0),
        "Xavier averages both fans: sqrt(2 / (fan_in + fan_out)), not sqrt(1 / fan_in).": (
            _init_with(_fans, xavier=lambda fan_in, fan_out: 1.0 / fan_in)
        ),
        "That is the variance: the standard deviation is its square root, e.g. sqrt(2 / fan_in) for He.": (
            _init_with(_fans, power=1.0)
        ),
    },
)


# ---------------------------------------------------------------- batch normalization, forward
def _batch_norm_cases() -> list[Case]:
    g = gen(50)

    def layer(n: int, c: int, dtype=F64, scale: float = 1.0):
        """x (N, C) with per-channel offsets, gamma, beta, running_mean, running_var."""
        x = scale * torch.randn(n, c, generator=g, dtype=dtype) + torch.randn(c, generator=g, dtype=dtype)
        gamma = 1 + 0.5 * torch.randn(c, generator=g, dtype=dtype)
        beta = torch.randn(c, generator=g, dtype=dtype)
        running_mean = 0.5 * torch.randn(c, generator=g, dtype=dtype)
        running_var = 0.5 + torch.rand(c, generator=g, dtype=dtype)
        return x, gamma, beta, running_mean, running_var

    small = layer(4, 3, scale=0.1)
    return [
        Case("training mode, a batch of N = 4 examples with C = 3 small-valued channels", (*small, True),
             {0: "Training normalises with the batch's own mean and BIASED variance (divided by N).",
              1: "running_mean <- (1 - momentum) running_mean + momentum * batch mean.",
              2: "torch averages the UNBIASED batch variance (divided by N - 1) into running_var."}),
        Case("the same batch in evaluation mode (training=False)", (*small, False),
             {0: "Evaluation normalises with the running statistics, so an example's output does not depend on the "
                 "rest of the batch.",
              1: "In evaluation mode the running statistics are returned unchanged.",
              2: "In evaluation mode the running statistics are returned unchanged."}),
        Case("training mode, a batch of N = 2 examples with C = 3 channels", (*layer(2, 3), True),
             "With N = 2 the unbiased variance is twice the biased one: which one goes where matters."),
        Case("training mode, a (16, 5) float32 batch, momentum = 0.3", (*layer(16, 5, torch.float32), True, 0.3),
             "Any batch size and number of channels, in the input's dtype."),
        Case("training mode, a (32, 8) batch, momentum = 0.01, eps = 1e-3", (*layer(32, 8, scale=0.05), True, 0.01,
                                                                             1e-3), hidden=True),
        Case("evaluation mode, a (6, 4) float32 batch", (*layer(6, 4, torch.float32), False), hidden=True),
    ]


def _batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
    if training:
        n = x.shape[0]
        mean, var = x.mean(0), variance(x, 0, dim=0)  # biased: divided by N
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)  # unbiased into the running average
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.clone(), running_var.clone()
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta, new_mean, new_var


def _batch_norm_with(normalise_correction: int = 0, running_correction: int = 1, new_weight=None,
                     batch_in_eval: bool = False, eps_outside: bool = False, affine: bool = True):
    """batch_norm_forward with one of the known mistakes."""

    def answer(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5):
        new_mean, new_var = running_mean.clone(), running_var.clone()
        if training or batch_in_eval:
            mean, var = x.mean(0), variance(x, normalise_correction, dim=0)
        else:
            mean, var = running_mean, running_var
        if training:
            weight = momentum if new_weight is None else new_weight(momentum)
            new_mean = (1 - weight) * running_mean + weight * x.mean(0)
            new_var = (1 - weight) * running_var + weight * variance(x, running_correction, dim=0)
        x_hat = (x - mean) / (var.sqrt() + eps if eps_outside else torch.sqrt(var + eps))
        return (gamma * x_hat + beta if affine else x_hat), new_mean, new_var

    return answer


BATCH_NORM = Exercise(
    id="04.batch_norm",
    title="Batch normalization: training and evaluation",
    kind="implement",
    points=2,
    prompt=(
        "batch_norm_forward(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5) returns "
        "(y, new_running_mean, new_running_var) for x (N, C), as F.batch_norm: training=True normalises with the "
        "batch mean and BIASED variance, y = gamma (x - mean) / sqrt(var + eps) + beta, and updates "
        "r <- (1 - momentum) r + momentum * stat with the UNBIASED variance; training=False normalises with the "
        "running statistics and returns them unchanged. Return new tensors; do not modify the inputs."
    ),
    reference=_batch_norm_forward,
    cases=_batch_norm_cases,
    compare=close_by_dtype(float64=(1e-7, 1e-10), float32=(1e-5, 1e-6)),
    items=("y", "running_mean", "running_var"),
    forbidden=("torch.nn.functional.batch_norm", "torch.batch_norm", "torch.native_batch_norm", "torch.nn.BatchNorm1d",
               "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d", "torch.nn.functional.layer_norm", "torch.layer_norm",
               "torch.nn.functional.instance_norm", "torch.instance_norm", "torch.nn.functional.group_norm",
               "torch.group_norm", "helpers.nn.normalization.batch_norm", "helpers.nn.normalization.BatchNorm1d",
               "helpers.nn.normalization.BatchNorm2d"),
    instead="Use x.mean(0) and x.var(0, correction=...) (or the sums yourself), torch.sqrt and broadcasting.",
    hints=[
        "Statistics per channel are over the batch dimension: mean = x.mean(0) and the biased variance "
        "x.var(0, correction=0), both of shape (C,).",
        "Normalise with them (training) or with running_mean, running_var (evaluation): "
        "gamma * (x - mean) / torch.sqrt(var + eps) + beta.",
        "The running update uses the UNBIASED variance, var * N / (N - 1): new = (1 - momentum) * old + "
        "momentum * stat. Build new tensors (no .mul_ on the inputs); in evaluation return running_mean.clone() "
        "and running_var.clone().",
    ],
    wrong={
        "The batch is normalised with the BIASED variance (divided by N), as F.batch_norm does; the unbiased one "
        "(N - 1) only goes into running_var.": _batch_norm_with(normalise_correction=1),
        "torch averages the UNBIASED batch variance (divided by N - 1) into running_var, although it normalises "
        "with the biased one.": _batch_norm_with(running_correction=0),
        "The momentum weights are swapped: in batch norm, momentum is the weight of the NEW statistic, "
        "r <- (1 - momentum) r + momentum * stat (the opposite of an optimizer's momentum).": (
            _batch_norm_with(new_weight=lambda momentum: 1 - momentum)
        ),
        "In evaluation mode (training=False) normalise with running_mean and running_var, not with the batch's "
        "statistics: then an example's output does not depend on the rest of the batch.": (
            _batch_norm_with(batch_in_eval=True)
        ),
        "eps belongs inside the square root: (x - mean) / sqrt(var + eps), not / (sqrt(var) + eps).": (
            _batch_norm_with(eps_outside=True)
        ),
        "gamma and beta were left out: y = gamma * x_hat + beta, the learned scale and shift per channel.": (
            _batch_norm_with(affine=False)
        ),
    },
)


EXERCISES = [
    GD_STABILITY,
    ITERATIONS,
    MOMENTUM,
    NESTEROV,
    ADAM,
    ADAM_WEIGHT_DECAY,
    NEWTON,
    CLIP,
    INIT_STD,
    BATCH_NORM,
]
