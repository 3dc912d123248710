"""The embedding table: a word's vector is a row of a matrix, looked up by the word's id.

    embedding(input, weight): (*) int ids, weight (V, D) -> (*, D),   out[..., :] = weight[input[...], :]

A one-hot vector e_i (1 at i, 0 elsewhere) times W picks the same row, e_i^T W = W[i]: an embedding layer is a
linear layer without bias whose inputs are one-hot, computed by indexing instead of a (V, D) matmul
(``one_hot_embedding`` does it the long way, to show the two agree). Its gradient is the matmul's,
dL/dW = onehot^T dL/dout: row i receives the sum of the output gradients at the positions where id i occurs,
and rows of words absent from the batch receive zero.

``embedding`` has ``torch.nn.functional.embedding``'s signature and semantics: ``padding_idx`` (negative counts
from the end) leaves the output unchanged but gives that row zero gradient, so the padding vector stays fixed;
``max_norm`` rescales, in place and before the lookup, every looked-up row whose ``norm_type``-norm exceeds
``max_norm`` to norm max_norm (as torch: scale = max_norm / (norm + 1e-7)). ``Embedding`` is ``nn.Embedding``:
the same constructor, one parameter ``weight`` (V, D) drawn from N(0, 1) with the padding row zeroed, so the
same seed gives torch's values and ``load_state_dict`` works both ways; ``Embedding.from_pretrained`` too.

Not here: ``scale_grad_by_freq=True`` and ``sparse=True`` (they raise; use torch's for those).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Embedding", "embedding", "one_hot_embedding"]


def _padding_index(padding_idx: int | None, num_embeddings: int) -> int | None:
    """padding_idx in 0..V-1 (a negative one counts from the end), as torch; None stays None."""
    if padding_idx is None:
        return None
    if isinstance(padding_idx, bool) or not isinstance(padding_idx, int):
        raise TypeError(f"padding_idx must be an int or None, got {type(padding_idx).__name__}.")
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"Padding_idx must be within num_embeddings: got padding_idx={padding_idx} for a table of "
                         f"{num_embeddings} rows; use an id in 0..{num_embeddings - 1} (or -1 for the last row).")
    return padding_idx % num_embeddings


def _check_ids(input: torch.Tensor, num_embeddings: int, where: str) -> None:
    if not isinstance(input, torch.Tensor) or input.dtype not in (torch.int64, torch.int32):
        got = input.dtype if isinstance(input, torch.Tensor) else type(input).__name__
        raise TypeError(f"{where}: input must be a tensor of ids, int64 (Long) or int32, got {got}; "
                        "convert it with torch.as_tensor(ids, dtype=torch.long).")
    if input.numel() and not (int(input.min()) >= 0 and int(input.max()) < num_embeddings):
        raise IndexError(f"{where}: ids must lie in 0..{num_embeddings - 1} (the table has {num_embeddings} rows), "
                         f"got ids from {int(input.min())} to {int(input.max())}.")


def _check_unsupported(scale_grad_by_freq: bool, sparse: bool) -> None:
    if scale_grad_by_freq or sparse:
        raise ValueError("scale_grad_by_freq=True and sparse=True are not implemented in the book's embedding; "
                         "leave them False, or use torch.nn.functional.embedding / nn.Embedding.")


def _renorm_(weight: torch.Tensor, input: torch.Tensor, max_norm: float, norm_type: float) -> None:
    """In place, without gradient: each row used by ``input`` with ||row||_p > max_norm is scaled to norm
    max_norm (scale = max_norm / (||row||_p + 1e-7), torch's formula). Rows not looked up are left alone."""
    with torch.no_grad():
        rows = input.unique()
        norms = torch.linalg.vector_norm(weight[rows], ord=norm_type, dim=1, keepdim=True)
        scale = torch.where(norms > max_norm, max_norm / (norms + 1e-7), torch.ones_like(norms))
        weight[rows] = weight[rows] * scale


def embedding(input: torch.Tensor, weight: torch.Tensor, padding_idx: int | None = None,
              max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> torch.Tensor:
    """Look up rows: input (*) int64/int32 ids, weight (V, D) -> (*, D), out[..., :] = weight[input[...], :].

    padding_idx: positions holding this id output weight[padding_idx] unchanged but pass no gradient to it.
    max_norm: first rescale (in place) each looked-up row whose norm_type-norm exceeds max_norm to that norm.
    """
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2:
        raise ValueError("embedding: weight must be a 2-D tensor (num_embeddings, embedding_dim), got "
                         f"{tuple(weight.shape) if isinstance(weight, torch.Tensor) else type(weight).__name__}.")
    _check_unsupported(scale_grad_by_freq, sparse)
    _check_ids(input, weight.shape[0], "embedding")
    padding_idx = _padding_index(padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    out = weight[input]
    if padding_idx is not None:  # same value, no gradient: the row is used as a constant at those positions
        out = torch.where((input == padding_idx).unsqueeze(-1), out.detach(), out)
    return out


def one_hot_embedding(input: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The lookup as a matmul: one_hot(input, V) @ weight, input (*) ids, weight (V, D) -> (*, D).

    Equal to ``embedding(input, weight)``, values and gradients, but it builds a (*, V) matrix of zeros and
    ones and multiplies it out: V times the work, which is why embedding layers index instead.
    """
    _check_ids(input, weight.shape[0], "one_hot_embedding")
    return F.one_hot(input.long(), weight.shape[0]).to(weight.dtype) @ weight


class Embedding(nn.Module):
    """``nn.Embedding``: a table ``weight`` (num_embeddings, embedding_dim) ~ N(0, 1), the padding row zeroed.

    forward(input (*) ids) -> (*, embedding_dim), by ``embedding`` with the module's options.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: torch.Tensor | None = None, _freeze: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__()
        for name, value in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        _check_unsupported(scale_grad_by_freq, sparse)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = _padding_index(padding_idx, num_embeddings)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            weight = torch.empty((num_embeddings, embedding_dim), device=device, dtype=dtype)
            self.weight = nn.Parameter(weight, requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"_weight has shape {tuple(_weight.shape)}, but the table is "
                                 f"({num_embeddings}, {embedding_dim}).")
            self.weight = nn.Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        """weight ~ N(0, 1), then the padding row (if any) set to zeros, as torch."""
        nn.init.normal_(self.weight)
        if self.padding_idx is not None:
            with torch.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings: torch.Tensor, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                        sparse: bool = False) -> Embedding:
        """A table holding ``embeddings`` (V, D) as they are (the padding row is not zeroed), frozen unless
        ``freeze=False``, as ``nn.Embedding.from_pretrained``."""
        if not isinstance(embeddings, torch.Tensor) or embeddings.ndim != 2:
            raise ValueError("Embeddings parameter is expected to be 2-dimensional (num_embeddings, embedding_dim).")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=embeddings, _freeze=freeze)
