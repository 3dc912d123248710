"""Training examples for word vectors, cut from sentences of word ids.

The lecture notes start from bigrams, pairs of consecutive words: "future king prince" gives (future, king)
and (king, prince). word2vec widens the pair to a window of ``window`` words on each side of a centre word:

    skip-gram: the centre predicts each context word      (w_t, w_{t+j})  for 1 <= |j| <= window
    CBOW:      the context words together predict the centre   ((w_{t-window}, ..., w_{t+window}), w_t)

Windows never cross the end of a sentence. Every function takes one sentence, ``ids`` (a 1-D int tensor or a
list of ints), and returns int64 tensors; concatenate over the sentences of a corpus
(``torch.cat([skipgram_pairs(s, 2) for s in sentences])``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

__all__ = ["bigram_counts", "bigram_pairs", "cbow_pairs", "skipgram_pairs"]


def _as_ids(ids: Sequence[int] | torch.Tensor, where: str) -> torch.Tensor:
    """One sentence as a 1-D int64 tensor."""
    if not isinstance(ids, torch.Tensor):
        ids = torch.as_tensor(list(ids), dtype=torch.int64)
    if ids.ndim != 1 or ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise TypeError(f"{where}: ids must be one sentence, a 1-D integer tensor or a list of ints, got "
                        f"{ids.dtype} of shape {tuple(ids.shape)}; for a corpus, call it once per sentence.")
    return ids.long()


def _check_window(window: int, where: str) -> None:
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"{where}: window must be a positive int (words on each side of the centre), got {window!r}.")


def _window_grid(length: int, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The context positions around every centre: grid[t, j] = t + offsets[j], offsets = (-window, ..., -1,
    1, ..., window), and valid[t, j] whether that position lies in the sentence. Both (length, 2 window)."""
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])
    grid = torch.arange(length)[:, None] + offsets[None, :]
    return grid, (grid >= 0) & (grid < length)


def bigram_pairs(ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """Consecutive words: ids (L,) -> (L - 1, 2), row t = (ids[t], ids[t + 1]); (0, 2) for one word."""
    ids = _as_ids(ids, "bigram_pairs")
    return torch.stack([ids[:-1], ids[1:]], dim=1)


def bigram_counts(sentences_ids: Iterable[Sequence[int] | torch.Tensor], vocab_size: int) -> torch.Tensor:
    """How often word j follows word i, over all sentences: -> int64 (V, V), counts[i, j].

    Row i divided by its sum is the bigram model's estimate of P(next = j | word = i).
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 1:
        raise ValueError(f"bigram_counts: vocab_size must be a positive int, got {vocab_size!r}.")
    pairs = [bigram_pairs(s) for s in sentences_ids]
    pairs = torch.cat(pairs) if pairs else torch.zeros(0, 2, dtype=torch.int64)
    if pairs.numel() and not (int(pairs.min()) >= 0 and int(pairs.max()) < vocab_size):
        raise ValueError(f"bigram_counts: ids must lie in 0..{vocab_size - 1}, got ids from {int(pairs.min())} to "
                         f"{int(pairs.max())}; pass vocab_size=len(vocabulary).")
    flat = pairs[:, 0] * vocab_size + pairs[:, 1]
    return torch.bincount(flat, minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size)


def skipgram_pairs(ids: Sequence[int] | torch.Tensor, window: int) -> torch.Tensor:
    """Every (centre, context) pair of a sentence: ids (L,) -> int64 (P, 2), columns (centre id, context id).

    Row order: centre by centre (t = 0, 1, ..., L - 1), and for each centre its context words from left to
    right, ids[t - window], ..., ids[t - 1], ids[t + 1], ..., ids[t + window], those inside the sentence only.
    P = sum_t (number of positions within ``window`` of t); a one-word sentence gives (0, 2).
    """
    _check_window(window, "skipgram_pairs")
    ids = _as_ids(ids, "skipgram_pairs")
    grid, valid = _window_grid(len(ids), window)
    centres = torch.arange(len(ids))[:, None].expand_as(grid)
    return torch.stack([ids[centres[valid]], ids[grid[valid]]], dim=1)  # boolean indexing keeps row-major order


def cbow_pairs(ids: Sequence[int] | torch.Tensor, window: int,
               padding_idx: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Each centre word with its context: ids (L,) -> contexts int64 (P, 2 window), centres int64 (P,).

    contexts[p] = (ids[t - window], ..., ids[t - 1], ids[t + 1], ..., ids[t + window]) for the centre
    centres[p] = ids[t], centres in sentence order. With ``padding_idx=None`` only the centres with a full
    window are kept (t = window, ..., L - 1 - window; none in a sentence shorter than 2 window + 1). With a
    ``padding_idx`` every centre with at least one context word is kept and the slots outside the sentence
    hold padding_idx: give the model a table with that padding row (CBOW(..., padding_idx=...)), which
    averages only the real context words.
    """
    _check_window(window, "cbow_pairs")
    ids = _as_ids(ids, "cbow_pairs")
    if padding_idx is not None and (isinstance(padding_idx, bool) or not isinstance(padding_idx, int)):
        raise TypeError(f"cbow_pairs: padding_idx must be an int id or None, got {type(padding_idx).__name__}.")
    grid, valid = _window_grid(len(ids), window)
    contexts = ids[grid.clamp(0, max(len(ids) - 1, 0))] if len(ids) else grid.clone()
    if padding_idx is None:
        keep = valid.all(dim=1)
    else:
        contexts = torch.where(valid, contexts, torch.full_like(contexts, padding_idx))
        keep = valid.any(dim=1)
    return contexts[keep], ids[keep]
