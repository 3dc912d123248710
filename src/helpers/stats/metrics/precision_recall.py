"""Precision, recall and the F-score, per class and averaged, with sklearn.metrics' conventions.

For a class l, from the confusion matrix C (true labels in rows): tp = C[l, l], the examples predicted l
(pred = column sum = tp + fp) and the examples that are l (true = row sum = tp + fn, the support):

    precision = tp / (tp + fp)      of those we called l, the fraction that are l
    recall    = tp / (tp + fn)      of those that are l, the fraction we found
    F_beta    = (1 + beta^2) precision recall / (beta^2 precision + recall)
              = (1 + beta^2) tp / ((1 + beta^2) tp + beta^2 fn + fp)        (F1: the harmonic mean, beta = 1)

Averages over the classes (average=):
    "binary"    only the class pos_label (two-class problems; the default of precision_score & co)
    "micro"     pool tp, fp, fn over the classes, then divide (for single-label multiclass: = accuracy)
    "macro"     the plain mean of the per-class values (every class counts the same, rare ones included)
    "weighted"  the mean weighted by the support (row sums), so frequent classes dominate
    None        the per-class values themselves, with the supports

Zero division. Precision is 0/0 for a class never predicted, recall for a class absent from y_true, and F
when both happen. zero_division chooses the value put there: "warn" (0, and an UndefinedMetricWarning),
0.0, 1.0, or nan; a nan is left out of "macro" and "weighted" averages (nan only if every class is nan).
F is computed from the counts, so it is 0/0 only when tp + fp + fn = 0: a precision replaced by 1.0 does
not leak into F. All as sklearn (>= 1.4) does, same warning texts; our warning class is our own.
"""

from __future__ import annotations

import math
import warnings

import torch

from helpers.stats.metrics.classification import F64, _as_labels, _check_targets

AVERAGES = (None, "binary", "micro", "macro", "weighted")


class UndefinedMetricWarning(UserWarning):
    """A metric was 0/0 and set by zero_division="warn" to 0 (sklearn.exceptions.UndefinedMetricWarning's twin)."""


def _zero_division_value(zero_division) -> float:
    """"warn" -> 0.0; 0 / 1 -> that; nan -> nan; anything else: ValueError."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, (int, float)) and (zero_division in (0, 1) or math.isnan(zero_division)):
        return float(zero_division)
    raise ValueError(f'zero_division must be "warn", 0.0, 1.0 or float("nan"), got {zero_division!r}.')


def _divide(num, den, metric: str, modifier: str, warn_for, zero_division) -> torch.Tensor:
    """num / den (K,) float64, with zero_division's value where den = 0 (and sklearn's warning for "warn")."""
    undefined = den == 0
    result = num.to(F64) / torch.where(undefined, 1, den).to(F64)
    if not undefined.any():
        return result
    result[undefined] = _zero_division_value(zero_division)
    if zero_division == "warn" and metric in warn_for:
        where = "due to" if len(result) == 1 else "in labels with"
        warnings.warn(
            f"{metric.capitalize()} is ill-defined and being set to 0.0 {where} no {modifier} samples. Use "
            "`zero_division` parameter to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=4,
        )
    return result


def _nanaverage(values: torch.Tensor, weights: torch.Tensor | None = None) -> float:
    """The (weighted) mean of the non-nan values; nan if there are none; equal weights if theirs sum to 0."""
    kept = ~values.isnan()
    if not kept.any():
        return math.nan
    values = values[kept]
    if weights is None or weights[kept].sum() == 0:
        return float(values.mean())
    weights = weights[kept].to(F64)
    return float((values * weights).sum() / weights.sum())


def _labels_for(average, labels, pos_label, present: torch.Tensor) -> torch.Tensor:
    """The labels to score: [pos_label] for "binary" (after sklearn's checks), else labels or every present one."""
    if average not in AVERAGES:
        extra = " ('samples' is for multilabel targets, not supported here)" if average == "samples" else ""
        raise ValueError(f"average must be one of {list(AVERAGES)}, got {average!r}{extra}.")
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"Target is multiclass (labels {present.tolist()}) but average='binary'. Please choose another "
                "average setting, one of [None, 'micro', 'macro', 'weighted'], or score one class against the rest "
                "with labels=[that class] and average='micro'."
            )
        if pos_label not in present.tolist() and len(present) >= 2:
            raise ValueError(
                f"pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}: pass "
                "pos_label=<the label of your positive class>."
            )
        return torch.tensor([int(pos_label)])
    if pos_label not in (None, 1):
        warnings.warn(
            f"Note that pos_label (set to {pos_label!r}) is ignored when average != 'binary' (got {average!r}). You "
            "may use labels=[pos_label] to specify a single positive class.",
            UserWarning,
            stacklevel=3,
        )
    return present if labels is None else _as_labels(labels, "labels")


