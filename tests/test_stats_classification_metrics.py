"""confusion_matrix, accuracy_score, precision/recall/F (every average, every zero_division) and
precision_recall_curve equal sklearn.metrics' on random label vectors and on the zero-division cases."""

import itertools
import math
import warnings

import numpy as np
import pytest
import sklearn.exceptions
import sklearn.metrics
import torch

from helpers.stats.metrics import (
    UndefinedMetricWarning,
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)


def random_labels(seed, n=40, k=3, missing_pred=()):
    """y_true, y_pred: (n,) int64 in 0..k-1, 75% correct; classes in missing_pred are never predicted."""
    g = torch.Generator().manual_seed(seed)
    y_true = torch.randint(0, k, (n,), generator=g)
    noise = torch.randint(0, k, (n,), generator=g)
    y_pred = torch.where(torch.rand(n, generator=g) < 0.75, y_true, noise)
    for c in missing_pred:
        y_pred[y_pred == c] = (c + 1) % k
    return y_true, y_pred


def same(ours, theirs):
    """Equal as numbers (nan = nan), at 1e-12; floats stay floats, arrays stay float64/int64 tensors."""
    if theirs is None:
        assert ours is None
        return
    if np.ndim(theirs) == 0:
        assert isinstance(ours, float), type(ours)
        assert (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(float(theirs), abs=1e-12)
        return
    assert isinstance(ours, torch.Tensor)
    np.testing.assert_allclose(ours.numpy(), np.asarray(theirs, dtype=np.float64), rtol=0, atol=1e-12)


def run_both(ours_fn, theirs_fn, *args, **kwargs):
    """(our result, our warning texts, their result, their warning texts), the warnings of the metric kind only."""
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = ours_fn(*[torch.as_tensor(a) for a in args], **kwargs)
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = theirs_fn(*[np.asarray(a) for a in args], **kwargs)
    mine = [str(w.message) for w in ours_w if issubclass(w.category, UndefinedMetricWarning)]
    skl = [str(w.message) for w in theirs_w if issubclass(w.category, sklearn.exceptions.UndefinedMetricWarning)]
    return ours, mine, theirs, skl


# ---------------------------------------------------------------- confusion matrix and accuracy
@pytest.mark.parametrize("seed, k", list(itertools.product(range(4), [2, 3, 5])))
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_equals_sklearn(seed, k, normalize):
    y_true, y_pred = random_labels(seed, k=k, missing_pred=(k - 1,) if seed % 2 else ())
    ours = confusion_matrix(y_true, y_pred, normalize=normalize)
    theirs = sklearn.metrics.confusion_matrix(y_true.numpy(), y_pred.numpy(), normalize=normalize)
    assert ours.dtype == (torch.int64 if normalize is None else torch.float64)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=0, atol=1e-15)


@pytest.mark.filterwarnings("ignore:A single label was found")  # labels=[4]: both libraries warn
@pytest.mark.parametrize("labels", [[2, 0], [3, 1, 0, 2], [0, 7, 1], [4]])
@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_labels_subset_and_order(labels, normalize):
    y_true, y_pred = random_labels(1, n=50, k=5)
    ours = confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)
    theirs = sklearn.metrics.confusion_matrix(y_true.numpy(), y_pred.numpy(), labels=labels, normalize=normalize)
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=0, atol=1e-15)


def test_confusion_matrix_counts_by_enumeration_true_in_rows():
    y_true = torch.tensor([2, 0, 2, 2, 0, 1, 1])
    y_pred = torch.tensor([0, 0, 2, 2, 0, 2, 1])
    cm = confusion_matrix(y_true, y_pred)
    for i, j in itertools.product(range(3), range(3)):
        assert cm[i, j] == sum(1 for t, p in zip(y_true.tolist(), y_pred.tolist()) if t == i and p == j)
    assert cm[1, 2] == 1 and cm[2, 1] == 0  # one true 1 predicted as 2: row = truth
    tn, fp, fn, tp = confusion_matrix(torch.tensor([0, 1, 0, 1]), torch.tensor([1, 1, 1, 0])).flatten().tolist()
    assert (tn, fp, fn, tp) == (0, 2, 1, 1)


