"""Chapter 11: stratified k-fold cross-validation. For class labels y (n labels, n_c of class c) and k = n_splits, the k
pairs (train_idx, test_idx) whose test folds partition 0..n-1, each train set the complement of its test fold (both
int64, increasing), every test fold holding floor(n / k) or ceil(n / k) indices and floor(n_c / k) or ceil(n_c / k) of
class c's.

Graded by those properties (``fold_checks``), not against one split: sklearn's StratifiedKFold (no shuffling) meets
them, and so does the reference here, a stable sort of the indices by class dealt like cards (the j-th index of that
order goes to fold j % k): a class is a run of n_c consecutive positions of the order, which the deal spreads
floor(n_c / k) or ceil(n_c / k) to a fold, and the n positions go floor(n / k) or ceil(n / k) to a fold.

The reference and the known mistakes return ``Folds``: their pairs with the labels and k they were made for, which is
what ``compare`` checks a student's pairs against. Compared with a known mistake's folds, a student's match when they
show the same mistake (``fold_checks.mistake``)."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch11 import fold_checks as checks
from helpers.exercises.catalogue.ch11.shared import FOLDS
from helpers.exercises.spec import Case, Exercise, Mismatch

Pairs = list[tuple[torch.Tensor, torch.Tensor]]


class Folds(list):
    """The (train, test) pairs made for labels ``y`` and ``n_splits``, which they carry for ``compare``."""

    def __init__(self, pairs: Pairs, y: torch.Tensor, n_splits: int) -> None:
        super().__init__(pairs)
        self.y, self.n_splits = y, n_splits


def _from_fold_of(fold: torch.Tensor, y: torch.Tensor, k: int) -> Folds:
    """fold: (n,) the test fold of each index -> split j tests on {i: fold[i] = j}, trains on the rest (increasing)."""
    every = torch.arange(len(fold))
    return Folds([(every[fold != j], every[fold == j]) for j in range(k)], y, k)


def _stratified_kfold_split(y: torch.Tensor, n_splits: int) -> Folds:
    """Stable sort by class, then deal: the j-th index of that order is tested in fold j % k."""
    order = torch.sort(y.cpu(), stable=True).indices
    fold = torch.empty_like(order)
    fold[order] = torch.arange(len(y)) % n_splits
    return _from_fold_of(fold, y, n_splits)


def _compare(expected, got) -> Mismatch | None:
    """Against the reference: the properties. Against a known mistake's folds (diagnosis): the same mistake."""
    if not isinstance(expected, Folds):  # plain pairs: the same pairs
        same = (checks.structure_problem(len(expected), got) is None
                and all(torch.equal(a.cpu(), b) for pair, want in zip(got, expected) for a, b in zip(pair, want)))
        return None if same else Mismatch("not the same (train, test) pairs")
    y, k = expected.y, expected.n_splits
    if checks.fold_problem(y, k, expected) is None:
        return checks.fold_problem(y, k, got)
    shown = checks.mistake(y, k, expected)
    return None if shown is not None and checks.mistake(y, k, got) == shown else Mismatch("another mistake")


# ---------------------------------------------------------------- known mistakes
def _kfold_sizes(n: int, k: int) -> list[int]:
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def _unstratified(y, k):
    """Plain KFold: contiguous blocks of 0..n-1, the first n % k one longer."""
    return _from_fold_of(torch.arange(k).repeat_interleave(torch.tensor(_kfold_sizes(len(y), k))), y, k)


def _class_by_class(y, k):
    """KFold within each class: class c's first n_c % k folds one longer, for every class the same first folds."""
    fold = torch.empty(len(y), dtype=torch.int64)
    for c in torch.unique(y):
        members = (y == c).nonzero().flatten()
        fold[members] = torch.arange(k).repeat_interleave(torch.tensor(_kfold_sizes(len(members), k)))
    return _from_fold_of(fold, y, k)


def _test_in_train(y, k):
    return Folds([(torch.arange(len(y)), test) for _, test in _stratified_kfold_split(y, k)], y, k)


