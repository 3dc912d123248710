"""Scaled dot-product attention, as ``torch.nn.functional.scaled_dot_product_attention``, and its backward.

A query q asks every key k_j how well it matches; the softmax of the scores weighs the values v_j::

    scores  S = scale * Q K^T + M           (..., L, S)   scale = 1 / sqrt(E) unless given
    weights W = softmax(S) along the keys   (..., L, S)   every row sums to 1
    output  O = W V                         (..., L, E_v)

    query: (N, ..., L, E), key: (N, ..., S, E), value: (N, ..., S, E_v) -> (N, ..., L, E_v)

Why 1 / sqrt(E): for q, k with independent entries of mean 0 and variance 1, q . k is a sum of E terms of
variance 1, so it has variance E. Unscaled, the scores grow with the width and the softmax saturates (one
weight near 1, the gradients near 0); divided by sqrt(E) they have variance 1 whatever E is.

The mask M follows torch's convention for this function: a BOOLEAN mask says which pairs TAKE PART (True:
query i may look at key j; False becomes -inf in the scores); a FLOAT mask is ADDED to the scores. It
broadcasts against the scores (..., L, S) as torch's addition does. ``is_causal=True`` uses
``causal_mask(L, S)``: query i sees keys 0..i (torch's ``tril`` of an (L, S) matrix of ones, aligned top-left
when L != S). Careful: ``nn.MultiheadAttention`` (and ``multihead.MultiheadAttention``) use the OPPOSITE
boolean convention, True = blocked.

A fully masked row (every score of query i is -inf) has no softmax: exp(-inf) / sum exp(-inf) = 0 / 0 = NaN.
Torch's math backend (since 2.5; measured on torch 2.13 CPU in float64 and float32, with and without
autograd) uses a "safe" softmax that returns 0 for such a row instead, so that query's output row is 0 and
no gradient flows through it (0 too, not NaN). ``attention_weights`` and ``scaled_dot_product_attention``
do the same. (``nn.MultiheadAttention`` with ``need_weights=True`` uses a plain softmax: NaN there.)

``dropout_p`` > 0 drops weights as torch does, always (not only in training: pass 0.0 in evaluation), by
``F.dropout`` on W before W V; with the same seed on the CPU the dropped entries are torch's.

``scaled_dot_product_attention_backward`` writes out the gradients, with G = dL/dO::

    dV = W^T G,   dW = G V^T,   dS = W * (dW - rowsum(dW * W)),   dQ = scale dS K,   dK = scale dS^T Q

the middle one being the softmax's Jacobian, dS_ij = W_ij (dW_ij - sum_k dW_ik W_ik).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["attention_scores", "attention_weights", "causal_mask", "dot_product_attention", "safe_softmax",
           "scaled_dot_product_attention", "scaled_dot_product_attention_backward"]


def causal_mask(L: int, S: int | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """The boolean (L, S) mask with True where key j <= query i may take part: ``torch.ones(L, S).tril()``.

    S defaults to L. Row i is True in columns 0..i: position i attends to itself and the past, never the future.
    """
    S = L if S is None else S
    for name, n in (("L", L), ("S", S)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"causal_mask: {name} must be a non-negative int (a sequence length), got {n!r}.")
    return torch.ones(L, S, dtype=torch.bool, device=device).tril()


def safe_softmax(scores: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """softmax along ``dim``, but 0 (not NaN) on a row whose scores are all -inf, as torch's ``_safe_softmax``.

    Such a row is replaced by zeros before the softmax (so neither its value nor its gradient is NaN) and its
    weights are then set to 0: the gradient through it is 0.
    """
    masked = (scores == -math.inf).all(dim=dim, keepdim=True)
    weights = torch.softmax(scores.masked_fill(masked, 0.0), dim=dim)
    return weights.masked_fill(masked, 0.0)


def _additive_mask(attn_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """A boolean mask (True = takes part) as 0 / -inf in ``dtype``; a float mask cast to ``dtype``."""
    if attn_mask.dtype == torch.bool:
        return torch.zeros(attn_mask.shape, dtype=dtype, device=attn_mask.device).masked_fill(~attn_mask, -math.inf)
    return attn_mask.to(dtype)


def _check(where: str, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor | None,
           attn_mask: torch.Tensor | None, is_causal: bool) -> None:
    tensors = {"query": query, "key": key} | ({} if value is None else {"value": value})
    for name, x in tensors.items():
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{where}: {name} must be a torch.Tensor, got {type(x).__name__}.")
        if not x.is_floating_point():
            raise TypeError(f"{where}: {name} must be floating point, got {x.dtype}: convert it, e.g. {name}.double().")
        if x.ndim < 2:
            raise ValueError(f"{where}: {name} must be at least 2-D, (..., length, features), got shape "
                             f"{list(x.shape)}. For one query use query[None].")
    if len({x.dtype for x in tensors.values()}) > 1:
        raise TypeError(f"{where}: query, key and value must have the same dtype, got "
                        f"{', '.join(str(x.dtype) for x in tensors.values())}.")
    if key.shape[-1] != query.shape[-1]:
        raise ValueError(f"{where}: query and key must have the same feature size E (the last dimension), got "
                         f"query {list(query.shape)} and key {list(key.shape)}.")
    if value is not None and value.shape[-2] != key.shape[-2]:
        raise ValueError(f"{where}: key and value must have the same length S (dimension -2): one value per key, "
                         f"got key {list(key.shape)} and value {list(value.shape)}.")
    try:
        batch = torch.broadcast_shapes(*(x.shape[:-2] for x in tensors.values()))
    except RuntimeError:
        raise ValueError(f"{where}: the leading (batch) dimensions of query, key and value must match or broadcast, "
                         f"got {', '.join(str(list(x.shape)) for x in tensors.values())}.") from None
    if attn_mask is None:
        return
    if is_causal:
        raise ValueError(f"{where}: pass either attn_mask or is_causal=True, not both (torch refuses it too). For a "
                         "causal mask combined with another, pass attn_mask=causal_mask(L, S) & your_mask.")
    if attn_mask.dtype != torch.bool and not attn_mask.is_floating_point():
        raise TypeError(f"{where}: attn_mask must be bool (True = takes part) or floating point (added to the "
                        f"scores), got {attn_mask.dtype}: use attn_mask.bool() for a 0/1 mask.")
    scores = (*batch, query.shape[-2], key.shape[-2])
    try:
        broadcast = torch.broadcast_shapes(attn_mask.shape, scores)
    except RuntimeError:
        broadcast = None
    if broadcast != scores:
        raise ValueError(f"{where}: attn_mask of shape {list(attn_mask.shape)} does not broadcast to the scores' "
                         f"shape (..., L, S) = {list(scores)}: give it shape (L, S) = {list(scores[-2:])}, or "
                         "with leading dimensions of size 1 or equal to the batch's.")


def attention_scores(query: torch.Tensor, key: torch.Tensor, attn_mask: torch.Tensor | None = None,
                     is_causal: bool = False, scale: float | None = None) -> torch.Tensor:
    """The masked scores S = scale Q K^T + M: query (..., L, E), key (..., S, E) -> (..., L, S).

    scale defaults to 1 / sqrt(E); M is the mask as in ``scaled_dot_product_attention``.
    """
    _check("attention_scores", query, key, None, attn_mask, is_causal)
    return _scores(query, key, attn_mask, is_causal, scale)


def _scores(query, key, attn_mask, is_causal, scale) -> torch.Tensor:
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.transpose(-2, -1)) * scale
    if is_causal:
        attn_mask = causal_mask(query.shape[-2], key.shape[-2], device=query.device)
    return scores if attn_mask is None else scores + _additive_mask(attn_mask, scores.dtype)


def attention_weights(query: torch.Tensor, key: torch.Tensor, attn_mask: torch.Tensor | None = None,
                      is_causal: bool = False, scale: float | None = None) -> torch.Tensor:
    """W = softmax(scale Q K^T + M) along the keys: query (..., L, E), key (..., S, E) -> (..., L, S).

    Every row sums to 1, except a fully masked row, which is 0 (``safe_softmax``). These are the weights that
    ``scaled_dot_product_attention`` applies to the values (before dropout).
    """
    _check("attention_weights", query, key, None, attn_mask, is_causal)
    return safe_softmax(_scores(query, key, attn_mask, is_causal, scale))


def _repeat_kv(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Grouped-query attention: each of the H_kv key/value heads serves H_q / H_kv consecutive query heads."""
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3 or query.shape[-3] % key.shape[-3] \
            or key.shape[-3] != value.shape[-3]:
        raise ValueError("scaled_dot_product_attention(enable_gqa=True): query (..., H_q, L, E), key and value "
                         "(..., H_kv, S, E) with H_q a multiple of H_kv, got "
                         f"{list(query.shape)}, {list(key.shape)} and {list(value.shape)}.")
    groups = query.shape[-3] // key.shape[-3]
    return key.repeat_interleave(groups, dim=-3), value.repeat_interleave(groups, dim=-3)


