"""The scalar autograd agrees with torch.autograd (float64) on every operation and on random expressions."""

import math
import random

import pytest
import torch

from helpers.nn.autograd import ScalarMLP, Value, grad, graph, skip_network_grads, topological_order, zero_grad

F64 = torch.float64

# each op: (name, arity, on Values, on torch tensors); inputs are kept in each op's domain
UNARY = [
    ("neg", lambda a: -a, lambda a: -a),
    ("exp", lambda a: (a * 0.3).exp(), lambda a: (a * 0.3).exp()),
    ("log", lambda a: (a * a + 1).log(), lambda a: (a * a + 1).log()),
    ("tanh", lambda a: a.tanh(), torch.tanh),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid),
    ("relu", lambda a: a.relu(), torch.relu),
    ("square", lambda a: a**2, lambda a: a**2),
    ("cube", lambda a: a**3, lambda a: a**3),
    ("sqrt", lambda a: (a * a + 0.5) ** 0.5, lambda a: (a * a + 0.5) ** 0.5),
    ("reciprocal", lambda a: 1 / (a * a + 1), lambda a: 1 / (a * a + 1)),
    ("rsub", lambda a: 2.5 - a, lambda a: 2.5 - a),
    ("rmul", lambda a: 1.5 * a, lambda a: 1.5 * a),
    ("radd", lambda a: 0.5 + a, lambda a: 0.5 + a),
]
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / (b * b + 1), lambda a, b: a / (b * b + 1)),
]


def random_expression(rng: random.Random, n_inputs: int, n_ops: int):
    """A random program over n_inputs leaves, as a list of (op, operand indices); leaves are reused."""
    program = []
    for step in range(n_ops):
        available = n_inputs + step
        if rng.random() < 0.5:
            program.append((rng.choice(UNARY), (rng.randrange(available),)))
        else:
            program.append((rng.choice(BINARY), (rng.randrange(available), rng.randrange(available))))
    return program


def run(program, inputs, value_ops: bool):
    nodes = list(inputs)
    for (_, on_value, on_torch), operands in program:
        op = on_value if value_ops else on_torch
        nodes.append(op(*(nodes[i] for i in operands)))
    # the output mixes the last few nodes so that every path matters
    out = nodes[-1]
    for node in nodes[-4:-1]:
        out = out + node * 0.5
    return out


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_match_torch_autograd(seed):
    rng = random.Random(seed)
    n_inputs = rng.randint(1, 4)
    program = random_expression(rng, n_inputs, rng.randint(3, 12))
    data = [rng.uniform(-2, 2) for _ in range(n_inputs)]

    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(data)]
    out = run(program, leaves, value_ops=True)
    out.backward()

    tensors = [torch.tensor(x, dtype=F64, requires_grad=True) for x in data]
    expected = run(program, tensors, value_ops=False)
    grads = torch.autograd.grad(expected, tensors, allow_unused=True)

    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    for leaf, expected_grad in zip(leaves, grads):
        expected_value = 0.0 if expected_grad is None else expected_grad.item()
        assert leaf.grad == pytest.approx(expected_value, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name,on_value,on_torch", UNARY)
@pytest.mark.parametrize("x", [-1.7, -0.3, 0.4, 2.2])
def test_each_unary_op(name, on_value, on_torch, x):
    v = Value(x)
    out = on_value(v)
    out.backward()
    t = torch.tensor(x, dtype=F64, requires_grad=True)
    y = on_torch(t)
    y.backward()
    assert out.data == pytest.approx(y.item(), rel=1e-12)
    assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name,on_value,on_torch", BINARY)
def test_each_binary_op_including_a_node_used_twice(name, on_value, on_torch):
    a, b = Value(1.3), Value(-0.6)
    out = on_value(a, b) * a  # a is used twice: its grad must accumulate
    out.backward()
    ta, tb = (torch.tensor(x, dtype=F64, requires_grad=True) for x in (1.3, -0.6))
    (on_torch(ta, tb) * ta).backward()
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)


