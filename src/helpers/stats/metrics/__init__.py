"""Metrics of classifiers and detectors, sklearn.metrics' twins in plain torch, one idea per module.

    classification    confusion_matrix, accuracy_score (hard predictions; true labels in rows)
    precision_recall  precision_recall_fscore_support, precision_score, recall_score, f1_score (binary, micro,
                      macro, weighted; zero_division), UndefinedMetricWarning (chapter 11)
    ranking           roc_curve, roc_auc_score (chapter 9's anomaly detection), precision_recall_curve (chapter 11):
                      scores, not hard predictions, swept over every threshold

Every name is importable from ``helpers.stats.metrics`` (and from ``helpers.stats``).
"""

from helpers.stats.metrics.classification import accuracy_score, confusion_matrix
from helpers.stats.metrics.precision_recall import (
    UndefinedMetricWarning,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)
from helpers.stats.metrics.ranking import _binary_clf_curve, precision_recall_curve, roc_auc_score, roc_curve

__all__ = [
    "UndefinedMetricWarning",
    "_binary_clf_curve",
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "precision_recall_curve",
    "precision_recall_fscore_support",
    "precision_score",
    "recall_score",
    "roc_auc_score",
    "roc_curve",
]