def scaled_dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                                 attn_mask: torch.Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> torch.Tensor:
    """O = dropout(softmax(scale Q K^T + M)) V, as ``F.scaled_dot_product_attention``.

    query: (N, ..., L, E), key: (N, ..., S, E), value: (N, ..., S, E_v) -> (N, ..., L, E_v)

    attn_mask: bool (True = TAKES PART) or float (added to the scores), broadcastable to (N, ..., L, S);
    is_causal: the mask ``causal_mask(L, S)`` (not together with attn_mask); scale: 1 / sqrt(E) by default;
    dropout_p: the probability of dropping each weight, applied whenever > 0 (torch's rule: pass 0.0 when
    evaluating); enable_gqa: key and value have fewer heads (dimension -3) than query, each shared by a group
    of consecutive query heads. A fully masked row gives a row of zeros, as torch (see the module's docstring).
    """
    if enable_gqa and all(isinstance(x, torch.Tensor) for x in (query, key, value)):
        key, value = _repeat_kv(query, key, value)
    _check("scaled_dot_product_attention", query, key, value, attn_mask, is_causal)
    if isinstance(dropout_p, bool) or not isinstance(dropout_p, (int, float)) or not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p is the probability of dropping a weight, a number "
                         f"in [0, 1], got {dropout_p!r}.")
    weights = safe_softmax(_scores(query, key, attn_mask, is_causal, scale))
    if dropout_p > 0.0:
        weights = F.dropout(weights, dropout_p, training=True)
    return weights @ value


