"""The properties that make k (train, test) pairs a stratified k-fold split of labels y (n labels, k = n_splits), each
checked with a message that names the split, the index or the class at fault; and which known mistake a failing split
shows, read from its properties (so that a student's "test fold left in train" is named whatever algorithm chose the
test folds).

The properties, in the order they are checked (the first that fails is reported):

1. a list of k pairs (train, test) of 1-D int64 tensors;
2. every index lies in 0..n-1; every index is in exactly one test fold; split j trains on every index outside its test
   fold, once; both tensors in increasing order;
3. every test fold holds floor(n / k) or ceil(n / k) indices;
4. class c, with n_c labels in y, has floor(n_c / k) or ceil(n_c / k) of them in every test fold.

The folds may come in any order: the properties do not fix which fold is first, and several algorithms meet them
(sklearn's StratifiedKFold without shuffling; a stable sort by class dealt round-robin into the folds).
"""

from __future__ import annotations

import torch

from helpers.exercises.compare import describe
from helpers.exercises.spec import Mismatch, ResultKind


def _allowed(low: int, high: int) -> str:
    return f"exactly {low}" if low == high else f"{low} or {high}"


def structure_problem(n_splits: int, got) -> Mismatch | None:
    """Property 1: a list (or tuple) of n_splits pairs of 1-D int64 tensors."""
    if not isinstance(got, (list, tuple)):
        return Mismatch(f"returned {describe(got)}; return a list of {n_splits} (train, test) pairs, one per fold (a "
                        "generator must be wrapped in list(...))", kind=ResultKind.WRONG_TYPE)
    if len(got) != n_splits:
        return Mismatch(f"expected {n_splits} (train, test) pairs, one per fold (n_splits = {n_splits}); got "
                        f"{len(got)}")
    for j, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return Mismatch(f"split {j} should be a tuple (train_idx, test_idx); got {describe(pair)}",
                            kind=ResultKind.WRONG_TYPE)
        for name, indices in zip(("train", "test"), pair):
            if not isinstance(indices, torch.Tensor) or indices.dtype != torch.int64 or indices.ndim != 1:
                return Mismatch(f"returned {describe(indices)} as the {name} indices of split {j}: indices are a "
                                "1-D int64 tensor (the dtype torch.arange gives)", kind=ResultKind.WRONG_TYPE)
    return None


def _on_cpu(got) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return [(train.detach().cpu(), test.detach().cpu()) for train, test in got]


