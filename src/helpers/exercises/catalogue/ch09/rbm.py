"""Chapter 9: a restricted Boltzmann machine's free energy, and the two conditional distributions a Gibbs step
samples from."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.exercises.catalogue.ch09.shared import RBM, any_draw, draws_allowed
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32
TOLERANCE = close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-5, 1e-5))


def _rbm(g: torch.Generator, N: int, V: int, H: int, dtype=F64, hidden_bias=None):
    """A batch of binary visible vectors v (N, V) and an RBM's W (H, V), b (V,), c (H,): weights of size about 1 (the
    pre-activations c + W v stay well below 18 in size, where every way of computing softplus agrees to rounding),
    or the hidden biases given."""
    v = (torch.rand(N, V, generator=g) < 0.5).to(dtype)
    W = torch.randn(H, V, generator=g, dtype=dtype) / V**0.5
    b = 0.5 * torch.randn(V, generator=g, dtype=dtype)
    c = 0.5 * torch.randn(H, generator=g, dtype=dtype)
    if hidden_bias is not None:
        c = torch.tensor(hidden_bias, dtype=dtype)
    return v, W, b, c


# ---------------------------------------------------------------- the free energy
def _free_energy_cases() -> list[Case]:
    g = gen(97)
    return [
        Case("v (4, 3), W (3, 3), b (3,), c (3,), float64", _rbm(g, 4, 3, 3),
             "F(v) = -b.v - sum_j log(1 + exp(c_j + W_j.v)), one number per visible vector: the hidden units are "
             "summed out in closed form. Here V = H, so W is square."),
        Case("v (5, 6), W (4, 6), b (6,), c (4,), float64", _rbm(g, 5, 6, 4),
             "W is (H, V): row j holds hidden unit j's weights, so its input is c_j + W_j.v, the (N, H) matrix "
             "v W^T + c."),
        Case("one vector: v (1, 8), W (2, 8), b (8,), c (2,), float64", _rbm(g, 1, 8, 2),
             "A batch of one still gives one free energy per vector, shape (1,)."),
        Case("v (6, 5), W (3, 5), b (5,), c (3,), float32", _rbm(g, 6, 5, 3, F32),
             "Any dtype: the free energies keep the inputs'."),
        Case("large hidden inputs (c = [100, -120, 1]): v (3, 4), W (3, 4), float32",
             _rbm(g, 3, 4, 3, F32, hidden_bias=[100.0, -120.0, 1.0]),
             "log(1 + exp(s)) for s near 100: exp(100) overflows float32 (above about 88; float64 above 709), but "
             "log(1 + exp(s)) = s + log(1 + exp(-s)) is about s. F.softplus(s) and torch.logaddexp("
             "torch.zeros_like(s), s) stay finite."),
        Case("v (20, 16), W (8, 16), b (16,), c (8,), float64", _rbm(g, 20, 16, 8), hidden=True),
        Case("large hidden inputs (c = [800, -750]): v (4, 3), W (2, 3), float64",
             _rbm(g, 4, 3, 2, hidden_bias=[800.0, -750.0]), hidden=True),
        Case("v (7, 3), W (5, 3), b (3,), c (5,), float32", _rbm(g, 7, 3, 5, F32), hidden=True),
    ]


def _free_energy(v: torch.Tensor, W: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    hidden_input = v @ W.T + c  # (N, H): c_j + W_j . v
    return -(v @ b) - torch.logaddexp(torch.zeros_like(hidden_input), hidden_input).sum(dim=1)


def _free_energy_with(visible=-1.0, transpose=True, softplus=F.softplus, reduce=None, hidden_bias=True, outer=1.0,
                      swap=False):
    """The free energy with one of the known mistakes: the visible term's sign (0: left out), x @ W.T (right) or x @
    W, how softplus is computed, a reduction over the batch, the hidden bias, the overall sign, b and c swapped."""

    def answer(v, W, b, c):
        b, c = (c, b) if swap else (b, c)
        free = visible * (v @ b) - softplus((v @ (W.T if transpose else W)) + (c if hidden_bias else 0)).sum(dim=1)
        free = outer * free
        return free.sum() if reduce == "sum" else free

    return answer


FREE_ENERGY = Exercise(
    id="09.rbm_free_energy",
    title="An RBM's free energy",
    kind="implement",
    points=2,
    prompt=(
        "free_energy(v, W, b, c) returns the free energy of each visible vector under a binary RBM with energy "
        "E(v, h) = -b.v - c.h - h^T W v: F(v) = -log sum_h exp(-E(v, h)) = -b.v - sum_j log(1 + exp(c_j + W_j.v)). "
        "v (N, V) binary, W (H, V), b (V,), c (H,) -> (N,), in the inputs' dtype. It must stay finite when some "
        "c_j + W_j.v is large (hundreds)."
    ),
    reference=_free_energy,
    cases=_free_energy_cases,
    compare=TOLERANCE,
    forbidden=RBM,
    instead="Use matrix products and F.softplus (or torch.logaddexp(torch.zeros_like(s), s)): no RBM of sklearn's or "
    "the book's.",
    hints=[
        "The hidden units' inputs first: s = v @ W.T + c, (N, H), one c_j + W_j.v per vector and hidden unit. Then "
        "F(v) = -(v @ b) - sum over j of log(1 + exp(s_j)).",
        "log(1 + exp(s)) is softplus(s); written literally, exp(s) overflows for s above 88 in float32 (709 in "
        "float64) and the result is inf. F.softplus(s), or torch.logaddexp(torch.zeros_like(s), s), computes it "
        "without overflow.",
        "return -(v @ b) - F.softplus(v @ W.T + c).sum(dim=1).",
    ],
    wrong={
        "The visible term has the wrong sign: E(v, h) = -b.v - c.h - h^T W v, so F(v) = -b.v - sum_j softplus(c_j + "
        "W_j.v); the -b.v comes with the minus.": _free_energy_with(visible=1.0),
        "W was not transposed: W is (H, V), so the hidden inputs are v @ W.T + c, (N, H). v @ W runs only when "
        "V = H, and then pairs the wrong weights.": _free_energy_with(transpose=False),
        "log(1 + exp(s)) was computed literally: exp(s) overflows to inf for s above 88 in float32 (709 in float64), "
        "though log(1 + exp(s)) is about s there. Use F.softplus(s) or torch.logaddexp(torch.zeros_like(s), s).": (
            _free_energy_with(softplus=lambda s: torch.log(1 + torch.exp(s)))
        ),
        "The free energies were summed over the batch: return one per visible vector, shape (N,).": (
            _free_energy_with(reduce="sum")
        ),
        "The hidden bias c was left out: hidden unit j's input is c_j + W_j.v.": _free_energy_with(hidden_bias=False),
        "The visible term -b.v was left out: summing h out of exp(-E(v, h)) leaves exp(b.v) as a factor, so F(v) "
        "= -b.v - sum_j softplus(c_j + W_j.v).": _free_energy_with(visible=0.0),
        "The sign of the whole is flipped: that is -F(v) = log sum_h exp(-E(v, h)), the log of the unnormalised "
        "probability. The free energy is its negative, low for likely vectors.": _free_energy_with(outer=-1.0),
        "The biases b and c were swapped: b (V,) is the visible bias, in the term -b.v; c (H,) is the hidden bias, "
        "inside the softplus, c_j + W_j.v. (With V = H the shapes cannot tell them apart.)": _free_energy_with(
            swap=True),
    },
)


# ---------------------------------------------------------------- the conditionals of a Gibbs step
def _conditional_cases() -> list[Case]:
    g = gen(98)

    def case(label, N, V, H, dtype=F64, scale=1.0, why="", hidden=False):
        v, W, b, c = _rbm(g, N, V, H, dtype)
        h = (torch.rand(N, H, generator=g) < 0.5).to(dtype)
        return Case(label, (v, h, scale * W, b, c), why, hidden)

    return [
        case("v (3, 4), h (3, 4), W (4, 4), b (4,), c (4,), float64", 3, 4, 4,
             why="P(h_j = 1 | v) = sigmoid(c_j + W_j.v) and P(v_i = 1 | h) = sigmoid(b_i + sum_j h_j W_ji), for every "
                 "vector of the batch. Here V = H, so W is square."),
        case("v (5, 6), h (5, 3), W (3, 6), b (6,), c (3,), float64", 5, 6, 3,
             why="W is (H, V): from v to h the weights are used as v W^T, (N, H); from h back to v as h W, (N, V). "
                 "The hidden units get the hidden bias c, the visible ones b."),
        case("v (4, 5), h (4, 2), W (2, 5), b (5,), c (2,), float32", 4, 5, 2, F32,
             why="Any dtype: the probabilities keep the inputs'."),
        case("one vector: v (1, 3), h (1, 7), W (7, 3), b (3,), c (7,), float64", 1, 3, 7,
             why="A batch of one: shapes (1, H) and (1, V)."),
        case("large weights: v (4, 6), h (4, 5), W (5, 6), b (6,), c (5,), float64", 4, 6, 5, scale=6.0,
             why="Large inputs push the probabilities towards 0 or 1; each unit is still its own independent "
                 "sigmoid, not a share of a softmax."),
        case("v (16, 20), h (16, 12), W (12, 20), float64", 16, 20, 12, hidden=True),
        case("v (6, 3), h (6, 3), W (3, 3), float32", 6, 3, 3, F32, hidden=True),
        case("v (2, 9), h (2, 4), W (4, 9), float64", 2, 9, 4, scale=3.0, hidden=True),
    ]


def _conditionals(v, h, W, b, c):
    return torch.sigmoid(v @ W.T + c), torch.sigmoid(h @ W + b)  # P(h = 1 | v), P(v = 1 | h)


def _conditionals_with(squash=torch.sigmoid, transpose=True, swap=False, biases=True, order="hidden first"):
    """The conditionals with one of the known mistakes: the squashing function, W's orientation (v W^T and h W are
    right), the biases swapped or left out, the two returned in the other order."""

    def answer(v, h, W, b, c):
        to_hidden, to_visible = (W.T, W) if transpose else (W, W.T)
        hidden_bias, visible_bias = (b, c) if swap else (c, b)
        if not biases:
            hidden_bias = visible_bias = 0
        hidden, visible = squash(v @ to_hidden + hidden_bias), squash(h @ to_visible + visible_bias)
        return (hidden, visible) if order == "hidden first" else (visible, hidden)

    return answer


def _binary(like):
    """Whether a tensor is a sample of 0s and 1s of like's shape and dtype."""
    return lambda got: got.shape == like.shape and got.dtype == like.dtype and bool(((got == 0) | (got == 1)).all())


