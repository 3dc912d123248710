"""helpers.models.rbm_training against autograd, rbm.contrastive_divergence_step and sklearn's BernoulliRBM.

exact_gradient: torch.autograd of rbm.log_probability's mean (log Z enumerated), float64 at 1e-10, on random small
RBMs. log_likelihood_curve: "exact" is gradient ascent, checked against W + lr * (autograd's gradient) written in
the test; "CD-k" against rbm.contrastive_divergence_step called in the test from the same generator and initial
weights; "PCD" against sklearn.neural_network.BernoulliRBM.partial_fit on the whole batch (same random_state:
weights, intercepts and the chains' hidden states), the chains' visible states against the last negative phase
redrawn in the test from sklearn's RandomState; the recorded log-likelihoods against rbm.log_probability computed
in the test; the exact gradient's curve rises on bars and stripes; bad methods and too many visible units raise.
"""

import numpy as np
import pytest
import torch
from sklearn.neural_network import BernoulliRBM as SkRBM

from helpers.models.rbm import binary_vectors, contrastive_divergence_step, log_probability
from helpers.models.rbm_training import LikelihoodCurve, exact_gradient, log_likelihood_curve

F64 = torch.float64
TOL = {"rtol": 1e-10, "atol": 1e-10}


def random_rbm(n_visible, n_hidden, seed, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return tuple(scale * torch.randn(shape, generator=g, dtype=F64) for shape in
                 ((n_hidden, n_visible), (n_visible,), (n_hidden,)))


def binary(n, d, seed):
    return (torch.rand(n, d, generator=torch.Generator().manual_seed(100 + seed), dtype=F64) < 0.4).to(F64)


def autograd_gradient(v, W, b, c):
    """d/d(W, b, c) of (1/N) sum_n log p(v_n) by torch.autograd, log Z by enumeration."""
    leaves = [t.detach().clone().requires_grad_() for t in (W, b, c)]
    return torch.autograd.grad(log_probability(v, *leaves).mean(), leaves)


def bars_and_stripes():
    lines = binary_vectors(3)
    return torch.unique(torch.cat([lines.repeat_interleave(3, dim=1), lines.repeat(1, 3)]), dim=0)


@pytest.mark.parametrize("n_visible, n_hidden, seed", [(3, 2, 0), (5, 4, 1), (6, 3, 2), (4, 7, 3)])
def test_exact_gradient_is_autograd_of_the_mean_log_likelihood(n_visible, n_hidden, seed):
    W, b, c = random_rbm(n_visible, n_hidden, seed)
    v = binary(9, n_visible, seed)
    for got, expected in zip(exact_gradient(v, W, b, c), autograd_gradient(v, W, b, c)):
        assert got.shape == expected.shape
        torch.testing.assert_close(got, expected, **TOL)


def test_exact_gradient_vanishes_when_the_data_are_the_model():
    # zero parameters: p(v) is uniform over the 2^V vectors, and the data are those vectors once each
    V, H = 4, 3
    W, b, c = torch.zeros(H, V, dtype=F64), torch.zeros(V, dtype=F64), torch.zeros(H, dtype=F64)
    dW, db, dc = exact_gradient(binary_vectors(V), W, b, c)  # every vector once: the data ARE the model
    for grad in (dW, db, dc):
        torch.testing.assert_close(grad, torch.zeros_like(grad), **TOL)


def test_exact_gradient_rejects_too_many_visible_units_and_bad_shapes():
    W, b, c = random_rbm(17, 2, 0)
    with pytest.raises(ValueError, match="2\\^V"):
        exact_gradient(binary(3, 17, 0), W, b, c)
    W, b, c = random_rbm(4, 2, 0)
    with pytest.raises(ValueError, match="v\\[None\\]"):
        exact_gradient(binary(3, 5, 0), W, b, c)
    with pytest.raises(ValueError, match="\\(N, V\\)"):
        exact_gradient(torch.ones(4, dtype=F64), W, b, c)


def test_exact_method_is_gradient_ascent_with_the_exact_gradient():
    v, lr, H, seed = binary(6, 5, 0), 0.3, 4, 7
    curve = log_likelihood_curve(v, "exact", n_hidden=H, updates=2, learning_rate=lr, every=1, init_std=0.1,
                                 seed=seed, progress=False)
    W = 0.1 * torch.randn(H, 5, generator=torch.Generator().manual_seed(seed), dtype=F64)
    b, c = torch.zeros(5, dtype=F64), torch.zeros(H, dtype=F64)
    expected_curve = []
    for _ in range(2):
        dW, db, dc = autograd_gradient(v, W, b, c)
        W, b, c = W + lr * dW, b + lr * db, c + lr * dc
        expected_curve.append(log_probability(v, W, b, c).mean().item())
    for got, expected in zip((curve.W, curve.b, curve.c), (W, b, c)):
        torch.testing.assert_close(got, expected, **TOL)
    assert curve.steps == [1, 2]
    np.testing.assert_allclose(curve.log_likelihood, expected_curve, rtol=1e-10, atol=1e-10)
    assert curve.chains is None and curve.hidden_chains is None


@pytest.mark.parametrize("k", [1, 3])
def test_cd_k_method_follows_contrastive_divergence_step_from_the_same_generator(k):
    v, lr, H, seed = binary(7, 6, 1), 0.5, 5, 3
    curve = log_likelihood_curve(v, f"CD-{k}", n_hidden=H, updates=6, learning_rate=lr, every=2, seed=seed,
                                 progress=False)
    g = torch.Generator().manual_seed(seed)
    W = 0.01 * torch.randn(H, 6, generator=g, dtype=F64)
    b, c = torch.zeros(6, dtype=F64), torch.zeros(H, dtype=F64)
    expected_curve = []
    for update in range(1, 7):
        W, b, c = contrastive_divergence_step(v, W, b, c, k=k, lr=lr, generator=g)
        if update % 2 == 0:
            expected_curve.append(log_probability(v, W, b, c).mean().item())
    for got, expected in zip((curve.W, curve.b, curve.c), (W, b, c)):
        torch.testing.assert_close(got, expected, **TOL)
    assert curve.steps == [2, 4, 6]
    np.testing.assert_allclose(curve.log_likelihood, expected_curve, rtol=1e-10, atol=1e-10)


def test_pcd_method_is_sklearns_bernoulli_rbm_on_the_whole_batch():
    v, lr, H, seed, updates = binary(8, 5, 2), 0.4, 6, 5, 7
    curve = log_likelihood_curve(v, "PCD", n_hidden=H, updates=updates, learning_rate=lr, every=7, seed=seed,
                                 progress=False)
    sk = SkRBM(n_components=H, learning_rate=lr, batch_size=len(v), random_state=seed)
    x = v.numpy()
    for _ in range(updates - 1):
        sk.partial_fit(x)
    W_before, b_before, h_before = sk.components_.copy(), sk.intercept_visible_.copy(), sk.h_samples_.copy()
    redraw = np.random.RandomState()
    redraw.set_state(sk.random_state_.get_state())  # the last update's first draws: the chains' visible states
    sk.partial_fit(x)
    p_visible = 1 / (1 + np.exp(-(h_before @ W_before + b_before)))
    chains = (redraw.uniform(size=p_visible.shape) < p_visible).astype(float)
    W, b, c = (torch.from_numpy(a) for a in (sk.components_, sk.intercept_visible_, sk.intercept_hidden_))
    for got, expected in zip((curve.W, curve.b, curve.c), (W, b, c)):
        torch.testing.assert_close(got, expected, **TOL)
    torch.testing.assert_close(curve.hidden_chains, torch.from_numpy(sk.h_samples_), rtol=0, atol=0)
    torch.testing.assert_close(curve.chains, torch.from_numpy(chains), rtol=0, atol=0)
    assert curve.steps == [7]
    assert curve.log_likelihood == pytest.approx([log_probability(v, W, b, c).mean().item()], rel=1e-10)


def test_exact_gradient_curve_rises_on_bars_and_stripes():
    patterns = bars_and_stripes()
    assert patterns.shape == (14, 9)
    curve = log_likelihood_curve(patterns, "exact", updates=200, every=20, progress=False)
    assert isinstance(curve, LikelihoodCurve) and curve.steps == list(range(20, 201, 20))
    assert all(later > earlier for earlier, later in zip(curve.log_likelihood, curve.log_likelihood[1:]))
    assert curve.log_likelihood[0] > -np.log(512)  # better than the uniform distribution over the 512 images
    assert curve.log_likelihood[-1] < -np.log(14)  # and never better than the best possible


@pytest.mark.parametrize("method", ["CD-0", "cd-1", "CD-", "CD-x", "Gibbs", "exact gradient", 1])
def test_unknown_methods_are_rejected(method):
    with pytest.raises(ValueError, match="method must be one of"):
        log_likelihood_curve(binary(4, 3, 0), method, progress=False)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="2\\^V"):
        log_likelihood_curve(binary(4, 17, 0), "CD-1", updates=1, progress=False)
    with pytest.raises(ValueError, match="2-D"):
        log_likelihood_curve(torch.ones(9, dtype=F64), "exact", progress=False)
    with pytest.raises(ValueError, match="learning_rate"):
        log_likelihood_curve(binary(4, 3, 0), "exact", learning_rate=0.0, progress=False)
    with pytest.raises(TypeError, match="updates"):
        log_likelihood_curve(binary(4, 3, 0), "exact", updates=10.0, progress=False)