def test_confusion_matrix_accepts_other_label_types():
    y_true, y_pred = [5, -1, 5, 3], np.array([5.0, 3.0, -1.0, 3.0])
    ours = confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(ours.numpy(), sklearn.metrics.confusion_matrix(y_true, y_pred))
    bools = torch.tensor([True, False, True]), torch.tensor([True, True, False])
    np.testing.assert_array_equal(confusion_matrix(*bools).numpy(),
                                  sklearn.metrics.confusion_matrix(*[b.numpy() for b in bools]))


def test_confusion_matrix_single_label_warns_like_sklearn():
    with pytest.warns(UserWarning, match="A single label was found"):
        assert confusion_matrix([1, 1], [1, 1]).tolist() == [[2]]


@pytest.mark.parametrize("seed, k", list(itertools.product(range(3), [2, 4])))
@pytest.mark.parametrize("normalize", [True, False])
def test_accuracy_equals_sklearn(seed, k, normalize):
    y_true, y_pred = random_labels(seed, k=k)
    ours = accuracy_score(y_true, y_pred, normalize=normalize)
    theirs = sklearn.metrics.accuracy_score(y_true.numpy(), y_pred.numpy(), normalize=normalize)
    assert isinstance(ours, float) and ours == theirs
    assert ours == (y_true == y_pred).sum().item() / (len(y_true) if normalize else 1)


# ---------------------------------------------------------------- precision, recall, F
ZERO_DIVISIONS = ["warn", 0.0, 1.0, float("nan")]
MULTICLASS_AVERAGES = [None, "micro", "macro", "weighted"]

# (y_true, y_pred, labels): random ones, and cases that put 0/0 in precision, recall or both
CASES = {
    "random binary": (*random_labels(0, k=2), None),
    "random multiclass": (*random_labels(1, k=4), None),
    "precision 0/0 (class 3 never predicted)": (*random_labels(2, k=4, missing_pred=(3,)), None),
    "recall 0/0 (class 4 predicted, never true)": ([0, 1, 2, 1, 0, 2, 1], [0, 4, 2, 1, 0, 1, 4], None),
    "both 0/0 (label 9 nowhere)": ([0, 1, 2, 2, 1, 0], [0, 2, 2, 1, 1, 0], [0, 1, 2, 9]),
    "labels subset": (*random_labels(3, n=60, k=5), [3, 1]),
    "only absent labels": ([0, 1, 1, 0], [1, 1, 0, 0], [5, 6]),
    "binary, nothing predicted positive": ([0, 1, 0, 1, 0], [0, 0, 0, 0, 0], None),
    "binary, no true positives": ([0, 0, 0, 0], [0, 1, 0, 1], None),
    "binary, all negative": ([0, 0, 0], [0, 0, 0], None),
}


def is_binary(case):
    y_true, y_pred, _ = CASES[case]
    return len(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist())) <= 2


# average="binary" only where the labels are binary (on multiclass ones it raises: see the errors below)
CASE_AVERAGES = [(c, a) for c in CASES for a in MULTICLASS_AVERAGES + ["binary"] if a != "binary" or is_binary(c)]


@pytest.mark.parametrize("case, average", CASE_AVERAGES)
@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS, ids=str)
def test_precision_recall_fscore_support_equals_sklearn(case, average, zero_division):
    y_true, y_pred, labels = CASES[case]
    kwargs = {"labels": labels, "average": average, "zero_division": zero_division}
    ours, our_warnings, theirs, their_warnings = run_both(
        precision_recall_fscore_support, sklearn.metrics.precision_recall_fscore_support, y_true, y_pred, **kwargs
    )
    for a, b in zip(ours, theirs):
        same(a, b)
    if average is None:
        assert ours[3].dtype == torch.int64 and ours[0].dtype == torch.float64
    assert our_warnings == their_warnings


