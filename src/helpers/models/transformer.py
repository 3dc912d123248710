"""The transformer block and a tiny transformer for the sequence tasks of chapter 8.

``TransformerBlock`` is ``nn.TransformerEncoderLayer``: the same constructor, submodules and parameter names
(``self_attn``, ``linear1``, ``linear2``, ``norm1``, ``norm2``, the dropouts ``dropout``, ``dropout1``,
``dropout2``), so ``ours.load_state_dict(theirs.state_dict())`` works and the outputs agree. With
SA = multi-head self-attention and FF(x) = W_2 act(W_1 x + b_1) + b_2 applied at every position:

    pre-norm  (norm_first=True):    x = x + SA(LN_1(x));     x = x + FF(LN_2(x))
    post-norm (norm_first=False):   x = LN_1(x + SA(x));     x = LN_2(x + FF(x))      (the 2017 paper)

Post-norm is the original layout; pre-norm (Xiong et al., 2020, "On Layer Normalization in the Transformer
Architecture") keeps an identity path from input to output through every residual, which trains without a
warm-up and at larger learning rates. Three defaults differ from torch's, for the chapter: ``batch_first=True``
(x is (N, L, E)), ``norm_first=True`` (pre-norm) and ``dropout=0.0``; pass torch's values to get its layer.

One difference in how torch runs: in eval mode with autograd off (``torch.no_grad()``), float32 or float64,
``nn.TransformerEncoderLayer`` may take a fused "fast path" kernel (``torch._transformer_encoder_layer_fwd``);
it computes the same function, up to rounding (1e-16 in float64). Ours always runs the equations above.
The extra last argument ``attention`` picks the attention class (the book's ``MultiheadAttention`` by default,
or ``nn.MultiheadAttention``), so the two can be swapped.

``TinyTransformer`` is the model that learns to reverse a sequence: token embedding (+ positional encoding)
-> ``num_layers`` blocks -> (a final LayerNorm for pre-norm) -> a linear head at every position. Its
``attention_maps`` returns each layer's attention weights for the figures.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from helpers.nn.attention.functional import causal_mask
from helpers.nn.attention.multihead import MultiheadAttention
from helpers.nn.attention.positional import PositionalEncoding

ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}  # torch's _get_activation_fn
POSITIONS = ("sinusoidal", "learned", None)


class TransformerBlock(nn.Module):
    """One encoder layer, as ``nn.TransformerEncoderLayer`` (pre-norm by default): src (N, L, E) -> (N, L, E).

    ``attention`` is the multi-head attention class, built as ``attention(d_model, nhead, dropout=dropout,
    bias=bias, batch_first=batch_first, device=device, dtype=dtype)``: the book's
    ``helpers.nn.attention.multihead.MultiheadAttention`` by default, or ``nn.MultiheadAttention``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.0,
        activation: str | Callable[[torch.Tensor], torch.Tensor] = "relu",
        layer_norm_eps: float = 1e-5,
        batch_first: bool = True,
        norm_first: bool = True,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        attention: type[nn.Module] | None = None,
    ):
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        attention = MultiheadAttention if attention is None else attention
        # built in torch's order, so that the same seed gives the same initial weights
        self.self_attn = attention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory)
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = nn.Dropout(dropout)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(f"activation must be 'relu', 'gelu' or a function, got {activation!r}.")
            activation = ACTIVATIONS[activation]
        elif not callable(activation):
            raise TypeError(f"activation must be 'relu', 'gelu' or a function, got {type(activation).__name__}.")
        self.activation = activation

    def forward(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
    ) -> torch.Tensor:
        """src: (N, L, E) (batch first; (L, N, E) otherwise) -> (N, L, E).

        ``src_mask`` (L, L) or (N nhead, L, L) and ``src_key_padding_mask`` (N, L) are the attention's
        ``attn_mask`` and ``key_padding_mask``: True (or -inf) where a query may NOT look. ``is_causal`` is a hint
        that ``src_mask`` is the causal mask, as in torch (which then requires the mask).
        """
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal) -> torch.Tensor:
        """dropout(SA(x)): self-attention, queries, keys and values all from x."""
        out = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                             is_causal=is_causal)[0]
        return self.dropout1(out)

    def _ff_block(self, x: torch.Tensor) -> torch.Tensor:
        """dropout(W_2 dropout(act(W_1 x + b_1)) + b_2), at every position."""
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def attention_weights(
        self,
        src: torch.Tensor,
        src_mask: torch.Tensor | None = None,
        src_key_padding_mask: torch.Tensor | None = None,
        is_causal: bool = False,
        average_attn_weights: bool = True,
    ) -> torch.Tensor:
        """The self-attention weights this block uses on ``src``: (N, L, L), or (N, nhead, L, L) per head.

        Row i is the distribution over the positions that query i reads. Call ``.eval()`` first if the block
        has dropout (in training the weights come back after attention dropout, as torch returns them).
        """
        x = self.norm1(src) if self.norm_first else src
        return self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask, need_weights=True,
                              average_attn_weights=average_attn_weights, is_causal=is_causal)[1]


