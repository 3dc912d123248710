"""The chapter 3 references against independent oracles: the two layers applied one after the other, NumPy's
logaddexp, torch's autograd (of F.silu, of the skip-connection network, of the scalar graphs rebuilt in torch, of
F.linear), the book's gradcheck helpers and autograd for finite differences, numpy's norms, a brute-force count of
the weight-space symmetries and sklearn's rbf_kernel."""

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from catalogue_support import label

from helpers.exercises.catalogue import ch03
from helpers.nn import gradcheck

F64 = torch.float64


def tolerance(dtype):
    return dict(rtol=1e-10, atol=1e-12) if dtype == F64 else dict(rtol=1e-5, atol=1e-6)


# ---- layers and activations -------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ch03.COLLAPSE.cases(), ids=label)
def test_collapsed_layer_computes_what_the_two_layers_compute(case):
    W1, b1, W2, b2 = case.args
    W, b = ch03.COLLAPSE.reference(*case.args)
    x = torch.randn(7, W1.shape[1], generator=torch.Generator().manual_seed(3), dtype=W1.dtype)
    two_layers = F.linear(F.linear(x, W1, b1), W2, b2)
    torch.testing.assert_close(F.linear(x, W, b), two_layers, **tolerance(W1.dtype))


@pytest.mark.parametrize("case", ch03.SOFTPLUS.cases(), ids=label)
def test_softplus_matches_numpy_logaddexp(case):
    (x,) = case.args
    ours = ch03.SOFTPLUS.reference(x)
    expected = torch.from_numpy(np.logaddexp(0.0, x.double().numpy()))  # log(e^0 + e^x), in float64
    assert ours.dtype == x.dtype
    torch.testing.assert_close(ours.double(), expected, rtol=1e-12 if x.dtype == F64 else 1e-6, atol=0.0)


@pytest.mark.parametrize("case", ch03.SWISH_GRAD.cases(), ids=label)
def test_swish_grad_matches_autograd_of_silu(case):
    (x,) = case.args
    leaf = x.double().clone().requires_grad_(True)
    F.silu(leaf).sum().backward()  # silu(x) = x sigmoid(x) is swish
    ours = ch03.SWISH_GRAD.reference(x)
    assert ours.dtype == x.dtype
    torch.testing.assert_close(ours.double(), leaf.grad, **tolerance(x.dtype))


# ---- backpropagation ---------------------------------------------------------------------------------------


def skip_network_error(x, t, w1, w2, w3):
    h = torch.sigmoid(w1 * x)
    return 0.5 * (torch.sigmoid(w2 * h + w3 * x) - t) ** 2


@pytest.mark.parametrize("case", ch03.SKIP_BACKPROP.cases(), ids=label)
def test_skip_backprop_matches_torch_autograd(case):
    x, t, w1, w2, w3 = case.args
    leaves = [torch.tensor(v, dtype=F64, requires_grad=True) for v in (w1, w2, w3, x)]
    error = skip_network_error(leaves[3], t, *leaves[:3])
    expected = torch.autograd.grad(error, leaves)
    assert ch03.SKIP_BACKPROP.reference(*case.args) == pytest.approx([g.item() for g in expected], rel=1e-12)


# Each case's graph of Values, rebuilt in torch: a function of the inputs' values, in the order the case lists them.
TORCH_GRAPHS = {
    "y = x * w + b": lambda x, w, b: x * w + b,
    "y = x * x + x (x used three times)": lambda x: x * x + x,
    "y = h + 2 tanh(h), h = w * x": lambda w, x: w * x + 2 * torch.tanh(w * x),
    "E = (y - t)^2 / 2 for the skip-connection network": lambda w1, w2, w3, x: skip_network_error(x, 0.0, w1, w2, w3),
    "y = h + 2 tanh(h) after an earlier backward pass": lambda w, x: w * x + 2 * torch.tanh(w * x),
    "log(relu(a) + sigmoid(a)), a = w . x + b": lambda w0, w1, w2, x0, x1, x2: torch.log(
        torch.relu(w0 * x0 + w1 * x1 + w2 * x2 + 0.1) + torch.sigmoid(w0 * x0 + w1 * x1 + w2 * x2 + 0.1)),
}


@pytest.mark.parametrize("case", ch03.AUTOGRAD_GRAD.cases(), ids=label)
def test_scalar_backward_pass_matches_torch_autograd(case):
    root, inputs = case.args
    leaves = [torch.tensor(value.data, dtype=F64, requires_grad=True) for value in inputs]
    output = TORCH_GRAPHS[case.label](*leaves)
    assert output.item() == pytest.approx(root.data, rel=1e-12)  # the same function, rebuilt
    expected = torch.autograd.grad(output, leaves)
    assert ch03.AUTOGRAD_GRAD.reference(root, inputs) == pytest.approx([g.item() for g in expected], rel=1e-12)