def test_sigmoid_is_stable_and_topological_order_is_complete():
    for x in (-1000.0, 1000.0):
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert math.isfinite(s.data) and v.grad == 0.0
    x = Value(0.5, label="x")
    y = x * x + x.tanh()
    order = topological_order(y)
    assert order[-1] is y and order[0] is x and len(order) == 4
    nodes, edges = graph(y)
    assert len(nodes) == 4 and len(edges) == 5  # x->* (twice: x * x), x->tanh, *->+, tanh->+


def test_backward_accumulates_and_zero_grad_resets():
    x = Value(3.0)
    y = x * x
    y.backward()
    assert x.grad == 6.0
    y.backward()  # leaves accumulate, as in PyTorch; intermediate nodes do not double count
    assert x.grad == 12.0
    zero_grad(topological_order(y))
    y.backward()
    assert x.grad == 6.0
    z = x.tanh() * x
    z.backward()
    z.backward()
    assert x.grad == pytest.approx(6.0 + 2 * (math.tanh(3.0) + 3.0 * (1 - math.tanh(3.0) ** 2)))


def test_grad_starts_from_zero_and_matches_torch():
    a, b = Value(0.7, label="a"), Value(-1.1, label="b")
    h = a * b
    y = h + h.tanh() * a  # h reaches y along two paths of different lengths
    y.backward()
    y.backward()  # stale gradients must not leak into grad()
    got = grad(y, [a, b])
    ta, tb = (torch.tensor(v, dtype=F64, requires_grad=True) for v in (0.7, -1.1))
    th = ta * tb
    expected = torch.autograd.grad(th + torch.tanh(th) * ta, (ta, tb))
    assert got == pytest.approx(tuple(e.item() for e in expected), rel=1e-12)
    assert a.grad == got[0]
    with pytest.raises(ValueError, match="one local derivative"):
        Value(1.0, (a,), ())


def test_mlp_matches_torch_forward_and_backward():
    net = ScalarMLP((3, 4, 2), activation="tanh", seed=1)
    x = [0.5, -1.2, 2.0]
    out = net(x)
    loss = sum((o - t) ** 2 for o, t in zip(out, [1.0, -1.0]))
    loss.backward()

    layer1, layer2 = net.layers
    w1 = torch.tensor([[p.data for p in n.w] for n in layer1.neurons], dtype=F64, requires_grad=True)
    b1 = torch.tensor([n.b.data for n in layer1.neurons], dtype=F64, requires_grad=True)
    w2 = torch.tensor([[p.data for p in n.w] for n in layer2.neurons], dtype=F64, requires_grad=True)
    b2 = torch.tensor([n.b.data for n in layer2.neurons], dtype=F64, requires_grad=True)
    y = w2 @ torch.tanh(w1 @ torch.tensor(x, dtype=F64) + b1) + b2
    expected = ((y - torch.tensor([1.0, -1.0], dtype=F64)) ** 2).sum()
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-12)
    got = torch.tensor([[p.grad for p in n.w] for n in layer1.neurons], dtype=F64)
    torch.testing.assert_close(got, w1.grad)
    torch.testing.assert_close(torch.tensor([n.b.grad for n in layer2.neurons], dtype=F64), b2.grad)
    assert len(net.parameters()) == 3 * 4 + 4 + 4 * 2 + 2
    net.zero_grad()
    assert all(p.grad == 0.0 for p in net.parameters())
    assert ScalarMLP((3, 4, 2), seed=1).parameters()[0].data == net.parameters()[0].data  # seeded


def test_bad_arguments_are_refused():
    with pytest.raises(TypeError, match="constant exponents"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="activation"):
        ScalarMLP((2, 2, 1), activation="swish")
    with pytest.raises(ValueError, match="at least"):
        ScalarMLP((2,))


@pytest.mark.parametrize("args", [(1.0, 0.0, 0.5, -1.0, 2.0), (-0.5, 1.0, 2.0, 1.5, -0.7), (0.7, 0.9, 1.2, -2.0, 0.4)])
def test_skip_network_grads_match_torch(args):
    x, t, *w = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in args)
    y = torch.sigmoid(w[1] * torch.sigmoid(w[0] * x) + w[2] * x)
    (0.5 * (y - t) ** 2).backward()
    expected = (w[0].grad.item(), w[1].grad.item(), w[2].grad.item(), x.grad.item())
    assert skip_network_grads(*args) == pytest.approx(expected, rel=1e-12, abs=1e-15)
