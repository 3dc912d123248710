"""From-scratch reference implementations, in plain torch, device-agnostic.

One module per idea: ``activations``, ``losses``, ``linear`` (and its backward), ``backprop`` (a two-layer
network trained by hand-written matrix backprop), ``autograd`` (a scalar reverse-mode autograd),
``gradcheck`` (finite-difference gradient checking), ``rbf`` (radial basis function features),
``init`` (Xavier/Glorot and Kaiming/He initialisation), ``normalization`` (batch norm and its backward) and
``dropout`` (inverted dropout and Monte-Carlo dropout); ``conv``, ``conv_backward`` (2-D convolution by loops and by
unfold + matmul, its backward as convolutions) and ``pooling`` (max and average pooling, forward and backward);
``recurrent`` (a package: the RNN, GRU, LSTM and peephole LSTM cells, the layers ``RNN``, ``GRU``, ``LSTM`` as
``nn.Module``s with torch's parameter names, and backpropagation through time written out);
``attention`` (a package: scaled dot-product attention as ``F.scaled_dot_product_attention``, where a boolean
mask's True means *takes part* and a fully masked row gives 0 as in torch, its weights, the causal mask and its
backward; additive (Bahdanau) and unscaled dot-product attention; ``split_heads``/``merge_heads`` and
``MultiheadAttention`` with ``nn.MultiheadAttention``'s parameter names, where True means *blocked*; sinusoidal
positional encodings; content-based memory reads); ``embedding`` (a package: the embedding table ``embedding`` /
``Embedding`` as ``F.embedding`` / ``nn.Embedding`` and one-hot times W; skip-gram, CBOW and bigram pairs;
word2vec's full-softmax and negative-sampling losses with the unigram^0.75 noise; the ``SkipGram`` and ``CBOW``
models; cosine ``nearest_neighbours``); ``gradient_reversal`` (the gradient-reversal layer of domain-adversarial
training: ``GradientReversal``, a ``torch.autograd.Function`` with the identity forward and -lambda times the
gradient backward; ``grad_reverse``; ``GradientReversalLayer``).
Import what you need, e.g. ``from helpers.nn import losses``.
"""