class TinyTransformer(nn.Module):
    """tokens (N, L) int64 -> logits (N, L, num_classes): a small encoder with a classifier at every position.

        h = Embedding(tokens) (+ PE[:L])  ->  TransformerBlock x num_layers  ->  (LayerNorm, pre-norm only)
        logits = Linear(h)

    ``positions``: "sinusoidal" (the fixed ``PositionalEncoding``), "learned" (an ``nn.Embedding(max_len,
    d_model)`` of positions) or None (no positions: the model is then permutation-equivariant, and permuting
    the tokens permutes the logits). ``num_classes`` defaults to ``vocab_size``. ``forward(tokens, causal=True)``
    lets position i see only positions <= i (for a language model).

    The embeddings are not multiplied by sqrt(d_model) as in the paper: ``nn.Embedding`` draws N(0, 1) entries,
    rows of norm ~ sqrt(d), already on the scale of the encoding's sqrt(d/2). Scaled, they would be sqrt(d)
    times larger than the positions and drown them (measured on the reversal task, d = 32: the pre-norm model
    needs ~1000 steps instead of ~200, a post-norm one at lr 1e-3 stays at 20-46% after 1500 steps).
    """

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 32,
        nhead: int = 4,
        num_layers: int = 1,
        dim_feedforward: int = 128,
        max_len: int = 512,
        positions: str | None = "sinusoidal",
        norm_first: bool = True,
        dropout: float = 0.0,
        num_classes: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        attention: type[nn.Module] | None = None,
    ):
        super().__init__()
        if positions not in POSITIONS:
            raise ValueError(f"positions must be one of {POSITIONS}, got {positions!r}.")
        for name, value in (("vocab_size", vocab_size), ("num_layers", num_layers), ("max_len", max_len)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        factory = {"device": device, "dtype": dtype}
        self.vocab_size, self.max_len, self.positions = vocab_size, max_len, positions
        self.embedding = nn.Embedding(vocab_size, d_model, **factory)
        if positions == "sinusoidal":
            self.position = PositionalEncoding(d_model, max_len=max_len, dropout=dropout, **factory)
        elif positions == "learned":
            self.position = nn.Embedding(max_len, d_model, **factory)
        self.layers = nn.ModuleList(
            TransformerBlock(d_model, nhead, dim_feedforward, dropout, norm_first=norm_first, attention=attention,
                             **factory)
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model, **factory) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size if num_classes is None else num_classes, **factory)

    def embed(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (N, L) -> the first block's input (N, L, d_model): token embedding plus position."""
        if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2 or tokens.dtype != torch.int64:
            shape = f"{tuple(tokens.shape)} {tokens.dtype}" if isinstance(tokens, torch.Tensor) else type(tokens)
            raise ValueError(f"TinyTransformer reads token ids (N, L) int64 (one sequence is tokens[None]), "
                             f"got {shape}.")
        if tokens.shape[1] > self.max_len:
            raise ValueError(f"sequences of length {tokens.shape[1]} exceed max_len={self.max_len}.")
        x = self.embedding(tokens)
        if self.positions == "sinusoidal":
            x = self.position(x)
        elif self.positions == "learned":
            x = x + self.position(torch.arange(tokens.shape[1], device=tokens.device))
        return x

    def _encode(self, tokens, causal, maps=None, average_heads=True) -> torch.Tensor:
        """The blocks' output (N, L, d_model); appends each layer's attention weights to ``maps`` if given."""
        x = self.embed(tokens)
        # causal_mask is True where a key may take part (F.scaled_dot_product_attention's sense); the attention
        # module's attn_mask is True where it may NOT (nn.MultiheadAttention's): hence the complement
        mask = ~causal_mask(tokens.shape[1], device=tokens.device) if causal else None
        for layer in self.layers:
            if maps is not None:
                maps.append(layer.attention_weights(x, mask, is_causal=causal, average_attn_weights=average_heads))
            x = layer(x, src_mask=mask, is_causal=causal)
        return x

    def features(self, tokens: torch.Tensor, causal: bool = False) -> torch.Tensor:
        """tokens (N, L) int64 -> (N, L, d_model): the vectors the classifier reads, one per position (the last
        block's output, after the final layer norm). Each depends on its token and on the tokens it attends to:
        a contextual embedding of the token in its sequence."""
        return self.norm(self._encode(tokens, causal))

    def forward(
        self, tokens: torch.Tensor, causal: bool = False, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """tokens (N, L) int64 -> logits (N, L, num_classes); with ``return_attention`` also each layer's
        head-averaged attention weights, a list of num_layers tensors (N, L, L)."""
        maps = [] if return_attention else None
        logits = self.head(self.norm(self._encode(tokens, causal, maps)))
        return (logits, maps) if return_attention else logits

    @torch.no_grad()
    def attention_maps(self, tokens: torch.Tensor, causal: bool = False, average_heads: bool = True) -> torch.Tensor:
        """Each layer's attention weights on ``tokens``: (num_layers, N, L, L), or (num_layers, N, nhead, L, L).

        ``maps[l, n, i, j]`` is how much position i reads position j in layer l (each row sums to 1). Without
        gradients; call ``.eval()`` first if the model has dropout.
        """
        maps = []
        self._encode(tokens, causal, maps, average_heads)
        return torch.stack(maps)