def _sampled(v, h, W, b, c):
    """The units sampled, torch.bernoulli of each probability (torch's global random numbers): any 0/1 tensor of
    the right shape is what such an answer may return."""
    hidden, visible = _conditionals(v, h, W, b, c)
    return (any_draw(torch.bernoulli(hidden), _binary(hidden)), any_draw(torch.bernoulli(visible), _binary(visible)))


CONDITIONALS = Exercise(
    id="09.gibbs_conditionals",
    title="The conditionals of a Gibbs step",
    kind="implement",
    points=1,
    prompt=(
        "conditionals(v, h, W, b, c) returns the two conditional probabilities a Gibbs step of a binary RBM samples "
        "from, (P(h = 1 | v), P(v = 1 | h)): P(h_j = 1 | v) = sigmoid(c_j + W_j.v) and P(v_i = 1 | h) = sigmoid(b_i "
        "+ sum_j h_j W_ji). v (N, V), h (N, H), W (H, V), visible bias b (V,), hidden bias c (H,) -> a tuple of "
        "(N, H) and (N, V) tensors in the inputs' dtype."
    ),
    reference=_conditionals,
    cases=_conditional_cases,
    compare=draws_allowed(TOLERANCE),
    items=("P(h = 1 | v)", "P(v = 1 | h)"),
    forbidden=RBM,
    instead="Use matrix products and torch.sigmoid: no RBM of sklearn's or the book's.",
    hints=[
        "No connections within a layer: given v, the hidden units are independent, each a sigmoid of its own input "
        "c_j + W_j.v; given h, so are the visible units, each a sigmoid of b_i + sum_j h_j W_ji.",
        "With W (H, V): the hidden inputs are v @ W.T + c, (N, H), and the visible inputs h @ W + b, (N, V). Each "
        "layer gets its OWN bias.",
        "return torch.sigmoid(v @ W.T + c), torch.sigmoid(h @ W + b).",
    ],
    wrong={
        "The biases were swapped: the hidden units get the hidden bias c (H,), the visible ones the visible bias b "
        "(V,). (With V = H the shapes cannot tell them apart.)": _conditionals_with(swap=True),
        "W was used the wrong way round: W is (H, V), so from v to h it is v @ W.T (N, H) and from h to v it is "
        "h @ W (N, V). v @ W runs only when V = H, and then pairs the wrong weights.": _conditionals_with(
            transpose=False),
        "A softmax was taken over the units: in an RBM each unit is a separate binary variable, independent of the "
        "others given the other layer, so each gets its own sigmoid (the probabilities need not sum to 1).": (
            _conditionals_with(squash=lambda s: torch.softmax(s, dim=-1))
        ),
        "The biases were left out: P(h_j = 1 | v) = sigmoid(c_j + W_j.v) and P(v_i = 1 | h) = sigmoid(b_i + "
        "sum_j h_j W_ji).": _conditionals_with(biases=False),
        "These are the probabilities of 0, sigmoid(-s) = 1 - sigmoid(s): the energy -b.v - c.h - h^T W v is LOWER "
        "when a unit with a positive input is on, so P(unit = 1) = sigmoid(+input).": _conditionals_with(
            squash=lambda s: torch.sigmoid(-s)),
        "The two were returned in the other order: the tuple is (P(h = 1 | v), P(v = 1 | h)), the hidden units' "
        "probabilities (N, H) first, then the visible units' (N, V).": _conditionals_with(order="visible first"),
        "The units were sampled (torch.bernoulli): the exercise asks for the PROBABILITIES a Gibbs step samples "
        "from, sigmoid(c + v W^T) and sigmoid(b + h W), numbers between 0 and 1; the sampling comes after.": (
            _sampled
        ),
    },
)

EXERCISES = [FREE_ENERGY, CONDITIONALS]