def dot_product_attention(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                          attn_mask: torch.Tensor | None = None) -> torch.Tensor:
    """O = softmax(Q K^T + M) V, unscaled (Luong et al. 2015): ``scaled_dot_product_attention`` with scale=1.

    query: (N, ..., L, E), key: (N, ..., S, E), value: (N, ..., S, E_v) -> (N, ..., L, E_v); the mask as there.
    """
    return scaled_dot_product_attention(query, key, value, attn_mask=attn_mask, scale=1.0)


def scaled_dot_product_attention_backward(grad_output: torch.Tensor, query: torch.Tensor, key: torch.Tensor,
                                          value: torch.Tensor, weights: torch.Tensor, scale: float | None = None
                                          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(dL/dQ, dL/dK, dL/dV) of O = W V, W = softmax(scale Q K^T + M), from G = dL/dO, without dropout.

    grad_output: (..., L, E_v), query: (..., L, E), key: (..., S, E), value: (..., S, E_v),
    weights: (..., L, S), the W of the forward pass (``attention_weights``), scale: 1 / sqrt(E) if None::

        dV = W^T G,   dW = G V^T,   dS = W * (dW - rowsum(dW * W)),   dQ = scale dS K,   dK = scale dS^T Q

    The mask is a constant added to the scores: it has no term of its own, it acts through W (a masked entry
    has W_ij = 0, so dS_ij = 0; a fully masked row has dS = 0). Gradients of broadcast inputs are summed
    back to their shapes.
    """
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    grad_value = weights.transpose(-2, -1) @ grad_output
    grad_weights = grad_output @ value.transpose(-2, -1)
    grad_scores = weights * (grad_weights - (grad_weights * weights).sum(dim=-1, keepdim=True))
    grad_query = scale * (grad_scores @ key)
    grad_key = scale * (grad_scores.transpose(-2, -1) @ query)
    return grad_query.sum_to_size(query.shape), grad_key.sum_to_size(key.shape), grad_value.sum_to_size(value.shape)
