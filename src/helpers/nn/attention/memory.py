"""Content-based addressing of an external memory, as in Neural Turing Machines (Graves et al., 2014, section 3.3.1).

A memory is a matrix of M slots (rows) of width D. To read, the controller emits a key k (D,) and a key
strength beta >= 0; each slot is weighted by how similar it is to the key, through a sharpened softmax:

    K(k, m_i) = k . m_i / (max(||k||, eps) max(||m_i||, eps))          cosine similarity, in [-1, 1]
    w_i       = exp(beta K(k, m_i)) / sum_j exp(beta K(k, m_j))        the read weights, sum_i w_i = 1
    r         = sum_i w_i m_i                                            the read vector (D,)

This is attention with the cosine as score and beta as inverse temperature. beta = 0 spreads the weights
uniformly (w_i = 1/M, r is the mean slot); as beta -> infinity the weights approach a one-hot vector on the most
similar slot (a hard, non-differentiable lookup), while any finite beta keeps the read differentiable in the key,
the memory and beta itself.

The cosine follows ``torch.nn.functional.cosine_similarity``: each norm is clamped at ``eps`` (1e-8) before
dividing, so a zero key or a zero slot has similarity 0 with everything (no NaN), and gradients stay finite.
"""

from __future__ import annotations

import torch


def _check(memory: torch.Tensor, key: torch.Tensor, beta: float | torch.Tensor) -> torch.Tensor:
    """Validate the shapes; return beta as a (N, 1) tensor of memory's dtype and device."""
    if not isinstance(memory, torch.Tensor) or memory.ndim != 3:
        shape = tuple(memory.shape) if isinstance(memory, torch.Tensor) else type(memory).__name__
        raise ValueError(f"memory must be a batch of memories (N, M, D): N of them, M slots of width D; got {shape}. "
                         "One memory (M, D) is memory[None].")
    n, _, d = memory.shape
    if not isinstance(key, torch.Tensor) or key.shape != (n, d):
        shape = tuple(key.shape) if isinstance(key, torch.Tensor) else type(key).__name__
        raise ValueError(f"key must be (N, D) = ({n}, {d}), one key per memory, as wide as a slot; got {shape}.")
    if isinstance(beta, torch.Tensor):
        if beta.ndim > 1 or (beta.ndim == 1 and beta.shape[0] != n):
            raise ValueError(f"beta must be a number or a tensor of shape (N,) = ({n},), one key strength per "
                             f"memory; got shape {tuple(beta.shape)}.")
        if bool((beta < 0).any()):
            raise ValueError("beta is a key strength and must be >= 0 (an NTM gets it through softplus); "
                             "a negative beta would favour the least similar slot.")
        return beta.to(dtype=memory.dtype).reshape(-1, 1).expand(n, 1)
    if isinstance(beta, bool) or not isinstance(beta, (int, float)):
        raise TypeError(f"beta must be a number or a tensor of shape (N,), got {type(beta).__name__}.")
    if not beta >= 0:
        raise ValueError(f"beta is a key strength and must be >= 0, got {beta!r}.")
    return torch.full((n, 1), float(beta), dtype=memory.dtype, device=memory.device)


def cosine_similarity(memory: torch.Tensor, key: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """K[n, i] = k_n . m_{n,i} / (max(||k_n||, eps) max(||m_{n,i}||, eps)):   memory (N, M, D), key (N, D) -> (N, M).

    Equals ``F.cosine_similarity(memory, key[:, None], dim=-1, eps=eps)``.
    """
    key_unit = key / key.norm(dim=-1, keepdim=True).clamp_min(eps)            # (N, D)
    memory_unit = memory / memory.norm(dim=-1, keepdim=True).clamp_min(eps)   # (N, M, D)
    return (memory_unit @ key_unit[:, :, None]).squeeze(-1)                   # (N, M)


def content_weights(
    memory: torch.Tensor, key: torch.Tensor, beta: float | torch.Tensor, eps: float = 1e-8
) -> torch.Tensor:
    """The read weights w = softmax_i(beta K(k, m_i)):   memory (N, M, D), key (N, D), beta float or (N,) -> (N, M).

    beta = 0: uniform, 1/M each. Large beta: nearly one-hot on the slot most similar to the key.
    """
    beta = _check(memory, key, beta)
    return torch.softmax(beta * cosine_similarity(memory, key, eps), dim=-1)


def content_read(
    memory: torch.Tensor, key: torch.Tensor, beta: float | torch.Tensor, eps: float = 1e-8
) -> tuple[torch.Tensor, torch.Tensor]:
    """Read by content: r = sum_i w_i m_i with w = ``content_weights``.

    memory (N, M, D), key (N, D), beta float or (N,) -> (r (N, D), w (N, M)).
    """
    w = content_weights(memory, key, beta, eps)
    return (w[:, None, :] @ memory).squeeze(1), w
