"""Sinusoidal positional encoding (Vaswani et al., 2017, section 3.5).

Self-attention is permutation-equivariant: shuffle the tokens and the outputs are shuffled the same way, so a
transformer cannot tell "dog bites man" from "man bites dog" unless each position is marked. The paper adds to
the token embeddings a fixed vector per position, built from sines and cosines of geometrically spaced
frequencies:

    PE[pos, 2i]     = sin(pos * w_i)
    PE[pos, 2i + 1] = cos(pos * w_i),        w_i = base^(-2i / d),   i = 0, ..., d/2 - 1,   base = 10000

The wavelengths 2 pi / w_i run from 2 pi (i = 0) up to nearly 2 pi * base, so nearby positions differ in
the fast pairs and far ones in the slow pairs. Two properties follow from the sin/cos pairs:

- every row has the same norm, ||PE[pos]||^2 = sum_i (sin^2 + cos^2) = d/2;
- a shift by k positions is a fixed linear map, whatever pos: each pair (sin(pos w), cos(pos w)) turns by
  the angle k w, (sin, cos)(pos + k) = [[cos kw, sin kw], [-sin kw, cos kw]] (sin, cos)(pos), so
  PE[pos + k] = R_k PE[pos] with R_k block-diagonal. The paper's reason for the choice: attention can learn
  to attend "k positions back" with one linear map.

Layout. ``interleaved=True`` is the paper's (and PyTorch's "Language modeling with nn.Transformer" tutorial):
the sin and cos of a frequency sit side by side. ``interleaved=False`` puts all sines first, then all
cosines, [sin(pos w_0) ... sin(pos w_{d/2-1}) | cos(pos w_0) ... cos(pos w_{d/2-1})], the layout of
tensor2tensor's ``get_timing_signal_1d`` and fairseq's ``SinusoidalPositionalEmbedding``. Here both layouts use
the paper's frequencies, so they hold the same numbers with the columns permuted (tensor2tensor and fairseq
also space the frequencies slightly differently, w_i = base^(-i / (d/2 - 1)), so that the slowest is
exactly 1/base). A network does not care which: the first layer's weights absorb any fixed permutation.

``d_model`` must be even (the encoding is made of sin/cos pairs); an odd width raises ValueError.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers._checks import whole_number as _whole


def sinusoidal_encoding(
    length: int,
    d_model: int,
    base: float = 10000.0,
    interleaved: bool = True,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """The sinusoidal positional encoding of positions 0, ..., length - 1: (length, d_model).

        PE[pos, 2i] = sin(pos / base^(2i/d)),   PE[pos, 2i + 1] = cos(pos / base^(2i/d))      (interleaved)
        PE[pos, i]  = sin(pos / base^(2i/d)),   PE[pos, d/2 + i] = cos(pos / base^(2i/d))    (interleaved=False)

    Computed in float64 and cast to ``dtype`` (default: torch's default dtype), so that float32 encodings of
    long sequences are as accurate as float32 allows. ``d_model`` must be even.
    """
    _whole("length", length, at_least=0)
    _whole("d_model", d_model, at_least=2)
    if d_model % 2:
        raise ValueError(f"d_model must be even: the encoding is d_model / 2 sin/cos pairs, got d_model={d_model}. "
                         "Use an even model width (the embedding size).")
    if not base > 0:
        raise ValueError(f"base sets the wavelengths base^(2i/d) and must be > 0, got {base!r}.")
    dtype = torch.get_default_dtype() if dtype is None else dtype
    pos = torch.arange(length, dtype=torch.float64, device=device)[:, None]               # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64, device=device)               # 0, 2, ..., d - 2
    angle = pos * float(base) ** (-two_i / d_model)                                       # pos w_i: (L, d/2)
    if interleaved:
        pe = torch.stack([angle.sin(), angle.cos()], dim=-1).reshape(length, d_model)  # sin, cos, sin, cos, ...
    else:
        pe = torch.cat([angle.sin(), angle.cos()], dim=-1)                             # sin ... sin | cos ... cos
    return pe.to(dtype)


class PositionalEncoding(nn.Module):
    """Add the sinusoidal encoding of each position to a batch of embeddings, then dropout (batch first).

        y[n, pos] = dropout(x[n, pos] + PE[pos])         x: (N, L, d_model) -> y: (N, L, d_model),  L <= max_len

    The table PE (max_len, d_model) is a buffer (it follows ``.to(device)``) that is not learned and not saved in
    the state dict: it is recomputed from ``d_model``, ``max_len``, ``base`` and ``interleaved``. The paper
    uses dropout 0.1 here; the default 0.0 leaves it out.
    """

    def __init__(
        self,
        d_model: int,
        max_len: int = 5000,
        dropout: float = 0.0,
        base: float = 10000.0,
        interleaved: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ):
        super().__init__()
        _whole("max_len", max_len, at_least=1)
        self.d_model, self.max_len = d_model, max_len
        self.dropout = nn.Dropout(dropout)
        pe = sinusoidal_encoding(max_len, d_model, base=base, interleaved=interleaved, dtype=dtype, device=device)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, L, d_model) (or (L, d_model), one sequence) -> x + PE[:L], after dropout."""
        if not isinstance(x, torch.Tensor) or x.ndim not in (2, 3) or x.shape[-1] != self.d_model:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"PositionalEncoding adds to embeddings x: (N, L, d_model={self.d_model}) "
                             f"(batch first), got {shape}.")
        length = x.shape[-2]
        if length > self.max_len:
            raise ValueError(f"the sequence has {length} positions but the table holds max_len={self.max_len}; "
                             "build the module with a larger max_len.")
        return self.dropout(x + self.pe[:length].to(x.dtype))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"
