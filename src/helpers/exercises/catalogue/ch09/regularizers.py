"""Chapter 9: the regularized autoencoders' pieces: the sparse penalty on the code, the masking noise of a denoising
autoencoder, and the contractive penalty of a sigmoid encoder in closed form."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch09.shared import CONTRACTIVE, MASKING, SPARSE, penalty_compare
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32

# Masking draws random numbers: every case carries its own seeded generator, and the runner deep-copies a case's
# arguments before each call, so the answer, the reference and each known-wrong answer draw the same u.


# ---------------------------------------------------------------- the sparse penalty
def _sparse_cases() -> list[Case]:
    g = gen(93)

    def code(*shape, dtype=F64, positive=False):
        h = torch.randn(*shape, generator=g, dtype=dtype)
        return torch.sigmoid(h) if positive else h

    return [
        Case("code (4, 3) float64, weight = 0.1", (code(4, 3), 0.1),
             "Per sample, the L1 norm of its code, sum_j |h_j|; then the mean of those norms over the batch, "
             "times the weight lambda."),
        Case("a batch of one: code (1, 5) float64, weight = 1.0", (code(1, 5), 1.0),
             "One code vector: the penalty is lambda sum_j |h_j|, the negative log of a Laplace prior on each unit "
             "(up to a constant)."),
        Case("code (6, 8) float32, weight = 0.01", (code(6, 8, dtype=F32), 0.01),
             "Any dtype: the penalty keeps the code's (a Python float weight does not change it)."),
        Case("sigmoid codes, all positive: code (5, 4) float64, weight = 0.5", (code(5, 4, positive=True), 0.5),
             "The units of a sigmoid code are positive, |h_j| = h_j: the penalty then pushes their sum down."),
        Case("code (3, 6) float64, weight = 2.0", (code(3, 6), 2.0),
             "The penalty grows linearly with each |h_j|, however small: that constant pull is what drives many "
             "units to exactly 0."),
        Case("code (64, 32) float64, weight = 0.001", (code(64, 32), 1e-3), hidden=True),
        Case("code (10, 1) float32, weight = 0.3", (code(10, 1, dtype=F32), 0.3), hidden=True),
        Case("code (7, 5) float64, weight = 0", (code(7, 5), 0.0), hidden=True),
    ]


def _sparse_penalty(code: torch.Tensor, weight: float) -> torch.Tensor:
    return weight * code.abs().sum(dim=1).mean()  # the L1 norm of each code vector, averaged over the batch


SPARSE_PENALTY = Exercise(
    id="09.sparse_penalty",
    title="The sparse penalty",
    kind="implement",
    points=1,
    prompt=(
        "sparse_penalty(code, weight) returns the sparse autoencoder's penalty on a batch of codes: weight times the "
        "mean over the batch of the L1 norm of each code vector, lambda (1/N) sum_n sum_j |h_nj|. code (N, k) -> a "
        "0-dim tensor in code's dtype; weight is a Python float lambda >= 0."
    ),
    reference=_sparse_penalty,
    cases=_sparse_cases,
    compare=penalty_compare,
    forbidden=SPARSE,
    instead="Use abs, sum and mean: no L1 loss of torch's, nor the book's penalty.",
    hints=[
        "Two reductions, in this order: over the k units of each code (the L1 norm of one code vector), then over "
        "the N samples of the batch (the mean).",
        "The L1 norm is the sum of ABSOLUTE values, sum_j |h_j|: code.abs().sum(dim=1) gives one norm per sample, "
        "(N,).",
        "return weight * code.abs().sum(dim=1).mean().",
    ],
    wrong={
        "The L2 norm was taken, sqrt(sum_j h_j^2): the sparse penalty is the L1 norm, sum_j |h_j|, whose constant "
        "pull drives units to exactly 0 (the L2 norm's pull fades as a unit shrinks).": (
            lambda code, weight: weight * code.pow(2).sum(dim=1).sqrt().mean()
        ),
        "The code was squared, sum_j h_j^2 (weight decay's penalty, a Gaussian prior): the sparse penalty is "
        "sum_j |h_j|, a Laplace prior.": lambda code, weight: weight * code.pow(2).sum(dim=1).mean(),
        "The norms were summed over the batch: the penalty is their MEAN over the N samples, so that its size "
        "does not depend on the batch size.": lambda code, weight: weight * code.abs().sum(),
        "The mean was taken over all N k entries: each code vector's L1 norm SUMS its k units; only the batch is "
        "averaged.": lambda code, weight: weight * code.abs().mean(),
        "The absolute value is missing: sum_j h_j lets negative units cancel positive ones (and a negative penalty "
        "rewards large negative codes). The L1 norm is sum_j |h_j|.": lambda code, weight: weight * code.sum(1).mean(),
        "The weight was left out: the penalty is lambda times the mean L1 norm.": (
            lambda code, weight: code.abs().sum(dim=1).mean()
        ),
    },
)


# ---------------------------------------------------------------- masking noise
def _mask_cases() -> list[Case]:
    g = gen(94)

    def x(*shape, dtype=F64):
        return torch.randn(*shape, generator=g, dtype=dtype)

    return [
        Case("x (4, 5) float64, level = 0.5, generator seeded with 0", (x(4, 5), 0.5, gen(0)),
             "Each entry is set to 0 where u < level, with u = torch.rand(x.shape, generator=generator, "
             "dtype=x.dtype), and kept unchanged elsewhere: about half the entries are zeroed here."),
        Case("x: 1000 float32 values, level = 0.2, generator seeded with 1", (x(1000, dtype=F32), 0.2, gen(1)),
             "About a fifth of the entries are zeroed; the others keep their values exactly."),
        Case("x (2, 3, 4) float64, level = 0.25, generator seeded with 2", (x(2, 3, 4), 0.25, gen(2)),
             "Any shape: one u per entry, drawn in x's shape (and dtype), so the mask has x's shape."),
        Case("level = 0 (nothing masked): x (3, 3) float64", (x(3, 3), 0.0, gen(3)),
             "No u is below 0: the corrupted copy is x itself."),
        Case("level = 1 (everything masked): x (2, 5) float32", (x(2, 5, dtype=F32), 1.0, gen(4)),
             "Every u in [0, 1) is below 1: every entry is zeroed."),
        Case("x (50, 64) float32, level = 0.3", (x(50, 64, dtype=F32), 0.3, gen(5)), hidden=True),
        Case("x (10, 10) float64, level = 0.75", (x(10, 10), 0.75, gen(6)), hidden=True),
        Case("x: 7 float64 values, level = 0.1", (x(7), 0.1, gen(7)), hidden=True),
    ]


def _mask_noise(x: torch.Tensor, level: float, generator: torch.Generator) -> torch.Tensor:
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=x.device)
    return x * (u >= level)  # zeroed where u < level (probability level), a new tensor in x's dtype


def _mask_with(keep=lambda u, level: u >= level, factor=lambda level: 1.0, dtype=None):
    """Masking noise with one of the known mistakes: which u keep the entry, a rescaling of the kept ones, the dtype
    u is drawn in (None: x's)."""

    def answer(x, level, generator):
        u = torch.rand(x.shape, generator=generator, dtype=dtype or x.dtype)
        return x * keep(u, level) * factor(level)

    return answer


MASK_NOISE = Exercise(
    id="09.corrupt",
    title="Masking noise for a denoising autoencoder",
    kind="implement",
    points=1,
    prompt=(
        "mask_noise(x, level, generator) returns a corrupted copy of x for a denoising autoencoder: each entry is "
        "set to 0 independently with probability level and kept unchanged otherwise. Draw u = torch.rand(x.shape, "
        "generator=generator, dtype=x.dtype) and zero the entries where u < level. Any shape -> the same shape, in "
        "x's dtype; return a new tensor (x itself must not change: the model still needs the clean x as its "
        "target)."
    ),
    reference=_mask_noise,
    cases=_mask_cases,
    compare=close_by_dtype(float64=(0.0, 0.0), float32=(0.0, 0.0)),
    forbidden=MASKING,
    instead="u = torch.rand(x.shape, generator=generator, dtype=x.dtype) and u < level make the mask; multiply (or "
    "use torch.where) yourself: no dropout, nor the book's corrupt.",
    hints=[
        "Draw one uniform number per entry, u = torch.rand(x.shape, generator=generator, dtype=x.dtype): an entry "
        "with u < level is zeroed, which happens with probability level.",
        "Build the corrupted copy without touching x: x * (u >= level) (a bool mask multiplies as 0 and 1, in x's "
        "dtype), or torch.where(u < level, 0.0, x). Writing x[u < level] = 0 would change the caller's x.",
        "u = torch.rand(x.shape, generator=generator, dtype=x.dtype); return x * (u >= level).",
    ],
    wrong={
        "The mask is the other way round: u < level KEEPS an entry with probability level. Here level is the "
        "probability of ZEROING an entry, so keep where u >= level.": _mask_with(keep=lambda u, level: u < level),
        "The kept entries were divided by 1 - level: that is inverted dropout, which keeps the expected activation. "
        "Masking noise leaves the kept entries exactly as they are (the autoencoder must reconstruct x from "
        "them).": _mask_with(factor=lambda level: 1 / (1 - level)),
        "Gaussian noise was added: masking noise zeroes entries and leaves the others unchanged; adding "
        "level * N(0, 1) is the other corruption, x + eps.": (
            lambda x, level, generator: x + level * torch.randn(x.shape, generator=generator, dtype=x.dtype)
        ),
        "u was drawn in float32 (torch.rand's default): for float64 x the generator's float64 stream gives other "
        "numbers, hence another mask. Draw u = torch.rand(x.shape, generator=generator, dtype=x.dtype).": (
            _mask_with(dtype=F32)
        ),
        "The mask was drawn with torch.bernoulli: it zeroes each entry with the right probability, but from other "
        "random numbers than the prompt's, so it cannot be compared. Use u = torch.rand(x.shape, "
        "generator=generator, dtype=x.dtype) and u < level.": (
            lambda x, level, generator: x * torch.bernoulli(torch.full_like(x, 1 - level), generator=generator)
        ),
    },
)


# ---------------------------------------------------------------- the contractive penalty
def _contractive_cases() -> list[Case]:
    g = gen(95)

    def layer(N, n_features, n_code, dtype=F64, scale=1.0):
        x = torch.rand(N, n_features, generator=g, dtype=dtype)  # pixel-like inputs in [0, 1)
        W = scale * torch.randn(n_code, n_features, generator=g, dtype=dtype) / n_features**0.5
        b = 0.5 * torch.randn(n_code, generator=g, dtype=dtype)
        return x, W, b

    return [
        Case("x (4, 3), weight (3, 3), bias (3,), float64", layer(4, 3, 3),
             "Per sample, ||J||_F^2 = sum_j sum_i (dh_j/dx_i)^2 with dh_j/dx_i = h_j (1 - h_j) W_ji; then the mean "
             "over the batch. Here n_code = n_features, so the weight is square."),
        Case("x (5, 6), weight (2, 6), bias (2,), float64", layer(5, 6, 2),
             "weight is (n_code, n_features), as nn.Linear's: row j holds the weights into code unit j, and "
             "sum_i W_ji^2 is the squared norm of that row."),
        Case("a batch of one: x (1, 4), weight (3, 4), bias (3,), float64", layer(1, 4, 3),
             "One sample: the penalty is that sample's squared Frobenius norm of dh/dx."),
        Case("x (8, 5), weight (4, 5), bias (4,), float32", layer(8, 5, 4, F32),
             "Any dtype: the penalty keeps the inputs'."),
        Case("large weights (saturated units): x (6, 4), weight (3, 4), bias (3,), float64", layer(6, 4, 3, scale=16.0),
             "A saturated unit (h_j near 0 or 1) has h_j (1 - h_j) near 0: it barely responds to x, and adds almost "
             "nothing, however large its weights."),
        Case("x (32, 64), weight (16, 64), bias (16,), float64", layer(32, 64, 16), hidden=True),
        Case("x (10, 10), weight (10, 10), bias (10,), float32", layer(10, 10, 10, F32), hidden=True),
        Case("over-complete: x (3, 2), weight (5, 2), bias (5,), float64", layer(3, 2, 5), hidden=True),
    ]


def _contractive_penalty(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    h = torch.sigmoid(x @ weight.T + bias)  # (N, n_code)
    return ((h * (1 - h)) ** 2 @ (weight**2).sum(dim=1)).mean()  # sum_j (h_j(1-h_j))^2 ||W_j||^2, batch mean


def _contractive_with(derivative=lambda h: (h * (1 - h)) ** 2, rows=lambda W: (W**2).sum(dim=1), transpose=True,
                      bias=True, reduce="mean", root=False):
    """The penalty with one of the known mistakes: the squared derivative of each unit, the weights' per-unit
    factor, x @ W.T (right) or x @ W, the bias, the batch reduction, a square root (the norm, not its square)."""

    def answer(x, weight, b):
        h = torch.sigmoid((x @ (weight.T if transpose else weight)) + (b if bias else 0))
        per_sample = derivative(h) @ rows(weight)
        per_sample = per_sample.sqrt() if root else per_sample
        return per_sample.mean() if reduce == "mean" else per_sample.sum()

    return answer


CONTRACTIVE_PENALTY = Exercise(
    id="09.contractive_penalty",
    title="The contractive penalty of a sigmoid encoder",
    kind="implement",
    points=2,
    prompt=(
        "contractive_penalty(x, weight, bias) returns the contractive autoencoder's penalty for the encoder h = "
        "sigmoid(x W^T + b): the squared Frobenius norm of the Jacobian dh/dx of each sample, averaged over the "
        "batch. In closed form, since dh_j/dx_i = h_j (1 - h_j) W_ji: (1/N) sum_n sum_j (h_nj (1 - h_nj))^2 sum_i "
        "W_ji^2. x (N, n_features), weight W (n_code, n_features), bias b (n_code,) -> a 0-dim tensor in their "
        "dtype. Use the closed form: no Jacobian by autograd."
    ),
    reference=_contractive_penalty,
    cases=_contractive_cases,
    compare=penalty_compare,
    forbidden=CONTRACTIVE,
    instead="Use the closed form: h = torch.sigmoid(x @ weight.T + bias), then products and sums. No "
    "torch.func.jacrev, torch.autograd.grad or .backward(), nor the book's penalty.",
    hints=[
        "First the code, h = torch.sigmoid(x @ weight.T + bias), (N, n_code). The derivative of the sigmoid is "
        "h (1 - h), so dh_j/dx_i = h_j (1 - h_j) W_ji.",
        "Square and sum over i and j: sum_j (h_j (1 - h_j))^2 sum_i W_ji^2. The inner sum is the squared norm of row "
        "j of the weight, (weight ** 2).sum(dim=1), (n_code,): the same for every sample.",
        "h = torch.sigmoid(x @ weight.T + bias); per_sample = (h * (1 - h)) ** 2 @ (weight ** 2).sum(dim=1); "
        "return per_sample.mean().",
    ],
    wrong={
        "The derivative h (1 - h) was not squared: every entry of the Jacobian, h_j (1 - h_j) W_ji, is squared, so "
        "the factor is (h_j (1 - h_j))^2.": _contractive_with(derivative=lambda h: h * (1 - h)),
        "The weights were summed over the wrong axis, (weight ** 2).sum(dim=0): W is (n_code, n_features), and unit "
        "j's factor sum_i W_ji^2 is the squared norm of ROW j, (weight ** 2).sum(dim=1).": _contractive_with(
            rows=lambda W: (W**2).sum(dim=0)),
        "The weight was not transposed: h = sigmoid(x W^T + b), with W (n_code, n_features) as nn.Linear's; x @ "
        "weight runs only when W is square, and then pairs the wrong entries.": _contractive_with(transpose=False),
        "The samples were summed: the penalty is the MEAN over the batch of each sample's ||J||_F^2.": (
            _contractive_with(reduce="sum")
        ),
        "The tanh derivative 1 - h^2 was used: this encoder is a sigmoid, whose derivative is h (1 - h).": (
            _contractive_with(derivative=lambda h: (1 - h**2) ** 2)
        ),
        "The weights were not squared: dh_j/dx_i = h_j (1 - h_j) W_ji is squared as a whole, so the weights "
        "contribute sum_i W_ji^2, not sum_i W_ji.": _contractive_with(rows=lambda W: W.sum(dim=1)),
        "The bias was left out of the code: h = sigmoid(x W^T + b), and the bias moves each unit towards or away "
        "from saturation.": _contractive_with(bias=False),
        "The square root was taken: the penalty is the SQUARED Frobenius norm ||J||_F^2, not the norm.": (
            _contractive_with(root=True)
        ),
    },
)

EXERCISES = [SPARSE_PENALTY, MASK_NOISE, CONTRACTIVE_PENALTY]
