"""Ranking metrics for binary labels: the ROC curve, its area, the precision-recall curve (sklearn.metrics' twins).

A score s ranks examples (higher = more positive: an anomaly's reconstruction error, a classifier's logit or
probability). Calling "positive" every example with s >= t gives, over the n+ positives and n- negatives,

    TPR(t) = #{positives with s >= t} / n+        (recall, hit rate)
    FPR(t) = #{negatives with s >= t} / n-        (false-alarm rate)
    precision(t) = #{positives with s >= t} / #{examples with s >= t}

Lowering t from +inf to min(s) walks the ROC curve from (FPR, TPR) = (0, 0) to (1, 1). Examples with tied
scores cross the threshold together: one step, possibly diagonal. The area under the curve (trapezoid rule,
which is exact for those diagonal steps) is the Mann-Whitney statistic U / (n+ n-):

    AUC = P(S+ > S-) + 1/2 P(S+ = S-)      S+, S- the scores of a random positive and a random negative

that is, the fraction of (positive, negative) pairs the score orders correctly, ties counting half.
AUC = 1: every positive outranks every negative (some threshold separates them perfectly); AUC = 0.5: no
better than a coin (random scores, or a constant score); AUC = 0: perfectly reversed. The AUC depends on
the ranking only, not on any threshold or on the scale of the scores (any increasing map of s keeps it), so
it compares detectors before anyone picks an operating point. The book uses it for anomaly detection by
reconstruction error (Chapter 9: the autoencoder's error is the score, "anomaly" is the positive class)
and for classifiers (Chapter 11).

The precision-recall curve plots precision(t) against recall(t) = TPR(t). Unlike FPR, precision depends on
how rare the positives are, which is why it is the curve to read when positives are few (a detector with a
tiny FPR can still raise mostly false alarms). sklearn's convention, followed here: the points come with t
increasing (recall decreasing), and a last point (recall 0, precision 1) with no threshold is appended.

As in sklearn >= 1.3 the ROC thresholds start with +inf (nobody called positive: the point (0, 0)), and with
drop_intermediate=True the points that lie on a straight segment between their neighbours are dropped
(the area is unchanged). One deliberate difference: with only one class in y_true, sklearn warns and
returns nan (ROC) or sets recall to 1 (precision-recall without positives); here it is a ValueError, because
a nan AUC or a made-up recall is never what a reader wants.
"""

from __future__ import annotations

import torch

F64 = torch.float64


def _check_binary(y_true, y_score, what: str, pos_label=None, need_negatives: bool = True):
    """(positive: (N,) bool, y_score: (N,)) after checking shapes, labels and scores.

    pos_label=None: y_true must be 0/1, -1/1 or bool and 1 (True) is positive, as sklearn; otherwise the
    positives are y_true == pos_label, whatever the other labels are. The ROC needs both classes
    (need_negatives=True), the precision-recall curve only positives.
    """
    y_true, y_score = torch.as_tensor(y_true), torch.as_tensor(y_score)
    if y_true.ndim != 1 or y_score.shape != y_true.shape:
        raise ValueError(
            f"{what}: y_true and y_score must both have shape (N,), got {tuple(y_true.shape)} and "
            f"{tuple(y_score.shape)}. Flatten them, e.g. y_score.squeeze(-1) for a model that outputs (N, 1)."
        )
    if y_score.is_complex():
        raise TypeError(f"{what}: y_score must be real, got {y_score.dtype}.")
    if y_score.dtype == torch.bool:
        y_score = y_score.to(torch.uint8)
    if y_score.is_floating_point() and not torch.isfinite(y_score).all():
        bad = torch.nonzero(~torch.isfinite(y_score)).flatten()[:5].tolist()
        raise ValueError(f"{what}: y_score contains NaN or inf (at indices {bad}...); drop or fill those examples.")
    if pos_label is not None:
        positive = y_true == pos_label
    elif y_true.dtype == torch.bool:
        positive = y_true
    else:
        labels = set(torch.unique(y_true).tolist())
        if not (labels <= {0, 1} or labels <= {-1, 1}):
            raise ValueError(
                f"{what}: y_true must hold binary labels, 0/1 (or -1/1, or bool), got the values {sorted(labels)}. "
                "Map your labels first, e.g. y_true = (labels == positive_class)"
                + (", or pass pos_label=that class." if not need_negatives else ".")
            )
        positive = y_true == 1
    n_pos = int(positive.sum())
    if n_pos == 0 or (need_negatives and n_pos == positive.numel()):
        needs = "TPR needs positives and FPR negatives" if need_negatives else "recall needs positives"
        raise ValueError(
            f"{what} is undefined with only one class in y_true: {n_pos} positive(s) and "
            f"{positive.numel() - n_pos} negative(s). {needs}; evaluate on a set that holds both (e.g. normal "
            "examples and anomalies)."
        )
    return positive, y_score


