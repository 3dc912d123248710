"""Chapter 11: a classifier's errors counted. The confusion matrix C[i, j] = #{true label i, predicted j} (true labels
in rows, sklearn's convention), and from its binary form precision TP / (TP + FP), recall TP / (TP + FN) and
F1 = 2 TP / (2 TP + FP + FN), with zero_division where a ratio is 0 / 0 (sklearn's semantics)."""

from __future__ import annotations

import math

import torch

from helpers.exercises.catalogue.ch11.shared import CONFUSION, PRECISION_RECALL
from helpers.exercises.catalogue.common import gen
from helpers.exercises.compare import close, describe
from helpers.exercises.spec import Case, Exercise, Mismatch, ResultKind

I64 = torch.int64


# ---------------------------------------------------------------- the confusion matrix
def _labels(values) -> torch.Tensor:
    return torch.tensor(values, dtype=I64)


def _confusion_cases() -> list[Case]:
    g = gen(1105)

    def predictions(n, k, right=0.6):
        """n true labels in 0..k-1 and predictions that copy them with probability ``right``, else a random class."""
        truth = torch.randint(0, k, (n,), generator=g)
        guess = torch.randint(0, k, (n,), generator=g)
        return truth, torch.where(torch.rand(n, generator=g) < right, truth, guess)

    return [
        Case("binary: 10 labels, num_classes = 2", (_labels([1, 0, 1, 1, 0, 0, 1, 0, 1, 1]),
                                                    _labels([1, 0, 0, 1, 0, 1, 1, 0, 0, 1]), 2),
             "Entry [i, j] counts the samples whose TRUE label is i and PREDICTED label is j: true labels in rows, "
             "predictions in columns (sklearn's convention). Here [1, 0] = 2 positives predicted negative."),
        Case("3 classes, 15 samples", (*predictions(15, 3), 3),
             "Each (true, predicted) pair that occurs several times is counted as often as it occurs: the entries "
             "add up to the number of samples."),
        Case("4 classes of which class 3 never occurs (neither true nor predicted), 12 samples",
             (*predictions(12, 3), 4),
             "num_classes fixes the size: a class that never occurs still has its row and column, of zeros (the "
             "labels seen say nothing of the classes that exist)."),
        Case("perfect predictions: 9 samples of 3 classes", (_labels([0, 1, 2, 2, 1, 0, 0, 2, 2]),) * 2 + (3,),
             "Every sample on the diagonal: entry [i, i] is the number of samples of class i."),
        Case("every sample of class 0 predicted 2: 6 samples, 3 classes", (_labels([0] * 6), _labels([2] * 6), 3),
             "One pair repeated six times: entry [0, 2] is 6, not 1."),
        Case("10 classes, 60 samples", (*predictions(60, 10, 0.8), 10),
             "The digits' case: a 10 x 10 table of counts, rows the true digits."),
        Case("one sample, true 1 predicted 0, 2 classes", (_labels([1]), _labels([0]), 2), hidden=True),
        Case("5 classes, 300 samples", (*predictions(300, 5), 5), hidden=True),
        Case("6 classes, 40 samples, all predicted 3", (torch.randint(0, 6, (40,), generator=g),
                                                       _labels([3] * 40), 6), hidden=True),
    ]


def _confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int) -> torch.Tensor:
    flat = torch.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def _counts_compare(expected: torch.Tensor, got) -> Mismatch | None:
    """The same counts in the same (K, K) layout, compared as numbers first (a normalised or transposed table is a
    wrong value, diagnosed), then the dtype: counts are int64."""
    k = expected.shape[0]
    if not isinstance(got, torch.Tensor):
        return Mismatch(f"returned {describe(got)}; return a torch.Tensor of shape ({k}, {k})",
                        kind=ResultKind.WRONG_TYPE)
    if got.shape != expected.shape:
        return Mismatch(f"expected shape ({k}, {k}) (num_classes = {k}), got shape {tuple(got.shape)}")
    difference = got.detach().cpu().double() != expected.double()
    if difference.any():
        i, j = (int(v) for v in difference.nonzero()[0])
        count = int(expected[i, j])
        return Mismatch(f"entry [{i}, {j}] (true label {i}, predicted {j}) should count {count} "
                        f"sample{'s' * (count != 1)}, got {describe(got[i, j].item())}")
    if got.dtype != I64:
        return Mismatch(f"returned a {str(got.dtype).replace('torch.', '')} tensor: counts are whole numbers, return "
                        "int64 (torch.zeros(K, K, dtype=torch.long), or torch.bincount, gives one)",
                        kind=ResultKind.WRONG_TYPE)
    return None


