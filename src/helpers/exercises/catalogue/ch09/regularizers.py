"""Chapter 9: the regularized autoencoders' pieces: the sparse penalty on the code and the masking noise of a denoising
autoencoder (the contractive penalty is in ``contractive``, listed here with them, in the chapter's order)."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch09.contractive import CONTRACTIVE_PENALTY
from helpers.exercises.catalogue.ch09.shared import (
    MASKING,
    SPARSE,
    any_draw,
    draws_allowed,
    penalty_compare,
)
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
        "0-dim tensor in code's dtype; weight is a Python float lambda >= 0. Use abs, sum and mean: no L1 loss and "
        "no norm (torch.norm, Tensor.norm, torch.linalg.norm, torch.linalg.vector_norm), nor the book's penalty."
    ),
    reference=_sparse_penalty,
    cases=_sparse_cases,
    compare=penalty_compare,
    forbidden=SPARSE,
    instead="Use abs, sum and mean: no L1 loss of torch's, no norm (torch.norm, Tensor.norm, torch.linalg.norm, "
    "torch.linalg.vector_norm), nor the book's penalty.",
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
        "The absolute values were summed over the batch and averaged over the units, .sum(0).mean(): each code "
        "vector's L1 norm sums ITS k units, .sum(dim=1) (dim=1 runs along one code), and then the N norms are "
        "averaged.": lambda code, weight: weight * code.abs().sum(0).mean(),
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


def _mask_with(keep=lambda u, level: u >= level, dtype=None):
    """Masking noise with one of the known mistakes: which u keep the entry, the dtype u is drawn in (None: x's)."""

    def answer(x, level, generator):
        u = torch.rand(x.shape, generator=generator, dtype=dtype or x.dtype)
        return x * keep(u, level)

    return answer


def _inverted_dropout(x, level, generator):
    """Inverted dropout, as a student writes it: the kept entries divided by 1 - level (at level 1, 0 / 0 = nan in
    torch, as the student's tensor division gives)."""
    u = torch.rand(x.shape, generator=generator, dtype=x.dtype)
    return x * (u >= level) / (1 - level)


def _masking_of(x):
    """Whether a tensor is x with some entries zeroed and the others unchanged (any mask at all)."""
    return lambda got: got.shape == x.shape and got.dtype == x.dtype and bool(((got == x) | (got == 0)).all())


def _global_draw(x, level, generator):
    """The generator ignored: u from torch's global random numbers (torch.rand_like(x)); any masking of x is
    what such an answer may return."""
    return any_draw(x * (torch.rand_like(x) >= level), _masking_of(x))


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
    # x / (1 - level) and x * (1 / (1 - level)) differ by rounding: a tolerance, so both get the diagnosis
    compare=draws_allowed(close_by_dtype(float64=(1e-12, 0.0), float32=(1e-6, 0.0))),
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
        "them).": _inverted_dropout,
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
        # last: the mistakes above that mask x in another way are any masking too, and keep their own diagnosis
        "The generator was not used: torch.rand_like(x) (or torch.rand without generator=) draws from torch's "
        "global random numbers, a different mask on every run. Draw u with generator=generator: u = "
        "torch.rand(x.shape, generator=generator, dtype=x.dtype).": _global_draw,
    },
)

EXERCISES = [SPARSE_PENALTY, MASK_NOISE, CONTRACTIVE_PENALTY]
