"""KFold / StratifiedKFold split like sklearn's (index for index unshuffled; same sizes and class counts
shuffled), and cross_val_score gives sklearn.model_selection.cross_val_score's scores."""

import itertools
import warnings

import numpy as np
import pytest
import sklearn.linear_model
import sklearn.model_selection as skms
import torch

from helpers.stats.model_selection import KFold, StratifiedKFold, cross_val_score


def assert_same_splits(ours, theirs):
    ours, theirs = list(ours), list(theirs)
    assert len(ours) == len(theirs)
    for (train, test), (their_train, their_test) in zip(ours, theirs):
        assert train.dtype == test.dtype == torch.int64
        np.testing.assert_array_equal(train.numpy(), their_train)
        np.testing.assert_array_equal(test.numpy(), their_test)


def assert_partition(splits, n):
    """Every index is tested exactly once; each train set is the complement of its test set, both sorted."""
    tested = torch.cat([test for _, test in splits])
    assert sorted(tested.tolist()) == list(range(n))
    for train, test in splits:
        assert sorted(train.tolist() + test.tolist()) == list(range(n))
        assert train.tolist() == sorted(train.tolist()) and test.tolist() == sorted(test.tolist())


def random_class_labels(seed, counts, values=None):
    """A label vector with counts[c] examples of class values[c], in a random order."""
    values = values if values is not None else list(range(len(counts)))
    y = torch.tensor([v for v, c in zip(values, counts) for _ in range(c)])
    return y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))]


def class_counts(y, test):
    return sorted(torch.unique(y[test], return_counts=True)[1].tolist())


# ---------------------------------------------------------------- KFold
def test_kfold_equals_sklearn_for_many_sizes():
    for n in range(2, 41):
        for k in range(2, min(n, 7) + 1):
            X = torch.zeros(n, 3)
            assert_same_splits(KFold(k).split(X), skms.KFold(k).split(X.numpy()))
            assert KFold(k).get_n_splits() == k


@pytest.mark.parametrize("n, k", [(10, 3), (23, 5), (100, 10), (7, 7)])
def test_shuffled_kfold_is_a_seeded_partition_with_sklearns_sizes(n, k):
    X = torch.zeros(n, 2)
    splits = list(KFold(k, shuffle=True, random_state=3).split(X))
    assert_partition(splits, n)
    theirs = list(skms.KFold(k, shuffle=True, random_state=3).split(X.numpy()))
    assert [len(test) for _, test in splits] == [len(test) for _, test in theirs]
    assert_same_splits(KFold(k, shuffle=True, random_state=3).split(X), [(a.numpy(), b.numpy()) for a, b in splits])
    other = list(KFold(k, shuffle=True, random_state=4).split(X))
    plain = list(KFold(k).split(X))
    assert any(a[1].tolist() != b[1].tolist() for a, b in zip(splits, other))  # the seed matters
    assert any(a[1].tolist() != b[1].tolist() for a, b in zip(splits, plain))  # and it did shuffle


# ---------------------------------------------------------------- StratifiedKFold
COUNTS = [(5, 5), (10, 3), (7, 13, 20), (3, 3, 3, 3), (50, 10, 4, 1), (1, 8, 2), (12,), (9, 2, 30, 6, 11)]


@pytest.mark.parametrize("counts", COUNTS, ids=str)
def test_stratified_kfold_equals_sklearn(counts):
    for seed, k in itertools.product(range(3), range(2, 6)):
        if k > sum(counts) or all(c < k for c in counts):
            continue
        values = [7, -2, 100, 3, 0][: len(counts)] if seed == 2 else None  # labels not 0..C-1, not by appearance
        y = random_class_labels(seed, counts, values)
        X = torch.zeros(len(y), 1)
        with warnings.catch_warnings(record=True) as ours_w:
            warnings.simplefilter("always")
            ours = list(StratifiedKFold(k).split(X, y))
        with warnings.catch_warnings(record=True) as theirs_w:
            warnings.simplefilter("always")
            theirs = list(skms.StratifiedKFold(k).split(X.numpy(), y.numpy()))
        assert_same_splits(ours, theirs)
        assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
        assert (min(counts) < k) == bool(ours_w)


@pytest.mark.parametrize("counts", COUNTS[:6], ids=str)
def test_shuffled_stratified_kfold_keeps_sklearns_class_counts(counts):
    y = random_class_labels(0, counts)
    X, k = torch.zeros(len(y), 1), 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the tiny classes' warning, tested above
        splits = list(StratifiedKFold(k, shuffle=True, random_state=0).split(X, y))
        again = list(StratifiedKFold(k, shuffle=True, random_state=0).split(X, y))
        theirs = list(skms.StratifiedKFold(k, shuffle=True, random_state=1).split(X.numpy(), y.numpy()))
    assert_partition(splits, len(y))
    for (_, test), (_, test2), (_, their_test) in zip(splits, again, theirs):
        assert test.tolist() == test2.tolist()  # deterministic per random_state
        for c in torch.unique(y):  # each fold holds sklearn's number of each class
            assert int((y[test] == c).sum()) == int((y.numpy()[their_test] == int(c)).sum())