def _single_counts(y_true, y_pred, num_classes):
    """cm[y_true, y_pred] += 1: an indexed assignment writes each repeated (true, predicted) pair once."""
    cm = torch.zeros(num_classes, num_classes, dtype=I64)
    cm[y_true, y_pred] += 1
    return cm


def _sized_by_labels(y_true, y_pred, num_classes):
    k = int(max(y_true.max(), y_pred.max())) + 1
    return _confusion_matrix(y_true, y_pred, k)


CONFUSION_MATRIX = Exercise(
    id="11.confusion_matrix",
    title="The confusion matrix",
    kind="implement",
    points=1,
    prompt=(
        "confusion_matrix(y_true, y_pred, num_classes) returns the (K, K) table of counts, K = num_classes, whose "
        "entry [i, j] is the number of samples with TRUE label i and PREDICTED label j (true labels in rows, "
        "predictions in columns: sklearn's convention). y_true, y_pred: (N,) int64 labels in 0..K-1 -> (K, K) int64. "
        "No confusion_matrix of scikit-learn's or the book's."
    ),
    reference=_confusion_matrix,
    cases=_confusion_cases,
    compare=_counts_compare,
    forbidden=CONFUSION,
    instead="Count the pairs yourself: a loop over (true, predicted) adding 1 to cm[true, predicted], or "
    "torch.bincount of true * K + predicted reshaped to (K, K). No sklearn.metrics.confusion_matrix, nor the book's "
    "stats.confusion_matrix.",
    hints=[
        "Start from a (K, K) table of zeros, int64 (torch.zeros(K, K, dtype=torch.long)); each sample adds 1 to ONE "
        "entry: row = its true label, column = its predicted label.",
        "A loop over zip(y_true.tolist(), y_pred.tolist()) does it. Vectorised: cm[y_true, y_pred] += 1 does NOT "
        "(a repeated pair is written once); each pair (i, j) is the number i * K + j, and torch.bincount counts them.",
        "Number each (true, predicted) pair i * K + j, count these numbers with torch.bincount (minlength K * K, so "
        "that a pair that never occurs counts 0), and reshape the K * K counts to (K, K): row i, column j.",
    ],
    wrong={
        "The table is transposed: predictions in the rows. The convention (sklearn's, and the book's) puts the TRUE "
        "labels in the rows, entry [i, j] = true i, predicted j.": lambda y_true, y_pred, k: _confusion_matrix(
            y_true, y_pred, k).T,
        "The rows were normalised to sum to 1 (the recall of each class on the diagonal): the exercise asks for the "
        "counts, int64 (normalize='true' is another option of sklearn's).": lambda y_true, y_pred, k: (
            lambda cm: cm / cm.sum(dim=1, keepdim=True).clamp(min=1))(_confusion_matrix(y_true, y_pred, k).double()),
        "Only the diagonal was filled (the correct predictions): the off-diagonal entries count the errors, true i "
        "predicted j != i.": lambda y_true, y_pred, k: torch.diag(torch.diagonal(_confusion_matrix(y_true, y_pred, k))),
        "The table was sized by the labels seen (largest + 1): num_classes fixes it, so a class that never occurs "
        "keeps its row and column of zeros.": _sized_by_labels,
        "cm[y_true, y_pred] += 1 counts a repeated (true, predicted) pair once: an indexed assignment writes each "
        "entry once, whatever the number of repeats. Loop over the samples, or count with torch.bincount (or "
        "index_put_ with accumulate=True).": _single_counts,
    },
)


# ---------------------------------------------------------------- precision, recall, F1 with zero division
NAN = float("nan")