def test_zero_division_cases_really_divide_by_zero():
    """The cases above hit what their names say (else the zero_division tests would test nothing)."""
    def warned(case):
        y_true, y_pred, labels = CASES[case]
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            precision_recall_fscore_support(y_true, y_pred, labels=labels)
        return {str(x.message).split(" is ")[0] for x in w if x.category is UndefinedMetricWarning}

    assert warned("precision 0/0 (class 3 never predicted)") == {"Precision"}
    assert warned("recall 0/0 (class 4 predicted, never true)") == {"Recall"}
    assert warned("both 0/0 (label 9 nowhere)") == {"Precision", "Recall", "F-score"}


@pytest.mark.parametrize("case", ["random multiclass", "precision 0/0 (class 3 never predicted)",
                                  "both 0/0 (label 9 nowhere)", "binary, nothing predicted positive"])
@pytest.mark.parametrize("beta", [0.0, 0.5, 2.0, math.inf])
def test_fbeta_equals_sklearn(case, beta):
    y_true, y_pred, labels = CASES[case]
    for average in [None, "macro"]:
        ours, _, theirs, _ = run_both(precision_recall_fscore_support, sklearn.metrics.precision_recall_fscore_support,
                                      y_true, y_pred, beta=beta, labels=labels, average=average, zero_division=1.0)
        for a, b in zip(ours, theirs):
            same(a, b)


@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("zero_division", ZERO_DIVISIONS, ids=str)
def test_single_scores_equal_sklearn(name, case, zero_division):
    ours_fn = {"precision_score": precision_score, "recall_score": recall_score, "f1_score": f1_score}[name]
    y_true, y_pred, labels = CASES[case]
    for average in (["binary"] if is_binary(case) else []) + ["macro", None]:
        ours, our_warnings, theirs, their_warnings = run_both(
            ours_fn, getattr(sklearn.metrics, name), y_true, y_pred, labels=labels, average=average,
            zero_division=zero_division)
        same(ours, theirs)
        assert our_warnings == their_warnings


def test_binary_scores_by_hand():
    """tp = 2, fp = 1, fn = 3: precision 2/3, recall 2/5, F1 = 2 tp / (2 tp + fp + fn) = 4/8."""
    y_true = torch.tensor([1, 1, 1, 1, 1, 0, 0, 0])
    y_pred = torch.tensor([1, 1, 0, 0, 0, 1, 0, 0])
    assert precision_score(y_true, y_pred) == pytest.approx(2 / 3, abs=1e-15)
    assert recall_score(y_true, y_pred) == pytest.approx(2 / 5, abs=1e-15)
    assert f1_score(y_true, y_pred) == pytest.approx(0.5, abs=1e-15)
    assert precision_score(y_true, y_pred, pos_label=0) == pytest.approx(2 / 5, abs=1e-15)  # tn / (tn + fn)
    y_true, y_pred = random_labels(7, k=4)
    assert precision_score(y_true, y_pred, average="micro") == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-15)