def test_stratified_folds_keep_the_proportions():
    y = random_class_labels(1, (60, 30, 10))
    for _, test in StratifiedKFold(5, shuffle=True, random_state=2).split(y, y):
        assert class_counts(y, test) == [2, 6, 12]  # 1/5 of each class


def test_tiny_classes_warn_and_all_tiny_raises_like_sklearn():
    y = torch.tensor([0, 0, 0, 0, 0, 1, 1])
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members, which is less than n_spl"):
        list(StratifiedKFold(3).split(y, y))
    with pytest.raises(ValueError, match="cannot be greater than the number of members in each class"):
        list(StratifiedKFold(6).split(y, y))
    with pytest.raises(ValueError):
        list(skms.StratifiedKFold(6).split(y.numpy(), y.numpy()))


@pytest.mark.parametrize("call, error, match", [
    (lambda: KFold(1), ValueError, "n_splits"),
    (lambda: KFold(2.5), ValueError, "n_splits"),
    (lambda: KFold(3, random_state=0), ValueError, "shuffle is False"),
    (lambda: KFold(3, shuffle=1), TypeError, "shuffle"),
    (lambda: list(KFold(6).split(torch.zeros(5))), ValueError, "n_splits=6 greater than the number of samples"),
    (lambda: list(StratifiedKFold(2).split(torch.zeros(4), None)), ValueError, "needs the class labels"),
    (lambda: list(StratifiedKFold(2).split(torch.zeros(4), torch.tensor([0.1, 0.2, 0.3, 0.4]))), ValueError,
     "continuous"),
    (lambda: list(StratifiedKFold(2).split(torch.zeros(4), torch.tensor([0, 1, 0]))), ValueError, "one length"),
])
def test_bad_arguments_raise_helpful_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---------------------------------------------------------------- cross_val_score
def classification_data(n=120, sorted_by_class=False):
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (n,), generator=g)
    if sorted_by_class:
        y = y.sort().values
    X = torch.randn(n, 4, generator=g, dtype=torch.float64) + y[:, None].double()
    return X, y


def logistic():
    return sklearn.linear_model.LogisticRegression(C=0.5, max_iter=500)


@pytest.mark.parametrize("cv", [5, 3, "kfold", "stratified", "pairs"])
def test_cross_val_score_equals_sklearn_with_logistic_regression(cv):
    X, y = classification_data()
    if cv == "kfold":
        ours_cv, theirs_cv = KFold(4, shuffle=True, random_state=0), None
        theirs_cv = [(a.numpy(), b.numpy()) for a, b in ours_cv.split(X)]  # the same folds for both
    elif cv == "stratified":
        ours_cv, theirs_cv = StratifiedKFold(4), skms.StratifiedKFold(4)
    elif cv == "pairs":
        ours_cv = [(a, b) for a, b in KFold(3).split(X)]
        theirs_cv = [(a.numpy(), b.numpy()) for a, b in ours_cv]
    else:
        ours_cv = theirs_cv = cv
    ours = cross_val_score(logistic(), X, y, cv=ours_cv)
    theirs = skms.cross_val_score(logistic(), X.numpy(), y.numpy(), cv=theirs_cv)
    assert ours.dtype == torch.float64 and ours.shape == (len(theirs),)
    np.testing.assert_array_equal(ours.numpy(), theirs)


def test_int_cv_stratifies_for_classifiers_like_sklearn():
    X, y = classification_data(sorted_by_class=True)  # plain KFold would test on one class at a time
    ours = cross_val_score(logistic(), X, y, cv=5)
    np.testing.assert_array_equal(ours.numpy(), skms.cross_val_score(logistic(), X.numpy(), y.numpy(), cv=5))
    np.testing.assert_array_equal(ours.numpy(), cross_val_score(logistic(), X, y, cv=StratifiedKFold(5)).numpy())
    unstratified = cross_val_score(logistic(), X, y, cv=KFold(5))
    assert not torch.equal(ours, unstratified) and unstratified.min() < 0.5


def test_int_cv_uses_kfold_for_regressors_and_scoring_none_uses_score():
    X, y = classification_data(sorted_by_class=True)
    target = X.sum(1) + 0.1 * y
    ridge = sklearn.linear_model.Ridge(alpha=1.0)
    ours = cross_val_score(ridge, X, target, cv=4, scoring=None)  # R^2, over KFold(4)
    theirs = skms.cross_val_score(ridge, X.numpy(), target.numpy(), cv=4)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=0, atol=1e-12)


def test_callable_scoring_and_fresh_clones():
    X, y = classification_data()
    seen = []

    def scorer(model, X_test, y_test):
        seen.append(model)
        return float(len(y_test))

    estimator = logistic()
    sizes = cross_val_score(estimator, X, y, cv=KFold(4), scoring=scorer)
    assert sizes.tolist() == [30.0] * 4
    assert len({id(m) for m in seen}) == 4 and all(m is not estimator for m in seen)
    assert not hasattr(estimator, "coef_")  # the estimator passed in stays unfitted
    with pytest.raises(ValueError, match="scoring"):
        cross_val_score(logistic(), X, y, scoring="f2")
    with pytest.raises(ValueError, match="cv must be"):
        cross_val_score(logistic(), X, y, cv="five")
