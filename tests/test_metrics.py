"""roc_curve and roc_auc_score equal sklearn.metrics' on random data, and the AUC is the Mann-Whitney count."""

import itertools
import warnings

import numpy as np
import pytest
import sklearn.metrics
import torch

from helpers.stats.metrics import roc_auc_score, roc_curve


def labels_and_scores(seed, n=60, ties=False, label_dtype=torch.int64, score_dtype=torch.float64):
    """Labels with both classes and scores that lean towards the positives; ties=True rounds to 1 decimal."""
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(n, generator=g, dtype=torch.float64) < 0.4
    y[:2] = torch.tensor([True, False])
    s = torch.randn(n, generator=g, dtype=torch.float64) + 0.8 * y
    if ties:
        s = torch.round(s, decimals=1)
    return y.to(label_dtype), s.to(score_dtype)


def mann_whitney_auc(y, s):
    """(#{pairs with s+ > s-} + 1/2 #{pairs with s+ = s-}) / (n+ n-), every (positive, negative) pair enumerated."""
    pos = [float(v) for v, t in zip(s, y) if t]
    neg = [float(v) for v, t in zip(s, y) if not t]
    wins = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p, q in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


CASES = list(itertools.product([0, 1, 2], [False, True], [torch.bool, torch.int64], [torch.float32, torch.float64]))


@pytest.mark.parametrize("seed, ties, label_dtype, score_dtype", CASES)
@pytest.mark.parametrize("drop_intermediate", [True, False])
def test_roc_curve_equals_sklearn(seed, ties, label_dtype, score_dtype, drop_intermediate):
    y, s = labels_and_scores(seed, ties=ties, label_dtype=label_dtype, score_dtype=score_dtype)
    ours = roc_curve(y, s, drop_intermediate=drop_intermediate)
    theirs = sklearn.metrics.roc_curve(y.numpy(), s.numpy(), drop_intermediate=drop_intermediate)
    for a, b in zip(ours, theirs):
        assert a.dtype == torch.float64
        np.testing.assert_array_equal(a.numpy(), b)
    assert ours[2][0] == torch.inf


def test_tied_scores_form_one_step():
    y, s = labels_and_scores(0, ties=True)
    fpr, tpr, thresholds = roc_curve(y, s, drop_intermediate=False)
    distinct = sorted(set(s.tolist()), reverse=True)
    assert len(distinct) < len(s) - 10  # there are ties, else this test would test nothing
    assert thresholds.tolist() == [float("inf")] + distinct
    n_pos, n_neg = int(y.sum()), int((1 - y).sum())
    for t, f, r in zip(distinct, fpr[1:].tolist(), tpr[1:].tolist()):  # counts of s >= t, by brute force
        assert r == sum(1 for v, p in zip(s.tolist(), y.tolist()) if v >= t and p) / n_pos
        assert f == sum(1 for v, p in zip(s.tolist(), y.tolist()) if v >= t and not p) / n_neg


@pytest.mark.parametrize("seed, ties, label_dtype, score_dtype", CASES)
def test_roc_auc_equals_sklearn_and_mann_whitney(seed, ties, label_dtype, score_dtype):
    y, s = labels_and_scores(seed, ties=ties, label_dtype=label_dtype, score_dtype=score_dtype)
    auc = roc_auc_score(y, s)
    assert type(auc) is float
    assert auc == pytest.approx(sklearn.metrics.roc_auc_score(y.numpy(), s.numpy()), abs=1e-12)
    assert auc == pytest.approx(mann_whitney_auc(y, s), abs=1e-12)


def test_sklearn_docstring_example():
    scores = torch.tensor([0.1, 0.4, 0.35, 0.8], dtype=torch.float64)
    fpr, tpr, thresholds = roc_curve(torch.tensor([0, 0, 1, 1]), scores)
    assert fpr.tolist() == [0.0, 0.0, 0.5, 0.5, 1.0]
    assert tpr.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert thresholds.tolist() == [float("inf"), 0.8, 0.4, 0.35, 0.1]


def test_lists_integer_scores_and_minus_one_labels_like_sklearn():
    y, s = [1, -1, 1, -1, -1, 1, 1], [3, 1, 2, 2, 0, 5, 1]
    for a, b in zip(roc_curve(y, s), sklearn.metrics.roc_curve(y, s)):
        np.testing.assert_array_equal(a.numpy(), b)
    assert roc_auc_score(y, s) == pytest.approx(sklearn.metrics.roc_auc_score(y, s), abs=1e-12)


def test_edge_cases():
    y = torch.tensor([0, 0, 0, 1, 1])
    assert roc_auc_score(y, torch.tensor([0.1, 0.2, 0.3, 0.8, 0.9])) == 1.0  # perfect separation
    assert roc_auc_score(y, torch.tensor([0.9, 0.8, 0.7, 0.2, 0.1])) == 0.0  # perfectly reversed
    assert roc_auc_score(y, torch.full((5,), 0.3)) == 0.5  # a constant score: one diagonal step
    fpr, tpr, thresholds = roc_curve(y, torch.full((5,), 0.3, dtype=torch.float64))
    assert fpr.tolist() == [0.0, 1.0] and tpr.tolist() == [0.0, 1.0] and thresholds.tolist() == [float("inf"), 0.3]


def test_auc_ignores_increasing_maps_of_the_score():
    y, s = labels_and_scores(3, ties=True)
    assert roc_auc_score(y, s) == pytest.approx(roc_auc_score(y, torch.exp(3 * s) + 7), abs=1e-12)


def test_one_class_raises_where_sklearn_returns_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(sklearn.metrics.roc_auc_score([1, 1, 1], [0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="ROC AUC is undefined with only one class in y_true"):
        roc_auc_score(torch.ones(3, dtype=torch.int64), torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="ROC curve is undefined with only one class"):
        roc_curve(torch.zeros(3, dtype=torch.bool), torch.tensor([0.1, 0.2, 0.3]))


@pytest.mark.parametrize(
    "y_true, y_score, error, fragment",
    [
        (torch.tensor([0, 1, 2]), torch.tensor([0.1, 0.2, 0.3]), ValueError, "binary labels"),
        (torch.tensor([0.0, 0.5, 1.0]), torch.tensor([0.1, 0.2, 0.3]), ValueError, "binary labels"),
        (torch.tensor([0, 1, 1]), torch.tensor([0.1, 0.2]), ValueError, "same shape|shape \\(N,\\)"),
        (torch.tensor([0, 1]), torch.tensor([[0.1], [0.2]]), ValueError, "squeeze"),
        (torch.tensor([0, 1, 1]), torch.tensor([0.1, float("nan"), 0.3]), ValueError, "NaN"),
        (torch.tensor([0, 1, 1]), torch.tensor([0.1, float("inf"), 0.3]), ValueError, "inf"),
        (torch.tensor([0, 1]), torch.tensor([0.1 + 1j, 0.2]), TypeError, "real"),
    ],
)
def test_errors_say_what_to_do(y_true, y_score, error, fragment):
    for fn in (roc_curve, roc_auc_score):
        with pytest.raises(error, match=fragment):
            fn(y_true, y_score)
