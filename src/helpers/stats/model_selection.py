"""K-fold and stratified k-fold cross-validation, and cross-validated scores (sklearn.model_selection's twins).

k-fold cross-validation cuts the n examples into k folds; split j trains on the other k - 1 folds and tests
on fold j, so every example is tested exactly once and the k scores estimate how a model fitted on about
n (k - 1) / k examples does on new data:

    CV score = (1/k) sum_j score(model fitted on D minus fold j, fold j)

KFold: fold j is a contiguous block; the first n % k folds hold n // k + 1 examples, the others n // k
(in the data's order, or after one random permutation with shuffle=True). The test indices of a fold, and
the train indices, are returned sorted, as sklearn does.

StratifiedKFold: each fold keeps the class proportions of y. sklearn's allocation, followed exactly: number
the classes in order of first appearance, sort the encoded labels, and deal them round-robin into the k
folds (fold j receives y_sorted[j::k]); that fixes how many examples of each class each fold gets. Then
the examples of each class, in data order, fill fold 0's share, then fold 1's, ... (shuffle=True permutes
which example of the class goes to which fold). A class with fewer than k members cannot appear in every
fold: a warning, as in sklearn; when every class is that small, an error.

Unshuffled splits are sklearn's index for index. Shuffled ones are drawn with a torch.Generator seeded
with random_state (not numpy's RandomState): the same fold sizes and class counts as sklearn's, the same
guarantees, other permutations. random_state=None with shuffle=True draws from torch's global generator.

The k scores are NOT independent (the training sets overlap in (k - 2)/(k - 1) of their examples), which
is why comparing two models by a t-test over folds needs the Nadeau-Bengio correction
(helpers.stats.corrected_ttest_rel).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch

from helpers.stats.estimators import kfold_indices
from helpers.stats.metrics.classification import accuracy_score

Split = tuple[torch.Tensor, torch.Tensor]


def _num_samples(X) -> int:
    if isinstance(X, (int, np.integer)) or not hasattr(X, "__len__"):
        raise TypeError(f"X must be array-like with one row per example (a tensor, an array, a list), got {X!r}.")
    return len(X)


class KFold:
    """k-fold cross-validation: contiguous folds (optionally after a seeded shuffle), as sklearn's KFold.

    split(X) yields k pairs (train_index, test_index) of sorted int64 tensors; |test| = n // k or n // k + 1.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: int | None = None) -> None:
        if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
            raise ValueError(f"k-fold cross-validation requires at least one train/test split: n_splits must be an "
                             f"int >= 2, got {n_splits!r}.")
        if not isinstance(shuffle, bool):
            raise TypeError(f"shuffle must be True or False; got {shuffle!r}.")
        if not shuffle and random_state is not None:
            raise ValueError("Setting a random_state has no effect since shuffle is False. You should leave "
                             "random_state to its default (None), or set shuffle=True.")
        self.n_splits, self.shuffle, self.random_state = int(n_splits), shuffle, random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of (train, test) pairs split yields: n_splits."""
        return self.n_splits

    def _check_n(self, X) -> int:
        n = _num_samples(X)
        if self.n_splits > n:
            raise ValueError(f"Cannot have number of splits n_splits={self.n_splits} greater than the number of "
                             f"samples: n_samples={n}. Use fewer splits (at most {n}).")
        return n

    def _generator(self) -> torch.Generator | None:
        return None if self.random_state is None else torch.Generator().manual_seed(int(self.random_state))

    def split(self, X, y=None, groups=None) -> Iterator[Split]:
        """(train_index, test_index) for each fold. X: anything with len(X) = n; y and groups are ignored."""
        n = self._check_n(X)
        if not self.shuffle:
            yield from kfold_indices(n, self.n_splits)
            return
        order = torch.randperm(n, generator=self._generator())
        for _, test in kfold_indices(n, self.n_splits):  # fold j = positions test of the permutation
            yield _pair(order[test], n)

    def __repr__(self) -> str:
        name, k, seed = type(self).__name__, self.n_splits, self.random_state
        return f"{name}(n_splits={k}, random_state={seed}, shuffle={self.shuffle})"


def _pair(test: torch.Tensor, n: int) -> Split:
    """(train, test) sorted index tensors, train = every index not in test."""
    in_test = torch.zeros(n, dtype=torch.bool)
    in_test[test] = True
    return torch.nonzero(~in_test).flatten(), torch.nonzero(in_test).flatten()


def _encode_by_appearance(y: torch.Tensor) -> torch.Tensor:
    """Class codes 0, 1, ... in order of FIRST APPEARANCE in y (sklearn's StratifiedKFold encoding). (n,) -> (n,)."""
    classes, inverse = torch.unique(y, return_inverse=True)
    first = torch.full((len(classes),), len(y), dtype=torch.int64).scatter_reduce(
        0, inverse, torch.arange(len(y)), reduce="amin")
    rank = torch.empty_like(first)
    rank[torch.argsort(first)] = torch.arange(len(classes))
    return rank[inverse]


def _class_labels(y, where: str) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if y.ndim != 1:
        raise ValueError(f"{where}: y must be (n_samples,) class labels, got shape {tuple(y.shape)}.")
    if y.is_floating_point() and not (y == y.round()).all():
        raise ValueError(f"{where}: supported target types are binary and multiclass (integer labels); y holds "
                         "continuous values. For regression use KFold.")
    return y.to(torch.int64)


class StratifiedKFold(KFold):
    """k folds that keep y's class proportions: sklearn's StratifiedKFold allocation (identical unshuffled).

    split(X, y) yields k pairs (train_index, test_index) of sorted int64 tensors. Fold j holds
    #{i in j, j + k, j + 2k, ... : sorted(y_encoded)[i] = c} examples of class c.
    """

    def __init__(self, n_splits: int = 5, *, shuffle: bool = False, random_state: int | None = None) -> None:
        super().__init__(n_splits, shuffle=shuffle, random_state=random_state)  # its own name in a call's trace

    def split(self, X, y, groups=None) -> Iterator[Split]:
        """(train_index, test_index) for each fold. X: anything with len(X) = n; y: (n,) class labels."""
        if y is None:
            raise ValueError("StratifiedKFold.split needs the class labels y to stratify on: split(X, y).")
        n = self._check_n(X)
        y = _class_labels(y, "StratifiedKFold")
        if len(y) != n:
            raise ValueError(f"X and y must have one length (one label per example), got {n} and {len(y)}.")
        test_folds = self._test_folds(y)
        for j in range(self.n_splits):
            yield _pair(torch.nonzero(test_folds == j).flatten(), n)

    def _test_folds(self, y: torch.Tensor) -> torch.Tensor:
        """The fold of every example: (n,) int64 in 0..n_splits-1."""
        k = self.n_splits
        codes = _encode_by_appearance(y)
        counts = torch.bincount(codes)
        if (counts < k).all():
            raise ValueError(f"n_splits={k} cannot be greater than the number of members in each class (the "
                             f"largest has {int(counts.max())}). Use n_splits <= {int(counts.max())}.")
        if counts.min() < k:
            warnings.warn(f"The least populated class in y has only {int(counts.min())} members, which is less than "
                          f"n_splits={k}.", UserWarning, stacklevel=3)
        ordered = codes.sort().values
        allocation = torch.stack([torch.bincount(ordered[j::k], minlength=len(counts)) for j in range(k)])  # (k, C)
        generator = self._generator()
        test_folds = torch.empty(len(y), dtype=torch.int64)
        for c in range(len(counts)):
            folds_for_class = torch.arange(k).repeat_interleave(allocation[:, c])
            if self.shuffle:
                folds_for_class = folds_for_class[torch.randperm(len(folds_for_class), generator=generator)]
            test_folds[codes == c] = folds_for_class
        return test_folds


# ---------------------------------------------------------------- cross-validated scores
def _is_classifier(estimator) -> bool:
    """sklearn's is_classifier: its tags (sklearn >= 1.6) or the older _estimator_type attribute."""
    tags = getattr(estimator, "__sklearn_tags__", None)
    if tags is not None:
        try:
            return tags().estimator_type == "classifier"
        except Exception:  # a half-implemented tag protocol: fall back to the attribute
            pass
    return getattr(estimator, "_estimator_type", None) == "classifier"


def _is_class_labels(y) -> bool:
    """True for 1-D integer (or whole-valued) labels: sklearn's binary / multiclass targets."""
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    return y.ndim == 1 and not y.is_complex() and (not y.is_floating_point() or bool((y == y.round()).all()))


def _check_cv(cv, y, classifier: bool):
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        return StratifiedKFold(int(cv)) if classifier and _is_class_labels(y) else KFold(int(cv))
    if isinstance(cv, str) or not (hasattr(cv, "split") or hasattr(cv, "__iter__")):
        raise ValueError(f"cv must be an int (the number of folds), a splitter with .split(X, y) (KFold, "
                         f"StratifiedKFold, sklearn's) or a list of (train, test) index pairs, got {cv!r}.")
    return cv if hasattr(cv, "split") else list(cv)


def _clone(estimator):
    """A fresh, unfitted copy: type(estimator)(**its constructor parameters), as sklearn.base.clone."""
    try:
        params = estimator.get_params(deep=False)
    except TypeError:
        params = estimator.get_params()
    return type(estimator)(**copy.deepcopy(params))


def _take(data, index):
    """data[index] for a tensor, an array or a list; index: int64 tensor or numpy array."""
    if isinstance(data, torch.Tensor):
        return data[torch.as_tensor(np.asarray(index))]
    return np.asarray(data)[np.asarray(index)]


def _accuracy(estimator, X, y) -> float:
    return accuracy_score(torch.as_tensor(np.asarray(y)), torch.as_tensor(np.asarray(estimator.predict(X))))


def cross_val_score(estimator, X, y, *, cv=5, scoring: str | Callable | None = "accuracy") -> torch.Tensor:
    """The score of a fresh clone of estimator fitted on each training split and scored on its test split.

    X: (n, ...) tensor or array, y: (n,) -> scores: (n_splits,) float64. cv: an int k (StratifiedKFold(k) when
    the estimator is a classifier and y holds class labels, else KFold(k), as sklearn), a splitter with
    .split(X, y), or a list of (train_index, test_index). scoring: "accuracy", a callable scorer(estimator, X, y),
    or None (the estimator's own .score). As sklearn.model_selection.cross_val_score (sklearn's default scoring
    is None; here "accuracy"), serially, with no error_score: a failing fit raises.
    """
    if scoring == "accuracy":
        scorer = _accuracy
    elif scoring is None:
        def scorer(model, X_test, y_test):
            return model.score(X_test, y_test)
    elif callable(scoring):
        scorer = scoring
    else:
        raise ValueError(f"scoring must be 'accuracy', None (the estimator's score method) or a callable "
                         f"scorer(estimator, X, y) -> float, got {scoring!r}.")
    if _num_samples(X) != _num_samples(y):
        raise ValueError(f"X and y must have one length (one label per example), got {len(X)} and {len(y)}.")
    splitter = _check_cv(cv, y, _is_classifier(estimator))
    pairs = splitter.split(X, y) if hasattr(splitter, "split") else splitter
    scores = []
    for train, test in pairs:
        model = _clone(estimator).fit(_take(X, train), _take(y, train))
        scores.append(float(scorer(model, _take(X, test), _take(y, test))))
    return torch.tensor(scores, dtype=torch.float64)