def precision_recall_fscore_support(
    y_true,
    y_pred,
    *,
    beta: float = 1.0,
    labels=None,
    pos_label: int = 1,
    average: str | None = None,
    warn_for=("precision", "recall", "f-score"),
    zero_division="warn",
):
    """Precision, recall, F_beta and support, per class (average=None) or averaged.

    y_true, y_pred: (N,) integer labels. average=None -> precision, recall, fbeta: (K,) float64 and support:
    (K,) int64 for labels (default: the sorted union of y_true and y_pred); an average -> three Python floats
    and support None. precision = tp / (tp + fp), recall = tp / (tp + fn), F_beta = (1 + beta^2) tp /
    (beta^2 (tp + fn) + tp + fp); beta = inf gives recall, 0 precision. warn_for: which of "precision",
    "recall", "f-score" may warn. As sklearn.metrics.precision_recall_fscore_support (no sample_weight).
    """
    _zero_division_value(zero_division)
    if not isinstance(beta, (int, float)) or isinstance(beta, bool) or not beta >= 0:
        raise ValueError(f"beta must be a number >= 0 (recall counts beta times as much as precision), got {beta!r}.")
    y_true, y_pred, present = _check_targets(y_true, y_pred)
    labels = _labels_for(average, labels, pos_label, present)
    is_true, is_pred = y_true[:, None] == labels, y_pred[:, None] == labels  # (N, K)
    tp_sum, pred_sum, true_sum = (is_true & is_pred).sum(0), is_pred.sum(0), is_true.sum(0)
    if average == "micro":
        tp_sum, pred_sum, true_sum = (count.sum(0, keepdim=True) for count in (tp_sum, pred_sum, true_sum))

    precision = _divide(tp_sum, pred_sum, "precision", "predicted", warn_for, zero_division)
    recall = _divide(tp_sum, true_sum, "recall", "true", warn_for, zero_division)
    if beta == math.inf:
        f_score = recall
    elif beta == 0:
        f_score = precision
    else:
        b2 = beta**2
        denominator = b2 * true_sum.to(F64) + pred_sum.to(F64)
        f_score = _divide((1 + b2) * tp_sum.to(F64), denominator, "f-score", "true nor predicted", warn_for,
                          zero_division)
    if average is None:
        return precision, recall, f_score, true_sum
    weights = true_sum if average == "weighted" else None
    return _nanaverage(precision, weights), _nanaverage(recall, weights), _nanaverage(f_score, weights), None


def precision_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average: str | None = "binary",
                    zero_division="warn"):
    """tp / (tp + fp): a Python float when averaged, (K,) float64 with average=None. As sklearn's precision_score."""
    p, _, _, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                                 warn_for=("precision",), zero_division=zero_division)
    return p


def recall_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average: str | None = "binary",
                 zero_division="warn"):
    """tp / (tp + fn): a Python float when averaged, (K,) float64 with average=None. As sklearn's recall_score."""
    _, r, _, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, pos_label=pos_label, average=average,
                                                 warn_for=("recall",), zero_division=zero_division)
    return r


def f1_score(y_true, y_pred, *, labels=None, pos_label: int = 1, average: str | None = "binary",
             zero_division="warn"):
    """2 tp / (2 tp + fp + fn), the harmonic mean of precision and recall: a Python float when averaged, (K,)
    float64 with average=None. As sklearn's f1_score."""
    _, _, f, _ = precision_recall_fscore_support(y_true, y_pred, beta=1.0, labels=labels, pos_label=pos_label,
                                                 average=average, warn_for=("f-score",), zero_division=zero_division)
    return f
