"""Chapter 3 exercises: feedforward networks."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.common import F64, gen
from helpers.exercises.compare import choice, close, describe, equal
from helpers.exercises.forbid import AUTOGRAD, NUMPY_ESCAPE
from helpers.exercises.spec import Case, Compare, Exercise, Mismatch
from helpers.nn import activations, gradcheck, rbf
from helpers.nn.autograd import Value, topological_order, zero_grad


# ---------------------------------------------------------------- two linear layers collapse into one
def _collapse_cases() -> list[Case]:
    g = gen(31)

    def layers(d: int, h: int, k: int, dtype=F64):
        return (torch.randn(h, d, generator=g, dtype=dtype), torch.randn(h, generator=g, dtype=dtype),
                torch.randn(k, h, generator=g, dtype=dtype), torch.randn(k, generator=g, dtype=dtype))

    return [
        Case("two square layers, 3 -> 3 -> 3", layers(3, 3, 3),
             "W x + b must equal W2 (W1 x + b1) + b2 for every input x."),
        Case("4 inputs -> 6 hidden -> 2 outputs", layers(4, 6, 2), {0: "Mind the order of the matrix product."}),
        Case("a wide hidden layer, 2 -> 50 -> 3, float32", layers(2, 50, 3, torch.float32),
             {0: "However wide the hidden layer, the composition is one 3 x 2 linear map."}),
        Case("1 input -> 5 hidden -> 1 output", layers(1, 5, 1)),
        Case("8 -> 3 -> 8 (a bottleneck)", layers(8, 3, 8), hidden=True),
    ]


def _collapse_linear(W1, b1, W2, b2):
    return W2 @ W1, W2 @ b1 + b2  # W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2)


COLLAPSE = Exercise(
    id="03.collapse_linear",
    title="Two linear layers are one linear layer",
    kind="implement",
    points=3,
    prompt=(
        "collapse_linear(W1, b1, W2, b2) returns (W, b) such that W x + b = W2 (W1 x + b1) + b2 for every x. "
        "W1: (H, D), b1: (H,), W2: (K, H), b2: (K,) -> W: (K, D), b: (K,)."
    ),
    reference=_collapse_linear,
    cases=_collapse_cases,
    compare=close(rtol=1e-5, atol=1e-6),
    items=("W", "b"),
    forbidden=("helpers.nn.linear.compose_linear",),
    instead="Expand W2 (W1 x + b1) + b2 and read off the matrix and the vector.",
    hints=[
        "Expand W2 (W1 x + b1) + b2 = (W2 W1) x + (W2 b1 + b2) and read off the two parts.",
        "The combined weight is W2 @ W1 (K x H times H x D): the layer applied first stands on the right.",
        "The first bias is transformed by the second layer: b = W2 @ b1 + b2, not b1 + b2.",
    ],
    wrong={
        "The first bias must pass through the second layer: b = W2 @ b1 + b2, not b1 + b2.": (
            lambda W1, b1, W2, b2: (W2 @ W1, b1 + b2)
        ),
        "The matrices are multiplied in the wrong order: x meets W1 first, so W1 stands on the right, W2 @ W1.": (
            lambda W1, b1, W2, b2: (W1 @ W2, W2 @ b1 + b2)
        ),
        "The first layer's bias was dropped: it contributes W2 @ b1 to the combined bias.": (
            lambda W1, b1, W2, b2: (W2 @ W1, b2)
        ),
    },
)


# ---------------------------------------------------------------- a numerically stable softplus
def _softplus_cases() -> list[Case]:
    g = gen(32)
    return [
        Case("20 values from N(0, 3^2), float64", (3 * torch.randn(20, generator=g, dtype=F64),)),
        Case("x = [-1000, -30, 0, 30, 1000], float32", (torch.tensor([-1000.0, -30.0, 0.0, 30.0, 1000.0]),),
             "e^1000 overflows to inf (e^89 already does in float32); softplus(1000) is just 1000."),
        Case("x = [-50, -40], float64", (torch.tensor([-50.0, -40.0], dtype=F64),),
             "softplus(-50) = 1.9e-22: log(1 + u) rounds 1 + u to 1 and returns 0; log1p(u) keeps every digit."),
        Case("a (4, 5) batch, float32", (5 * torch.randn(4, 5, generator=g),),
             "Elementwise, any shape, in the input's dtype."),
        Case("200 values from N(0, 30^2), float64", (30 * torch.randn(200, generator=g, dtype=F64),), hidden=True),
    ]


def _stable_softplus(x: torch.Tensor) -> torch.Tensor:
    return x.clamp(min=0) + torch.log1p(torch.exp(-x.abs()))  # exponentiates only -|x| <= 0


SOFTPLUS = Exercise(
    id="03.stable_softplus",
    title="A softplus that never overflows",
    kind="implement",
    points=2,
    prompt=(
        "stable_softplus(x) returns log(1 + e^x) elementwise, finite for |x| up to 1000 in float32 and with full "
        "relative precision for very negative x. x: (...) -> (...), same dtype."
    ),
    reference=_stable_softplus,
    cases=_softplus_cases,
    compare=close(rtol=1e-5, atol=0.0),
    forbidden=("torch.nn.functional.softplus", "torch.nn.Softplus", "torch.logaddexp", "torch.Tensor.logaddexp",
               "numpy.logaddexp", "torch.nn.functional.logsigmoid", "torch.nn.LogSigmoid",
               "torch.nn.functional.binary_cross_entropy_with_logits", "helpers.nn.losses.softplus",
               "helpers.nn.losses.binary_cross_entropy_with_logits", *NUMPY_ESCAPE),
    instead="torch.exp, torch.log1p, .abs() and .clamp() are the building blocks.",
    hints=[
        "For x > 0 factor out e^x: log(1 + e^x) = x + log(1 + e^{-x}). Now the exponent is negative.",
        "Both cases at once: max(0, x) + log(1 + e^{-|x|}); x.clamp(min=0) and x.abs() do it without branches.",
        "Use torch.log1p(u) for log(1 + u): it stays accurate when u is tiny.",
    ],
    wrong={
        "e^x overflows to inf for large x (x > 88 in float32): rewrite so that you only exponentiate -|x|.": (
            lambda x: torch.log(1 + torch.exp(x))
        ),
        "log1p is right, but e^x still overflows for large x: use max(0, x) + log1p(e^{-|x|}).": (
            lambda x: torch.log1p(torch.exp(x))
        ),
        "log(1 + u) loses everything when u = e^{-|x|} is tiny (softplus(-50) comes out 0): use torch.log1p(u).": (
            lambda x: x.clamp(min=0) + torch.log(1 + torch.exp(-x.abs()))
        ),
        "max(0, x) is only the large-|x| limit: add the smooth part log1p(e^{-|x|}).": lambda x: x.clamp(min=0),
        "softplus(x) = -log sigma(-x) is right on paper, but sigma(-x) underflows to 0 for large x (log 0 = -inf) "
        "and rounds to 1 for very negative x (log 1 = 0): use max(0, x) + log1p(e^{-|x|}).": (
            lambda x: -torch.log(torch.sigmoid(-x))
        ),
    },
)


# ---------------------------------------------------------------- the derivative of swish
def _swish_grad_cases() -> list[Case]:
    g = gen(33)
    return [
        Case("10 values from N(0, 2^2), float64", (2 * torch.randn(10, generator=g, dtype=F64),),
             "swish(x) = x sigma(x) is a product: both factors depend on x."),
        Case("x = [-1000, -5, 0, 5, 1000], float32", (torch.tensor([-1000.0, -5.0, 0.0, 5.0, 1000.0]),),
             "The derivative must stay finite where e^{-x} overflows."),
        Case("a (3, 4) batch, float32", (torch.randn(3, 4, generator=g),)),
        Case("x = -1.2785 (near the minimum of swish)", (torch.tensor([-1.2784645], dtype=F64),),
             "swish has a minimum near x = -1.278, where its derivative is 0."),
        Case("a (2, 3, 5) batch, float64", (4 * torch.randn(2, 3, 5, generator=g, dtype=F64),), hidden=True),
    ]


def _swish_grad(x: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))  # s + x s', with s' = s (1 - s)


def _swish_grad_quotient_rule(x):
    e = torch.exp(-x)
    return (1 + e + x * e) / (1 + e) ** 2


SWISH_GRAD = Exercise(
    id="03.swish_grad",
    title="The derivative of swish",
    kind="implement",
    points=2,
    prompt=(
        "swish_grad(x) returns d/dx [x sigma(x)] elementwise, finite for |x| up to 1000. x: (...) -> (...), "
        "same dtype."
    ),
    reference=_swish_grad,
    cases=_swish_grad_cases,
    compare=close(rtol=1e-5, atol=1e-7),
    forbidden=(*AUTOGRAD, "helpers.nn.activations.swish_grad"),
    instead="Differentiate x sigma(x) by hand (product rule); torch.sigmoid is allowed.",
    hints=[
        "Product rule: d/dx [x s(x)] = s(x) + x s'(x), with s the sigmoid.",
        "s'(x) = s(x) (1 - s(x)), so the derivative is s(x) (1 + x (1 - s(x))).",
        "torch.sigmoid is stable at +-1000. Written with exponentials, the quotient rule's (1 + e^{-x} + x e^{-x}) / "
        "(1 + e^{-x})^2 is inf - inf = nan at x = -1000 (and e^x / (1 + e^x) is inf / inf = nan at x = 1000): "
        "write the derivative through sigma(x) instead.",
    ],
    wrong={
        "That is only the first term of the product rule: x also varies in the factor sigma(x), add x sigma'(x).": (
            lambda x: torch.sigmoid(x)
        ),
        "That is only the second term of the product rule: add sigma(x), from differentiating the factor x.": (
            lambda x: x * torch.sigmoid(x) * (1 - torch.sigmoid(x))
        ),
        "That is the derivative of the sigmoid, not of swish(x) = x sigma(x).": (
            lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x))
        ),
        "The quotient-rule form (1 + e^{-x} + x e^{-x}) / (1 + e^{-x})^2 is right on paper, but at x = -1000 "
        "e^{-x} overflows and it computes inf - inf = nan: write it through sigma(x) (torch.sigmoid).": (
            _swish_grad_quotient_rule
        ),
    },
)


# ---------------------------------------------------------------- backprop by hand: the skip-connection network
def _skip_parts(x, t, w1, w2, w3):
    h = 1 / (1 + math.exp(-w1 * x))
    y = 1 / (1 + math.exp(-(w2 * h + w3 * x)))
    return h, y, (y - t) * y * (1 - y)  # delta: dE/da at the output's pre-activation a = w2 h + w3 x


def _skip_no_output_derivative(x, t, w1, w2, w3):
    h, y, _ = _skip_parts(x, t, w1, w2, w3)
    d = y - t
    return d * w2 * h * (1 - h) * x, d * h, d * x, d * (w2 * h * (1 - h) * w1 + w3)


def _skip_missing_direct_path(x, t, w1, w2, w3):
    h, _, delta = _skip_parts(x, t, w1, w2, w3)
    return delta * w2 * h * (1 - h) * x, delta * h, delta * x, delta * w2 * h * (1 - h) * w1


def _skip_missing_w2(x, t, w1, w2, w3):
    h, _, delta = _skip_parts(x, t, w1, w2, w3)
    return delta * h * (1 - h) * x, delta * h, delta * x, delta * (w2 * h * (1 - h) * w1 + w3)


def _skip_hand_derived(x, t, w1, w2, w3):
    h, _, delta = _skip_parts(x, t, w1, w2, w3)
    return delta * w2 * h * (1 - h) * x, delta * h, delta * x, delta * (w2 * h * (1 - h) * w1 + w3)


def _skip_weight_for_input(x, t, w1, w2, w3):
    h, _, delta = _skip_parts(x, t, w1, w2, w3)
    return delta * w2 * h * (1 - h) * w1, delta * w2, delta * w3, delta * (w2 * h * (1 - h) * w1 + w3)


def _skip_wrong_sign(x, t, w1, w2, w3):
    return tuple(-g for g in _skip_hand_derived(x, t, w1, w2, w3))


def _skip_no_hidden_derivative(x, t, w1, w2, w3):
    h, _, delta = _skip_parts(x, t, w1, w2, w3)
    return delta * w2 * x, delta * h, delta * x, delta * (w2 * w1 + w3)


SKIP_BACKPROP = Exercise(
    id="03.skip_backprop",
    title="Backpropagation by hand through a skip connection",
    kind="derive",
    points=3,
    prompt=(
        "For h = sigma(w1 x), y = sigma(w2 h + w3 x) and E = (y - t)^2 / 2, skip_connection_grads(x, t, w1, w2, "
        "w3) returns the tuple (dE/dw1, dE/dw2, dE/dw3, dE/dx) of floats, from your hand-derived formulas."
    ),
    reference=_skip_hand_derived,
    items=("dE/dw1", "dE/dw2", "dE/dw3", "dE/dx"),
    forbidden=(*AUTOGRAD, "helpers.nn.autograd.Value.backward", "helpers.nn.autograd.grad",
               "helpers.nn.autograd.skip_network_grads"),
    instead="Derive the four formulas by hand (chain rule) and evaluate them with math.exp.",
    cases=lambda: [
        Case("x = 1, t = 0, w = (0.5, -1, 2)", (1.0, 0.0, 0.5, -1.0, 2.0),
             {0: "w1 acts through the hidden unit: its gradient passes back through w2 and sigma'(w1 x).",
              1: "w2 multiplies h in a = w2 h + w3 x, so da/dw2 = h.",
              2: "w3 multiplies x in a = w2 h + w3 x, so da/dw3 = x.",
              3: "x reaches y along two paths, through h and directly: dE/dx sums both."}),
        Case("x = -0.5, t = 1, w = (2, 1.5, -0.7)", (-0.5, 1.0, 2.0, 1.5, -0.7)),
        Case("x = 2, t = 0.3, w = (-1, 0.8, 0.1)", (2.0, 0.3, -1.0, 0.8, 0.1)),
        Case("x = 0.7, t = 0.9, w = (1.2, -2.0, 0.4)", (0.7, 0.9, 1.2, -2.0, 0.4), hidden=True),
    ],
    compare=close(rtol=1e-6, atol=1e-10),
    hints=[
        "Forward first: h = sigma(w1 x), a = w2 h + w3 x, y = sigma(a). Then dE/dy = y - t and dy/da = y (1 - y); "
        "call their product delta.",
        "da/dw2 = h and da/dw3 = x. For w1 go through h: dE/dw1 = delta * w2 * h (1 - h) * x.",
        "x appears twice in a = w2 sigma(w1 x) + w3 x: dE/dx = delta * (w2 h (1 - h) w1 + w3).",
    ],
    wrong={
        "The output's sigmoid was skipped: dE/da = (y - t) * y (1 - y), not (y - t).": _skip_no_output_derivative,
        "dE/dx misses the skip connection: x also reaches y directly, which adds delta * w3.": (
            _skip_missing_direct_path
        ),
        "dE/dw1 must pass through the weight w2 that connects h to the output: delta * w2 * h (1 - h) * x.": (
            _skip_missing_w2
        ),
        "Every sign is flipped: dE/dy = y - t for E = (y - t)^2 / 2.": _skip_wrong_sign,
        "A weight's gradient carries what the weight multiplies, not the weight itself: d(w3 x)/dw3 = x, "
        "d(w2 h)/dw2 = h, d(w1 x)/dw1 = x.": _skip_weight_for_input,
        "The hidden unit's sigmoid was skipped on the way back: h = sigma(w1 x) contributes the factor "
        "h (1 - h) to every path through it.": _skip_no_hidden_derivative,
    },
)


# ---------------------------------------------------------------- the backward pass of the scalar autograd
def _linear_graph():
    x, w, b = Value(1.5, label="x"), Value(-0.4, label="w"), Value(0.3, label="b")
    return x * w + b, [x, w, b]


def _reused_graph():
    x = Value(-0.8, label="x")
    return x * x + x, [x]


def _uneven_paths_graph():
    w, x = Value(0.9, label="w"), Value(-1.3, label="x")
    h = w * x
    return h + h.tanh() * 2.0, [w, x]  # h reaches the output directly and through tanh


def _skip_graph():
    x, t = Value(1.0, label="x"), 0.0
    w1, w2, w3 = Value(0.5, label="w1"), Value(-1.0, label="w2"), Value(2.0, label="w3")
    y = (w2 * (w1 * x).sigmoid() + w3 * x).sigmoid()
    return 0.5 * (y - t) ** 2, [w1, w2, w3, x]


def _stale_graph():
    root, inputs = _uneven_paths_graph()
    root.backward()  # an earlier backward pass left gradients in every node
    return root, inputs


def _neuron_graph():
    xs = [Value(v, label=f"x{i}") for i, v in enumerate((0.5, -1.0, 2.0))]
    ws = [Value(v, label=f"w{i}") for i, v in enumerate((0.3, 0.8, -0.2))]
    a = sum((w * x for w, x in zip(ws, xs)), Value(0.1, label="b"))
    return (a.relu() + a.sigmoid()).log(), ws + xs


def _grad_cases() -> list[Case]:
    return [
        Case("y = x * w + b", _linear_graph(), "d(xw + b)/dw = x: the local derivatives of *, then the chain rule."),
        Case("y = x * x + x (x used three times)", _reused_graph(),
             "A node that is used more than once collects the gradient of every use: +=, not =."),
        Case("y = h + 2 tanh(h), h = w * x", _uneven_paths_graph(),
             "h must hear from both of its uses before it passes its gradient on: reverse topological order."),
        Case("E = (y - t)^2 / 2 for the skip-connection network", _skip_graph(),
             "x reaches the output along two paths."),
        Case("y = h + 2 tanh(h) after an earlier backward pass", _stale_graph(),
             "Gradients left from an earlier pass must be reset to 0 first."),
        Case("log(relu(a) + sigmoid(a)), a = w . x + b", _neuron_graph(), hidden=True),
    ]


def _gradients(root, inputs):
    """The backward pass: reset, seed the root with 1, then each node (root first) passes local * its grad on."""
    order = topological_order(root)
    zero_grad(order)
    root.grad = 1.0
    for node in reversed(order):  # a node comes after every node that uses it: its grad is complete
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return tuple(x.grad for x in inputs)


def _grad_breadth_first(root, inputs):
    """Pass each node's gradient on as soon as the node is reached from the root (wrong order)."""
    nodes = topological_order(root)
    zero_grad(nodes)
    root.grad = 1.0
    queue, seen = [root], {id(root)}
    while queue:
        node = queue.pop(0)
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
            if id(child) not in seen:
                seen.add(id(child))
                queue.append(child)
    return tuple(x.grad for x in inputs)


