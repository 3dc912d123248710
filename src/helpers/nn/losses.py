"""Loss functions from maximum likelihood, written out in plain torch and numerically stable.

Each loss is the negative log-likelihood of an output distribution (Chapter 2):

    Gaussian  y ~ N(y_hat, sigma^2)       gaussian_nll(pred, target, sigma)   (mse up to scale and shift)
    Bernoulli y ~ Bernoulli(sigmoid(z))   binary_cross_entropy_with_logits(logits, target)
    Categorical y ~ Cat(softmax(z))       cross_entropy(logits, target)   (label_smoothing: smooth_targets)

The classification losses take *logits* z, never probabilities: log sigmoid(z) and log softmax(z) are
computed through ``logsumexp``, which subtracts the maximum before exponentiating, so logits of +-1000
give the right finite loss and gradient instead of inf or nan. Every function runs on the device of its
inputs and answers in their dtype; ``reduction`` is "mean" (default), "sum" or "none" as in
``torch.nn.functional``.
"""

from __future__ import annotations

import math

import torch

REDUCTIONS = ("mean", "sum", "none")
INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)  # class indices


def _check_float(x: torch.Tensor, name: str, where: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}. Wrap it: torch.tensor(...).")
    if not x.is_floating_point():
        raise TypeError(
            f"{where}: {name} must be a floating-point tensor, got {x.dtype}. Convert it, e.g. {name}.float()."
        )


def _check_same_shape(a: torch.Tensor, b: torch.Tensor, names: str, where: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{where}: {names} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}. "
            "Broadcasting would silently compare every prediction with every target; reshape one of them "
            "(e.g. pred.squeeze(-1) for a model that outputs (N, 1))."
        )


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}.")


