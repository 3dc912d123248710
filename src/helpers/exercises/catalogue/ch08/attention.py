"""Chapter 8: scaled dot-product attention with a boolean mask (F.scaled_dot_product_attention), and the causal
mask."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.ch08.shared import ATTENTION
from helpers.exercises.catalogue.common import F64, close_by_dtype, gen
from helpers.exercises.compare import describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

F32 = torch.float32
TOLERANCE = close_by_dtype(float64=(1e-10, 1e-12), float32=(1e-4, 1e-5))


# ---------------------------------------------------------------- scaled dot-product attention
def _random_mask(g: torch.Generator, L: int, S: int, batch: tuple = ()) -> torch.Tensor:
    """A boolean (*batch, L, S) mask, about half True, with at least one True per row (no query is left with no
    key to look at: the softmax of a row of -inf is 0 / 0)."""
    mask = torch.rand(*batch, L, S, generator=g) < 0.5
    keep = torch.randint(S, (*batch, L, 1), generator=g)
    return mask.scatter(-1, keep, True)


def _attention_cases() -> list[Case]:
    g = gen(81)

    def qkv(batch, L, S, E, Ev, dtype=F64, scale=1.0):
        return tuple(scale * torch.randn(*batch, n, e, generator=g, dtype=dtype) for n, e in ((L, E), (S, E), (S, Ev)))

    causal5 = torch.ones(5, 5, dtype=torch.bool).tril()
    causal8x10 = torch.ones(8, 10, dtype=torch.bool).tril()
    causal6 = torch.ones(6, 6, dtype=torch.bool).tril()
    return [
        Case("query, key and value (4, 4), no mask, float64", qkv((), 4, 4, 4, 4),
             "The simplest case, no mask: softmax(Q K^T / sqrt(E)) V. Here L = S = E, so every product has a valid "
             "shape and a step taken the wrong way still runs: compare each step with the formula."),
        Case("a batch: query (2, 3, 8), key (2, 5, 8), value (2, 5, 6), no mask, float64", qkv((2,), 3, 5, 8, 6),
             "Each query's weights are a softmax over the S keys, the last axis of the (..., L, S) scores, divided "
             "by sqrt(E) first; the output has one row per query and the values' width E_v."),
        Case("a causal mask (5, 5) (True on and below the diagonal): query, key and value (2, 5, 8), float64",
             (*qkv((2,), 5, 5, 8, 8), causal5),
             "A boolean mask says which keys each query may use: True takes part, False is left out entirely (its "
             "score becomes -inf, its weight 0), and the weights of the keys that remain still sum to 1."),
        Case("heads and a random mask (3, 6): query (2, 4, 3, 16), key (2, 4, 6, 16), value (2, 4, 6, 8), float64",
             (*qkv((2, 4), 3, 6, 16, 8), _random_mask(g, 3, 6)),
             "The (L, S) mask broadcasts over the leading dimensions (batch and heads), as torch's addition does: "
             "the same keys are hidden from each query in every head."),
        Case("float32: query (3, 4, 8), key (3, 7, 8), value (3, 7, 5), no mask", qkv((3,), 4, 7, 8, 5, F32),
             "Any dtype: the output keeps the inputs' float32 (a constant made with torch.tensor(...) needs "
             "dtype=query.dtype, or it may turn the result into another dtype)."),
        Case("large scores: query (3, 4), key (5, 4), value (5, 2), entries of size about 30, float64",
             qkv((), 3, 5, 4, 2, scale=30.0),
             "Scores in the hundreds: exp(s) overflows float64 beyond s = 709 and inf / inf is nan. softmax(s) = "
             "softmax(s - max s), and torch.softmax subtracts the maximum for you."),
        Case("query (4, 8, 32), key (4, 10, 32), value (4, 10, 16), a causal mask (8, 10), float64",
             (*qkv((4,), 8, 10, 32, 16), causal8x10), hidden=True),
        Case("one query: query (1, 16), key (12, 16), value (12, 5), float32", qkv((), 1, 12, 16, 5, F32), hidden=True),
        Case("a mask per example (2, 1, 4, 6): query (2, 3, 4, 8), key (2, 3, 6, 8), value (2, 3, 6, 4), float64",
             (*qkv((2, 3), 4, 6, 8, 4), _random_mask(g, 4, 6, (2, 1))), hidden=True),
        Case("L = S = E = 6 with a causal mask: query, key and value (3, 6, 6), float64",
             (*qkv((3,), 6, 6, 6, 6), causal6), hidden=True),
        Case("a mask that is all True (5, 7): query (2, 5, 4), key (2, 7, 4), value (2, 7, 3), float32",
             (*qkv((2,), 5, 7, 4, 3, F32), torch.ones(5, 7, dtype=torch.bool)), hidden=True),
    ]


def _sdpa(query, key, value, attn_mask=None) -> torch.Tensor:
    scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1])  # (..., L, S)
    if attn_mask is not None:
        scores = scores.masked_fill(~attn_mask, -math.inf)  # False: that key takes no part
    return torch.softmax(scores, dim=-1) @ value


def _sdpa_with(scale="sqrt", axis=-1, transpose=True, mask="fill", weights=False, stable=True):
    """Attention with one of the known mistakes. mask: how the boolean mask is used ("fill": -inf where False;
    "inverted": -inf where True; "after": weights multiplied by it after the softmax; "ignored"; "added": added
    as 1/0; "zero": masked scores set to 0; "times_inf": (~mask) * -inf added)."""

    def answer(query, key, value, attn_mask=None):
        E = query.shape[-1]
        divide = {"sqrt": math.sqrt(E), "none": 1.0, "E": float(E), "sqrt32": torch.sqrt(torch.tensor(E))}[scale]
        scores = (query @ (key.transpose(-2, -1) if transpose else key)) / divide
        if attn_mask is not None:
            if mask == "fill":
                scores = scores.masked_fill(~attn_mask, -math.inf)
            elif mask == "inverted":
                scores = scores.masked_fill(attn_mask, -math.inf)
            elif mask == "added":
                scores = scores + attn_mask
            elif mask == "zero":
                scores = scores.masked_fill(~attn_mask, 0.0)
            elif mask == "times_inf":
                scores = scores + (~attn_mask) * -math.inf
        w = torch.softmax(scores, dim=axis) if stable else scores.exp() / scores.exp().sum(dim=axis, keepdim=True)
        if attn_mask is not None and mask == "after":
            w = w * attn_mask
        return w if weights else w @ value

    return answer


ATTENTION_EXERCISE = Exercise(
    id="08.attention",
    title="Scaled dot-product attention",
    kind="implement",
    points=2,
    prompt=(
        "scaled_dot_product_attention(query, key, value, attn_mask=None) returns F.scaled_dot_product_attention("
        "query, key, value, attn_mask): softmax(Q K^T / sqrt(E) + M) V, the softmax over the keys. query (..., L, E), "
        "key (..., S, E), value (..., S, E_v) -> (..., L, E_v), in the inputs' dtype; the leading dimensions (batch, "
        "heads) are the same for all three. attn_mask is None or a bool tensor that broadcasts to (..., L, S): True "
        "where query i may attend to key j, False where that key takes no part (M = -inf there, 0 elsewhere). "
        "Every query may attend to at least one key."
    ),
    reference=_sdpa,
    cases=_attention_cases,
    compare=TOLERANCE,
    forbidden=ATTENTION,
    instead=("Write it with a matrix product (@ and .transpose(-2, -1)), masked_fill or torch.where, and torch.softmax:"
             " no attention function or module, torch's or the book's."),
    hints=[
        "Three steps: the scores S = Q K^T / sqrt(E), one row per query and one column per key, (..., L, S); the "
        "weights W = softmax(S) along the keys (dim=-1), each row summing to 1; the output W V.",
        "The key is (..., S, E): key.transpose(-2, -1) is (..., E, S), so query @ key.transpose(-2, -1) works for any "
        "number of leading dimensions (key.T does not). E is query.shape[-1].",
        "A False in the mask must give the key a weight of exactly 0 while the others still sum to 1: set its score "
        "to -inf BEFORE the softmax, scores.masked_fill(~attn_mask, float('-inf')).",
        "scores = query @ key.transpose(-2, -1) / math.sqrt(query.shape[-1]); if attn_mask is not None: scores = "
        "scores.masked_fill(~attn_mask, float('-inf')); return torch.softmax(scores, dim=-1) @ value.",
    ],
    wrong={
        "The scores were not scaled: dividing by sqrt(E) keeps their variance near 1 whatever the width E; without "
        "it the softmax saturates as E grows (one weight near 1, the gradients near 0).": _sdpa_with(scale="none"),
        "The scores were divided by E instead of sqrt(E): q . k is a sum of E terms, so its standard deviation grows "
        "like sqrt(E), and sqrt(E) is what brings it back to 1. Dividing by E flattens the weights towards "
        "uniform.": _sdpa_with(scale="E"),
        "The scale was computed in float32: torch.sqrt(torch.tensor(E)) makes a float32 tensor, whose sqrt(E) is "
        "rounded to about 7 digits, so float64 inputs come out off by about 1e-8. Use math.sqrt(E) or E ** 0.5, a "
        "Python float, which divides in the inputs' dtype.": _sdpa_with(scale="sqrt32"),
        "The softmax ran over the queries (dim=-2): each query's weights over the KEYS must sum to 1, so the "
        "softmax runs along the last axis of the (..., L, S) scores, dim=-1.": _sdpa_with(axis=-2),
        "The mask was read the other way round: here, as in F.scaled_dot_product_attention, True means the key TAKES "
        "PART and False hides it (nn.MultiheadAttention's masks use the opposite convention, True = blocked).": (
            _sdpa_with(mask="inverted")
        ),
        "The weights were multiplied by the mask after the softmax: the masked keys get weight 0, but the remaining "
        "weights no longer sum to 1. Mask the SCORES with -inf before the softmax, which renormalises.": (
            _sdpa_with(mask="after")
        ),
        "The key was not transposed: the scores pair every query with every key, Q K^T, (L, E) @ (E, S). query @ key "
        "runs only when E = S, and then it multiplies the wrong entries.": _sdpa_with(transpose=False),
        "The mask was ignored: where it is False the key must take no part (score -inf, weight 0).": (
            _sdpa_with(mask="ignored")
        ),
        "The boolean mask was added to the scores: True counts as 1 and False as 0, so every key still takes part "
        "(the allowed ones get +1). A False must become -inf: scores.masked_fill(~attn_mask, float('-inf')).": (
            _sdpa_with(mask="added")
        ),
        "The masked scores were set to 0: exp(0) = 1, so a masked key still gets a weight like any other. Set them "
        "to -inf, whose exp is 0.": _sdpa_with(mask="zero"),
        "The mask was built as (~attn_mask) * float('-inf'): 0 * inf is nan in floating point, so every allowed "
        "score became nan. Use masked_fill or torch.where, which never multiply by inf.": (
            _sdpa_with(mask="times_inf")
        ),
        "The attention weights were returned, not the output: the weights (..., L, S) say how much each key counts; "
        "the output is their average of the values, weights @ value, (..., L, E_v).": _sdpa_with(weights=True),
        "The softmax was written as exp(s) / sum exp(s) without subtracting the maximum: exp overflows to inf for "
        "scores above 709 (float64) or 88 (float32), and inf / inf is nan. torch.softmax is stable.": (
            _sdpa_with(stable=False)
        ),
    },
)


# ---------------------------------------------------------------- the causal mask
def _causal_mask(length: int) -> torch.Tensor:
    return torch.ones(length, length, dtype=torch.bool).tril()  # row i: True in columns 0..i


def _mask_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """The bool (L, L) mask: the type, the shape, the dtype (a float mask is a different convention, so a wrong
    value, diagnosed), then the first row that differs."""
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"returned {describe(got)} where a bool tensor of shape {tuple(expected.shape)} was expected",
                        kind=ResultKind.WRONG_TYPE)
    if got.shape != expected.shape:
        return Mismatch(f"expected shape {tuple(expected.shape)}, one row per query and one column per key, got shape "
                        f"{tuple(got.shape)}")
    if got.dtype != torch.bool:
        return Mismatch(f"returned {str(got.dtype).replace('torch.', '')} values where a bool mask (True = may "
                        "attend) was expected")
    rows = (got != expected).any(dim=1).nonzero()
    if len(rows) == 0:
        return None
    i = int(rows[0])
    return Mismatch(f"row {i} (query {i}) should be True in columns 0..{i} and False after, got "
                    f"{got[i].int().tolist()}")


CAUSAL_MASK = Exercise(
    id="08.causal_mask",
    title="A causal mask",
    kind="implement",
    points=1,
    prompt=(
        "causal_mask(length) returns the boolean (length, length) mask of causal self-attention, in "
        "F.scaled_dot_product_attention's convention: mask[i, j] is True where query i may attend to key j, that is "
        "j <= i (a position sees itself and the past, never the future), and False elsewhere."
    ),
    reference=_causal_mask,
    cases=lambda: [
        Case("length = 4", (4,),
             "Row i is query i: True in columns 0..i, itself and the positions before it, and False for the future, "
             "so that predicting token i + 1 cannot peek at it."),
        Case("length = 1", (1,), "One position attends to itself: the diagonal is always True, so no query is left "
             "with nothing to look at (a row of -inf has no softmax)."),
        Case("length = 2", (2,), "The first position sees only itself; the second sees both."),
        Case("length = 6", (6,), "The mask is lower triangular, diagonal included: 21 of its 36 entries are True."),
        Case("length = 9", (9,), hidden=True),
        Case("length = 16", (16,), hidden=True),
        Case("length = 0, an empty sequence", (0,), hidden=True),
    ],
    compare=_mask_compare,
    forbidden=(
        "torch.nn.Transformer.generate_square_subsequent_mask",
        "torch.nn.modules.transformer._generate_square_subsequent_mask",
        "torch.nn.attention.bias.causal_upper_left", "torch.nn.attention.bias.causal_lower_right",
        "torch.nn.attention.bias.CausalBias", "helpers.nn.attention.causal_mask",
    ),
    instead="Build it from torch.ones, torch.tril (or torch.arange and a comparison), with dtype=torch.bool.",
    hints=[
        "Draw it for length 3: row i is query i, column j is key j. Which (i, j) are allowed when position i may look "
        "only at itself and the past?",
        "The allowed entries are on and below the diagonal: a lower-triangular matrix. torch.tril keeps the lower "
        "triangle of a matrix (diagonal=0 keeps the diagonal too).",
        "The mask is bool, True = may attend: torch.ones(length, length, dtype=torch.bool).tril(), or "
        "torch.arange(length)[None, :] <= torch.arange(length)[:, None].",
    ],
    wrong={
        "The diagonal was left out: position i may attend to itself (j <= i, not j < i). Without it the first "
        "position has nothing to attend to, a row of -inf, whose softmax is nan.": (
            lambda length: torch.ones(length, length, dtype=torch.bool).tril(-1)
        ),
        "That is the upper triangle: it lets every position attend to the FUTURE (j >= i), exactly what a causal "
        "mask forbids. The allowed entries are on and below the diagonal, tril.": (
            lambda length: torch.ones(length, length, dtype=torch.bool).triu()
        ),
        "That is nn.MultiheadAttention's convention (True = blocked, the strict upper triangle). Here, as in "
        "F.scaled_dot_product_attention, True means MAY attend: the lower triangle with its diagonal.": (
            lambda length: torch.ones(length, length, dtype=torch.bool).triu(1)
        ),
        "That is the additive float mask (0 where allowed, -inf above the diagonal), the form "
        "nn.Transformer.generate_square_subsequent_mask returns and that is added to the scores. This exercise "
        "asks for the boolean form, True = may attend (the book's causal_mask): use dtype=torch.bool.": (
            lambda length: torch.zeros(length, length).masked_fill(
                ~torch.ones(length, length, dtype=torch.bool).tril(), -math.inf)
        ),
        "Right pattern, wrong dtype: 1.0 and 0.0 are numbers, and F.scaled_dot_product_attention ADDS a float mask to "
        "the scores (+1 or +0), hiding nothing. Make it bool: torch.ones(length, length, dtype=torch.bool).tril().": (
            lambda length: torch.ones(length, length).tril()
        ),
    },
)

EXERCISES = [ATTENTION_EXERCISE, CAUSAL_MASK]
