"""Chapter 8 exercises: attention, transformers and word embeddings (scaled dot-product attention with a boolean
mask, the causal mask, splitting and merging heads, the parameters of nn.MultiheadAttention, why a transformer
needs positions, the sinusoidal positional encoding, skip-gram pairs from a sentence, the negative-sampling loss).

One module per group of exercises; ``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch08 import attention, heads, positional, word2vec

EXERCISES = [*attention.EXERCISES, *heads.EXERCISES, *positional.EXERCISES, *word2vec.EXERCISES]