def _prf_cases() -> list[Case]:
    g = gen(1106)

    def scored(n, rate=0.4, right=0.7):
        truth = (torch.rand(n, generator=g) < rate).long()
        return truth, torch.where(torch.rand(n, generator=g) < right, truth, 1 - truth)

    no_predicted = (_labels([1, 0, 1, 0, 0, 1]), _labels([0] * 6))  # TP + FP = 0: precision undefined
    no_actual = (_labels([0] * 7), _labels([0, 1, 0, 0, 1, 0, 0]))  # TP + FN = 0: recall undefined
    none = (_labels([0] * 5), _labels([0] * 5))  # no positives at all: all three undefined
    precision_why = ("Nothing was predicted positive (TP + FP = 0): precision is 0 / 0, so it is zero_division; "
                     "recall is 0 / 3 = 0 and F1 = 2 TP / (2 TP + FP + FN) = 0 / 3 = 0.")
    recall_why = ("No sample is actually positive (TP + FN = 0): recall is 0 / 0, so it is zero_division; precision "
                  "is 0 / 2 = 0 and F1 = 0 / 2 = 0.")
    none_why = "No positives at all, true or predicted: TP + FP + FN = 0, so precision, recall and F1 are all 0 / 0."
    return [
        Case("12 samples, TP = 3, FP = 1, FN = 2", (_labels([1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0]),
                                                    _labels([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]), 0.0),
             {0: "Precision is TP / (TP + FP): of the 4 predicted positive, 3 are: 0.75.",
              1: "Recall is TP / (TP + FN): of the 5 actual positives, 3 were found: 0.6.",
              2: "F1 is the harmonic mean 2 P R / (P + R) = 2 TP / (2 TP + FP + FN) = 6 / 9, below the arithmetic "
                 "mean."}),
        Case("no predicted positive (TP + FP = 0), zero_division left at its default", no_predicted,
             {0: precision_why + " The default zero_division is 0.0.", 2: precision_why}),
        Case("no predicted positive (TP + FP = 0), zero_division = 1.0", (*no_predicted, 1.0),
             {0: precision_why, 1: precision_why, 2: precision_why + " F1 is 0 / 3, defined, whatever zero_division "
              "says."}),
        Case("no predicted positive (TP + FP = 0), zero_division = nan", (*no_predicted, NAN),
             {0: precision_why + " zero_division = nan marks it as undefined.", 2: precision_why}),
        Case("no actual positive (TP + FN = 0), zero_division = 1.0", (*no_actual, 1.0),
             {0: recall_why, 1: recall_why, 2: recall_why}),
        Case("no actual positive (TP + FN = 0), zero_division = 0.0", (*no_actual, 0.0),
             {1: recall_why, 2: recall_why}),
        Case("no positives at all, zero_division = nan", (*none, NAN), none_why),
        Case("no positives at all, zero_division = 1.0", (*none, 1.0), none_why),
        Case("no true positive, but FP = 2 and FN = 2, zero_division = 1.0",
             (_labels([1, 0, 1, 0, 0]), _labels([0, 1, 0, 1, 0]), 1.0),
             {0: "TP + FP = 2 > 0: precision is defined, 0 / 2 = 0.", 1: "TP + FN = 2 > 0: recall is 0 / 2 = 0.",
              2: "Precision and recall are both 0, so 2 P R / (P + R) is 0 / 0; F1 = 2 TP / (2 TP + FP + FN) = 0 / 4 = "
                 "0 is defined (zero_division is only for TP + FP + FN = 0)."}),
        Case("40 samples, zero_division = 0.0", (*scored(40), 0.0),
             {0: "Positive = label 1: precision = TP / (TP + FP), the share of the predicted 1s that are 1s."}),
        Case("no predicted positive, zero_division = 0.0", (*no_predicted, 0.0), hidden=True),
        Case("no actual positive, zero_division = nan", (*no_actual, NAN), hidden=True),
        Case("no positives at all, zero_division = 0.0", (*none, 0.0), hidden=True),
        Case("every prediction right, 8 samples", (_labels([1, 0, 1, 1, 0, 0, 1, 0]),) * 2 + (0.0,), hidden=True),
        Case("500 samples, zero_division = 1.0", (*scored(500, 0.1, 0.8), 1.0), hidden=True),
    ]


