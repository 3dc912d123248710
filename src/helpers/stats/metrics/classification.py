"""The confusion matrix and accuracy of a classifier's hard predictions (sklearn.metrics' twins in plain torch).

For K classes (labels l_1 < ... < l_K by default) the confusion matrix counts every (true, predicted) pair:

    C[i, j] = #{n : y_true[n] = l_i and y_pred[n] = l_j}      TRUE labels in ROWS, predictions in columns

so the diagonal holds the correct predictions, row i sums to the support of class i (how many examples
really are l_i) and column j to how often l_j was predicted. For two classes (negative 0, positive 1):

    C = [[TN, FP],
         [FN, TP]]          tn, fp, fn, tp = confusion_matrix(y_true, y_pred).flatten().tolist()

(sklearn's layout; many textbooks and Wikipedia draw the transpose, or put the positive class first: read
the axis labels.) normalize="true" divides each row by its sum (row i: where the examples of class l_i
went; the diagonal is each class's recall), "pred" each column (the diagonal is each class's precision),
"all" everything by N; a row or column without examples gives 0, not nan, as in sklearn.

    accuracy = trace(C) / N = (1/N) #{n : y_pred[n] = y_true[n]}

Labels are integers (an int or bool tensor, or floats with whole values); sklearn also takes strings,
these tensors cannot. sample_weight is not supported.
"""

from __future__ import annotations

import warnings

import torch

F64 = torch.float64


def _as_labels(y, name: str) -> torch.Tensor:
    """y as a (N,) int64 tensor of class labels, or an error that says what to pass."""
    y = torch.as_tensor(y)
    if y.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D tensor of class labels, got shape {tuple(y.shape)}. For (N, 1) use "
            f"{name}.flatten(); for probabilities or one-hot rows (N, K) take {name}.argmax(1) first (multilabel "
            "targets are not supported)."
        )
    if y.is_complex():
        raise TypeError(f"{name} must hold class labels (integers), got {y.dtype}.")
    if y.is_floating_point() and not (torch.isfinite(y) & (y == y.round())).all():
        raise ValueError(
            f"{name} holds non-integer values (continuous targets, e.g. {y[y != y.round()][:3].tolist()}): "
            "classification metrics need class labels. Threshold scores first, e.g. (p >= 0.5).long(), or "
            "take logits.argmax(1)."
        )
    return y.to(torch.int64)


def _check_targets(y_true, y_pred) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(y_true, y_pred: (N,) int64, present: the sorted union of their labels), checked like sklearn's."""
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred must have one length (one prediction per example), got {len(y_true)} and "
            f"{len(y_pred)}. Predict on the same examples whose labels you pass."
        )
    if len(y_true) == 0:
        raise ValueError("y_true and y_pred are empty: a metric needs at least one example.")
    return y_true, y_pred, torch.unique(torch.cat([y_true, y_pred]))


def _label_index(y: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """For each y[n], the index k with labels[k] = y[n], or -1 when y[n] is not among the labels. (N,) -> (N,)."""
    match = y[:, None] == labels[None, :]
    return torch.where(match.any(1), match.to(torch.uint8).argmax(1), -1)


def confusion_matrix(y_true, y_pred, *, labels=None, normalize: str | None = None) -> torch.Tensor:
    """C[i, j] = #{n : y_true[n] = labels[i], y_pred[n] = labels[j]}: true labels in rows, predictions in columns.

    y_true, y_pred: (N,) integer labels -> (K, K) int64, or float64 with normalize = "true" (rows sum to 1),
    "pred" (columns sum to 1) or "all" (everything sums to 1); empty rows/columns give 0. labels: (K,) the
    labels to count, in that order (a subset or a reordering); default: the sorted union of y_true and y_pred.
    Examples whose true or predicted label is not in labels are left out. As sklearn.metrics.confusion_matrix.
    """
    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(f"normalize must be None, 'true' (rows), 'pred' (columns) or 'all', got {normalize!r}.")
    y_true, y_pred, present = _check_targets(y_true, y_pred)
    if labels is None:
        labels = present
    else:
        labels = _as_labels(labels, "labels")
        if len(labels) == 0:
            raise ValueError("labels is empty: pass at least one label, or labels=None for every label present.")
        if not torch.isin(y_true, labels).any():
            raise ValueError(
                f"None of labels={labels.tolist()} occurs in y_true (which holds {torch.unique(y_true).tolist()}): "
                "at least one label specified must be in y_true."
            )
    k = len(labels)
    i, j = _label_index(y_true, labels), _label_index(y_pred, labels)
    kept = (i >= 0) & (j >= 0)
    cm = torch.bincount(i[kept] * k + j[kept], minlength=k * k).reshape(k, k)
    if k == 1:
        warnings.warn(
            "A single label was found in 'y_true' and 'y_pred'. For the confusion matrix to have the correct "
            "shape, use the 'labels' parameter to pass all known labels.",
            UserWarning,
            stacklevel=2,
        )
    if normalize is None:
        return cm
    cm = cm.to(F64)
    total = {"true": cm.sum(1, keepdim=True), "pred": cm.sum(0, keepdim=True), "all": cm.sum()}[normalize]
    return torch.where(total > 0, cm / total.clamp(min=1), 0.0)


def accuracy_score(y_true, y_pred, *, normalize: bool = True) -> float:
    """accuracy = (1/N) #{n : y_pred[n] = y_true[n]} = trace(C) / N.

    y_true, y_pred: (N,) integer labels -> a Python float: the fraction correct, or with normalize=False the
    number correct (a float, as sklearn.metrics.accuracy_score returns it).
    """
    y_true, y_pred, _ = _check_targets(y_true, y_pred)
    correct = int((y_true == y_pred).sum())
    return correct / len(y_true) if normalize else float(correct)