def _grad_with(update, reset: bool = True, seed: float = 1.0, backwards: bool = True):
    def answer(root, inputs):
        order = topological_order(root)
        if reset:
            zero_grad(order)
        root.grad = seed
        for node in reversed(order) if backwards else order:
            for child, local in zip(node.children, node.local_grads):
                child.grad = update(child.grad, local, node.grad)
        return tuple(x.grad for x in inputs)

    return answer


AUTOGRAD_GRAD = Exercise(
    id="03.autograd_grad",
    title="The backward pass of a scalar autograd",
    kind="implement",
    points=3,
    prompt=(
        "gradients(root, inputs) returns the tuple (d root / d x for x in inputs) for Values of helpers.nn.autograd: "
        "reset every node's grad to 0, set root.grad = 1, visit the nodes of autograd.topological_order(root) in "
        "reverse and add local * node.grad to each child's grad."
    ),
    reference=_gradients,
    cases=_grad_cases,
    compare=close(rtol=1e-9, atol=1e-12),
    forbidden=("helpers.nn.autograd.Value.backward", "helpers.nn.autograd.grad",
               "helpers.nn.autograd.skip_network_grads", *AUTOGRAD),
    instead="Use autograd.topological_order, zero the grads, then apply child.grad += local * node.grad.",
    hints=[
        "order = autograd.topological_order(root) lists every node after its children. Set each node.grad = 0.0, "
        "then root.grad = 1.0.",
        "for node in reversed(order): for child, local in zip(node.children, node.local_grads): "
        "child.grad += local * node.grad",
        "Return tuple(x.grad for x in inputs).",
    ],
    wrong={
        "A node passed its gradient on before all of its uses had reported back: visit the nodes in reverse "
        "topological order, not in the order they are reached from the root.": _grad_breadth_first,
        "Use += : a node used several times must add up the gradients from all of its uses.": (
            _grad_with(lambda grad, local, upstream: local * upstream)
        ),
        "The chain rule multiplies the local derivative by the gradient arriving from above (node.grad).": (
            _grad_with(lambda grad, local, upstream: grad + local)
        ),
        "Reset every node's grad to 0 first: gradients left from an earlier backward pass were added in.": (
            _grad_with(lambda grad, local, upstream: grad + local * upstream, reset=False)
        ),
        "Start with root.grad = 1 (d root / d root); with 0 nothing flows back.": (
            _grad_with(lambda grad, local, upstream: grad + local * upstream, seed=0.0)
        ),
        "topological_order lists the inputs first and the root last: visit it in reverse (reversed(order)), so "
        "that each node has collected its whole gradient before it passes it on.": (
            _grad_with(lambda grad, local, upstream: grad + local * upstream, backwards=False)
        ),
    },
)


