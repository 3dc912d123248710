"""Multi-head attention, as ``torch.nn.MultiheadAttention``, and the head split and merge it is made of.

Each of h heads attends in its own subspace of size d = E / h, and their outputs are concatenated::

    Q = query W_q^T + b_q,  K = key W_k^T + b_k,  V = value W_v^T + b_v        (N, L or S, E)
    head_i = attention(Q_i, K_i, V_i)     Q_i = features [i d, (i + 1) d) of Q  (split_heads)
    output = concat(head_1 .. head_h) W_o^T + b_o                               (merge_heads, out_proj)

    query: (L, N, E), key: (S, N, E_k), value: (S, N, E_v)  (batch_first: (N, L, E) ...; unbatched: (L, E) ...)
    -> (attn_output (L, N, E), attn_weights (N, L, S) averaged over the heads, or (N, h, L, S), or None)

Torch's parameters and names, so that ``ours.load_state_dict(theirs.state_dict())`` works: ``in_proj_weight``
(3E, E), W_q, W_k, W_v stacked (or, when kdim or vdim differ from E, ``q_proj_weight`` (E, E),
``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim)), ``in_proj_bias`` (3E,), ``out_proj.weight``
(E, E), ``out_proj.bias`` (E,), and with add_bias_kv ``bias_k``, ``bias_v`` (1, 1, E). Initialised as torch:
xavier_uniform_ on the input projections, zeros on both biases, xavier_normal_ on bias_k and bias_v,
``nn.Linear``'s own initialisation for out_proj.weight; with the same seed the values are torch's.

MASKS HERE USE THE OPPOSITE CONVENTION TO ``F.scaled_dot_product_attention``: a boolean True means BLOCKED
(that key is hidden from that query), False takes part. ``key_padding_mask`` (N, S) hides padded keys from
every query; ``attn_mask`` (L, S), or (N h, L, S) for one mask per sample and head (row n h + i), hides pairs.
Float masks are added to the scores. ``is_causal=True`` is a hint that attn_mask (which must be given) is
causal; as in torch it then replaces attn_mask by the causal mask when there is no key_padding_mask and
need_weights=False. add_bias_kv appends a learnt key and value (bias_k, bias_v) to the sequence; add_zero_attn
a key and value of zeros after the heads split: both let a query attend to "nothing".

Two paths, as torch. need_weights=True computes W = softmax(Q_i K_i^T / sqrt(d) + M) with a plain softmax
(a fully masked row is NaN, as in torch) and returns W; need_weights=False calls
``functional.scaled_dot_product_attention`` (a fully masked row is 0, so the output row is out_proj's bias).
Dropout (training only) acts on W, with the same draws as torch's on the CPU; as torch, the weights returned
are the dropped ones.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from helpers.nn.attention.functional import scaled_dot_product_attention

__all__ = ["MultiheadAttention", "merge_heads", "split_heads"]


def split_heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(N, L, E) -> (N, num_heads, L, E / num_heads): head i gets the features [i d, (i + 1) d), d = E / num_heads."""
    if x.ndim != 3:
        raise ValueError(f"split_heads: x must be (N, L, E), got shape {list(x.shape)}. For one sequence use x[None].")
    N, L, E = x.shape
    if isinstance(num_heads, bool) or not isinstance(num_heads, int) or num_heads <= 0 or E % num_heads:
        raise ValueError(f"split_heads: num_heads must be a positive int that divides E = {E}, got {num_heads!r}.")
    return x.reshape(N, L, num_heads, E // num_heads).transpose(1, 2)


def merge_heads(x: torch.Tensor) -> torch.Tensor:
    """(N, num_heads, L, d) -> (N, L, num_heads d): the heads' features side by side, the inverse of split_heads."""
    if x.ndim != 4:
        raise ValueError(f"merge_heads: x must be (N, num_heads, L, d), got shape {list(x.shape)}.")
    N, H, L, d = x.shape
    return x.transpose(1, 2).reshape(N, L, H * d)


def _float_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """torch's ``_canonical_mask``: a boolean mask (True = BLOCKED) as 0 / -inf, a float mask as it is (in dtype)."""
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(mask, -math.inf)
    return mask.to(dtype)


def _check_size(name: str, n, allow_none: bool = False) -> None:
    if (n is None and allow_none) or (isinstance(n, int) and not isinstance(n, bool) and n > 0):
        return
    raise ValueError(f"MultiheadAttention: {name} must be a positive int, got {n!r}.")


class MultiheadAttention(nn.Module):
    """``nn.MultiheadAttention``: h heads of scaled dot-product attention; see the module's docstring.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (attn_output, attn_weights or None).
    Boolean masks: True = BLOCKED.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        for name, n in (("embed_dim", embed_dim), ("num_heads", num_heads), ("kdim", kdim), ("vdim", vdim)):
            _check_size(name, n, allow_none=name in ("kdim", "vdim"))
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim={embed_dim}"
                             f" and num_heads={num_heads}: each head gets embed_dim / num_heads features.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"MultiheadAttention: dropout is the probability of dropping an attention weight, a "
                             f"number in [0, 1], got {dropout!r}.")
        factory = {"device": device, "dtype": dtype}
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.dropout, self.batch_first, self.add_zero_attn = dropout, batch_first, add_zero_attn
        if self._qkv_same_embed_dim:  # registered in torch's order, so that state_dict() lists them as torch's
            self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim, **factory))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = nn.Parameter(torch.empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = nn.Parameter(torch.empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = nn.Parameter(torch.empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = nn.Parameter(torch.empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = nn.Parameter(torch.empty(1, 1, embed_dim, **factory))
            self.bias_v = nn.Parameter(torch.empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """torch's initialisation, in torch's order (out_proj.weight keeps nn.Linear's)."""
        for w in (self.in_proj_weight, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
            if w is not None:
                nn.init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            nn.init.zeros_(self.in_proj_bias)
            nn.init.zeros_(self.out_proj.bias)
        for b in (self.bias_k, self.bias_v):
            if b is not None:
                nn.init.xavier_normal_(b)

    def _projections(self) -> tuple[torch.Tensor, ...]:
        """(W_q, W_k, W_v, b_q, b_k, b_v): the three input projections, each bias None without bias."""
        if self._qkv_same_embed_dim:
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = (None,) * 3 if self.in_proj_bias is None else self.in_proj_bias.chunk(3)
        return *weights, *biases

    def _check(self, query, key, value, key_padding_mask, attn_mask, is_causal) -> bool:
        """torch's checks, with what to do; True for batched (3-D) inputs."""
        if not all(isinstance(x, torch.Tensor) for x in (query, key, value)):
            raise TypeError("MultiheadAttention: query, key and value must be tensors.")
        if query.ndim not in (2, 3) or key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError("MultiheadAttention: query, key and value must all be 3-D, (L, N, E) (or (N, L, E) with "
                             "batch_first=True), or all 2-D (L, E) for one unbatched sequence, got shapes "
                             f"{list(query.shape)}, {list(key.shape)} and {list(value.shape)}.")
        batched = query.ndim == 3
        sizes = {"query": (query, self.embed_dim, "embed_dim"), "key": (key, self.kdim, "kdim"),
                 "value": (value, self.vdim, "vdim")}
        for name, (x, size, what) in sizes.items():
            if x.shape[-1] != size:
                raise ValueError(f"MultiheadAttention: was expecting {name}'s embedding dimension (the last) to be "
                                 f"{what} = {size}, got {name} of shape {list(x.shape)}.")
        seq = 1 if self.batch_first and batched else 0  # where the length is
        if key.shape[:-1] != value.shape[:-1] or (batched and query.shape[1 - seq] != key.shape[1 - seq]):
            raise ValueError("MultiheadAttention: key and value must have the same length S and batch size N, and "
                             f"query the same N, got query {list(query.shape)}, key {list(key.shape)}, value "
                             f"{list(value.shape)} (batch_first={self.batch_first}).")
        N, L, S = (query.shape[1 - seq] if batched else 1), query.shape[seq], key.shape[seq]
        if key_padding_mask is not None and tuple(key_padding_mask.shape) != ((N, S) if batched else (S,)):
            raise ValueError(f"MultiheadAttention: key_padding_mask must be (N, S) = {(N, S) if batched else (S,)}, "
                             f"one entry per key (True = padding, BLOCKED), got {list(key_padding_mask.shape)}.")
        for name, mask in (("key_padding_mask", key_padding_mask), ("attn_mask", attn_mask)):
            if mask is not None and mask.dtype != torch.bool and not mask.is_floating_point():
                raise TypeError(f"MultiheadAttention: {name} must be bool (True = BLOCKED, the opposite of "
                                "F.scaled_dot_product_attention) or floating point (added to the scores), got "
                                f"{mask.dtype}: use {name}.bool().")
        if attn_mask is not None:
            shapes = ((L, S), (N * self.num_heads, L, S))
            if tuple(attn_mask.shape) not in shapes:
                raise ValueError(f"MultiheadAttention: attn_mask must be (L, S) = {shapes[0]} or (N * num_heads, L, S)"
                                 f" = {shapes[1]} (True = BLOCKED), got {list(attn_mask.shape)}.")
        elif is_causal:
            raise ValueError("MultiheadAttention: is_causal=True is a hint that attn_mask is the causal mask: pass "
                             "attn_mask too, e.g. ~causal_mask(L) (True = blocked above the diagonal), as torch asks.")
        return batched

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None, need_weights: bool = True,
                attn_mask: torch.Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """query (L, N, E), key (S, N, kdim), value (S, N, vdim) -> (output (L, N, E), weights or None).

        batch_first: (N, L, E) in and out; unbatched (L, E) in and out. key_padding_mask (N, S) or (S,),
        attn_mask (L, S) or (N num_heads, L, S): bool True = BLOCKED, or float added. weights: (N, L, S)
        averaged over the heads, (N, num_heads, L, S) with average_attn_weights=False, None without need_weights.
        """
        batched = self._check(query, key, value, key_padding_mask, attn_mask, is_causal)
        if not batched:  # one sequence: a batch of one
            query, key, value = query[None], key[None], value[None]
            key_padding_mask = None if key_padding_mask is None else key_padding_mask[None]
        elif not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        (N, L, E), S, H, dtype = query.shape, key.shape[1], self.num_heads, query.dtype

        # the masks as float tensors that broadcast against the scores (N, h, L, S)
        causal_hint = is_causal and key_padding_mask is None and not need_weights  # torch's use of the hint
        if attn_mask is not None:
            shape = (1, 1, L, S) if attn_mask.ndim == 2 else (N, H, L, S)  # row n h + i of a 3-D mask: (n, i)
            attn_mask = None if causal_hint else _float_mask(attn_mask, dtype).reshape(shape)
        if key_padding_mask is not None:
            key_padding_mask = _float_mask(key_padding_mask, dtype).reshape(N, 1, 1, S)

        w_q, w_k, w_v, b_q, b_k, b_v = self._projections()
        q, k, v = F.linear(query, w_q, b_q), F.linear(key, w_k, b_k), F.linear(value, w_v, b_v)
        if self.bias_k is not None:  # a learnt key and value at the end of the sequence, which every query sees
            k = torch.cat([k, self.bias_k.expand(N, 1, E)], dim=1)
            v = torch.cat([v, self.bias_v.expand(N, 1, E)], dim=1)
            attn_mask, key_padding_mask = _pad(attn_mask), _pad(key_padding_mask)
        q, k, v = split_heads(q, H), split_heads(k, H), split_heads(v, H)  # (N, h, L or S, d)
        if self.add_zero_attn:  # a key and value of zeros at the end, in every head
            k = torch.cat([k, k.new_zeros(N, H, 1, self.head_dim)], dim=2)
            v = torch.cat([v, v.new_zeros(N, H, 1, self.head_dim)], dim=2)
            attn_mask, key_padding_mask = _pad(attn_mask), _pad(key_padding_mask)
        mask = attn_mask if key_padding_mask is None else (
            key_padding_mask if attn_mask is None else attn_mask + key_padding_mask)
        p = self.dropout if self.training else 0.0

        weights = None
        if need_weights:  # torch's explicit path: a plain softmax (NaN on a fully masked row)
            scores = (q * math.sqrt(1.0 / self.head_dim)) @ k.transpose(-2, -1)
            weights = torch.softmax(scores if mask is None else scores + mask, dim=-1)  # (N, h, L, S')
            if p > 0:  # torch returns the weights after dropout
                weights = F.dropout(weights, p)
            heads = weights @ v
            if average_attn_weights:
                weights = weights.mean(dim=1)
        else:  # torch calls scaled_dot_product_attention (a fully masked row gives 0)
            heads = scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p, is_causal=causal_hint)
        output = self.out_proj(merge_heads(heads))  # (N, L, E)

        if not batched:
            return output[0], None if weights is None else weights[0]
        return (output if self.batch_first else output.transpose(0, 1)), weights


def _pad(mask: torch.Tensor | None) -> torch.Tensor | None:
    """One more key, which takes part: a 0 appended to the last dimension of a float mask."""
    return None if mask is None else F.pad(mask, (0, 1))
