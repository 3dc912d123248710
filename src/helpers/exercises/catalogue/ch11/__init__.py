"""Chapter 11 exercises: hypothesis tests and model evaluation (the one-sample t statistic, the decision in the lecture
notes' bulb example, the power of a one-sided z-test, the paired t-test, the confusion matrix, precision, recall and
F1 with zero division, which error a screening test must avoid, and the folds of stratified k-fold cross-validation).

One module per idea; ``EXERCISES`` lists them in the order the chapter asks them.
"""

from __future__ import annotations

from helpers.exercises.catalogue.ch11 import choices, folds, metrics, power, ttests

EXERCISES = [
    ttests.T_STATISTIC,
    choices.BULB_DECISION,
    power.POWER_EXERCISE,
    ttests.PAIRED_TTEST,
    metrics.CONFUSION_MATRIX,
    metrics.PRECISION_RECALL_F1,
    choices.WHICH_ERROR,
    folds.STRATIFIED_KFOLD,
]
