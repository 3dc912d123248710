"""Word embeddings: the embedding table and word2vec (skip-gram and CBOW), in plain torch.

``table``: ``embedding`` (``F.embedding``), ``Embedding`` (``nn.Embedding``: same constructor, parameter
``weight``, N(0, 1) init, so ``load_state_dict`` works) and ``one_hot_embedding`` (one_hot(ids) @ W, the same
rows the long way). ``pairs``: training examples cut from a sentence of ids, ``bigram_pairs``,
``bigram_counts``, ``skipgram_pairs`` and ``cbow_pairs``. ``losses``: ``skipgram_softmax_loss`` (the full
softmax), ``negative_sampling_loss`` and its gradients ``negative_sampling_backward``, the noise words'
``noise_distribution`` (unigram^0.75) and ``sample_negatives``. ``models``: ``SkipGram`` and ``CBOW`` (tables
``in_embed`` and ``out_embed``). ``similarity``: ``cosine_similarity_matrix`` and ``nearest_neighbours``.
"""

from helpers.nn.embedding.losses import (
    negative_sampling_backward,
    negative_sampling_loss,
    noise_distribution,
    sample_negatives,
    skipgram_softmax_loss,
)
from helpers.nn.embedding.models import CBOW, SkipGram
from helpers.nn.embedding.pairs import bigram_counts, bigram_pairs, cbow_pairs, skipgram_pairs
from helpers.nn.embedding.similarity import cosine_similarity_matrix, nearest_neighbours
from helpers.nn.embedding.table import Embedding, embedding, one_hot_embedding

__all__ = ["CBOW", "Embedding", "SkipGram", "bigram_counts", "bigram_pairs", "cbow_pairs", "cosine_similarity_matrix",
           "embedding", "nearest_neighbours", "negative_sampling_backward", "negative_sampling_loss",
           "noise_distribution", "one_hot_embedding", "sample_negatives", "skipgram_pairs", "skipgram_softmax_loss"]