# ---------------------------------------------------------------- the backward pass of a linear layer
def _linear_backward_cases() -> list[Case]:
    g = gen(36)

    def layer(n: int, d: int, k: int, dtype=F64, bias: bool = True, batch: tuple = ()):
        """(grad_output, input, weight, bias) of a layer d -> k on a batch of n rows (with extra batch dims)."""
        x = torch.randn(*batch, n, d, generator=g, dtype=dtype)
        weight = torch.randn(k, d, generator=g, dtype=dtype)
        b = torch.randn(k, generator=g, dtype=dtype) if bias else None
        return torch.randn(*batch, n, k, generator=g, dtype=dtype), x, weight, b

    return [
        Case("a batch of 5 rows, 4 -> 4 features", layer(5, 4, 4),
             {0: "Each input row reaches every output of its row through W; its gradient has x's shape (N, in).",
              1: "W is used by every row of the batch: its gradient adds up the rows' contributions and has W's "
                 "shape (out, in).",
              2: "b is added to every row, so its gradient adds up the rows' contributions."}),
        Case("a batch of 6 rows, 3 -> 2 features", layer(6, 3, 2),
             {1: "W is shared by every row of the batch: its gradient is a sum over the rows, of W's shape."}),
        Case("a batch of 1 row, 5 -> 3 features", layer(1, 5, 3),
             "With one row the sums over the batch have a single term; the shapes still follow x, W and b."),
        Case("a layer without bias (bias=None), 4 rows, 3 -> 5", layer(4, 3, 5, bias=False),
             {2: "There is no bias, so there is no bias gradient: return None in its place."}),
        Case("float32, a batch of 8 rows, 6 -> 3 features", layer(8, 6, 3, torch.float32),
             "Compute in the dtype of the inputs."),
        Case("a batch of 32 rows, 10 -> 7 features", layer(32, 10, 7), hidden=True),
        Case("two leading batch dimensions: input (2, 2, 5, 3), 3 -> 4", layer(5, 3, 4, batch=(2, 2)), hidden=True),
        Case("an extra leading batch dimension: input (2, 3, 4), i.e. 2 x 3 = 6 rows, 4 -> 2",
             layer(3, 4, 2, batch=(2,)),
             why={0: "grad_input keeps every leading dimension of the input.",
                  1: "Every leading dimension is a batch dimension: dW sums over all of them.",
                  2: "db sums over every leading dimension too."}),
    ]