def test_warn_is_zero_with_our_warning_class():
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined and being set to 0.0 due to no predic"):
        assert precision_score([0, 1, 1], [0, 0, 0]) == 0.0
    assert issubclass(UndefinedMetricWarning, UserWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert precision_score([0, 1, 1], [0, 0, 0], zero_division=1.0) == 1.0
        assert math.isnan(precision_score([0, 1, 1], [0, 0, 0], zero_division=float("nan")))


def test_pos_label_ignored_warning_like_sklearn():
    y_true, y_pred = random_labels(0, k=3)
    with pytest.warns(UserWarning, match="pos_label \\(set to 2\\) is ignored"):
        precision_score(y_true, y_pred, average="macro", pos_label=2)


# ---------------------------------------------------------------- errors that say what to do
def test_binary_average_on_multiclass_raises():
    y_true, y_pred = random_labels(0, k=3)
    with pytest.raises(ValueError, match="multiclass.*average='binary'.*one of"):
        f1_score(y_true, y_pred)
    with pytest.raises(ValueError):  # sklearn agrees
        sklearn.metrics.f1_score(y_true.numpy(), y_pred.numpy())


def test_absent_pos_label_raises():
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label.*\\[0, 2\\]"):
        recall_score([0, 2, 2], [0, 0, 2])
    with pytest.raises(ValueError):
        sklearn.metrics.recall_score([0, 2, 2], [0, 0, 2])


@pytest.mark.parametrize("call, match", [
    (lambda: accuracy_score([0, 1, 1], [0, 1]), "one length"),
    (lambda: f1_score([0, 1], [1, 1, 0]), "one length"),
    (lambda: confusion_matrix([], []), "empty"),
    (lambda: confusion_matrix([[0, 1]], [[0, 1]]), "1-D"),
    (lambda: accuracy_score([0.5, 1.0], [0, 1]), "non-integer"),
    (lambda: confusion_matrix([0, 1], [0, 1], normalize="rows"), "normalize"),
    (lambda: confusion_matrix([0, 1], [0, 1], labels=[5]), "must be in y_true"),
    (lambda: precision_score([0, 1], [0, 1], average="samples"), "multilabel"),
    (lambda: precision_score([0, 1], [0, 1], average="mean"), "average must be one of"),
    (lambda: precision_score([0, 1], [0, 1], zero_division=0.5), "zero_division"),
    (lambda: precision_recall_fscore_support([0, 1], [0, 1], beta=-1), "beta"),
])
def test_bad_input_raises_a_helpful_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------- precision-recall curve
def scores_with_ties(seed, n=80, decimals=1, score_dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    y = (torch.rand(n, generator=g) < 0.3).long()
    s = torch.round(torch.randn(n, generator=g, dtype=torch.float64) + y, decimals=decimals)
    return y, s.to(score_dtype)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("score_dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("drop_intermediate", [False, True])
def test_precision_recall_curve_equals_sklearn(seed, score_dtype, drop_intermediate):
    y, s = scores_with_ties(seed, score_dtype=score_dtype)
    assert len(torch.unique(s)) < len(s) - 10  # ties present
    ours = precision_recall_curve(y, s, drop_intermediate=drop_intermediate)
    theirs = sklearn.metrics.precision_recall_curve(y.numpy(), s.numpy(), drop_intermediate=drop_intermediate)
    for a, b in zip(ours, theirs):
        assert a.dtype == torch.float64
        np.testing.assert_array_equal(a.numpy(), b.astype(np.float64))
    if not drop_intermediate:
        assert ours[2].tolist() == sorted(set(s.double().tolist()))  # every distinct score, increasing


def test_precision_recall_curve_by_counting():
    y, s = scores_with_ties(5)
    precision, recall, thresholds = precision_recall_curve(y, s)
    for p, r, t in zip(precision.tolist(), recall.tolist(), thresholds.tolist()):
        called = [label for label, v in zip(y.tolist(), s.tolist()) if v >= t]
        assert p == sum(called) / len(called) and r == sum(called) / int(y.sum())
    assert (precision[-1].item(), recall[-1].item()) == (1.0, 0.0) and len(precision) == len(thresholds) + 1


def test_precision_recall_curve_pos_label_and_label_sets():
    y, s = scores_with_ties(2)
    other = torch.where(y == 1, 7, 3)
    for ours, theirs in [(precision_recall_curve(other, s, pos_label=3), sklearn.metrics.precision_recall_curve(
            other.numpy(), s.numpy(), pos_label=3)), (precision_recall_curve(2 * y - 1, s),
                                                      sklearn.metrics.precision_recall_curve(2 * y.numpy() - 1, s))]:
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a.numpy(), b)
    all_positive = precision_recall_curve(torch.ones(5, dtype=torch.long), s[:5])
    for a, b in zip(all_positive, sklearn.metrics.precision_recall_curve(np.ones(5), s[:5].numpy())):
        np.testing.assert_array_equal(a.numpy(), b)
    with pytest.raises(ValueError, match="pos_label"):
        precision_recall_curve(other, s)
    with pytest.raises(ValueError, match="only one class"):  # sklearn warns and sets recall to 1; we refuse
        precision_recall_curve(torch.zeros(5, dtype=torch.long), s[:5])