@pytest.mark.parametrize("case", ch03.LINEAR_BACKWARD.cases(), ids=label)
def test_linear_backward_matches_torch_autograd(case):
    grad_output, x, weight, bias = case.args
    leaves = [t.clone().requires_grad_(True) for t in (x, weight) + ((bias,) if bias is not None else ())]
    expected = torch.autograd.grad(F.linear(*leaves), leaves, grad_output)
    ours = ch03.LINEAR_BACKWARD.reference(*case.args)
    assert (ours[2] is None) == (bias is None)
    for got, want in zip([g for g in ours if g is not None], expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        torch.testing.assert_close(got, want, **tolerance(x.dtype))


# ---- finite differences and the gradient checker ------------------------------------------------------------


@pytest.mark.parametrize("case", ch03.NUMERICAL_GRAD.cases(), ids=label)
def test_numerical_grad_matches_autograd_within_its_error_and_the_books_helper(case):
    f, x, eps = case.args
    ours = ch03.NUMERICAL_GRAD.reference(f, x, eps)
    leaf = x.clone().requires_grad_(True)
    (exact,) = torch.autograd.grad(f(leaf), leaf)
    # the central difference is off by about eps^2 f''' / 6: f''' is at most 6 for these functions, 2 near 0 for
    # the weighted softplus
    torch.testing.assert_close(ours, exact, rtol=0.0, atol=2 * eps**2 + 1e-8)
    torch.testing.assert_close(ours, gradcheck.numerical_grad(f, x, eps), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", ch03.GRADIENT_ERROR.cases(), ids=label)
def test_gradient_error_matches_numpy_norms(case):
    f, x, analytic = case.args
    numerical = gradcheck.numerical_grad(f, x, 1e-6).numpy()
    a, n = np.linalg.norm(analytic.numpy()), np.linalg.norm(numerical)
    expected = np.linalg.norm(analytic.numpy() - numerical) / (a + n) if a + n else 0.0
    assert ch03.GRADIENT_ERROR.reference(*case.args) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_gradient_error_is_tiny_for_autograds_gradient_and_large_for_a_wrong_one():
    x = torch.randn(6, generator=torch.Generator().manual_seed(5), dtype=F64)
    leaf = x.clone().requires_grad_(True)
    (right,) = torch.autograd.grad(ch03._sigmoid_sum(leaf), leaf)
    assert ch03.GRADIENT_ERROR.reference(ch03._sigmoid_sum, x, right) < 1e-8
    assert ch03.GRADIENT_ERROR.reference(ch03._sigmoid_sum, x, torch.sigmoid(x)) > 0.3


# ---- numbers: the symmetries and the RBF network --------------------------------------------------------------


def test_symmetry_count_matches_a_brute_force_enumeration():
    """Apply every permutation and sign flip of each tanh layer (4 -> 5 -> 3 -> 2) to random weights: each gives
    the same function and a different weight vector, and there are as many as the reference counts."""
    rng = np.random.default_rng(0)
    W1, b1, W2, b2, W3, b3 = (rng.normal(size=s) for s in ((5, 4), (5,), (3, 5), (3,), (2, 3), (2,)))
    x = rng.normal(size=(4, 10))

    def transforms(m):
        """Every (permutation, signs) of m units, as two arrays of shape (m! 2^m, m)."""
        pairs = [(p, s) for p in itertools.permutations(range(m)) for s in itertools.product((1.0, -1.0), repeat=m)]
        return np.array([p for p, _ in pairs]), np.array([s for _, s in pairs])

    Q, R = transforms(3)  # the second layer's 48, applied all at once: rows of W2, b2 and columns of W3
    vectors, outputs = [], []
    for n, (p, s) in enumerate(zip(*transforms(5))):  # the first layer's: rows of W1, b1 and columns of W2
        W1t, b1t, W2t = s[:, None] * W1[p], s * b1[p], W2[:, p] * s
        W2q, b2q, W3q = R[:, :, None] * W2t[Q], R * b2[Q], W3[:, Q].transpose(1, 0, 2) * R[:, None, :]
        vectors.append(np.concatenate([np.broadcast_to(np.concatenate([W1t.ravel(), b1t]), (len(Q), 25)),
                                       W2q.reshape(len(Q), -1), b2q, W3q.reshape(len(Q), -1),
                                       np.broadcast_to(b3, (len(Q), 2))], axis=1))
        if n % 97 == 0:  # the function, on a sample of the transforms
            h = np.tanh(W2q @ np.tanh(W1t @ x + b1t[:, None]) + b2q[:, :, None])  # (48, 3, 10)
            outputs.extend(W3q @ h + b3[:, None])
    original = W3 @ np.tanh(W2 @ np.tanh(W1 @ x + b1[:, None]) + b2[:, None]) + b3[:, None]
    assert all(np.allclose(out, original, rtol=1e-12, atol=1e-12) for out in outputs)
    vectors = np.concatenate(vectors)
    # no two transforms give the same weights: their projections on two random directions all differ
    distinct = np.unique(np.round(vectors @ rng.normal(size=(vectors.shape[1], 2)), 9), axis=0)
    assert ch03.SYMMETRIES.reference() == len(distinct) == len(vectors)


def test_rbf_xor_outputs_match_sklearn():
    from sklearn.metrics.pairwise import rbf_kernel

    from helpers.nn.rbf import XOR_INPUTS

    features = rbf_kernel(XOR_INPUTS.numpy(), XOR_INPUTS.numpy(), gamma=0.5)
    assert np.allclose(ch03.RBF_XOR.reference().numpy(), features @ np.array(ch03.XOR_WEIGHTS), atol=1e-12)