def _unsorted(y, k):
    """Dealt by class, the indices kept in the dealing order: test = order[j::k], train = the other folds' in turn."""
    order = torch.sort(y, stable=True).indices
    dealt = [order[j::k] for j in range(k)]
    return Folds([(torch.cat([dealt[i] for i in range(k) if i != j]), dealt[j]) for j in range(k)], y, k)


def _swapped(y, k):
    return Folds([(test, train) for train, test in _stratified_kfold_split(y, k)], y, k)


def _strided(y, k):
    """Dealt like cards in the data's order, without sorting by class first."""
    return _from_fold_of(torch.arange(len(y)) % k, y, k)


def _shuffled(y, k):
    """KFold after one seeded shuffle: fold sizes right, classes left to chance."""
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    fold = torch.empty_like(perm)
    fold[perm] = torch.arange(k).repeat_interleave(torch.tensor(_kfold_sizes(len(y), k)))
    return _from_fold_of(fold, y, k)


# ---------------------------------------------------------------- the cases
def _labels(*counts: int, seed: int | None = None, classes: tuple[int, ...] | None = None) -> torch.Tensor:
    """counts[i] labels of class classes[i] (default i), sorted by class, or shuffled by a seeded generator."""
    classes = classes or tuple(range(len(counts)))
    y = torch.cat([torch.full((count,), c, dtype=torch.int64) for c, count in zip(classes, counts)])
    if seed is None:
        return y
    return y[torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))]


def _drawn(n: int, probs: list[float], seed: int) -> torch.Tensor:
    """n labels drawn with class probabilities ``probs`` from a seeded generator."""
    return torch.multinomial(torch.tensor(probs), n, replacement=True, generator=torch.Generator().manual_seed(seed))


def _cases() -> list[Case]:
    return [
        Case("15 labels sorted by class (5 of each of the classes 0, 1, 2), n_splits = 5", (_labels(5, 5, 5), 5),
             "Sorted labels are the trap: contiguous folds of this order hold one or two classes each. Stratified, "
             "every test fold holds one example of each class."),
        Case("20 shuffled labels of 2 classes (8 of class 0, 12 of class 1), n_splits = 4",
             (_labels(8, 12, seed=1), 4), "Every test fold holds 2 of class 0 and 3 of class 1, 5 in all."),
        Case("30 shuffled labels of imbalanced classes (3, 10 and 17), n_splits = 5",
             (_labels(3, 10, 17, seed=2), 5),
             "Every fold holds 6: class 1 exactly 2, class 2 3 or 4, class 0 (3 examples) 0 or 1. Giving every "
             "class's leftovers to the first folds makes them too big."),
        Case("10 shuffled labels where class 1 has 2 members, fewer than n_splits = 3", (_labels(8, 2, seed=3), 3),
             "Class 1 cannot be in every fold (sklearn warns): each fold holds 0 or 1 of it; the folds still hold 3 or "
             "4 examples."),
        Case("11 shuffled labels (5 of class 0, 6 of class 1), n_splits = 3: 11 % 3 != 0",
             (_labels(5, 6, seed=4), 3), "The fold sizes are 4, 4 and 3 in some order, and class 0 goes 1 or 2 to a "
             "fold."),
        Case("14 shuffled labels of the classes 3, 7 and 9 (4, 6 and 4 of them), n_splits = 4",
             (_labels(4, 6, 4, seed=5, classes=(3, 7, 9)), 4),
             "The classes are the values in y, not 0..C-1: class 7 goes 1 or 2 to a fold."),
        Case("200 labels of 4 classes drawn with probabilities 0.5, 0.3, 0.15, 0.05, n_splits = 10",
             (_drawn(200, [0.5, 0.3, 0.15, 0.05], seed=6), 10), hidden=True),
        Case("97 labels of 5 classes drawn at random, n_splits = 7", (_drawn(97, [0.3, 0.25, 0.2, 0.15, 0.1], 7), 7),
             hidden=True),
        Case("44 labels: 40 of class 0 and 4 of class 1, n_splits = 10", (_labels(40, 4, seed=8), 10), hidden=True),
        Case("60 labels sorted by class (25, 20, 10, 5), n_splits = 6", (_labels(25, 20, 10, 5), 6), hidden=True),
        Case("9 labels of one class, n_splits = 4", (_labels(9), 4), hidden=True),
    ]