def _close_or_none(rtol: float, atol: float) -> Compare:
    """close(), item by item, where an expected None (no bias, so no bias gradient) must come back as None."""
    inner = close(rtol=rtol, atol=atol)

    def compare(expected, got):
        if not isinstance(expected, tuple):
            return inner(expected, got)
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return Mismatch(f"expected a tuple of {len(expected)} values (grad_input, grad_weight, grad_bias), "
                            f"got {describe(got)}")
        for item, (e, value) in enumerate(zip(expected, got)):
            if e is None and value is not None:
                return Mismatch(f"expected None (the layer has no bias), got {describe(value)}", item)
            if e is not None and value is None:
                return Mismatch(f"expected a tensor of shape {tuple(e.shape)}, got None", item)
            problem = inner(e, value) if e is not None else None
            if problem:
                return Mismatch(problem.message, item, problem.kind)
        return None

    return compare


def _rows(grad_output, input):
    """G (N, out) and x (N, in), every leading batch dimension flattened into rows."""
    return grad_output.reshape(-1, grad_output.shape[-1]), input.reshape(-1, input.shape[-1])


def _linear_backward(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    return grad_output @ weight, G.T @ x, G.sum(0) if bias is not None else None


# The known-wrong answers flatten the batch dimensions as the reference does, so that each makes its own
# mistake alone (and _matrices_only is the one that forgets to flatten).
def _dw_per_row(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    grad_weight = G[:, :, None] * x[:, None, :]  # one outer product G_n x_n^T per row
    return grad_output @ weight, grad_weight, G.sum(0) if bias is not None else None


def _dw_transposed(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    return grad_output @ weight, x.T @ G, G.sum(0) if bias is not None else None


def _dx_with_w_transposed(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    return grad_output @ weight.T, G.T @ x, G.sum(0) if bias is not None else None


def _db_mean(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    return grad_output @ weight, G.T @ x, G.mean(0) if bias is not None else None


def _db_always(grad_output, input, weight, bias=None):
    G, x = _rows(grad_output, input)
    return grad_output @ weight, G.T @ x, G.sum(0)


def _matrices_only(grad_output, input, weight, bias=None):
    grad_weight = grad_output.transpose(-2, -1) @ input  # right for (N, out) and (N, in), not for more dims
    return grad_output @ weight, grad_weight, grad_output.sum(0) if bias is not None else None


LINEAR_BACKWARD = Exercise(
    id="03.linear_backward",
    title="The backward pass of a linear layer",
    kind="implement",
    points=3,
    prompt=(
        "linear_backward(grad_output, input, weight, bias) returns (grad_input, grad_weight, grad_bias), the "
        "gradients of L for y = input @ weight.T + bias given grad_output = dL/dy. grad_output: (*, out), input: "
        "(*, in), weight: (out, in), bias: (out,) or None -> ((*, in), (out, in), (out,) or None); every leading "
        "dimension is a batch dimension."
    ),
    reference=_linear_backward,
    cases=_linear_backward_cases,
    compare=_close_or_none(rtol=1e-5, atol=1e-5),
    items=("grad_input", "grad_weight", "grad_bias"),
    forbidden=(*AUTOGRAD, "helpers.nn.linear.linear_backward"),
    instead="Derive the three gradients entry by entry and compute them with @, .T (or .transpose), .sum and "
    ".reshape.",
    hints=[
        "Write one entry: y[n, k] = sum_j x[n, j] W[k, j] + b[k]. The weight W[k, j] touches y[n, k] in every row "
        "n, so dL/dW[k, j] = sum_n G[n, k] x[n, j]. Which matrix product is that sum?",
        "Every gradient has the shape of what it differentiates. From G (N, out), x (N, in) and W (out, in): "
        "grad_input (N, in) = G @ W and grad_weight (out, in) = G.T @ x.",
        "b[k] is added in every row, so grad_bias = G.sum(0), or None when bias is None. For inputs with more "
        "leading dimensions, flatten them into rows first: G.reshape(-1, out), x.reshape(-1, in).",
    ],
    wrong={
        "grad_weight was not summed over the batch: W is shared by every row, so the rows' outer products "
        "G_n x_n^T add up to G^T x, of W's shape (out, in).": _dw_per_row,
        "grad_weight is transposed: x^T G has shape (in, out); the gradient has W's shape (out, in): G^T x.": (
            _dw_transposed
        ),
        "grad_input = G W^T multiplies G (N, out) by W^T (in, out), which only fits when in = out: "
        "dL/dx[n, j] = sum_k G[n, k] W[k, j] is G @ W, of x's shape (N, in).": _dx_with_w_transposed,
        "grad_bias is the mean of G over the batch: b is added to every row, so each row's gradient counts in "
        "full: sum, do not average (any averaging belongs to the loss, which is already in G).": _db_mean,
        "Without a bias there is no bias gradient: return None for grad_bias when bias is None.": _db_always,
        "Every leading dimension is a batch dimension: flatten them into rows (reshape(-1, features)) before "
        "the sums for grad_weight and grad_bias, so that they have the shapes of W and b.": _matrices_only,
    },
)


# ---------------------------------------------------------------- central finite differences
def _cube_sum(x):
    return (x**3).sum()


def _sin_sum(x):
    return torch.sin(x).sum()


def _product(x):
    return x.prod()


def _softplus_dot(x):
    weights = torch.linspace(-1, 1, x.numel(), dtype=x.dtype).reshape(x.shape)
    return (weights * activations.softplus(2 * x)).sum()


def _numerical_grad_cases() -> list[Case]:
    g = gen(34)
    return [
        Case("f(x) = sum(x^3) at 4 random points, eps = 1e-3", (_cube_sum, torch.randn(4, generator=g, dtype=F64),
                                                               1e-3),
             "A one-sided difference has error eps f''/2; the central one, eps^2 f'''/6."),
        Case("f(x) = sum(sin(x)) on a (2, 3) tensor, eps = 1e-5",
             (_sin_sum, torch.randn(2, 3, generator=g, dtype=F64), 1e-5),
             "Keep x's shape: one partial derivative per entry."),
        Case("f(x) = prod(x) at [1, 2, 3], eps = 1e-4", (_product, torch.tensor([1.0, 2.0, 3.0], dtype=F64), 1e-4),
             "Perturb one coordinate at a time."),
        Case("a weighted softplus of 5 values, eps = 1e-6", (_softplus_dot, torch.randn(5, generator=g, dtype=F64),
                                                            1e-6)),
        Case("f(x) = sum(x^3) on a (3, 3) tensor, eps = 1e-2", (_cube_sum, torch.randn(3, 3, generator=g, dtype=F64),
                                                                1e-2), hidden=True),
    ]


def _forward_difference(f, x, eps):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        grad.view(-1)[i] = (f(x + step.view_as(x)) - f(x)) / eps
    return grad


def _central(f, x, eps):
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        grad.view(-1)[i] = (f(x + step.view_as(x)) - f(x - step.view_as(x))) / (2 * eps)
    return grad


def _all_at_once(f, x, eps):
    return torch.full_like(x, ((f(x + eps) - f(x - eps)) / (2 * eps)).item())


NUMERICAL_GRAD = Exercise(
    id="03.numerical_grad",
    title="Central finite differences",
    kind="implement",
    points=3,
    prompt=(
        "numerical_grad(f, x, eps) returns a tensor shaped like x whose entry i is "
        "(f(x + eps e_i) - f(x - eps e_i)) / (2 eps); f maps a tensor to a 0-dim tensor. Do not modify x."
    ),
    reference=_central,
    cases=_numerical_grad_cases,
    compare=close(rtol=1e-7, atol=1e-9),
    forbidden=("helpers.nn.gradcheck.numerical_grad", "helpers.nn.gradcheck.check_gradient",
               "helpers.nn.gradcheck.gradient_error", "helpers.nn.gradcheck.gradients_match",
               # "torch.autograd.gradcheck" names the module as well as the function: name the function itself
               "torch.autograd.gradcheck.gradcheck", "torch.autograd.gradcheck.get_numerical_jacobian",
               "scipy.optimize.approx_fprime", *AUTOGRAD),
    instead="Loop over the entries and evaluate f at x + eps e_i and x - eps e_i.",
    hints=[
        "Loop over the entries: for i in range(x.numel()). Build a step tensor that is eps at entry i and 0 "
        "elsewhere (torch.zeros_like(x).view(-1), set [i], then .view_as(x)).",
        "grad.view(-1)[i] = (f(x + step) - f(x - step)) / (2 * eps). Start from grad = torch.zeros_like(x).",
        "x + step makes a new tensor; writing into x itself (x[i] += eps) changes the caller's data and may not "
        "restore it exactly.",
    ],
    wrong={
        "That is the one-sided difference (f(x + eps e_i) - f(x)) / eps, with error O(eps): use x + eps e_i and "
        "x - eps e_i.": _forward_difference,
        "The central difference divides by 2 eps, the distance between x - eps e_i and x + eps e_i.": (
            lambda f, x, eps: 2 * _central(f, x, eps)
        ),
        "Every entry was perturbed at once, which measures the sum of the partial derivatives: move one "
        "coordinate at a time.": _all_at_once,
    },
)


# ---------------------------------------------------------------- a gradient checker that catches mistakes
def _sigmoid_sum(x):
    return torch.sigmoid(x).sum()


def _square_sum(x):
    return (x**2).sum()


def _flat_logsumexp(x):
    return torch.logsumexp(x.flatten(), 0)


def _gradient_error_cases() -> list[Case]:
    g = gen(35)
    x1, x2, x4 = (torch.randn(6, generator=g, dtype=F64) for _ in range(3))
    x5 = torch.randn(2, 4, generator=g, dtype=F64)
    wrong_entry = x2.prod() / x2
    wrong_entry[2] += 0.05
    return [
        Case("f = sum(sin(x)) with the correct gradient cos(x)", (_sin_sum, x1, torch.cos(x1)),
             "A correct gradient gives a relative error near 1e-10."),
        Case("f = sum(sigmoid(x)) with the wrong gradient sigmoid(x)",
             (_sigmoid_sum, x4, torch.sigmoid(x4)),
             "A wrong gradient must give a large relative error, here about 0.5."),
        Case("f = prod(x) with one entry of the gradient off by 0.05", (_product, x2, wrong_entry)),
        Case("f = sum(x^2) at x = 0 with the correct gradient 0",
             (_square_sum, torch.zeros(3, dtype=F64), torch.zeros(3, dtype=F64)),
             "When both gradients are zero the relative error is defined as 0, not 0/0."),
        Case("f = logsumexp(x) on a (2, 4) tensor with its gradient softmax(x)",
             (_flat_logsumexp, x5, torch.softmax(x5.flatten(), 0).reshape(2, 4)),
             hidden=True),
    ]


def _norms(a, b):
    return (a - b).norm().item(), a.norm().item(), b.norm().item()


def _relative_error(f, x, analytic):
    diff, a, n = _norms(analytic, gradcheck.numerical_grad(f, x, 1e-6))
    return diff / (a + n) if a + n else 0.0  # both gradients exactly 0: they agree


def _absolute_error(f, x, analytic):
    return (analytic - gradcheck.numerical_grad(f, x, 1e-6)).norm().item()


def _relative_to_analytic(f, x, analytic):
    diff, a, _ = _norms(analytic, gradcheck.numerical_grad(f, x, 1e-6))
    return diff / a if a else 0.0


def _max_norm(f, x, analytic):
    numerical = gradcheck.numerical_grad(f, x, 1e-6)
    denominator = (analytic.abs().max() + numerical.abs().max()).item()
    return (analytic - numerical).abs().max().item() / denominator if denominator else 0.0


def _l1_norm(f, x, analytic):
    numerical = gradcheck.numerical_grad(f, x, 1e-6)
    denominator = (analytic.abs().sum() + numerical.abs().sum()).item()
    return (analytic - numerical).abs().sum().item() / denominator if denominator else 0.0


GRADIENT_ERROR = Exercise(
    id="03.gradient_error",
    title="A gradient checker that catches a wrong gradient",
    kind="implement",
    points=2,
    prompt=(
        "gradient_relative_error(f, x, analytic_grad) returns ||g_a - g_n|| / (||g_a|| + ||g_n||) as a float, "
        "where g_a = analytic_grad, g_n = gradcheck.numerical_grad(f, x, 1e-6), ||.|| the Euclidean norm; 0.0 "
        "when both norms are 0."
    ),
    reference=_relative_error,
    cases=_gradient_error_cases,
    compare=close(rtol=1e-3, atol=1e-7),
    forbidden=("helpers.nn.gradcheck.gradient_error", "helpers.nn.gradcheck.relative_error",
               "helpers.nn.gradcheck.check_gradient", "helpers.nn.gradcheck.gradients_match",
               "torch.autograd.gradcheck.gradcheck"),
    instead="Call gradcheck.numerical_grad, then compute the norms with .norm().",
    hints=[
        "numerical = gradcheck.numerical_grad(f, x, 1e-6); then work with tensor norms: (a - b).norm().",
        "Divide by the sum of both norms, so the result lies in [0, 1] whatever the scale of f.",
        "Guard the case where both gradients are exactly zero: return 0.0 instead of dividing 0 by 0.",
    ],
    wrong={
        "That is the absolute error ||g_a - g_n||: divide by ||g_a|| + ||g_n|| so the result does not depend on "
        "the scale of f.": _absolute_error,
        "Divide by ||g_a|| + ||g_n||, not by ||g_a|| alone (which also breaks when the analytic gradient is 0).": (
            _relative_to_analytic
        ),
        "Use the Euclidean norm of the whole difference, not the largest entry.": _max_norm,
        "Use the Euclidean norm (square root of the sum of squares, .norm()), not the sum of absolute values.": (
            _l1_norm
        ),
    },
)


# ---------------------------------------------------------------- weight-space symmetries
SYMMETRY_LAYERS = (5, 3)


def _symmetries() -> int:
    return math.prod(math.factorial(m) * 2**m for m in SYMMETRY_LAYERS)  # M! orders times 2^M signs, per layer

SYMMETRIES = Exercise(
    id="03.count_symmetries",
    title="Counting weight-space symmetries",
    kind="number",
    points=2,
    prompt=(
        "A network has 4 inputs, two hidden layers of 5 and 3 tanh units, and 2 linear outputs. How many weight "
        "vectors (the original included) compute the same function through permutations of hidden units and "
        "sign flips of tanh units? Return an integer."
    ),
    reference=_symmetries,
    forbidden=("helpers.models.mlp.weight_space_symmetries",),
    instead="Count by hand with math.factorial and powers of 2.",
    cases=lambda: [Case("hidden layers of 5 and 3 tanh units", (),
                        "Each hidden layer has its own M! 2^M symmetries, and they combine freely.")],
    compare=equal(),
    hints=[
        "One hidden layer of M tanh units: M! orderings of the units times 2^M choices of sign flips.",
        "Units can only be permuted within their own layer, and the choices in the two layers are independent: "
        "multiply.",
        "5! * 2^5 = 3840 for the first layer.",
    ],
    wrong={
        "Units cannot move between layers: count M! 2^M per layer (5 and 3) and multiply, not (5 + 3)! 2^8.": (
            lambda: math.factorial(8) * 2**8
        ),
        "The choices in the two layers are independent, so the counts multiply; they do not add.": (
            lambda: math.factorial(5) * 2**5 + math.factorial(3) * 2**3
        ),
        "Only the permutations were counted: tanh is odd, so flipping the signs of a unit's weights in and out "
        "adds a factor 2 per unit.": lambda: math.factorial(5) * math.factorial(3),
        "Only the sign flips were counted: the units of a layer can also be reordered (M! ways).": lambda: 2**8,
    },
)


# ---------------------------------------------------------------- the RBF network for XOR, recomputed
XOR_WEIGHTS = (-0.8, 0.9, 0.9, -0.8)


def _outputs_by_hand(gamma: float = 0.5, center_value_bug: bool = False) -> torch.Tensor:
    """The outputs as a student computes them (the reference), with the known mistakes as options."""
    features = torch.exp(-gamma * rbf.squared_distances(rbf.XOR_INPUTS, rbf.XOR_INPUTS))
    if center_value_bug:
        features = features * (1 - torch.eye(4, dtype=F64))
    return features @ torch.tensor(XOR_WEIGHTS, dtype=F64)


RBF_XOR = Exercise(
    id="03.rbf_xor",
    title="The RBF network for XOR, recomputed",
    kind="number",
    points=2,
    prompt=(
        "Centres at the four corners (0,0), (0,1), (1,0), (1,1); h_j(x) = exp(-||x - c_j||^2 / 2); output "
        "y = -0.8 h_1 + 0.9 h_2 + 0.9 h_3 - 0.8 h_4. Return the outputs at the four inputs (0,0), (0,1), (1,0), "
        "(1,1) as a tensor of shape (4,)."
    ),
    reference=_outputs_by_hand,
    forbidden=("helpers.nn.rbf.rbf_features", "helpers.nn.rbf.rbf_network", "helpers.nn.rbf.fit_output_weights",
               "sklearn.metrics.pairwise.rbf_kernel", "sklearn.gaussian_process.kernels.RBF.__call__"),
    instead="Compute the squared distances to the four centres yourself (torch.cdist or by hand), then exp.",
    cases=lambda: [Case("the four XOR inputs", (), "Small rounding of e^(-1/2) and e^(-1) moves the outputs a lot.")],
    compare=close(rtol=1e-4, atol=1e-5, check_dtype=False),
    hints=[
        "Squared distances from (0,0) to the centres are 0, 1, 1, 2, so h = (1, e^-0.5, e^-0.5, e^-1).",
        "All 16 features at once: the squared distances torch.cdist(X, C) ** 2 (a 4 x 4 matrix), times -1/2, "
        "then torch.exp.",
        "Multiply the (4, 4) feature matrix by the weight vector; keep full precision, do not round e^-0.5 to 0.6.",
    ],
    wrong={
        "At its own centre a Gaussian unit gives e^0 = 1, not 0.": lambda: _outputs_by_hand(center_value_bug=True),
        "These are the outputs with e^-0.5 rounded to 0.6 and e^-1 to 0.4: round only at the end.": (
            lambda: torch.tensor([-0.04, 0.3, 0.3, -0.04], dtype=F64)
        ),
        "The width is wrong: the units here are exp(-d^2 / 2), i.e. gamma = 1/2, not exp(-d^2).": (
            lambda: _outputs_by_hand(gamma=1.0)
        ),
        "The two gammas were mixed up: gamma = 1/2 is the book's precision in exp(-gamma d^2); read as the "
        "lecture's width in exp(-d^2 / gamma^2) it gives exp(-4 d^2), a much narrower unit.": (
            lambda: _outputs_by_hand(gamma=4.0)
        ),
        "The exponent lost its minus sign: a Gaussian unit is exp(-||x - c||^2 / 2), largest (1) at its centre "
        "and falling with distance.": lambda: _outputs_by_hand(gamma=-0.5),
        "The Gaussian uses the squared distance ||x - c||^2, not the distance ||x - c||.": (
            lambda: torch.exp(-rbf.squared_distances(rbf.XOR_INPUTS, rbf.XOR_INPUTS).sqrt() / 2)
            @ torch.tensor(XOR_WEIGHTS, dtype=F64)
        ),
    },
)


# ---------------------------------------------------------------- zero initialisation
ZERO_INIT_OPTIONS = {
    "a": "The first gradient step breaks the symmetry, because each hidden unit receives a different gradient.",
    "b": "The hidden units stay identical to one another but do learn: the network acts like one with a single "
    "hidden unit.",
    "c": "Every weight gradient is exactly zero, so the weights never move; only the output bias learns.",
    "d": "The gradients explode, because tanh'(0) = 1 is the largest slope tanh has.",
}

ZERO_INIT = Exercise(
    id="03.zero_init",
    title="What zero initialisation does to a tanh network",
    kind="choice",
    points=1,
    prompt=(
        "A network x -> tanh(W1 x + b1) -> W2 h + b2 starts with every weight and bias equal to 0 and is trained "
        "by gradient descent on a squared error. What happens? Return the letter."
    ),
    reference=lambda: "c",
    cases=lambda: [Case("all weights and biases zero, tanh hidden units", (),
                        "A zero start is a stationary point for all the weights of a tanh network.")],
    compare=choice(ZERO_INIT_OPTIONS),
    options=ZERO_INIT_OPTIONS,
    hints=[
        "Compute the forward pass: what is h = tanh(W1 x + b1) when W1 = 0 and b1 = 0?",
        "dE/dW2 = delta h^T and dE/dW1 = (W2^T delta * tanh'(a)) x^T. Which factor is zero in each?",
        "h = tanh(0) = 0 makes dE/dW2 = 0, and W2 = 0 makes dE/dW1 = 0: at every step the weights stay where "
        "they are, while dE/db2 = delta is not zero.",
    ],
    wrong={
        "All hidden units compute the same thing and receive the same gradient, so nothing can tell them apart; "
        "here the gradients are even exactly zero.": lambda: "a",
        "That is what happens with sigmoid units, whose output at 0 is 1/2. With tanh, h = tanh(0) = 0, so W2 gets "
        "no gradient, and W1 gets none because W2 = 0.": lambda: "b",
        "Nothing is multiplied up: the weight gradients are products with h = 0 or W2 = 0, so they are exactly 0.": (
            lambda: "d"
        ),
    },
)


EXERCISES = [
    COLLAPSE,
    SOFTPLUS,
    SWISH_GRAD,
    SKIP_BACKPROP,
    AUTOGRAD_GRAD,
    LINEAR_BACKWARD,
    NUMERICAL_GRAD,
    GRADIENT_ERROR,
    ZERO_INIT,
    SYMMETRIES,
    RBF_XOR,
]
