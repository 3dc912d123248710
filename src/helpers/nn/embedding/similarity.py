"""Which words are near which: cosine similarity between word vectors, and a word's nearest neighbours.

    cos(a, b) = a . b / (||a|| ||b||)   in [-1, 1]

It compares directions, not lengths: in word2vec a frequent word's vector tends to be longer, and the length
says little about meaning. As in scikit-learn's ``cosine_similarity``, a zero vector (a padding row) has
similarity 0 with everything.
"""

from __future__ import annotations

import torch

__all__ = ["cosine_similarity_matrix", "nearest_neighbours"]


def _unit_rows(weight: torch.Tensor, where: str) -> torch.Tensor:
    if not isinstance(weight, torch.Tensor) or weight.ndim != 2 or not weight.is_floating_point():
        raise ValueError(f"{where}: weight must be a 2-D floating-point tensor (V, D) of word vectors, e.g. "
                         "model.in_embed.weight.detach().")
    norms = torch.linalg.vector_norm(weight, dim=1, keepdim=True)
    return weight / torch.where(norms == 0, torch.ones_like(norms), norms)


def cosine_similarity_matrix(weight: torch.Tensor) -> torch.Tensor:
    """All pairs: weight (V, D) -> (V, V), S[i, j] = cos(weight[i], weight[j]) (1 on the diagonal, except 0 for
    a zero row)."""
    unit = _unit_rows(weight, "cosine_similarity_matrix")
    return unit @ unit.T


def nearest_neighbours(weight: torch.Tensor, word_index: int, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
    """The k words most similar to word ``word_index`` by cosine, itself left out -> (indices int64 (k,),
    similarities (k,)), most similar first; equal similarities in order of index."""
    if isinstance(word_index, bool) or not isinstance(word_index, int) or not 0 <= word_index < len(weight):
        raise ValueError(f"nearest_neighbours: word_index must be an int in 0..{len(weight) - 1}, got {word_index!r}; "
                         "look it up with vocabulary.index[word].")
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(weight) - 1:
        raise ValueError(f"nearest_neighbours: k must be an int in 1..{len(weight) - 1} (the other words), got {k!r}.")
    unit = _unit_rows(weight, "nearest_neighbours")
    similarities = unit @ unit[word_index]
    others = torch.cat([torch.arange(word_index), torch.arange(word_index + 1, len(weight))]).to(weight.device)
    order = torch.sort(similarities[others], descending=True, stable=True).indices[:k]
    return others[order], similarities[others][order]
