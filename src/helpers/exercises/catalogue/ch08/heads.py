"""Chapter 8: multi-head attention's bookkeeping: splitting the features into heads, merging them back, and the
parameters of nn.MultiheadAttention."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch08.shared import HEADS, exact_tensor
from helpers.exercises.catalogue.common import F64, gen, whole_number
from helpers.exercises.spec import Case, Exercise

F32 = torch.float32


def _values(x: torch.Tensor) -> list:
    return [round(v, 4) for v in x.tolist()]


# ---------------------------------------------------------------- splitting into heads
def _split_cases() -> list[Case]:
    g = gen(83)

    def case(label, N, L, E, h, dtype=F64, why="", hidden=False):
        return Case(label, (torch.randn(N, L, E, generator=g, dtype=dtype), h), why, hidden)

    return [
        case("x (2, 3, 8), num_heads = 2", 2, 3, 8, 2,
             why="Head k gets the k-th block of d = E / num_heads consecutive features of every position: here "
                 "features 0..3 go to head 0 and 4..7 to head 1, at each of the 3 positions."),
        case("x (1, 4, 6), num_heads = 3", 1, 4, 6, 3,
             why="out[n, k, l] is x[n, l, k d:(k + 1) d]: the positions stay in their order within each head, and "
                 "the head dimension comes before the positions, (N, num_heads, L, d)."),
        case("x (3, 5, 12), num_heads = 4", 3, 5, 12, 4,
             why="The heads sit at dimension 1 so that attention, which works on the last two dimensions (L, d), "
                 "runs on every example and head at once."),
        case("x (2, 3, 4), num_heads = 2 (heads of size 2)", 2, 3, 4, 2,
             why="With d = num_heads the shapes cannot tell the two sizes apart: only the values can."),
        case("heads of size 1: x (2, 3, 4), num_heads = 4", 2, 3, 4, 4,
             why="num_heads = E gives heads of one feature each: head k holds feature k of every position."),
        case("float32: x (2, 6, 10), num_heads = 5", 2, 6, 10, 5, F32, why="Any dtype: the result keeps x's."),
        case("x (4, 10, 64), num_heads = 8", 4, 10, 64, 8, hidden=True),
        case("x (2, 7, 9), num_heads = 3", 2, 7, 9, 3, hidden=True),
        case("one position: x (3, 1, 8), num_heads = 2", 3, 1, 8, 2, hidden=True),
        case("one head: x (2, 5, 6), num_heads = 1", 2, 5, 6, 1, hidden=True),
    ]


def _split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    N, L, E = x.shape
    return x.reshape(N, L, num_heads, E // num_heads).transpose(1, 2)  # (N, L, h, d) -> (N, h, L, d)


def _explain_split(expected: torch.Tensor, got: torch.Tensor, index: tuple) -> str:
    n, k, l, _ = index
    d = expected.shape[-1]
    return (f"out[{n}, {k}, {l}] should be x[{n}, {l}, {k * d}:{(k + 1) * d}], the features of head {k} at position "
            f"{l}: {_values(expected[n, k, l])}, got {_values(got[n, k, l])}")


SPLIT_HEADS = Exercise(
    id="08.split_heads",
    title="Splitting the features into heads",
    kind="implement",
    points=1,
    prompt=(
        "split_heads(x, num_heads) returns x (N, L, E) split into num_heads heads of d = E / num_heads features, as "
        "(N, num_heads, L, d): head k gets the features k d, ..., (k + 1) d - 1 of every position, "
        "out[n, k, l] = x[n, l, k d:(k + 1) d]. num_heads divides E. This is how nn.MultiheadAttention splits its "
        "projected queries, keys and values."
    ),
    reference=_split_heads,
    cases=_split_cases,
    compare=exact_tensor("the heads, (N, num_heads, L, d)", _explain_split),
    forbidden=HEADS,
    instead="Use reshape (or view) and transpose (or permute): no attention module or the book's split_heads.",
    hints=[
        "First cut the last dimension into (num_heads, d) without moving anything: x.reshape(N, L, num_heads, d) puts "
        "features k d..(k + 1) d - 1 of position l at [n, l, k].",
        "Then bring the heads in front of the positions: the shape must become (N, num_heads, L, d). reshape alone "
        "cannot do that, it only regroups the numbers in their memory order; swapping two dimensions is transpose.",
        "N, L, E = x.shape; return x.reshape(N, L, num_heads, E // num_heads).transpose(1, 2).",
    ],
    wrong={
        "reshape alone regroups the numbers in their memory order: x.reshape(N, num_heads, L, d) has the right shape "
        "but fills head 0 with the first positions' features. Split the features first, "
        "x.reshape(N, L, num_heads, d), then swap the positions and the heads, .transpose(1, 2).": (
            lambda x, h: x.reshape(x.shape[0], h, x.shape[1], x.shape[2] // h)
        ),
        "The heads were not moved in front of the positions: (N, L, num_heads, d) must become (N, num_heads, L, d), "
        ".transpose(1, 2), so that attention runs over the last two dimensions (L, d) of each head.": (
            lambda x, h: x.reshape(x.shape[0], x.shape[1], h, x.shape[2] // h)
        ),
        "The heads' features are interleaved: head k got features k, k + num_heads, k + 2 num_heads, ... Each head "
        "takes a block of d CONSECUTIVE features: reshape to (N, L, num_heads, d), heads before features.": (
            lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).permute(0, 3, 1, 2)
        ),
        "The number of heads and their size were swapped: num_heads is how many heads, d = E / num_heads how many "
        "features each has, (N, num_heads, L, d).": (
            lambda x, h: x.reshape(x.shape[0], x.shape[1], x.shape[2] // h, h).transpose(1, 2)
        ),
        "The heads were stacked in front of the batch, (num_heads, N, L, d): the batch stays first, (N, num_heads, "
        "L, d), so that each example keeps its own heads together.": (
            lambda x, h: torch.stack(x.chunk(h, dim=-1))
        ),
        "x was transposed to (N, E, L) before the reshape: the features then mix with the positions. Split the "
        "features first, x.reshape(N, L, num_heads, d), then swap positions and heads.": (
            lambda x, h: x.transpose(1, 2).reshape(x.shape[0], h, x.shape[1], x.shape[2] // h)
        ),
    },
)


# ---------------------------------------------------------------- merging the heads
def _merge_cases() -> list[Case]:
    g = gen(84)

    def case(label, N, h, L, d, dtype=F64, why="", hidden=False):
        return Case(label, (torch.randn(N, h, L, d, generator=g, dtype=dtype),), why, hidden)

    return [
        case("x (2, 2, 3, 4): 2 heads of 4 features", 2, 2, 3, 4,
             why="Position l of the result is head 0's features at l, then head 1's, side by side: "
                 "out[n, l, k d:(k + 1) d] = x[n, k, l]."),
        case("x (1, 3, 4, 2): 3 heads of 2 features", 1, 3, 4, 2,
             why="Merging undoes split_heads: the heads go back behind the positions before their features are "
                 "joined, so that merge_heads(split_heads(x, h)) is x."),
        case("x (3, 4, 5, 3): 4 heads of 3 features", 3, 4, 5, 3,
             why="The result is (N, L, num_heads d): every position has all the heads' outputs, which the output "
                 "projection then mixes."),
        case("x (2, 4, 3, 4): 4 heads, 3 positions", 2, 4, 3, 4,
             why="Each head's block keeps its own order of features; only the heads are placed side by side."),
        case("float32: x (2, 5, 6, 2)", 2, 5, 6, 2, F32, why="Any dtype: the result keeps x's."),
        case("x (4, 8, 10, 8)", 4, 8, 10, 8, hidden=True),
        case("one position: x (2, 3, 1, 5)", 2, 3, 1, 5, hidden=True),
        case("one head: x (3, 1, 4, 6)", 3, 1, 4, 6, hidden=True),
    ]


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    N, h, L, d = x.shape
    return x.transpose(1, 2).reshape(N, L, h * d)  # (N, L, h, d), then the heads side by side


def _explain_merge(expected: torch.Tensor, got: torch.Tensor, index: tuple) -> str:
    n, l, feature = index
    more = " ..." if expected.shape[-1] > 8 else ""
    return (f"out[{n}, {l}] should be the heads' outputs at position {l} side by side, head 0's first: "
            f"{_values(expected[n, l, :8])}{more}, got {_values(got[n, l, :8])}{more} (they first differ at feature "
            f"{feature})")


MERGE_HEADS = Exercise(
    id="08.merge_heads",
    title="Merging the heads",
    kind="implement",
    points=1,
    prompt=(
        "merge_heads(x) returns the heads x (N, num_heads, L, d) side by side at every position, (N, L, num_heads d): "
        "out[n, l, k d:(k + 1) d] = x[n, k, l]. It undoes split_heads: merge_heads(split_heads(x, h)) is x."
    ),
    reference=_merge_heads,
    cases=_merge_cases,
    compare=exact_tensor("the merged heads, (N, L, num_heads d)", _explain_merge),
    forbidden=HEADS,
    instead="Use transpose (or permute) and reshape: no attention module or the book's merge_heads.",
    hints=[
        "Undo split_heads step by step, in the reverse order: first bring the positions back in front of the heads, "
        "then join each position's heads into one row of features.",
        "x.transpose(1, 2) is (N, L, num_heads, d); reshaping it to (N, L, num_heads d) puts head 0's d features "
        "first, then head 1's, ... (after a transpose, .view fails: use .reshape, or .contiguous().view).",
        "N, h, L, d = x.shape; return x.transpose(1, 2).reshape(N, L, h * d).",
    ],
    wrong={
        "reshape alone regroups the numbers in their memory order: x.reshape(N, L, num_heads d) has the right shape "
        "but mixes positions and heads. Bring the positions in front first, x.transpose(1, 2), then reshape.": (
            lambda x: x.reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3])
        ),
        "The heads' features were interleaved (feature 0 of every head, then feature 1, ...): each head's d features "
        "stay together, head 0's block first, x.transpose(1, 2).reshape(N, L, num_heads d).": (
            lambda x: x.permute(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], x.shape[1] * x.shape[3])
        ),
        "The heads were moved but not joined: (N, L, num_heads, d) must become (N, L, num_heads d), one row of "
        "features per position, with .reshape.": lambda x: x.transpose(1, 2),
        "The heads were averaged: merging keeps every head's output, side by side (num_heads d features), and the "
        "output projection then learns how to combine them. (nn.MultiheadAttention averages the attention WEIGHTS "
        "over the heads for display, not the outputs.)": lambda x: x.mean(dim=1),
    },
)


# ---------------------------------------------------------------- the parameters of nn.MultiheadAttention
MHA = "nn.MultiheadAttention(embed_dim=64, num_heads=8) (bias=True, no add_bias_kv, kdim = vdim = embed_dim)"

MHA_PARAMS = Exercise(
    id="08.mha_params",
    title="The parameters of multi-head attention",
    kind="number",
    points=1,
    prompt=(
        f"mha_parameter_count() returns, as an int, the number of parameters of {MHA}: "
        "sum(p.numel() for p in mha.parameters()). Work it out with arithmetic."
    ),
    reference=lambda: 3 * 64 * 64 + 3 * 64 + 64 * 64 + 64,
    cases=lambda: [Case(MHA, (),
                        "Each head works on its own d = E / h features of the SAME three projections, so the heads "
                        "share out the projections' parameters instead of multiplying them: the count does not depend "
                        "on the number of heads.")],
    compare=whole_number("a number of parameters"),
    forbidden=(
        "torch.nn.MultiheadAttention", "helpers.nn.attention.MultiheadAttention", "torch.nn.Linear",
        "torch.nn.modules.linear.NonDynamicallyQuantizableLinear", "torch.nn.Module.parameters",
        "torch.nn.Module.named_parameters", "torch.nn.Module.state_dict", "helpers.models.count_parameters",
    ),
    instead="This exercise asks for the arithmetic, not for the module built and counted: three input projections "
    "and an output projection, each E x E with a bias of E.",
    hints=[
        "The module projects the queries, keys and values with three E x E matrices (stored together as "
        "in_proj_weight, (3E, E)) and one bias of 3E, then mixes the heads' outputs with out_proj, an E x E "
        "nn.Linear with its bias.",
        "The heads do not add parameters: head k uses rows k d..(k + 1) d - 1 of each projection, d = E / h. Eight "
        "heads of 8 features cost what one head of 64 does.",
        "3 * 64 * 64 + 3 * 64 (the input projections) + 64 * 64 + 64 (out_proj).",
    ],
    wrong={
        "Each head was given its own full E x E projections: the heads SHARE the three projections, each using d = "
        "E / h of their rows, so the count does not depend on the number of heads.": (
            lambda: 8 * (3 * 64 * 64 + 3 * 64) + 64 * 64 + 64
        ),
        "Only one head's projections were counted (E x d each): the three projections are E x E, all the heads' rows "
        "together.": lambda: 3 * 64 * 8 + 3 * 8 + 64 * 64 + 64,
        "The output projection was left out: after the heads are merged, out_proj (an E x E nn.Linear with a bias) "
        "mixes them.": lambda: 3 * 64 * 64 + 3 * 64,
        "The biases were left out: in_proj_bias (3E) and out_proj.bias (E) are there by default (bias=True).": (
            lambda: 4 * 64 * 64
        ),
    },
)

EXERCISES = [SPLIT_HEADS, MERGE_HEADS, MHA_PARAMS]
