"""A scalar reverse-mode automatic differentiation engine, and a tiny MLP built on it (``ScalarMLP``).

Every ``Value`` holds one number (``data``), the Values it was computed from (``children``), and the
local derivatives d(self)/d(child), one per child (``local_grads``), which the operation knows when it
computes its result: ``a * b`` stores (b, a), ``tanh(a)`` stores (1 - tanh(a)^2,). After a backward pass
``grad`` holds d(output)/d(self).

The backward pass is the chain rule applied to the whole graph at once: visit the nodes in *reverse
topological order* (every node before the nodes it was computed from), and let each node pass its
gradient on to its children, weighted by the local derivatives,

    child.grad += local_grad * node.grad.

The order guarantees that a node's grad is complete (it has heard from every node that uses it) before
it is passed on; ``+=`` adds up the contributions of a node that is used more than once.

    x = Value(2.0, label="x")
    y = (x * x + 1).log()
    y.backward()
    x.grad  # dy/dx = 2x / (x^2 + 1) = 0.8

Written to be read, in the spirit of Karpathy's micrograd (which stores a closure per node; storing the
local derivatives as numbers makes a graph plain data that can be copied and inspected).
``tests/test_nn_autograd.py`` checks it against ``torch.autograd``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

Number = int | float


class Value:
    """A scalar node of a computation graph: its data, its children and d(self)/d(child) for each."""

    def __init__(
        self,
        data: Number,
        children: Sequence[Value] = (),
        local_grads: Sequence[Number] = (),
        op: str = "",
        label: str = "",
    ):
        if len(children) != len(local_grads):
            raise ValueError("Give one local derivative d(self)/d(child) per child.")
        self.data = float(data)
        self.grad = 0.0  # d(output)/d(self), filled in by a backward pass
        self.children = tuple(children)  # the Values this one was computed from, in order
        self.local_grads = tuple(float(g) for g in local_grads)  # d(self)/d(child), same order
        self.op = op  # the operation that produced it, e.g. "+" or "tanh" ("" for an input)
        self.label = label

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # ------------------------------------------------------------ binary operations
    def __add__(self, other: Value | Number) -> Value:
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")  # d(a+b)/da = d(a+b)/db = 1

    def __mul__(self, other: Value | Number) -> Value:
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")  # d(ab)/da = b

    def __pow__(self, exponent: Number) -> Value:
        if not isinstance(exponent, (int, float)):
            raise TypeError("Only constant exponents are supported: x ** 2, x ** -1, x ** 0.5, ...")
        local = exponent * self.data ** (exponent - 1)  # d(a^n)/da = n a^(n-1)
        return Value(self.data**exponent, (self,), (local,), f"**{exponent:g}")

    def __neg__(self) -> Value:  # -a = a * (-1)
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:  # a - b = a + (-b)
        return self + (-other)

    def __truediv__(self, other: Value | Number) -> Value:  # a / b = a * b^-1
        return self * as_value(other) ** -1

    # the same operations with the Value on the right: 2 + x, 2 * x, 2 - x, 2 / x
    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return as_value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return as_value(other) / self

    # ------------------------------------------------------------ functions of one Value
    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")  # d(e^a)/da = e^a

    def log(self) -> Value:
        return Value(math.log(self.data), (self,), (1 / self.data,), "log")  # d(log a)/da = 1/a

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1 - t**2,), "tanh")  # d(tanh a)/da = 1 - tanh(a)^2

    def sigmoid(self) -> Value:
        a = self.data
        s = 1 / (1 + math.exp(-a)) if a >= 0 else math.exp(a) / (1 + math.exp(a))  # never exp(+large)
        return Value(s, (self,), (s * (1 - s),), "sigmoid")  # d(sigma(a))/da = sigma(a) (1 - sigma(a))

    def relu(self) -> Value:
        return Value(max(self.data, 0.0), (self,), (float(self.data > 0),), "relu")  # 1 if a > 0 else 0

    # ------------------------------------------------------------ reverse mode
    def backward(self) -> None:
        """Fill in ``grad`` = d(self)/d(node) for every node of the graph that produced ``self``.

        As in PyTorch, the inputs (leaves, e.g. parameters) *accumulate*: a second backward pass adds to
        their grads, so zero them (``zero_grad``) between training steps. Intermediate nodes start from 0.
        """
        order = topological_order(self)
        for node in order:
            if node.children:  # an intermediate result: its grad is recomputed from scratch
                node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(order):  # each node before its children
            for child, local in zip(node.children, node.local_grads):
                child.grad += local * node.grad  # the chain rule, summed over every use of child


def as_value(x: Value | Number) -> Value:
    """x itself if it is a Value, else a constant Value holding x."""
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list[Value]:
    """Every node of root's graph, each after all of its children (inputs first, root last)."""
    order: list[Value] = []
    visited: set[int] = set()

    def visit(node: Value) -> None:
        if id(node) in visited:
            return
        visited.add(id(node))
        for child in node.children:
            visit(child)
        order.append(node)  # only after everything it depends on

    visit(root)
    return order