# ---------------------------------------------------------------- log-sum-exp and softmax
def _shift_by_max(x: torch.Tensor, dim: int, where: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(x - m, m) with m = max of x along ``dim`` (kept), detached: a constant shift, invisible to autograd.

    An infinite maximum (a row of all -inf, or a +inf entry) is replaced by 0, so no inf - inf = nan appears.
    """
    if x.ndim == 0 or x.shape[dim] == 0:
        raise ValueError(f"{where} needs at least one value along dim={dim}, got shape {tuple(x.shape)}.")
    m = x.detach().amax(dim=dim, keepdim=True)
    m = torch.where(torch.isinf(m), torch.zeros_like(m), m)
    return x - m, m


def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """log sum_k exp(x_k) along ``dim``, without overflow. x: (..., K) -> (...) (or (..., 1) with keepdim).

    With m = max_k x_k:   log sum_k exp(x_k) = m + log sum_k exp(x_k - m).
    Every exp(x_k - m) is at most 1 and the largest is exactly 1, so the sum lies in [1, K]: it can neither
    overflow nor underflow to 0. The shift m is a constant (detached), so the gradient is exactly softmax(x).
    Rows that are all -inf give -inf, as torch.logsumexp does.
    """
    _check_float(x, "x", "logsumexp")
    shifted, m = _shift_by_max(x, dim, "logsumexp")
    out = shifted.exp().sum(dim=dim, keepdim=True).log() + m
    return out if keepdim else out.squeeze(dim)


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """log softmax(x)_k = x_k - logsumexp(x) along ``dim``. x: (..., K) -> (..., K).

    Computed as (x_k - m) - log sum_j exp(x_j - m), m = max_j x_j.

    Never take log(softmax(x)): a probability below ~1e-308 (float64) rounds to 0 and its log is -inf,
    while x_k - logsumexp(x) stays finite. (Subtracting the shifted values, rather than adding m back and
    subtracting it again, also saves a rounding error when m is large.)
    """
    _check_float(x, "x", "log_softmax")
    shifted, _ = _shift_by_max(x, dim, "log_softmax")
    return shifted - shifted.exp().sum(dim=dim, keepdim=True).log()


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax(x)_k = exp(x_k) / sum_j exp(x_j) along ``dim``, computed as exp(x_k - m) / sum_j exp(x_j - m).

    softmax(x + c) = softmax(x) for any constant c, so subtracting the maximum m changes nothing
    mathematically but keeps every exponent <= 0. x: (..., K) -> (..., K), rows summing to 1.
    """
    _check_float(x, "x", "softmax")
    shifted, _ = _shift_by_max(x, dim, "softmax")
    e = shifted.exp()
    return e / e.sum(dim=dim, keepdim=True)


def softplus(x: torch.Tensor) -> torch.Tensor:
    """softplus(x) = log(1 + exp(x)) = max(0, x) + log1p(exp(-|x|)), elementwise, stable for any x. (...) -> (...).

    Only exp(-|x|) <= 1 is ever computed, so nothing overflows, and log1p keeps full relative precision for
    very negative x (softplus(-50) = 1.9e-22, where log(1 + u) would round to 0). max(0, x) is written
    (x + |x|) / 2 so that autograd's slope at exactly 0 is sigmoid(0) = 1/2.
    It is the negative log-probability of a logistic output: -log sigmoid(z) = softplus(-z) and
    -log(1 - sigmoid(z)) = softplus(z). Its derivative is sigmoid(x).
    """
    _check_float(x, "x", "softplus")
    magnitude = x.abs()
    return 0.5 * (x + magnitude) + torch.log1p(torch.exp(-magnitude))


# ---------------------------------------------------------------- losses
def binary_cross_entropy_with_logits(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Bernoulli negative log-likelihood with p = sigmoid(z), from logits z. logits, target: (...) -> 0-dim.

        loss = -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))]
             = y softplus(-z) + (1 - y) softplus(z)        (= softplus(z) - y z)

    target holds probabilities in [0, 1] (usually the labels 0. and 1.), as floats of the logits' shape.
    The softplus form never evaluates sigmoid, so it cannot take log(0): z = -1000 with y = 1 costs 1000.
    """
    where = "binary_cross_entropy_with_logits"
    _check_float(logits, "logits", where)
    _check_float(target, "target", where)
    _check_same_shape(logits, target, "logits and target", where)
    loss = target * softplus(-logits) + (1 - target) * softplus(logits)
    return _reduce(loss, reduction)


def _check_index_tensor(target: torch.Tensor, where: str) -> None:
    if not isinstance(target, torch.Tensor) or target.dtype not in INDEX_DTYPES:
        got = target.dtype if isinstance(target, torch.Tensor) else type(target).__name__
        raise TypeError(
            f"{where}: target must be a tensor of integer class indices (int64), got {got}. "
            "For one-hot rows use target.argmax(dim=1); for labels stored as floats use target.long()."
        )


def _check_index_range(target: torch.Tensor, num_classes: int, where: str) -> None:
    if len(target) and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(
            f"{where}: class indices must lie in 0..{num_classes - 1} for K = {num_classes} classes, "
            f"got values from {target.min().item()} to {target.max().item()}."
        )


def _check_label_smoothing(label_smoothing: float, where: str) -> None:
    if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing} (in {where}). It is the "
            "probability mass eps taken from the true class and spread evenly over all K classes; 0.1 is usual."
        )


def smooth_targets(
    target: torch.Tensor, num_classes: int, label_smoothing: float, dtype: torch.dtype | None = None
) -> torch.Tensor:
    """Label-smoothed target distributions q = (1 - eps) onehot(y) + eps / K. target: (N,) int -> (N, K).

    Every row sums to 1: the true class gets 1 - eps + eps/K, each of the other K - 1 classes eps/K. The
    eps/K goes to *all* K classes, the true one included (torch's convention; some papers spread eps over
    the K - 1 wrong classes instead). dtype: the default float dtype unless given; device: the target's.
    """
    where = "smooth_targets"
    _check_label_smoothing(label_smoothing, where)
    if num_classes < 1:
        raise ValueError(f"{where}: num_classes must be a positive integer, got {num_classes!r}.")
    _check_index_tensor(target, where)
    if target.ndim != 1:
        raise ValueError(f"{where}: target must have shape (N,), one class index per example, got "
                         f"{tuple(target.shape)}.")
    _check_index_range(target, num_classes, where)
    onehot = torch.nn.functional.one_hot(target.long(), num_classes).to(dtype or torch.get_default_dtype())
    return (1 - label_smoothing) * onehot + label_smoothing / num_classes


def cross_entropy(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "mean", label_smoothing: float = 0.0
) -> torch.Tensor:
    """Categorical negative log-likelihood with p = softmax(z). logits: (N, K), target: (N,) int64 -> 0-dim.

        loss_i = -log softmax(z_i)[y_i] = logsumexp(z_i) - z_i[y_i]

    averaged over the batch. target holds class indices 0..K-1, not one-hot vectors or probabilities.

    label_smoothing = eps in [0, 1] (as in ``F.cross_entropy``) replaces the one-hot target by
    q = (1 - eps) onehot(y_i) + eps / K (see ``smooth_targets``), i.e. the cross-entropy against q:

        loss_i = -sum_k q_ik log p_ik = (1 - eps) (-log p_i[y_i]) + eps (1/K) sum_k (-log p_ik)

    The second term punishes any class whose probability goes to 0, so the logits stop growing without
    bound; eps = 1 ignores the labels altogether.
    """
    where = "cross_entropy"
    _check_float(logits, "logits", where)
    _check_index_tensor(target, where)
    if logits.ndim != 2 or target.ndim != 1 or len(target) != len(logits):
        raise ValueError(
            f"{where}: expected logits (N, K) and target (N,), got {tuple(logits.shape)} and {tuple(target.shape)}."
        )
    _check_index_range(target, logits.shape[1], where)
    _check_label_smoothing(label_smoothing, where)
    log_p = log_softmax(logits, dim=1)  # (N, K)
    nll = -log_p.gather(1, target.long().unsqueeze(1)).squeeze(1)  # -log p(y_i | x_i)
    if label_smoothing == 0.0:
        return _reduce(nll, reduction)
    uniform = -log_p.mean(dim=1)  # (1/K) sum_k -log p_ik: cross-entropy against the uniform distribution
    return _reduce((1 - label_smoothing) * nll + label_smoothing * uniform, reduction)


def gaussian_nll(
    pred: torch.Tensor, target: torch.Tensor, sigma: float | torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    """Gaussian negative log-likelihood -log N(y; y_hat, sigma^2). pred, target: (...) -> 0-dim.

        loss = log sigma + (1/2) log(2 pi) + (y - y_hat)^2 / (2 sigma^2)

    sigma > 0 is a number or a tensor that broadcasts against pred (one sigma per example, say). For a
    fixed sigma this is (1 / (2 sigma^2)) * mse + a constant, so both have the same minimiser.
    Equals F.gaussian_nll_loss(pred, target, var=sigma**2, full=True).
    """
    where = "gaussian_nll"
    _check_float(pred, "pred", where)
    _check_float(target, "target", where)
    _check_same_shape(pred, target, "pred and target", where)
    sigma = torch.as_tensor(sigma, dtype=pred.dtype, device=pred.device)
    if (sigma <= 0).any():
        raise ValueError(f"{where}: sigma is a standard deviation and must be positive, got {sigma.tolist()}.")
    loss = sigma.log() + 0.5 * math.log(2 * math.pi) + (target - pred) ** 2 / (2 * sigma**2)
    return _reduce(loss, reduction)


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (1/N) sum_i (y_hat_i - y_i)^2. pred, target: (...) of one shape -> 0-dim."""
    _check_float(pred, "pred", "mse")
    _check_float(target, "target", "mse")
    _check_same_shape(pred, target, "pred and target", "mse")
    return _reduce((pred - target) ** 2, reduction)
