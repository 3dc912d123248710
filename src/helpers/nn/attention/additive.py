"""Additive (Bahdanau) attention: the score of a query and a key is a small network of the two.

Bahdanau, Cho & Bengio (2015) score the decoder state s against each encoder state h_j with a one-hidden-layer
network, their "alignment model" e_ij = v_a^T tanh(W_a s_{i-1} + U_a h_j). In query/key/value words::

    e_ij = w_v^T tanh(W_q q_i + W_k k_j)         a score per pair (i, j), no biases
    a_ij = softmax_j(e_ij + M_ij)                 the weights: row i sums to 1
    c_i  = sum_j a_ij v_j                         the context vector of query i

    query: (N, L, E_q), key: (N, S, E_k), value: (N, S, E_v) -> (context (N, L, E_v), weights (N, L, S))
    W_q: (H, E_q), W_k: (H, E_k), w_v: (1, H)       H the hidden size

Unlike dot-product attention, queries and keys may have different sizes, and the score is not bilinear: the
tanh lets it be any smooth function of the pair. The price is an (N, L, S, H) tensor of hidden features
instead of one matmul. The mask M follows ``functional.scaled_dot_product_attention``: bool True = takes
part, float added to the scores; a fully masked row gets weights 0 (``functional.safe_softmax``).

``AdditiveAttention(query_size, key_size, hidden_size)`` holds W_q, W_k, w_v as bias-free ``nn.Linear``
layers (the names of d2l.ai's ``AdditiveAttention``) and calls ``additive_attention``.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.nn.attention.functional import _additive_mask, safe_softmax

__all__ = ["AdditiveAttention", "additive_attention"]


def additive_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, weight_q: torch.Tensor,
                       weight_k: torch.Tensor, weight_v: torch.Tensor, attn_mask: torch.Tensor | None = None
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """(context, weights) with e_ij = w_v^T tanh(W_q q_i + W_k k_j), a = softmax_j(e + M), c = a V.

    query: (..., L, E_q), key: (..., S, E_k), value: (..., S, E_v), weight_q: (H, E_q), weight_k: (H, E_k),
    weight_v: (1, H) -> (context (..., L, E_v), weights (..., L, S)).
    """
    for name, x, columns in (("query", query, weight_q.shape[-1]), ("key", key, weight_k.shape[-1])):
        if x.ndim < 2 or x.shape[-1] != columns:
            raise ValueError(f"additive_attention: {name} must be (..., length, {columns}) to match the columns of "
                             f"weight_{name[0]}, got {list(x.shape)}.")
    if weight_q.shape[0] != weight_k.shape[0] or tuple(weight_v.shape) != (1, weight_q.shape[0]):
        raise ValueError("additive_attention: weight_q (H, E_q), weight_k (H, E_k) and weight_v (1, H) must share "
                         f"the hidden size H, got {list(weight_q.shape)}, {list(weight_k.shape)} and "
                         f"{list(weight_v.shape)}.")
    if value.shape[-2] != key.shape[-2]:
        raise ValueError(f"additive_attention: key and value must have the same length S (dimension -2), got "
                         f"{list(key.shape)} and {list(value.shape)}.")
    features = torch.tanh((query @ weight_q.T).unsqueeze(-2) + (key @ weight_k.T).unsqueeze(-3))  # (..., L, S, H)
    scores = (features @ weight_v.T).squeeze(-1)  # (..., L, S)
    if attn_mask is not None:
        if attn_mask.dtype != torch.bool and not attn_mask.is_floating_point():
            raise TypeError(f"additive_attention: attn_mask must be bool (True = takes part) or floating point "
                            f"(added to the scores), got {attn_mask.dtype}: use attn_mask.bool().")
        scores = scores + _additive_mask(attn_mask, scores.dtype)
    weights = safe_softmax(scores)
    return weights @ value, weights


class AdditiveAttention(nn.Module):
    """Bahdanau attention as a module: W_q, W_k, w_v as ``nn.Linear(..., bias=False)``.

    forward(query (N, L, E_q), key (N, S, E_k), value (N, S, E_v), attn_mask=None)
    -> (context (N, L, E_v), weights (N, L, S)); attn_mask: bool True = takes part, or float added.
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, device=None, dtype=None) -> None:
        super().__init__()
        for name, n in (("query_size", query_size), ("key_size", key_size), ("hidden_size", hidden_size)):
            if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
                raise ValueError(f"AdditiveAttention: {name} must be a positive int, got {n!r}.")
        self.W_q = nn.Linear(query_size, hidden_size, bias=False, device=device, dtype=dtype)
        self.W_k = nn.Linear(key_size, hidden_size, bias=False, device=device, dtype=dtype)
        self.w_v = nn.Linear(hidden_size, 1, bias=False, device=device, dtype=dtype)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return additive_attention(query, key, value, self.W_q.weight, self.W_k.weight, self.w_v.weight, attn_mask)