def _counts(y_true, y_pred, positive=1):
    tp = int(((y_pred == positive) & (y_true == positive)).sum())
    fp = int(((y_pred == positive) & (y_true != positive)).sum())
    fn = int(((y_pred != positive) & (y_true == positive)).sum())
    return tp, fp, fn


def _ratio(num: int, den: int, zero_division: float) -> float:
    return num / den if den > 0 else float(zero_division)


def _precision_recall_f1(y_true, y_pred, zero_division=0.0):
    tp, fp, fn = _counts(y_true, y_pred)
    return (_ratio(tp, tp + fp, zero_division), _ratio(tp, tp + fn, zero_division),
            _ratio(2 * tp, 2 * tp + fp + fn, zero_division))


def _tensor_ratio(num, den) -> float:
    """num / den in torch: nan for 0 / 0."""
    return (torch.tensor(float(num), dtype=torch.float64) / den).item()


def _prf_with(swapped=False, arithmetic=False, harmonic=False, harmonic_guarded=False, f1_follows=False,
              nan_division=False, zero_always=False, accuracy=False, specificity=False, positive=1):
    """precision_recall_f1 with one of the known mistakes."""

    def answer(y_true, y_pred, zero_division=0.0):
        tp, fp, fn = _counts(y_true, y_pred, positive)
        if nan_division:
            return _tensor_ratio(tp, tp + fp), _tensor_ratio(tp, tp + fn), _tensor_ratio(2 * tp, 2 * tp + fp + fn)
        zd = 0.0 if zero_always else zero_division
        p, r, f1 = _ratio(tp, tp + fp, zd), _ratio(tp, tp + fn, zd), _ratio(2 * tp, 2 * tp + fp + fn, zd)
        if accuracy:
            p = float((y_true == y_pred).double().mean())
        if specificity:  # TN / (TN + FP): the recall of the negatives
            tn = int(((y_pred != positive) & (y_true != positive)).sum())
            r = _ratio(tn, tn + fp, zd)
        if arithmetic:
            f1 = (p + r) / 2
        if harmonic:
            f1 = _tensor_ratio(2 * p * r, p + r) if not math.isnan(p + r) else NAN
        if harmonic_guarded:  # 2 P R / (P + R), falling back on zero_division where P + R = 0
            f1 = 2 * p * r / (p + r) if p + r != 0 else float(zd)
        if f1_follows and (tp + fp == 0 or tp + fn == 0):  # F1 undefined as soon as P or R is
            f1 = float(zd)
        return (r, p, f1) if swapped else (p, r, f1)

    return answer


_CLOSE = close(rtol=1e-12, atol=1e-12)


def _prf_compare(expected, got) -> Mismatch | None:
    """Item by item within 1e-12; a float32 (or float16) tensor item that misses is told to be a Python float: torch's
    division of integer counts gives float32, which rounds 0.6 to 0.6000000238."""
    mismatch = _CLOSE(expected, got)
    if mismatch is None or mismatch.item is None or not isinstance(got, (tuple, list)):
        return mismatch
    value = got[mismatch.item]
    if isinstance(value, torch.Tensor) and value.is_floating_point() and value.dtype != torch.float64:
        return Mismatch(f"returned {describe(value)}, not a Python float: return Python floats. "
                        f"Dividing integer tensors gives {str(value.dtype).replace('torch.', '')}, which rounds the "
                        "ratio (0.6 becomes 0.6000000238); divide Python ints instead (int(tensor.sum()) for each "
                        "count), or call float(...) on float64 values", mismatch.item, ResultKind.WRONG_TYPE)
    return mismatch