def grad(root: Value, inputs: Sequence[Value]) -> tuple[float, ...]:
    """(d root / d x for x in inputs), like ``torch.autograd.grad``: whatever grads the graph held before
    are reset first. Leaves every node's ``grad`` set to d root / d node."""
    order = topological_order(root)
    for node in order:
        node.grad = 0.0
    root.grad = 1.0
    for node in reversed(order):
        for child, local in zip(node.children, node.local_grads):
            child.grad += local * node.grad
    return tuple(x.grad for x in inputs)


def skip_network_grads(x: float, t: float, w1: float, w2: float, w3: float) -> tuple[float, float, float, float]:
    """(dE/dw1, dE/dw2, dE/dw3, dE/dx) for h = sigma(w1 x), y = sigma(w2 h + w3 x), E = (y - t)^2 / 2.

    The chapter's two-layer sigmoid network with a skip connection, differentiated by this engine: x reaches
    y along two paths, and ``grad`` adds them up.
    """
    xv, w1v, w2v, w3v = Value(x, label="x"), Value(w1, label="w1"), Value(w2, label="w2"), Value(w3, label="w3")
    h = (w1v * xv).sigmoid()
    y = (w2v * h + w3v * xv).sigmoid()
    error = 0.5 * (y - t) ** 2
    return grad(error, [w1v, w2v, w3v, xv])


def graph(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """(nodes, edges) of root's computation graph; an edge (child, parent) means parent uses child."""
    nodes = topological_order(root)
    edges = [(child, node) for node in nodes for child in node.children]
    return nodes, edges


def zero_grad(values: Iterable[Value]) -> None:
    """Set grad = 0 on each Value (before the next backward pass)."""
    for v in values:
        v.grad = 0.0


# ---------------------------------------------------------------- a tiny multilayer perceptron
class Neuron:
    """h = activation(sum_i w_i x_i + b), with weights drawn from U(-1, 1) / sqrt(n_inputs), b = 0."""

    def __init__(self, n_inputs: int, activation: str = "tanh", rng: random.Random | None = None):
        if activation not in ("tanh", "sigmoid", "relu", "linear"):
            raise ValueError(f"activation must be tanh, sigmoid, relu or linear, got {activation!r}.")
        rng = rng or random.Random(0)
        scale = 1 / math.sqrt(n_inputs)
        self.w = [Value(rng.uniform(-scale, scale), label="w") for _ in range(n_inputs)]
        self.b = Value(0.0, label="b")
        self.activation = activation

    def __call__(self, x: Sequence[Value | Number]) -> Value:
        a = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return a if self.activation == "linear" else getattr(a, self.activation)()

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class Layer:
    """n_outputs neurons that all see the same inputs."""

    def __init__(self, n_inputs: int, n_outputs: int, activation: str = "tanh", rng: random.Random | None = None):
        rng = rng or random.Random(0)
        self.neurons = [Neuron(n_inputs, activation, rng) for _ in range(n_outputs)]

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]


class ScalarMLP:
    """sizes=(2, 4, 1): 2 inputs -> 4 hidden units (activation) -> 1 linear output. Seeded.

    A multilayer perceptron of scalar Values, to watch backpropagation work; ``helpers.models.MLP`` is the
    torch module the chapters train.
    """

    def __init__(self, sizes: Sequence[int], activation: str = "tanh", seed: int = 0):
        if len(sizes) < 2:
            raise ValueError(f"An MLP needs at least an input and an output size, got sizes={sizes!r}.")
        rng = random.Random(seed)
        last = len(sizes) - 2
        self.layers = [
            Layer(n_in, n_out, "linear" if i == last else activation, rng)
            for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]

    def __call__(self, x: Sequence[Value | Number]) -> list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        zero_grad(self.parameters())
