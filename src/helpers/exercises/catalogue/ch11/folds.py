"""Chapter 11: the k-fold split of cross-validation, as sklearn.model_selection.KFold(n_splits) gives it without
shuffling: the indices 0..n-1 cut into k contiguous test folds, the first n % k of them one longer (n // k + 1) than
the others (n // k); split j tests on fold j and trains on every other index, both in increasing order."""

from __future__ import annotations

import torch

from helpers.exercises.catalogue.ch11.shared import FOLDS
from helpers.exercises.compare import describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind


def _sizes(n: int, k: int) -> list[int]:
    size, extra = divmod(n, k)
    return [size + (1 if j < extra else 0) for j in range(k)]


def _from_sizes(n: int, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Contiguous test folds of the given sizes, in order; train = the other indices, increasing."""
    every, splits, start = torch.arange(n), [], 0
    for size in sizes:
        stop = start + size
        splits.append((torch.cat([every[:start], every[stop:]]), every[start:stop]))
        start = stop
    return splits


def _kfold_split(n_samples: int, n_splits: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    return _from_sizes(n_samples, _sizes(n_samples, n_splits))


def _folds_compare(expected: list, got) -> Mismatch | None:
    """The same (train, test) pairs as ``expected``: a list of k pairs of 1-D int64 tensors, equal index by index.
    The whole list is one item (a known mistake is recognised by all of its folds); the message names the fold."""
    k = len(expected)
    n = sum(len(test) for _, test in expected)
    if not isinstance(got, (list, tuple)):
        return Mismatch(f"returned {describe(got)}; return a list of {k} (train, test) pairs, one per fold (a "
                        "generator must be wrapped in list(...))", kind=ResultKind.WRONG_TYPE)
    if len(got) != k:
        return Mismatch(f"expected {k} (train, test) pairs, one per fold; got {len(got)}")
    for j, pair in enumerate(got):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            return Mismatch(f"split {j} should be a tuple (train_idx, test_idx); got {describe(pair)}",
                            kind=ResultKind.WRONG_TYPE)
        for name, indices in zip(("train", "test"), pair):
            if not isinstance(indices, torch.Tensor) or indices.dtype != torch.int64 or indices.ndim != 1:
                return Mismatch(f"returned {describe(indices)} as the {name} indices of split {j}: indices are a "
                                "1-D int64 tensor (the dtype torch.arange gives)", kind=ResultKind.WRONG_TYPE)
    sizes, got_sizes = [len(test) for _, test in expected], [pair[1].numel() for pair in got]
    if got_sizes != sizes:
        return Mismatch(f"your test folds hold {got_sizes} samples; with n_samples = {n} and n_splits = {k} they hold "
                        f"{sizes} (the first n % k folds one more)")
    for j, ((train, test), (got_train, got_test)) in enumerate(zip(expected, got)):
        if not torch.equal(got_test.cpu(), test):
            return Mismatch(f"split {j} tests on {describe(got_test)}; it should test on {describe(test)}")
        if not torch.equal(got_train.cpu(), train):
            return Mismatch(f"split {j} trains on {describe(got_train)}; it should train on {describe(train)}, every "
                            "index outside its test fold, in increasing order")
    return None


def _remainder_last(n, k):
    return _from_sizes(n, [n // k] * (k - 1) + [n // k + n % k])


def _chunked(n, k):
    """torch.chunk's blocks of ceil(n / k): the last one short, or missing."""
    every = torch.arange(n)
    return [(torch.cat([every[every < test[0]], every[every > test[-1]]]), test) for test in torch.chunk(every, k)]


def _floor_sizes(n, k):
    """k folds of n // k: the last n % k indices are never tested (they stay in every train set)."""
    every = torch.arange(n)
    return [(every[(every < j * (n // k)) | (every >= (j + 1) * (n // k))], every[j * (n // k):(j + 1) * (n // k)])
            for j in range(k)]


def _overlapping(n, k):
    """Each test fold one index too long (a slice to stop + 1): consecutive folds share an index."""
    every = torch.arange(n)
    splits = []
    for _, test in _kfold_split(n, k):
        longer = every[int(test[0]):int(test[-1]) + 2]
        splits.append((every[(every < longer[0]) | (every > longer[-1])], longer))
    return splits


def _test_in_train(n, k):
    return [(torch.arange(n), test) for _, test in _kfold_split(n, k)]


def _swapped(n, k):
    return [(test, train) for train, test in _kfold_split(n, k)]


def _strided(n, k):
    every = torch.arange(n)
    return [(every[every % k != j], every[every % k == j]) for j in range(k)]


def _after_then_before(n, k):
    return [(torch.cat([train[train > test[-1]], train[train < test[0]]]), test) for train, test in _kfold_split(n, k)]


KFOLD = Exercise(
    id="11.kfold",
    title="The folds of k-fold cross-validation",
    kind="implement",
    points=2,
    prompt=(
        "kfold_split(n_samples, n_splits) returns the list of the k = n_splits pairs (train_idx, test_idx) of k-fold "
        "cross-validation on n = n_samples samples, as sklearn.model_selection.KFold(n_splits).split gives them "
        "without shuffling: the test folds are contiguous blocks of 0..n-1 in order, the first n % k of them hold "
        "n // k + 1 samples and the others n // k; split j tests on fold j and trains on every other index. Both are "
        "1-D int64 tensors in increasing order. 2 <= n_splits <= n_samples. No splitter of scikit-learn's or the "
        "book's, no torch.tensor_split / numpy.array_split."
    ),
    reference=_kfold_split,
    cases=lambda: [
        Case("n_samples = 10, n_splits = 5", (10, 5),
             "k divides n: five test folds of 2, each sample tested exactly once."),
        Case("n_samples = 10, n_splits = 3", (10, 3),
             "10 = 3 * 3 + 1: the FIRST fold gets the extra sample, sizes 4, 3, 3 (KFold's rule)."),
        Case("n_samples = 11, n_splits = 4", (11, 4),
             "11 = 4 * 2 + 3: the first 3 folds hold 3 samples, the last 2. Fold sizes differ by at most one."),
        Case("n_samples = 7, n_splits = 7 (leave-one-out)", (7, 7),
             "k = n: every test fold is one sample, every train set the other 6."),
        Case("n_samples = 5, n_splits = 2", (5, 2), "Two folds of 3 and 2."),
        Case("n_samples = 9, n_splits = 4", (9, 4), "9 = 4 * 2 + 1: sizes 3, 2, 2, 2."),
        Case("n_samples = 101, n_splits = 10", (101, 10), hidden=True),
        Case("n_samples = 13, n_splits = 13", (13, 13), hidden=True),
        Case("n_samples = 6, n_splits = 4", (6, 4), hidden=True),
        Case("n_samples = 40, n_splits = 3", (40, 3), hidden=True),
    ],
    compare=_folds_compare,
    forbidden=FOLDS,
    instead="Compute the fold sizes with // and %, and build the indices with torch.arange and torch.cat.",
    hints=[
        "The fold sizes first: size, extra = divmod(n_samples, n_splits); fold j holds size + 1 samples if j < extra, "
        "else size. They add up to n_samples.",
        "Walk a start index along 0..n-1: fold j is torch.arange(start, stop) with stop = start + its size; then "
        "start = stop. Its train set is everything before start and everything from stop on.",
        "With every = torch.arange(n_samples), a fold's test indices are the block from start to stop, its train "
        "indices what lies before start joined (torch.cat) to what lies from stop on: increasing, as asked. Collect "
        "the (train, test) pairs in a list.",
    ],
    wrong={
        "The remainder went into the last fold: KFold gives one extra sample to each of the FIRST n % k folds, so "
        "the fold sizes differ by at most one.": _remainder_last,
        "Every fold got ceil(n / k) samples (torch.chunk's blocks), leaving the last fold short or missing: the first "
        "n % k folds get n // k + 1 samples, the others n // k.": _chunked,
        "Every fold got n // k samples, so the last n % k samples are never tested: give one extra sample to each of "
        "the first n % k folds.": _floor_sizes,
        "Consecutive folds overlap (a slice that ends one index too far): each sample belongs to exactly one test "
        "fold.": _overlapping,
        "The train indices include the test fold: the model would be tested on samples it was trained on. Train on "
        "every index OUTSIDE the fold.": _test_in_train,
        "The pairs are (test, train): return (train_idx, test_idx), the order KFold.split yields them in.": _swapped,
        "Fold j takes every k-th sample (j, j + k, ...): KFold's folds are contiguous blocks in the data's order.": (
            _strided),
        "The train indices are out of order (those after the fold, then those before): list them increasing, "
        "the indices before the fold first.": _after_then_before,
    },
)

EXERCISES = [KFOLD]