PRECISION_RECALL_F1 = Exercise(
    id="11.precision_recall_f1",
    title="Precision, recall and F1, with zero division",
    kind="implement",
    points=2,
    prompt=(
        "precision_recall_f1(y_true, y_pred, zero_division=0.0) returns (precision, recall, f1) as Python floats for "
        "a binary task whose positive class is 1: precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2 TP / "
        "(2 TP + FP + FN) (the harmonic mean 2 P R / (P + R) where that is defined). A ratio whose denominator is 0 "
        "takes the value zero_division (0.0, 1.0 or nan), as sklearn's zero_division does: precision when nothing is "
        "predicted positive, recall when nothing is actually positive, F1 when TP + FP + FN = 0. y_true, y_pred: (N,) "
        "int64 in {0, 1}. No precision / recall / F1 function of scikit-learn's or the book's."
    ),
    reference=_precision_recall_f1,
    cases=_prf_cases,
    compare=_prf_compare,
    forbidden=PRECISION_RECALL,
    instead="Count TP, FP and FN with comparisons and .sum(), then divide, with zero_division where a denominator is "
    "0: no sklearn.metrics precision_score / recall_score / f1_score / precision_recall_fscore_support, nor the "
    "book's twins.",
    items=("precision", "recall", "F1"),
    hints=[
        "Count three numbers first: TP (predicted 1, truly 1), FP (predicted 1, truly 0), FN (predicted 0, truly 1), "
        "e.g. int(((y_pred == 1) & (y_true == 1)).sum()).",
        "Precision looks at the predicted positives (TP + FP), recall at the actual positives (TP + FN). Where a "
        "denominator is 0 the ratio is 0 / 0: return zero_division there instead of dividing (Python raises "
        "ZeroDivisionError, torch gives nan).",
        "F1 = 2 TP / (2 TP + FP + FN): equal to 2 P R / (P + R), but still defined when P = R = 0 (TP = 0, some FP "
        "and FN: F1 = 0). Each of the three is a ratio of counts that falls back on zero_division when its "
        "denominator is 0.",
    ],
    wrong={
        "Precision and recall are swapped: precision = TP / (TP + FP) is about the PREDICTED positives (how many are "
        "right), recall = TP / (TP + FN) about the ACTUAL positives (how many were found).": _prf_with(swapped=True),
        "F1 was the arithmetic mean (P + R) / 2: it is the harmonic mean 2 P R / (P + R) = 2 TP / (2 TP + FP + FN), "
        "which stays low unless both are high.": _prf_with(arithmetic=True),
        "0 / 0 came back as nan whatever zero_division says: where a denominator is 0, return zero_division "
        "(0.0 by default).": _prf_with(nan_division=True),
        "zero_division was ignored (0 returned for every 0 / 0): return the value passed, 1.0 or nan as well as "
        "0.0.": _prf_with(zero_always=True),
        "The accuracy (TP + TN) / N came back as the precision: precision counts only the predicted positives, "
        "TP / (TP + FP).": _prf_with(accuracy=True),
        "The recall came out as TN / (TN + FP), the share of the actual NEGATIVES predicted negative (the "
        "specificity): recall is about the positives, TP / (TP + FN), the share of the actual positives that were "
        "found.": _prf_with(specificity=True),
        "The positive class was taken to be 0: it is 1 (sklearn's pos_label=1), so TP counts the samples predicted "
        "1 that are 1.": _prf_with(positive=0),
        "F1 came from 2 P R / (P + R) of the values after zero_division: that is 0 / 0 when P = R = 0 (no true "
        "positive but some FP and FN: F1 is 0 there), and nan when zero_division = nan stands for an undefined "
        "precision. Use the counts: 2 TP / (2 TP + FP + FN), zero_division only when TP + FP + FN = 0.": _prf_with(
            harmonic=True),
        "F1 came from 2 P R / (P + R), with zero_division where P + R = 0: with no true positive but some FP and FN, "
        "P = R = 0 and F1 = 2 TP / (2 TP + FP + FN) = 0, a defined value, not zero_division; and a nan precision "
        "(zero_division = nan) makes 2 P R / (P + R) nan where F1 is defined. Use the counts: zero_division only when "
        "TP + FP + FN = 0.": _prf_with(harmonic_guarded=True),
        "F1 took the value zero_division whenever precision or recall was 0 / 0: F1 = 2 TP / (2 TP + FP + FN) stays "
        "defined as long as TP + FP + FN > 0 (nothing predicted positive but 3 actual positives: F1 = 0 / 3 = 0). Only "
        "TP + FP + FN = 0 makes it 0 / 0.": _prf_with(f1_follows=True),
    },
)

EXERCISES = [CONFUSION_MATRIX, PRECISION_RECALL_F1]
