"""word2vec's losses: the full softmax over the vocabulary, and negative sampling.

Each word w has two vectors: v_w, its *input* vector (the row of the table that embeds it, the vector we keep
as the word's meaning) and u_w, its *output* vector (the row of the output layer that scores it). Skip-gram
with centre word c asks for the context word o

    full softmax:  P(o | c) = exp(u_o . v_c) / sum_{w=1}^{V} exp(u_w . v_c),    loss = -log P(o | c)

which costs a dot product with every one of the V output vectors per example: the softmax bottleneck. CBOW is
the same with v_c replaced by the mean of the context words' input vectors and o by the centre word.
Negative sampling (Mikolov et al., 2013) replaces the V-way softmax by K + 1 binary questions, "is this
the real context word?", yes for o and no for K noise words n_1..n_K drawn from the unigram distribution
raised to the power 3/4:

    loss = -log sigma(u_o . v_c) - sum_{k=1}^{K} log sigma(-u_{n_k} . v_c)

that is, binary cross-entropy with logits u . v_c, target 1 for o and 0 for each n_k, summed over the K + 1
questions. Its gradients (sigma(s) - 1 for the true word, sigma(s) for the noise words) are written out in
``negative_sampling_backward``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from helpers.nn.losses import _reduce  # "mean", "sum" or "none", with the error that names them

__all__ = ["negative_sampling_backward", "negative_sampling_loss", "noise_distribution", "sample_negatives",
           "skipgram_softmax_loss"]



def noise_distribution(counts: torch.Tensor, power: float = 0.75) -> torch.Tensor:
    """The noise words' distribution: P(w) = count_w^power / sum_v count_v^power. counts (V,) -> (V,).

    power = 1 is the unigram distribution, 0 the uniform one; word2vec's 3/4 lies between, so frequent words
    ("the") are drawn less often than their share and rare words more often. Integer counts give float32
    (the default dtype); float counts keep their dtype. A word with count 0 is never drawn.
    """
    if not isinstance(counts, torch.Tensor) or counts.ndim != 1 or counts.numel() == 0:
        raise ValueError("noise_distribution: counts must be a non-empty 1-D tensor (V,), e.g. vocabulary.counts.")
    if not power >= 0:
        raise ValueError(f"noise_distribution: power must be >= 0 (0: uniform, 1: unigram), got {power!r}.")
    counts = counts if counts.is_floating_point() else counts.to(torch.get_default_dtype())
    if (counts < 0).any() or counts.sum() <= 0:
        raise ValueError("noise_distribution: counts must be >= 0 with at least one positive count.")
    weights = counts**power * (counts > 0)  # 0 ** 0 would be 1: a word never seen stays out
    return weights / weights.sum()


def sample_negatives(noise: torch.Tensor, shape: int | tuple[int, ...],
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Noise word ids drawn independently from ``noise`` (V,) with replacement -> int64 tensor of ``shape``,
    e.g. (B, K): K negatives for each of B examples. A negative may equal the true context word (word2vec does
    not exclude it; with a large vocabulary it is rare)."""
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = 1
    for size in shape:
        n *= size
    if n == 0:
        return torch.zeros(shape, dtype=torch.int64, device=noise.device)
    return torch.multinomial(noise, n, replacement=True, generator=generator).reshape(shape)


def _check_vectors(center: torch.Tensor, context: torch.Tensor, negatives: torch.Tensor, where: str) -> None:
    for name, x in (("center_vectors", center), ("context_vectors", context), ("negative_vectors", negatives)):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            raise TypeError(f"{where}: {name} must be a floating-point tensor, got "
                            f"{x.dtype if isinstance(x, torch.Tensor) else type(x).__name__}.")
    if center.shape != context.shape or negatives.ndim != center.ndim + 1 or \
            negatives.shape[:-2] != center.shape[:-1] or negatives.shape[-1] != center.shape[-1]:
        raise ValueError(f"{where}: expected center (B, D), context (B, D), negatives (B, K, D); got "
                         f"{tuple(center.shape)}, {tuple(context.shape)}, {tuple(negatives.shape)}.")


