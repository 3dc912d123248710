"""Attention, as ``torch.nn.functional.scaled_dot_product_attention`` and ``torch.nn.MultiheadAttention``.

``functional``: scaled dot-product attention with torch's semantics (boolean mask True = TAKES PART, float
mask added, ``is_causal``, ``scale``, dropout, a fully masked row giving 0 as torch), the scores and weights
it is made of (``attention_scores``, ``attention_weights``, ``safe_softmax``), ``causal_mask``, unscaled
``dot_product_attention``, and the backward pass written out. ``additive``: Bahdanau's additive attention,
a function and an ``nn.Module``. ``multihead``: ``split_heads``, ``merge_heads`` and ``MultiheadAttention``
with torch's constructor, parameter names and masks (boolean True = BLOCKED there, as in torch), so that
``ours.load_state_dict(theirs.state_dict())`` works. ``positional``: the sinusoidal positional encoding and a
module that adds it. ``memory``: content-based addressing of an external memory (a sharpened softmax over cosine
similarities) and the read it weights.
"""

from helpers.nn.attention.additive import AdditiveAttention, additive_attention
from helpers.nn.attention.functional import (
    attention_scores,
    attention_weights,
    causal_mask,
    dot_product_attention,
    safe_softmax,
    scaled_dot_product_attention,
    scaled_dot_product_attention_backward,
)
from helpers.nn.attention.memory import content_read, content_weights
from helpers.nn.attention.multihead import MultiheadAttention, merge_heads, split_heads
from helpers.nn.attention.positional import PositionalEncoding, sinusoidal_encoding

__all__ = ["AdditiveAttention", "MultiheadAttention", "PositionalEncoding", "additive_attention", "attention_scores",
           "attention_weights", "causal_mask", "content_read", "content_weights", "dot_product_attention",
           "merge_heads", "safe_softmax", "scaled_dot_product_attention", "scaled_dot_product_attention_backward",
           "sinusoidal_encoding", "split_heads"]
