"""MLPClassifier keeps sklearn's estimator contract, minimises the objective its docstring states (checked
against a torch nn.Sequential trained by torch.optim.Adam from the same start), learns the digits, is
deterministic, and gives the same fold scores inside sklearn's cross_val_score as inside ours."""

import math
import time

import numpy as np
import pytest
import sklearn.base
import sklearn.model_selection as skms
import sklearn.neural_network
import torch
import torch.nn.functional as F
from torch import nn

from helpers.data import digits
from helpers.models.classifier import MLPClassifier, _glorot_uniform
from helpers.stats.model_selection import StratifiedKFold, cross_val_score

SMALL = {"hidden_layer_sizes": (16,), "learning_rate_init": 3e-2, "max_iter": 40}


@pytest.fixture(scope="module")
def split():
    return digits()


def blobs3(n=90, labels=(-5, 3, 10), seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.tensor(labels)[torch.randint(0, len(labels), (n,), generator=g)]
    X = torch.randn(n, 5, generator=g) + 0.3 * y[:, None].float()
    return X, y


def test_constructor_mirrors_sklearn():
    ours, theirs = MLPClassifier().get_params(), sklearn.neural_network.MLPClassifier().get_params()
    assert set(ours) <= set(theirs)
    for name in ["alpha", "learning_rate_init", "max_iter"]:
        assert ours[name] == theirs[name]
    assert ours["hidden_layer_sizes"] == (64,) and ours["random_state"] == 0
    assert sklearn.base.is_classifier(MLPClassifier())
    clone = sklearn.base.clone(MLPClassifier(hidden_layer_sizes=[8, 4], alpha=0.5))
    assert clone.get_params() == MLPClassifier(hidden_layer_sizes=[8, 4], alpha=0.5).get_params()
    assert MLPClassifier().set_params(alpha=2.0).alpha == 2.0


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # sklearn's, after 30 epochs
@pytest.mark.parametrize("labels", [(-5, 3, 10), (0, 1)])
def test_fitted_attributes_and_shapes_match_sklearns(labels):
    X, y = blobs3(labels=labels)
    ours = MLPClassifier(hidden_layer_sizes=(7, 6), max_iter=30).fit(X, y)
    theirs = sklearn.neural_network.MLPClassifier(hidden_layer_sizes=(7, 6), max_iter=30).fit(X.numpy(), y.numpy())
    np.testing.assert_array_equal(ours.classes_.numpy(), theirs.classes_)
    k = len(labels) if len(labels) > 2 else 2  # sklearn: one logistic output for two classes; ours: two softmax
    assert [tuple(w.shape) for w in ours.coefs_] == [(5, 7), (7, 6), (6, k)]
    assert [tuple(b.shape) for b in ours.intercepts_] == [(7,), (6,), (k,)]
    if len(labels) > 2:
        assert [w.shape for w in theirs.coefs_] == [tuple(w.shape) for w in ours.coefs_]
    proba = ours.predict_proba(X[:11])
    assert proba.shape == theirs.predict_proba(X[:11].numpy()).shape == (11, len(labels))
    torch.testing.assert_close(proba.sum(1), torch.ones(11))
    predicted = ours.predict(X)
    assert predicted.dtype == torch.int64 and set(predicted.tolist()) <= set(labels)
    assert torch.equal(predicted, ours.classes_[ours.predict_proba(X).argmax(1)])
    assert ours.score(X, y) == (predicted == y).double().mean().item()
    assert ours.n_features_in_ == 5 and len(ours.loss_curve_) == ours.n_iter_ == 30
    assert ours.loss_ == ours.loss_curve_[-1]


def test_objective_and_adam_steps_equal_torch_reference():
    """The same start, torch.optim.Adam on nn.Linear layers, loss = mean CE + alpha/(2N) sum ||W||^2 (not biases)."""
    X, y = blobs3(n=60)
    alpha, lr, steps, sizes = 3.0, 1e-2, 25, [5, 8, 3]
    ours = MLPClassifier(hidden_layer_sizes=(8,), alpha=alpha, learning_rate_init=lr, max_iter=steps,
                         random_state=4).fit(X, y)
    coefs, intercepts = _glorot_uniform(sizes, 4)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 3))
    with torch.no_grad():
        for layer, w, b in zip([model[0], model[2]], coefs, intercepts):
            layer.weight.copy_(w.T)
            layer.bias.copy_(b)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    target = torch.unique(y, return_inverse=True)[1]
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        penalty = sum((layer.weight ** 2).sum() for layer in (model[0], model[2]))
        loss = F.cross_entropy(model(X), target) + alpha / (2 * len(X)) * penalty
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    torch.testing.assert_close(ours.coefs_[0], model[0].weight.detach().T, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.intercepts_[1], model[2].bias.detach(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.loss_curve_, losses, rtol=1e-5)


def test_initialisation_is_sklearns_glorot_uniform():
    coefs, intercepts = _glorot_uniform([300, 200, 10], 0)
    for w in coefs:
        bound = math.sqrt(6 / sum(w.shape))
        assert w.abs().max() <= bound and w.abs().max() > 0.99 * bound
        assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # U(-r, r) has std r / sqrt(3)
    assert intercepts[0].abs().max() <= math.sqrt(6 / 500)


def test_learns_digits_deterministically_and_fast(split):
    X, y = split.x_train[:1000], split.y_train[:1000]
    model = MLPClassifier()  # the defaults: width 64, 200 full-batch Adam steps
    MLPClassifier(max_iter=2).fit(X, y)  # warm-up
    start = time.perf_counter()
    model.fit(X, y)
    seconds = time.perf_counter() - start
    assert model.score(split.x_test, split.y_test) > 0.9
    assert seconds < 1.0  # ~0.1-0.2 s on one loaded core; this guards against a 10x slowdown
    again = MLPClassifier().fit(X, y)
    assert torch.equal(model.predict_proba(split.x_test), again.predict_proba(split.x_test))
    other = MLPClassifier(random_state=1).fit(X[:100], y[:100])
    assert not torch.equal(model.coefs_[0], other.coefs_[0])


def test_same_fold_scores_in_sklearns_cross_val_score_and_ours(split):
    X, y = split.x_train[:400], split.y_train[:400]
    model = MLPClassifier(**SMALL)
    ours = cross_val_score(model, X, y, cv=4)
    theirs_int = skms.cross_val_score(model, X, y, cv=4)  # sklearn sees a classifier: stratified folds too
    theirs_numpy = skms.cross_val_score(model, X.numpy(), y.numpy(), cv=skms.StratifiedKFold(4))
    np.testing.assert_array_equal(ours.numpy(), theirs_int)
    np.testing.assert_array_equal(ours.numpy(), theirs_numpy)
    np.testing.assert_array_equal(ours.numpy(), cross_val_score(model, X, y, cv=StratifiedKFold(4)).numpy())
    assert ours.min() > 0.8


@pytest.mark.parametrize("call, error, match", [
    (lambda X, y: MLPClassifier().predict(X), RuntimeError, "not fitted"),
    (lambda X, y: MLPClassifier(max_iter=2).fit(X, y).predict(X[:, :3]), ValueError, "features"),
    (lambda X, y: MLPClassifier().fit(X, torch.zeros(len(X))), ValueError, "one class"),
    (lambda X, y: MLPClassifier().fit(X, y + 0.5), ValueError, "non-integer"),
    (lambda X, y: MLPClassifier().fit(X, y[:-1]), ValueError, "n_samples"),
    (lambda X, y: MLPClassifier().fit(X[0], y), ValueError, "n_features"),
    (lambda X, y: MLPClassifier(alpha=-1).fit(X, y), ValueError, "alpha"),
    (lambda X, y: MLPClassifier(learning_rate_init=0).fit(X, y), ValueError, "learning_rate_init"),
    (lambda X, y: MLPClassifier(hidden_layer_sizes=(8, 0)).fit(X, y), ValueError, "hidden layer size"),
    (lambda X, y: MLPClassifier(max_iter=2.5).fit(X, y), TypeError, "max_iter"),
    (lambda X, y: MLPClassifier().set_params(momentum=0.9), ValueError, "Invalid parameter"),
])
def test_bad_input_raises_helpful_errors(call, error, match):
    X, y = blobs3()
    with pytest.raises(error, match=match):
        call(X, y)