STRATIFIED_KFOLD = Exercise(
    id="11.stratified_kfold",
    title="Stratified k-fold cross-validation",
    kind="implement",
    points=2,
    prompt=(
        "stratified_kfold_split(y, n_splits) returns the list of the k = n_splits pairs (train_idx, test_idx) of "
        "stratified k-fold cross-validation for the class labels y (a 1-D int64 tensor of n labels): the test folds "
        "partition 0..n-1 (every index is tested exactly once) and split j trains on every index outside its test "
        "fold; both are 1-D int64 tensors in increasing order. Stratified: class c, with n_c labels in y, has "
        "floor(n_c / k) or ceil(n_c / k) of them in every test fold; and every test fold holds floor(n / k) or "
        "ceil(n / k) indices. The check tests these properties, in any order of the folds (scikit-learn's "
        "StratifiedKFold(n_splits) without shuffling meets them; so can other algorithms). 2 <= n_splits <= n; "
        "n_splits may exceed the size of a class, which then misses some folds. No splitter of scikit-learn's or "
        "the book's, no torch.tensor_split / numpy.array_split."
    ),
    reference=_stratified_kfold_split,
    cases=_cases,
    compare=_compare,
    forbidden=FOLDS,
    instead="Choose each index's fold yourself with torch (a sort, torch.arange, %, masks): that is the exercise.",
    hints=[
        "Count first: class c has n_c examples, so a fold may hold floor(n_c / k) or ceil(n_c / k) of them; and a fold "
        "holds floor(n / k) or ceil(n / k) examples in all. Splitting each class on its own, its leftovers always "
        "to the first folds, meets the first rule but breaks the second.",
        "Put the examples of each class next to each other, keeping their order within the class: "
        "torch.sort(y, stable=True).indices is such an order of the indices. In that order each class is one run.",
        "Sort the indices by class (stable sort), then deal them like cards: the j-th index in that order goes to "
        "test fold j % n_splits. Record each index's fold in a tensor; with every = torch.arange(n), split j tests on "
        "every[fold == j] and trains on every[fold != j], both increasing.",
    ],
    wrong={
        "The test folds are contiguous blocks of the data's order, as plain KFold cuts them: they ignore the classes, "
        "so a fold can miss a class or hold too much of it (labels sorted by class leave whole classes out of a "
        "fold). Spread every class evenly over the folds.": _unstratified,
        "Each class is spread evenly, but every class's leftovers (n_c % k examples) went to the same first folds, "
        "so the fold sizes differ by more than one: go on dealing where the previous class stopped (sorted by "
        "class, the j-th index goes to fold j % k).": _class_by_class,
        "The train indices include the test fold: the model would be tested on examples it was trained on. Train on "
        "every index OUTSIDE the test fold.": _test_in_train,
        "The folds are right but their indices are not in increasing order: sort each train and each test tensor "
        "(torch.sort(...).values, or build them with a mask on torch.arange(n)).": _unsorted,
        "The pairs are (test, train): return (train_idx, test_idx), the order StratifiedKFold.split yields them "
        "in.": _swapped,
        "Fold j takes the examples j, j + k, j + 2k, ... of the data's order: dealing like cards is right, but deal "
        "the indices sorted by class (a stable sort of y), else the classes are not spread evenly.": _strided,
        "The folds have the right sizes but ignore the classes (a random shuffle does not stratify: some folds get "
        "too many of a class, others too few). Spread every class evenly over the folds.": _shuffled,
    },
)

EXERCISES = [STRATIFIED_KFOLD]
