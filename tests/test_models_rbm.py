"""helpers.models.rbm against sklearn.neural_network.BernoulliRBM and against enumeration.

sklearn is the oracle of the estimator: with weights copied into a fitted sklearn RBM, free energy, transform and
pseudo-likelihood agree (float64, 1e-10); with the same int random_state, fit and partial_fit follow sklearn's
trajectory exactly (components_, intercepts, the persistent chain h_samples_), and gibbs draws the same samples.
Enumeration is the oracle of the maths on a tiny RBM: the energy against the formula written with loops, the free
energy against -log sum_h exp(-E), log Z against the double sum over v and h, p(v) summing to 1, and the two
conditionals against the joint. CD-k against its update written in the test with the same random numbers, and
CD-1 raising the exact log-likelihood of a small data set."""

import itertools
import math

import numpy as np
import pytest
import torch
from sklearn.neural_network import BernoulliRBM as SkRBM

from helpers.models.rbm import (
    BernoulliRBM,
    binary_vectors,
    contrastive_divergence_step,
    energy,
    exact_log_partition,
    free_energy,
    gibbs_step,
    hidden_probabilities,
    log_probability,
    sample_bernoulli,
    visible_probabilities,
)

F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}
V, H = 6, 4


def tiny_rbm(seed=0, scale=1.0, n_visible=V, n_hidden=H):
    g = torch.Generator().manual_seed(seed)
    return tuple(scale * torch.randn(shape, generator=g, dtype=F64) for shape in
                 ((n_hidden, n_visible), (n_visible,), (n_hidden,)))


def binary(n, d, seed=0, p=0.4):
    return (torch.rand(n, d, generator=torch.Generator().manual_seed(seed), dtype=F64) < p).to(F64)


def hand_energy(v, h, W, b, c):
    """-sum_i b_i v_i - sum_j c_j h_j - sum_ij h_j W_ji v_i, with Python floats."""
    v, h, W, b, c = (t.tolist() for t in (v, h, W, b, c))
    return (-sum(bi * vi for bi, vi in zip(b, v)) - sum(cj * hj for cj, hj in zip(c, h))
            - sum(h[j] * W[j][i] * v[i] for j in range(len(h)) for i in range(len(v))))


def all_states(n):
    return [torch.tensor(bits, dtype=F64) for bits in itertools.product([0.0, 1.0], repeat=n)]


def sklearn_twin(W, b, c, **kwargs):
    """A fitted sklearn BernoulliRBM with our weights copied in."""
    sk = SkRBM(n_components=W.shape[0], **kwargs).fit(np.zeros((2, W.shape[1])))
    sk.components_, sk.intercept_visible_, sk.intercept_hidden_ = W.numpy().copy(), b.numpy().copy(), c.numpy().copy()
    return sk


# --- against sklearn with copied weights ---------------------------------------------------------------------------

def test_free_energy_transform_and_score_samples_equal_sklearns():
    W, b, c = tiny_rbm(seed=1, scale=3.0, n_visible=12, n_hidden=7)  # large weights: softplus far from 0 too
    X = torch.cat([binary(30, 12, seed=2), torch.rand(5, 12, generator=torch.Generator().manual_seed(3),
                                                      dtype=F64)])
    sk = sklearn_twin(W, b, c, random_state=4)
    assert torch.allclose(free_energy(X, W, b, c), torch.from_numpy(sk._free_energy(X.numpy())), **TOL)
    ours = BernoulliRBM(n_components=7, random_state=4).fit(torch.zeros(2, 12))
    ours.components_, ours.intercept_visible_, ours.intercept_hidden_ = W, b, c
    assert torch.allclose(ours.transform(X), torch.from_numpy(sk.transform(X.numpy())), **TOL)
    assert torch.allclose(hidden_probabilities(X, W, c), torch.from_numpy(sk.transform(X.numpy())), **TOL)
    assert torch.allclose(ours.score_samples(X), torch.from_numpy(sk.score_samples(X.numpy())), **TOL)
    # an argument just above 20, where F.softplus would return x and be off by log(1 + e^-20.5) = 1.3e-9
    W1, b1, c1 = (torch.tensor(t, dtype=F64) for t in ([[20.0]], [0.0], [0.5]))
    one = torch.ones(1, 1, dtype=F64)
    theirs = torch.from_numpy(sklearn_twin(W1, b1, c1)._free_energy(one.numpy()))
    assert torch.allclose(free_energy(one, W1, b1, c1), theirs, rtol=0, atol=1e-13)


@pytest.fixture(scope="module")
def digits01():
    from sklearn.datasets import load_digits
    return (load_digits().data[:300] / 16 > 0.5).astype(np.float64)


