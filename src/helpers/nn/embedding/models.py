"""Skip-gram and CBOW as ``nn.Module``s: two embedding tables and word2vec's losses.

Both models hold ``in_embed`` (the input vectors v_w, the word vectors we keep) and ``out_embed`` (the output
vectors u_w), each an ``Embedding`` (V, D), ``nn.Embedding``-compatible, so their state dicts hold
``in_embed.weight`` and ``out_embed.weight``.

    SkipGram: v = in_embed(centre)                        predicts each context word
    CBOW:     v = mean of in_embed(context words)         predicts the centre word

``forward(..., negative_ids)`` is the negative-sampling loss (``losses.negative_sampling_loss``) and
``softmax_loss`` the full-softmax loss (``losses.skipgram_softmax_loss``). ``reset_parameters`` uses
word2vec's initialisation: input vectors ~ U(-0.5/D, 0.5/D), output vectors 0, so every score starts at 0
(nn.Embedding's N(0, 1) would start the scores with variance D and slow the start of training).
"""

from __future__ import annotations

import torch
from torch import nn

from helpers.nn.embedding.losses import negative_sampling_loss, skipgram_softmax_loss
from helpers.nn.embedding.table import Embedding

__all__ = ["CBOW", "SkipGram"]


class _Word2Vec(nn.Module):
    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.vocab_size, self.embedding_dim = vocab_size, embedding_dim
        self.in_embed = Embedding(vocab_size, embedding_dim, padding_idx=padding_idx, device=device, dtype=dtype)
        self.out_embed = Embedding(vocab_size, embedding_dim, device=device, dtype=dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """word2vec's start: input vectors ~ U(-0.5/D, 0.5/D) (the padding row, if any, 0), output vectors 0."""
        with torch.no_grad():
            self.in_embed.weight.uniform_(-0.5 / self.embedding_dim, 0.5 / self.embedding_dim)
            if self.in_embed.padding_idx is not None:
                self.in_embed.weight[self.in_embed.padding_idx] = 0
            self.out_embed.weight.zero_()

    @property
    def vectors(self) -> torch.Tensor:
        """The word vectors: the input table, detached, (V, D)."""
        return self.in_embed.weight.detach()

    def extra_repr(self) -> str:
        return f"{self.vocab_size}, {self.embedding_dim}"


class SkipGram(_Word2Vec):
    """Skip-gram: the centre word's input vector v_c scores every context word o by u_o . v_c.

    forward(center_ids (B,), context_ids (B,), negative_ids (B, K)) -> scalar negative-sampling loss (mean).
    softmax_loss(center_ids (B,), context_ids (B,)) -> scalar full-softmax loss (mean).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, device=None, dtype=None) -> None:
        super().__init__(vocab_size, embedding_dim, device=device, dtype=dtype)

    def forward(self, center_ids: torch.Tensor, context_ids: torch.Tensor, negative_ids: torch.Tensor) -> torch.Tensor:
        return negative_sampling_loss(self.in_embed(center_ids), self.out_embed(context_ids),
                                      self.out_embed(negative_ids))

    def softmax_loss(self, center_ids: torch.Tensor, context_ids: torch.Tensor) -> torch.Tensor:
        return skipgram_softmax_loss(self.in_embed(center_ids), self.out_embed.weight, context_ids)


class CBOW(_Word2Vec):
    """Continuous bag of words: the mean of the context words' input vectors scores the centre word.

    With ``padding_idx`` (the id ``cbow_pairs(..., padding_idx=...)`` fills missing slots with) the mean runs
    over the real context words only. context_vector(context_ids (B, C)) -> (B, D);
    forward(context_ids (B, C), center_ids (B,), negative_ids (B, K)) -> scalar negative-sampling loss (mean);
    softmax_loss(context_ids (B, C), center_ids (B,)) -> scalar full-softmax loss (mean).
    """

    def __init__(self, vocab_size: int, embedding_dim: int, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__(vocab_size, embedding_dim, padding_idx, device=device, dtype=dtype)

    def context_vector(self, context_ids: torch.Tensor) -> torch.Tensor:
        """(1 / C_b) sum of the input vectors of row b's context words (C_b: those that are not padding)."""
        vectors = self.in_embed(context_ids)                                          # (B, C, D)
        if self.in_embed.padding_idx is None:
            return vectors.mean(dim=1)
        real = (context_ids != self.in_embed.padding_idx).unsqueeze(-1).to(vectors.dtype)  # (B, C, 1)
        if (real.sum(dim=1) == 0).any():
            raise ValueError("a row of context_ids holds only padding: it has no context words to average; "
                             "cbow_pairs drops such rows.")
        return (vectors * real).sum(dim=1) / real.sum(dim=1)

    def forward(self, context_ids: torch.Tensor, center_ids: torch.Tensor, negative_ids: torch.Tensor) -> torch.Tensor:
        return negative_sampling_loss(self.context_vector(context_ids), self.out_embed(center_ids),
                                      self.out_embed(negative_ids))

    def softmax_loss(self, context_ids: torch.Tensor, center_ids: torch.Tensor) -> torch.Tensor:
        return skipgram_softmax_loss(self.context_vector(context_ids), self.out_embed.weight, center_ids)
