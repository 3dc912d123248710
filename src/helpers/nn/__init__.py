"""From-scratch reference implementations, in plain torch, device-agnostic.

One module per idea: ``activations``, ``losses``, ``linear`` (and its backward), ``backprop`` (a two-layer
network trained by hand-written matrix backprop), ``autograd`` (a scalar reverse-mode autograd),
``gradcheck`` (finite-difference gradient checking), ``rbf`` (radial basis function features),
``init`` (Xavier/Glorot and Kaiming/He initialisation), ``normalization`` (batch norm and its backward) and
``dropout`` (inverted dropout and Monte-Carlo dropout); ``conv``, ``conv_backward`` (2-D convolution by loops and by
unfold + matmul, its backward as convolutions) and ``pooling`` (max and average pooling, forward and backward);
``recurrent`` (a package: the RNN, GRU, LSTM and peephole LSTM cells, the layers ``RNN``, ``GRU``, ``LSTM`` as
``nn.Module``s with torch's parameter names, and backpropagation through time written out).
Import what you need, e.g. ``from helpers.nn import losses``.
"""