@pytest.mark.parametrize("batch_size", [10, 7])  # 300 = 42 * 7 + 6: a smaller last batch
def test_fit_follows_sklearns_trajectory(digits01, batch_size):
    kwargs = dict(n_components=16, learning_rate=0.05, batch_size=batch_size, n_iter=3, random_state=0)
    sk = SkRBM(**kwargs).fit(digits01)
    ours = BernoulliRBM(**kwargs).fit(torch.from_numpy(digits01))
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "h_samples_"):
        theirs = torch.from_numpy(np.asarray(getattr(sk, name), dtype=np.float64))
        assert getattr(ours, name).dtype == F64 and torch.allclose(getattr(ours, name), theirs, **TOL), name
    assert ours.h_samples_.shape == (batch_size, 16) and set(ours.h_samples_.unique().tolist()) <= {0.0, 1.0}
    # the chain continues: same Gibbs samples from the same random_state
    assert torch.equal(ours.gibbs(torch.from_numpy(digits01[:20])), torch.from_numpy(sk.gibbs(digits01[:20]) * 1.0))


def test_fit_keeps_float32_as_sklearn(digits01):
    X = digits01[:60].astype(np.float32)
    sk = SkRBM(n_components=5, n_iter=2, random_state=3).fit(X)
    ours = BernoulliRBM(n_components=5, n_iter=2, random_state=3).fit(torch.from_numpy(X))
    assert ours.components_.dtype == torch.float32
    assert torch.allclose(ours.components_, torch.from_numpy(sk.components_), rtol=1e-5, atol=1e-6)


def pcd_by_hand(batches, n_components, learning_rate, batch_size, seed):
    """sklearn's partial_fit written out in numpy: the state after each mini-batch, one PCD update each."""
    rng, sig = np.random.RandomState(seed), lambda z: 1 / (1 + np.exp(-z))
    W = rng.normal(0, 0.01, (n_components, batches[0].shape[1]))
    b, c, h = np.zeros(W.shape[1]), np.zeros(n_components), np.zeros((batch_size, n_components))
    for v_pos in batches:
        h_pos = sig(v_pos @ W.T + c)  # positive phase: the data
        v_neg = (rng.uniform(size=(batch_size, W.shape[1])) < sig(h @ W + b)).astype(float)  # the chain, a step
        h_neg = sig(v_neg @ W.T + c)
        lr = learning_rate / len(v_pos)
        W = W + lr * (h_pos.T @ v_pos - h_neg.T @ v_neg)
        c, b = c + lr * (h_pos.sum(0) - h_neg.sum(0)), b + lr * (v_pos.sum(0) - v_neg.sum(0))
        h = (rng.uniform(size=h_neg.shape) < h_neg).astype(float)  # the persistent particles
        yield {"components_": W, "intercept_hidden_": c, "intercept_visible_": b, "h_samples_": h}


def test_partial_fit_follows_sklearn_and_the_pcd_update_by_hand(digits01):
    batches = [digits01[k * 12:(k + 1) * 12] for k in range(4)]
    sk = SkRBM(n_components=8, learning_rate=0.1, batch_size=5, random_state=7)
    ours = BernoulliRBM(n_components=8, learning_rate=0.1, batch_size=5, random_state=7)
    for batch, by_hand in zip(batches, pcd_by_hand(batches, 8, 0.1, 5, seed=7)):
        sk.partial_fit(batch)
        ours.partial_fit(torch.from_numpy(batch))
        for name, expected in by_hand.items():
            assert np.allclose(getattr(sk, name), expected, rtol=1e-10, atol=1e-10), name
            assert torch.allclose(getattr(ours, name), torch.from_numpy(expected), **TOL), name


# --- against enumeration -------------------------------------------------------------------------------------------

def test_energy_is_the_formula():
    W, b, c = tiny_rbm()
    vs, hs = binary(5, V, seed=1), binary(5, H, seed=2)
    ours = energy(vs, hs, W, b, c)
    for n in range(5):
        assert math.isclose(ours[n].item(), hand_energy(vs[n], hs[n], W, b, c), rel_tol=1e-12, abs_tol=1e-12)


def test_free_energy_sums_out_the_hiddens():
    W, b, c = tiny_rbm(seed=3)
    for v in all_states(V)[::7]:
        brute = -math.log(sum(math.exp(-hand_energy(v, h, W, b, c)) for h in all_states(H)))
        assert math.isclose(free_energy(v, W, b, c).item(), brute, rel_tol=1e-12, abs_tol=1e-12)


def test_log_partition_and_probabilities_by_enumeration():
    W, b, c = tiny_rbm(seed=4)
    joint = [[math.exp(-hand_energy(v, h, W, b, c)) for h in all_states(H)] for v in all_states(V)]
    log_z = math.log(sum(map(sum, joint)))
    assert math.isclose(exact_log_partition(W, b, c).item(), log_z, rel_tol=1e-12)
    every_v = binary_vectors(V)
    assert torch.equal(every_v, torch.stack(all_states(V)))
    logp = log_probability(every_v, W, b, c)
    assert math.isclose(logp.exp().sum().item(), 1.0, rel_tol=1e-12)
    assert torch.allclose(logp, torch.tensor([math.log(sum(row)) - log_z for row in joint], dtype=F64), **TOL)