def index_problem(n: int, pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> Mismatch | None:
    """Property 2: indices in range, test folds that partition 0..n-1, train = the complement, increasing order."""
    for j, (train, test) in enumerate(pairs):
        for name, indices in (("test", test), ("train", train)):
            outside = indices[(indices < 0) | (indices >= n)]
            if len(outside):
                return Mismatch(f"split {j}'s {name} indices hold {int(outside[0])}, which is no index of y: with "
                                f"n = {n} labels the indices run from 0 to {n - 1}")
    every = torch.arange(n)
    tested = torch.bincount(torch.cat([test for _, test in pairs]), minlength=n)
    if (tested != 1).any():
        i = int(every[tested != 1][0])
        if tested[i] == 0:
            return Mismatch(f"index {i} is in no test fold: every index 0..{n - 1} must be tested exactly once")
        folds = [j for j, (_, test) in enumerate(pairs) for _ in range(int((test == i).sum()))]
        where = (f"test fold {folds[0]} {len(folds)} times" if len(set(folds)) == 1
                 else f"test folds {', '.join(map(str, folds))}")
        return Mismatch(f"index {i} is in {where}: every index must be in exactly one test fold")
    for j, (train, test) in enumerate(pairs):
        in_test = torch.isin(every, test)
        inside = train[in_test[train]]
        if len(inside):
            return Mismatch(f"split {j} trains on index {int(inside[0])}, which its test fold holds: train on every "
                            "index OUTSIDE the test fold, or the model is tested on what it learnt")
        times = torch.bincount(train, minlength=n)
        missing = every[(times == 0) & ~in_test]
        if len(missing):
            return Mismatch(f"split {j}'s train indices miss index {int(missing[0])}, which its test fold does not "
                            "hold either: train on every index outside the test fold")
        if (times > 1).any():
            return Mismatch(f"split {j}'s train indices hold index {int(every[times > 1][0])} more than once")
    for j, (train, test) in enumerate(pairs):
        for name, indices in (("test", test), ("train", train)):
            if (indices[1:] < indices[:-1]).any():
                return Mismatch(f"split {j}'s {name} indices are not in increasing order ({describe(indices, 70)}): "
                                "return them sorted")
    return None


def size_problem(n: int, n_splits: int, pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> Mismatch | None:
    """Property 3: every test fold holds floor(n / k) or ceil(n / k) indices."""
    low, high = n // n_splits, -(-n // n_splits)
    sizes = [len(test) for _, test in pairs]
    for j, size in enumerate(sizes):
        if size not in (low, high):
            return Mismatch(f"test fold {j} holds {size} examples (the test folds hold {sizes}); with n = {n} labels "
                            f"and n_splits = {n_splits} every test fold holds {_allowed(low, high)} (floor and ceil "
                            f"of {n} / {n_splits}): the folds must be as even as possible")
    return None


def class_problem(y: torch.Tensor, n_splits: int, pairs: list[tuple[torch.Tensor, torch.Tensor]]) -> Mismatch | None:
    """Property 4: class c has floor(n_c / k) or ceil(n_c / k) of its n_c labels in every test fold."""
    y = y.detach().cpu()
    classes, totals = torch.unique(y, return_counts=True)
    for j, (_, test) in enumerate(pairs):
        counts = (y[test][:, None] == classes).sum(dim=0)
        for c, count, total in zip(classes.tolist(), counts.tolist(), totals.tolist()):
            low, high = total // n_splits, -(-total // n_splits)
            if count not in (low, high):
                return Mismatch(f"test fold {j} holds {count} example{'s' * (count != 1)} of class {c} (its counts "
                                f"of the classes {classes.tolist()}: {counts.tolist()}); class {c} has {total} "
                                f"examples in y, so with n_splits = {n_splits} every test fold holds "
                                f"{_allowed(low, high)} of them (floor and ceil of {total} / {n_splits}): spread "
                                "each class evenly over the folds")
    return None


def fold_problem(y: torch.Tensor, n_splits: int, got) -> Mismatch | None:
    """The first property ``got`` breaks, as a Mismatch for the student; None when it is a stratified k-fold split."""
    if problem := structure_problem(n_splits, got):
        return problem
    pairs = _on_cpu(got)
    return (index_problem(len(y), pairs) or size_problem(len(y), n_splits, pairs)
            or class_problem(y, n_splits, pairs))


# ---------------------------------------------------------------- which known mistake a failing split shows
SWAPPED, TEST_IN_TRAIN, UNSORTED = "swapped", "test in train", "unsorted"
UNBALANCED, CONTIGUOUS, STRIDED, SHUFFLED = "unbalanced", "contiguous", "strided", "shuffled"


def mistake(y: torch.Tensor, n_splits: int, got) -> str | None:
    """The known mistake ``got`` shows (one of the names above), or None (right, or a mistake of no known kind).

    swapped: the pairs (test, train) would be right; test in train: the test folds are right and each train set holds
    its own test fold (the complements would be right); unsorted: sorting the indices would make it right. With
    well-formed folds (property 2 holds): unbalanced: stratified but the fold sizes differ by more than one;
    contiguous (plain KFold), strided (fold j takes j, j + k, ... of the data's order) and shuffled (any other): fold
    sizes right but the classes not spread."""
    if structure_problem(n_splits, got) or fold_problem(y, n_splits, got) is None:
        return None
    pairs, n = _on_cpu(got), len(y)
    if fold_problem(y, n_splits, [(test, train) for train, test in pairs]) is None:
        return SWAPPED
    every = torch.arange(n)
    complements = [(every[~torch.isin(every, test)], test) for _, test in pairs]
    if (all(torch.isin(test, train).all() for train, test in pairs)
            and fold_problem(y, n_splits, complements) is None):
        return TEST_IN_TRAIN
    if fold_problem(y, n_splits, [(train.sort().values, test.sort().values) for train, test in pairs]) is None:
        return UNSORTED
    if index_problem(n, pairs):
        return None
    balanced, stratified = size_problem(n, n_splits, pairs) is None, class_problem(y, n_splits, pairs) is None
    if stratified:
        return UNBALANCED
    if not balanced:
        return None
    tests = [test for _, test in pairs]
    if all(len(test) and int(test[-1] - test[0]) + 1 == len(test) for test in tests):
        return CONTIGUOUS
    if all(len(test) and torch.equal(test, every[every % n_splits == test[0] % n_splits]) for test in tests):
        return STRIDED
    return SHUFFLED
