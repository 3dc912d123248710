"""What the chapter 8 exercises share: the attention functions and modules they forbid, under every name an answer
can reach them by, and exact comparisons of rearranged tensors with a message that says where an entry went."""

from __future__ import annotations

import torch

from helpers.exercises.compare import describe
from helpers.exercises.spec import Compare, Mismatch, ResultKind

# torch's fused attention: the function, the C entry points its backends are (torch.* and torch._C._nn hold the
# same objects as F), and aten's ops; torch.ops.aten.<op> and each overload are separate objects to the checker.
_SDPA_OPS = (
    "scaled_dot_product_attention", "_scaled_dot_product_attention_math", "_scaled_dot_product_flash_attention",
    "_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_efficient_attention",
    "_scaled_dot_product_cudnn_attention", "_native_multi_head_attention", "_transformer_encoder_layer_fwd",
)
TORCH_ATTENTION = (
    "torch.nn.functional.scaled_dot_product_attention",
    *(f"torch.{op}" for op in _SDPA_OPS[1:]),
    *(f"torch.ops.aten.{op}{overload}" for op in _SDPA_OPS for overload in ("", ".default")),
    "torch.nn.functional.multi_head_attention_forward", "torch.nn.MultiheadAttention",
    "torch.nn.attention.flex_attention.flex_attention",
)
# The book's own (helpers.nn.attention): the attention, the scores and weights it is made of, the module.
BOOKS_ATTENTION = tuple(f"helpers.nn.attention.{name}" for name in (
    "scaled_dot_product_attention", "dot_product_attention", "attention_scores", "attention_weights", "safe_softmax",
    "MultiheadAttention",
))
ATTENTION = (*TORCH_ATTENTION, *BOOKS_ATTENTION)

# Splitting and merging heads: the book's functions, and the modules that do it inside.
HEADS = (
    "helpers.nn.attention.split_heads", "helpers.nn.attention.merge_heads", "helpers.nn.attention.MultiheadAttention",
    "torch.nn.MultiheadAttention", "torch.nn.functional.multi_head_attention_forward",
    "torch._native_multi_head_attention",
)


def exact_tensor(what: str, explain) -> Compare:
    """Exact equality of tensors (a rearrangement moves numbers, it computes none): the dtype and shape first, then
    the first entry that differs, described by ``explain(expected, got, index)`` (a sentence) where it can say more.

    what: the result in words, for a wrong type ("the heads").
    """

    def compare(expected: torch.Tensor, got) -> Mismatch | None:
        if not isinstance(got, torch.Tensor):
            return Mismatch(f"returned {describe(got)} where a torch.Tensor ({what}) was expected",
                            kind=ResultKind.WRONG_TYPE)
        if got.dtype != expected.dtype:
            return Mismatch(f"returned {str(got.dtype).replace('torch.', '')} where "
                            f"{str(expected.dtype).replace('torch.', '')} was expected: rearranging keeps the "
                            "input's dtype", kind=ResultKind.WRONG_TYPE)
        if got.shape != expected.shape:
            return Mismatch(f"expected shape {tuple(expected.shape)}, got shape {tuple(got.shape)}")
        differ = (got != expected) & ~(got.isnan() & expected.isnan())
        if not differ.any():
            return None
        index = tuple(int(i) for i in differ.nonzero()[0])
        return Mismatch(explain(expected, got, index))

    return compare