def _binary_clf_curve(positive: torch.Tensor, y_score: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """False and true positive counts at each distinct score, highest first (sklearn's _binary_clf_curve,
    now confusion_matrix_at_thresholds).

    positive: (N,) bool, y_score: (N,) -> fps, tps: (T,) float64, thresholds: (T,) y_score's dtype, where T is
    the number of distinct scores: fps[k], tps[k] count the negatives, positives with score >= thresholds[k].
    """
    order = torch.argsort(y_score, descending=True, stable=True)
    score, hit = y_score[order], positive[order].to(F64)
    last_of_run = torch.nonzero(score.diff()).flatten()  # index of the last example of each run of tied scores
    last = torch.cat([last_of_run, last_of_run.new_tensor([score.numel() - 1])])
    tps = hit.cumsum(0)[last]
    fps = 1 + last.to(F64) - tps  # examples with score >= t, minus the positives among them
    return fps, tps, score[last]


def roc_curve(
    y_true: torch.Tensor, y_score: torch.Tensor, drop_intermediate: bool = True
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ROC curve: FPR(t) and TPR(t) at every threshold t where a point changes, t decreasing.

    y_true: (N,) 0/1 or bool (1 = positive), y_score: (N,) any real dtype, higher = more positive
    -> fpr, tpr, thresholds: (T + 1,) float64, with thresholds[0] = inf and (fpr[0], tpr[0]) = (0, 0),
    then FPR(t) = #{negatives with s >= t} / n-, TPR(t) = #{positives with s >= t} / n+ for each distinct
    score t, ending at (1, 1). drop_intermediate=True keeps only the corners (a point is dropped when the
    second difference of both counts is zero there). Equals sklearn.metrics.roc_curve(y_true, y_score).
    """
    positive, y_score = _check_binary(y_true, y_score, "The ROC curve")
    return _roc(positive, y_score, drop_intermediate)


def _roc(positive: torch.Tensor, y_score: torch.Tensor, drop_intermediate: bool) -> tuple[torch.Tensor, ...]:
    fps, tps, thresholds = _binary_clf_curve(positive, y_score)
    if drop_intermediate and fps.numel() > 2:
        corner = (fps.diff(n=2) != 0) | (tps.diff(n=2) != 0)
        ends = corner.new_ones(1)
        keep = torch.cat([ends, corner, ends])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    zero = fps.new_zeros(1)
    fps, tps = torch.cat([zero, fps]), torch.cat([zero, tps])
    thresholds = torch.cat([fps.new_full((1,), torch.inf), thresholds.to(F64)])
    return fps / fps[-1], tps / tps[-1], thresholds


def roc_auc_score(y_true: torch.Tensor, y_score: torch.Tensor) -> float:
    """Area under the ROC curve by the trapezoid rule = P(S+ > S-) + 1/2 P(S+ = S-) = U / (n+ n-).

    y_true: (N,) 0/1 or bool, y_score: (N,) -> a Python float in [0, 1], as sklearn.metrics.roc_auc_score.
    """
    positive, y_score = _check_binary(y_true, y_score, "ROC AUC")
    fpr, tpr, _ = _roc(positive, y_score, drop_intermediate=True)
    return float(torch.trapezoid(tpr, fpr))


def precision_recall_curve(
    y_true: torch.Tensor, y_score: torch.Tensor, *, pos_label: int | bool | None = None, drop_intermediate: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Precision and recall at every distinct score t used as the threshold "positive iff s >= t".

    y_true: (N,) labels (0/1, -1/1 or bool; other labels with pos_label=the positive one), y_score: (N,) real
    -> precision, recall: (T + 1,) float64, thresholds: (T,) float64, the T distinct scores INCREASING, with
    precision[k] = tp(t_k) / (tp(t_k) + fp(t_k)), recall[k] = tp(t_k) / n+ and the extra last point
    (precision, recall) = (1, 0) that has no threshold (sklearn's convention). Tied scores give one point.
    drop_intermediate=True keeps only the first and last threshold of each run with equal tp (the vertical
    segments' ends; sklearn's default is False). Equals sklearn.metrics.precision_recall_curve(y_true, y_score)
    (sklearn >= 1.5 names the second argument y_score; before, probas_pred). Without positives in y_true it
    raises (sklearn warns and sets recall to 1).
    """
    positive, y_score = _check_binary(y_true, y_score, "The precision-recall curve", pos_label, need_negatives=False)
    fps, tps, thresholds = _binary_clf_curve(positive, y_score)
    if drop_intermediate and fps.numel() > 2:
        ends = torch.ones(1, dtype=torch.bool)
        keep = torch.cat([ends, (tps[:-1].diff() != 0) | (tps[1:].diff() != 0), ends])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    precision = tps / (tps + fps)  # tps + fps >= 1: every threshold is some example's score
    recall = tps / tps[-1]
    one, zero = precision.new_ones(1), precision.new_zeros(1)
    return torch.cat([precision.flip(0), one]), torch.cat([recall.flip(0), zero]), thresholds.flip(0).to(F64)