def negative_sampling_loss(center_vectors: torch.Tensor, context_vectors: torch.Tensor,
                           negative_vectors: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """-log sigma(u_o . v_c) - sum_k log sigma(-u_k . v_c), per example, then reduced (mean over B by default).

    center_vectors v_c: (B, D), context_vectors u_o: (B, D), negative_vectors u_k: (B, K, D) -> scalar, or (B,)
    with reduction="none". log sigma is computed stably (logsigmoid), so large scores give no inf or nan.
    """
    _check_vectors(center_vectors, context_vectors, negative_vectors, "negative_sampling_loss")
    positive = (context_vectors * center_vectors).sum(-1)                  # (B,)    u_o . v_c
    negative = (negative_vectors * center_vectors.unsqueeze(-2)).sum(-1)   # (B, K)  u_k . v_c
    loss = -F.logsigmoid(positive) - F.logsigmoid(-negative).sum(-1)
    return _reduce(loss, reduction)


def negative_sampling_backward(center_vectors: torch.Tensor, context_vectors: torch.Tensor,
                               negative_vectors: torch.Tensor,
                               reduction: str = "mean") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The gradients of ``negative_sampling_loss`` (reduction "mean" or "sum") w.r.t. its three inputs.

    With s_o = u_o . v_c and s_k = u_k . v_c, per example (divided by B for the mean):

        dL/dv_c = (sigma(s_o) - 1) u_o + sum_k sigma(s_k) u_k
        dL/du_o = (sigma(s_o) - 1) v_c            dL/du_k = sigma(s_k) v_c

    The true word's output vector moves towards v_c, each noise word's away from it, each by how wrong the
    model's current answer is. -> (grad_center (B, D), grad_context (B, D), grad_negatives (B, K, D)).
    """
    _check_vectors(center_vectors, context_vectors, negative_vectors, "negative_sampling_backward")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum' (a scalar loss to differentiate), got {reduction!r}.")
    scale = 1.0 / center_vectors[..., 0].numel() if reduction == "mean" else 1.0
    positive = (context_vectors * center_vectors).sum(-1, keepdim=True)                # (B, 1)
    negative = (negative_vectors * center_vectors.unsqueeze(-2)).sum(-1, keepdim=True)  # (B, K, 1)
    error_o = (torch.sigmoid(positive) - 1) * scale   # (B, 1)
    error_k = torch.sigmoid(negative) * scale         # (B, K, 1)
    grad_center = error_o * context_vectors + (error_k * negative_vectors).sum(-2)
    return grad_center, error_o * center_vectors, error_k * center_vectors.unsqueeze(-2)


def skipgram_softmax_loss(center_vectors: torch.Tensor, output_weight: torch.Tensor, context_ids: torch.Tensor,
                          reduction: str = "mean") -> torch.Tensor:
    """The full-softmax loss: cross-entropy of the scores center_vectors @ output_weight^T against context_ids.

        loss_b = -log softmax(U v_b)[o_b] = log sum_w exp(u_w . v_b) - u_{o_b} . v_b

    center_vectors (B, D), output_weight U (V, D), context_ids (B,) int64 -> scalar (or (B,) with "none"). For
    CBOW pass the mean context vectors and the centre ids.
    """
    if not isinstance(output_weight, torch.Tensor) or output_weight.ndim != 2 or center_vectors.ndim != 2 or \
            center_vectors.shape[1] != output_weight.shape[1]:
        raise ValueError("skipgram_softmax_loss: expected center_vectors (B, D) and output_weight (V, D), got "
                         f"{tuple(center_vectors.shape)} and {tuple(getattr(output_weight, 'shape', ()))}.")
    if context_ids.shape != center_vectors.shape[:1] or context_ids.dtype != torch.int64:
        raise ValueError(f"skipgram_softmax_loss: context_ids must be int64 of shape ({center_vectors.shape[0]},), "
                         f"got {context_ids.dtype} {tuple(context_ids.shape)}.")
    scores = center_vectors @ output_weight.T                                    # (B, V)
    true = scores.gather(1, context_ids[:, None]).squeeze(1)                     # (B,)
    return _reduce(torch.logsumexp(scores, dim=1) - true, reduction)