def test_conditionals_from_the_joint():
    W, b, c = tiny_rbm(seed=5)
    hs, vs = all_states(H), all_states(V)
    for v in vs[::9]:  # P(h_j = 1 | v) = sum over h with h_j = 1 of the joint / sum over all h
        weights = [math.exp(-hand_energy(v, h, W, b, c)) for h in hs]
        expected = [sum(w for w, h in zip(weights, hs) if h[j] == 1) / sum(weights) for j in range(H)]
        assert torch.allclose(hidden_probabilities(v, W, c), torch.tensor(expected, dtype=F64), **TOL)
    for h in hs[::3]:
        weights = [math.exp(-hand_energy(v, h, W, b, c)) for v in vs]
        expected = [sum(w for w, v in zip(weights, vs) if v[i] == 1) / sum(weights) for i in range(V)]
        assert torch.allclose(visible_probabilities(h, W, b), torch.tensor(expected, dtype=F64), **TOL)


def test_sampling_and_gibbs_step():
    p = torch.tensor([0.0, 0.2, 0.5, 0.9, 1.0], dtype=F64).repeat(4000, 1)
    s = sample_bernoulli(p, torch.Generator().manual_seed(0))
    assert s.dtype == F64 and set(s.unique().tolist()) <= {0.0, 1.0}
    assert (s.mean(0) - p[0]).abs().max() < 0.03 and s[:, 0].sum() == 0 and s[:, 4].min() == 1
    W, b, c = tiny_rbm(seed=6)
    v = binary(3, V, seed=7)
    g, g2 = torch.Generator().manual_seed(8), torch.Generator().manual_seed(8)
    h = (torch.rand(3, H, generator=g2, dtype=F64) < torch.sigmoid(v @ W.T + c)).to(F64)
    expected = (torch.rand(3, V, generator=g2, dtype=F64) < torch.sigmoid(h @ W + b)).to(F64)
    assert torch.equal(gibbs_step(v, W, b, c, g), expected)


@pytest.mark.parametrize("k", [1, 3])
def test_contrastive_divergence_step_is_the_update(k):
    W, b, c = tiny_rbm(seed=9, scale=0.5)
    v0 = binary(8, V, seed=10)
    before = [t.clone() for t in (W, b, c)]
    new = contrastive_divergence_step(v0, W, b, c, k=k, lr=0.2, generator=torch.Generator().manual_seed(11))
    g = torch.Generator().manual_seed(11)
    draw = lambda p: (torch.rand(p.shape, generator=g, dtype=F64) < p).to(F64)  # noqa: E731
    q0 = torch.sigmoid(v0 @ W.T + c)
    h = draw(q0)
    for step in range(k):
        v = draw(torch.sigmoid(h @ W + b))
        q = torch.sigmoid(v @ W.T + c)
        if step < k - 1:
            h = draw(q)
    expected = (W + 0.2 / 8 * (q0.T @ v0 - q.T @ v), b + 0.2 * (v0 - v).mean(0), c + 0.2 * (q0 - q).mean(0))
    for ours, theirs, old, orig in zip(new, expected, (W, b, c), before):
        assert torch.allclose(ours, theirs, **TOL) and torch.equal(old, orig)


def test_cd1_raises_the_exact_log_likelihood():
    patterns = torch.tensor([[1, 1, 1, 0, 0, 0], [0, 0, 0, 1, 1, 1], [1, 0, 1, 0, 1, 0]], dtype=F64)
    data = patterns.repeat(10, 1)
    W, b, c = tiny_rbm(seed=12, scale=0.01)
    g = torch.Generator().manual_seed(13)
    start = log_probability(data, W, b, c).mean()
    for _ in range(500):
        W, b, c = contrastive_divergence_step(data, W, b, c, k=1, lr=0.5, generator=g)
    end = log_probability(data, W, b, c).mean()
    assert start < -4 and end > start + 2  # uniform over 64 vectors is log(1/64) = -4.16; log(1/3) = -1.10 is best
    assert log_probability(patterns, W, b, c).exp().sum() > 0.8  # most of the mass on the three patterns


def test_errors():
    W, b, c = tiny_rbm(n_visible=17)
    with pytest.raises(ValueError, match="at most 16"):
        exact_log_partition(W, b, c)
    with pytest.raises(ValueError, match=r"\(N, V\)"):
        contrastive_divergence_step(torch.zeros(V, dtype=F64), *tiny_rbm())
    with pytest.raises(RuntimeError, match="not fitted"):
        BernoulliRBM().transform(torch.zeros(2, 3, dtype=F64))
    with pytest.raises(TypeError, match="float32 or float64"):
        BernoulliRBM().fit(torch.zeros(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="features"):
        BernoulliRBM(n_components=2, n_iter=1).fit(torch.zeros(4, 3, dtype=F64)).transform(torch.zeros(1, 5,
                                                                                                      dtype=F64))
    with pytest.raises(ValueError, match="learning_rate"):
        BernoulliRBM(learning_rate=0)
    with pytest.raises(ValueError, match="random_state"):
        BernoulliRBM(n_iter=1, random_state="seed").fit(torch.zeros(2, 3, dtype=F64))
