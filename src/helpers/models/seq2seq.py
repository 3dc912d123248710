"""A GRU encoder-decoder (seq2seq), with or without attention: the model of chapter 8's bottleneck experiment.

The encoder reads the embedded tokens x_1..x_T and keeps every state; the decoder starts from the last one::

    h_t = GRU_enc(x_t, h_{t-1}),  h_0 = 0         encoder states h_1..h_T          (N, T, H)
    s_0 = h_T                                     the decoder's initial state      (N, H)
    s_t = GRU_dec(e_t, s_{t-1})                   e_t: a learnt vector "this is output step t" (``step``)

and writes one output per step, either from s_t alone (``use_attention=False``)::

    y_t = W s_t + b                                                                (N, T, vocab)

or from s_t and a context vector read from all the encoder states by scaled dot-product attention, the query
being the current s_t (``use_attention=True``; Luong's "dot" score, divided by sqrt(H))::

    alpha_{t,j} = softmax_j(s_t . h_j / sqrt(H)),   c_t = sum_j alpha_{t,j} h_j,   y_t = W [s_t; c_t] + b

Why h_T is a bottleneck: without attention the decoder's inputs e_t are the same for every sequence, so
everything it can say about the input comes through s_0 = h_T, H numbers, whatever T is. The encoder wrote
each new token over the last ones into that state: the further back a token, the more of it has been
overwritten. With attention every output step reads h_1..h_T directly, and alpha_t says which ones it read.

The decoder's input at step t is a learnt position vector (an ``nn.Embedding(max_len, hidden)`` row), not the
previous output token: the output has the input's length T <= max_len and is written all at once, with no
teacher forcing, which is all the reversal task needs. The layers are built in a fixed order (embed, encoder,
step, decoder, out): with the same seed the chapter's models start from the same weights.
"""

from __future__ import annotations

import torch
from torch import nn

from helpers._checks import whole_number
from helpers.nn.attention.functional import attention_weights, scaled_dot_product_attention

__all__ = ["EncoderDecoder"]

TOKEN_DTYPES = (torch.int64, torch.int32)  # what nn.Embedding accepts as indices


class EncoderDecoder(nn.Module):
    """tokens (N, T) int64 -> logits (N, T, vocab): a GRU encoder, and a GRU decoder that starts from h_T.

    Submodules: ``embed`` (nn.Embedding(vocab, hidden)), ``encoder`` (nn.GRU, batch first), ``step``
    (nn.Embedding(max_len, hidden): the decoder's input at output step t), ``decoder`` (nn.GRU, batch first) and
    ``out`` (nn.Linear from hidden, or 2 hidden with attention, to vocab). Sequences may be up to ``max_len``
    long. See the module's docstring for the equations.
    """

    def __init__(self, vocab: int = 10, hidden: int = 64, max_len: int = 16, use_attention: bool = False):
        super().__init__()
        for name, value in (("vocab", vocab), ("hidden", hidden), ("max_len", max_len)):
            whole_number(name, value)
        if not isinstance(use_attention, bool):
            raise TypeError(f"use_attention must be True or False, got {use_attention!r}.")
        # created in this order, which fixes the random initial weights for a given seed: do not reorder
        self.embed = nn.Embedding(vocab, hidden)
        self.encoder = nn.GRU(hidden, hidden, batch_first=True)
        self.step = nn.Embedding(max_len, hidden)
        self.decoder = nn.GRU(hidden, hidden, batch_first=True)
        self.use_attention = use_attention
        self.out = nn.Linear(2 * hidden if use_attention else hidden, vocab)

    def _check(self, tokens: torch.Tensor) -> None:
        vocab, max_len = self.embed.num_embeddings, self.step.num_embeddings
        if not isinstance(tokens, torch.Tensor) or tokens.ndim != 2 or tokens.dtype not in TOKEN_DTYPES \
                or tokens.numel() == 0:
            got = f"shape {list(tokens.shape)} {tokens.dtype}" if isinstance(tokens, torch.Tensor) \
                else type(tokens).__name__
            raise ValueError(f"EncoderDecoder reads token ids: a non-empty 2-D integer tensor (N, T), int64, got "
                             f"{got}. One sequence is tokens[None]; convert floats with tokens.long().")
        if tokens.shape[1] > max_len:
            raise ValueError(f"EncoderDecoder: sequences of length T={tokens.shape[1]} exceed max_len={max_len} "
                             f"(one learnt step vector per output step): build the model with max_len >= "
                             f"{tokens.shape[1]}.")
        low, high = tokens.min().item(), tokens.max().item()
        if low < 0 or high >= vocab:
            raise ValueError(f"EncoderDecoder: token ids must lie in [0, vocab) = [0, {vocab}), got values from "
                             f"{low} to {high}: build the model with a larger vocab, or fix the ids.")

    def _encode_decode(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """tokens (N, T) -> (s, h): the decoder's states s_1..s_T and the encoder's h_1..h_T, both (N, T, H)."""
        self._check(tokens)
        states, last = self.encoder(self.embed(tokens))  # h_1..h_T (N, T, H); h_T alone (1, N, H)
        n, length = tokens.shape
        steps = self.step.weight[:length].expand(n, length, -1)  # e_1..e_T, the same for every sequence
        decoded, _ = self.decoder(steps, last)  # s_1..s_T (N, T, H), from s_0 = h_T alone
        return decoded, states

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (N, T) int64 -> logits (N, T, vocab): y_t = W s_t + b, or W [s_t; c_t] + b with attention."""
        decoded, states = self._encode_decode(tokens)
        if not self.use_attention:
            return self.out(decoded)
        context = scaled_dot_product_attention(decoded, states, states)  # c_t = sum_j alpha_{t,j} h_j, (N, T, H)
        return self.out(torch.cat([decoded, context], dim=-1))

    def attention_weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """tokens (N, T) -> alpha (N, T_out, T_in) = softmax_j(s_t . h_j / sqrt(H)): how much output step t reads
        input position j (each row sums to 1).

        The weights the model uses when ``use_attention`` is True; without attention they are what it would read
        (its output ignores them). Call it under ``torch.no_grad()`` to plot them.
        """
        decoded, states = self._encode_decode(tokens)
        return attention_weights(decoded, states)
